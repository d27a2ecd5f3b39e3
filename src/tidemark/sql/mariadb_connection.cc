#include "tidemark/sql/mariadb_connection.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "tidemark/util/strings.h"

namespace tidemark::sql {

namespace {

using MysqlHandle = std::unique_ptr<MYSQL, void (*)(MYSQL*)>;

constexpr char kUrlParameters[] =
    "ssl_mode, ssl_ca, ssl_capath, ssl_cert, ssl_key, connect_timeout, socket";
constexpr char kSavepoint[] = "tidemark_load";

// What a connection needs to open another one like it (KILL QUERY).
struct Endpoint {
  MariaDbUrl url;
  std::string password;
  bool has_password = false;
  std::string password_source;  // "the environment variable X (password_env)"
  std::string where;            // "connection 'logs' (db2:3306/logs)"
};

// The first words of a statement, for messages ("ALTER TABLE …").
std::string Summary(std::string_view sql) {
  size_t size = std::min<size_t>(sql.size(), 80);
  // Not in the middle of a UTF-8 character.
  while (size < sql.size() && size > 0 && (static_cast<unsigned char>(sql[size]) & 0xC0) == 0x80) {
    --size;
  }
  std::string text(sql.substr(0, size));
  for (char& c : text) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  }
  if (size < sql.size()) text += "…";
  return text;
}

std::string WithoutPassword(std::string text, const std::string& password) {
  if (password.empty()) return text;
  for (size_t at; (at = text.find(password)) != std::string::npos;) {
    text.replace(at, password.size(), "***");
  }
  return text;
}

std::string ErrorText(MYSQL* mysql) {
  std::string text = mysql_error(mysql);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text.empty() ? "unknown error" : text;
}

// Errors after which the session is gone: lost, killed, or the server shutting down.
bool ConnectionGone(unsigned int number) {
  return number == CR_SERVER_GONE_ERROR || number == CR_SERVER_LOST ||
         number == CR_SERVER_LOST_EXTENDED || number == ER_CONNECTION_KILLED ||
         number == ER_SERVER_SHUTDOWN;
}

// Errors that retrying the same connection settings will not fix.
bool RefusedForGood(unsigned int number) {
  return number == ER_ACCESS_DENIED_ERROR || number == ER_DBACCESS_DENIED_ERROR ||
         number == ER_BAD_DB_ERROR || number == CR_SSL_CONNECTION_ERROR;
}

std::optional<unsigned int> ParseNumber(std::string_view text) {
  unsigned int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// Sets the authority part: user[:password]@host[:port].
util::Status ParseAuthority(std::string_view authority, MariaDbUrl& url) {
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    size_t colon = userinfo.find(':');
    url.user = util::PercentDecode(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) {
      url.password = util::PercentDecode(userinfo.substr(colon + 1));
      url.has_password = true;
    }
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return util::ConfigError("the URL's IPv6 address lacks its closing ']'");
    }
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return util::ConfigError("unexpected text after the URL's IPv6 address");
    }
    if (!rest.empty()) port = rest.substr(1);
  } else {
    size_t colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (!port.empty()) {
    auto number = ParseNumber(port);
    if (!number || *number == 0 || *number > 65535) {
      return util::ConfigError("the URL's port '" + std::string(port) +
                               "' is not a port number (1-65535)");
    }
    url.port = *number;
  }
  return {};
}

util::Status SetParameter(std::string_view key, const std::string& value, MariaDbUrl& url) {
  if (key == "ssl_mode") {
    static const char* const kModes[] = {"disabled", "preferred", "required", "verify_ca",
                                         "verify_identity"};
    if (std::find(std::begin(kModes), std::end(kModes), value) == std::end(kModes)) {
      return util::ConfigError("ssl_mode '" + value +
                               "' is not one of disabled, preferred, required, verify_ca, "
                               "verify_identity");
    }
    url.ssl_mode = value;
  } else if (key == "connect_timeout") {
    auto seconds = ParseNumber(value);
    if (!seconds || *seconds == 0) {
      return util::ConfigError("connect_timeout '" + value + "' is not a number of seconds (> 0)");
    }
    url.connect_timeout_s = *seconds;
  } else if (key == "ssl_ca") {
    url.ssl_ca = value;
  } else if (key == "ssl_capath") {
    url.ssl_capath = value;
  } else if (key == "ssl_cert") {
    url.ssl_cert = value;
  } else if (key == "ssl_key") {
    url.ssl_key = value;
  } else if (key == "socket") {
    url.socket = value;
  } else {
    return util::ConfigError("unknown parameter '" + std::string(key) +
                             "' in the URL; the known ones are " + kUrlParameters);
  }
  return {};
}

// The combinations of TLS settings that would not do what they seem to.
util::Status CheckTls(const MariaDbUrl& url) {
  const bool verify = url.ssl_mode == "verify_ca" || url.ssl_mode == "verify_identity";
  if (!verify && (!url.ssl_ca.empty() || !url.ssl_capath.empty())) {
    return util::ConfigError(
        "ssl_ca and ssl_capath take effect only with ssl_mode=verify_ca or "
        "verify_identity, and ssl_mode is " +
        url.ssl_mode);
  }
  if (url.ssl_mode == "verify_ca" && url.ssl_ca.empty() && url.ssl_capath.empty()) {
    return util::ConfigError("ssl_mode=verify_ca needs ssl_ca or ssl_capath");
  }
  if (url.ssl_mode == "disabled" && (!url.ssl_cert.empty() || !url.ssl_key.empty())) {
    return util::ConfigError("ssl_cert and ssl_key need TLS, and ssl_mode is disabled");
  }
  if (url.ssl_cert.empty() != url.ssl_key.empty()) {
    return util::ConfigError("ssl_cert and ssl_key go together; give both or neither");
  }
  return {};
}

// "127.0.0.1:3306/logs", "[::1]:3306/", "/run/mysqld/mysqld.sock/logs".
std::string Target(const MariaDbUrl& url) {
  std::string server = url.socket;
  if (server.empty()) {
    const bool v6 = url.host.find(':') != std::string::npos;
    server = (v6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
  }
  return server + "/" + url.database;
}

util::Status ResolvePassword(const MariaDbOptions& options, Endpoint& endpoint) {
  if (!options.password_env.empty()) {
    const char* value = std::getenv(options.password_env.c_str());
    if (value == nullptr) {
      return util::Fail(util::ErrorCategory::kConnect,
                        endpoint.where + ": the environment variable " + options.password_env +
                            " (password_env) is not set; set it to the password");
    }
    endpoint.password = value;
    endpoint.has_password = true;
    endpoint.password_source =
        "the environment variable " + options.password_env + " (password_env)";
  } else if (!options.password_file.empty()) {
    std::ifstream in(options.password_file);
    if (!in) {
      return util::Fail(util::ErrorCategory::kConnect,
                        endpoint.where + ": cannot read the password file " +
                            options.password_file + " (password_file): " + std::strerror(errno));
    }
    std::getline(in, endpoint.password);
    if (!endpoint.password.empty() && endpoint.password.back() == '\r') {
      endpoint.password.pop_back();
    }
    endpoint.has_password = true;
    endpoint.password_source = "the file " + options.password_file + " (password_file)";
  } else if (endpoint.url.has_password) {
    endpoint.password = endpoint.url.password;
    endpoint.has_password = true;
    endpoint.password_source = "the URL";
  } else {
    endpoint.password_source = "nowhere: no password_env, password_file or password in the URL";
  }
  return {};
}

void SetTlsOptions(MYSQL* mysql, const MariaDbUrl& url) {
  const my_bool off = 0;
  const my_bool on = 1;
  if (url.ssl_mode == "disabled") {
    mysql_optionsv(mysql, MYSQL_OPT_SSL_ENFORCE, &off);
    return;
  }
  // libmariadb 3.3 uses TLS when the server offers it and falls back to plain text
  // otherwise; Connect refuses that fallback for the modes that require TLS.
  mysql_optionsv(mysql, MYSQL_OPT_SSL_ENFORCE, &on);
  if (!url.ssl_cert.empty()) mysql_optionsv(mysql, MYSQL_OPT_SSL_CERT, url.ssl_cert.c_str());
  if (!url.ssl_key.empty()) mysql_optionsv(mysql, MYSQL_OPT_SSL_KEY, url.ssl_key.c_str());
  // With a CA, libmariadb verifies the server's certificate chain (OpenSSL's
  // SSL_VERIFY_PEER); verify_server_cert adds the host name check.
  if (!url.ssl_ca.empty()) mysql_optionsv(mysql, MYSQL_OPT_SSL_CA, url.ssl_ca.c_str());
  if (!url.ssl_capath.empty()) {
    mysql_optionsv(mysql, MYSQL_OPT_SSL_CAPATH, url.ssl_capath.c_str());
  }
  if (url.ssl_mode == "verify_identity") {
    mysql_optionsv(mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
  }
}

// A connected session, without tidemark's session settings.
util::Result<MysqlHandle> Connect(const Endpoint& endpoint) {
  static std::once_flag library;
  std::call_once(library, [] { mysql_library_init(0, nullptr, nullptr); });
  MysqlHandle mysql(mysql_init(nullptr), &mysql_close);
  if (mysql == nullptr) {
    return util::Fail(util::ErrorCategory::kConnect, endpoint.where + ": out of memory");
  }
  const MariaDbUrl& url = endpoint.url;
  const my_bool off = 0;
  const unsigned int local_infile = 1;
  mysql_optionsv(mysql.get(), MYSQL_OPT_CONNECT_TIMEOUT, &url.connect_timeout_s);
  mysql_optionsv(mysql.get(), MYSQL_SET_CHARSET_NAME, "utf8mb4");
  mysql_optionsv(mysql.get(), MYSQL_OPT_LOCAL_INFILE, &local_infile);
  mysql_optionsv(mysql.get(), MYSQL_OPT_RECONNECT, &off);
  SetTlsOptions(mysql.get(), url);
  auto text = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
  if (mysql_real_connect(mysql.get(), text(url.host), text(url.user),
                         endpoint.has_password ? endpoint.password.c_str() : nullptr,
                         text(url.database), url.port, text(url.socket), 0) == nullptr) {
    const unsigned int number = mysql_errno(mysql.get());
    std::string message =
        endpoint.where + ": " + ErrorText(mysql.get()) + " (errno " + std::to_string(number) + ")";
    if (number == ER_ACCESS_DENIED_ERROR) {
      message += "; the password came from " + endpoint.password_source;
    }
    return util::Fail(util::ErrorCategory::kConnect, WithoutPassword(message, endpoint.password),
                      !RefusedForGood(number));
  }
  const bool tls_required = url.ssl_mode != "disabled" && url.ssl_mode != "preferred";
  if (tls_required && mysql_get_ssl_cipher(mysql.get()) == nullptr) {
    return util::Fail(util::ErrorCategory::kConnect,
                      endpoint.where + ": the server does not offer TLS, and ssl_mode is " +
                          url.ssl_mode + "; configure TLS on the server or lower ssl_mode");
  }
  return mysql;
}

// The state of one LoadDataLocal, reached from libmariadb's callbacks.
struct LoadSource {
  const std::function<util::Result<std::string_view>()>* source = nullptr;
  std::string_view pending;
  bool ended = false;
  std::optional<util::Error> error;
};

constexpr char kLocalFileRefused[] =
    "LOAD DATA LOCAL INFILE runs only through MariaDbConnection::LoadDataLocal; tidemark reads "
    "no local file for the server";

}  // namespace

struct MariaDbConnection::Impl {
  MysqlHandle mysql{nullptr, &mysql_close};
  Endpoint endpoint;
  LoadSource* load = nullptr;  // while LoadDataLocal runs

  // libmariadb's LOAD DATA LOCAL callbacks: the server's request for a file is answered
  // from `load`, and refused when no LoadDataLocal runs (a server may ask for any file at
  // any time; the default handler would read it from disk).
  static int InfileInit(void** state, const char*, void* impl) {
    *state = static_cast<Impl*>(impl)->load;
    return *state == nullptr ? 1 : 0;
  }
  static int InfileRead(void* state, char* buffer, unsigned int size) {
    auto* load = static_cast<LoadSource*>(state);
    while (load->pending.empty()) {
      if (load->ended) return 0;
      auto piece = (*load->source)();
      if (!piece) {
        load->error = piece.error();
        return -1;
      }
      if (piece->empty()) load->ended = true;
      load->pending = *piece;
    }
    const size_t n = std::min<size_t>(size, load->pending.size());
    std::memcpy(buffer, load->pending.data(), n);
    load->pending.remove_prefix(n);
    return static_cast<int>(n);
  }
  static void InfileEnd(void*) {}
  static int InfileError(void* state, char* buffer, unsigned int size) {
    auto* load = static_cast<LoadSource*>(state);
    std::string text = load != nullptr && load->error ? load->error->message() : kLocalFileRefused;
    std::snprintf(buffer, size, "%s", text.c_str());
    return CR_UNKNOWN_ERROR;
  }
};

MariaDbConnection::MariaDbConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MariaDbConnection::~MariaDbConnection() = default;

util::Result<std::unique_ptr<MariaDbConnection>> MariaDbConnection::Open(
    const MariaDbOptions& options) {
  const std::string what = options.what.empty() ? "MariaDB" : options.what;
  auto url = ParseMariaDbUrl(options.url);
  if (!url) return tl::unexpected(url.error().WithContext(what));
  auto impl = std::make_unique<Impl>();
  impl->endpoint.url = std::move(*url);
  impl->endpoint.where = what + " (" + Target(impl->endpoint.url) + ")";
  TM_TRY(ResolvePassword(options, impl->endpoint));
  TM_TRY_ASSIGN(impl->mysql, Connect(impl->endpoint));
  mysql_set_local_infile_handler(impl->mysql.get(), &Impl::InfileInit, &Impl::InfileRead,
                                 &Impl::InfileEnd, &Impl::InfileError, impl.get());
  std::unique_ptr<MariaDbConnection> connection(new MariaDbConnection(std::move(impl)));
  connection->describe_ = connection->impl_->endpoint.where;
  // Values read back must not depend on the server's or the account's settings. Without
  // NO_BACKSLASH_ESCAPES, so that backslash escapes mean the same in every statement.
  std::string set =
      "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'";
  if (options.lock_wait_timeout_s > 0) {
    set += ", SESSION lock_wait_timeout = " + std::to_string(options.lock_wait_timeout_s);
  }
  if (auto done = connection->Exec(set); !done) {
    return util::Fail(util::ErrorCategory::kConnect, done.error().message(), false);
  }
  return connection;
}

util::Error MariaDbConnection::StatementError(std::string_view sql) {
  MYSQL* mysql = impl_->mysql.get();
  error_number_ = mysql_errno(mysql);
  if (ConnectionGone(error_number_)) healthy_ = false;
  std::string text = describe_ + ": " + Summary(sql) + ": " + ErrorText(mysql);
  if (error_number_ != 0) text += " (errno " + std::to_string(error_number_) + ")";
  return util::Error(util::ErrorCategory::kStep, text,
                     healthy_ && IsRetryableMariaDbError(error_number_));
}

void MariaDbConnection::DiscardMoreResults() {
  MYSQL* mysql = impl_->mysql.get();
  while (mysql_more_results(mysql) && mysql_next_result(mysql) == 0) {
    if (MYSQL_RES* result = mysql_store_result(mysql)) mysql_free_result(result);
  }
}

util::Result<MariaDbRows> MariaDbConnection::Query(std::string_view sql) {
  error_number_ = 0;
  MYSQL* mysql = impl_->mysql.get();
  if (mysql_real_query(mysql, sql.data(), sql.size()) != 0) {
    return tl::unexpected(StatementError(sql));
  }
  MariaDbRows rows;
  MYSQL_RES* result = mysql_store_result(mysql);
  if (result == nullptr && mysql_field_count(mysql) != 0) {
    return tl::unexpected(StatementError(sql));
  }
  rows.affected_ = static_cast<int64_t>(mysql_affected_rows(mysql));
  if (result != nullptr) {
    rows.result_.reset(result, &mysql_free_result);
    const unsigned int columns = mysql_num_fields(result);
    const MYSQL_FIELD* fields = mysql_fetch_fields(result);
    for (unsigned int c = 0; c < columns; ++c) {
      rows.names_.emplace_back(fields[c].name, fields[c].name_length);
    }
    rows.rows_.reserve(mysql_num_rows(result));
    rows.lengths_.reserve(mysql_num_rows(result) * columns);
    while (MYSQL_ROW row = mysql_fetch_row(result)) {
      const unsigned long* lengths = mysql_fetch_lengths(result);
      rows.rows_.push_back(row);
      rows.lengths_.insert(rows.lengths_.end(), lengths, lengths + columns);
    }
  }
  DiscardMoreResults();
  return rows;
}

util::Status MariaDbConnection::Exec(std::string_view sql) {
  TM_TRY(Query(sql));
  return {};
}

void MariaDbConnection::KillRunningQuery() {
  auto killer = Connect(impl_->endpoint);
  if (!killer) return;  // the rest of the result is then read and discarded
  const std::string kill = "KILL QUERY " + std::to_string(ThreadId());
  (void)mysql_real_query(killer->get(), kill.data(), kill.size());
}

util::Result<int64_t> MariaDbConnection::StreamRows(
    std::string_view sql, const std::function<util::Status(const MariaDbRowView&)>& sink) {
  error_number_ = 0;
  MYSQL* mysql = impl_->mysql.get();
  if (mysql_real_query(mysql, sql.data(), sql.size()) != 0) {
    return tl::unexpected(StatementError(sql));
  }
  MYSQL_RES* result = mysql_use_result(mysql);
  if (result == nullptr) {
    if (mysql_field_count(mysql) != 0) return tl::unexpected(StatementError(sql));
    DiscardMoreResults();
    return 0;
  }
  const int columns = static_cast<int>(mysql_num_fields(result));
  int64_t count = 0;
  std::optional<util::Error> failure;
  while (MYSQL_ROW row = mysql_fetch_row(result)) {
    auto handled = sink(MariaDbRowView(row, mysql_fetch_lengths(result), columns));
    if (!handled) {
      failure = handled.error();
      // The server would go on sending every row; stop it, then read what is in flight.
      KillRunningQuery();
      break;
    }
    ++count;
  }
  if (!failure && mysql_errno(mysql) != 0) failure = StatementError(sql);
  mysql_free_result(result);  // reads and discards the rest of an unfinished result
  if (failure) return tl::unexpected(*failure);
  DiscardMoreResults();
  return count;
}

util::Result<int64_t> MariaDbConnection::LoadDataLocal(
    std::string_view sql, const std::function<util::Result<std::string_view>()>& source) {
  error_number_ = 0;
  const bool nested = (impl_->mysql->server_status & SERVER_STATUS_IN_TRANS) != 0;
  const std::string savepoint = kSavepoint;
  TM_TRY(Exec(nested ? "SAVEPOINT " + savepoint : "START TRANSACTION"));
  auto loaded = RunLoad(sql, source);
  if (!loaded) {
    // Best effort: a lost connection or a deadlock has already rolled everything back.
    const unsigned int number = error_number_;
    if (nested) {
      (void)Exec("ROLLBACK TO SAVEPOINT " + savepoint);
      (void)Exec("RELEASE SAVEPOINT " + savepoint);
    } else {
      (void)Exec("ROLLBACK");
    }
    error_number_ = number;
    return loaded;
  }
  TM_TRY(Exec(nested ? "RELEASE SAVEPOINT " + savepoint : "COMMIT"));
  return loaded;
}

util::Result<int64_t> MariaDbConnection::RunLoad(
    std::string_view sql, const std::function<util::Result<std::string_view>()>& source) {
  MYSQL* mysql = impl_->mysql.get();
  LoadSource load;
  load.source = &source;
  impl_->load = &load;
  const int failed = mysql_real_query(mysql, sql.data(), sql.size());
  impl_->load = nullptr;
  if (load.error) return tl::unexpected(*load.error);
  if (failed != 0) return tl::unexpected(StatementError(sql));
  const auto rows = static_cast<int64_t>(mysql_affected_rows(mysql));
  const unsigned int warnings = mysql_warning_count(mysql);
  DiscardMoreResults();
  if (warnings > 0) TM_TRY(RefuseWarnings(sql, warnings));
  return rows;
}

util::Status MariaDbConnection::RefuseWarnings(std::string_view sql, unsigned int count) {
  TM_TRY_ASSIGN(MariaDbRows warnings, Query("SHOW WARNINGS"));
  for (int r = 0; r < warnings.rows(); ++r) {
    if (warnings.View(r, 0) == "Note") continue;
    error_number_ = static_cast<unsigned int>(warnings.Int(r, 1));
    return util::StepError(
        describe_ + ": " + Summary(sql) + ": the server reported " + std::to_string(count) +
        " warning(s), which LOAD DATA LOCAL makes of bad values and "
        "duplicate keys; the first: " +
        warnings.Text(r, 2) + " (errno " + warnings.Text(r, 1) + "); nothing was loaded");
  }
  return {};
}

unsigned long MariaDbConnection::ServerVersion() const {
  return mysql_get_server_version(impl_->mysql.get());
}

unsigned long MariaDbConnection::ThreadId() const { return mysql_thread_id(impl_->mysql.get()); }

util::Result<MariaDbUrl> ParseMariaDbUrl(std::string_view text) {
  MariaDbUrl url;
  std::string_view rest;
  for (std::string_view scheme : {"mariadb://", "mysql://"}) {
    if (util::StartsWith(text, scheme)) rest = text.substr(scheme.size());
  }
  if (rest.data() == nullptr) {
    return util::ConfigError("a MariaDB URL starts with mariadb:// or mysql://");
  }
  std::string_view query;
  if (size_t mark = rest.find('?'); mark != std::string_view::npos) {
    query = rest.substr(mark + 1);
    rest = rest.substr(0, mark);
  }
  const size_t slash = rest.find('/');
  TM_TRY(ParseAuthority(rest.substr(0, slash), url));
  if (slash != std::string_view::npos) {
    url.database = util::PercentDecode(rest.substr(slash + 1));
    if (url.database.find('/') != std::string::npos) {
      return util::ConfigError("the URL's database '" + url.database + "' holds a '/'");
    }
  }
  for (const std::string& parameter : util::Split(query, '&')) {
    if (parameter.empty()) continue;
    const size_t equals = parameter.find('=');
    if (equals == std::string::npos) {
      return util::ConfigError("the URL parameter '" + parameter + "' has no value (name=value)");
    }
    TM_TRY(SetParameter(std::string_view(parameter).substr(0, equals),
                        util::PercentDecode(std::string_view(parameter).substr(equals + 1)), url));
  }
  if (url.host.empty() && url.socket.empty()) {
    return util::ConfigError("the URL names no host (nor a socket parameter)");
  }
  TM_TRY(CheckTls(url));
  return url;
}

int MariaDbRows::Column(std::string_view name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

std::string_view MariaDbRows::View(int row, int column) const {
  const char* value = rows_[row][column];
  if (value == nullptr) return {};
  return std::string_view(value, lengths_[static_cast<size_t>(row) * names_.size() + column]);
}

int64_t MariaDbRows::Int(int row, int column) const {
  std::string_view text = View(row, column);
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  (void)end;
  return error == std::errc() ? value : 0;
}

const char kLoadDataFormat[] =
    "CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' "
    "LINES TERMINATED BY '\\n'";

void AppendLoadDataField(std::string& out, const char* data, size_t size, bool is_null) {
  if (is_null) {
    out += "\\N";
    return;
  }
  for (size_t i = 0; i < size; ++i) {
    const char c = data[i];
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\0': out += "\\0"; break;
      default: out += c;
    }
  }
}

void AppendLoadDataRow(std::string& out, const MariaDbRowView& row) {
  for (int c = 0; c < row.columns(); ++c) {
    if (c > 0) out += '\t';
    std::string_view value = row.View(c);
    AppendLoadDataField(out, value.data(), value.size(), row.IsNull(c));
  }
  out += '\n';
}

std::string QuoteMariaDbIdent(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  out += '`';
  return out;
}

std::string QuoteMariaDbQualified(std::string_view schema, std::string_view name) {
  if (schema.empty()) return QuoteMariaDbIdent(name);
  return QuoteMariaDbIdent(schema) + "." + QuoteMariaDbIdent(name);
}

std::string QuoteMariaDbLiteral(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    switch (c) {
      case '\0': out += "\\0"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      case '"': out += "\\\""; break;
      case '\x1a': out += "\\Z"; break;
      default: out += c;
    }
  }
  out += '\'';
  return out;
}

bool IsRetryableMariaDbError(unsigned int error_number) {
  return error_number == ER_LOCK_WAIT_TIMEOUT      // 1205: row locks and metadata locks
         || error_number == ER_LOCK_DEADLOCK       // 1213
         || error_number == ER_CHECKREAD           // 1020: innodb_snapshot_isolation conflict
         || error_number == ER_STATEMENT_TIMEOUT;  // 1969: max_statement_time
}

}  // namespace tidemark::sql
