// Spans of time (and plain integer widths): the one syntax for intervals, retention
// and ages in the configuration, "N unit" with unit hour, day, week, month or year
// (singular or plural), or a bare integer for id ranges. Calendar arithmetic on spans
// happens in a time zone, so "1 day" is 23 or 25 hours across DST changes while
// "1 hour" is always 3600 seconds.
//
// Thread-safety: pure functions.

#ifndef TIDEMARK_CORE_SPAN_H_
#define TIDEMARK_CORE_SPAN_H_

#include <cstdint>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "tidemark/util/time.h"
#include "tidemark/util/timezone.h"

namespace tidemark::core {

enum class SpanUnit { kHour, kDay, kWeek, kMonth, kYear, kNumber };

struct Span {
  int64_t count = 1;               // how many units; always positive when parsed
  SpanUnit unit = SpanUnit::kDay;  // kNumber: an integer width without a unit

  bool IsTime() const { return unit != SpanUnit::kNumber; }
  bool operator==(const Span&) const = default;
};

// Parses "1 day", "90 days", "2 months", "12 hours", "1 week", "1 year", or "1000"
// when `allow_number`. On failure returns a message saying what is accepted.
tl::expected<Span, std::string> ParseSpan(std::string_view text, bool allow_number);

// "1 day", "90 days", "1000".
std::string FormatSpan(const Span& span);

// A rough length in seconds (a month is 30 days, a year 365), for comparing spans.
int64_t ApproximateSeconds(const Span& span);

// t moved by n * span. Hours move in absolute time; days and longer move the civil
// date in `zone` and keep the wall-clock time. REQUIRES: span.IsTime().
util::Instant AddSpan(util::Instant t, const Span& span, int64_t n, const util::TimeZone& zone);

// The start of the grid cell of `span` that contains t, in `zone`: the hour, the
// local midnight, the Monday of the week, the first of the month or of the year.
// Multi-unit spans align to multiples counted from 1970-01-01 (months from January
// 1970), so "3 months" gives quarters. REQUIRES: span.IsTime().
util::Instant FloorToSpan(util::Instant t, const Span& span, const util::TimeZone& zone);

}  // namespace tidemark::core

#endif  // TIDEMARK_CORE_SPAN_H_
