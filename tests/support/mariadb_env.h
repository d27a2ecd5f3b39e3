// Support for integration tests that need MariaDB: the server that
// scripts/mariadb-server started (named by the environment that scripts/test exports),
// and throwaway databases on it.
//
// A missing server is a test failure, never a skip: a suite that silently skipped its
// database tests would pass without testing anything.
//
// Thread-safety: for the test's main thread.

#ifndef TIDEMARK_TESTS_SUPPORT_MARIADB_ENV_H_
#define TIDEMARK_TESTS_SUPPORT_MARIADB_ENV_H_

#include <memory>
#include <string>

#include "tidemark/sql/mariadb_connection.h"

namespace tidemark::testing {

// The environment variable that holds the test server's password; pass it as
// MariaDbOptions::password_env.
inline constexpr char kTestMariaDbPasswordEnv[] = "TIDEMARK_TEST_MARIADB_PASSWORD";

struct MariaDbServer {
  std::string url;       // TIDEMARK_TEST_MARIADB_URL: mariadb://tidemark_test@127.0.0.1:PORT/
  std::string password;  // TIDEMARK_TEST_MARIADB_PASSWORD
  std::string bin_dir;   // TIDEMARK_TEST_MARIADB_BIN: where mariadb, mariadb-dump… are
  bool available() const { return !url.empty(); }
};

// The test server. When TIDEMARK_TEST_MARIADB_URL is not set, each call fails the
// current test with a message saying how to start one, and returns a server that is not
// available().
const MariaDbServer& TestMariaDbServer();

// `url` (mariadb://user@host:port/db?params) naming `database` instead of its own.
std::string MariaDbUrlWithDatabase(const std::string& url, const std::string& database);

// A new, empty database on the test server, with a name no other test uses
// (tm_<pid>_<counter>_<random>), dropped when this object is destroyed. Every failure
// fails the current test; check ok() before relying on the database.
class MariaDbTestDatabase {
 public:
  MariaDbTestDatabase();
  ~MariaDbTestDatabase();
  MariaDbTestDatabase(const MariaDbTestDatabase&) = delete;
  MariaDbTestDatabase& operator=(const MariaDbTestDatabase&) = delete;

  // Whether the database was created.
  bool ok() const { return created_; }
  const std::string& name() const { return name_; }
  // mariadb://tidemark_test@127.0.0.1:PORT/NAME: connects with the server's password.
  const std::string& url() const { return url_; }

  // Options for a connection to the database with the server's password (from
  // kTestMariaDbPasswordEnv); change them and call MariaDbConnection::Open.
  sql::MariaDbOptions Options() const;
  // A new connection to the database; nullptr (and a test failure) on error.
  std::unique_ptr<sql::MariaDbConnection> Connect() const;

  // Shortcuts on one connection kept for them (opened again when it was lost): run a
  // statement, or a query. An error fails the test (Exec returns false, Query no rows).
  bool Exec(const std::string& sql);
  sql::MariaDbRows Query(const std::string& sql);

 private:
  sql::MariaDbConnection* Shared();

  std::string name_;
  std::string url_;
  bool created_ = false;
  std::unique_ptr<sql::MariaDbConnection> shared_;
};

}  // namespace tidemark::testing

#endif  // TIDEMARK_TESTS_SUPPORT_MARIADB_ENV_H_
