#include "tidemark/sql/pq_connection.h"

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <libpq-fe.h>

#include "tidemark/util/strings.h"

namespace tidemark::sql {

namespace {

// libpq's notices (NOTICE, WARNING) would go to stderr; tidemark reports what matters.
void IgnoreNotice(void*, const char*) {}

// The URL without its password, if one slipped in, and without query parameters:
// "postgres://user@host:5432/db".
std::string Redact(const std::string& url) {
  std::string out = url;
  size_t q = out.find('?');
  if (q != std::string::npos) out.resize(q);
  size_t scheme = out.find("://");
  size_t at = out.find('@', scheme == std::string::npos ? 0 : scheme + 3);
  if (scheme != std::string::npos && at != std::string::npos) {
    size_t colon = out.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at) out.erase(colon, at - colon);
  }
  return out;
}

// libpq messages end with a newline and may span lines; one line is easier to read.
std::string Clean(const char* message) {
  std::string text = message == nullptr ? "" : message;
  // The server's excerpt of the statement ("LINE 1: … ^") only repeats the statement.
  if (size_t excerpt = text.find("\nLINE "); excerpt != std::string::npos) text.resize(excerpt);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  return text;
}

// The first words of a statement, for messages ("CREATE TABLE …").
std::string Summary(std::string_view sql) {
  std::string text(sql.substr(0, 80));
  for (char& c : text) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  if (sql.size() > 80) text += "…";
  return text;
}

int64_t RowsOf(const PGresult* result) {
  const char* tuples = PQcmdTuples(const_cast<PGresult*>(result));
  return tuples == nullptr || *tuples == '\0' ? 0 : std::strtoll(tuples, nullptr, 10);
}

std::string Field(const PGresult* result, int code) {
  const char* value = PQresultErrorField(result, code);
  return value == nullptr ? "" : value;
}

}  // namespace

struct PqConnection::Impl {
  PGconn* conn = nullptr;
  ~Impl() {
    if (conn != nullptr) PQfinish(conn);
  }
};

PqConnection::PqConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PqConnection::~PqConnection() = default;

util::Result<std::unique_ptr<PqConnection>> PqConnection::Open(const PqOptions& options) {
  const std::string what = options.what.empty() ? "PostgreSQL" : options.what;
  const std::string where = what + " (" + Redact(options.url) + ")";
  std::string password;
  bool have_password = false;
  if (!options.password_env.empty()) {
    const char* value = std::getenv(options.password_env.c_str());
    if (value == nullptr) {
      return util::Fail(util::ErrorCategory::kConnect,
                        where + ": the environment variable " + options.password_env +
                            " (password_env) is not set; set it to the password");
    }
    password = value;
    have_password = true;
  } else if (!options.password_file.empty()) {
    std::ifstream in(options.password_file);
    if (!in) {
      return util::Fail(util::ErrorCategory::kConnect,
                        where + ": cannot read the password file " + options.password_file +
                            " (password_file): " + std::strerror(errno));
    }
    std::getline(in, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    have_password = true;
  }
  // Keywords override what the URL says; the URL is expanded first (expand_dbname).
  std::vector<const char*> keys = {"dbname", "fallback_application_name"};
  std::vector<const char*> values = {options.url.c_str(), "tidemark"};
  if (have_password) {
    keys.push_back("password");
    values.push_back(password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  auto impl = std::make_unique<Impl>();
  impl->conn = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (impl->conn == nullptr) {
    return util::Fail(util::ErrorCategory::kConnect, where + ": out of memory");
  }
  if (PQstatus(impl->conn) != CONNECTION_OK) {
    std::string message = Clean(PQerrorMessage(impl->conn));
    if (have_password && !password.empty()) {
      for (size_t at; (at = message.find(password)) != std::string::npos;)
        message.replace(at, password.size(), "***");
    }
    return util::Fail(util::ErrorCategory::kConnect, where + ": " + message, true);
  }
  PQsetNoticeProcessor(impl->conn, IgnoreNotice, nullptr);
  std::unique_ptr<PqConnection> connection(new PqConnection(std::move(impl)));
  connection->describe_ = where;
  // Values read back (bounds, timestamps) must not depend on the server's or the
  // role's settings; set them here rather than through `options`, which the URL may use.
  auto set = connection->Exec(
      "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; "
      "SET extra_float_digits = 3");
  if (!set) {
    return util::Fail(util::ErrorCategory::kConnect, set.error().message(), false);
  }
  return connection;
}

util::Error PqConnection::StatementError(std::string_view what) {
  std::string message = Clean(PQerrorMessage(impl_->conn));
  bool retryable = IsRetryableSqlstate(sqlstate_);
  if (PQstatus(impl_->conn) != CONNECTION_OK) {
    retryable = false;
    if (message.empty()) message = "the connection was lost";
  }
  std::string text = describe_ + ": " + std::string(what) + ": " + message;
  if (!sqlstate_.empty()) text += " (SQLSTATE " + sqlstate_ + ")";
  return util::Error(util::ErrorCategory::kStep, text, retryable);
}

util::Error PqConnection::ResultError(const PGresult* result, std::string_view sql) {
  sqlstate_ = Field(result, PG_DIAG_SQLSTATE);
  std::string detail = Clean(PQresultErrorMessage(result));
  if (detail.empty()) detail = Clean(PQerrorMessage(impl_->conn));
  if (detail.empty()) detail = "the connection was lost";
  const bool healthy = PQstatus(impl_->conn) == CONNECTION_OK;
  return util::Error(util::ErrorCategory::kStep,
                     describe_ + ": " + Summary(sql) + ": " + detail +
                         (sqlstate_.empty() ? "" : " (SQLSTATE " + sqlstate_ + ")"),
                     healthy && IsRetryableSqlstate(sqlstate_));
}

util::Result<int64_t> PqConnection::FinishCopy(std::string_view sql) {
  int64_t rows = 0;
  std::optional<util::Error> failure;
  while (PGresult* result = PQgetResult(impl_->conn)) {
    if (PQresultStatus(result) == PGRES_COMMAND_OK) {
      rows = RowsOf(result);
    } else if (!failure) {
      failure = ResultError(result, sql);
    }
    PQclear(result);
  }
  if (failure) return tl::unexpected(*failure);
  if (PQstatus(impl_->conn) != CONNECTION_OK) return tl::unexpected(StatementError(Summary(sql)));
  return rows;
}

namespace {

// The values of `params` as libpq takes them.
std::vector<const char*> ParamValues(const PqParams& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return values;
}

}  // namespace

PqRows PqConnection::MakeRows(std::shared_ptr<PGresult> result) {
  PqRows rows;
  const char* tuples = PQcmdTuples(result.get());
  rows.affected_ = tuples == nullptr || *tuples == '\0' ? 0 : std::strtoll(tuples, nullptr, 10);
  const int n = PQnfields(result.get());
  rows.names_.reserve(n);
  for (int c = 0; c < n; ++c) rows.names_.emplace_back(PQfname(result.get(), c));
  rows.rows_ = PQntuples(result.get());
  rows.result_ = std::move(result);
  return rows;
}

util::Result<PqRows> PqConnection::Query(std::string_view sql, const PqParams& params) {
  sqlstate_.clear();
  std::string text(sql);
  std::vector<const char*> values = ParamValues(params);
  std::shared_ptr<PGresult> result(
      PQexecParams(impl_->conn, text.c_str(), static_cast<int>(params.size()), nullptr,
                   values.data(), nullptr, nullptr, 0),
      &PQclear);
  ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return tl::unexpected(ResultError(result.get(), sql));
  }
  return MakeRows(std::move(result));
}

util::Status PqConnection::QueryEach(
    const std::vector<Statement>& statements,
    const std::function<util::Status(size_t, const PqRows&)>& each) {
  sqlstate_.clear();
  if (statements.empty()) return {};
  PGconn* conn = impl_->conn;
  if (PQenterPipelineMode(conn) != 1) return tl::unexpected(StatementError("pipeline mode"));
  std::optional<util::Error> failure;
  size_t sent = 0;
  for (const Statement& statement : statements) {
    std::string text(statement.sql);
    std::vector<const char*> values = ParamValues(statement.params);
    if (PQsendQueryParams(conn, text.c_str(), static_cast<int>(statement.params.size()), nullptr,
                          values.data(), nullptr, nullptr, 0) != 1) {
      failure = StatementError(Summary(statement.sql));
      break;
    }
    ++sent;
  }
  if (PQpipelineSync(conn) != 1 && !failure) failure = StatementError("pipeline sync");
  // Each statement's results end with a null; the sync's result ends the pipeline.
  size_t index = 0;
  for (;;) {
    PGresult* raw = PQgetResult(conn);
    if (raw == nullptr) {
      if (PQstatus(conn) != CONNECTION_OK) {
        if (!failure) failure = StatementError(Summary(statements[std::min(index, sent)].sql));
        break;
      }
      if (++index > sent) break;  // not reached while the sync is pending; a safeguard
      continue;
    }
    std::shared_ptr<PGresult> result(raw, &PQclear);
    const ExecStatusType status = PQresultStatus(raw);
    if (status == PGRES_PIPELINE_SYNC) break;
    if (status == PGRES_PIPELINE_ABORTED) continue;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      if (!failure) failure = ResultError(raw, statements[std::min(index, sent - 1)].sql);
      continue;
    }
    if (failure) continue;
    auto handled = each(index, MakeRows(std::move(result)));
    if (!handled) failure = handled.error();
  }
  (void)PQexitPipelineMode(conn);
  if (failure) return tl::unexpected(*failure);
  return {};
}

util::Status PqConnection::Exec(std::string_view sql) {
  sqlstate_.clear();
  std::string text(sql);
  if (!PQsendQuery(impl_->conn, text.c_str())) return tl::unexpected(StatementError(Summary(sql)));
  std::optional<util::Error> first;
  while (PGresult* result = PQgetResult(impl_->conn)) {
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK && status != PGRES_EMPTY_QUERY &&
        !first) {
      first = ResultError(result, sql);
    }
    PQclear(result);
  }
  if (PQstatus(impl_->conn) != CONNECTION_OK && !first) first = StatementError(Summary(sql));
  if (first) return tl::unexpected(*first);
  return {};
}

util::Result<int64_t> PqConnection::CopyOut(
    std::string_view sql, const std::function<util::Status(std::string_view)>& sink) {
  sqlstate_.clear();
  std::string text(sql);
  PGresult* started = PQexec(impl_->conn, text.c_str());
  if (PQresultStatus(started) != PGRES_COPY_OUT) {
    util::Error error = ResultError(started, sql);
    PQclear(started);
    return tl::unexpected(error);
  }
  PQclear(started);
  std::optional<util::Error> sink_error;
  for (;;) {
    char* buffer = nullptr;
    int n = PQgetCopyData(impl_->conn, &buffer, /*async=*/0);
    if (n > 0) {
      if (!sink_error) {
        auto status = sink(std::string_view(buffer, static_cast<size_t>(n)));
        if (!status) sink_error = status.error();
      }
      PQfreemem(buffer);
      if (sink_error) break;
      continue;
    }
    if (n == -1) break;                                   // done; the final result follows
    return tl::unexpected(StatementError(Summary(sql)));  // -2: failure
  }
  if (sink_error) {
    // The server goes on sending; cancel the query and drain what is left so that the
    // connection stays usable.
    if (PGcancel* cancel = PQgetCancel(impl_->conn)) {
      char ignored[256];
      PQcancel(cancel, ignored, sizeof ignored);
      PQfreeCancel(cancel);
    }
    for (;;) {
      char* buffer = nullptr;
      int n = PQgetCopyData(impl_->conn, &buffer, 0);
      if (n > 0) {
        PQfreemem(buffer);
        continue;
      }
      break;
    }
    while (PGresult* result = PQgetResult(impl_->conn)) PQclear(result);
    return tl::unexpected(*sink_error);
  }
  return FinishCopy(sql);
}

util::Result<int64_t> PqConnection::CopyIn(
    std::string_view sql, const std::function<util::Result<std::string_view>()>& source) {
  sqlstate_.clear();
  std::string text(sql);
  PGresult* started = PQexec(impl_->conn, text.c_str());
  if (PQresultStatus(started) != PGRES_COPY_IN) {
    util::Error error = ResultError(started, sql);
    PQclear(started);
    return tl::unexpected(error);
  }
  PQclear(started);
  std::optional<util::Error> source_error;
  for (;;) {
    auto piece = source();
    if (!piece) {
      source_error = piece.error();
      break;
    }
    if (piece->empty()) break;
    if (PQputCopyData(impl_->conn, piece->data(), static_cast<int>(piece->size())) != 1) {
      return tl::unexpected(StatementError(Summary(sql)));
    }
  }
  std::string abort_reason;
  if (source_error) abort_reason = "tidemark stopped the load: " + source_error->message();
  if (PQputCopyEnd(impl_->conn, source_error ? abort_reason.c_str() : nullptr) != 1) {
    return tl::unexpected(StatementError(Summary(sql)));
  }
  auto rows = FinishCopy(sql);
  if (source_error) return tl::unexpected(*source_error);
  return rows;
}

int PqConnection::ServerVersion() const { return PQserverVersion(impl_->conn); }

int PqConnection::BackendPid() const { return PQbackendPID(impl_->conn); }

bool PqConnection::Healthy() const { return PQstatus(impl_->conn) == CONNECTION_OK; }

int PqRows::Column(std::string_view name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

bool PqRows::IsNull(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) != 0;
}

std::string_view PqRows::View(int row, int column) const {
  return std::string_view(PQgetvalue(result_.get(), row, column),
                          static_cast<size_t>(PQgetlength(result_.get(), row, column)));
}

int64_t PqRows::Int(int row, int column) const {
  std::string_view text = View(row, column);
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  (void)end;
  return error == std::errc() ? value : 0;
}

std::string QuoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string QuoteQualified(std::string_view schema, std::string_view name) {
  if (schema.empty()) return QuoteIdent(name);
  return QuoteIdent(schema) + "." + QuoteIdent(name);
}

std::string QuoteLiteral(std::string_view value) {
  bool backslash = value.find('\\') != std::string_view::npos;
  std::string out = backslash ? "E'" : "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    if (c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

bool IsRetryableSqlstate(std::string_view sqlstate) {
  return sqlstate == "55P03"      // lock_not_available (lock_timeout)
         || sqlstate == "40P01"   // deadlock_detected
         || sqlstate == "40001"   // serialization_failure
         || sqlstate == "57014"   // query_canceled (statement_timeout)
         || sqlstate == "55006";  // object_in_use
}

}  // namespace tidemark::sql
