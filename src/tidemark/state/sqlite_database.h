// A small wrapper over SQLite: one connection, prepared statements with bound
// parameters, and errors as Results. The only file that sees sqlite3.h is its .cc.
//
// Thread-safety: a Database is used by one thread at a time; open one per thread.

#ifndef TIDEMARK_STATE_SQLITE_DATABASE_H_
#define TIDEMARK_STATE_SQLITE_DATABASE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "tidemark/util/error.h"

namespace tidemark::state {

using Value = std::variant<std::nullptr_t, int64_t, std::string>;
using Row = std::vector<Value>;

class Database {
 public:
  // Opens (creating if needed) the database file, in WAL mode with a busy timeout.
  static util::Result<std::unique_ptr<Database>> Open(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements without parameters.
  util::Status Execute(const std::string& sql);
  // Runs one statement with parameters bound to ?1, ?2, …, returning its rows.
  util::Result<std::vector<Row>> Query(const std::string& sql,
                                       const std::vector<Value>& params = {});
  // Rows changed by the last statement.
  int64_t Changes() const;

 private:
  struct Handle;
  explicit Database(std::unique_ptr<Handle> handle);
  std::unique_ptr<Handle> handle_;
};

// Helpers to read a column.
int64_t AsInt(const Value& value);
std::string AsText(const Value& value);

}  // namespace tidemark::state

#endif  // TIDEMARK_STATE_SQLITE_DATABASE_H_
