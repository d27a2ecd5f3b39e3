#include "tidemark/plan/planner.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <map>
#include <set>

#include "tidemark/config/storage_urls.h"
#include "tidemark/core/table_name.h"
#include "tidemark/plan/fill_rate.h"
#include "tidemark/util/strings.h"

namespace tidemark::plan {

namespace {

using config::OnExpire;
using core::Step;

// Everything needed to plan one storage.
struct StorageContext {
  const PlanRequest* request;
  const config::Lifecycle* lifecycle;
  const config::Storage* storage;
  const core::ObservedStorage* observed;
  int base_seq;  // seq of this lifecycle order's first phase
};

Step MakeStep(const StorageContext& c, Phase phase, const char* action,
              const std::string& partition, std::string about) {
  Step step;
  step.seq = c.base_seq + phase;
  step.lifecycle = c.lifecycle->name;
  step.storage = c.storage->name;
  step.system = config::StorageFamily(c.observed->location);
  step.action = action;
  step.partition = partition;
  step.id = c.lifecycle->name + "/" + c.storage->name + "/" +
            (partition.empty() ? "" : partition + "/") + action;
  step.about = std::move(about);
  step.params["dataset"] = c.request->dataset->name;
  step.params["location"] = c.observed->location;
  step.params["connection"] = c.storage->connection;
  if (!c.storage->table.empty()) step.params["table"] = c.storage->table;
  if (c.observed->layout == "delta") step.params["layout"] = "delta";
  return step;
}

bool IsDatabase(const StorageContext& c) {
  const std::string family = config::StorageFamily(c.observed->location);
  return family == "postgres" || family == "mariadb";
}

// MariaDB and MySQL: partitions are parts of one table, with per-table names, laid
// out contiguously up to a MAXVALUE tail.
bool IsMariaDb(const StorageContext& c) {
  return config::StorageFamily(c.observed->location) == "mariadb";
}

// The name part of the storage's table ("events" of "public.events").
std::string TableOf(const StorageContext& c) {
  auto name = core::ParseTableName(c.storage->table);
  return name ? name->name : c.storage->table;
}

// The schema (database) of the storage's table: from the observed location
// ("…#app.events", written qualified by the backend), else as configured.
std::string SchemaOf(const StorageContext& c) {
  const std::string& location = c.observed->location;
  const size_t hash = location.rfind('#');
  auto name = core::ParseTableName(hash == std::string::npos ? c.storage->table
                                                             : location.substr(hash + 1));
  return name ? name->schema : "";
}

const config::Archive* ArchiveOf(const config::Config& config, const config::Dataset& dataset) {
  return dataset.archive_to.empty() ? nullptr : config.FindArchive(dataset.archive_to);
}

std::string ArchiveFor(const StorageContext& c, const std::string& partition) {
  const config::Archive* archive = ArchiveOf(*c.request->config, *c.request->dataset);
  if (archive == nullptr) return "";
  return config::ArchiveUrl(*c.request->config, *archive, c.request->dataset->name,
                            c.lifecycle->name, c.storage->name, partition);
}

bool IsHeld(const StorageContext& c, const std::string& partition) {
  for (const core::Hold& hold : c.request->observed->holds) {
    if (hold.lifecycle == c.lifecycle->name && hold.storage == c.storage->name &&
        hold.partition == partition && hold.until > c.request->now) {
      return true;
    }
  }
  return false;
}

void SetRange(Step& step, const std::optional<core::TimeRange>& range) {
  if (!range) return;
  step.params["range_start"] = util::FormatInstant(range->start);
  step.params["range_end"] = util::FormatInstant(range->end);
}

// "7 days", or "36h00m" for what is not whole days.
std::string DescribeDuration(int64_t seconds) {
  if (seconds % 86400 != 0) return util::HumanSeconds(static_cast<double>(seconds));
  return std::to_string(seconds / 86400) + (seconds == 86400 ? " day" : " days");
}

std::string DescribeSize(int64_t bytes, int64_t files) {
  return util::HumanBytes(bytes) + " in " + std::to_string(files) +
         (files == 1 ? " file" : " files");
}

// Copy and verify steps for a partition's files at `source` (its bin entry). Bin
// entries (not this run's hides) carry their entry in the id, which stays unique.
void PlanArchive(const StorageContext& c, const Step& source, bool from_bin_entry, Plan& plan) {
  const std::string archive = ArchiveFor(c, source.partition);
  const std::string subject = c.lifecycle->name + "/" + c.storage->name + "/" +
                              (from_bin_entry ? source.params.at("bin") : source.partition) + "/";
  Step copy = MakeStep(c, kCopyPhase, core::action::kCopyToArchive, source.partition,
                       "copy the files to the archive with their mtimes, then write "
                       "manifest.json with the sha256 of every file");
  copy.params = source.params;
  copy.params["archive"] = archive;
  copy.id = subject + core::action::kCopyToArchive;
  Step verify = MakeStep(c, kVerifyPhase, core::action::kVerifyArchive, source.partition,
                         "re-read the archive and compare every file with the manifest and the "
                         "source before anything is deleted");
  verify.params = copy.params;
  verify.id = subject + core::action::kVerifyArchive;
  if (from_bin_entry) copy.about += " (it is in the recycle bin without a verified archive)";
  plan.steps.push_back(copy);
  plan.steps.push_back(verify);
}

// Steps for one expired partition: hide it (into the recycle bin, or the detached area),
// archive it when asked, and purge the bin copy at once when recycle_days is 0.
void PlanExpiry(const StorageContext& c, const core::Partition& partition, Plan& plan) {
  const config::Dataset& dataset = *c.request->dataset;
  const bool detach = dataset.on_expire == OnExpire::kDetach;
  std::string bin;
  if (!IsDatabase(c)) {
    bin = "_tidemark/" + std::string(detach ? "detached/" : "recycle/") +
          util::FormatCompactUtc(c.request->now, "%Y%m%dT%H%M%SZ") + "/" + partition.name;
  } else if (detach && !IsMariaDb(c)) {
    bin = partition.name;  // stays where it is, detached, marked as tidemark's
  } else if (detach) {
    // A MariaDB partition is no table of its own: it becomes one beside its table.
    bin = core::FitIdentifier(TableOf(c) + "__" + partition.name, "", kMaxIdentifierBytes);
  } else {
    // A table in the recycle schema, named with the time it may be purged. MariaDB's
    // recycle database serves every database of the server, and its partition names
    // are per table: the name carries both.
    const util::Instant until = core::AddSpan(
        c.request->now, {dataset.recycle_days, core::SpanUnit::kDay}, 1, *c.request->zone);
    const std::string base =
        IsMariaDb(c) ? SchemaOf(c) + "__" + TableOf(c) + "__" + partition.name : partition.name;
    bin = core::FitIdentifier(base, "__until_" + util::FormatCompactUtc(until, "%Y%m%d_%H%M%S"),
                              kMaxIdentifierBytes);
  }
  const std::string retention = FormatSpan(*dataset.retention);
  Step hide = MakeStep(c, kHidePhase, core::action::kHidePartition, partition.name,
                       "hide the partition from readers before touching its data (older than " +
                           retention + "; " + DescribeSize(partition.bytes, partition.files) + ")");
  hide.params["bin"] = bin;
  hide.params["bytes"] = std::to_string(partition.bytes);
  hide.params["files"] = std::to_string(partition.files);
  if (IsDatabase(c)) {
    hide.params["removed_at"] = util::FormatInstant(c.request->now);
    if (detach) hide.params["detached"] = "1";
  }
  SetRange(hide, partition.range);
  if (partition.ids) {
    hide.params["id_start"] = std::to_string(partition.ids->start);
    hide.params["id_end"] = std::to_string(partition.ids->end);
  }
  plan.steps.push_back(hide);
  if (detach) return;
  const bool archived = dataset.on_expire == OnExpire::kArchive;
  if (archived) PlanArchive(c, hide, false, plan);
  if (dataset.recycle_days == 0 && c.observed->keep_removed_seconds == 0) {
    Step purge = MakeStep(c, kPurgePhase, core::action::kPurgeRecycled, partition.name,
                          "delete the recycle bin copy (recycle_days: 0)");
    purge.params = hide.params;
    if (archived) purge.params["archive"] = ArchiveFor(c, partition.name);
    plan.steps.push_back(purge);
  }
}

bool HasVerifiedArchive(const StorageContext& c, const core::BinEntry& entry) {
  for (const core::ArchivedPartition& a : c.request->observed->archived) {
    if (a.lifecycle == c.lifecycle->name && a.storage == c.storage->name &&
        a.source_entry == entry.entry) {
      return true;
    }
  }
  return false;
}

// Bin entries: archive those that never got a verified archive (a run that stopped
// after hiding and was not resumed), and purge those whose recycle_days are over.
void PlanBinEntries(const StorageContext& c, Plan& plan) {
  const config::Dataset& dataset = *c.request->dataset;
  const core::Span keep{dataset.recycle_days, core::SpanUnit::kDay};
  for (const core::BinEntry& entry : c.observed->bin) {
    if (entry.detached) continue;
    Step base = MakeStep(c, kPurgePhase, core::action::kPurgeRecycled, entry.partition, "");
    base.params["bin"] = entry.entry;
    base.params["bytes"] = std::to_string(entry.bytes);
    base.params["files"] = std::to_string(entry.files);
    SetRange(base, entry.range);
    const bool archived = dataset.on_expire == OnExpire::kArchive;
    if (archived && !HasVerifiedArchive(c, entry)) PlanArchive(c, base, true, plan);
    util::Instant due = dataset.recycle_days == 0
                            ? entry.removed_at
                            : core::AddSpan(entry.removed_at, keep, 1, *c.request->zone);
    // A Delta table's readers may still time-travel to the removed files.
    due = std::max(due, entry.removed_at + std::chrono::seconds(c.observed->keep_removed_seconds));
    if (due > c.request->now) continue;
    Step purge = base;
    purge.about = "delete the recycle bin copy removed " + util::FormatInstant(entry.removed_at) +
                  " (recycle_days: " + std::to_string(dataset.recycle_days) +
                  (c.observed->keep_removed_seconds > 0
                       ? "; the table keeps removed files " +
                             DescribeDuration(c.observed->keep_removed_seconds)
                       : std::string()) +
                  "; " + DescribeSize(entry.bytes, entry.files) + ")";
    purge.id = c.lifecycle->name + "/" + c.storage->name + "/" + entry.entry + "/" +
               core::action::kPurgeRecycled;
    if (archived) purge.params["archive"] = ArchiveFor(c, entry.partition);
    plan.steps.push_back(purge);
  }
}

std::vector<const core::Partition*> ExpiredPartitions(const StorageContext& c, Plan& plan) {
  const config::Dataset& dataset = *c.request->dataset;
  std::vector<const core::Partition*> expired;
  if (!dataset.retention) return expired;
  const util::Instant cutoff = ExpiryCutoff(dataset, c.request->now, *c.request->zone);
  for (const core::Partition& partition : c.observed->partitions) {
    if (!partition.range || partition.range->end > cutoff) continue;
    if (IsHeld(c, partition.name)) {
      plan.notes.push_back("partition " + partition.name +
                           " is past retention but held after a restore");
      continue;
    }
    expired.push_back(&partition);
  }
  std::sort(expired.begin(), expired.end(), [](const core::Partition* a, const core::Partition* b) {
    return std::tie(a->range->start, a->name) < std::tie(b->range->start, b->name);
  });
  return expired;
}

bool Overlaps(const core::TimeRange& a, const core::TimeRange& b) {
  return a.start < b.end && b.start < a.end;
}

bool Overlaps(const core::IdRange& a, const core::IdRange& b) {
  return a.start < b.end && b.start < a.end;
}

// Whether a new range may be created: false when a partition has exactly this range
// (nothing to do) or overlaps it (noted: tidemark never creates overlapping bounds).
template <typename Range>
bool Missing(const StorageContext& c, const Range& wanted, const std::string& label,
             std::optional<Range> core::Partition::*field, Plan& plan) {
  for (const core::Partition& p : c.observed->partitions) {
    const std::optional<Range>& have = p.*field;
    if (!have) continue;
    if (*have == wanted) return false;
    if (Overlaps(*have, wanted)) {
      plan.notes.push_back("partition " + p.name + " of " + c.lifecycle->name + "/" +
                           c.storage->name + " overlaps the range of " + label +
                           " with other bounds; that partition is not created");
      return false;
    }
  }
  return true;
}

Step CreateStep(const StorageContext& c, const std::string& name, const std::string& about) {
  Step step = MakeStep(c, kCreatePhase, core::action::kCreatePartition, name, about);
  step.params["timezone"] = c.request->zone->name();
  return step;
}

// Whether the storage's from/until dates exclude a range starting at `start`.
bool OutsideStorageDates(const StorageContext& c, util::Instant start, util::Instant end) {
  const util::TimeZone& zone = *c.request->zone;
  if (c.storage->until && start >= zone.FromLocal(std::chrono::local_days{*c.storage->until})) {
    return true;
  }
  return c.storage->from && end <= zone.FromLocal(std::chrono::local_days{*c.storage->from});
}

// MariaDB adds partitions only at the end; past ranges missing between the last
// partition and now are added first, at most this many.
constexpr int kMaxGapRanges = 1000;

// MariaDB: every value below the last bound has a partition already (the first one
// takes everything below it), and a new partition can only start where the last ends.
// The last bound (time or id), or nullopt for other systems.
struct Covered {
  std::optional<util::Instant> until;
  std::optional<int64_t> ids_until;
};
Covered CoveredOf(const StorageContext& c) {
  Covered covered;
  if (!IsMariaDb(c)) return covered;
  for (const core::Partition& p : c.observed->partitions) {
    if (p.state == core::PartitionState::kDefault) continue;
    if (p.range && (!covered.until || p.range->end > *covered.until)) covered.until = p.range->end;
    if (p.ids && (!covered.ids_until || p.ids->end > *covered.ids_until))
      covered.ids_until = p.ids->end;
  }
  return covered;
}

std::string TooFarBehind(const StorageContext& c, const std::string& last) {
  return c.lifecycle->name + "/" + c.storage->name + ": its last partition ends at " + last +
         ", more than " + std::to_string(kMaxGapRanges) +
         " intervals behind; add the partitions up to now by hand (docs/mariadb.md) or choose "
         "a longer interval";
}

// Partitions ahead (databases): the current range and `premake` after it, each one
// that no partition covers yet; on MariaDB also the missing ranges before them.
void PlanCreates(const StorageContext& c, Plan& plan) {
  const config::Dataset& dataset = *c.request->dataset;
  const util::TimeZone& zone = *c.request->zone;
  if (dataset.strategy == config::Strategy::kSequential) return;  // backend-specific
  const std::string table = TableOf(c);
  const std::string ahead = "(premake " + std::to_string(dataset.premake) + ")";
  const Covered covered = CoveredOf(c);
  if (dataset.strategy == config::Strategy::kTime) {
    const util::Instant now = core::FloorToSpan(c.request->now, dataset.interval, zone);
    int gap = 0;  // ranges from `first` to `now`
    util::Instant first = now;
    if (covered.until && *covered.until < now) {
      first = core::FloorToSpan(*covered.until, dataset.interval, zone);
      while (core::AddSpan(first, dataset.interval, gap, zone) < now) {
        if (++gap > kMaxGapRanges) {
          plan.failures.push_back(TooFarBehind(c, util::FormatInstant(*covered.until)));
          return;
        }
      }
    }
    for (int k = 0; k <= gap + dataset.premake; ++k) {
      core::TimeRange range{core::AddSpan(first, dataset.interval, k, zone),
                            core::AddSpan(first, dataset.interval, k + 1, zone)};
      if (covered.until && range.end <= *covered.until) continue;
      if (OutsideStorageDates(c, range.start, range.end)) continue;
      const std::string name = PartitionName(dataset, table, &range, nullptr, zone);
      const std::string label =
          util::FormatInstant(range.start) + " to " + util::FormatInstant(range.end);
      if (!Missing(c, range, label, &core::Partition::range, plan)) continue;
      Step step = CreateStep(c, name,
                             (k == gap ? "create the partition for now, "
                              : k < gap ? "create the missing partition "
                                        : "create a partition ") +
                                 label + (k < gap ? " (the last one ended before it)" : " ahead of data " + ahead));
      SetRange(step, range);
      plan.steps.push_back(step);
    }
    return;
  }
  const int64_t width = dataset.interval.count;
  const int64_t top = c.observed->max_id.value_or(0);
  int64_t now = top / width * width;
  if (top < 0 && top % width != 0) now -= width;
  int64_t first = now;
  if (covered.ids_until && *covered.ids_until < now) {
    first = *covered.ids_until / width * width;
    if ((now - first) / width > kMaxGapRanges) {
      plan.failures.push_back(TooFarBehind(c, "id " + std::to_string(*covered.ids_until)));
      return;
    }
  }
  const int64_t gap = (now - first) / width;
  for (int64_t k = 0; k <= gap + dataset.premake; ++k) {
    core::IdRange ids{first + k * width, first + (k + 1) * width};
    if (covered.ids_until && ids.end <= *covered.ids_until) continue;
    const std::string name = PartitionName(dataset, table, nullptr, &ids, zone);
    const std::string label = "ids " + std::to_string(ids.start) + " to " + std::to_string(ids.end);
    if (!Missing(c, ids, label, &core::Partition::ids, plan)) continue;
    Step step =
        CreateStep(c, name, "create the partition for " + label + " ahead of data " + ahead);
    step.params["id_start"] = std::to_string(ids.start);
    step.params["id_end"] = std::to_string(ids.end);
    plan.steps.push_back(step);
  }
}

// Sequential ids (seed 001): the empty partitions after the one being filled, laid
// out as the predicted fill rate wants them (fill_rate.h), in one step, when what is
// there differs by more than a tenth of a partition or is too few.
void PlanSequential(const StorageContext& c, Plan& plan) {
  const config::Dataset& dataset = *c.request->dataset;
  const util::TimeZone& zone = *c.request->zone;
  const std::string where = c.lifecycle->name + "/" + c.storage->name;
  std::vector<const core::Partition*> ranged;
  const core::Partition* tail = nullptr;
  for (const core::Partition& p : c.observed->partitions) {
    if (p.state == core::PartitionState::kDefault) tail = &p;
    if (p.ids && p.state != core::PartitionState::kDefault) ranged.push_back(&p);
  }
  if (tail == nullptr) {
    plan.failures.push_back(where + " has no MAXVALUE partition to lay out partitions ahead in");
    return;
  }
  std::sort(ranged.begin(), ranged.end(), [](const core::Partition* a, const core::Partition* b) {
    return a->ids->start < b->ids->start;
  });
  FillInput in;
  in.now = c.request->now;
  in.interval = dataset.interval;
  in.premake = dataset.premake;
  // A first partition without a lower bound (MINVALUE) starts at 1, as auto-increment ids do.
  in.first_id =
      ranged.empty() || ranged.front()->ids->start == INT64_MIN ? 1 : ranged.front()->ids->start;
  in.largest_id = c.observed->max_id.value_or(in.first_id - 1);
  for (const core::Partition* p : ranged) {
    IdPartition part;
    part.name = p->name;
    part.less_than = p->ids->end;
    part.started =
        p->range ? std::optional<util::Instant>(p->range->start) : StartFromName(p->name, zone);
    in.partitions.push_back(part);
  }
  auto fill = PlanFill(in, zone);
  if (!fill) {
    plan.failures.push_back(where + ": " + fill.error().message());
    return;
  }
  plan.ahead_until[where] = fill->last_empty_starts;
  // The empty partitions there are, and those wanted.
  std::vector<const core::Partition*> empty;
  for (const core::Partition* p : ranged) {
    if (p->ids->start > in.largest_id) empty.push_back(p);
  }
  std::vector<const PlannedPartition*> wanted;
  for (const PlannedPartition& p : fill->partitions) {
    if (p.empty) wanted.push_back(&p);
  }
  bool close = empty.size() == wanted.size();
  for (size_t i = 0; close && i < empty.size(); ++i) {
    const int64_t lower = i == 0 ? empty[0]->ids->start : wanted[i - 1]->less_than;
    const double size = static_cast<double>(wanted[i]->less_than - lower);
    close = empty[i]->name == wanted[i]->name &&
            std::abs(static_cast<double>(empty[i]->ids->end - wanted[i]->less_than)) <= size / 10;
  }
  if (close) return;
  Step step = MakeStep(c, kCreatePhase, core::action::kReorganizeAhead, "", "");
  std::string from, into, names;
  for (const core::Partition* p : empty) from += p->name + "\n";
  from += tail->name;
  for (const PlannedPartition* p : wanted) {
    into += p->name + " " + std::to_string(p->less_than) + "\n";
    names += (names.empty() ? "" : ", ") + p->name;
  }
  into += tail->name + " MAXVALUE";
  step.params["reorganize"] = from;
  step.params["into"] = into;
  step.params["largest_id"] = std::to_string(in.largest_id);
  step.params["timezone"] = zone.name();
  char rate[64];
  std::snprintf(rate, sizeof rate, "%.3g", fill->ids_per_second * 86400);
  step.about = "lay out " + std::to_string(wanted.size()) + " empty partition(s) ahead (" + names +
               ", premake " + std::to_string(dataset.premake) + ") for " + rate + " ids a day" +
               (fill->trend ? ", growing" : "") + "; the next starts filling about " +
               util::FormatInstant(wanted.front()->starts) + "; only empty partitions change";
  plan.steps.push_back(step);
}

void PlanStorage(const StorageContext& c, Plan& plan) {
  const config::Dataset& dataset = *c.request->dataset;
  for (const std::string& note : c.observed->notes) plan.notes.push_back(note);
  if (IsDatabase(c) && dataset.strategy == config::Strategy::kSequential) {
    PlanSequential(c, plan);
  } else if (IsDatabase(c)) {
    PlanCreates(c, plan);
    // The last partition that exists or is about to be created.
    std::optional<util::Instant> last;
    for (const core::Partition& p : c.observed->partitions) {
      if (p.range && (!last || p.range->start > *last)) last = p.range->start;
    }
    for (const core::Step& step : plan.steps) {
      if (step.action != core::action::kCreatePartition || step.storage != c.storage->name)
        continue;
      if (auto start = util::ParseInstant(step.Param("range_start"));
          start && (!last || *start > *last))
        last = *start;
    }
    if (last) plan.ahead_until[c.lifecycle->name + "/" + c.storage->name] = *last;
  }
  std::vector<const core::Partition*> expired = ExpiredPartitions(c, plan);
  if (!expired.empty() && dataset.on_expire == OnExpire::kKeep) {
    plan.notes.push_back(std::to_string(expired.size()) + " partition(s) of " + c.lifecycle->name +
                         "/" + c.storage->name + " are past retention and kept (on_expire: keep)");
    expired.clear();
  }
  Plan storage_plan;
  // A detach someone left half-done (PostgreSQL's DETACH … CONCURRENTLY) is finished;
  // an expired one is finished by its hide step.
  for (const core::Partition& partition : c.observed->partitions) {
    if (partition.state != core::PartitionState::kDetached || !IsDatabase(c)) continue;
    if (std::find(expired.begin(), expired.end(), &partition) != expired.end()) continue;
    storage_plan.steps.push_back(MakeStep(c, kHidePhase, core::action::kFinalizeDetach,
                                          partition.name,
                                          "finish the detach that was left half-done"));
  }
  for (const core::Partition* partition : expired) PlanExpiry(c, *partition, storage_plan);
  PlanBinEntries(c, storage_plan);
  const bool copies =
      std::any_of(storage_plan.steps.begin(), storage_plan.steps.end(),
                  [](const Step& s) { return s.action == core::action::kCopyToArchive; });
  if (copies) {
    Step check = MakeStep(c, kCheckPhase, core::action::kCheckArchive, "",
                          "make sure the archive can be written before anything is moved");
    const config::Archive* archive = ArchiveOf(*c.request->config, dataset);
    check.params["archive"] = config::ArchivePrefixUrl(*c.request->config, *archive, dataset.name,
                                                       c.lifecycle->name, c.storage->name);
    plan.steps.push_back(check);
  }
  plan.steps.insert(plan.steps.end(), std::make_move_iterator(storage_plan.steps.begin()),
                    std::make_move_iterator(storage_plan.steps.end()));
}

const core::ObservedStorage* FindObserved(const core::ObservedDataset& observed,
                                          const std::string& lifecycle,
                                          const std::string& storage) {
  for (const core::ObservedStorage& s : observed.storages) {
    if (s.lifecycle == lifecycle && s.storage == storage) return &s;
  }
  return nullptr;
}

// The default {start} format for a time interval.
const char* StartFormat(const core::Span& interval) {
  switch (interval.unit) {
    case core::SpanUnit::kHour: return "%Y%m%d_%H";
    case core::SpanUnit::kMonth: return "%Y%m";
    case core::SpanUnit::kYear: return "%Y";
    default: return "%Y%m%d";
  }
}

// Formats a civil time of `zone` with %Y %m %d %H %M %S.
std::string FormatIn(util::Instant t, const std::string& pattern, const util::TimeZone& zone) {
  return util::FormatCompactUtc(util::Instant(zone.ToLocal(t).time_since_epoch()), pattern);
}

}  // namespace

std::string PartitionName(const config::Dataset& dataset, const std::string& table,
                          const core::TimeRange* range, const core::IdRange* ids,
                          const util::TimeZone& zone) {
  // Expand everything but {table}, then fit the table part into the limit.
  const std::string& pattern = dataset.partition_name;
  std::string before, after;
  bool seen_table = false;
  for (size_t i = 0; i < pattern.size();) {
    std::string& out = seen_table ? after : before;
    if (pattern[i] != '{') {
      out += pattern[i++];
      continue;
    }
    size_t close = pattern.find('}', i);
    if (close == std::string::npos) {
      out += pattern.substr(i);
      break;
    }
    const std::string inner = pattern.substr(i + 1, close - i - 1);
    i = close + 1;
    const size_t colon = inner.find(':');
    const std::string key = inner.substr(0, colon);
    if (key == "table" && !seen_table) {
      seen_table = true;
      continue;
    }
    if (key == "table") {
      out += table;
      continue;
    }
    const bool start = key == "start";
    if (ids != nullptr) {
      out += std::to_string(start ? ids->start : ids->end);
    } else if (range != nullptr) {
      const std::string format =
          colon == std::string::npos ? StartFormat(dataset.interval) : inner.substr(colon + 1);
      out += FormatIn(start ? range->start : range->end, format, zone);
    }
  }
  if (!seen_table) return core::FitIdentifier(before, "", kMaxIdentifierBytes);
  return core::FitIdentifier(before + table, after, kMaxIdentifierBytes);
}

util::Instant ExpiryCutoff(const config::Dataset& dataset, util::Instant now,
                           const util::TimeZone& zone) {
  return core::AddSpan(now, *dataset.retention, -1, zone);
}

Plan PlanDataset(const PlanRequest& request) {
  Plan plan;
  std::set<int> orders;
  for (const config::Lifecycle& lifecycle : request.dataset->lifecycles)
    orders.insert(lifecycle.order);
  std::map<int, int> group_of;
  for (int order : orders) group_of[order] = static_cast<int>(group_of.size());
  for (const config::Lifecycle& lifecycle : request.dataset->lifecycles) {
    for (const config::Storage& storage : lifecycle.storages) {
      const core::ObservedStorage* observed =
          FindObserved(*request.observed, lifecycle.name, storage.name);
      if (observed == nullptr || !observed->exists) {
        if (observed != nullptr)
          plan.notes.insert(plan.notes.end(), observed->notes.begin(), observed->notes.end());
        continue;
      }
      StorageContext c{&request, &lifecycle, &storage, observed,
                       group_of[lifecycle.order] * kPhases};
      PlanStorage(c, plan);
    }
  }
  std::stable_sort(plan.steps.begin(), plan.steps.end(),
                   [](const Step& a, const Step& b) { return a.seq < b.seq; });
  return plan;
}

}  // namespace tidemark::plan
