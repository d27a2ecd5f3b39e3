#include "tidemark/backend/mariadb/md_backend.h"

#include <cstdlib>

#include "tidemark/backend/mariadb/md_observe.h"
#include "tidemark/backend/mariadb/md_steps.h"
#include "tidemark/backend/table_archive_steps.h"
#include "tidemark/sql/mariadb_connection.h"
#include "tidemark/util/strings.h"

namespace tidemark::backend::mariadb {

namespace {

using core::Step;

// Errors that mean the account lacks a privilege: the server's message names the
// command and the object.
bool IsPrivilegeError(unsigned int number) {
  return number == 1142 || number == 1143 || number == 1044 || number == 1227 || number == 1370;
}

// The server's error number in a failed statement's message ("… (errno 1142)"), or 0.
// A step that fails under LOCK TABLES runs UNLOCK TABLES after, which clears the
// connection's ErrorNumber(); the message keeps the number.
unsigned int ErrorNumberIn(const util::Status& status) {
  if (status) return 0;
  const std::string& message = status.error().message();
  const size_t at = message.rfind("(errno ");
  return at == std::string::npos ? 0
                                 : static_cast<unsigned int>(std::atoi(message.c_str() + at + 7));
}

class MariaDbBackend : public BatchBackend {
 public:
  MariaDbBackend(const config::Config& config, const config::Connection& connection)
      : config_(config), connection_(connection) {}

  std::string system() const override { return "mariadb"; }

  util::Status CheckConnection() override {
    TM_TRY(Connect());
    return {};
  }

  util::Result<std::vector<util::Result<core::ObservedStorage>>> ObserveMany(
      const std::vector<StorageRef>& refs, const util::TimeZone& zone) override {
    TM_TRY_ASSIGN(sql::MariaDbConnection * conn, Connect());
    ObserveContext context{conn, connection_.name, connection_.url, database_};
    return ObserveTables(context, refs, zone);
  }

  std::string Render(const Step& step) const override;
  util::Status Execute(const Step& step, StepContext& context) override;
  util::Status Holds(const Step& step) override;

 private:
  util::Result<sql::MariaDbConnection*> Connect();
  util::Result<StepEnv> Env(const Step& step, StepContext* context);
  int WaitSeconds() const { return std::max(1, (connection_.lock_timeout_ms + 999) / 1000); }

  const config::Config& config_;
  config::Connection connection_;
  std::string database_;  // the URL's database
  std::unique_ptr<sql::MariaDbConnection> conn_;
};

util::Result<sql::MariaDbConnection*> MariaDbBackend::Connect() {
  if (conn_ && conn_->Healthy()) return conn_.get();
  conn_.reset();
  TM_TRY_ASSIGN(sql::MariaDbUrl url, sql::ParseMariaDbUrl(connection_.url));
  database_ = url.database;
  sql::MariaDbOptions options;
  options.url = connection_.url;
  options.password_env = connection_.password_env;
  if (!connection_.password_file.empty())
    options.password_file = config_.ResolvePath(connection_.password_file);
  options.what = "connection '" + connection_.name + "'";
  // Every statement of the session waits at most this long for a metadata lock, so an
  // ALTER behind a long transaction gives up (and retries later) instead of making
  // every other session of the table queue behind it.
  options.lock_wait_timeout_s = WaitSeconds();
  TM_TRY_ASSIGN(conn_, sql::MariaDbConnection::Open(options));
  const unsigned long version = conn_->ServerVersion();
  const bool mariadb = version >= 100000;
  if ((mariadb && version < 100300) || (!mariadb && version < 50700)) {
    const std::string name = conn_->Describe();
    conn_.reset();
    return util::Fail(util::ErrorCategory::kConnect,
                      name + " runs " + (mariadb ? "MariaDB " : "MySQL ") +
                          std::to_string(version / 10000) + "." +
                          std::to_string(version / 100 % 100) +
                          "; tidemark needs MariaDB 10.3 or later, or MySQL 5.7 or later");
  }
  return conn_.get();
}

util::Result<StepEnv> MariaDbBackend::Env(const Step& step, StepContext* context) {
  TM_TRY_ASSIGN(sql::MariaDbConnection * conn, Connect());
  StepEnv env;
  env.conn = conn;
  env.step = &step;
  env.context = context;
  env.parent = Qualified(step.Param("table"), database_);
  env.policy = RetryPolicy{WaitSeconds() * 1000, connection_.ddl_attempts, 250};
  env.wait_s = WaitSeconds();
  env.config = &config_;
  const unsigned long version = conn->ServerVersion();
  env.mariadb = version >= 100000;
  env.detach = env.mariadb && version >= 100700 ? DetachMethod::kConvert : DetachMethod::kExchange;
  if (const char* forced = std::getenv("TIDEMARK_MARIADB_DETACH")) {
    if (std::string(forced) == "exchange") env.detach = DetachMethod::kExchange;
  }
  if (!step.Param("timezone").empty()) {
    TM_TRY_ASSIGN(env.zone, util::TimeZone::Load(step.Param("timezone")));
  }
  return env;
}

std::string MariaDbBackend::Render(const Step& step) const {
  const core::TableName parent = Qualified(step.Param("table"), "");
  const std::string table = sql::QuoteMariaDbQualified(parent.schema, parent.name);
  const std::string partition = sql::QuoteMariaDbIdent(step.partition);
  const std::string bin = sql::QuoteMariaDbQualified(kRecycleDatabase, step.Param("bin"));
  const std::string alter = "ALTER TABLE " + table + " WAIT " + std::to_string(WaitSeconds()) + " ";
  if (step.action == core::action::kCreatePartition) {
    return "LOCK TABLES " + table + " WRITE; -- the MAXVALUE partition must be empty\n" + alter +
           "REORGANIZE PARTITION pmax INTO (PARTITION " + partition +
           " VALUES LESS THAN (…), PARTITION pmax VALUES LESS THAN (MAXVALUE)); UNLOCK TABLES";
  }
  if (step.action == core::action::kReorganizeAhead) {
    std::vector<std::string> from, into;
    for (const std::string& name : util::Split(step.Param("reorganize"), '\n'))
      from.push_back(sql::QuoteMariaDbIdent(name));
    for (const std::string& line : util::Split(step.Param("into"), '\n')) {
      const size_t space = line.rfind(' ');
      into.push_back("PARTITION " + sql::QuoteMariaDbIdent(line.substr(0, space)) +
                     " VALUES LESS THAN (" + line.substr(space + 1) + ")");
    }
    return "LOCK TABLES " + table + " WRITE; -- all of " + util::Join(from, ", ") +
           " must be empty\n" + alter + "REORGANIZE PARTITION " + util::Join(from, ", ") +
           " INTO (" + util::Join(into, ", ") + "); UNLOCK TABLES";
  }
  if (step.action == core::action::kHidePartition) {
    const std::string target = step.Param("detached") == "1"
                                   ? sql::QuoteMariaDbQualified(parent.schema, step.Param("bin"))
                                   : bin;
    return alter + "CONVERT PARTITION " + partition + " TO TABLE " + target +
           "  -- MySQL: EXCHANGE PARTITION with an empty copy, then DROP PARTITION; then "
           "COMMENT = 'tidemark:{…}'";
  }
  if (step.action == core::action::kCheckArchive) return "test -w " + step.Param("archive");
  if (step.action == core::action::kCopyToArchive) {
    return "SELECT … FROM " + bin + " (streamed) | zstd > " + step.Param("archive") +
           "data.tsv.zst; manifest.json with SHOW CREATE TABLE, row count and sha256";
  }
  if (step.action == core::action::kVerifyArchive) {
    return "zstd -dc " + step.Param("archive") + "data.tsv.zst | count rows and sha256";
  }
  if (step.action == core::action::kPurgeRecycled) return "DROP TABLE " + bin;
  if (step.action == core::action::kRestoreFromBin) {
    if (!step.Param("to_table").empty()) {
      return "RENAME TABLE " + bin + " TO " + step.Param("to_table");
    }
    return alter + "REORGANIZE PARTITION <the one covering it> INTO (PARTITION " + partition +
           " …, …)  -- copies that partition's rows\n" + alter + "EXCHANGE PARTITION " + partition +
           " WITH TABLE " + bin + "; DROP TABLE " + bin;
  }
  if (step.action == core::action::kRestoreFromArchive) {
    return "zstd -dc " + step.Param("archive") + "data.tsv.zst | LOAD DATA LOCAL INFILE … INTO " +
           (step.Param("to_table").empty() ? "a new table, then REORGANIZE and EXCHANGE it in"
                                           : step.Param("to_table"));
  }
  return step.action;
}

util::Status MariaDbBackend::Execute(const Step& step, StepContext& context) {
  if (step.action == core::action::kCheckArchive) return CheckArchiveWritable(step, config_);
  TM_TRY_ASSIGN(StepEnv env, Env(step, &context));
  util::Status status;
  if (step.action == core::action::kCreatePartition) {
    status = CreatePartition(env);
  } else if (step.action == core::action::kReorganizeAhead) {
    status = ReorganizeAhead(env);
  } else if (step.action == core::action::kHidePartition) {
    status = HidePartition(env);
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
    return util::StepError("step " + step.id + ": the mariadb backend has no action " +
                           step.action);
  }
  if (!status && ((conn_ && IsPrivilegeError(conn_->ErrorNumber())) ||
                  IsPrivilegeError(ErrorNumberIn(status)))) {
    // Applying again cannot help until the grants change: say what tidemark needs.
    return util::StepError(status.error().message() + "; the account of connection '" +
                           connection_.name +
                           "' needs SELECT, INSERT, ALTER, DROP, CREATE and "
                           "LOCK TABLES on " +
                           env.parent.schema + ", and the same on " + kRecycleDatabase +
                           " (see docs/mariadb.md, Privileges)");
  }
  return status;
}

util::Status MariaDbBackend::Holds(const Step& step) {
  StepContext context;
  TM_TRY_ASSIGN(StepEnv env, Env(step, &context));
  auto placed = [&]() -> util::Result<bool> {
    TM_TRY_ASSIGN(Layout layout, ReadLayout(env));
    return layout.Find(step.partition) >= 0;
  };
  if (step.action == core::action::kCreatePartition ||
      (step.action == core::action::kRestoreFromBin && step.Param("to_table").empty()) ||
      (step.action == core::action::kRestoreFromArchive && step.Param("to_table").empty())) {
    TM_TRY_ASSIGN(bool ok, placed());
    if (!ok) {
      return util::Fail(util::ErrorCategory::kVerify,
                        step.partition + " is not a partition of " + env.parent.ToString());
    }
    return {};
  }
  if (step.action == core::action::kHidePartition) {
    TM_TRY_ASSIGN(bool ok, placed());
    if (ok) {
      return util::Fail(util::ErrorCategory::kVerify,
                        step.partition + " is a partition of " + env.parent.ToString() + " again");
    }
    return {};
  }
  if (step.action == core::action::kReorganizeAhead) {
    TM_TRY_ASSIGN(Layout layout, ReadLayout(env));
    for (const std::string& line : util::Split(step.Param("into"), '\n')) {
      const std::string name = line.substr(0, line.rfind(' '));
      if (layout.Find(name) < 0) {
        return util::Fail(util::ErrorCategory::kVerify,
                          name + " is not a partition of " + env.parent.ToString());
      }
    }
    return {};
  }
  if (step.action == core::action::kPurgeRecycled) {
    TM_TRY_ASSIGN(TableState there, LookUp(env, {kRecycleDatabase, step.Param("bin")}));
    if (there.exists) {
      return util::Fail(util::ErrorCategory::kVerify,
                        step.Param("bin") + " is still in " + kRecycleDatabase);
    }
  }
  return {};
}

}  // namespace

util::Result<std::unique_ptr<Backend>> OpenMariaDbBackend(const config::Config& config,
                                                          const config::Connection& connection) {
  return std::unique_ptr<Backend>(new MariaDbBackend(config, connection));
}

}  // namespace tidemark::backend::mariadb
