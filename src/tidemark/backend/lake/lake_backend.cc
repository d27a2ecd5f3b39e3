#include "tidemark/backend/lake/lake_backend.h"

#include <map>

#include "tidemark/archive/tree_copy.h"
#include "tidemark/backend/lake/delta_table.h"
#include "tidemark/backend/lake/hive_layout.h"
#include "tidemark/config/storage_urls.h"
#include "tidemark/store/local_store.h"
#include "tidemark/util/strings.h"

namespace tidemark::backend::lake {

namespace {

using archive::TreeLocation;
using core::Step;

// Files of one partition directory or bin entry, gathered while listing.
struct Group {
  int64_t bytes = 0;
  int64_t files = 0;
  int64_t newest_mtime_ns = 0;
  void Add(const store::ObjectInfo& info) {
    bytes += info.size;
    ++files;
    newest_mtime_ns = std::max(newest_mtime_ns, info.mtime_ns);
  }
};

struct BinKeyParts {
  bool detached = false;
  std::string stamp;
  std::string partition;
};

std::optional<BinKeyParts> SplitBinKey(const std::string& relative) {
  for (bool detached : {false, true}) {
    std::string dir = std::string(detached ? kDetachedDir : kRecycleDir) + "/";
    if (!util::StartsWith(relative, dir)) continue;
    std::string rest = relative.substr(dir.size());
    size_t slash = rest.find('/');
    if (slash == std::string::npos) return std::nullopt;
    std::string partition = PartitionDirectoryOf(rest.substr(slash + 1));
    if (partition.empty()) return std::nullopt;
    return BinKeyParts{detached, rest.substr(0, slash), partition};
  }
  return std::nullopt;
}

class LakeBackend : public Backend {
 public:
  LakeBackend(const config::Config& config, const config::Connection& connection)
      : config_(config),
        root_url_(config::ResolveUrl(config, connection.url)),
        connection_(connection) {}

  std::string system() const override { return "lake"; }

  // A missing root is fine (it is created when first written); one that cannot be read
  // or is a file is not.
  util::Status CheckConnection() override {
    TM_TRY_ASSIGN(auto store, store::OpenStore(root_url_, &config_));
    auto file = store->Stat("");
    auto listed = file ? store->Exists("") : tl::unexpected(file.error());
    if (!listed || (file && file->has_value())) {
      return util::Fail(util::ErrorCategory::kConnect,
                        "connection " + connection_.name + ": cannot read " + root_url_ + ": " +
                            (listed ? "it is a file, not a directory" : listed.error().message()));
    }
    return {};
  }

  util::Result<core::ObservedStorage> Observe(const config::Dataset& dataset,
                                              const config::Lifecycle& lifecycle,
                                              const config::Storage& storage,
                                              const util::TimeZone& zone) override;

  std::string Render(const Step& step) const override;
  util::Status Execute(const Step& step, StepContext& context) override;
  util::Status Holds(const Step& step) override;

 private:
  util::Status Hide(const Step& step, StepContext& context);
  util::Status ExecuteDelta(const Step& step, StepContext& context);
  util::Status CopyToArchive(const Step& step, StepContext& context);
  util::Status VerifyArchive(const Step& step, StepContext& context);
  util::Status Purge(const Step& step);
  util::Status RestoreFromBin(const Step& step, StepContext& context);
  util::Status RestoreFromArchive(const Step& step, StepContext& context);

  const config::Config& config_;
  std::string root_url_;
  config::Connection connection_;
};

util::Result<std::unique_ptr<store::ObjectStore>> StoreAt(const config::Config& config,
                                                         const std::string& url) {
  return store::OpenStore(url, &config);
}

// Whether anything lies under `prefix`.
util::Result<bool> HasFiles(store::ObjectStore& store, const std::string& prefix) {
  return store.Exists(prefix);
}

util::Result<core::ObservedStorage> LakeBackend::Observe(const config::Dataset& dataset,
                                                         const config::Lifecycle& lifecycle,
                                                         const config::Storage& storage,
                                                         const util::TimeZone& zone) {
  core::ObservedStorage observed;
  observed.lifecycle = lifecycle.name;
  observed.storage = storage.name;
  observed.location = config::StorageUrl(config_, storage);
  TM_TRY_ASSIGN(auto store, StoreAt(config_, observed.location));
  if (storage.layout == config::Layout::kDelta) {
    HiveKeys keys{dataset.partition_by, std::nullopt};
    if (dataset.interval_given) keys.interval = dataset.interval;
    TM_TRY(ObserveDeltaTable(*store, keys, zone, observed));
    return observed;
  }
  observed.layout = "hive";
  auto listed = store->List("");
  if (!listed) {
    return util::Fail(util::ErrorCategory::kConnect,
                      "cannot list " + observed.location + ": " + listed.error().message());
  }
  if (listed->empty()) {
    observed.exists = false;
    observed.notes.push_back(observed.location + " holds no files yet");
    return observed;
  }
  std::map<std::string, Group> partitions;
  std::map<std::pair<std::string, std::string>, Group> bin;  // (stamp dir, partition)
  std::map<std::pair<std::string, std::string>, BinKeyParts> bin_parts;
  for (const store::ObjectInfo& object : *listed) {
    if (store::IsTemporaryKey(object.key)) continue;
    if (auto parts = SplitBinKey(object.key)) {
      std::string dir =
          std::string(parts->detached ? kDetachedDir : kRecycleDir) + "/" + parts->stamp;
      bin[{dir, parts->partition}].Add(object);
      bin_parts[{dir, parts->partition}] = *parts;
      continue;
    }
    std::string directory = PartitionDirectoryOf(object.key);
    if (!directory.empty()) partitions[directory].Add(object);
  }
  HiveKeys keys{dataset.partition_by, std::nullopt};
  if (dataset.interval_given) keys.interval = dataset.interval;
  for (const auto& [name, group] : partitions) {
    core::Partition partition;
    partition.name = name;
    partition.bytes = group.bytes;
    partition.files = group.files;
    partition.newest_change =
        util::Instant(std::chrono::seconds(group.newest_mtime_ns / 1000000000));
    partition.range = ReadPartitionTime(name, keys, zone, &partition.problem);
    if (!partition.range) {
      partition.state = core::PartitionState::kUnparsed;
      observed.notes.push_back("partition " + name + " " + partition.problem + "; left alone");
    }
    observed.partitions.push_back(std::move(partition));
  }
  for (const auto& [key, group] : bin) {
    const BinKeyParts& parts = bin_parts[key];
    core::BinEntry entry;
    entry.partition = parts.partition;
    entry.entry = key.first + "/" + parts.partition;
    entry.detached = parts.detached;
    entry.bytes = group.bytes;
    entry.files = group.files;
    std::string problem;
    entry.range = ReadPartitionTime(parts.partition, keys, zone, &problem);
    auto stamp = ParseBinStamp(parts.stamp);
    if (!stamp) {
      observed.notes.push_back("recycle bin entry " + entry.entry +
                               " has no readable time; left alone");
      continue;
    }
    entry.removed_at = *stamp;
    observed.bin.push_back(std::move(entry));
  }
  return observed;
}

// Delta steps: what is committed to the log, and what happens to the files.
std::string RenderDelta(const Step& step) {
  const std::string location = step.Param("location");
  const std::string record = location + "/" + step.Param("bin") + "/" + kDeltaRecordName;
  const std::string archive = step.Param("archive");
  const std::string& a = step.action;
  if (a == core::action::kHidePartition) {
    return "write " + record + " (the add actions of the partition's files); commit " + location +
           "/_delta_log/<next version>.json only if absent: remove every file of " +
           step.partition + " (dataChange, deletionTimestamp, partitionValues, size) + txn";
  }
  if (a == core::action::kCopyToArchive) {
    return "cp (each file named in " + record + ", and the record) " + archive +
           " && sha256sum (every file) > " + archive + "manifest.json";
  }
  if (a == core::action::kVerifyArchive) {
    return "sha256sum -c " + archive + "manifest.json; compare sizes and mtimes with the files "
           "named in " + record;
  }
  if (a == core::action::kPurgeRecycled) {
    return "rm (each file named in " + record + ", unless the table holds it again) && rm " +
           record;
  }
  if (a == core::action::kRestoreFromBin) {
    return "commit " + location + "/_delta_log/<next version>.json only if absent: add the files "
           "named in " + record + " + txn; rm " + record;
  }
  if (a == core::action::kRestoreFromArchive) {
    return "cp -a " + archive + ". " + location + " (sha256 checked); commit " + location +
           "/_delta_log/<next version>.json only if absent: add the archived files + txn";
  }
  return a;
}

std::string LakeBackend::Render(const Step& step) const {
  if (step.Param("layout") == "delta" && step.action != core::action::kCheckArchive)
    return RenderDelta(step);
  const std::string location = step.Param("location");
  const std::string path = location.substr(0, 7) == "file://" ? location.substr(7) : location;
  const std::string bin = path + "/" + step.Param("bin");
  const std::string archive = step.Param("archive");
  if (step.action == core::action::kCheckArchive) return "test -w " + archive;
  if (step.action == core::action::kHidePartition) {
    return "mv " + path + "/" + step.partition + " " + bin;
  }
  if (step.action == core::action::kCopyToArchive) {
    return "cp -a " + bin + "/. " + archive + " && sha256sum (every file) > " + archive +
           "manifest.json";
  }
  if (step.action == core::action::kVerifyArchive) {
    return "sha256sum -c " + archive + "manifest.json; compare sizes and mtimes with " + bin;
  }
  if (step.action == core::action::kPurgeRecycled) return "rm -r " + bin;
  if (step.action == core::action::kRestoreFromBin) {
    return "mv " + bin + " " + step.Param("target") + "/" + step.partition;
  }
  if (step.action == core::action::kRestoreFromArchive) {
    return "cp -a " + archive + ". " + step.Param("target") + "/" + step.partition +
           " && sha256sum -c manifest.json";
  }
  return step.action;
}

util::Status LakeBackend::Execute(const Step& step, StepContext& context) {
  const std::string& a = step.action;
  if (step.Param("layout") == "delta" && a != core::action::kCheckArchive)
    return ExecuteDelta(step, context);
  if (a == core::action::kCheckArchive) {
    TM_TRY_ASSIGN(auto store, StoreAt(config_, step.Param("archive")));
    return store->ProbeWritable("");
  }
  if (a == core::action::kHidePartition) return Hide(step, context);
  if (a == core::action::kCopyToArchive) return CopyToArchive(step, context);
  if (a == core::action::kVerifyArchive) return VerifyArchive(step, context);
  if (a == core::action::kPurgeRecycled) return Purge(step);
  if (a == core::action::kRestoreFromBin) return RestoreFromBin(step, context);
  if (a == core::action::kRestoreFromArchive) return RestoreFromArchive(step, context);
  return util::StepError("step " + step.id + ": the lake backend has no action \"" + a + "\"");
}

archive::Manifest HeaderOf(const Step& step, const std::string& run_id);
util::Status CheckArchiveBeforePurge(const config::Config& config, const Step& step,
                                     const std::string& bin);

util::Status LakeBackend::ExecuteDelta(const Step& step, StepContext& context) {
  const std::string& a = step.action;
  TM_TRY_ASSIGN(auto table, StoreAt(config_, step.Param("location")));
  std::unique_ptr<store::ObjectStore> archive;
  if (!step.Param("archive").empty()) {
    TM_TRY_ASSIGN(archive, StoreAt(config_, step.Param("archive")));
  }
  if (a == core::action::kHidePartition) return HideDeltaPartition(*table, step, context.run_id);
  if (a == core::action::kCopyToArchive) {
    return CopyDeltaToArchive(*table, *archive, step, HeaderOf(step, context.run_id),
                              *context.progress);
  }
  if (a == core::action::kVerifyArchive)
    return VerifyDeltaArchive(*table, *archive, step, *context.progress);
  if (a == core::action::kPurgeRecycled) {
    if (archive) TM_TRY(CheckArchiveBeforePurge(config_, step, step.Param("bin")));
    return PurgeDeltaFiles(*table, step);
  }
  if (a == core::action::kRestoreFromBin) return RestoreDeltaFromBin(*table, step, context.run_id);
  if (a == core::action::kRestoreFromArchive) {
    return RestoreDeltaFromArchive(*table, *archive, step, context.run_id, *context.progress);
  }
  return util::StepError("step " + step.id + ": the Delta backend has no action \"" + a + "\"");
}

util::Status LakeBackend::Hide(const Step& step, StepContext& context) {
  TM_TRY_ASSIGN(auto store, StoreAt(config_, step.Param("location")));
  const std::string bin = step.Param("bin");
  TM_TRY_ASSIGN(bool moving, archive::MoveUnfinished(*store, bin));
  TM_TRY_ASSIGN(bool in_place, HasFiles(*store, step.partition));
  TM_TRY_ASSIGN(bool in_bin, HasFiles(*store, bin));
  if (!moving && !in_place && in_bin) return {};  // done before
  if (!moving && in_place && in_bin) {
    return util::StepError("partition " + step.partition + " of " + step.Param("location") +
                           " holds files again after it was moved to " + bin +
                           "; new data arrived in an expired partition. Move those files "
                           "aside by hand, then apply again");
  }
  if (!moving && !in_place) {
    return util::StepError("partition " + step.partition + " is neither in " +
                           step.Param("location") + " nor in its recycle bin entry " + bin);
  }
  // Where the store cannot rename (S3), the files are copied under the bin, checked,
  // and only then deleted; an interrupted move is finished here.
  TM_TRY(archive::MoveTree(*store, step.partition, bin, *context.progress));
  return store->PruneEmpty(step.partition.substr(0, step.partition.find('/')));
}

archive::Manifest HeaderOf(const Step& step, const std::string& run_id) {
  archive::Manifest header;
  header.tool_version = std::string("tidemark ") + TIDEMARK_VERSION;
  header.dataset = step.Param("dataset");
  header.lifecycle = step.lifecycle;
  header.storage = step.storage;
  header.partition = step.partition;
  header.source = step.Param("location") + "/" + step.partition;
  header.range_start = step.Param("range_start");
  header.range_end = step.Param("range_end");
  header.run_id = run_id;
  header.created_at = util::FormatInstant(util::Now());
  return header;
}

util::Status LakeBackend::CopyToArchive(const Step& step, StepContext& context) {
  TM_TRY_ASSIGN(auto source, StoreAt(config_, step.Param("location")));
  TM_TRY_ASSIGN(auto target, StoreAt(config_, step.Param("archive")));
  TreeLocation from{source.get(), step.Param("bin")};
  TreeLocation to{target.get(), ""};
  TM_TRY(archive::CopyToArchive(from, to, HeaderOf(step, context.run_id), *context.progress));
  return {};
}

util::Status LakeBackend::VerifyArchive(const Step& step, StepContext& context) {
  TM_TRY_ASSIGN(auto source, StoreAt(config_, step.Param("location")));
  TM_TRY_ASSIGN(auto target, StoreAt(config_, step.Param("archive")));
  TreeLocation from{source.get(), step.Param("bin")};
  TreeLocation to{target.get(), ""};
  TM_TRY(archive::VerifyArchive(to, &from, *context.progress));
  return {};
}

// Never delete the last copy: the archive must still be there with every file of its
// manifest at its size (the sha256 were compared by the verify step).
util::Status CheckArchiveBeforePurge(const config::Config& config, const Step& step,
                                     const std::string& bin) {
  TM_TRY_ASSIGN(auto archive_store, StoreAt(config, step.Param("archive")));
  TreeLocation at{archive_store.get(), ""};
  auto manifest = archive::ReadManifest(at);
  if (!manifest)
    return util::StepError("refusing to purge " + bin + ": " + manifest.error().message());
  TM_TRY(archive_store->Sync(""));  // on disk, not only in the page cache, before the bin copy goes
  for (const archive::ManifestFile& file : manifest->files) {
    TM_TRY_ASSIGN(auto info, archive_store->Stat(file.path));
    if (!info || info->size != file.size) {
      return util::StepError("refusing to purge " + bin + ": the archive's " + file.path + " at " +
                             step.Param("archive") + " is missing or has the wrong size");
    }
  }
  return {};
}

util::Status LakeBackend::Purge(const Step& step) {
  TM_TRY_ASSIGN(auto store, StoreAt(config_, step.Param("location")));
  const std::string bin = step.Param("bin");
  if (!step.Param("archive").empty()) TM_TRY(CheckArchiveBeforePurge(config_, step, bin));
  TM_TRY_ASSIGN(auto objects, store->List(bin));
  std::vector<std::string> keys;
  for (const store::ObjectInfo& object : objects) keys.push_back(object.key);
  TM_TRY(store->DeleteMany(keys));
  return store->PruneEmpty(kRecycleDir);
}

util::Status LakeBackend::RestoreFromBin(const Step& step, StepContext& context) {
  TM_TRY_ASSIGN(auto source, StoreAt(config_, step.Param("location")));
  TM_TRY_ASSIGN(auto target, StoreAt(config_, step.Param("target")));
  const std::string bin = step.Param("bin");
  const bool same_place = step.Param("target") == step.Param("location");
  if (same_place) {
    TM_TRY_ASSIGN(bool moving, archive::MoveUnfinished(*source, step.partition));
    if (moving) {
      TM_TRY(archive::MoveTree(*source, bin, step.partition, *context.progress));
      return source->PruneEmpty("_tidemark");
    }
  }
  TM_TRY_ASSIGN(bool in_bin, HasFiles(*source, bin));
  TM_TRY_ASSIGN(bool in_place, HasFiles(*target, step.partition));
  if (!in_bin && in_place) return {};  // done before
  if (!in_bin)
    return util::StepError("recycle bin entry " + bin + " is gone; restore from the archive");
  if (in_place && same_place) {
    return util::StepError("cannot restore " + step.partition + ": " + step.Param("target") + "/" +
                           step.partition + " already holds files; restore --to another location");
  }
  if (same_place) {
    TM_TRY(archive::MoveTree(*source, bin, step.partition, *context.progress));
    return source->PruneEmpty("_tidemark");
  }
  // Another location: copy through staging, verify, then make it visible at once
  // (where the store can rename; on S3 the files appear one by one).
  const std::string staging = std::string(kStagingDir) + "/" + step.partition;
  TM_TRY_ASSIGN(bool moving, archive::MoveUnfinished(*target, step.partition));
  if (moving) {
    TM_TRY(archive::MoveTree(*target, staging, step.partition, *context.progress));
    return target->PruneEmpty(kStagingDir);
  }
  if (in_place) return {};
  TreeLocation from{source.get(), bin};
  TreeLocation stage{target.get(), staging};
  TM_TRY(archive::CopyToArchive(from, stage, HeaderOf(step, context.run_id), *context.progress));
  TM_TRY(archive::VerifyArchive(stage, &from, *context.progress));
  TM_TRY(target->Delete(store::JoinKey(staging, archive::kManifestName)));
  TM_TRY(archive::MoveTree(*target, staging, step.partition, *context.progress));
  return target->PruneEmpty(kStagingDir);
}

util::Status LakeBackend::RestoreFromArchive(const Step& step, StepContext& context) {
  TM_TRY_ASSIGN(auto archive_store, StoreAt(config_, step.Param("archive")));
  TM_TRY_ASSIGN(auto target, StoreAt(config_, step.Param("target")));
  TreeLocation from{archive_store.get(), ""};
  TM_TRY_ASSIGN(archive::Manifest manifest, archive::ReadManifest(from));
  const std::string staging = std::string(kStagingDir) + "/" + step.partition;
  TM_TRY_ASSIGN(bool moving, archive::MoveUnfinished(*target, step.partition));
  if (moving) {
    TM_TRY(archive::MoveTree(*target, staging, step.partition, *context.progress));
    return target->PruneEmpty(kStagingDir);
  }
  TM_TRY_ASSIGN(bool staged, HasFiles(*target, staging));
  TM_TRY_ASSIGN(bool in_place, HasFiles(*target, step.partition));
  if (in_place && !staged) {
    TreeLocation at{target.get(), step.partition};
    auto matches = archive::VerifyAgainstManifest(manifest, at, util::NoProgress());
    if (matches) return {};  // done before
    return util::StepError("cannot restore " + step.partition + ": " + step.Param("target") + "/" +
                           step.partition +
                           " already holds other files; restore --to another location");
  }
  if (in_place) {
    return util::StepError("cannot restore " + step.partition + ": " + step.Param("target") + "/" +
                           step.partition + " already holds files; restore --to another location");
  }
  TreeLocation stage{target.get(), staging};
  TM_TRY(archive::CopyFromArchive(from, stage, *context.progress));
  TM_TRY(archive::VerifyAgainstManifest(manifest, stage, *context.progress));
  TM_TRY(archive::MoveTree(*target, staging, step.partition, *context.progress));
  return target->PruneEmpty(kStagingDir);
}

util::Status LakeBackend::Holds(const Step& step) {
  const std::string& a = step.action;
  TM_TRY_ASSIGN(auto store, StoreAt(config_, step.Param("location").empty() ? step.Param("target")
                                                                   : step.Param("location")));
  if (a == core::action::kCheckArchive) return {};
  const bool archive_step = a == core::action::kCopyToArchive || a == core::action::kVerifyArchive;
  if (step.Param("layout") == "delta" && !archive_step) return DeltaStepHolds(*store, step);
  if (a == core::action::kHidePartition) {
    TM_TRY_ASSIGN(bool in_place, HasFiles(*store, step.partition));
    TM_TRY_ASSIGN(bool moving, archive::MoveUnfinished(*store, step.Param("bin")));
    if (in_place || moving)
      return util::Fail(util::ErrorCategory::kVerify, step.partition + " is visible to readers");
    return {};
  }
  if (a == core::action::kCopyToArchive || a == core::action::kVerifyArchive) {
    TM_TRY_ASSIGN(auto archive_store, StoreAt(config_, step.Param("archive")));
    TreeLocation at{archive_store.get(), ""};
    if (a == core::action::kCopyToArchive) return archive::ReadManifest(at).map([](auto&&) {});
    return archive::VerifyArchive(at, nullptr, util::NoProgress()).map([](auto&&) {});
  }
  if (a == core::action::kPurgeRecycled) {
    TM_TRY_ASSIGN(bool in_bin, HasFiles(*store, step.Param("bin")));
    if (in_bin)
      return util::Fail(util::ErrorCategory::kVerify,
                        step.Param("bin") + " is still in the recycle bin");
    return {};
  }
  TM_TRY_ASSIGN(auto target, StoreAt(config_, step.Param("target")));
  TM_TRY_ASSIGN(bool restored, HasFiles(*target, step.partition));
  TM_TRY_ASSIGN(bool moving, archive::MoveUnfinished(*target, step.partition));
  if (!restored || moving)
    return util::Fail(util::ErrorCategory::kVerify, step.partition + " is not in place");
  return {};
}

}  // namespace

util::Result<std::unique_ptr<Backend>> OpenLakeBackend(const config::Config& config,
                                                       const config::Connection& connection) {
  return std::unique_ptr<Backend>(new LakeBackend(config, connection));
}

std::optional<util::Instant> ParseBinStamp(const std::string& stamp) {
  if (stamp.size() != 16 || stamp[8] != 'T' || stamp[15] != 'Z') return std::nullopt;
  std::string text = stamp.substr(0, 4) + "-" + stamp.substr(4, 2) + "-" + stamp.substr(6, 2) +
                     "T" + stamp.substr(9, 2) + ":" + stamp.substr(11, 2) + ":" +
                     stamp.substr(13, 2) + "Z";
  return util::ParseInstant(text);
}

std::string BinKey(const std::string& partition, util::Instant removed_at, bool detached) {
  return std::string(detached ? kDetachedDir : kRecycleDir) + "/" +
         util::FormatCompactUtc(removed_at, "%Y%m%dT%H%M%SZ") + "/" + partition;
}

}  // namespace tidemark::backend::lake
