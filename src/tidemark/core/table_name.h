// Table names as written in the configuration: "[schema.]table". Each part is taken
// literally, case and all (tidemark quotes every identifier it sends), or written in
// double quotes when it holds a dot or a quote ("" inside quotes is one quote):
//   events                 -> schema "", name "events"
//   public.Events          -> schema "public", name "Events"
//   "my.schema"."a ""b"""  -> schema "my.schema", name "a \"b\""
//
// Thread-safety: pure functions.

#ifndef TIDEMARK_CORE_TABLE_NAME_H_
#define TIDEMARK_CORE_TABLE_NAME_H_

#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace tidemark::core {

struct TableName {
  std::string schema;  // "" when the text named none
  std::string name;

  // "schema.name" written back in the syntax above (quotes only where needed).
  std::string ToString() const;
  bool operator==(const TableName&) const = default;
};

// Parses the syntax above; on failure a message saying what is wrong.
tl::expected<TableName, std::string> ParseTableName(std::string_view text);

// Shortens `name` to at most `max_bytes` bytes (a database's identifier limit) keeping
// `suffix` whole: "verylongname" + "_p20240105" -> "verylo_1a2b3c4d_p20240105". The
// cut never splits a UTF-8 character; the hash of the full name keeps names distinct.
std::string FitIdentifier(std::string_view name, std::string_view suffix, size_t max_bytes);

}  // namespace tidemark::core

#endif  // TIDEMARK_CORE_TABLE_NAME_H_
