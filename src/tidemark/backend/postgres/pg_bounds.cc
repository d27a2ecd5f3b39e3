#include "tidemark/backend/postgres/pg_bounds.h"

#include <cctype>
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

std::optional<util::Instant> BoundInstant(const BoundValue& value, KeyKind kind,
                                          const util::TimeZone& zone) {
  if (value.kind != BoundValue::kLiteral) return std::nullopt;
  std::string text = value.text;
  if (kind == KeyKind::kTimestamptz) {
    // "+00" or "+05:30" after the time; the parser wants ±HH:MM.
    size_t sign = text.find_last_of("+-");
    if (sign != std::string::npos && sign > 10 && text.size() - sign == 3) text += ":00";
    auto parsed = util::ParseTimestamp(text);
    if (!parsed || !parsed->offset) return std::nullopt;
    return parsed->ToInstant();
  }
  if (kind == KeyKind::kTimestamp || kind == KeyKind::kDate) {
    auto parsed = util::ParseTimestamp(text);
    if (!parsed || parsed->offset) return std::nullopt;
    return zone.FromLocal(parsed->local);
  }
  return std::nullopt;
}

std::optional<int64_t> BoundInteger(const BoundValue& value) {
  if (value.kind != BoundValue::kLiteral || value.text.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(value.text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return std::nullopt;
  return n;
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
