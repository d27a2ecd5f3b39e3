#include "tidemark/backend/postgres/pg_backend.h"

#include <map>

#include "tidemark/backend/postgres/pg_bounds.h"
#include "tidemark/backend/postgres/pg_catalog.h"
#include "tidemark/backend/postgres/pg_steps.h"
#include "tidemark/backend/table_archive_steps.h"
#include "tidemark/config/storage_urls.h"
#include "tidemark/core/table_name.h"
#include "tidemark/sql/pq_connection.h"
#include "tidemark/store/object_store.h"
#include "tidemark/util/strings.h"

namespace tidemark::backend::postgres {

namespace {

using core::Step;

// "postgres://user@host:5432/db#public.events": where a storage is, for people and
// run files (no query, never a password: validation refuses passwords in URLs).
std::string LocationOf(const std::string& url, const core::TableName& table) {
  std::string base = url.substr(0, url.find('?'));
  return base + "#" + table.ToString();
}

const char* StrategyWord(char strategy) {
  switch (strategy) {
    case 'l': return "LIST";
    case 'h': return "HASH";
    default: return "RANGE";
  }
}

class PostgresBackend : public BatchBackend {
 public:
  PostgresBackend(const config::Config& config, const config::Connection& connection)
      : config_(config), connection_(connection) {}

  std::string system() const override { return "postgres"; }

  util::Status CheckConnection() override {
    TM_TRY(Connect());
    return {};
  }

  util::Result<std::vector<util::Result<core::ObservedStorage>>> ObserveMany(
      const std::vector<StorageRef>& refs, const util::TimeZone& zone) override;

  std::string Render(const Step& step) const override;
  util::Status Execute(const Step& step, StepContext& context) override;
  util::Status Holds(const Step& step) override;

 private:
  util::Result<sql::PqConnection*> Connect();
  util::Result<core::ObservedStorage> Describe(const StorageRef& ref, const TableInfo& table,
                                               const Catalog& catalog, const util::TimeZone& zone);
  DdlPolicy Policy() const {
    DdlPolicy policy;
    policy.lock_timeout_ms = connection_.lock_timeout_ms;
    policy.attempts = connection_.ddl_attempts;
    return policy;
  }

  const config::Config& config_;
  config::Connection connection_;
  std::unique_ptr<sql::PqConnection> conn_;
};

util::Result<sql::PqConnection*> PostgresBackend::Connect() {
  if (conn_ && conn_->Healthy()) return conn_.get();
  conn_.reset();
  sql::PqOptions options;
  options.url = connection_.url;
  options.password_env = connection_.password_env;
  if (!connection_.password_file.empty())
    options.password_file = config_.ResolvePath(connection_.password_file);
  options.what = "connection '" + connection_.name + "'";
  TM_TRY_ASSIGN(conn_, sql::PqConnection::Open(options));
  // Every statement of this session waits at most this long for a lock; DDL retries
  // with backoff instead of queueing every other session behind it (pg_steps.h).
  auto limited = conn_->Exec("SET lock_timeout = " + std::to_string(Policy().lock_timeout_ms));
  if (!limited) return util::Fail(util::ErrorCategory::kConnect, limited.error().message());
  if (conn_->ServerVersion() < 110000) {
    return util::Fail(util::ErrorCategory::kConnect,
                      conn_->Describe() + " is PostgreSQL " +
                          std::to_string(conn_->ServerVersion() / 10000) +
                          "; tidemark needs 11 or later (declarative partitioning with "
                          "default partitions)");
  }
  return conn_.get();
}

util::Result<std::vector<util::Result<core::ObservedStorage>>> PostgresBackend::ObserveMany(
    const std::vector<StorageRef>& refs, const util::TimeZone& zone) {
  TM_TRY_ASSIGN(sql::PqConnection * conn, Connect());
  std::vector<core::TableName> tables;
  for (const StorageRef& ref : refs) tables.push_back(Qualified(ref.storage->table));
  auto catalog = ReadCatalog(*conn, tables);
  if (!catalog) {
    return util::Fail(
        util::ErrorCategory::kConnect,
        "cannot read the catalog of " + conn->Describe() + ": " + catalog.error().message());
  }
  std::vector<util::Result<core::ObservedStorage>> out;
  for (size_t i = 0; i < refs.size(); ++i) {
    out.push_back(Describe(refs[i], catalog->tables[i], *catalog, zone));
  }
  return out;
}

util::Result<core::ObservedStorage> PostgresBackend::Describe(const StorageRef& ref,
                                                              const TableInfo& table,
                                                              const Catalog& catalog,
                                                              const util::TimeZone& zone) {
  const config::Dataset& dataset = *ref.dataset;
  const std::string name = table.table.ToString();
  const std::string where =
      "dataset " + dataset.name + ": table " + name + " on connection '" + connection_.name + "'";
  if (!table.found) {
    std::string hint;
    if (conn_) {
      auto similar = SimilarTables(*conn_, table.table);
      if (similar && !similar->empty()) {
        hint = "; did you mean " + util::Join(*similar, " or ") +
               "? (names are taken as written, case included)";
      }
    }
    return util::ConfigError(where + " does not exist" + hint);
  }
  if (table.relkind != 'p') {
    return util::ConfigError(where +
                             " is not partitioned; tidemark manages partitioned tables "
                             "(CREATE TABLE … PARTITION BY RANGE (column))");
  }
  if (table.strategy != 'r') {
    return util::ConfigError(where + " is partitioned by " + StrategyWord(table.strategy) +
                             "; tidemark manages RANGE partitions");
  }
  if (table.key_columns != 1 || table.key_name.empty()) {
    return util::ConfigError(where + " is partitioned by " + table.key_def +
                             "; tidemark needs a single column as the partition key");
  }
  if (!dataset.partition_by.empty() && dataset.partition_by.front() != table.key_name) {
    return util::ConfigError(where + " is partitioned by " + table.key_name +
                             ", but the dataset says partition_by: " +
                             dataset.partition_by.front() + "; make them agree");
  }
  const KeyKind kind = KeyKindOf(table.key_type);
  if (dataset.strategy == config::Strategy::kSequential) {
    return util::ConfigError(where +
                             ": strategy sequential is for MariaDB and MySQL tables; use "
                             "strategy time or id on PostgreSQL");
  }
  if (!dataset.dated_by.empty()) {
    return util::ConfigError(where + ": dated_by is read on MariaDB and MySQL tables only; on "
                                     "PostgreSQL, partition by the time column (strategy time)");
  }
  if (dataset.strategy == config::Strategy::kTime && !IsTimeKind(kind)) {
    return util::ConfigError(where + " is partitioned by " + table.key_name + " of type " +
                             table.key_type + ", which does not fit interval " +
                             core::FormatSpan(dataset.interval) +
                             ": strategy time needs a timestamp, timestamptz or date key "
                             "(use strategy: id with an integer interval for numbers)");
  }
  if (dataset.strategy == config::Strategy::kId && kind != KeyKind::kInteger) {
    return util::ConfigError(where + " is partitioned by " + table.key_name + " of type " +
                             table.key_type +
                             ", which does not fit strategy id: it needs a smallint, integer or "
                             "bigint key");
  }
  if (kind == KeyKind::kDate && dataset.interval.unit == core::SpanUnit::kHour) {
    return util::ConfigError(where + " is partitioned by " + table.key_name +
                             " of type date, which cannot be split into " +
                             core::FormatSpan(dataset.interval) + " partitions");
  }
  if (kind == KeyKind::kTimestamp && dataset.interval.unit == core::SpanUnit::kHour) {
    // Civil hours repeat and vanish where clocks change: no set of hourly ranges on a
    // timestamp without time zone can follow them.
    const util::Instant probe = util::Now();
    if (zone.OffsetAt(probe) != zone.OffsetAt(probe + std::chrono::days(182))) {
      return util::ConfigError(where + " is partitioned by " + table.key_name +
                               " of type timestamp without time zone, whose civil hours "
                               "repeat or vanish in " +
                               zone.name() +
                               " when clocks change; use timestamptz, or timezone: UTC");
    }
  }
  core::ObservedStorage observed;
  observed.lifecycle = ref.lifecycle->name;
  observed.storage = ref.storage->name;
  observed.location = LocationOf(connection_.url, table.table);
  for (const ChildInfo& child : table.children) {
    core::Partition p;
    p.name = child.name;
    p.rows = child.rows;
    p.bytes = child.bytes;
    if (child.key_bound && child.key_bound->is_default) {
      p.state = core::PartitionState::kDefault;
      if (child.rows > 0) {
        observed.notes.push_back("the default partition " + child.name + " of " + name +
                                 " holds about " + std::to_string(child.rows) +
                                 " rows; partitions created for their ranges take them over");
      }
    } else if (child.key_bound && kind == KeyKind::kInteger) {
      p.ids = core::IdRange{child.key_bound->from, child.key_bound->to};
    } else if (child.key_bound) {
      p.range = core::TimeRange{KeyInstant(child.key_bound->from, kind, zone),
                                KeyInstant(child.key_bound->to, kind, zone)};
    } else {
      // Only a bound read deparsed gets here (pg_catalog.cc): say what it is.
      p.state = core::PartitionState::kUnparsed;
      auto bound = ParseRangeBound(child.bound);
      if (!bound) {
        p.problem = bound.error();
      } else if (kind == KeyKind::kInteger) {
        p.problem = "open-ended bounds " + child.bound;
      } else {
        p.problem = "bounds that are not whole instants: " + child.bound;
      }
    }
    if (child.detach_pending) {
      p.state = core::PartitionState::kDetached;
      observed.notes.push_back("partition " + child.name + " of " + name +
                               " was left half-detached (an interrupted DETACH … "
                               "CONCURRENTLY); tidemark finishes the detach");
    }
    if (p.state == core::PartitionState::kUnparsed) {
      observed.notes.push_back("partition " + child.name + " of " + name + " has " + p.problem +
                               "; left alone");
    }
    observed.partitions.push_back(std::move(p));
  }
  for (const BinTable& bin : catalog.bin) {
    const BinComment& c = bin.comment;
    if (c.parent_schema != table.table.schema || c.parent_name != table.table.name) continue;
    if (!c.dataset.empty() && c.dataset != dataset.name) continue;
    core::BinEntry entry;
    entry.partition = c.partition;
    entry.entry = bin.name;
    entry.detached = c.detached;
    entry.rows = bin.rows;
    entry.bytes = bin.bytes;
    if (auto removed = util::ParseInstant(c.removed_at)) entry.removed_at = *removed;
    auto start = util::ParseInstant(c.range_start);
    auto end = util::ParseInstant(c.range_end);
    if (start && end) entry.range = core::TimeRange{*start, *end};
    observed.bin.push_back(std::move(entry));
  }
  if (dataset.strategy == config::Strategy::kId) {
    auto max = conn_->Query("SELECT max(" + sql::QuoteIdent(table.key_name) + ")::text FROM " +
                            sql::QuoteQualified(table.table.schema, table.table.name));
    if (!max) return tl::unexpected(max.error().WithContext(where));
    if (max->rows() == 1 && !max->IsNull(0, 0)) observed.max_id = max->Int(0, 0);
  }
  return observed;
}

std::string PostgresBackend::Render(const Step& step) const {
  const core::TableName parent = Qualified(step.Param("table"));
  const std::string table = sql::QuoteQualified(parent.schema, parent.name);
  const std::string partition = sql::QuoteQualified(parent.schema, step.partition);
  const std::string bin = sql::QuoteQualified(kRecycleSchema, step.Param("bin"));
  if (step.action == core::action::kCreatePartition) {
    std::string from, to;
    if (!step.Param("id_start").empty()) {
      from = step.Param("id_start");
      to = step.Param("id_end");
    } else {
      from = "'" + step.Param("range_start") + "'";
      to = "'" + step.Param("range_end") + "'";
    }
    return "CREATE TABLE " + partition + " PARTITION OF " + table + " FOR VALUES FROM (" + from +
           ") TO (" + to + ")  -- rows of this range in the default partition are moved first";
  }
  if (step.action == core::action::kHidePartition) {
    std::string sql = "ALTER TABLE " + table + " DETACH PARTITION " + partition +
                      " CONCURRENTLY  -- plain DETACH when a default partition exists";
    if (step.Param("detached") == "1") return sql + "; COMMENT ON TABLE " + partition + " …";
    return sql + "; ALTER TABLE " + partition + " RENAME TO " + sql::QuoteIdent(step.Param("bin")) +
           ", SET SCHEMA " + kRecycleSchema;
  }
  if (step.action == core::action::kFinalizeDetach) {
    return "ALTER TABLE " + table + " DETACH PARTITION " + partition + " FINALIZE";
  }
  if (step.action == core::action::kCheckArchive) return "test -w " + step.Param("archive");
  if (step.action == core::action::kCopyToArchive) {
    return "COPY " + bin + " TO STDOUT | zstd > " + step.Param("archive") +
           "data.copy.zst; manifest.json with columns, DDL, row count and sha256";
  }
  if (step.action == core::action::kVerifyArchive) {
    return "zstd -dc " + step.Param("archive") +
           "data.copy.zst | count rows and sha256; SELECT "
           "count(*) FROM " +
           bin;
  }
  if (step.action == core::action::kPurgeRecycled) return "DROP TABLE " + bin;
  if (step.action == core::action::kRestoreFromBin) {
    return "ALTER TABLE " + bin + " SET SCHEMA " + sql::QuoteIdent(parent.schema) + ", RENAME TO " +
           sql::QuoteIdent(step.partition) + "; ALTER TABLE " + table + " ATTACH PARTITION " +
           partition + " FOR VALUES …";
  }
  if (step.action == core::action::kRestoreFromArchive) {
    return "CREATE TABLE … (manifest DDL); zstd -dc " + step.Param("archive") +
           "data.copy.zst | COPY … FROM STDIN; ALTER TABLE " + table + " ATTACH PARTITION " +
           partition + " FOR VALUES …";
  }
  return step.action;
}

util::Status PostgresBackend::Execute(const Step& step, StepContext& context) {
  if (step.action == core::action::kCheckArchive) return CheckArchiveWritable(step, config_);
  TM_TRY_ASSIGN(sql::PqConnection * conn, Connect());
  StepEnv env;
  env.conn = conn;
  env.step = &step;
  env.context = &context;
  env.parent = Qualified(step.Param("table"));
  env.policy = Policy();
  env.config = &config_;
  if (!step.Param("timezone").empty()) {
    TM_TRY_ASSIGN(env.zone, util::TimeZone::Load(step.Param("timezone")));
  }
  util::Status status;
  if (step.action == core::action::kCreatePartition) {
    status = CreatePartition(env);
  } else if (step.action == core::action::kHidePartition) {
    status = HidePartition(env);
  } else if (step.action == core::action::kFinalizeDetach) {
    status = FinalizeDetach(env);
  } else if (step.action == core::action::kCopyToArchive) {
    status = CopyToArchive(env);
  } else if (step.action == core::action::kVerifyArchive) {
    status = VerifyArchive(env);
  } else if (step.action == core::action::kPurgeRecycled) {
    status = PurgeRecycled(env);
  } else if (step.action == core::action::kRestoreFromBin) {
    status = RestoreFromBin(env);
  } else if (step.action == core::action::kRestoreFromArchive) {
    status = RestoreFromArchive(env);
  } else {
    return util::StepError("step " + step.id + ": the postgres backend has no action " +
                           step.action);
  }
  if (!status && conn_ && conn_->Sqlstate() == "42501") {
    // insufficient_privilege: the server's message names the object; say what
    // tidemark needs, since applying again cannot help until that changes.
    return util::StepError(status.error().message() + "; the role of connection '" +
                           connection_.name + "' must own " + env.parent.ToString() +
                           " and may need CREATE on its schema (see docs/postgres.md, "
                           "Privileges)");
  }
  return status;
}

util::Status PostgresBackend::Holds(const Step& step) {
  TM_TRY_ASSIGN(sql::PqConnection * conn, Connect());
  const core::TableName parent = Qualified(step.Param("table"));
  auto attached = [&]() -> util::Result<bool> {
    TM_TRY_ASSIGN(Relation r, LookUp(*conn, parent.schema, step.partition));
    return r.exists && r.parent_name == parent.name && r.parent_schema == parent.schema &&
           !r.detach_pending;
  };
  auto in_bin = [&]() -> util::Result<bool> {
    TM_TRY_ASSIGN(Relation r, LookUp(*conn, kRecycleSchema, step.Param("bin")));
    return r.exists;
  };
  if (step.action == core::action::kCreatePartition ||
      step.action == core::action::kRestoreFromBin ||
      step.action == core::action::kRestoreFromArchive) {
    TM_TRY_ASSIGN(bool ok, attached());
    if (!ok) return util::Fail(util::ErrorCategory::kVerify, step.partition + " is not attached");
    return {};
  }
  if (step.action == core::action::kHidePartition || step.action == core::action::kFinalizeDetach) {
    TM_TRY_ASSIGN(bool ok, attached());
    if (ok) return util::Fail(util::ErrorCategory::kVerify, step.partition + " is attached again");
    return {};
  }
  if (step.action == core::action::kPurgeRecycled) {
    TM_TRY_ASSIGN(bool there, in_bin());
    if (there) {
      return util::Fail(util::ErrorCategory::kVerify,
                        step.Param("bin") + " is still in " + kRecycleSchema);
    }
    return {};
  }
  return {};
}

}  // namespace

util::Result<std::unique_ptr<Backend>> OpenPostgresBackend(const config::Config& config,
                                                           const config::Connection& connection) {
  return std::unique_ptr<Backend>(new PostgresBackend(config, connection));
}

}  // namespace tidemark::backend::postgres
