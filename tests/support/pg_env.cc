#include "tests/support/pg_env.h"

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

PgServer ServerFromEnvironment() {
  return PgServer{Environment("TIDEMARK_TEST_PG_URL"), Environment(kTestPgPasswordEnv),
                  Environment("TIDEMARK_TEST_PG_BIN")};
}

std::unique_ptr<sql::PqConnection> Open(const std::string& url, const std::string& what) {
  auto connection = sql::PqConnection::Open({url, kTestPgPasswordEnv, "", what});
  if (!connection) {
    ADD_FAILURE() << connection.error().message();
    return nullptr;
  }
  return std::move(*connection);
}

std::string NewDatabaseName() {
  static std::atomic<int> counter{0};
  return "tm_" + std::to_string(getpid()) + "_" + std::to_string(++counter) + "_" +
         util::RandomHex(8);
}

}  // namespace

const PgServer& TestPgServer() {
  static const PgServer server = ServerFromEnvironment();
  if (!server.available()) {
    ADD_FAILURE() << "this test needs PostgreSQL 15, and TIDEMARK_TEST_PG_URL is not set: run "
                     "the tests through scripts/test, or start a server with "
                     "`scripts/pg-server start DIR` and export the variables in DIR/env "
                     "(set -a; . DIR/env; set +a)";
  }
  return server;
}

std::string PgUrlWithDatabase(const std::string& url, const std::string& database) {
  const size_t query = url.find('?');
  const std::string base = url.substr(0, query);
  const std::string params = query == std::string::npos ? "" : url.substr(query);
  const size_t authority = base.find("://");
  const size_t slash = base.find('/', authority == std::string::npos ? 0 : authority + 3);
  return base.substr(0, slash) + "/" + database + params;
}

PgTestDatabase::PgTestDatabase() : name_(NewDatabaseName()) {
  const PgServer& server = TestPgServer();
  if (!server.available()) return;
  url_ = PgUrlWithDatabase(server.url, name_);
  auto admin = Open(server.url, "test server");
  if (admin == nullptr) return;
  auto created = admin->Exec("CREATE DATABASE " + sql::QuoteIdent(name_));
  if (!created) {
    ADD_FAILURE() << created.error().message();
    return;
  }
  created_ = true;
}

PgTestDatabase::~PgTestDatabase() {
  if (!created_) return;
  shared_.reset();
  auto admin = Open(TestPgServer().url, "test server");
  if (admin == nullptr) return;
  auto dropped = admin->Exec("DROP DATABASE IF EXISTS " + sql::QuoteIdent(name_) + " WITH (FORCE)");
  if (!dropped) ADD_FAILURE() << dropped.error().message();
}

std::unique_ptr<sql::PqConnection> PgTestDatabase::Connect() const {
  if (!created_) {
    ADD_FAILURE() << "the test database " << name_ << " was not created";
    return nullptr;
  }
  return Open(url_, "test database " + name_);
}

sql::PqConnection* PgTestDatabase::Shared() {
  if (shared_ == nullptr || !shared_->Healthy()) shared_ = Connect();
  return shared_.get();
}

bool PgTestDatabase::Exec(const std::string& sql) {
  sql::PqConnection* connection = Shared();
  if (connection == nullptr) return false;
  auto done = connection->Exec(sql);
  if (!done) ADD_FAILURE() << done.error().message();
  return done.has_value();
}

sql::PqRows PgTestDatabase::Query(const std::string& sql, const sql::PqParams& params) {
  sql::PqConnection* connection = Shared();
  if (connection == nullptr) return {};
  auto rows = connection->Query(sql, params);
  if (!rows) {
    ADD_FAILURE() << rows.error().message();
    return {};
  }
  return std::move(*rows);
}

std::string PgConfigYaml(const std::string& url, const std::string& datasets) {
  return "state: sqlite:.tidemark/state.db\n"
         "runs_dir: .tidemark/runs\n"
         "connections:\n"
         "  pg: { url: \"" +
         url + "\", password_env: " + kTestPgPasswordEnv +
         " }\n"
         "  cold: { url: \"file:archive\" }\n"
         "archives:\n"
         "  cold: { connection: cold }\n"
         "datasets:\n" +
         datasets;
}

}  // namespace tidemark::testing
