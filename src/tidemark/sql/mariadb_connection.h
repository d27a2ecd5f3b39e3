// A MariaDB client connection over libmariadb (MariaDB Connector/C): the one place
// tidemark speaks the MariaDB protocol, used by the MariaDB backend.
//
// Connecting: a "mariadb://" or "mysql://" URL,
//   mariadb://user[:password]@host[:port]/[database][?param=value&…]
// with the parameters ssl_mode (disabled | preferred | required | verify_ca |
// verify_identity; default preferred), ssl_ca, ssl_capath, ssl_cert, ssl_key,
// connect_timeout (seconds, default 10) and socket (a Unix socket path; the host is then
// only named in messages). The host "localhost" means the default Unix socket, as
// everywhere in MariaDB; use 127.0.0.1 for TCP. User, password and database may be
// percent-encoded. The password comes from `password_env`, else `password_file`, else
// the URL, else there is none. No option file (my.cnf) is read.
//
// Every session runs with utf8mb4, time_zone '+00:00' and sql_mode
// 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', whatever the server's or the account's
// defaults, so that values read back never depend on them. NO_BACKSLASH_ESCAPES is
// off: QuoteMariaDbLiteral and the LOAD DATA format below rely on backslash escapes.
// libmariadb never reconnects on its own (a new session would lose these settings and
// hide a KILL).
//
// Errors: a bad URL is kConfig; failing to connect is kConnect (retryable unless the
// server refused the account or the database, or TLS could not be had). A failing
// statement is kStep, with the server's error number in the message ("(errno 1205)")
// and in `ErrorNumber()`; lock wait timeouts (row locks and metadata locks alike) and
// deadlocks are retryable (IsRetryableMariaDbError). A statement ended by KILL QUERY and
// a connection killed or lost (KILL, a server shutdown) are kStep errors that are not
// retryable: an operator who ends tidemark's work wants it to stop, and a rerun resumes.
// After KILL QUERY the connection goes on; after the others Healthy() is false.
// Messages never contain the password.
//
// Thread-safety: a MariaDbConnection is used by one thread at a time. Connections on
// different threads are independent.

#ifndef TIDEMARK_SQL_MARIADB_CONNECTION_H_
#define TIDEMARK_SQL_MARIADB_CONNECTION_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tidemark/util/error.h"

struct st_mysql_res;  // libmariadb's MYSQL_RES

namespace tidemark::sql {

struct MariaDbOptions {
  std::string url;              // mariadb://user@host:port/db?ssl_mode=…
  std::string password_env;     // environment variable holding the password
  std::string password_file;    // file whose first line is the password (absolute path)
  std::string what;             // names the connection in messages: "connection 'logs'"
  int lock_wait_timeout_s = 0;  // the session's lock_wait_timeout (metadata locks);
                                // 0 leaves the server's
};

// The parts of a mariadb:// URL. Text is percent-decoded.
struct MariaDbUrl {
  std::string user;                     // "" lets libmariadb use the login name
  std::string password;                 // from the URL; "" when it has none
  bool has_password = false;            // whether the URL holds a password (even an empty one)
  std::string host;                     // name or address, without IPv6 brackets
  unsigned int port = 3306;             // TCP port
  std::string database;                 // "" for none
  std::string socket;                   // Unix socket path; "" for TCP (or the default socket)
  std::string ssl_mode = "preferred";   // disabled|preferred|required|verify_ca|verify_identity
  std::string ssl_ca;                   // CA certificate file (verify_ca, verify_identity)
  std::string ssl_capath;               // directory of CA certificates (verify_ca, verify_identity)
  std::string ssl_cert;                 // client certificate file
  std::string ssl_key;                  // client key file
  unsigned int connect_timeout_s = 10;  // seconds
};

// Parses `url`; a malformed URL, an unknown parameter or a bad value is kConfig.
util::Result<MariaDbUrl> ParseMariaDbUrl(std::string_view url);

// A query's rows, as text (the server's text protocol; binary columns as their bytes).
// It keeps libmariadb's result and hands out views into it: nothing is copied. Copies
// share the result, which may outlive the connection.
class MariaDbRows {
 public:
  MariaDbRows() = default;
  int rows() const { return static_cast<int>(rows_.size()); }
  int columns() const { return static_cast<int>(names_.size()); }
  const std::vector<std::string>& column_names() const { return names_; }
  // The index of a column by name; -1 when absent.
  int Column(std::string_view name) const;
  bool IsNull(int row, int column) const { return rows_[row][column] == nullptr; }
  // The value's bytes (binary-safe), or "" for NULL; valid while this MariaDbRows (or a
  // copy) lives.
  std::string_view View(int row, int column) const;
  std::string Text(int row, int column) const { return std::string(View(row, column)); }
  // The value as an integer; 0 for NULL or text that is not a number.
  int64_t Int(int row, int column) const;
  // Rows the statement returned, inserted, updated or deleted (mysql_affected_rows).
  int64_t affected() const { return affected_; }

 private:
  friend class MariaDbConnection;
  std::shared_ptr<st_mysql_res> result_;
  std::vector<std::string> names_;
  std::vector<char**> rows_;            // libmariadb's MYSQL_ROW of each row
  std::vector<unsigned long> lengths_;  // rows × columns byte lengths
  int64_t affected_ = 0;
};

// One row handed to a StreamRows sink: each column's bytes and whether it is NULL.
// Valid only during the call of the sink.
class MariaDbRowView {
 public:
  MariaDbRowView(char** values, const unsigned long* lengths, int columns)
      : values_(values), lengths_(lengths), columns_(columns) {}
  int columns() const { return columns_; }
  bool IsNull(int column) const { return values_[column] == nullptr; }
  // The value's bytes (binary-safe); "" for NULL.
  std::string_view View(int column) const {
    return IsNull(column) ? std::string_view()
                          : std::string_view(values_[column], lengths_[column]);
  }

 private:
  char** values_;
  const unsigned long* lengths_;
  int columns_;
};

class MariaDbConnection {
 public:
  ~MariaDbConnection();
  MariaDbConnection(const MariaDbConnection&) = delete;
  MariaDbConnection& operator=(const MariaDbConnection&) = delete;

  static util::Result<std::unique_ptr<MariaDbConnection>> Open(const MariaDbOptions& options);

  // Runs one statement and returns all its rows, held in memory (mysql_store_result).
  // For statements without rows, rows() is 0 and affected() what they changed.
  util::Result<MariaDbRows> Query(std::string_view sql);

  // Runs one statement; any rows are discarded.
  util::Status Exec(std::string_view sql);

  // Runs one statement and hands its rows to `sink` one at a time as they arrive from
  // the server (mysql_use_result): memory stays bounded whatever the size of the
  // result. Returns the number of rows handed over. A sink error stops the stream and
  // is returned; the connection stays usable: the statement is ended with KILL QUERY
  // from a second, short-lived connection (as libpq's cancel does), and what the server
  // had already sent is read and discarded. The connection must not be used from the
  // sink.
  util::Result<int64_t> StreamRows(std::string_view sql,
                                   const std::function<util::Status(const MariaDbRowView&)>& sink);

  // Runs a `LOAD DATA LOCAL INFILE 'name' …` statement whose file content comes from
  // `source` (the name is not used; nothing is read from disk), in pieces of any size,
  // until the source returns an empty view. A piece stays valid until the next call.
  // Returns the rows loaded (affected rows; lines skipped by IGNORE n LINES not counted).
  // Memory stays bounded by the size of the source's pieces.
  //
  // The statement runs in a transaction of its own (or, when one is open, after a
  // savepoint): libmariadb ends the file normally when a read fails, so the server would
  // otherwise keep the rows before the failure. A source error therefore rolls the load
  // back, leaves the connection usable and is returned; so does a failing statement. A
  // success commits (or releases the savepoint). Rolling back needs a transactional
  // table (InnoDB); rows loaded into MyISAM or Aria stay.
  //
  // LOCAL makes the server treat the rows as with IGNORE: a duplicate key skips the row,
  // a value that does not fit is truncated or zeroed, each with a warning only, even in
  // strict mode. So a load that leaves any warning (notes aside) is a kStep error naming
  // the first, with its number in ErrorNumber(), and is rolled back like a failure.
  //
  // Name the character set in the statement (kLoadDataFormat does): LOAD DATA reads the
  // file in the database's character set otherwise, not the connection's.
  util::Result<int64_t> LoadDataLocal(
      std::string_view sql, const std::function<util::Result<std::string_view>()>& source);

  // The server's version as a number: 101119 for 10.11.19.
  unsigned long ServerVersion() const;
  // The server's id of this session (CONNECTION_ID(), what KILL takes).
  unsigned long ThreadId() const;
  // Whether the connection still works (false after it was lost or killed).
  bool Healthy() const { return healthy_; }
  // The MariaDB error number of the last failed statement (0 when none).
  unsigned int ErrorNumber() const { return error_number_; }
  // "connection 'logs' (db2:3306/logs)": for messages.
  const std::string& Describe() const { return describe_; }

 private:
  struct Impl;
  explicit MariaDbConnection(std::unique_ptr<Impl> impl);
  // The error of the last failed call on the connection, for `sql`; records its number
  // and whether the connection is gone.
  util::Error StatementError(std::string_view sql);
  // Ends the statement running on this connection from a second connection; best effort.
  void KillRunningQuery();
  // Discards further results of a statement (a CALL's), keeping the connection in step.
  void DiscardMoreResults();
  // LoadDataLocal's statement, without the transaction around it.
  util::Result<int64_t> RunLoad(std::string_view sql,
                                const std::function<util::Result<std::string_view>()>& source);
  // The error for a load that left `count` warnings, unless all are notes.
  util::Status RefuseWarnings(std::string_view sql, unsigned int count);

  std::unique_ptr<Impl> impl_;
  std::string describe_;
  unsigned int error_number_ = 0;
  bool healthy_ = true;
};

// The format clause for LOAD DATA of the text that AppendLoadDataField writes:
// "CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY
// '\n'" (MariaDB's defaults, spelled out, and the character set).
extern const char kLoadDataFormat[];

// Appends one field in LOAD DATA's default text format (also SELECT … INTO OUTFILE's):
// \N for NULL; otherwise the bytes, with backslash, tab, newline, carriage return and
// NUL written as \\, \t, \n, \r and \0. Every other byte (UTF-8 or not) is written as
// it is. The caller writes the separators: '\t' between fields, '\n' after each row.
void AppendLoadDataField(std::string& out, const char* data, size_t size, bool is_null);
// Appends a whole row of StreamRows in that format, ending with '\n'.
void AppendLoadDataRow(std::string& out, const MariaDbRowView& row);

// An identifier quoted with backticks, backticks inside doubled: `my ``odd`` name`.
std::string QuoteMariaDbIdent(std::string_view name);
// `schema`.`name`, or just `name` when `schema` is empty.
std::string QuoteMariaDbQualified(std::string_view schema, std::string_view name);
// A string literal in single quotes, with backslash escapes for \0, \n, \r, \\, ', "
// and \Z (0x1a). Needs no connection; correct for the session settings above
// (NO_BACKSLASH_ESCAPES off) and any ASCII-compatible character set (utf8mb4).
std::string QuoteMariaDbLiteral(std::string_view value);

// Whether a MariaDB error number means that waiting and trying again may succeed:
// 1205 (lock wait timeout, row or metadata lock), 1213 (deadlock), 1020 (record changed
// since last read, innodb_snapshot_isolation's write conflict) and 1969
// (max_statement_time exceeded). Lost or killed connections and killed queries (2006,
// 2013, 1927, 1317) are not retryable.
bool IsRetryableMariaDbError(unsigned int error_number);

}  // namespace tidemark::sql

#endif  // TIDEMARK_SQL_MARIADB_CONNECTION_H_
