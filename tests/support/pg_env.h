// Support for integration tests that need PostgreSQL: the server that scripts/pg-server
// started (named by the environment that scripts/test exports), and throwaway
// databases on it.
//
// A missing server is a test failure, never a skip: a suite that silently skipped its
// database tests would pass without testing anything.
//
// Thread-safety: for the test's main thread.

#ifndef TIDEMARK_TESTS_SUPPORT_PG_ENV_H_
#define TIDEMARK_TESTS_SUPPORT_PG_ENV_H_

#include <memory>
#include <string>

#include "tidemark/sql/pq_connection.h"

namespace tidemark::testing {

// The environment variable that holds the test server's password; pass it as
// PqOptions::password_env.
inline constexpr char kTestPgPasswordEnv[] = "TIDEMARK_TEST_PG_PASSWORD";

struct PgServer {
  std::string url;       // TIDEMARK_TEST_PG_URL: postgres://tidemark_test@127.0.0.1:PORT/postgres
  std::string password;  // TIDEMARK_TEST_PG_PASSWORD
  std::string bin_dir;   // TIDEMARK_TEST_PG_BIN: where psql, pg_dump… are
  bool available() const { return !url.empty(); }
};

// The test server. When TIDEMARK_TEST_PG_URL is not set, each call fails the current
// test with a message saying how to start one, and returns a server that is not
// available().
const PgServer& TestPgServer();

// `url` (postgres://user@host:port/db?params) naming `database` instead of its own.
std::string PgUrlWithDatabase(const std::string& url, const std::string& database);

// A new, empty database on the test server, with a name no other test uses
// (tm_<pid>_<counter>_<random>), dropped WITH (FORCE) when this object is destroyed.
// Every failure fails the current test; check ok() before relying on the database.
// A tidemark.yaml with connection `pg` to `url` (password from kTestPgPasswordEnv),
// an archive `cold` under ./archive, the SQLite state in ./.tidemark, then `datasets`
// (the text under `datasets:`).
std::string PgConfigYaml(const std::string& url, const std::string& datasets);

class PgTestDatabase {
 public:
  PgTestDatabase();
  ~PgTestDatabase();
  PgTestDatabase(const PgTestDatabase&) = delete;
  PgTestDatabase& operator=(const PgTestDatabase&) = delete;

  // Whether the database was created.
  bool ok() const { return created_; }
  const std::string& name() const { return name_; }
  // postgres://tidemark_test@127.0.0.1:PORT/NAME: connects with the server's password.
  const std::string& url() const { return url_; }

  // A new connection to the database; nullptr (and a test failure) on error.
  std::unique_ptr<sql::PqConnection> Connect() const;

  // Shortcuts on one connection kept for them: run statements, or one query with
  // parameters. An error fails the test (Exec returns false, Query no rows).
  bool Exec(const std::string& sql);
  sql::PqRows Query(const std::string& sql, const sql::PqParams& params = {});

 private:
  sql::PqConnection* Shared();

  std::string name_;
  std::string url_;
  bool created_ = false;
  std::unique_ptr<sql::PqConnection> shared_;
};

}  // namespace tidemark::testing

#endif  // TIDEMARK_TESTS_SUPPORT_PG_ENV_H_
