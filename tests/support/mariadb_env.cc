#include "tests/support/mariadb_env.h"

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

}  // namespace

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

}  // namespace tidemark::testing
