#include "tidemark/backend/postgres/pg_bounds.h"

#include <cctype>
#include <climits>
#include <cstdlib>

#include "tidemark/sql/pq_connection.h"
#include "tidemark/util/strings.h"

namespace tidemark::backend::postgres {

KeyKind KeyKindOf(std::string_view type) {
  if (type == "timestamp with time zone") return KeyKind::kTimestamptz;
  if (type == "timestamp without time zone") return KeyKind::kTimestamp;
  if (type == "date") return KeyKind::kDate;
  if (type == "bigint" || type == "integer" || type == "smallint") return KeyKind::kInteger;
  return KeyKind::kOther;
}

bool IsTimeKind(KeyKind kind) {
  return kind == KeyKind::kTimestamptz || kind == KeyKind::kTimestamp || kind == KeyKind::kDate;
}

namespace {

void SkipSpaces(std::string_view text, size_t& at) {
  while (at < text.size() && text[at] == ' ') ++at;
}

bool Consume(std::string_view text, size_t& at, std::string_view word) {
  SkipSpaces(text, at);
  if (text.substr(at, word.size()) != word) return false;
  at += word.size();
  return true;
}

// "(v, v, …)" with quoted or bare values.
tl::expected<std::vector<BoundValue>, std::string> ReadList(std::string_view text, size_t& at) {
  if (!Consume(text, at, "(")) return tl::unexpected(std::string("expected '('"));
  std::vector<BoundValue> values;
  for (;;) {
    SkipSpaces(text, at);
    BoundValue value;
    if (at < text.size() && text[at] == '\'') {
      ++at;
      for (;;) {
        if (at >= text.size()) return tl::unexpected(std::string("unterminated literal"));
        if (text[at] == '\'') {
          if (at + 1 < text.size() && text[at + 1] == '\'') {
            value.text += '\'';
            at += 2;
            continue;
          }
          ++at;
          break;
        }
        value.text += text[at++];
      }
      // A cast may follow: '…'::type
      if (text.substr(at, 2) == "::") {
        at += 2;
        while (at < text.size() && text[at] != ',' && text[at] != ')') ++at;
      }
    } else {
      size_t start = at;
      while (at < text.size() && text[at] != ',' && text[at] != ')') ++at;
      std::string bare(text.substr(start, at - start));
      while (!bare.empty() && bare.back() == ' ') bare.pop_back();
      if (bare == "MINVALUE") {
        value.kind = BoundValue::kMinValue;
      } else if (bare == "MAXVALUE") {
        value.kind = BoundValue::kMaxValue;
      } else {
        value.text = bare;
      }
    }
    values.push_back(std::move(value));
    SkipSpaces(text, at);
    if (at < text.size() && text[at] == ',') {
      ++at;
      continue;
    }
    if (!Consume(text, at, ")")) return tl::unexpected(std::string("expected ')'"));
    return values;
  }
}

}  // namespace

tl::expected<RangeBound, std::string> ParseRangeBound(std::string_view expr) {
  RangeBound bound;
  if (expr == "DEFAULT") {
    bound.is_default = true;
    return bound;
  }
  size_t at = 0;
  if (!Consume(expr, at, "FOR VALUES"))
    return tl::unexpected("not a partition bound: " + std::string(expr));
  if (Consume(expr, at, "IN"))
    return tl::unexpected(std::string("a LIST partition (FOR VALUES IN …)"));
  if (Consume(expr, at, "WITH"))
    return tl::unexpected(std::string("a HASH partition (FOR VALUES WITH …)"));
  if (!Consume(expr, at, "FROM")) return tl::unexpected("not a range bound: " + std::string(expr));
  auto from = ReadList(expr, at);
  if (!from) return tl::unexpected(from.error() + " in " + std::string(expr));
  if (!Consume(expr, at, "TO")) return tl::unexpected("expected TO in " + std::string(expr));
  auto to = ReadList(expr, at);
  if (!to) return tl::unexpected(to.error() + " in " + std::string(expr));
  bound.from = std::move(*from);
  bound.to = std::move(*to);
  return bound;
}

namespace {

// A bound value of a time key in KeyBound units, from its text.
std::optional<int64_t> BoundSeconds(const BoundValue& value, KeyKind kind) {
  if (value.kind != BoundValue::kLiteral) return std::nullopt;
  std::string text = value.text;
  if (kind == KeyKind::kTimestamptz) {
    // "+00" or "+05:30" after the time; the parser wants ±HH:MM.
    size_t sign = text.find_last_of("+-");
    if (sign != std::string::npos && sign > 10 && text.size() - sign == 3) text += ":00";
    auto parsed = util::ParseTimestamp(text);
    if (!parsed || !parsed->offset) return std::nullopt;
    return parsed->ToInstant()->time_since_epoch().count();
  }
  if (kind == KeyKind::kTimestamp || kind == KeyKind::kDate) {
    auto parsed = util::ParseTimestamp(text);
    if (!parsed || parsed->offset) return std::nullopt;
    return parsed->local.time_since_epoch().count();
  }
  return std::nullopt;
}

}  // namespace

util::Instant KeyInstant(int64_t value, KeyKind kind, const util::TimeZone& zone) {
  const std::chrono::seconds since_epoch(value);
  if (kind == KeyKind::kTimestamptz) return util::Instant(since_epoch);
  return zone.FromLocal(util::LocalTime(since_epoch));
}

std::optional<util::Instant> BoundInstant(const BoundValue& value, KeyKind kind,
                                          const util::TimeZone& zone) {
  auto seconds = BoundSeconds(value, kind);
  if (!seconds) return std::nullopt;
  return KeyInstant(*seconds, kind, zone);
}

std::optional<int64_t> BoundInteger(const BoundValue& value) {
  if (value.kind != BoundValue::kLiteral || value.text.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(value.text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return std::nullopt;
  return n;
}

std::optional<KeyBound> TextKeyBound(const RangeBound& bound, KeyKind kind) {
  KeyBound out;
  if (bound.is_default) {
    out.is_default = true;
    return out;
  }
  if (bound.from.size() != 1 || bound.to.size() != 1) return std::nullopt;
  auto value = [kind](const BoundValue& v) {
    return kind == KeyKind::kInteger ? BoundInteger(v) : BoundSeconds(v, kind);
  };
  auto from = value(bound.from.front());
  auto to = value(bound.to.front());
  if (!from || !to) return std::nullopt;
  out.from = *from;
  out.to = *to;
  return out;
}

namespace {

// Seconds and days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
constexpr int64_t kPgEpochSeconds = 946684800;
constexpr int64_t kPgEpochDays = 10957;
// Civil seconds of 0001-01-01 00:00 and 9999-12-31 23:59:59, the years the text form
// of a bound is read in.
constexpr int64_t kFirstSecond = -62135596800;
constexpr int64_t kLastSecond = 253402300799;

bool TypeFits(int64_t type_oid, KeyKind kind) {
  switch (kind) {
    case KeyKind::kTimestamptz: return type_oid == 1184;
    case KeyKind::kTimestamp: return type_oid == 1114;
    case KeyKind::kDate: return type_oid == 1082;
    case KeyKind::kInteger:
      return type_oid == 20 || type_oid == 23 || type_oid == 21;  // int8, int4, int2
    case KeyKind::kOther: break;
  }
  return false;
}

// A decimal integer at `at`, which moves past it.
std::optional<int64_t> ReadInteger(std::string_view text, size_t& at) {
  bool negative = at < text.size() && text[at] == '-';
  size_t i = negative ? at + 1 : at;
  const size_t first = i;
  uint64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - first < 18) {
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
    ++i;
  }
  if (i == first || (i < text.size() && text[i] >= '0' && text[i] <= '9')) return std::nullopt;
  at = i;
  return negative ? -static_cast<int64_t>(n) : static_cast<int64_t>(n);
}

// Whether the first ":name " of `text` is followed by `value` and a space or brace.
bool FieldIs(std::string_view text, std::string_view name, std::string_view value) {
  size_t at = text.find(name);
  if (at == std::string_view::npos) return false;
  at += name.size();
  if (text.substr(at, value.size()) != value) return false;
  at += value.size();
  return at < text.size() && (text[at] == ' ' || text[at] == '}');
}

// The one value of a bound side: "({PARTITIONRANGEDATUM :kind 0 :value {CONST …}})".
std::optional<int64_t> DecodeDatum(std::string_view side, KeyKind kind) {
  constexpr std::string_view kOpen = "({PARTITIONRANGEDATUM :kind 0 :value {CONST ";
  if (side.substr(0, kOpen.size()) != kOpen) return std::nullopt;  // MINVALUE, MAXVALUE
  if (side.find("PARTITIONRANGEDATUM", kOpen.size()) != std::string_view::npos) {
    return std::nullopt;  // more than one column
  }
  size_t at = side.find(":consttype ");
  if (at == std::string_view::npos) return std::nullopt;
  at += 11;
  auto type_oid = ReadInteger(side, at);
  if (!type_oid || !TypeFits(*type_oid, kind)) return std::nullopt;
  if (!FieldIs(side, ":constisnull ", "false")) return std::nullopt;
  // ":constvalue 8 [ 0 64 36 33 -18 1 3 0 ]": the Datum's bytes in the server's
  // memory order, as signed or unsigned chars. A by-value Datum is sign-extended.
  at = side.find(":constvalue ");
  if (at == std::string_view::npos) return std::nullopt;
  at += 12;
  if (!ReadInteger(side, at) || side.substr(at, 3) != " [ ") return std::nullopt;
  at += 3;
  uint64_t bits = 0;
  int count = 0;
  while (at < side.size() && side[at] != ']') {
    auto byte = ReadInteger(side, at);
    if (!byte || *byte < -128 || *byte > 255 || count == 8) return std::nullopt;
    bits |= static_cast<uint64_t>(static_cast<uint8_t>(*byte)) << (8 * count);
    ++count;
    if (at >= side.size() || side[at] != ' ') return std::nullopt;
    ++at;
  }
  if (at >= side.size()) return std::nullopt;
  int64_t value;
  if (count == 8) {
    value = static_cast<int64_t>(bits);
  } else if (count == 4) {
    value = static_cast<int32_t>(static_cast<uint32_t>(bits));
  } else {
    return std::nullopt;
  }
  int64_t seconds;
  switch (kind) {
    case KeyKind::kInteger: return value;
    case KeyKind::kTimestamptz:
    case KeyKind::kTimestamp:
      // Microseconds; ±infinity are the extreme values, fractions are not whole.
      if (value % 1000000 != 0) return std::nullopt;
      seconds = value / 1000000 + kPgEpochSeconds;
      break;
    case KeyKind::kDate:
      // Days; ±infinity are INT32_MIN and INT32_MAX, outside the years below.
      if (value < INT32_MIN || value > INT32_MAX) return std::nullopt;
      seconds = (value + kPgEpochDays) * 86400;
      break;
    default: return std::nullopt;
  }
  if (seconds < kFirstSecond || seconds > kLastSecond) return std::nullopt;
  return seconds;
}

}  // namespace

std::optional<KeyBound> DecodeNodeBound(std::string_view node, KeyKind kind) {
  constexpr std::string_view kSpec = "{PARTITIONBOUNDSPEC ";
  constexpr std::string_view kLower = ":lowerdatums ";
  constexpr std::string_view kUpper = ":upperdatums ";
  if (node.substr(0, kSpec.size()) != kSpec) return std::nullopt;
  KeyBound out;
  if (FieldIs(node, ":is_default ", "true")) {
    out.is_default = true;
    return out;
  }
  if (!FieldIs(node, ":is_default ", "false") || !FieldIs(node, ":strategy ", "r")) {
    return std::nullopt;
  }
  const size_t lower = node.find(kLower);
  const size_t upper = node.find(kUpper);
  if (lower == std::string_view::npos || upper == std::string_view::npos || upper < lower) {
    return std::nullopt;
  }
  auto from = DecodeDatum(node.substr(lower + kLower.size(), upper - lower - kLower.size()), kind);
  auto to = DecodeDatum(node.substr(upper + kUpper.size()), kind);
  if (!from || !to) return std::nullopt;
  out.from = *from;
  out.to = *to;
  return out;
}

std::string InstantLiteral(util::Instant t, KeyKind kind, const util::TimeZone& zone) {
  switch (kind) {
    case KeyKind::kTimestamptz:
      return sql::QuoteLiteral(util::FormatCompactUtc(t, "%Y-%m-%d %H:%M:%S") + "+00");
    case KeyKind::kDate:
      return sql::QuoteLiteral(
          util::FormatCompactUtc(util::Instant(zone.ToLocal(t).time_since_epoch()), "%Y-%m-%d"));
    default:
      return sql::QuoteLiteral(util::FormatCompactUtc(
          util::Instant(zone.ToLocal(t).time_since_epoch()), "%Y-%m-%d %H:%M:%S"));
  }
}

}  // namespace tidemark::backend::postgres
