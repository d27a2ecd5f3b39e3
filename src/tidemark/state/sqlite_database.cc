#include "tidemark/state/sqlite_database.h"

#include <chrono>
#include <map>
#include <thread>

#include <sqlite3.h>

namespace tidemark::state {

struct Database::Handle {
  sqlite3* db = nullptr;
  std::string path;
  // Prepared statements by their text, kept for the connection's life: the state
  // store runs the same few statements for every dataset of a run.
  std::map<std::string, sqlite3_stmt*> statements;
  ~Handle() {
    for (auto& [sql, stmt] : statements) sqlite3_finalize(stmt);
    sqlite3_close_v2(db);
  }
};

namespace {

util::Error SqliteError(sqlite3* db, const std::string& what, const std::string& path) {
  int code = sqlite3_extended_errcode(db);
  bool busy = (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED;
  return util::Error(util::ErrorCategory::kStep,
                     "state store " + path + ": " + what + ": " + sqlite3_errmsg(db), busy);
}

// Leaves a cached statement ready for its next use, however its use ended.
struct Reset {
  sqlite3_stmt* stmt;
  ~Reset() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
};

int Bind(sqlite3_stmt* stmt, int index, const Value& value) {
  if (std::holds_alternative<int64_t>(value)) {
    return sqlite3_bind_int64(stmt, index, std::get<int64_t>(value));
  }
  if (std::holds_alternative<std::string>(value)) {
    const std::string& text = std::get<std::string>(value);
    return sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()),
                             SQLITE_TRANSIENT);
  }
  return sqlite3_bind_null(stmt, index);
}

Value Column(sqlite3_stmt* stmt, int index) {
  switch (sqlite3_column_type(stmt, index)) {
    case SQLITE_INTEGER: return static_cast<int64_t>(sqlite3_column_int64(stmt, index));
    case SQLITE_NULL: return nullptr;
    default: {
      const unsigned char* text = sqlite3_column_text(stmt, index);
      return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt, index));
    }
  }
}

}  // namespace

Database::Database(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {}
Database::~Database() = default;

util::Result<std::unique_ptr<Database>> Database::Open(const std::string& path) {
  auto handle = std::make_unique<Handle>();
  handle->path = path;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &handle->db, flags, nullptr) != SQLITE_OK) {
    return util::Fail(util::ErrorCategory::kConnect,
                      "cannot open the state store " + path + ": " +
                          (handle->db ? sqlite3_errmsg(handle->db) : "out of memory"));
  }
  sqlite3_busy_timeout(handle->db, 10000);
  std::unique_ptr<Database> database(new Database(std::move(handle)));
  // Switching a new database to WAL takes a lock that SQLite's busy handler does not
  // wait for; when several processes open a new store at once, wait here instead.
  util::Status pragmas;
  for (int attempt = 0; attempt < 200; ++attempt) {
    pragmas = database->Execute(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
    if (pragmas || !pragmas.error().retryable()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10 + attempt));
  }
  TM_TRY(pragmas);
  return database;
}

util::Status Database::Execute(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(handle_->db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    util::Error error = SqliteError(handle_->db, "cannot run " + sql.substr(0, 60), handle_->path);
    sqlite3_free(message);
    return tl::unexpected(error);
  }
  return {};
}

util::Result<std::vector<Row>> Database::Query(const std::string& sql,
                                               const std::vector<Value>& params) {
  sqlite3_stmt*& cached = handle_->statements[sql];
  if (cached == nullptr &&
      sqlite3_prepare_v2(handle_->db, sql.c_str(), -1, &cached, nullptr) != SQLITE_OK) {
    sqlite3_finalize(cached);
    handle_->statements.erase(sql);
    return tl::unexpected(
        SqliteError(handle_->db, "cannot prepare " + sql.substr(0, 60), handle_->path));
  }
  struct {
    sqlite3_stmt* stmt;
  } statement{cached};
  Reset reset{cached};
  for (size_t i = 0; i < params.size(); ++i)
    Bind(statement.stmt, static_cast<int>(i + 1), params[i]);
  std::vector<Row> rows;
  while (true) {
    int rc = sqlite3_step(statement.stmt);
    if (rc == SQLITE_DONE) return rows;
    if (rc != SQLITE_ROW) {
      return tl::unexpected(
          SqliteError(handle_->db, "cannot run " + sql.substr(0, 60), handle_->path));
    }
    Row row;
    int columns = sqlite3_column_count(statement.stmt);
    for (int c = 0; c < columns; ++c) row.push_back(Column(statement.stmt, c));
    rows.push_back(std::move(row));
  }
}

int64_t Database::Changes() const { return sqlite3_changes(handle_->db); }

int64_t AsInt(const Value& value) {
  if (std::holds_alternative<int64_t>(value)) return std::get<int64_t>(value);
  if (std::holds_alternative<std::string>(value)) return std::stoll(std::get<std::string>(value));
  return 0;
}

std::string AsText(const Value& value) {
  if (std::holds_alternative<std::string>(value)) return std::get<std::string>(value);
  if (std::holds_alternative<int64_t>(value)) return std::to_string(std::get<int64_t>(value));
  return "";
}

}  // namespace tidemark::state
