// The steps of the PostgreSQL backend, one function each; pg_backend.cc dispatches.
// Every function checks its postcondition first and does only what is missing.
//
// Thread-safety: functions on one connection.

#ifndef TIDEMARK_BACKEND_POSTGRES_PG_STEPS_H_
#define TIDEMARK_BACKEND_POSTGRES_PG_STEPS_H_

#include <functional>
#include <string>

#include "tidemark/backend/backend.h"
#include "tidemark/backend/postgres/pg_bounds.h"
#include "tidemark/backend/postgres/pg_catalog.h"
#include "tidemark/core/step.h"
#include "tidemark/core/table_name.h"
#include "tidemark/sql/pq_connection.h"
#include "tidemark/util/timezone.h"

namespace tidemark::backend::postgres {

// Knobs of DDL under load.
struct DdlPolicy {
  int lock_timeout_ms = 2000;  // each attempt waits this long for its lock
  int attempts = 6;            // then gives up (the step fails, resumably)
  int backoff_ms = 250;        // doubled after each failed attempt, with jitter
  int batch_rows = 10000;      // rows moved out of a default partition per transaction
};

struct StepEnv {
  sql::PqConnection* conn = nullptr;
  const core::Step* step = nullptr;
  StepContext* context = nullptr;
  core::TableName parent;  // the partitioned table, schema filled in
  util::TimeZone zone = util::TimeZone::Utc();
  DdlPolicy policy;
  const config::Config* config = nullptr;  // finds the credentials of S3 archives
};

// Runs `sql` (one or more statements) with the policy's retries on lock timeouts and
// deadlocks.
util::Status RunDdl(const StepEnv& env, const std::string& sql);
// The same for work that needs several statements: `attempt` is called again after a
// retryable failure (in a new transaction when it opened one).
util::Status WithRetries(const StepEnv& env, const std::string& what,
                         const std::function<util::Status()>& attempt);

// [schema.]name resolved against the default schema "public".
core::TableName Qualified(const std::string& text);

util::Status CreatePartition(const StepEnv& env);
util::Status HidePartition(const StepEnv& env);
util::Status FinalizeDetach(const StepEnv& env);
util::Status PurgeRecycled(const StepEnv& env);
util::Status RestoreFromBin(const StepEnv& env);

// Archive steps (pg_archive.cc).
util::Status CopyToArchive(const StepEnv& env);
util::Status VerifyArchive(const StepEnv& env);
util::Status RestoreFromArchive(const StepEnv& env);
// Before the bin copy is dropped: the archive's manifest and data file are there at
// their sizes, its row count equals the table's, and it is durable.
util::Status CheckArchiveBeforeDrop(const StepEnv& env);

// Attaches `table` (a standalone table in the parent's schema) to the parent with
// `bound` ("FOR VALUES FROM (…) TO (…)"), adding a CHECK constraint for the bounds
// first so that ATTACH need not scan it.
util::Status AttachWithCheck(const StepEnv& env, const std::string& table, const std::string& bound,
                             const std::string& key_column, KeyKind kind);

// The parent's partition key column and its kind.
struct KeyInfo {
  std::string column;
  KeyKind kind = KeyKind::kOther;
};
util::Result<KeyInfo> PartitionKey(const StepEnv& env);

}  // namespace tidemark::backend::postgres

#endif  // TIDEMARK_BACKEND_POSTGRES_PG_STEPS_H_
