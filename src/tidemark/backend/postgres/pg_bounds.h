// Partition bounds as PostgreSQL shows them (pg_get_expr of relpartbound) and as
// tidemark writes them: parsing "FOR VALUES FROM (…) TO (…)" into instants or ids, and
// rendering an instant as a literal of the key's type.
//
// The session runs with TimeZone=UTC (sql::PqConnection), so timestamptz bounds come
// back with +00. `timestamp` and `date` keys hold civil times: tidemark reads and
// writes them as civil times of the configured time zone, so a daily partition is
// [local midnight, next local midnight) whatever the server's or session's zone.
//
// Thread-safety: pure functions.

#ifndef TIDEMARK_BACKEND_POSTGRES_PG_BOUNDS_H_
#define TIDEMARK_BACKEND_POSTGRES_PG_BOUNDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tidemark/util/error.h"
#include "tidemark/util/time.h"
#include "tidemark/util/timezone.h"

namespace tidemark::backend::postgres {

enum class KeyKind { kTimestamptz, kTimestamp, kDate, kInteger, kOther };

// From format_type(): "timestamp with time zone", "date", "bigint", …
KeyKind KeyKindOf(std::string_view type);
bool IsTimeKind(KeyKind kind);

// One value of a bound: a literal's text, or MINVALUE / MAXVALUE.
struct BoundValue {
  enum Kind { kLiteral, kMinValue, kMaxValue } kind = kLiteral;
  std::string text;  // unquoted
};

struct RangeBound {
  bool is_default = false;       // the DEFAULT partition
  std::vector<BoundValue> from;  // one per key column
  std::vector<BoundValue> to;
};

// Parses pg_get_expr(relpartbound): "DEFAULT" or "FOR VALUES FROM (…) TO (…)". Other
// forms (IN, WITH (MODULUS …)) are errors naming them.
tl::expected<RangeBound, std::string> ParseRangeBound(std::string_view expr);

// The instant a bound value stands for; nullopt for MINVALUE/MAXVALUE, infinity, or
// text that is not a whole-second timestamp/date.
std::optional<util::Instant> BoundInstant(const BoundValue& value, KeyKind kind,
                                          const util::TimeZone& zone);
std::optional<int64_t> BoundInteger(const BoundValue& value);

// The SQL literal of an instant for a key of this kind: '2024-03-30 23:00:00+00' for
// timestamptz, the civil time in `zone` for timestamp, the civil date for date.
std::string InstantLiteral(util::Instant t, KeyKind kind, const util::TimeZone& zone);

}  // namespace tidemark::backend::postgres

#endif  // TIDEMARK_BACKEND_POSTGRES_PG_BOUNDS_H_
