// A PostgreSQL client connection over libpq: the one place tidemark speaks the
// PostgreSQL protocol, used by the PostgreSQL backend and the PostgreSQL state store.
//
// Connecting: a "postgres://" or "postgresql://" URL with every libpq parameter passed
// through (sslmode, sslrootcert, connect_timeout, options, …). The password comes from
// `password_env` or `password_file` when given, else from libpq's own mechanisms
// (~/.pgpass, PGPASSFILE, PGPASSWORD). Every session runs with TimeZone=UTC, DateStyle
// ISO and an application_name of "tidemark", so that values read back never depend
// on the server's or the role's settings.
//
// Errors: failing to connect is kConnect. A failing statement is kStep, with the
// server's SQLSTATE kept in the message and in `Sqlstate()`; lock timeouts, deadlocks
// and serialization failures are retryable. A connection lost in the middle of work
// (including pg_terminate_backend) is a kStep error that is not retryable: an operator
// who ends tidemark's session wants it to stop, and a rerun resumes. Messages never
// contain the password.
//
// Thread-safety: a PqConnection is used by one thread at a time.

#ifndef TIDEMARK_SQL_PQ_CONNECTION_H_
#define TIDEMARK_SQL_PQ_CONNECTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tidemark/util/error.h"

struct pg_result;  // libpq's PGresult

namespace tidemark::sql {

struct PqOptions {
  std::string url;            // postgres://user@host:port/db?sslmode=…
  std::string password_env;   // environment variable holding the password
  std::string password_file;  // file whose first line is the password (absolute path)
  std::string what;           // names the connection in messages: "connection 'app'"
};

// A query's rows, as text (the server's text output format). It keeps libpq's result
// and hands out views into it: a catalog read of tens of thousands of rows copies
// nothing. Copies share the result.
class PqRows {
 public:
  PqRows() = default;
  int rows() const { return rows_; }
  int columns() const { return static_cast<int>(names_.size()); }
  // The index of a column by name; -1 when absent.
  int Column(std::string_view name) const;
  bool IsNull(int row, int column) const;
  // The value, or "" for NULL; valid while this PqRows (or a copy) lives.
  std::string_view View(int row, int column) const;
  std::string Text(int row, int column) const { return std::string(View(row, column)); }
  // The value as an integer; 0 for NULL or text that is not a number.
  int64_t Int(int row, int column) const;
  // "t"/"f" as a boolean.
  bool Bool(int row, int column) const { return View(row, column) == "t"; }
  // Rows the statement inserted, updated, deleted or copied (its command tag).
  int64_t affected() const { return affected_; }

 private:
  friend class PqConnection;
  std::shared_ptr<pg_result> result_;
  std::vector<std::string> names_;
  int rows_ = 0;
  int64_t affected_ = 0;
};

// Query parameters: std::nullopt is SQL NULL.
using PqParams = std::vector<std::optional<std::string>>;

class PqConnection {
 public:
  ~PqConnection();
  PqConnection(const PqConnection&) = delete;
  PqConnection& operator=(const PqConnection&) = delete;

  static util::Result<std::unique_ptr<PqConnection>> Open(const PqOptions& options);

  // Runs one statement with parameters ($1, $2, …) and returns its rows.
  util::Result<PqRows> Query(std::string_view sql, const PqParams& params = {});
  // Runs `statements` in one round trip (libpq's pipeline mode) and hands each one's
  // rows to `each` with its index, in order, as they arrive: the caller works on one
  // result while the server computes the next, and holds one result at a time. The
  // first failure (a statement's or `each`'s) is returned; the statements after a failed
  // one are not run, and those before it have been.
  struct Statement {
    std::string_view sql;
    PqParams params;
  };
  util::Status QueryEach(const std::vector<Statement>& statements,
                         const std::function<util::Status(size_t, const PqRows&)>& each);

  // Runs one or more statements without parameters (simple protocol); no rows.
  util::Status Exec(std::string_view sql);

  // Runs `COPY … TO STDOUT` and hands the data to `sink` in the pieces the server
  // sends (rows or groups of rows). A sink error stops the copy (the connection is
  // then reset) and is returned. Returns the number of rows the server reports.
  util::Result<int64_t> CopyOut(std::string_view sql,
                                const std::function<util::Status(std::string_view)>& sink);

  // Runs `COPY … FROM STDIN`, feeding it from `source` until the source returns an
  // empty view. A source error aborts the copy and is returned. Returns the number
  // of rows the server loaded.
  util::Result<int64_t> CopyIn(std::string_view sql,
                               const std::function<util::Result<std::string_view>()>& source);

  // The server's version as a number: 150004 for 15.4.
  int ServerVersion() const;
  // The process id of the server backend serving this connection.
  int BackendPid() const;
  // Whether the connection still works (false after it was terminated).
  bool Healthy() const;
  // The SQLSTATE of the last failed statement ("" when none or unknown).
  const std::string& Sqlstate() const { return sqlstate_; }
  // "connection 'app' (db1:5432/app)": for messages.
  const std::string& Describe() const { return describe_; }

 private:
  struct Impl;
  explicit PqConnection(std::unique_ptr<Impl> impl);
  util::Error StatementError(std::string_view what);
  // The error a failed result reports, with its SQLSTATE; retryable by the SQLSTATE
  // while the connection stands.
  util::Error ResultError(const pg_result* result, std::string_view sql);
  // The rows of a successful result, which they keep.
  static PqRows MakeRows(std::shared_ptr<pg_result> result);
  // Collects the results that end a COPY: the rows it reports, or its first error.
  util::Result<int64_t> FinishCopy(std::string_view sql);

  std::unique_ptr<Impl> impl_;
  std::string sqlstate_;
  std::string describe_;
};

// An identifier quoted by PostgreSQL's rules: "my ""odd"" Name".
std::string QuoteIdent(std::string_view name);
// "schema"."name", or just "name" when `schema` is empty.
std::string QuoteQualified(std::string_view schema, std::string_view name);
// A string literal: 'it''s'. Standard-conforming strings are assumed (PostgreSQL's
// default since 9.1); a literal holding a backslash uses the E'' form.
std::string QuoteLiteral(std::string_view value);

// Whether a SQLSTATE means that waiting and trying again may succeed (lock timeout,
// deadlock, serialization failure).
bool IsRetryableSqlstate(std::string_view sqlstate);

}  // namespace tidemark::sql

#endif  // TIDEMARK_SQL_PQ_CONNECTION_H_
