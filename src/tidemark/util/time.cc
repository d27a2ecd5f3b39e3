#include "tidemark/util/time.h"

#include <fmt/format.h>

namespace tidemark::util {

namespace {

using std::chrono::days;
using std::chrono::hh_mm_ss;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::year_month_day;

// Reads exactly `width` ASCII digits at `pos`; no sign, no spaces, no locale.
std::optional<int> Digits(std::string_view text, size_t pos, size_t width) {
  if (pos + width > text.size()) return std::nullopt;
  int value = 0;
  for (char c : text.substr(pos, width)) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// Reads a two-digit field no larger than `max`.
std::optional<int> Field(std::string_view text, size_t pos, int max) {
  std::optional<int> value = Digits(text, pos, 2);
  if (!value || *value > max) return std::nullopt;
  return value;
}

// "HH:MM" or "HH:MM:SS", and nothing else.
std::optional<seconds> ParseClock(std::string_view text) {
  if (text.size() != 5 && text.size() != 8) return std::nullopt;
  std::optional<int> h = Field(text, 0, 23);
  std::optional<int> m = Field(text, 3, 59);
  std::optional<int> s = text.size() == 8 ? Field(text, 6, 59) : 0;
  if (!h || !m || !s || text[2] != ':' || (text.size() == 8 && text[5] != ':')) {
    return std::nullopt;
  }
  return hours(*h) + minutes(*m) + seconds(*s);
}

// "", "Z", "+HH:MM", "-HH:MM" or "+HHMM"; the result is east-positive, as in ISO 8601.
std::optional<std::optional<seconds>> ParseOffset(std::string_view text) {
  if (text.empty()) return std::optional<seconds>();
  if (text == "Z") return std::optional<seconds>(seconds(0));
  if (text.size() != 5 && text.size() != 6) return std::nullopt;
  if (text[0] != '+' && text[0] != '-') return std::nullopt;
  if (text.size() == 6 && text[3] != ':') return std::nullopt;
  std::optional<int> h = Field(text, 1, 23);
  std::optional<int> m = Field(text, text.size() - 2, 59);
  if (!h || !m) return std::nullopt;
  seconds offset = hours(*h) + minutes(*m);
  return std::optional<seconds>(text[0] == '-' ? -offset : offset);
}

// The civil fields of a time point counted in seconds from 1970-01-01 00:00.
struct Civil {
  year_month_day date;
  hh_mm_ss<seconds> clock;
};

Civil Split(seconds since_epoch) {
  // floor, not duration_cast, so that instants before 1970 land on the right day.
  days day = std::chrono::floor<days>(since_epoch);
  return {year_month_day(std::chrono::sys_days(day)), hh_mm_ss<seconds>(since_epoch - day)};
}

std::string FormatCivil(const Civil& c) {
  return fmt::format("{}T{:02}:{:02}:{:02}", FormatDate(c.date), c.clock.hours().count(),
                     c.clock.minutes().count(), c.clock.seconds().count());
}

}  // namespace

std::optional<year_month_day> ParseDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  std::optional<int> y = Digits(text, 0, 4);
  std::optional<int> m = Digits(text, 5, 2);
  std::optional<int> d = Digits(text, 8, 2);
  if (!y || !m || !d) return std::nullopt;
  year_month_day date{std::chrono::year(*y), std::chrono::month(static_cast<unsigned>(*m)),
                      std::chrono::day(static_cast<unsigned>(*d))};
  // ok() checks the day against the month's length, leap years included.
  if (!date.ok()) return std::nullopt;
  return date;
}

std::optional<ParsedTimestamp> ParseTimestamp(std::string_view text) {
  std::optional<year_month_day> date = ParseDate(text.substr(0, 10));
  if (!date) return std::nullopt;
  ParsedTimestamp result{std::chrono::local_days(*date), std::nullopt};
  if (text.size() == 10) return result;
  if (text[10] != 'T' && text[10] != ' ') return std::nullopt;
  // The clock is "HH:MM" or "HH:MM:SS"; whatever follows is the offset.
  std::string_view rest = text.substr(11);
  size_t clock_length = rest.size() >= 8 && rest[5] == ':' ? 8 : 5;
  std::optional<seconds> clock = ParseClock(rest.substr(0, clock_length));
  if (!clock) return std::nullopt;
  std::optional<std::optional<seconds>> offset = ParseOffset(rest.substr(clock_length));
  if (!offset) return std::nullopt;
  result.local += *clock;
  result.offset = *offset;
  return result;
}

std::string FormatDate(year_month_day date) {
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
}

std::string FormatInstant(Instant t) { return FormatCivil(Split(t.time_since_epoch())) + "Z"; }

std::string FormatLocal(LocalTime t) { return FormatCivil(Split(t.time_since_epoch())); }

std::string FormatCompactUtc(Instant t, std::string_view pattern) {
  const Civil c = Split(t.time_since_epoch());
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char spec = i + 1 < pattern.size() && pattern[i] == '%' ? pattern[i + 1] : '\0';
    switch (spec) {
      case 'Y': out += fmt::format("{:04}", static_cast<int>(c.date.year())); break;
      case 'm': out += fmt::format("{:02}", static_cast<unsigned>(c.date.month())); break;
      case 'd': out += fmt::format("{:02}", static_cast<unsigned>(c.date.day())); break;
      case 'H': out += fmt::format("{:02}", c.clock.hours().count()); break;
      case 'M': out += fmt::format("{:02}", c.clock.minutes().count()); break;
      case 'S': out += fmt::format("{:02}", c.clock.seconds().count()); break;
      default: out += pattern[i]; continue;  // anything else is copied as written
    }
    ++i;  // skip the conversion letter
  }
  return out;
}

std::optional<Instant> ParseInstant(std::string_view text) {
  auto parsed = ParseTimestamp(text);
  return parsed ? parsed->ToInstant() : std::nullopt;
}

Instant Now() { return std::chrono::floor<seconds>(std::chrono::system_clock::now()); }

}  // namespace tidemark::util
