// Instants, civil dates and their text forms. Instants are UTC seconds
// (std::chrono::sys_seconds); civil times without a zone are local_seconds.
//
// One documented syntax (README, "Dates and durations"):
//   date       YYYY-MM-DD
//   timestamp  YYYY-MM-DDTHH:MM[:SS] with an optional Z or +HH:MM/-HH:MM; a space may
//              stand for the T. Without an offset a timestamp is a civil (local) time.
//
// Thread-safety: pure functions.

#ifndef TIDEMARK_UTIL_TIME_H_
#define TIDEMARK_UTIL_TIME_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tidemark::util {

using Instant = std::chrono::sys_seconds;
using LocalTime = std::chrono::local_seconds;

// A parsed timestamp: a civil time, and the UTC offset when the text carried one.
struct ParsedTimestamp {
  LocalTime local{};                           // the wall-clock time as written
  std::optional<std::chrono::seconds> offset;  // set when the text had Z or ±HH:MM

  // The instant, when the text had an offset.
  std::optional<Instant> ToInstant() const {
    if (!offset) return std::nullopt;
    return Instant(local.time_since_epoch()) - *offset;
  }
};

// Parses YYYY-MM-DD; nullopt unless the text is exactly a valid date.
std::optional<std::chrono::year_month_day> ParseDate(std::string_view text);

// Parses the timestamp syntax above (a date alone is accepted as midnight).
std::optional<ParsedTimestamp> ParseTimestamp(std::string_view text);

// Parses a timestamp that names an instant (it has Z or an offset), as FormatInstant
// writes them; nullopt otherwise.
std::optional<Instant> ParseInstant(std::string_view text);

// "2024-01-05"
std::string FormatDate(std::chrono::year_month_day date);
// "2024-01-05T10:00:00Z"
std::string FormatInstant(Instant t);
// "2024-01-05T10:00:00" (no zone)
std::string FormatLocal(LocalTime t);
// "2024010510" style compact forms used in file names: FormatCompact(t, "%Y%m%d%H").
// Supports %Y %m %d %H %M %S only.
std::string FormatCompactUtc(Instant t, std::string_view pattern);

// The current time, truncated to seconds.
Instant Now();

}  // namespace tidemark::util

#endif  // TIDEMARK_UTIL_TIME_H_
