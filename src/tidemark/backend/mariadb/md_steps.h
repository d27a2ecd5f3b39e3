// The steps of the MariaDB and MySQL backend, one function each; md_backend.cc
// dispatches. Every function checks its postcondition first and does only what is
// missing, so a step run again after a crash completes it.
//
// Two rules hold in every function:
//  - tidemark reorganizes a partition only when it is empty, checked exactly under
//    LOCK TABLES … WRITE in the session that runs the ALTER (so no row can arrive in
//    between); the one exception is a restore in place, which the user asked for and
//    whose cost docs/mariadb.md states;
//  - every ALTER waits at most `wait_s` for its metadata lock (WAIT n on MariaDB, the
//    session's lock_wait_timeout on both), and is retried with backoff.
//
// Thread-safety: functions on one connection.

#ifndef TIDEMARK_BACKEND_MARIADB_MD_STEPS_H_
#define TIDEMARK_BACKEND_MARIADB_MD_STEPS_H_

#include <optional>
#include <string>
#include <vector>

#include "tidemark/backend/backend.h"
#include "tidemark/backend/bin_mark.h"
#include "tidemark/backend/mariadb/md_bounds.h"
#include "tidemark/backend/mariadb/md_catalog.h"
#include "tidemark/backend/retry.h"
#include "tidemark/core/step.h"
#include "tidemark/core/table_name.h"
#include "tidemark/sql/mariadb_connection.h"
#include "tidemark/util/timezone.h"

namespace tidemark::backend::mariadb {

// The database that holds the recycle bin of every database of a server.
inline constexpr char kRecycleDatabase[] = "tidemark_recycle";

// How partitions leave a table: CONVERT PARTITION … TO TABLE (MariaDB 10.7+, one
// statement), or EXCHANGE PARTITION with an empty table and DROP PARTITION (MySQL and
// older MariaDB). TIDEMARK_MARIADB_DETACH=exchange chooses the second on any server.
enum class DetachMethod { kConvert, kExchange };

struct StepEnv {
  sql::MariaDbConnection* conn = nullptr;
  const core::Step* step = nullptr;
  StepContext* context = nullptr;
  core::TableName parent;  // the partitioned table, database filled in
  util::TimeZone zone = util::TimeZone::Utc();
  RetryPolicy policy;
  int wait_s = 2;       // WAIT n of each ALTER
  bool mariadb = true;  // MariaDB (WAIT n); false for MySQL
  DetachMethod detach = DetachMethod::kConvert;
  const config::Config* config = nullptr;  // finds the credentials of S3 archives
};

// "ALTER TABLE `db`.`t` WAIT n " (MariaDB) or "ALTER TABLE `db`.`t` " (MySQL).
std::string AlterTable(const StepEnv& env, const core::TableName& table);

// The partitioned table as it is now: its partitions in order and its key.
struct Layout {
  std::vector<PartitionInfo> partitions;
  PartitionKey key;
  std::map<std::string, std::string> columns;  // name → DATA_TYPE
  // The index of the partition named `name`, or -1.
  int Find(const std::string& name) const;
  // The index of the MAXVALUE tail, or -1.
  int Tail() const;
};
util::Result<Layout> ReadLayout(const StepEnv& env);

// Whether any of `partitions` of the parent holds a row (exactly, in this session).
util::Result<bool> AnyRows(const StepEnv& env, const std::vector<std::string>& partitions);

// Runs `body` under LOCK TABLES `parent` WRITE (and `also` WRITE, when given), always
// unlocking after; retried with backoff on lock waits.
util::Status UnderWriteLock(const StepEnv& env, const std::string& what,
                            const std::vector<core::TableName>& also,
                            const std::function<util::Status()>& body);

// A table's existence and comment.
struct TableState {
  bool exists = false;
  bool partitioned = false;
  std::string comment;
  int64_t rows = -1;  // estimate
};
util::Result<TableState> LookUp(const StepEnv& env, const core::TableName& table);

// [db.]name resolved against the connection's database.
core::TableName Qualified(const std::string& text, const std::string& default_database);

// The `VALUES LESS THAN` value a removed partition had, from its mark and the key.
util::Result<std::string> MarkedLessThan(const BinMark& mark, const PartitionKey& key,
                                         const util::TimeZone& zone);

util::Status CreatePartition(const StepEnv& env);
util::Status ReorganizeAhead(const StepEnv& env);
util::Status HidePartition(const StepEnv& env);
util::Status PurgeRecycled(const StepEnv& env);
util::Status RestoreFromBin(const StepEnv& env);

// Puts `source` (a standalone table with the parent's columns) back into the parent as
// the partition named by the step, with `less_than`: splits the partition that covers
// that range now (REORGANIZE, which copies its rows), then exchanges the new empty
// partition with `source` and drops `source`. Resumes from any point.
util::Status PutBack(const StepEnv& env, const core::TableName& source,
                     const std::string& less_than);

// Archive steps (md_archive.cc).
util::Status CopyToArchive(const StepEnv& env);
util::Status VerifyArchive(const StepEnv& env);
util::Status RestoreFromArchive(const StepEnv& env);
// Before a bin table is dropped: its archive is complete, at its sizes, with its row
// count, and durable.
util::Status CheckArchiveBeforeDrop(const StepEnv& env);

}  // namespace tidemark::backend::mariadb

#endif  // TIDEMARK_BACKEND_MARIADB_MD_STEPS_H_
