// Partitions by sequential id (strategy `sequential`, seed 001): from how fast the
// partitions that hold rows filled, predict when each empty partition will start to
// fill, and lay out the empty partitions so that each covers `interval` of time.
//
// Only empty partitions may change: reorganizing a partition that holds rows copies
// every row. So the plan keeps every partition up to the one being filled (the active
// one) as it is, renames and resizes the empty ones after it, and adds new ones until
// `premake` empty partitions lie ahead.
//
// The rate model. Each filled partition with a known start and a known successor's
// start gives one sample: its ids over the time it took to fill. The active partition
// gives one more: the ids it holds so far over the time since it began (weighted by how
// much of `interval` that is). Four models are fitted, each weighting recent samples
// more (1, 1/4, 1/9, … from the newest): the mean rate of all samples, of the newest
// three, of the newest two, and a straight line through the rates over time (steady
// growth). Each is tried on the history itself: fitted to the samples older than each
// of the newest three, how well does it predict that one? The mean of all samples is
// used unless another predicted clearly better (by a fifth): after a step change the
// mean of the newest ones wins, under steady growth the line, and noise averages out.
//
// Thread-safety: pure functions.

#ifndef TIDEMARK_PLAN_FILL_RATE_H_
#define TIDEMARK_PLAN_FILL_RATE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tidemark/core/span.h"
#include "tidemark/util/error.h"
#include "tidemark/util/time.h"
#include "tidemark/util/timezone.h"

namespace tidemark::plan {

// One partition of a table partitioned by id, in order, the MAXVALUE tail excluded:
// ids from the previous partition's `less_than` (or `first_id` for the first) up to
// `less_than`, exclusive.
struct IdPartition {
  std::string name;
  int64_t less_than = 0;
  std::optional<util::Instant> started;  // when it began to fill: from its name
                                         // (pYYYYMMDD) or from a dating column
};

struct FillInput {
  std::vector<IdPartition> partitions;
  int64_t first_id = 0;    // lower bound of the first partition (MINVALUE: its smallest id)
  int64_t largest_id = 0;  // the largest id in the table now; none yet: first_id - 1
  util::Instant now{};
  core::Span interval{7, core::SpanUnit::kDay};  // the time one partition should cover
  int premake = 2;                               // empty partitions kept ahead
};

// One partition as the plan wants it.
struct PlannedPartition {
  std::string name;
  int64_t less_than = 0;
  util::Instant starts{};  // predicted start of filling (for an empty partition)
  bool empty = false;
};

struct FillPlan {
  double ids_per_second = 0;  // the rate now
  double growth = 0;          // ids per second per second (0 but for the straight line)
  bool trend = false;         // whether the straight line was chosen
  int samples = 0;            // rate samples the models were fitted to
  // The partitions that hold rows, unchanged, then the empty ones as wanted (renamed,
  // resized, new), `premake` of them at least.
  std::vector<PlannedPartition> partitions;
  // When the last empty partition is predicted to start filling.
  util::Instant last_empty_starts{};
};

// The name of a partition that starts filling at `t`: "p20240105" (civil date in
// `zone`); "p20240105_10" when `interval` is in hours.
std::string SequentialName(util::Instant t, const core::Span& interval, const util::TimeZone& zone);

// Reads the start date from a name made by SequentialName, or seed 001's "p_20240105".
std::optional<util::Instant> StartFromName(const std::string& name, const util::TimeZone& zone);

// The plan; a kStep error (nothing is to change) when no partition ahead is empty or the
// history gives no rate: the message says which and what to do.
util::Result<FillPlan> PlanFill(const FillInput& input, const util::TimeZone& zone);

// The id the plan's model predicts at `t` (for tests and metrics).
int64_t PredictedId(const FillPlan& plan, int64_t largest_id, util::Instant now, util::Instant t);

}  // namespace tidemark::plan

#endif  // TIDEMARK_PLAN_FILL_RATE_H_
