#include "tidemark/backend/lake/delta_table.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "tidemark/archive/tree_copy.h"
#include "tidemark/backend/lake/delta_snapshot.h"
#include "tidemark/backend/lake/lake_backend.h"
#include "tidemark/store/local_store.h"
#include "tidemark/util/failpoint.h"
#include "tidemark/util/strings.h"
#include "tidemark/util/time.h"

namespace tidemark::backend::lake {

namespace {

using core::Step;
using Json = nlohmann::json;

constexpr char kRecordFormat[] = "tidemark-delta-removed/1";
constexpr int kCommitAttempts = 10;
constexpr int64_t kDefaultRetentionSeconds = 7 * 86400;  // Delta's default: 1 week

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string CommitKey(int64_t version) {
  char name[40];
  std::snprintf(name, sizeof name, "_delta_log/%020lld.json", static_cast<long long>(version));
  return name;
}

std::string RecordKey(const std::string& bin) { return store::JoinKey(bin, kDeltaRecordName); }

std::string AppId(const std::string& run_id, const Step& step) {
  return "tidemark/" + run_id + "/" + step.id;
}

// What a removal remembers: the `add` actions of the files it removed.
struct Record {
  std::string app_id;
  int64_t table_version = 0;  // the version the removal was planned on
  std::vector<delta::AddFile> adds;
  std::vector<std::string> keys;  // the files' store keys, in the order of `adds`
};

std::string RecordJson(const Record& record) {
  Json adds = Json::array();
  for (const delta::AddFile& add : record.adds) adds.push_back(Json::parse(SerializeAction(add)));
  Json json = {{"format", kRecordFormat},
               {"app_id", record.app_id},
               {"table_version", record.table_version},
               {"adds", adds}};
  return json.dump(1) + "\n";
}

util::Result<std::optional<Record>> ReadRecord(store::ObjectStore& store, const std::string& bin) {
  const std::string key = RecordKey(bin);
  TM_TRY_ASSIGN(auto info, store.Stat(key));
  if (!info) return std::optional<Record>();
  TM_TRY_ASSIGN(std::string text, archive::ReadText({&store, ""}, key));
  const std::string what = store.url() + "/" + key;
  Json json = Json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object() || json.value("format", "") != kRecordFormat ||
      !json.contains("adds") || !json["adds"].is_array()) {
    return util::Fail(util::ErrorCategory::kVerify,
                      what + " is not a removal record tidemark can read");
  }
  Record record;
  record.app_id = json.value("app_id", "");
  record.table_version = json.value("table_version", int64_t{0});
  std::string lines;
  for (const Json& add : json["adds"]) lines += add.dump() + "\n";
  TM_TRY_ASSIGN(delta::CommitActions actions, delta::ParseCommit(lines, what));
  record.adds = std::move(actions.adds);
  for (const delta::AddFile& add : record.adds) {
    TM_TRY_ASSIGN(std::string file, delta::DecodeLogPath(add.path, store.url()));
    record.keys.push_back(std::move(file));
  }
  return std::optional<Record>(std::move(record));
}

// The live file with this key, or nullptr.
const delta::LiveFile* FindLive(const delta::Snapshot& snapshot, const std::string& key) {
  auto it = std::lower_bound(
      snapshot.files.begin(), snapshot.files.end(), key,
      [](const delta::LiveFile& file, const std::string& wanted) { return file.key < wanted; });
  return it != snapshot.files.end() && it->key == key ? &*it : nullptr;
}

size_t CountLive(const delta::Snapshot& snapshot, const std::vector<std::string>& keys) {
  size_t live = 0;
  for (const std::string& key : keys) live += FindLive(snapshot, key) != nullptr;
  return live;
}

// "event_date = '2024-01-02' AND region IS NULL": the partition as Spark's DELETE
// predicate reads.
std::string Predicate(const delta::Partition& partition) {
  std::string text;
  for (const auto& [column, value] : partition.values) {
    if (!text.empty()) text += " AND ";
    text += column;
    if (!value) {
      text += " IS NULL";
      continue;
    }
    std::string quoted;
    for (char c : *value) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    text += " = '" + quoted + "'";
  }
  return text;
}

// Commits what `build` makes of the newest snapshot, only if that version is still
// free; when another writer took it, builds again on the newer snapshot. `build`
// returns nullopt when there is nothing to commit. A snapshot that already holds
// `app_id`'s transaction means the commit happened before (a rerun): nothing is done.
using BuildCommit =
    std::function<util::Result<std::optional<delta::CommitToWrite>>(const delta::Snapshot&)>;

// Commits of one process to one table take turns: the steps of a run that commit to
// the same table (hides of several partitions) would otherwise race for each version.
// Other tidemark processes are kept out by the dataset's lock. The first commit of
// the process also removes what a crashed one left: temporaries of its commit files.
std::mutex& TableTurn(store::ObjectStore& table) {
  static std::mutex guard;
  static std::map<std::string, std::unique_ptr<std::mutex>> turns;
  std::lock_guard<std::mutex> lock(guard);
  auto& turn = turns[table.url()];
  if (!turn) turn = std::make_unique<std::mutex>();
  return *turn;
}

util::Status RemoveCrashedTemporaries(store::ObjectStore& table) {
  static std::mutex guard;
  static std::set<std::string> cleaned;
  {
    std::lock_guard<std::mutex> lock(guard);
    if (!cleaned.insert(table.url()).second) return {};
  }
  TM_TRY_ASSIGN(auto listed, table.List("_delta_log"));
  for (const store::ObjectInfo& object : listed) {
    if (store::IsTemporaryKey(object.key)) TM_TRY(table.Delete(object.key));
  }
  return {};
}

util::Status CommitOnce(store::ObjectStore& table, const std::string& app_id,
                        const BuildCommit& build) {
  std::lock_guard<std::mutex> turn(TableTurn(table));
  TM_TRY(RemoveCrashedTemporaries(table));
  for (int attempt = 1; attempt <= kCommitAttempts; ++attempt) {
    TM_TRY_ASSIGN(delta::Snapshot snapshot, delta::ReadSnapshot(table, ""));
    if (snapshot.txns.count(app_id) != 0) return {};
    TM_TRY_ASSIGN(auto commit, build(snapshot));
    if (!commit) return {};
    commit->txn = delta::Transaction{app_id, snapshot.version + 1, NowMs()};
    TM_TRY_ASSIGN(std::string text, delta::SerializeActions(*commit));
    TM_TRY_ASSIGN(bool written, table.PutIfAbsent(CommitKey(snapshot.version + 1), text));
    if (written) return {};
  }
  return util::Fail(util::ErrorCategory::kStep,
                    "the Delta table " + table.url() + " got " + std::to_string(kCommitAttempts) +
                        " commits from other writers while tidemark tried to commit; apply again",
                    true);
}

util::Result<delta::Partition> FindPartition(const delta::Snapshot& snapshot,
                                             const std::string& name) {
  TM_TRY_ASSIGN(auto partitions, delta::Partitions(snapshot));
  for (delta::Partition& partition : partitions) {
    if (partition.name == name) return std::move(partition);
  }
  return delta::Partition{};
}

// Parses Delta's interval text ("interval 7 days", "interval 1 week", "168 hours").
std::optional<int64_t> ParseInterval(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const size_t first = text.find_first_not_of(' ');
  text = first == std::string::npos ? "" : text.substr(first);
  if (util::StartsWith(text, "interval ")) text = text.substr(9);
  int64_t total = 0;
  bool any = false;
  for (size_t at = 0; at < text.size();) {
    while (at < text.size() && text[at] == ' ') ++at;
    size_t digits = at;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
    if (digits == at || digits - at > 12) return std::nullopt;
    const int64_t n = std::stoll(text.substr(at, digits - at));
    at = digits;
    while (at < text.size() && text[at] == ' ') ++at;
    size_t end = at;
    while (end < text.size() && std::isalpha(static_cast<unsigned char>(text[end]))) ++end;
    std::string unit = text.substr(at, end - at);
    if (!unit.empty() && unit.back() == 's') unit.pop_back();
    static const std::pair<const char*, int64_t> kUnits[] = {
        {"week", 604800}, {"day", 86400},     {"hour", 3600},    {"minute", 60},
        {"second", 1},    {"millisecond", 0}, {"microsecond", 0}};
    bool known = false;
    for (const auto& [name, seconds] : kUnits) {
      if (unit == name) {
        total += n * seconds;
        known = true;
      }
    }
    if (!known) return std::nullopt;
    any = true;
    at = end;
  }
  if (!any) return std::nullopt;
  return total;
}

}  // namespace

util::Status ObserveDeltaTable(store::ObjectStore& store, const HiveKeys& keys,
                               const util::TimeZone& zone, core::ObservedStorage& observed) {
  observed.layout = "delta";
  TM_TRY_ASSIGN(bool has_log, store.Exists("_delta_log"));
  if (!has_log) {
    observed.exists = false;
    observed.notes.push_back(observed.location + " has no _delta_log yet");
    return {};
  }
  TM_TRY_ASSIGN(delta::Snapshot snapshot, delta::ReadSnapshot(store, ""));
  for (const std::string& note : snapshot.notes) observed.notes.push_back(note);
  observed.keep_removed_seconds = kDefaultRetentionSeconds;
  auto retention = snapshot.metadata.configuration.find("delta.deletedFileRetentionDuration");
  if (retention != snapshot.metadata.configuration.end()) {
    auto seconds = ParseInterval(retention->second);
    if (!seconds) {
      return util::ConfigError(
          "the Delta table " + observed.location +
          " has a delta.deletedFileRetentionDuration tidemark cannot read (\"" + retention->second +
          "\")");
    }
    observed.keep_removed_seconds = *seconds;
  }
  TM_TRY_ASSIGN(auto partitions, delta::Partitions(snapshot));
  for (const delta::Partition& group : partitions) {
    core::Partition partition;
    partition.name = group.name;
    partition.bytes = group.total_bytes;
    partition.files = static_cast<int64_t>(group.files.size());
    partition.newest_change =
        util::Instant(std::chrono::seconds(group.newest_modification_time / 1000));
    partition.range = ReadPartitionTime(group.name, keys, zone, &partition.problem);
    if (!partition.range) {
      partition.state = core::PartitionState::kUnparsed;
      observed.notes.push_back("partition " + group.name + " " + partition.problem +
                               "; left alone");
    }
    observed.partitions.push_back(std::move(partition));
  }
  // The bin: one removal record per entry, whose files the table no longer holds.
  TM_TRY_ASSIGN(auto listed, store.List(kRecycleDir));
  for (const store::ObjectInfo& object : listed) {
    if (!util::EndsWith(object.key, std::string("/") + kDeltaRecordName)) continue;
    const std::string entry = object.key.substr(0, object.key.size() - sizeof kDeltaRecordName);
    const std::string rest = entry.substr(std::string(kRecycleDir).size() + 1);
    const size_t slash = rest.find('/');
    if (slash == std::string::npos) continue;
    auto removed_at = ParseBinStamp(rest.substr(0, slash));
    TM_TRY_ASSIGN(auto record, ReadRecord(store, entry));
    if (!removed_at || !record) {
      observed.notes.push_back("recycle bin entry " + entry + " has no readable time; left alone");
      continue;
    }
    if (CountLive(snapshot, record->keys) != 0) {
      observed.notes.push_back("recycle bin entry " + entry +
                               " names files the table still holds: a removal or restore that "
                               "did not finish; apply or restore again");
      continue;
    }
    core::BinEntry bin;
    bin.partition = rest.substr(slash + 1);
    bin.entry = entry;
    bin.removed_at = *removed_at;
    for (const delta::AddFile& add : record->adds) bin.bytes += add.size;
    bin.files = static_cast<int64_t>(record->adds.size());
    std::string problem;
    bin.range = ReadPartitionTime(bin.partition, keys, zone, &problem);
    observed.bin.push_back(std::move(bin));
  }
  return {};
}

util::Status HideDeltaPartition(store::ObjectStore& table, const Step& step,
                                const std::string& run_id) {
  const std::string bin = step.Param("bin");
  const std::string app_id = AppId(run_id, step);
  util::Status committed = CommitOnce(
      table, app_id,
      [&](const delta::Snapshot& snapshot) -> util::Result<std::optional<delta::CommitToWrite>> {
        TM_TRY(delta::CanWrite(snapshot, delta::WriteKind::kRemoveAndRestore));
        TM_TRY_ASSIGN(delta::Partition partition, FindPartition(snapshot, step.partition));
        if (partition.files.empty()) {
          return util::StepError("partition " + step.partition + " of the Delta table " +
                                 table.url() + " has no live files at version " +
                                 std::to_string(snapshot.version) +
                                 "; another writer removed it, or it never existed");
        }
        Record record{app_id, snapshot.version, {}, {}};
        delta::CommitToWrite commit;
        commit.commit_info.timestamp_ms = NowMs();
        commit.commit_info.operation = "DELETE";
        commit.commit_info.predicates = {Predicate(partition)};
        for (const std::string& key : partition.files) {
          const delta::LiveFile* live = FindLive(snapshot, key);
          if (live == nullptr) continue;
          if (live->add.deletion_vector && live->add.deletion_vector->storage_type != "i") {
            return util::StepError(
                "partition " + step.partition + " of " + table.url() + ": " + key +
                " has a deletion vector in a file of its own; tidemark does not archive "
                "deletion vectors yet. Run OPTIMIZE (or REORG … APPLY (PURGE)) on the "
                "partition first");
          }
          record.adds.push_back(live->add);
          record.keys.push_back(key);
          commit.removes.push_back(
              delta::RemoveForDelete(live->add, commit.commit_info.timestamp_ms));
        }
        // The record goes first: a crash after the commit must not lose what it removed.
        TM_TRY_ASSIGN(auto writer, table.OpenWrite(RecordKey(bin)));
        const std::string text = RecordJson(record);
        TM_TRY(writer->Write(text.data(), text.size()));
        TM_TRY(writer->Commit(NowMs() * 1000000));
        util::Failpoint("delta.recorded");
        return std::optional<delta::CommitToWrite>(std::move(commit));
      });
  // A refusal (the table or the store cannot take the commit) wrote nothing to the log:
  // the record of a removal that never happened goes too.
  if (!committed && committed.error().category() == util::ErrorCategory::kConfig)
    (void)table.Delete(RecordKey(bin));
  return committed;
}

namespace {

// The files of a removal as a tree location: the data files and the record.
struct RemovedFiles {
  Record record;
  std::vector<std::string> keys;
};

util::Result<RemovedFiles> LoadRemoved(store::ObjectStore& table, const Step& step) {
  const std::string bin = step.Param("bin");
  TM_TRY_ASSIGN(auto record, ReadRecord(table, bin));
  if (!record) {
    return util::StepError("no removal record at " + table.url() + "/" + RecordKey(bin) +
                           ": the partition was not removed by tidemark, or was purged");
  }
  RemovedFiles removed{std::move(*record), {}};
  removed.keys = removed.record.keys;
  removed.keys.push_back(RecordKey(bin));
  return removed;
}

}  // namespace

util::Status CopyDeltaToArchive(store::ObjectStore& table, store::ObjectStore& archive,
                                const Step& step, const archive::Manifest& header,
                                util::Progress& progress) {
  TM_TRY_ASSIGN(RemovedFiles removed, LoadRemoved(table, step));
  archive::TreeLocation from{&table, "", &removed.keys};
  archive::TreeLocation to{&archive, ""};
  TM_TRY(archive::CopyToArchive(from, to, header, progress));
  return {};
}

util::Status VerifyDeltaArchive(store::ObjectStore& table, store::ObjectStore& archive,
                                const Step& step, util::Progress& progress) {
  TM_TRY_ASSIGN(RemovedFiles removed, LoadRemoved(table, step));
  archive::TreeLocation from{&table, "", &removed.keys};
  archive::TreeLocation to{&archive, ""};
  TM_TRY(archive::VerifyArchive(to, &from, progress));
  return {};
}

util::Status PurgeDeltaFiles(store::ObjectStore& table, const Step& step) {
  const std::string bin = step.Param("bin");
  TM_TRY_ASSIGN(auto record, ReadRecord(table, bin));
  if (!record) return {};  // purged before
  TM_TRY_ASSIGN(delta::Snapshot snapshot, delta::ReadSnapshot(table, ""));
  if (CountLive(snapshot, record->keys) != 0) {
    return util::StepError("refusing to purge " + bin + ": the Delta table " + table.url() +
                           " holds its files again (a restore committed them)");
  }
  TM_TRY(table.DeleteMany(record->keys));
  util::Failpoint("delta.files_deleted");
  TM_TRY(table.Delete(RecordKey(bin)));
  return table.PruneEmpty("_tidemark");
}

namespace {

// Commits the record's files again (those not live), then deletes the record.
util::Status CommitRestore(store::ObjectStore& table, const Step& step, const std::string& bin,
                           const Record& record, const std::string& run_id) {
  for (size_t i = 0; i < record.keys.size(); ++i) {
    TM_TRY_ASSIGN(auto info, table.Stat(record.keys[i]));
    if (!info || info->size != record.adds[i].size) {
      return util::StepError("cannot restore " + step.partition + " into " + table.url() + ": " +
                             record.keys[i] + " is " + (info ? "of another size" : "gone") +
                             " (purged or vacuumed); restore from the archive");
    }
  }
  TM_TRY(CommitOnce(
      table, AppId(run_id, step),
      [&](const delta::Snapshot& snapshot) -> util::Result<std::optional<delta::CommitToWrite>> {
        TM_TRY(delta::CanWrite(snapshot, delta::WriteKind::kRestore));
        delta::CommitToWrite commit;
        commit.commit_info.timestamp_ms = NowMs();
        commit.commit_info.operation = "WRITE";
        for (const delta::PartitionColumn& column : snapshot.partition_columns)
          commit.commit_info.partition_by.push_back(column.logical);
        for (size_t i = 0; i < record.keys.size(); ++i) {
          if (FindLive(snapshot, record.keys[i]) == nullptr)
            commit.adds.push_back(delta::AddForRestore(record.adds[i]));
        }
        if (commit.adds.empty()) return std::optional<delta::CommitToWrite>();
        return std::optional<delta::CommitToWrite>(std::move(commit));
      }));
  util::Failpoint("delta.restored");
  TM_TRY(table.Delete(RecordKey(bin)));
  return table.PruneEmpty("_tidemark");
}

}  // namespace

util::Status RestoreDeltaFromBin(store::ObjectStore& table, const Step& step,
                                 const std::string& run_id) {
  const std::string bin = step.Param("bin");
  TM_TRY_ASSIGN(auto record, ReadRecord(table, bin));
  if (!record) {
    TM_TRY_ASSIGN(delta::Snapshot snapshot, delta::ReadSnapshot(table, ""));
    if (snapshot.txns.count(AppId(run_id, step)) != 0) return {};  // done before
    return util::StepError("recycle bin entry " + bin + " of " + table.url() +
                           " is gone; restore from the archive");
  }
  return CommitRestore(table, step, bin, *record, run_id);
}

util::Status RestoreDeltaFromArchive(store::ObjectStore& table, store::ObjectStore& archive,
                                     const Step& step, const std::string& run_id,
                                     util::Progress& progress) {
  archive::TreeLocation from{&archive, ""};
  TM_TRY_ASSIGN(archive::Manifest manifest, archive::ReadManifest(from));
  std::string record_key;
  std::vector<std::string> keys;
  for (const archive::ManifestFile& file : manifest.files) {
    keys.push_back(file.path);
    if (util::StartsWith(file.path, std::string(kRecycleDir) + "/") &&
        util::EndsWith(file.path, std::string("/") + kDeltaRecordName)) {
      record_key = file.path;
    }
  }
  if (record_key.empty()) {
    return util::Fail(util::ErrorCategory::kVerify,
                      "the archive " + archive.url() +
                          " holds no Delta removal record; it is not the archive of a Delta "
                          "partition");
  }
  const std::string bin = record_key.substr(0, record_key.size() - sizeof kDeltaRecordName);
  TM_TRY_ASSIGN(auto info, table.Stat(record_key));
  if (!info) {
    TM_TRY_ASSIGN(delta::Snapshot snapshot, delta::ReadSnapshot(table, ""));
    if (snapshot.txns.count(AppId(run_id, step)) != 0) return {};  // done before
  }
  // The files go back to their paths in the table (each checked against its sha256 as
  // it is read), the record with them; then the files are committed as on a restore
  // from the bin.
  archive::TreeLocation to{&table, "", &keys};
  TM_TRY(archive::CopyFromArchive(from, to, progress));
  TM_TRY_ASSIGN(auto record, ReadRecord(table, bin));
  if (!record) return util::StepError("the removal record " + record_key + " did not arrive");
  return CommitRestore(table, step, bin, *record, run_id);
}

util::Status DeltaStepHolds(store::ObjectStore& table, const Step& step) {
  const std::string& a = step.action;
  if (a == core::action::kHidePartition || a == core::action::kPurgeRecycled) {
    TM_TRY_ASSIGN(auto record, ReadRecord(table, step.Param("bin")));
    if (a == core::action::kPurgeRecycled) {
      if (record) {
        return util::Fail(util::ErrorCategory::kVerify,
                          step.Param("bin") + " is still in the recycle bin");
      }
      return {};
    }
    TM_TRY_ASSIGN(delta::Snapshot snapshot, delta::ReadSnapshot(table, ""));
    TM_TRY_ASSIGN(delta::Partition partition, FindPartition(snapshot, step.partition));
    if (!partition.files.empty() || !record) {
      return util::Fail(util::ErrorCategory::kVerify,
                        step.partition + " is still in the Delta table " + table.url());
    }
    return {};
  }
  TM_TRY_ASSIGN(delta::Snapshot snapshot, delta::ReadSnapshot(table, ""));
  TM_TRY_ASSIGN(delta::Partition partition, FindPartition(snapshot, step.partition));
  if (partition.files.empty()) {
    return util::Fail(util::ErrorCategory::kVerify,
                      step.partition + " is not in the Delta table " + table.url());
  }
  return {};
}

}  // namespace tidemark::backend::lake
