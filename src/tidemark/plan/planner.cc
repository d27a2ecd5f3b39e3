#include "tidemark/plan/planner.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>

#include "tidemark/config/storage_urls.h"
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
  return step;
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
  const std::string bin = "_tidemark/" + std::string(detach ? "detached/" : "recycle/") +
                          util::FormatCompactUtc(c.request->now, "%Y%m%dT%H%M%SZ") + "/" +
                          partition.name;
  const std::string retention = FormatSpan(*dataset.retention);
  Step hide = MakeStep(c, kHidePhase, core::action::kHidePartition, partition.name,
                       "hide the partition from readers before touching its data (older than " +
                           retention + "; " + DescribeSize(partition.bytes, partition.files) + ")");
  hide.params["bin"] = bin;
  hide.params["bytes"] = std::to_string(partition.bytes);
  hide.params["files"] = std::to_string(partition.files);
  SetRange(hide, partition.range);
  plan.steps.push_back(hide);
  if (detach) return;
  const bool archived = dataset.on_expire == OnExpire::kArchive;
  if (archived) PlanArchive(c, hide, false, plan);
  if (dataset.recycle_days == 0) {
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
    if (due > c.request->now) continue;
    Step purge = base;
    purge.about = "delete the recycle bin copy removed " + util::FormatInstant(entry.removed_at) +
                  " (recycle_days: " + std::to_string(dataset.recycle_days) + "; " +
                  DescribeSize(entry.bytes, entry.files) + ")";
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

void PlanStorage(const StorageContext& c, Plan& plan) {
  const config::Dataset& dataset = *c.request->dataset;
  for (const std::string& note : c.observed->notes) plan.notes.push_back(note);
  std::vector<const core::Partition*> expired = ExpiredPartitions(c, plan);
  if (!expired.empty() && dataset.on_expire == OnExpire::kKeep) {
    plan.notes.push_back(std::to_string(expired.size()) + " partition(s) of " + c.lifecycle->name +
                         "/" + c.storage->name + " are past retention and kept (on_expire: keep)");
    expired.clear();
  }
  Plan storage_plan;
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

}  // namespace

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
