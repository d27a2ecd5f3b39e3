// The partition map of a dataset for `tidemark status`: what is live, ahead, restored,
// in the recycle bin, archived, and where the gaps are, over time.
//
// Thread-safety: pure functions.

#ifndef TIDEMARK_CLI_STATUS_VIEW_H_
#define TIDEMARK_CLI_STATUS_VIEW_H_

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tidemark/config/config.h"
#include "tidemark/core/partition.h"
#include "tidemark/util/timezone.h"

namespace tidemark::cli {

struct TimelineItem {
  core::TimeRange range;
  core::PartitionState state = core::PartitionState::kLive;
};

struct DatasetStatus {
  std::string dataset;
  std::map<core::PartitionState, int> counts;
  int64_t live_bytes = 0;
  int gaps = 0;
  std::vector<TimelineItem> items;  // everything with a known range
  std::vector<std::string> notes;
};

DatasetStatus BuildStatus(const config::Dataset& dataset, const core::ObservedDataset& observed,
                          util::Instant now, const util::TimeZone& zone);

// One line: name, first date, the timeline of `width` cells, last date, counts.
std::string RenderStatusLine(const DatasetStatus& status, size_t name_width, int width, bool colour,
                             const util::TimeZone& zone);

// The legend under the lines.
std::string StatusLegend(bool colour);

nlohmann::json StatusToJson(const DatasetStatus& status, const core::ObservedDataset& observed);

}  // namespace tidemark::cli

#endif  // TIDEMARK_CLI_STATUS_VIEW_H_
