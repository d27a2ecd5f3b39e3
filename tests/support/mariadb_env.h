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

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

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

// A tidemark.yaml with connection `db` to `url` (password from kTestMariaDbPasswordEnv),
// an archive `cold` under ./archive, the SQLite state and run files in ./.tidemark, then
// `datasets` (the text under `datasets:`).
std::string MariaDbConfigYaml(const std::string& url, const std::string& datasets);

// A new, empty database on the test server, with a name no other test uses
// (tm_<pid>_<counter>_<random>), dropped when this object is destroyed together with
// the recycle bin tables of its tables (in tidemark_recycle, named "<database>__…" or
// marked with it as their parent's database). Every failure fails the current test;
// check ok() before relying on the database.
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

  // The partitions of `table` (of this database) in order, as "name<PARTITION_DESCRIPTION"
  // ("p20240101<739252", "pmax<MAXVALUE").
  std::vector<std::string> Partitions(const std::string& table);
  // The exact number of rows of `table`, or of its partition `partition` when given.
  int64_t CountRows(const std::string& table, const std::string& partition = "");
  // "COUNT MD5" of every row of `schema`.`table` (or of its partition `partition`), each
  // column in hex or NULL, in a stable order: equal rows, equal digest, whatever the
  // bytes (NUL, tabs, emoji, binary).
  std::string RowsDigest(const std::string& schema, const std::string& table,
                         const std::string& partition = "");
  // Every partition of `table` by name, with its exact row count, its bound and the
  // digest of its rows: "3 rows <739252 3 9f…".
  std::map<std::string, std::string> PartitionContents(const std::string& table);

 private:
  sql::MariaDbConnection* Shared();

  std::string name_;
  std::string url_;
  bool created_ = false;
  std::unique_ptr<sql::MariaDbConnection> shared_;
};

// The partitions that the "REORGANIZE PARTITION a, b INTO (…)" statements among
// `statements` take apart, unquoted, in order.
std::vector<std::string> ReorganizedPartitions(const std::vector<std::string>& statements);

// The statements that sessions connected to one database send while this object lives,
// from the server's general log (log_output TABLE). The log is a server-wide setting and
// ctest runs tests in parallel: each capture holds a server lock (GET_LOCK) for its
// lifetime, so captures of different tests take turns, and only the sessions that
// connected to `database` are read. The destructor restores general_log and log_output.
class MariaDbStatementLog {
 public:
  explicit MariaDbStatementLog(const std::string& database);
  ~MariaDbStatementLog();
  MariaDbStatementLog(const MariaDbStatementLog&) = delete;
  MariaDbStatementLog& operator=(const MariaDbStatementLog&) = delete;

  // Whether logging was switched on.
  bool ok() const { return started_; }
  // Every statement (COM_QUERY) of those sessions so far, as the log holds them (the order they ran
  // in).
  std::vector<std::string> Statements();

 private:
  std::string database_;
  std::unique_ptr<sql::MariaDbConnection> admin_;
  std::string since_;  // NOW(6) when logging started
  std::string saved_general_log_, saved_log_output_;
  bool started_ = false;
};

}  // namespace tidemark::testing

#endif  // TIDEMARK_TESTS_SUPPORT_MARIADB_ENV_H_
