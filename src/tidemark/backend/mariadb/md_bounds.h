// Partition bounds of MariaDB and MySQL range-partitioned tables, as
// information_schema.PARTITIONS shows them: the partitioning expression
// (PARTITION_EXPRESSION) and each partition's `VALUES LESS THAN` value
// (PARTITION_DESCRIPTION). tidemark partitions by
//   RANGE (TO_DAYS(col))            days since year 0; col a DATE or DATETIME
//   RANGE (UNIX_TIMESTAMP(col))     seconds since 1970 UTC; col a TIMESTAMP
//   RANGE COLUMNS (col)             a DATE or DATETIME literal, or an integer
//   RANGE (col)                     an integer (ids)
// and reads the bounds as instants (civil times of the configured zone for DATE and
// DATETIME, whatever the server's zone) or ids; it writes them back the same way.
//
// Thread-safety: pure functions.

#ifndef TIDEMARK_BACKEND_MARIADB_MD_BOUNDS_H_
#define TIDEMARK_BACKEND_MARIADB_MD_BOUNDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tidemark/util/time.h"
#include "tidemark/util/timezone.h"

namespace tidemark::backend::mariadb {

// How a table's partitions are keyed.
enum class KeyForm {
  kToDays,         // RANGE (TO_DAYS(col))
  kUnixTimestamp,  // RANGE (UNIX_TIMESTAMP(col))
  kColumns,        // RANGE COLUMNS (col)
  kInteger,        // RANGE (col) on an integer column
  kOther,          // anything else: refused
};

struct PartitionKey {
  KeyForm form = KeyForm::kOther;
  std::string column;  // the column, without backticks
};

// From PARTITION_METHOD ("RANGE", "RANGE COLUMNS") and PARTITION_EXPRESSION
// ("to_days(`created_at`)", "`id`", "unix_timestamp(`ts`)"); kOther for other methods,
// several columns and other expressions.
PartitionKey ParseKey(std::string_view method, std::string_view expression);

// One `VALUES LESS THAN` value: MAXVALUE, an integer, or a quoted literal.
struct LessThan {
  bool maxvalue = false;
  std::optional<int64_t> integer;
  std::string literal;  // unquoted, for RANGE COLUMNS on DATE/DATETIME
};

// From PARTITION_DESCRIPTION: "MAXVALUE", "739255", "'2024-01-05'",
// "'2024-01-05 00:00:00'"; nullopt for text it cannot read (several columns, etc.).
std::optional<LessThan> ParseLessThan(std::string_view description);

// The instant a bound of a time key stands for (DATE and DATETIME values are civil times
// of `zone`); nullopt for MAXVALUE, ids, or what is not a whole-second time.
std::optional<util::Instant> BoundInstant(const LessThan& bound, KeyForm form,
                                          const util::TimeZone& zone);

// The `VALUES LESS THAN` value for an instant: "739255" for TO_DAYS, "1704412800" for
// UNIX_TIMESTAMP, "'2024-01-05'" (midnight) or "'2024-01-05 10:00:00'" for COLUMNS.
std::string LessThanFor(util::Instant t, KeyForm form, const util::TimeZone& zone);

}  // namespace tidemark::backend::mariadb

#endif  // TIDEMARK_BACKEND_MARIADB_MD_BOUNDS_H_
