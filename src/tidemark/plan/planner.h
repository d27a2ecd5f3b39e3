// The planner: (configuration, observed state, now) -> the ordered steps of a run.
// Pure: no I/O, no clock, no randomness; the same inputs give the same steps, which is
// what the planner tests assert.
//
// Order of work: lifecycles with a lower `order` come first; lifecycles with equal
// orders are independent and share seq numbers. Within an order, partitions ahead are
// created first (databases), then the safety order of every backend holds (DESIGN.md,
// "Safety rules"):
//   check the archive is writable -> hide -> copy -> verify -> purge.
//
// Thread-safety: pure functions.

#ifndef TIDEMARK_PLAN_PLANNER_H_
#define TIDEMARK_PLAN_PLANNER_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tidemark/config/config.h"
#include "tidemark/core/partition.h"
#include "tidemark/core/step.h"
#include "tidemark/util/error.h"
#include "tidemark/util/timezone.h"

namespace tidemark::plan {

// The phases within one lifecycle order; seq = order index * kPhases + phase.
enum Phase {
  kCreatePhase = 0,
  kCheckPhase,
  kHidePhase,
  kCopyPhase,
  kVerifyPhase,
  kPurgePhase,
  kPhases
};

// The identifier limit of the database systems (PostgreSQL's is 63 bytes).
inline constexpr size_t kMaxIdentifierBytes = 63;

struct Plan {
  std::vector<core::Step> steps;
  std::vector<std::string> notes;  // what the user should know: unparsed, kept, held
  // What could not be planned (no empty partition left, no fill rate): the dataset
  // fails with these, after the steps that could be planned have run.
  std::vector<std::string> failures;
  // By "lifecycle/storage" of databases: when the last partition ahead begins to fill
  // (for strategy sequential, as predicted). Past it, rows have nowhere to go but a
  // catch-all partition.
  std::map<std::string, util::Instant> ahead_until;
};

struct PlanRequest {
  const config::Config* config = nullptr;
  const config::Dataset* dataset = nullptr;
  const core::ObservedDataset* observed = nullptr;
  util::Instant now{};
  const util::TimeZone* zone = nullptr;
};

Plan PlanDataset(const PlanRequest& request);

// The name of a partition tidemark creates, from the dataset's `partition_name`
// template: `table` is the table's own name (no schema), the range is [start, end)
// in `zone` for time strategies; `ids` for strategy id. Shortened to
// kMaxIdentifierBytes by shortening the table part.
std::string PartitionName(const config::Dataset& dataset, const std::string& table,
                          const core::TimeRange* range, const core::IdRange* ids,
                          const util::TimeZone& zone);

// The instant before which a partition must end to be expired.
util::Instant ExpiryCutoff(const config::Dataset& dataset, util::Instant now,
                           const util::TimeZone& zone);

enum class RestoreSource { kAuto, kBin, kArchive };

struct RestoreRequest {
  const config::Config* config = nullptr;
  const config::Dataset* dataset = nullptr;
  const core::ObservedDataset* observed = nullptr;
  std::string partition;                        // its name, e.g. "dt=2024-01-05"
  std::string lifecycle;                        // empty: the only one that has the partition
  std::string to;                               // empty: back in its place; else a location URL
  RestoreSource source = RestoreSource::kAuto;  // auto: the bin when it is there
};

// The steps that put one partition back. Config errors (exit 2) explain refusals.
util::Result<Plan> PlanRestore(const RestoreRequest& request);

}  // namespace tidemark::plan

#endif  // TIDEMARK_PLAN_PLANNER_H_
