#include "tidemark/cli/status_view.h"

#include <algorithm>
#include <set>

#include "tidemark/util/strings.h"

namespace tidemark::cli {

namespace {

using core::PartitionState;

struct Look {
  PartitionState state;
  char symbol;
  const char* colour;  // ANSI
  const char* label;
};

// Highest priority first: a cell shows the first state present in it.
constexpr Look kLooks[] = {
    {PartitionState::kLive, '#', "\033[32m", "live"},
    {PartitionState::kRestored, 'R', "\033[36m", "restored"},
    {PartitionState::kAhead, '+', "\033[34m", "ahead"},
    {PartitionState::kRecycled, 'r', "\033[33m", "recycled"},
    {PartitionState::kDetached, 'd', "\033[35m", "detached"},
    {PartitionState::kArchived, 'a', "\033[90m", "archived"},
};

bool Held(const core::ObservedDataset& observed, const core::ObservedStorage& storage,
          const std::string& partition, util::Instant now) {
  for (const core::Hold& hold : observed.holds) {
    if (hold.lifecycle == storage.lifecycle && hold.storage == storage.storage &&
        hold.partition == partition && hold.until > now) {
      return true;
    }
  }
  return false;
}

core::Span InferWidth(const std::vector<TimelineItem>& live) {
  std::map<int64_t, int> widths;
  for (const TimelineItem& item : live)
    widths[(item.range.end - item.range.start).count() / 3600]++;
  int64_t hours = std::max_element(widths.begin(), widths.end(), [](auto& a, auto& b) {
                    return a.second < b.second;
                  })->first;
  if (hours <= 1) return {1, core::SpanUnit::kHour};
  if (hours <= 25) return {1, core::SpanUnit::kDay};
  if (hours <= 7 * 24 + 1) return {1, core::SpanUnit::kWeek};
  if (hours <= 31 * 24 + 1) return {1, core::SpanUnit::kMonth};
  return {1, core::SpanUnit::kYear};
}

// Slots of `width` between the first and the last partition that nothing covers: no
// live partition, nothing in a bin, no archive.
int CountGaps(const std::vector<TimelineItem>& items, core::Span width,
              const util::TimeZone& zone) {
  if (items.empty()) return 0;
  std::set<int64_t> starts;
  util::Instant first = items.front().range.start, last = items.front().range.end;
  for (const TimelineItem& item : items) {
    starts.insert(item.range.start.time_since_epoch().count());
    first = std::min(first, item.range.start);
    last = std::max(last, item.range.end);
  }
  int gaps = 0;
  for (util::Instant t = first; t < last; t = core::AddSpan(t, width, 1, zone)) {
    if (starts.count(t.time_since_epoch().count()) == 0) ++gaps;
  }
  return gaps;
}

void AddItem(DatasetStatus& status, const std::optional<core::TimeRange>& range,
             PartitionState state) {
  status.counts[state]++;
  if (range) status.items.push_back({*range, state});
}

}  // namespace

DatasetStatus BuildStatus(const config::Dataset& dataset, const core::ObservedDataset& observed,
                          util::Instant now, const util::TimeZone& zone) {
  DatasetStatus status;
  status.dataset = dataset.name;
  std::set<std::string> present;  // lifecycle/storage/partition live or in a bin
  std::vector<TimelineItem> live;
  for (const core::ObservedStorage& storage : observed.storages) {
    const std::string prefix = storage.lifecycle + "/" + storage.storage + "/";
    for (const std::string& note : storage.notes) status.notes.push_back(note);
    for (const core::Partition& p : storage.partitions) {
      present.insert(prefix + p.name);
      PartitionState state = p.state;
      if (state == PartitionState::kLive && p.range && p.range->start > now)
        state = PartitionState::kAhead;
      if (state == PartitionState::kLive && Held(observed, storage, p.name, now))
        state = PartitionState::kRestored;
      AddItem(status, p.range, state);
      if (state != PartitionState::kUnparsed) status.live_bytes += p.bytes;
      if (p.range && state != PartitionState::kUnparsed) live.push_back({*p.range, state});
    }
    for (const core::BinEntry& entry : storage.bin) {
      present.insert(prefix + entry.partition);
      AddItem(status, entry.range,
              entry.detached ? PartitionState::kDetached : PartitionState::kRecycled);
    }
  }
  for (const core::ArchivedPartition& a : observed.archived) {
    if (present.count(a.lifecycle + "/" + a.storage + "/" + a.partition) > 0) continue;
    AddItem(status, a.range, PartitionState::kArchived);
  }
  if (!live.empty()) {
    // An integer interval is no step in time; stepping by it would never advance.
    const bool interval_is_time = dataset.interval_given && dataset.interval.IsTime();
    status.gaps =
        CountGaps(status.items, interval_is_time ? dataset.interval : InferWidth(live), zone);
  }
  return status;
}

std::string RenderStatusLine(const DatasetStatus& status, size_t name_width, int width, bool colour,
                             const util::TimeZone& zone) {
  std::string line = status.dataset +
                     std::string(name_width - std::min(name_width, status.dataset.size()) + 2, ' ');
  if (status.items.empty()) return line + "(no partitions)";
  util::Instant first = status.items.front().range.start, last = status.items.front().range.end;
  for (const TimelineItem& item : status.items) {
    first = std::min(first, item.range.start);
    last = std::max(last, item.range.end);
  }
  const double cell = static_cast<double>((last - first).count()) / width;
  std::string bar;
  for (int i = 0; i < width; ++i) {
    util::Instant from = first + std::chrono::seconds(static_cast<int64_t>(cell * i));
    util::Instant to = first + std::chrono::seconds(static_cast<int64_t>(cell * (i + 1)));
    const Look* shown = nullptr;
    for (const Look& look : kLooks) {
      for (const TimelineItem& item : status.items) {
        if (item.state == look.state && item.range.start < to && item.range.end > from) {
          shown = &look;
          break;
        }
      }
      if (shown != nullptr) break;
    }
    if (shown == nullptr) {
      bar += '.';
    } else if (colour) {
      bar += std::string(shown->colour) + shown->symbol + "\033[0m";
    } else {
      bar += shown->symbol;
    }
  }
  auto date = [&](util::Instant t) {
    return util::FormatDate(
        std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(zone.ToLocal(t))));
  };
  line += date(first) + " |" + bar + "| " + date(last - std::chrono::seconds(1));
  for (const Look& look : kLooks) {
    auto it = status.counts.find(look.state);
    if (it != status.counts.end())
      line += "  " + std::string(look.label) + " " + std::to_string(it->second);
  }
  if (status.live_bytes > 0) line += " (" + util::HumanBytes(status.live_bytes) + " live)";
  line += "  gaps " + std::to_string(status.gaps);
  auto unparsed = status.counts.find(PartitionState::kUnparsed);
  if (unparsed != status.counts.end()) line += "  unparsed " + std::to_string(unparsed->second);
  return line;
}

std::string StatusLegend(bool colour) {
  std::string legend = "legend:";
  for (const Look& look : kLooks) {
    legend += " ";
    legend +=
        colour ? std::string(look.colour) + look.symbol + "\033[0m" : std::string(1, look.symbol);
    legend += std::string(" ") + look.label;
  }
  return legend + " . none (a gap when between live partitions)";
}

nlohmann::json StatusToJson(const DatasetStatus& status, const core::ObservedDataset& observed) {
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [state, count] : status.counts) counts[core::PartitionStateName(state)] = count;
  nlohmann::json storages = nlohmann::json::array();
  for (const core::ObservedStorage& s : observed.storages) {
    nlohmann::json partitions = nlohmann::json::array();
    for (const core::Partition& p : s.partitions) {
      nlohmann::json j = {{"name", p.name},
                          {"state", core::PartitionStateName(p.state)},
                          {"bytes", p.bytes},
                          {"files", p.files}};
      if (p.range) {
        j["start"] = util::FormatInstant(p.range->start);
        j["end"] = util::FormatInstant(p.range->end);
      }
      if (!p.problem.empty()) j["problem"] = p.problem;
      partitions.push_back(j);
    }
    nlohmann::json bin = nlohmann::json::array();
    for (const core::BinEntry& e : s.bin) {
      bin.push_back({{"partition", e.partition},
                     {"entry", e.entry},
                     {"detached", e.detached},
                     {"removed_at", util::FormatInstant(e.removed_at)},
                     {"bytes", e.bytes},
                     {"files", e.files}});
    }
    storages.push_back({{"lifecycle", s.lifecycle},
                        {"storage", s.storage},
                        {"location", s.location},
                        {"exists", s.exists},
                        {"partitions", partitions},
                        {"bin", bin},
                        {"notes", s.notes}});
  }
  nlohmann::json archived = nlohmann::json::array();
  for (const core::ArchivedPartition& a : observed.archived) {
    archived.push_back({{"lifecycle", a.lifecycle},
                        {"storage", a.storage},
                        {"partition", a.partition},
                        {"location", a.location},
                        {"bytes", a.bytes},
                        {"files", a.files},
                        {"archived_at", util::FormatInstant(a.archived_at)}});
  }
  return {{"dataset", status.dataset},       {"counts", counts},     {"gaps", status.gaps},
          {"live_bytes", status.live_bytes}, {"storages", storages}, {"archived", archived}};
}

}  // namespace tidemark::cli
