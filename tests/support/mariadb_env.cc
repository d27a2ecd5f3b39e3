#include "tests/support/mariadb_env.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>

#include <gtest/gtest.h>
#include <unistd.h>

#include "tidemark/util/strings.h"

namespace tidemark::testing {

namespace {

std::string Environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

MariaDbServer ServerFromEnvironment() {
  return MariaDbServer{Environment("TIDEMARK_TEST_MARIADB_URL"),
                       Environment(kTestMariaDbPasswordEnv),
                       Environment("TIDEMARK_TEST_MARIADB_BIN")};
}

std::unique_ptr<sql::MariaDbConnection> Open(const sql::MariaDbOptions& options) {
  auto connection = sql::MariaDbConnection::Open(options);
  if (!connection) {
    ADD_FAILURE() << connection.error().message();
    return nullptr;
  }
  return std::move(*connection);
}

sql::MariaDbOptions OptionsFor(const std::string& url, const std::string& what) {
  sql::MariaDbOptions options;
  options.url = url;
  options.password_env = kTestMariaDbPasswordEnv;
  options.what = what;
  return options;
}

std::string NewDatabaseName() {
  static std::atomic<int> counter{0};
  return "tm_" + std::to_string(getpid()) + "_" + std::to_string(++counter) + "_" +
         util::RandomHex(8);
}

// Drops the tables of tidemark_recycle that came from `database`: named after it
// ("<database>__<table>__<partition>__until_…"), or, when a long name was shortened,
// marked with it as their parent's database.
void DropBinTables(sql::MariaDbConnection& admin, const std::string& database) {
  const std::string prefix = sql::QuoteMariaDbLiteral(database + "__");
  auto tables = admin.Query(
      "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'tidemark_recycle' "
      "AND (LEFT(TABLE_NAME, CHAR_LENGTH(" +
      prefix + ")) = " + prefix + " OR LOCATE(" +
      sql::QuoteMariaDbLiteral("\"parent_schema\":\"" + database + "\"") + ", TABLE_COMMENT) > 0)");
  if (!tables) {
    ADD_FAILURE() << tables.error().message();
    return;
  }
  for (int r = 0; r < tables->rows(); ++r) {
    auto dropped = admin.Exec("DROP TABLE IF EXISTS " +
                              sql::QuoteMariaDbQualified("tidemark_recycle", tables->Text(r, 0)));
    if (!dropped) ADD_FAILURE() << dropped.error().message();
  }
}

// The one value of a query, or "" (and a test failure).
std::string Value(sql::MariaDbConnection& connection, const std::string& sql) {
  auto rows = connection.Query(sql);
  if (!rows) {
    ADD_FAILURE() << rows.error().message();
    return "";
  }
  return rows->rows() == 1 && !rows->IsNull(0, 0) ? rows->Text(0, 0) : "";
}

}  // namespace

std::string MariaDbConfigYaml(const std::string& url, const std::string& datasets) {
  return "state: sqlite:.tidemark/state.db\n"
         "runs_dir: .tidemark/runs\n"
         "connections:\n"
         "  db: { url: \"" +
         url + "\", password_env: " + kTestMariaDbPasswordEnv +
         " }\n"
         "  cold: { url: \"file:archive\" }\n"
         "archives:\n"
         "  cold: { connection: cold }\n"
         "datasets:\n" +
         datasets;
}

const MariaDbServer& TestMariaDbServer() {
  static const MariaDbServer server = ServerFromEnvironment();
  if (!server.available()) {
    ADD_FAILURE() << "this test needs MariaDB 10.11, and TIDEMARK_TEST_MARIADB_URL is not set: "
                     "run the tests through scripts/test, or start a server with "
                     "`scripts/mariadb-server start DIR` and export the variables in DIR/env "
                     "(set -a; . DIR/env; set +a)";
  }
  return server;
}

std::string MariaDbUrlWithDatabase(const std::string& url, const std::string& database) {
  const size_t query = url.find('?');
  const std::string base = url.substr(0, query);
  const std::string params = query == std::string::npos ? "" : url.substr(query);
  const size_t authority = base.find("://");
  const size_t slash = base.find('/', authority == std::string::npos ? 0 : authority + 3);
  return base.substr(0, slash) + "/" + database + params;
}

MariaDbTestDatabase::MariaDbTestDatabase() : name_(NewDatabaseName()) {
  const MariaDbServer& server = TestMariaDbServer();
  if (!server.available()) return;
  url_ = MariaDbUrlWithDatabase(server.url, name_);
  auto admin = Open(OptionsFor(server.url, "test server"));
  if (admin == nullptr) return;
  auto created = admin->Exec("CREATE DATABASE " + sql::QuoteMariaDbIdent(name_));
  if (!created) {
    ADD_FAILURE() << created.error().message();
    return;
  }
  created_ = true;
}

MariaDbTestDatabase::~MariaDbTestDatabase() {
  if (!created_) return;
  shared_.reset();
  auto admin = Open(OptionsFor(TestMariaDbServer().url, "test server"));
  if (admin == nullptr) return;
  DropBinTables(*admin, name_);
  auto dropped = admin->Exec("DROP DATABASE IF EXISTS " + sql::QuoteMariaDbIdent(name_));
  if (!dropped) ADD_FAILURE() << dropped.error().message();
}

sql::MariaDbOptions MariaDbTestDatabase::Options() const {
  return OptionsFor(url_, "test database " + name_);
}

std::unique_ptr<sql::MariaDbConnection> MariaDbTestDatabase::Connect() const {
  if (!created_) {
    ADD_FAILURE() << "the test database " << name_ << " was not created";
    return nullptr;
  }
  return Open(Options());
}

sql::MariaDbConnection* MariaDbTestDatabase::Shared() {
  if (shared_ == nullptr || !shared_->Healthy()) shared_ = Connect();
  return shared_.get();
}

bool MariaDbTestDatabase::Exec(const std::string& sql) {
  sql::MariaDbConnection* connection = Shared();
  if (connection == nullptr) return false;
  auto done = connection->Exec(sql);
  if (!done) ADD_FAILURE() << done.error().message();
  return done.has_value();
}

sql::MariaDbRows MariaDbTestDatabase::Query(const std::string& sql) {
  sql::MariaDbConnection* connection = Shared();
  if (connection == nullptr) return {};
  auto rows = connection->Query(sql);
  if (!rows) {
    ADD_FAILURE() << rows.error().message();
    return {};
  }
  return std::move(*rows);
}

std::vector<std::string> MariaDbTestDatabase::Partitions(const std::string& table) {
  sql::MariaDbRows rows = Query(
      "SELECT CONCAT(PARTITION_NAME, '<', PARTITION_DESCRIPTION) FROM "
      "information_schema.PARTITIONS "
      "WHERE TABLE_SCHEMA = DATABASE() AND PARTITION_NAME IS NOT NULL AND TABLE_NAME = BINARY " +
      sql::QuoteMariaDbLiteral(table) + " ORDER BY PARTITION_ORDINAL_POSITION");
  std::vector<std::string> out;
  for (int r = 0; r < rows.rows(); ++r) out.push_back(rows.Text(r, 0));
  return out;
}

int64_t MariaDbTestDatabase::CountRows(const std::string& table, const std::string& partition) {
  sql::MariaDbRows rows =
      Query("SELECT COUNT(*) FROM " + sql::QuoteMariaDbIdent(table) +
            (partition.empty() ? "" : " PARTITION (" + sql::QuoteMariaDbIdent(partition) + ")"));
  return rows.rows() == 1 ? rows.Int(0, 0) : -1;
}

std::string MariaDbTestDatabase::RowsDigest(const std::string& schema, const std::string& table,
                                            const std::string& partition) {
  sql::MariaDbRows columns =
      Query("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = BINARY " +
            sql::QuoteMariaDbLiteral(schema) + " AND TABLE_NAME = BINARY " +
            sql::QuoteMariaDbLiteral(table) + " ORDER BY ORDINAL_POSITION");
  if (columns.rows() == 0) return "<no table " + schema + "." + table + ">";
  std::string row = "CONCAT_WS(','";
  for (int c = 0; c < columns.rows(); ++c) {
    row += ", IFNULL(HEX(" + sql::QuoteMariaDbIdent(columns.Text(c, 0)) + "), 'NULL')";
  }
  row += ")";
  sql::MariaDbRows digest = Query(
      "SET STATEMENT group_concat_max_len = 1073741824 FOR SELECT CONCAT(COUNT(*), ' ', "
      "MD5(IFNULL(GROUP_CONCAT(" +
      row + " ORDER BY " + row + " SEPARATOR ';'), ''))) FROM " +
      sql::QuoteMariaDbQualified(schema, table) +
      (partition.empty() ? "" : " PARTITION (" + sql::QuoteMariaDbIdent(partition) + ")"));
  return digest.rows() == 1 ? digest.Text(0, 0) : "<none>";
}

std::map<std::string, std::string> MariaDbTestDatabase::PartitionContents(
    const std::string& table) {
  std::map<std::string, std::string> out;
  for (const std::string& partition : Partitions(table)) {
    const std::string name = partition.substr(0, partition.find('<'));
    out[name] = std::to_string(CountRows(table, name)) + " rows " + partition.substr(name.size()) +
                " " + RowsDigest(name_, table, name);
  }
  return out;
}

std::vector<std::string> ReorganizedPartitions(const std::vector<std::string>& statements) {
  std::vector<std::string> out;
  for (const std::string& statement : statements) {
    const size_t from = statement.find("REORGANIZE PARTITION ");
    if (from == std::string::npos) continue;
    const size_t start = from + std::string("REORGANIZE PARTITION ").size();
    const size_t into = statement.find(" INTO ", start);
    for (std::string name : util::Split(statement.substr(start, into - start), ',')) {
      name.erase(
          std::remove_if(name.begin(), name.end(), [](char c) { return c == '`' || c == ' '; }),
          name.end());
      out.push_back(name);
    }
  }
  return out;
}

MariaDbStatementLog::MariaDbStatementLog(const std::string& database) : database_(database) {
  const MariaDbServer& server = TestMariaDbServer();
  if (!server.available()) return;
  admin_ = Open(OptionsFor(server.url, "test server (general log)"));
  if (admin_ == nullptr) return;
  if (Value(*admin_, "SELECT GET_LOCK('tidemark_tests_general_log', 600)") != "1") {
    ADD_FAILURE() << "another test kept the general log for 10 minutes";
    return;
  }
  saved_general_log_ = Value(*admin_, "SELECT @@GLOBAL.general_log");
  saved_log_output_ = Value(*admin_, "SELECT @@GLOBAL.log_output");
  since_ = Value(*admin_, "SELECT NOW(6)");
  std::string output = saved_log_output_;
  if (output == "NONE" || output.empty()) {
    output = "TABLE";
  } else if (output.find("TABLE") == std::string::npos) {
    output += ",TABLE";
  }
  started_ = true;  // from here on, the destructor restores what was saved
  for (const std::string& sql : {"SET GLOBAL log_output = " + sql::QuoteMariaDbLiteral(output),
                                 std::string("SET GLOBAL general_log = ON")}) {
    auto done = admin_->Exec(sql);
    if (!done) ADD_FAILURE() << done.error().message();
  }
}

MariaDbStatementLog::~MariaDbStatementLog() {
  if (admin_ == nullptr) return;
  if (started_) {
    for (const std::string& sql :
         {"SET GLOBAL general_log = " + std::string(saved_general_log_ == "1" ? "ON" : "OFF"),
          "SET GLOBAL log_output = " + sql::QuoteMariaDbLiteral(saved_log_output_)}) {
      auto restored = admin_->Exec(sql);
      if (!restored) ADD_FAILURE() << restored.error().message();
    }
  }
  (void)admin_->Exec("DO RELEASE_LOCK('tidemark_tests_general_log')");
}

std::vector<std::string> MariaDbStatementLog::Statements() {
  std::vector<std::string> out;
  if (!started_) return out;
  const std::string since = sql::QuoteMariaDbLiteral(since_);
  auto rows = admin_->Query(
      "SELECT CONVERT(argument USING utf8mb4) FROM mysql.general_log WHERE event_time >= " + since +
      " AND command_type = 'Query' AND thread_id IN (SELECT thread_id FROM mysql.general_log "
      "WHERE event_time >= " +
      since + " AND command_type = 'Connect' AND LOCATE(" +
      sql::QuoteMariaDbLiteral(" on " + database_ + " using ") + ", argument) > 0)");
  if (!rows) {
    ADD_FAILURE() << rows.error().message();
    return out;
  }
  for (int r = 0; r < rows->rows(); ++r) out.push_back(rows->Text(r, 0));
  return out;
}

}  // namespace tidemark::testing
