// PlanRestore: which copy of a partition to put back, and where.

#include <algorithm>

#include "tidemark/config/storage_urls.h"
#include "tidemark/core/table_name.h"
#include "tidemark/plan/planner.h"
#include "tidemark/util/strings.h"

namespace tidemark::plan {

namespace {

struct Candidate {
  const config::Lifecycle* lifecycle = nullptr;
  const config::Storage* storage = nullptr;
  const core::ObservedStorage* observed = nullptr;
  const core::BinEntry* bin = nullptr;  // newest bin entry of the partition
  const core::ArchivedPartition* archived = nullptr;
  bool live = false;  // the partition is in place now
};

const core::ObservedStorage* FindObserved(const core::ObservedDataset& observed,
                                          const std::string& lifecycle,
                                          const std::string& storage) {
  for (const core::ObservedStorage& s : observed.storages) {
    if (s.lifecycle == lifecycle && s.storage == storage) return &s;
  }
  return nullptr;
}

Candidate Inspect(const RestoreRequest& r, const config::Lifecycle& lifecycle,
                  const config::Storage& storage) {
  Candidate c{&lifecycle, &storage, FindObserved(*r.observed, lifecycle.name, storage.name)};
  if (c.observed == nullptr) return c;
  for (const core::Partition& p : c.observed->partitions) c.live |= p.name == r.partition;
  for (const core::BinEntry& entry : c.observed->bin) {
    if (entry.partition != r.partition) continue;
    // The newest entry wins; a recycled one over a detached one of the same time.
    if (c.bin == nullptr || entry.removed_at > c.bin->removed_at ||
        (entry.removed_at == c.bin->removed_at && c.bin->detached)) {
      c.bin = &entry;
    }
  }
  for (const core::ArchivedPartition& a : r.observed->archived) {
    if (a.lifecycle == lifecycle.name && a.storage == storage.name && a.partition == r.partition) {
      if (c.archived == nullptr || a.archived_at > c.archived->archived_at) c.archived = &a;
    }
  }
  return c;
}

bool HasCopy(const Candidate& c) { return c.bin != nullptr || c.archived != nullptr; }

util::Result<Candidate> Choose(const RestoreRequest& r) {
  std::vector<Candidate> found;
  std::vector<std::string> lifecycles;
  for (const config::Lifecycle& lifecycle : r.dataset->lifecycles) {
    lifecycles.push_back(lifecycle.name);
    if (!r.lifecycle.empty() && lifecycle.name != r.lifecycle) continue;
    for (const config::Storage& storage : lifecycle.storages) {
      Candidate c = Inspect(r, lifecycle, storage);
      if (HasCopy(c) || (r.dataset->lifecycles.size() == 1 && lifecycle.storages.size() == 1)) {
        found.push_back(c);
      }
    }
  }
  if (!r.lifecycle.empty() &&
      std::find(lifecycles.begin(), lifecycles.end(), r.lifecycle) == lifecycles.end()) {
    return util::ConfigError("dataset " + r.dataset->name + " has no lifecycle \"" + r.lifecycle +
                             "\" (it has: " + util::Join(lifecycles, ", ") + ")");
  }
  if (found.empty()) {
    return util::ConfigError("no copy of partition " + r.partition + " of dataset " +
                             r.dataset->name +
                             " was found in a recycle bin or the archive records");
  }
  if (found.size() > 1) {
    std::vector<std::string> names;
    for (const Candidate& c : found) names.push_back(c.lifecycle->name + "/" + c.storage->name);
    return util::ConfigError("partition " + r.partition + " of dataset " + r.dataset->name +
                             " has copies in several lifecycles (" + util::Join(names, ", ") +
                             "); choose one with --lifecycle");
  }
  return found.front();
}

std::string ArchiveOf(const RestoreRequest& r, const Candidate& c) {
  if (c.archived != nullptr) return c.archived->location;
  const config::Archive* archive =
      r.dataset->archive_to.empty() ? nullptr : r.config->FindArchive(r.dataset->archive_to);
  if (archive == nullptr) return "";
  return config::ArchiveUrl(*r.config, *archive, r.dataset->name, c.lifecycle->name,
                            c.storage->name, r.partition);
}

}  // namespace

util::Result<Plan> PlanRestore(const RestoreRequest& r) {
  TM_TRY_ASSIGN(Candidate c, Choose(r));
  const std::string location =
      c.observed != nullptr ? c.observed->location : config::StorageUrl(*r.config, *c.storage);
  const std::string family = config::StorageFamily(location);
  const bool database = family == "postgres" || family == "mariadb";
  // Databases restore --to a table of the same connection: "[schema.]table".
  const bool to_table = database && !r.to.empty() && r.to.find("://") == std::string::npos;
  if (to_table && !core::ParseTableName(r.to)) {
    return util::ConfigError("--to " + r.to + ": " + core::ParseTableName(r.to).error() +
                             " (give [schema.]table)");
  }
  const bool delta = c.storage->layout == config::Layout::kDelta;
  if (delta && !r.to.empty()) {
    return util::ConfigError("cannot restore partition " + r.partition + " of the Delta table " +
                             location + " --to " + r.to +
                             ": a Delta partition is restored into its own table, by committing "
                             "its files again; restore without --to");
  }
  const std::string target = r.to.empty() ? location : r.to;
  if (!to_table && config::StorageFamily(target) != family) {
    return util::ConfigError(
        "cannot restore partition " + r.partition + " of " + location + " to " + target +
        ": a restore stays within one storage family (" + family + " data goes to a " +
        (family == "lake" ? "file:// or s3:// location" : family + " database") + ")");
  }
  if (r.to.empty() && c.live) {
    return util::ConfigError("partition " + r.partition + " is live in " + location +
                             "; nothing to restore there (use --to to put a copy elsewhere)");
  }
  const bool use_bin = r.source != RestoreSource::kArchive && c.bin != nullptr;
  const std::string archive = ArchiveOf(r, c);
  if (!use_bin && (r.source == RestoreSource::kBin || archive.empty())) {
    return util::ConfigError("partition " + r.partition + " of dataset " + r.dataset->name +
                             (r.source == RestoreSource::kBin
                                  ? " is not in the recycle bin"
                                  : " has no recycle bin entry and no archive"));
  }
  core::Step step;
  step.seq = 0;
  step.lifecycle = c.lifecycle->name;
  step.storage = c.storage->name;
  step.system = family;
  step.partition = r.partition;
  step.action = use_bin ? core::action::kRestoreFromBin : core::action::kRestoreFromArchive;
  step.id = step.lifecycle + "/" + step.storage + "/" + r.partition + "/" + step.action;
  step.params["dataset"] = r.dataset->name;
  step.params["location"] = location;
  step.params["target"] = target;
  step.params["connection"] = c.storage->connection;
  if (!c.storage->table.empty()) step.params["table"] = c.storage->table;
  if (to_table) step.params["to_table"] = r.to;
  if (delta) step.params["layout"] = "delta";
  if (use_bin) step.params["bin"] = c.bin->entry;
  if (!use_bin) step.params["archive"] = archive;
  step.about = use_bin ? "move the partition back from the recycle bin"
                       : "copy the partition back from the archive, checking every sha256, and "
                         "make it visible at once";
  Plan plan;
  plan.steps.push_back(step);
  return plan;
}

}  // namespace tidemark::plan
