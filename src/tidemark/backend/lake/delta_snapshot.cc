#include "tidemark/backend/lake/delta_snapshot.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <memory>
#include <thread>
#include <unordered_map>

#include "tidemark/backend/lake/delta_checkpoint.h"
#include "tidemark/util/strings.h"

namespace tidemark::backend::lake::delta {

namespace {

constexpr int64_t kMaxCommitBytes = int64_t{1} << 30;
constexpr int64_t kMaxCheckpointBytes = int64_t{4} << 30;
constexpr int64_t kMaxHintBytes = int64_t{16} << 20;
constexpr int64_t kReadWindow = 64;  // commits read ahead of the replay
constexpr int64_t kReadThreads = 8;  // commits read at once (one request each on S3)
constexpr size_t kMaxUnknownKinds = 32;

std::string VersionName(int64_t version) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%020lld", static_cast<long long>(version));
  return buffer;
}

util::Error Verify(std::string message) {
  return util::Error(util::ErrorCategory::kVerify, std::move(message));
}

// --- Listing ---

struct CheckpointFiles {
  int64_t version = 0;
  std::vector<store::ObjectInfo> parts;  // in part order; one for a classic checkpoint
  bool multi_part = false;
};

struct LogListing {
  std::map<int64_t, store::ObjectInfo> commits;
  std::vector<CheckpointFiles> checkpoints;  // complete ones, newest first, classic first
  std::vector<std::string> v2_checkpoints;   // file names
  std::optional<store::ObjectInfo> last_checkpoint;
};

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<int64_t> Number(std::string_view digits) {
  int64_t n = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return n;
}

// Sorts the log's files into commits and checkpoints. `log_dir` is the key of
// `_delta_log`; deeper keys (_sidecars/, _staged_commits/) are not the log's own.
LogListing Classify(std::vector<store::ObjectInfo> objects, const std::string& log_dir) {
  LogListing listing;
  std::map<int64_t, store::ObjectInfo> classic;
  std::map<std::pair<int64_t, int64_t>, std::map<int64_t, store::ObjectInfo>> parts;
  for (store::ObjectInfo& object : objects) {
    if (!object.key.starts_with(log_dir + "/")) continue;  // "_delta_log.bak/…" and such
    const std::string name = object.key.substr(log_dir.size() + 1);
    if (name.find('/') != std::string::npos) continue;
    if (name == "_last_checkpoint") listing.last_checkpoint = object;
    if (name.size() < 22 || name[20] != '.' || !AllDigits(name.substr(0, 20))) continue;
    const std::optional<int64_t> version = Number(name.substr(0, 20));
    std::string_view rest = std::string_view(name).substr(21);
    if (!version) continue;
    if (rest == "json") {
      listing.commits.emplace(*version, std::move(object));
    } else if (rest == "checkpoint.parquet") {
      classic.emplace(*version, std::move(object));
    } else if (rest.starts_with("checkpoint.")) {
      rest.remove_prefix(11);
      const bool multi = rest.size() == 29 && rest[10] == '.' && rest.substr(21) == ".parquet" &&
                         AllDigits(rest.substr(0, 10)) && AllDigits(rest.substr(11, 10));
      if (multi) {
        const int64_t part = *Number(rest.substr(0, 10)), total = *Number(rest.substr(11, 10));
        if (part >= 1 && part <= total) parts[{*version, total}][part] = std::move(object);
      } else if (rest.ends_with(".json") || rest.ends_with(".parquet")) {
        listing.v2_checkpoints.push_back(name);
      }
    }
  }
  for (auto& [version, object] : classic) {
    listing.checkpoints.push_back({version, {std::move(object)}, false});
  }
  for (auto& [version_total, files] : parts) {
    if (static_cast<int64_t>(files.size()) != version_total.second) continue;  // incomplete
    CheckpointFiles checkpoint{version_total.first, {}, true};
    for (auto& [part, object] : files) checkpoint.parts.push_back(std::move(object));
    listing.checkpoints.push_back(std::move(checkpoint));
  }
  std::stable_sort(listing.checkpoints.begin(), listing.checkpoints.end(),
                   [](const CheckpointFiles& a, const CheckpointFiles& b) {
                     if (a.version != b.version) return a.version > b.version;
                     return !a.multi_part && b.multi_part;
                   });
  return listing;
}

// The first version in [from, to] without a commit file.
std::optional<int64_t> FirstGap(const std::map<int64_t, store::ObjectInfo>& commits, int64_t from,
                                int64_t to) {
  auto it = commits.lower_bound(from);
  for (int64_t version = from; version <= to; ++version, ++it) {
    if (it == commits.end() || it->first != version) return version;
  }
  return std::nullopt;
}

util::Error GapError(const std::string& table, int64_t missing, std::optional<int64_t> checkpoint) {
  std::string message = "Delta table " + table + ": commit " + VersionName(missing) +
                        ".json is missing from _delta_log; ";
  message += checkpoint
                 ? "every commit after the checkpoint at version " + std::to_string(*checkpoint) +
                       " must be present"
                 : "without a usable checkpoint, every commit from version 0 must be present";
  return Verify(message + ". The log is incomplete; tidemark will not guess the table's files");
}

// --- Reading objects ---

util::Result<std::string> ReadObject(store::ObjectStore& store, const store::ObjectInfo& info,
                                     int64_t limit) {
  const auto too_big = [&] {
    return Verify(store.url() + "/" + info.key + " is larger than " + util::HumanBytes(limit) +
                  ", more than tidemark reads of a Delta log file");
  };
  if (info.size > limit) return tl::unexpected(too_big());
  TM_TRY_ASSIGN(std::unique_ptr<store::Reader> reader, store.OpenRead(info.key));
  std::string out(static_cast<size_t>(std::max<int64_t>(info.size, 0)) + 1, '\0');
  size_t filled = 0;
  for (;;) {
    if (filled == out.size()) {
      if (static_cast<int64_t>(out.size()) > limit) return tl::unexpected(too_big());
      out.resize(out.size() * 2);
    }
    TM_TRY_ASSIGN(size_t n, reader->Read(out.data() + filled, out.size() - filled));
    if (n == 0) break;
    filled += n;
  }
  out.resize(filled);
  return out;
}

// --- Replay ---

struct LiveEntry {
  AddFile add;
  bool outside_root = false;
};

bool SameDeletionVector(const std::optional<DeletionVector>& a,
                        const std::optional<DeletionVector>& b) {
  if (!a || !b) return !a && !b;
  return a->UniqueId() == b->UniqueId();
}

// Applies actions in log order and keeps the reconciled state.
class Replay {
 public:
  explicit Replay(std::string root_url) : root_url_(std::move(root_url)) {}

  // A checkpoint is already reconciled: its removes are tombstones only.
  util::Status ApplyCheckpoint(CommitActions&& checkpoint, const std::string& what) {
    live_.reserve(checkpoint.adds.size() + checkpoint.adds.size() / 8);
    ApplyTableActions(checkpoint);
    for (RemoveFile& remove : checkpoint.removes) {
      TM_TRY_ASSIGN(ResolvedPath where, Resolve(remove.path, what));
      tombstones_.insert_or_assign(std::move(where.key), std::move(remove));
    }
    for (AddFile& add : checkpoint.adds) TM_TRY(Add(std::move(add), what));
    return {};
  }

  // Within a commit the order of actions means nothing; removes go first so that a
  // file re-added with a new deletion vector stays live whatever the order.
  util::Status ApplyCommit(CommitActions&& commit, const std::string& what) {
    ApplyTableActions(commit);
    for (RemoveFile& remove : commit.removes) TM_TRY(Remove(std::move(remove), what));
    for (AddFile& add : commit.adds) TM_TRY(Add(std::move(add), what));
    for (std::string& kind : commit.unknown_kinds) {
      if (unknown_.size() < kMaxUnknownKinds &&
          std::find(unknown_.begin(), unknown_.end(), kind) == unknown_.end()) {
        unknown_.push_back(std::move(kind));
      }
    }
    commit_info_ = std::move(commit.commit_info);
    return {};
  }

  util::Status Finish(Snapshot* snapshot) {
    if (!protocol_ || !metadata_) {
      return tl::unexpected(Verify(
          "Delta table " + root_url_ + " has no " + (protocol_ ? "metaData" : "protocol") +
          " action up to version " + std::to_string(snapshot->version) + "; its log is damaged"));
    }
    snapshot->protocol = std::move(*protocol_);
    snapshot->metadata = std::move(*metadata_);
    snapshot->txns = std::move(txns_);
    snapshot->domains = std::move(domains_);
    snapshot->commit_info = std::move(commit_info_);
    snapshot->unknown_action_kinds = std::move(unknown_);
    // Sorted as node handles (a pointer each), then moved out once.
    std::vector<decltype(live_)::node_type> nodes;
    nodes.reserve(live_.size());
    while (!live_.empty()) nodes.push_back(live_.extract(live_.begin()));
    std::sort(nodes.begin(), nodes.end(),
              [](const auto& a, const auto& b) { return a.key() < b.key(); });
    snapshot->files.reserve(nodes.size());
    for (auto& node : nodes) {
      if (node.mapped().add.deletion_vector) ++snapshot->files_with_deletion_vectors;
      snapshot->files.push_back(
          {std::move(node.key()), node.mapped().outside_root, std::move(node.mapped().add)});
    }
    for (auto& [key, remove] : tombstones_)
      snapshot->tombstones.push_back({key, std::move(remove)});
    std::sort(snapshot->tombstones.begin(), snapshot->tombstones.end(),
              [](const Tombstone& a, const Tombstone& b) { return a.key < b.key; });
    return {};
  }

 private:
  void ApplyTableActions(CommitActions& actions) {
    if (actions.protocol) protocol_ = std::move(actions.protocol);
    if (actions.metadata) metadata_ = std::move(actions.metadata);
    for (Transaction& txn : actions.txns) txns_.insert_or_assign(txn.app_id, std::move(txn));
    for (DomainMetadata& domain : actions.domains) {
      if (domain.removed) {
        domains_.erase(domain.domain);
      } else {
        domains_.insert_or_assign(domain.domain, std::move(domain));
      }
    }
  }

  util::Result<ResolvedPath> Resolve(const std::string& path, const std::string& what) {
    auto resolved = ResolveLogPath(path, root_url_);
    if (!resolved) return tl::unexpected(resolved.error().WithContext(what));
    return resolved;
  }

  util::Status Add(AddFile&& add, const std::string& what) {
    TM_TRY_ASSIGN(ResolvedPath where, Resolve(add.path, what));
    if (!tombstones_.empty()) tombstones_.erase(where.key);
    const bool outside = where.outside_root;
    live_.insert_or_assign(std::move(where.key), LiveEntry{std::move(add), outside});
    return {};
  }

  util::Status Remove(RemoveFile&& remove, const std::string& what) {
    TM_TRY_ASSIGN(ResolvedPath where, Resolve(remove.path, what));
    const auto it = live_.find(where.key);
    if (it != live_.end() &&
        SameDeletionVector(it->second.add.deletion_vector, remove.deletion_vector)) {
      live_.erase(it);
    }
    tombstones_.insert_or_assign(std::move(where.key), std::move(remove));
    return {};
  }

  std::string root_url_;
  std::unordered_map<std::string, LiveEntry> live_;
  std::unordered_map<std::string, RemoveFile> tombstones_;
  std::optional<Protocol> protocol_;
  std::optional<Metadata> metadata_;
  std::map<std::string, Transaction> txns_;
  std::map<std::string, DomainMetadata> domains_;
  std::optional<std::string> commit_info_;
  std::vector<std::string> unknown_;
};

util::Result<CommitActions> ReadCommit(store::ObjectStore& store, const store::ObjectInfo& info) {
  TM_TRY_ASSIGN(std::string text, ReadObject(store, info, kMaxCommitBytes));
  return ParseCommit(text, store.url() + "/" + info.key);
}

// Replays commits [from, to], reading a window of them ahead on several threads.
util::Status ReplayCommits(store::ObjectStore& store, const LogListing& listing, int64_t from,
                           int64_t to, Replay* replay) {
  for (int64_t first = from; first <= to; first += kReadWindow) {
    const int64_t last = std::min(to, first + kReadWindow - 1);
    std::vector<std::optional<util::Result<CommitActions>>> read(last - first + 1);
    std::atomic<int64_t> next{first};
    const auto work = [&] {
      for (int64_t v = next++; v <= last; v = next++) {
        read[v - first] = ReadCommit(store, listing.commits.at(v));
      }
    };
    const int64_t threads = std::min(kReadThreads, last - first + 1);
    if (threads <= 1) {
      work();
    } else {
      std::vector<std::jthread> pool;
      for (int64_t i = 0; i < threads; ++i) pool.emplace_back(work);
    }
    for (int64_t v = first; v <= last; ++v) {
      util::Result<CommitActions>& commit = *read[v - first];
      if (!commit) return tl::unexpected(commit.error());
      TM_TRY(
          replay->ApplyCommit(std::move(*commit), store.url() + "/" + listing.commits.at(v).key));
    }
  }
  return {};
}

util::Result<CommitActions> LoadCheckpoint(store::ObjectStore& store,
                                           const CheckpointFiles& checkpoint) {
  CommitActions actions;
  for (const store::ObjectInfo& part : checkpoint.parts) {
    TM_TRY_ASSIGN(std::string bytes, ReadObject(store, part, kMaxCheckpointBytes));
    TM_TRY(ReadCheckpointPart(std::make_shared<const std::string>(std::move(bytes)),
                              store.url() + "/" + part.key, &actions));
  }
  return actions;
}

// Loads the newest usable checkpoint at or before `version` into `replay`, and returns
// the first commit to replay after it (0 without a checkpoint).
util::Result<int64_t> StartReplay(store::ObjectStore& store, const LogListing& listing,
                                  const SnapshotOptions& options, Replay* replay,
                                  Snapshot* snapshot) {
  const std::string& table = snapshot->root_url;
  const int64_t version = snapshot->version;
  std::optional<util::Error> damaged;
  bool newest = true;
  static const std::vector<CheckpointFiles> kNone;
  for (const CheckpointFiles& checkpoint : options.json_only ? kNone : listing.checkpoints) {
    if (checkpoint.version > version) continue;
    if (const auto gap = FirstGap(listing.commits, checkpoint.version + 1, version)) {
      if (newest) return tl::unexpected(GapError(table, *gap, checkpoint.version));
      continue;  // an older checkpoint needs commits that are gone
    }
    newest = false;
    auto loaded = LoadCheckpoint(store, checkpoint);
    if (loaded) {
      TM_TRY(replay->ApplyCheckpoint(std::move(*loaded),
                                     store.url() + "/" + checkpoint.parts.front().key));
      snapshot->checkpoint_version = checkpoint.version;
      return checkpoint.version + 1;
    }
    if (loaded.error().category() != util::ErrorCategory::kVerify) {
      return tl::unexpected(loaded.error());
    }
    snapshot->notes.push_back("the checkpoint at version " + std::to_string(checkpoint.version) +
                              " could not be read (" + loaded.error().message() +
                              "); an older checkpoint or the JSON commits were used instead");
    if (!damaged) damaged = loaded.error();
  }
  if (const auto gap = FirstGap(listing.commits, 0, version)) {
    if (!damaged) return tl::unexpected(GapError(table, *gap, std::nullopt));
    return tl::unexpected(Verify(
        "Delta table " + table + " cannot be read at version " + std::to_string(version) + ": " +
        damaged->message() + "; no older checkpoint or complete run of commits from version 0 " +
        "can replace it (commit " + std::to_string(*gap) + " is gone)"));
  }
  return 0;
}

util::Result<int64_t> TargetVersion(const LogListing& listing, const SnapshotOptions& options,
                                    const std::string& table) {
  int64_t newest = listing.commits.empty() ? -1 : listing.commits.rbegin()->first;
  if (!options.json_only && !listing.checkpoints.empty()) {
    newest = std::max(newest, listing.checkpoints.front().version);
  }
  if (newest < 0) {
    return util::ConfigError("Delta table " + table + " has no commits under _delta_log/");
  }
  if (!options.max_version) return newest;
  if (*options.max_version < 0 || *options.max_version > newest) {
    return util::ConfigError("Delta table " + table + " has no version " +
                             std::to_string(*options.max_version) + " (the newest is " +
                             std::to_string(newest) + ")");
  }
  return *options.max_version;
}

// `_last_checkpoint` is a hint: what is wrong with it becomes a note.
void CheckHint(store::ObjectStore& store, const LogListing& listing, Snapshot* snapshot) {
  if (!listing.last_checkpoint) return;
  const std::string what = store.url() + "/" + listing.last_checkpoint->key;
  auto text = ReadObject(store, *listing.last_checkpoint, kMaxHintBytes);
  const util::Result<LastCheckpoint> hint =
      text ? ParseLastCheckpoint(*text, what) : tl::unexpected(text.error());
  if (!hint) {
    snapshot->notes.push_back("_last_checkpoint is unreadable (" + hint.error().message() +
                              "); the checkpoints were found by listing");
    return;
  }
  const bool found =
      std::any_of(listing.checkpoints.begin(), listing.checkpoints.end(),
                  [&](const CheckpointFiles& c) { return c.version == hint->version; });
  if (!found) {
    snapshot->notes.push_back("_last_checkpoint points at a checkpoint at version " +
                              std::to_string(hint->version) +
                              " that is missing or incomplete; the newest complete checkpoint "
                              "found by listing was used");
  }
}

std::string RootUrl(const store::ObjectStore& store, const std::string& prefix) {
  std::string url = store.url();
  while (!url.empty() && url.back() == '/') url.pop_back();
  std::string_view rest = prefix;
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  return rest.empty() ? url : url + "/" + std::string(rest);
}

// --- Protocol ---

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

template <size_t N>
bool Contains(const std::string_view (&list)[N], std::string_view item) {
  return std::find(std::begin(list), std::end(list), item) != std::end(list);
}

constexpr std::string_view kReadableFeatures[] = {
    "columnMapping", "deletionVectors",      "timestampNtz",
    "typeWidening",  "typeWidening-preview", "vacuumProtocolCheck",
    "variantType",   "variantType-preview",  "variantShredding-preview"};

// Writer features whose rules tidemark's removes and restores follow as they are.
constexpr std::string_view kHarmlessWriterFeatures[] = {
    "generatedColumns",    "allowColumnDefaults", "identityColumns",
    "changeDataFeed",      "columnMapping",       "deletionVectors",
    "rowTracking",         "domainMetadata",      "clustering",
    "timestampNtz",        "typeWidening",        "typeWidening-preview",
    "variantType",         "variantType-preview", "variantShredding-preview",
    "vacuumProtocolCheck", "checkpointProtection"};

constexpr std::string_view kCatalogFeatures[] = {"catalogManaged", "catalogOwned-preview"};

util::Status CheckReadable(const Snapshot& snapshot) {
  const Protocol& protocol = snapshot.protocol;
  const auto refuse = [&](const std::string& why) -> util::Status {
    return util::ConfigError("Delta table " + snapshot.root_url + " " + why +
                             "; tidemark cannot read this table");
  };
  if (protocol.min_reader_version > 3) {
    return refuse("requires reader version " + std::to_string(protocol.min_reader_version) +
                  " (tidemark reads versions 1 to 3)");
  }
  if (protocol.min_reader_version < 3) return {};
  if (!protocol.reader_features) return refuse("has reader version 3 but no readerFeatures");
  for (const std::string& feature : *protocol.reader_features) {
    if (feature == "v2Checkpoint") {
      return refuse(
          "requires the reader feature v2Checkpoint (V2 checkpoints and sidecar "
          "files, which tidemark does not read)");
    }
    if (Contains(kCatalogFeatures, feature)) {
      return refuse("requires the reader feature " + feature +
                    " (a catalog, not the log, holds its newest commits)");
    }
    if (!Contains(kReadableFeatures, feature)) {
      return refuse("requires the reader feature \"" + feature + "\", unknown to tidemark");
    }
  }
  return {};
}

bool ColumnMappingSupported(const Protocol& protocol) {
  return protocol.min_reader_version == 2 ||
         (protocol.min_reader_version == 3 && protocol.reader_features &&
          Contains(*protocol.reader_features, "columnMapping"));
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Finds the physical name of each partition column (the key of partitionValues).
util::Status ResolvePartitionColumns(Snapshot* snapshot) {
  const Metadata& metadata = snapshot->metadata;
  const auto mode_it = metadata.configuration.find("delta.columnMapping.mode");
  std::string mode = mode_it == metadata.configuration.end() ? "none" : mode_it->second;
  if (!ColumnMappingSupported(snapshot->protocol)) mode = "none";  // the protocol says so
  if (mode != "none" && mode != "name" && mode != "id") {
    return util::ConfigError("Delta table " + snapshot->root_url + " uses column mapping mode \"" +
                             mode + "\", unknown to tidemark; tidemark cannot read this table");
  }
  snapshot->column_mapping_mode = mode;
  if (mode == "none") {
    for (const std::string& column : metadata.partition_columns) {
      snapshot->partition_columns.push_back({column, column});
    }
    return {};
  }
  TM_TRY_ASSIGN(
      std::vector<SchemaColumn> schema,
      ParseSchemaColumns(metadata.schema_string, snapshot->root_url + " metaData.schemaString"));
  for (const std::string& column : metadata.partition_columns) {
    auto it = std::find_if(schema.begin(), schema.end(),
                           [&](const SchemaColumn& c) { return c.name == column; });
    if (it == schema.end()) {
      it = std::find_if(schema.begin(), schema.end(),
                        [&](const SchemaColumn& c) { return EqualsIgnoringCase(c.name, column); });
    }
    if (it == schema.end() || !it->physical_name) {
      return tl::unexpected(Verify(
          "Delta table " + snapshot->root_url + ": partition column " + column +
          (it == schema.end() ? " is not in the schema"
                              : " has no delta.columnMapping.physicalName under column mapping "
                                "mode " +
                                    mode)));
    }
    snapshot->partition_columns.push_back({column, *it->physical_name});
  }
  return {};
}

// The writer features in force: listed from writer version 7, implied before.
std::vector<std::string> WriterFeatures(const Protocol& protocol) {
  if (protocol.min_writer_version >= 7) {
    return protocol.writer_features.value_or(std::vector<std::string>());
  }
  std::vector<std::string> features;
  const int version = protocol.min_writer_version;
  if (version >= 2) features.insert(features.end(), {"appendOnly", "invariants"});
  if (version >= 3) features.push_back("checkConstraints");
  if (version >= 4) features.insert(features.end(), {"changeDataFeed", "generatedColumns"});
  if (version >= 5) features.push_back("columnMapping");
  if (version >= 6) features.push_back("identityColumns");
  return features;
}

bool PropertyTrue(const Metadata& metadata, const std::string& key) {
  const auto it = metadata.configuration.find(key);
  return it != metadata.configuration.end() && EqualsIgnoringCase(it->second, "true");
}

// Why tidemark may not write `feature`, or "" when it may.
std::string WriteRefusal(const Snapshot& snapshot, const std::string& feature, bool restoring) {
  const Metadata& metadata = snapshot.metadata;
  if (feature == "appendOnly") {
    return PropertyTrue(metadata, "delta.appendOnly") ? "it is append-only (delta.appendOnly)" : "";
  }
  if (feature == "invariants") {
    if (!restoring || metadata.schema_string.find("delta.invariants") == std::string::npos) {
      return "";
    }
    return "a column has an invariant (delta.invariants) that files removed earlier may break";
  }
  if (feature == "checkConstraints") {
    for (const auto& [key, value] : metadata.configuration) {
      if (restoring && key.starts_with("delta.constraints.")) {
        return "its CHECK constraint " + key.substr(18) +
               " may be newer than files removed earlier";
      }
    }
    return "";
  }
  if (feature == "icebergCompatV1" || feature == "icebergCompatV2") {
    const std::string property = "delta.enableIcebergCompat" + feature.substr(13);
    if (!restoring || !PropertyTrue(metadata, property)) return "";
    return "Iceberg compatibility (" + property + ") requires numRecords stats in every add";
  }
  if (feature == "inCommitTimestamp") {
    if (!PropertyTrue(metadata, "delta.enableInCommitTimestamps")) return "";
    return "in-commit timestamps are enabled and tidemark does not write them";
  }
  if (feature == "v2Checkpoint") return "it uses V2 checkpoints";
  if (Contains(kCatalogFeatures, feature)) return "its commits must go through its catalog";
  if (Contains(kHarmlessWriterFeatures, feature)) return "";
  return "the writer feature \"" + feature + "\" is unknown to tidemark";
}

}  // namespace

util::Result<Snapshot> ReadSnapshot(store::ObjectStore& store, const std::string& table_prefix,
                                    const SnapshotOptions& options) {
  Snapshot snapshot;
  snapshot.table = table_prefix;
  snapshot.root_url = RootUrl(store, table_prefix);
  const std::string log_dir = store::JoinKey(table_prefix, "_delta_log");
  TM_TRY_ASSIGN(std::vector<store::ObjectInfo> objects, store.List(log_dir));
  const LogListing listing = Classify(std::move(objects), log_dir);
  if (!listing.v2_checkpoints.empty()) {
    return util::ConfigError("Delta table " + snapshot.root_url + " uses V2 checkpoints (" +
                             listing.v2_checkpoints.front() +
                             "), which tidemark cannot read; tidemark cannot read the table");
  }
  TM_TRY_ASSIGN(snapshot.version, TargetVersion(listing, options, snapshot.root_url));
  if (!options.json_only) CheckHint(store, listing, &snapshot);
  Replay replay(snapshot.root_url);
  TM_TRY_ASSIGN(const int64_t from, StartReplay(store, listing, options, &replay, &snapshot));
  TM_TRY(ReplayCommits(store, listing, from, snapshot.version, &replay));
  TM_TRY(replay.Finish(&snapshot));
  TM_TRY(CheckReadable(snapshot));
  TM_TRY(ResolvePartitionColumns(&snapshot));
  if (snapshot.files_with_deletion_vectors > 0) {
    snapshot.notes.push_back(std::to_string(snapshot.files_with_deletion_vectors) +
                             " live files carry deletion vectors: some of their rows are deleted; "
                             "tidemark lists and moves such files whole, with their vectors");
  }
  return snapshot;
}

util::Status CanWrite(const Snapshot& snapshot, WriteKind kind) {
  const Protocol& protocol = snapshot.protocol;
  const auto refuse = [&](const std::string& why) -> util::Status {
    return util::ConfigError("tidemark will not commit to Delta table " + snapshot.root_url + ": " +
                             why);
  };
  if (protocol.min_writer_version > 7) {
    return refuse("it requires writer version " + std::to_string(protocol.min_writer_version) +
                  " (tidemark writes versions up to 7)");
  }
  if (protocol.min_writer_version == 7 && !protocol.writer_features) {
    return refuse("it has writer version 7 but no writerFeatures");
  }
  const bool restoring = kind != WriteKind::kRemove;
  for (const std::string& feature : WriterFeatures(protocol)) {
    const std::string why = WriteRefusal(snapshot, feature, restoring);
    if (!why.empty()) return refuse(why);
  }
  return {};
}

std::string EscapePartitionPathPart(std::string_view text) {
  return util::PercentEncode(text, [](unsigned char byte) {
    static constexpr std::string_view kEscaped = "\"#%'*/:=?\\{[]^";
    return (byte >= 0x01 && byte <= 0x1F) || byte == 0x7F ||
           kEscaped.find(static_cast<char>(byte)) != kEscaped.npos;
  });
}

std::string PartitionName(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& values) {
  std::string name;
  for (const auto& [column, value] : values) {
    if (!name.empty()) name += '/';
    name += EscapePartitionPathPart(column) + "=";
    name +=
        value && !value->empty() ? EscapePartitionPathPart(*value) : "__HIVE_DEFAULT_PARTITION__";
  }
  return name;
}

util::Result<std::vector<Partition>> Partitions(const Snapshot& snapshot) {
  std::vector<Partition> partitions;
  std::unordered_map<std::string, size_t> index;
  std::vector<std::pair<std::string, std::optional<std::string>>> values;
  size_t last = 0;  // files sorted by key mostly follow their partitions: reuse the last
  for (const LiveFile& file : snapshot.files) {
    if (file.outside_root) {
      return util::ConfigError("Delta table " + snapshot.root_url + " holds the file " + file.key +
                               ", outside the table root; tidemark cannot manage its partitions");
    }
    values.clear();
    for (const PartitionColumn& column : snapshot.partition_columns) {
      const auto it = file.add.partition_values.find(column.physical);
      const bool null = it == file.add.partition_values.end() || !it->second || it->second->empty();
      values.emplace_back(column.logical, null ? std::nullopt : it->second);
    }
    if (partitions.empty() || partitions[last].values != values) {
      std::string name = PartitionName(values);
      const auto [slot, inserted] = index.try_emplace(name, partitions.size());
      if (inserted) partitions.push_back({std::move(name), values, {}, 0, 0});
      last = slot->second;
    }
    Partition& partition = partitions[last];
    if (partition.files.empty()) {
      partition.newest_modification_time = file.add.modification_time;
    }
    partition.newest_modification_time =
        std::max(partition.newest_modification_time, file.add.modification_time);
    partition.files.push_back(file.key);
    partition.total_bytes += file.add.size;
  }
  std::sort(partitions.begin(), partitions.end(),
            [](const Partition& a, const Partition& b) { return a.name < b.name; });
  return partitions;
}

}  // namespace tidemark::backend::lake::delta
