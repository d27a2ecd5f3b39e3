#include "tidemark/state/postgres_state_store.h"

#include <chrono>
#include <cstdlib>
#include <map>
#include <thread>
#include <utility>
#include <vector>

#include "tidemark/sql/pq_connection.h"
#include "tidemark/util/sha256.h"
#include "tidemark/util/strings.h"

namespace tidemark::state {

namespace {

using sql::PqParams;
using sql::PqRows;

// The schema, one migration per version, with the SQLite store's version numbers.
// Append only: never edit a released one.
const char* const kMigrations[] = {
    // 1: journal and locks.
    "CREATE TABLE tidemark.runs (run_id text PRIMARY KEY, dataset text NOT NULL,"
    "  kind text NOT NULL, run_file text NOT NULL, started_at timestamptz NOT NULL,"
    "  finished_at timestamptz, status text NOT NULL);"
    "CREATE INDEX runs_by_dataset ON tidemark.runs (dataset, started_at);"
    "CREATE TABLE tidemark.steps (run_id text NOT NULL REFERENCES tidemark.runs (run_id),"
    "  step_id text NOT NULL, status text NOT NULL, message text NOT NULL DEFAULT '',"
    "  at timestamptz NOT NULL, attempts bigint NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (run_id, step_id));"
    "CREATE TABLE tidemark.locks (dataset text PRIMARY KEY, run_id text NOT NULL,"
    "  host text NOT NULL, pid bigint NOT NULL, pid_start bigint NOT NULL,"
    "  acquired_at timestamptz NOT NULL, backend_pid integer NOT NULL);",
    // 2: restore holds and verified archives.
    "CREATE TABLE tidemark.holds (dataset text NOT NULL, lifecycle text NOT NULL,"
    "  storage text NOT NULL, partition_name text NOT NULL, until timestamptz NOT NULL,"
    "  PRIMARY KEY (dataset, lifecycle, storage, partition_name));"
    "CREATE TABLE tidemark.archives (dataset text NOT NULL, lifecycle text NOT NULL,"
    "  storage text NOT NULL, partition_name text NOT NULL, location text NOT NULL,"
    "  range_start timestamptz, range_end timestamptz, bytes bigint NOT NULL,"
    "  files bigint NOT NULL, archived_at timestamptz NOT NULL,"
    "  PRIMARY KEY (dataset, lifecycle, storage, partition_name));",
    // 3: which recycle bin entry an archive was verified against.
    "ALTER TABLE tidemark.archives ADD COLUMN source_entry text NOT NULL DEFAULT '';",
};
constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

// Serialises migrations between processes; distinct from every DatasetLockKey, whose
// names start with "tidemark:".
const std::string_view kMigrationLockName = "tidemark-schema-migration";

// A holder that took the advisory lock records itself a moment later; a conflict
// waits this long for the record before naming no one.
constexpr int kHolderRecordAttempts = 10;
constexpr auto kHolderRecordWait = std::chrono::milliseconds(20);

int64_t Seconds(util::Instant t) { return t.time_since_epoch().count(); }
util::Instant FromSeconds(int64_t s) { return util::Instant(std::chrono::seconds(s)); }
std::string Text(int64_t value) { return std::to_string(value); }
std::string Text(util::Instant t) { return std::to_string(Seconds(t)); }

int64_t KeyOf(std::string_view name) {
  const std::string hex = util::Sha256Hex(name).substr(0, 16);
  return static_cast<int64_t>(std::stoull(hex, nullptr, 16));
}

// The two 32-bit halves under which pg_locks shows an advisory lock on a bigint key.
std::pair<std::string, std::string> PgLocksIds(int64_t key) {
  const auto bits = static_cast<uint64_t>(key);
  return {std::to_string(bits >> 32), std::to_string(bits & 0xffffffffu)};
}

class PostgresStateStore : public StateStore {
 public:
  explicit PostgresStateStore(std::unique_ptr<sql::PqConnection> connection)
      : connection_(std::move(connection)) {}

  util::Status Migrate() {
    TM_TRY(connection_->Exec("BEGIN"));
    auto status = MigrateInTransaction();
    if (!status) {
      (void)connection_->Exec("ROLLBACK");
      return status;
    }
    return connection_->Exec("COMMIT");
  }

  int SchemaVersion() override {
    auto rows = Query("SELECT COALESCE(MAX(version), 0) FROM tidemark.schema_migrations", {});
    return rows && rows->rows() == 1 ? static_cast<int>(rows->Int(0, 0)) : 0;
  }

  util::Status InTransaction(const std::function<util::Status()>& work) override {
    if (in_transaction_) {
      return util::StepError(connection_->Describe() +
                             ": a transaction is already open; state store transactions do "
                             "not nest");
    }
    TM_TRY(connection_->Exec("BEGIN"));
    in_transaction_ = true;
    statement_failed_ = false;
    auto status = work();
    in_transaction_ = false;
    if (status && statement_failed_) {
      status = util::StepError(connection_->Describe() +
                               ": a statement failed inside the transaction; rolled back");
    }
    if (!status) {
      (void)connection_->Exec("ROLLBACK");
      return status;
    }
    return connection_->Exec("COMMIT");
  }

  util::Status BeginRun(const RunRecord& run) override {
    return Run(
        "INSERT INTO tidemark.runs (run_id, dataset, kind, run_file, started_at, status)"
        " VALUES ($1, $2, $3, $4, to_timestamp($5::bigint), 'running')"
        " ON CONFLICT (run_id) DO UPDATE SET status = 'running', finished_at = NULL",
        {run.run_id, run.dataset, run.kind, run.run_file, Text(run.started_at)});
  }

  util::Status FinishRun(const std::string& run_id, const std::string& status) override {
    return Run(
        "UPDATE tidemark.runs SET status = $2, finished_at = to_timestamp($3::bigint)"
        " WHERE run_id = $1",
        {run_id, status, Text(util::Now())});
  }

  util::Result<std::vector<RunRecord>> Runs(const std::string& dataset, int limit) override {
    TM_TRY_ASSIGN(auto rows,
                  Query("SELECT run_id, dataset, kind, run_file,"
                        " extract(epoch FROM started_at)::bigint, status FROM tidemark.runs"
                        " WHERE dataset = $1 ORDER BY started_at DESC LIMIT $2::bigint",
                        {dataset, Text(limit)}));
    std::vector<RunRecord> runs;
    for (int r = 0; r < rows.rows(); ++r) {
      runs.push_back({rows.Text(r, 0), rows.Text(r, 1), rows.Text(r, 2), rows.Text(r, 3),
                      FromSeconds(rows.Int(r, 4)), rows.Text(r, 5)});
    }
    return runs;
  }

  util::Status RecordStep(const std::string& run_id, const std::string& step_id,
                          const std::string& status, const std::string& message) override {
    // Each record closes one attempt.
    return Run(
        "INSERT INTO tidemark.steps (run_id, step_id, status, message, at, attempts)"
        " VALUES ($1, $2, $3, $4, to_timestamp($5::bigint), 1)"
        " ON CONFLICT (run_id, step_id) DO UPDATE SET status = EXCLUDED.status,"
        " message = EXCLUDED.message, at = EXCLUDED.at, attempts = steps.attempts + 1",
        {run_id, step_id, status, message, Text(util::Now())});
  }

  util::Result<std::vector<StepRecord>> Steps(const std::string& run_id) override {
    TM_TRY_ASSIGN(auto rows, Query("SELECT run_id, step_id, status, message,"
                                   " extract(epoch FROM at)::bigint, attempts"
                                   " FROM tidemark.steps WHERE run_id = $1",
                                   {run_id}));
    std::vector<StepRecord> steps;
    for (int r = 0; r < rows.rows(); ++r) {
      steps.push_back({rows.Text(r, 0), rows.Text(r, 1), rows.Text(r, 2), rows.Text(r, 3),
                       FromSeconds(rows.Int(r, 4)), rows.Int(r, 5)});
    }
    return steps;
  }

  util::Result<std::set<std::string>> DoneSteps(const std::string& run_id) override {
    TM_TRY_ASSIGN(auto rows, Query("SELECT step_id FROM tidemark.steps"
                                   " WHERE run_id = $1 AND status = 'done'",
                                   {run_id}));
    std::set<std::string> done;
    for (int r = 0; r < rows.rows(); ++r) done.insert(rows.Text(r, 0));
    return done;
  }

  util::Status AcquireLock(const std::string& dataset, const LockHolder& holder) override;
  util::Status ReleaseLock(const std::string& dataset, const std::string& run_id) override;

  util::Status AddHold(const std::string& dataset, const core::Hold& hold) override {
    return Run(
        "INSERT INTO tidemark.holds (dataset, lifecycle, storage, partition_name, until)"
        " VALUES ($1, $2, $3, $4, to_timestamp($5::bigint))"
        " ON CONFLICT (dataset, lifecycle, storage, partition_name)"
        " DO UPDATE SET until = EXCLUDED.until",
        {dataset, hold.lifecycle, hold.storage, hold.partition, Text(hold.until)});
  }

  util::Result<std::vector<core::Hold>> Holds(const std::string& dataset) override {
    TM_TRY_ASSIGN(auto holds, ReadHolds(&dataset));
    return std::move(holds[dataset]);
  }

  util::Result<std::map<std::string, std::vector<core::Hold>>> AllHolds() override {
    return ReadHolds(nullptr);
  }

  util::Status RecordArchive(const std::string& dataset, const core::ArchivedPartition& a) override;
  util::Result<std::vector<core::ArchivedPartition>> Archives(const std::string& dataset) override {
    TM_TRY_ASSIGN(auto archives, ReadArchives(&dataset));
    return std::move(archives[dataset]);
  }

  util::Result<std::map<std::string, std::vector<core::ArchivedPartition>>> AllArchives() override {
    return ReadArchives(nullptr);
  }

 private:
  // Every statement goes through here, so that a failure inside InTransaction is seen
  // even when the work ignores it (PostgreSQL would turn its COMMIT into a ROLLBACK).
  util::Result<PqRows> Query(std::string_view sql, const PqParams& params) {
    auto rows = connection_->Query(sql, params);
    if (!rows && in_transaction_) statement_failed_ = true;
    return rows;
  }

  util::Status Run(std::string_view sql, const PqParams& params) {
    TM_TRY(Query(sql, params));
    return {};
  }

  // The records of one dataset, or of all when `dataset` is null.
  util::Result<std::map<std::string, std::vector<core::Hold>>> ReadHolds(
      const std::string* dataset);
  util::Result<std::map<std::string, std::vector<core::ArchivedPartition>>> ReadArchives(
      const std::string* dataset);
  util::Status MigrateInTransaction();
  util::Status ApplyMissing();
  util::Result<bool> Exists(std::string_view sql);
  util::Error Conflict(const std::string& dataset);
  util::Result<std::optional<LockHolder>> RecordedHolder(const std::string& dataset);

  std::unique_ptr<sql::PqConnection> connection_;
  bool in_transaction_ = false;
  bool statement_failed_ = false;
  std::map<std::string, std::string> held_;  // dataset → run id, of the locks this store holds
};

util::Result<bool> PostgresStateStore::Exists(std::string_view sql) {
  TM_TRY_ASSIGN(auto rows, Query(sql, {}));
  return rows.rows() == 1 && rows.Bool(0, 0);
}

util::Status PostgresStateStore::MigrateInTransaction() {
  TM_TRY(Run("SELECT pg_advisory_xact_lock($1::bigint)", {Text(KeyOf(kMigrationLockName))}));
  // Creating checks the CREATE privilege even when the object exists; look first, so
  // that a role without it can use a store that is set up.
  TM_TRY_ASSIGN(bool schema,
                Exists("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'tidemark')"));
  if (!schema) TM_TRY(connection_->Exec("CREATE SCHEMA tidemark"));
  TM_TRY_ASSIGN(bool table, Exists("SELECT to_regclass('tidemark.schema_migrations') IS NOT NULL"));
  if (!table) {
    TM_TRY(
        connection_->Exec("CREATE TABLE tidemark.schema_migrations (version integer PRIMARY KEY,"
                          " applied_at timestamptz NOT NULL DEFAULT now())"));
  }
  return ApplyMissing();
}

util::Status PostgresStateStore::ApplyMissing() {
  TM_TRY_ASSIGN(auto rows,
                Query("SELECT COALESCE(MAX(version), 0) FROM tidemark.schema_migrations", {}));
  const int current = static_cast<int>(rows.Int(0, 0));
  if (current > kSchemaVersion) {
    return util::Fail(util::ErrorCategory::kConfig,
                      "the state store has schema version " + std::to_string(current) +
                          ", written by a newer tidemark (this one knows " +
                          std::to_string(kSchemaVersion) + "); upgrade tidemark");
  }
  for (int version = current + 1; version <= kSchemaVersion; ++version) {
    TM_TRY(connection_->Exec(kMigrations[version - 1]));
    TM_TRY(Run("INSERT INTO tidemark.schema_migrations (version) VALUES ($1::integer)",
               {Text(version)}));
  }
  return {};
}

util::Status PostgresStateStore::AcquireLock(const std::string& dataset, const LockHolder& holder) {
  // Advisory locks are reentrant within a session; a second run on this very
  // connection must be refused like a run anywhere else.
  if (held_.count(dataset) != 0) return tl::unexpected(Conflict(dataset));
  const std::string key = Text(DatasetLockKey(dataset));
  TM_TRY_ASSIGN(auto taken, Query("SELECT pg_try_advisory_lock($1::bigint)", {key}));
  if (!taken.Bool(0, 0)) return tl::unexpected(Conflict(dataset));
  auto recorded =
      Run("INSERT INTO tidemark.locks (dataset, run_id, host, pid, pid_start, acquired_at,"
          " backend_pid) VALUES ($1, $2, $3, $4::bigint, $5::bigint, to_timestamp($6::bigint),"
          " pg_backend_pid()) ON CONFLICT (dataset) DO UPDATE SET run_id = EXCLUDED.run_id,"
          " host = EXCLUDED.host, pid = EXCLUDED.pid, pid_start = EXCLUDED.pid_start,"
          " acquired_at = EXCLUDED.acquired_at, backend_pid = EXCLUDED.backend_pid",
          {dataset, holder.run_id, holder.host, Text(holder.pid), Text(holder.pid_start),
           Text(holder.acquired_at)});
  if (!recorded) {
    (void)connection_->Query("SELECT pg_advisory_unlock($1::bigint)", {key});
    return recorded;
  }
  held_[dataset] = holder.run_id;
  return {};
}

util::Status PostgresStateStore::ReleaseLock(const std::string& dataset,
                                             const std::string& run_id) {
  auto held = held_.find(dataset);
  if (held == held_.end() || held->second != run_id) return {};  // not the holder
  held_.erase(held);
  auto deleted =
      Run("DELETE FROM tidemark.locks WHERE dataset = $1 AND run_id = $2", {dataset, run_id});
  TM_TRY(Run("SELECT pg_advisory_unlock($1::bigint)", {Text(DatasetLockKey(dataset))}));
  return deleted;
}

// The recorded holder of a dataset's lock, if the session that wrote the record holds
// the advisory lock now (a record can outlive its holder, or lag behind a new one).
util::Result<std::optional<LockHolder>> PostgresStateStore::RecordedHolder(
    const std::string& dataset) {
  const auto [classid, objid] = PgLocksIds(DatasetLockKey(dataset));
  TM_TRY_ASSIGN(auto rows,
                Query("SELECT l.run_id, l.host, l.pid, l.pid_start,"
                      " extract(epoch FROM l.acquired_at)::bigint FROM tidemark.locks l"
                      " WHERE l.dataset = $1 AND EXISTS (SELECT 1 FROM pg_locks k"
                      "  JOIN pg_database d ON d.oid = k.database"
                      "  WHERE d.datname = current_database() AND k.locktype = 'advisory'"
                      "  AND k.granted AND k.pid = l.backend_pid AND k.classid = $2::oid"
                      "  AND k.objid = $3::oid AND k.objsubid = 1)",
                      {dataset, classid, objid}));
  if (rows.rows() == 0) return std::nullopt;
  return LockHolder{rows.Text(0, 0), rows.Text(0, 1), rows.Int(0, 2), rows.Int(0, 3),
                    FromSeconds(rows.Int(0, 4))};
}

util::Error PostgresStateStore::Conflict(const std::string& dataset) {
  std::optional<LockHolder> holder;
  for (int attempt = 0; attempt < kHolderRecordAttempts && !holder; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(kHolderRecordWait);
    auto recorded = RecordedHolder(dataset);
    if (!recorded) break;
    holder = *recorded;
  }
  const std::string what = "dataset " + dataset + " is locked by ";
  const std::string advice = "; wait for it to finish, then apply again";
  if (!holder) {
    return util::Error(util::ErrorCategory::kConflict,
                       what + "another tidemark session (it has not recorded its run)" + advice);
  }
  return util::Error(util::ErrorCategory::kConflict,
                     what + "run " + holder->run_id + " (pid " + std::to_string(holder->pid) +
                         " on " + holder->host + ", since " +
                         util::FormatInstant(holder->acquired_at) + ")" + advice);
}

util::Status PostgresStateStore::RecordArchive(const std::string& dataset,
                                               const core::ArchivedPartition& a) {
  std::optional<std::string> start, end;
  if (a.range) {
    start = Text(a.range->start);
    end = Text(a.range->end);
  }
  return Run(
      "INSERT INTO tidemark.archives (dataset, lifecycle, storage, partition_name, location,"
      " range_start, range_end, bytes, files, archived_at, source_entry)"
      " VALUES ($1, $2, $3, $4, $5, to_timestamp($6::bigint), to_timestamp($7::bigint),"
      " $8::bigint, $9::bigint, to_timestamp($10::bigint), $11)"
      " ON CONFLICT (dataset, lifecycle, storage, partition_name) DO UPDATE SET"
      " location = EXCLUDED.location, range_start = EXCLUDED.range_start,"
      " range_end = EXCLUDED.range_end, bytes = EXCLUDED.bytes, files = EXCLUDED.files,"
      " archived_at = EXCLUDED.archived_at, source_entry = EXCLUDED.source_entry",
      {dataset, a.lifecycle, a.storage, a.partition, a.location, start, end, Text(a.bytes),
       Text(a.files), Text(a.archived_at), a.source_entry});
}

util::Result<std::map<std::string, std::vector<core::Hold>>> PostgresStateStore::ReadHolds(
    const std::string* dataset) {
  PqParams params;
  if (dataset != nullptr) params.push_back(*dataset);
  TM_TRY_ASSIGN(auto rows, Query(std::string("SELECT dataset, lifecycle, storage, partition_name,"
                                             " extract(epoch FROM until)::bigint"
                                             " FROM tidemark.holds") +
                                     (dataset != nullptr ? " WHERE dataset = $1" : ""),
                                 params));
  std::map<std::string, std::vector<core::Hold>> holds;
  for (int r = 0; r < rows.rows(); ++r) {
    holds[rows.Text(r, 0)].push_back(
        {rows.Text(r, 1), rows.Text(r, 2), rows.Text(r, 3), FromSeconds(rows.Int(r, 4))});
  }
  return holds;
}

util::Result<std::map<std::string, std::vector<core::ArchivedPartition>>>
PostgresStateStore::ReadArchives(const std::string* dataset) {
  PqParams params;
  if (dataset != nullptr) params.push_back(*dataset);
  // Unranged first and names in byte order, as the SQLite store lists them.
  TM_TRY_ASSIGN(auto rows,
                Query(std::string("SELECT dataset, lifecycle, storage, partition_name, location,"
                                  " extract(epoch FROM range_start)::bigint,"
                                  " extract(epoch FROM range_end)::bigint, bytes, files,"
                                  " extract(epoch FROM archived_at)::bigint, source_entry"
                                  " FROM tidemark.archives") +
                          (dataset != nullptr ? " WHERE dataset = $1" : "") +
                          " ORDER BY dataset COLLATE \"C\", range_start NULLS FIRST,"
                          " partition_name COLLATE \"C\"",
                      params));
  std::map<std::string, std::vector<core::ArchivedPartition>> archives;
  for (int r = 0; r < rows.rows(); ++r) {
    core::ArchivedPartition a{rows.Text(r, 1), rows.Text(r, 2), rows.Text(r, 3), rows.Text(r, 4)};
    if (!rows.IsNull(r, 5)) {
      a.range = core::TimeRange{FromSeconds(rows.Int(r, 5)), FromSeconds(rows.Int(r, 6))};
    }
    a.bytes = rows.Int(r, 7);
    a.files = rows.Int(r, 8);
    a.archived_at = FromSeconds(rows.Int(r, 9));
    a.source_entry = rows.Text(r, 10);
    archives[rows.Text(r, 0)].push_back(std::move(a));
  }
  return archives;
}

// A connection failure that names a password problem says where the password comes from.
util::Error ConnectError(const util::Error& error) {
  if (error.message().find("password") == std::string::npos) return error;
  return util::Error(error.category(),
                     error.message() + " (the state store's password comes from " +
                         kStatePasswordEnv + " when set, else from ~/.pgpass, PGPASSFILE or " +
                         "PGPASSWORD)",
                     error.retryable());
}

}  // namespace

bool IsPostgresStateUrl(std::string_view url) {
  return util::StartsWith(url, "postgres://") || util::StartsWith(url, "postgresql://");
}

int64_t DatasetLockKey(std::string_view dataset) {
  return KeyOf("tidemark:" + std::string(dataset));
}

util::Result<std::unique_ptr<StateStore>> OpenPostgresStateStore(const std::string& url) {
  sql::PqOptions options{url, "", "", "state store"};
  if (std::getenv(kStatePasswordEnv) != nullptr) options.password_env = kStatePasswordEnv;
  auto connection = sql::PqConnection::Open(options);
  if (!connection) return tl::unexpected(ConnectError(connection.error()));
  auto store = std::make_unique<PostgresStateStore>(std::move(*connection));
  TM_TRY(store->Migrate());
  return std::unique_ptr<StateStore>(std::move(store));
}

}  // namespace tidemark::state
