#include <cerrno>
#include <fstream>
#include <sstream>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tidemark/state/postgres_state_store.h"
#include "tidemark/state/sqlite_database.h"
#include "tidemark/state/state_store.h"
#include "tidemark/util/strings.h"

namespace tidemark::state {

namespace {

// The schema, one migration per version. Append only: never edit a released one.
const char* const kMigrations[] = {
    // 1: journal and locks.
    "CREATE TABLE runs (run_id TEXT PRIMARY KEY, dataset TEXT NOT NULL, kind TEXT NOT NULL,"
    "  run_file TEXT NOT NULL, started_at INTEGER NOT NULL, finished_at INTEGER,"
    "  status TEXT NOT NULL);"
    "CREATE INDEX runs_by_dataset ON runs(dataset, started_at);"
    "CREATE TABLE steps (run_id TEXT NOT NULL REFERENCES runs(run_id), step_id TEXT NOT NULL,"
    "  status TEXT NOT NULL, message TEXT NOT NULL DEFAULT '', at INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (run_id, step_id));"
    "CREATE TABLE locks (dataset TEXT PRIMARY KEY, run_id TEXT NOT NULL, host TEXT NOT NULL,"
    "  pid INTEGER NOT NULL, pid_start INTEGER NOT NULL, acquired_at INTEGER NOT NULL);",
    // 2: restore holds and verified archives.
    "CREATE TABLE holds (dataset TEXT NOT NULL, lifecycle TEXT NOT NULL, storage TEXT NOT NULL,"
    "  partition_name TEXT NOT NULL, until INTEGER NOT NULL,"
    "  PRIMARY KEY (dataset, lifecycle, storage, partition_name));"
    "CREATE TABLE archives (dataset TEXT NOT NULL, lifecycle TEXT NOT NULL, storage TEXT NOT NULL,"
    "  partition_name TEXT NOT NULL, location TEXT NOT NULL, range_start INTEGER,"
    "  range_end INTEGER, bytes INTEGER NOT NULL, files INTEGER NOT NULL,"
    "  archived_at INTEGER NOT NULL, PRIMARY KEY (dataset, lifecycle, storage, partition_name));",
    // 3: which recycle bin entry an archive was verified against.
    "ALTER TABLE archives ADD COLUMN source_entry TEXT NOT NULL DEFAULT '';",
};
constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

int64_t Seconds(util::Instant t) { return t.time_since_epoch().count(); }
util::Instant FromSeconds(int64_t s) { return util::Instant(std::chrono::seconds(s)); }

std::string HostName() {
  char name[256] = {0};
  gethostname(name, sizeof name - 1);
  return name;
}

int64_t ProcessStart(int64_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return std::stoll(field);
  }
  return 0;
}

util::Status MakeParentDirectories(const std::string& path) {
  std::string dir;
  for (const std::string& part : util::Split(path.substr(0, path.rfind('/')), '/')) {
    dir += part + "/";
    if (part.empty()) continue;
    if (mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) {
      return util::Fail(util::ErrorCategory::kConnect,
                        "cannot create " + dir + " for the state store");
    }
  }
  return {};
}

class SqliteStateStore : public StateStore {
 public:
  explicit SqliteStateStore(std::unique_ptr<Database> db) : db_(std::move(db)) {}

  util::Status Migrate() {
    TM_TRY(
        db_->Execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)"));
    TM_TRY(db_->Execute("BEGIN IMMEDIATE"));
    auto status = ApplyMissing();
    TM_TRY(db_->Execute(status ? "COMMIT" : "ROLLBACK"));
    return status;
  }

  util::Status InTransaction(const std::function<util::Status()>& work) override {
    TM_TRY(db_->Execute("BEGIN IMMEDIATE"));
    auto status = work();
    TM_TRY(db_->Execute(status ? "COMMIT" : "ROLLBACK"));
    return status;
  }

  int SchemaVersion() override {
    auto rows = db_->Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    return rows && !rows->empty() ? static_cast<int>(AsInt((*rows)[0][0])) : 0;
  }

  util::Status BeginRun(const RunRecord& run) override {
    return Run(
        "INSERT INTO runs (run_id, dataset, kind, run_file, started_at, status)"
        " VALUES (?1, ?2, ?3, ?4, ?5, 'running')"
        " ON CONFLICT(run_id) DO UPDATE SET status = 'running', finished_at = NULL",
        {run.run_id, run.dataset, run.kind, run.run_file, Seconds(run.started_at)});
  }

  util::Status FinishRun(const std::string& run_id, const std::string& status) override {
    return Run("UPDATE runs SET status = ?2, finished_at = ?3 WHERE run_id = ?1",
               {run_id, status, Seconds(util::Now())});
  }

  util::Result<std::vector<RunRecord>> Runs(const std::string& dataset, int limit) override {
    TM_TRY_ASSIGN(auto rows, db_->Query("SELECT run_id, dataset, kind, run_file, started_at, status"
                                        " FROM runs WHERE dataset = ?1"
                                        " ORDER BY started_at DESC LIMIT ?2",
                                        {dataset, int64_t{limit}}));
    std::vector<RunRecord> runs;
    for (const Row& r : rows) {
      runs.push_back({AsText(r[0]), AsText(r[1]), AsText(r[2]), AsText(r[3]),
                      FromSeconds(AsInt(r[4])), AsText(r[5])});
    }
    return runs;
  }

  util::Status RecordStep(const std::string& run_id, const std::string& step_id,
                          const std::string& status, const std::string& message) override {
    const int64_t attempt = 1;  // each record closes one attempt
    return Run(
        "INSERT INTO steps (run_id, step_id, status, message, at, attempts)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        " ON CONFLICT(run_id, step_id) DO UPDATE SET status = ?3, message = ?4, at = ?5,"
        " attempts = attempts + ?6",
        {run_id, step_id, status, message, Seconds(util::Now()), attempt});
  }

  util::Result<std::vector<StepRecord>> Steps(const std::string& run_id) override {
    TM_TRY_ASSIGN(auto rows, db_->Query("SELECT run_id, step_id, status, message, at, attempts"
                                        " FROM steps WHERE run_id = ?1",
                                        {run_id}));
    std::vector<StepRecord> steps;
    for (const Row& r : rows) {
      steps.push_back({AsText(r[0]), AsText(r[1]), AsText(r[2]), AsText(r[3]),
                       FromSeconds(AsInt(r[4])), AsInt(r[5])});
    }
    return steps;
  }

  util::Result<std::set<std::string>> DoneSteps(const std::string& run_id) override {
    TM_TRY_ASSIGN(
        auto rows,
        db_->Query("SELECT step_id FROM steps WHERE run_id = ?1 AND status = 'done'", {run_id}));
    std::set<std::string> done;
    for (const Row& r : rows) done.insert(AsText(r[0]));
    return done;
  }

  util::Status AcquireLock(const std::string& dataset, const LockHolder& holder) override {
    TM_TRY(db_->Execute("BEGIN IMMEDIATE"));
    auto status = AcquireInTransaction(dataset, holder);
    TM_TRY(db_->Execute(status ? "COMMIT" : "ROLLBACK"));
    return status;
  }

  util::Status ReleaseLock(const std::string& dataset, const std::string& run_id) override {
    return Run("DELETE FROM locks WHERE dataset = ?1 AND run_id = ?2", {dataset, run_id});
  }

  util::Status AddHold(const std::string& dataset, const core::Hold& hold) override {
    return Run(
        "INSERT INTO holds (dataset, lifecycle, storage, partition_name, until)"
        " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET until = ?5",
        {dataset, hold.lifecycle, hold.storage, hold.partition, Seconds(hold.until)});
  }

  util::Result<std::vector<core::Hold>> Holds(const std::string& dataset) override {
    TM_TRY_ASSIGN(auto holds, ReadHolds(&dataset));
    return std::move(holds[dataset]);
  }

  util::Result<std::map<std::string, std::vector<core::Hold>>> AllHolds() override {
    return ReadHolds(nullptr);
  }

  util::Status RecordArchive(const std::string& dataset,
                             const core::ArchivedPartition& a) override {
    Value start = nullptr, end = nullptr;
    if (a.range) {
      start = Seconds(a.range->start);
      end = Seconds(a.range->end);
    }
    return Run(
        "INSERT INTO archives (dataset, lifecycle, storage, partition_name, location,"
        " range_start, range_end, bytes, files, archived_at, source_entry)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT DO UPDATE SET"
        " location = ?5, range_start = ?6, range_end = ?7, bytes = ?8, files = ?9,"
        " archived_at = ?10, source_entry = ?11",
        {dataset, a.lifecycle, a.storage, a.partition, a.location, start, end, a.bytes, a.files,
         Seconds(a.archived_at), a.source_entry});
  }

  util::Result<std::vector<core::ArchivedPartition>> Archives(const std::string& dataset) override {
    TM_TRY_ASSIGN(auto archives, ReadArchives(&dataset));
    return std::move(archives[dataset]);
  }

  util::Result<std::map<std::string, std::vector<core::ArchivedPartition>>> AllArchives() override {
    return ReadArchives(nullptr);
  }

 private:
  // The records of one dataset, or of all when `dataset` is null.
  util::Result<std::map<std::string, std::vector<core::Hold>>> ReadHolds(
      const std::string* dataset) {
    std::vector<Value> params;
    if (dataset != nullptr) params.push_back(*dataset);
    TM_TRY_ASSIGN(auto rows, db_->Query(std::string("SELECT dataset, lifecycle, storage,"
                                                    " partition_name, until FROM holds") +
                                            (dataset != nullptr ? " WHERE dataset = ?1" : ""),
                                        params));
    std::map<std::string, std::vector<core::Hold>> holds;
    for (const Row& r : rows) {
      holds[AsText(r[0])].push_back(
          {AsText(r[1]), AsText(r[2]), AsText(r[3]), FromSeconds(AsInt(r[4]))});
    }
    return holds;
  }

  util::Result<std::map<std::string, std::vector<core::ArchivedPartition>>> ReadArchives(
      const std::string* dataset) {
    std::vector<Value> params;
    if (dataset != nullptr) params.push_back(*dataset);
    TM_TRY_ASSIGN(auto rows,
                  db_->Query(std::string("SELECT dataset, lifecycle, storage, partition_name,"
                                         " location, range_start, range_end, bytes, files,"
                                         " archived_at, source_entry FROM archives") +
                                 (dataset != nullptr ? " WHERE dataset = ?1" : "") +
                                 " ORDER BY dataset, range_start, partition_name",
                             params));
    std::map<std::string, std::vector<core::ArchivedPartition>> archives;
    for (const Row& r : rows) {
      core::ArchivedPartition a{AsText(r[1]), AsText(r[2]), AsText(r[3]), AsText(r[4])};
      if (!std::holds_alternative<std::nullptr_t>(r[5])) {
        a.range = core::TimeRange{FromSeconds(AsInt(r[5])), FromSeconds(AsInt(r[6]))};
      }
      a.bytes = AsInt(r[7]);
      a.files = AsInt(r[8]);
      a.archived_at = FromSeconds(AsInt(r[9]));
      a.source_entry = AsText(r[10]);
      archives[AsText(r[0])].push_back(std::move(a));
    }
    return archives;
  }

  util::Status Run(const std::string& sql, const std::vector<Value>& params) {
    TM_TRY(db_->Query(sql, params));
    return {};
  }

  util::Status ApplyMissing() {
    int current = SchemaVersion();
    if (current > kSchemaVersion) {
      return util::Fail(util::ErrorCategory::kConfig,
                        "the state store has schema version " + std::to_string(current) +
                            ", written by a newer tidemark (this one knows " +
                            std::to_string(kSchemaVersion) + "); upgrade tidemark");
    }
    for (int version = current + 1; version <= kSchemaVersion; ++version) {
      TM_TRY(db_->Execute(kMigrations[version - 1]));
      TM_TRY(Run("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                 {int64_t{version}, Seconds(util::Now())}));
    }
    return {};
  }

  util::Status AcquireInTransaction(const std::string& dataset, const LockHolder& holder) {
    TM_TRY_ASSIGN(auto rows,
                  db_->Query("SELECT run_id, host, pid, pid_start, acquired_at FROM locks"
                             " WHERE dataset = ?1",
                             {dataset}));
    if (!rows.empty()) {
      LockHolder other{AsText(rows[0][0]), AsText(rows[0][1]), AsInt(rows[0][2]), AsInt(rows[0][3]),
                       FromSeconds(AsInt(rows[0][4]))};
      if (HolderAlive(other)) {
        return util::Fail(util::ErrorCategory::kConflict,
                          "dataset " + dataset + " is locked by run " + other.run_id + " (pid " +
                              std::to_string(other.pid) + " on " + other.host + ", since " +
                              util::FormatInstant(other.acquired_at) +
                              "); wait for it to finish, then apply again");
      }
    }
    return Run(
        "INSERT OR REPLACE INTO locks (dataset, run_id, host, pid, pid_start, acquired_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        {dataset, holder.run_id, holder.host, holder.pid, holder.pid_start,
         Seconds(holder.acquired_at)});
  }

  std::unique_ptr<Database> db_;
};

}  // namespace

LockHolder ThisProcess(const std::string& run_id) {
  int64_t pid = getpid();
  return LockHolder{run_id, HostName(), pid, ProcessStart(pid), util::Now()};
}

bool HolderAlive(const LockHolder& holder) {
  if (holder.host != HostName()) return true;  // cannot tell; assume it runs
  if (kill(static_cast<pid_t>(holder.pid), 0) != 0 && errno != EPERM) return false;
  return ProcessStart(holder.pid) == holder.pid_start;
}

util::Result<std::unique_ptr<StateStore>> OpenStateStore(const std::string& url,
                                                         const std::string& base_dir) {
  if (IsPostgresStateUrl(url)) return OpenPostgresStateStore(url);
  if (!util::StartsWith(url, "sqlite:")) {
    return util::ConfigError("state \"" + url +
                             "\": this build keeps state in SQLite or PostgreSQL only; "
                             "write state: sqlite:PATH or state: postgres://USER@HOST/DATABASE");
  }
  std::string path = url.substr(7);
  if (path.empty()) return util::ConfigError("state \"" + url + "\" names no file");
  if (path[0] != '/') path = base_dir + "/" + path;
  TM_TRY(MakeParentDirectories(path));
  TM_TRY_ASSIGN(auto db, Database::Open(path));
  auto store = std::make_unique<SqliteStateStore>(std::move(db));
  TM_TRY(store->Migrate());
  return std::unique_ptr<StateStore>(std::move(store));
}

}  // namespace tidemark::state
