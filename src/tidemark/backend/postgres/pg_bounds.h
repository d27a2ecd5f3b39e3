// Partition bounds as PostgreSQL keeps them (relpartbound, a node tree), as it shows
// them (pg_get_expr of relpartbound) and as tidemark writes them: decoding the node
// tree, parsing "FOR VALUES FROM (…) TO (…)" into instants or ids, and rendering an
// instant as a literal of the key's type.
//
// The catalog query reads bounds from the node tree: deparsing them with pg_get_expr
// costs the server about 2 µs each, the larger part of observing thousands of
// partitions. The node tree's text is PostgreSQL's internal form, so every read checks
// it: one bound per table is also deparsed and must agree, and any bound that does not
// decode to the plain form (one finite, whole value each side) sends the whole read to
// pg_get_expr (pg_catalog.cc).
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

// A single-column range bound in the key's own units: for timestamptz, seconds since
// 1970-01-01 UTC; for timestamp and date, the civil time written as seconds since
// 1970-01-01 00:00 (a zone turns it into an instant); for integer keys, the integer.
struct KeyBound {
  bool is_default = false;
  int64_t from = 0;
  int64_t to = 0;

  bool operator==(const KeyBound&) const = default;
};

// Decodes relpartbound's text, "{PARTITIONBOUNDSPEC :strategy r … :lowerdatums
// ({PARTITIONRANGEDATUM :kind 0 :value {CONST :consttype 1184 … :constvalue 8 [ 0 64 … ]}
// …}) :upperdatums (…) …}", for a key of `kind`. nullopt for anything but the DEFAULT
// partition or one finite value of the key's type each side in whole seconds (days,
// integers): MINVALUE, MAXVALUE, infinity, fractions, other types and forms.
std::optional<KeyBound> DecodeNodeBound(std::string_view node, KeyKind kind);

// The same from a parsed pg_get_expr text; nullopt where DecodeNodeBound would give it.
std::optional<KeyBound> TextKeyBound(const RangeBound& bound, KeyKind kind);

// The instant a time key's KeyBound value stands for.
util::Instant KeyInstant(int64_t value, KeyKind kind, const util::TimeZone& zone);

// The SQL literal of an instant for a key of this kind: '2024-03-30 23:00:00+00' for
// timestamptz, the civil time in `zone` for timestamp, the civil date for date.
std::string InstantLiteral(util::Instant t, KeyKind kind, const util::TimeZone& zone);

}  // namespace tidemark::backend::postgres

#endif  // TIDEMARK_BACKEND_POSTGRES_PG_BOUNDS_H_
