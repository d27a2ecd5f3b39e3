#include "tidemark/core/span.h"

#include <charconv>
#include <utility>

namespace tidemark::core {

namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::local_days;
using std::chrono::months;
using std::chrono::year_month_day;
using std::chrono::years;

struct UnitName {
  std::string_view singular;
  std::string_view plural;
  SpanUnit unit;
};

constexpr UnitName kUnits[] = {
    {"hour", "hours", SpanUnit::kHour}, {"day", "days", SpanUnit::kDay},
    {"week", "weeks", SpanUnit::kWeek}, {"month", "months", SpanUnit::kMonth},
    {"year", "years", SpanUnit::kYear},
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Large enough for any real span (a million years), small enough never to overflow.
constexpr int64_t kMaxCount = 1000000;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Adds months to a civil date, clamping the day to the end of the target month.
year_month_day AddMonths(year_month_day date, int64_t n) {
  year_month_day moved = date + months(n);
  if (!moved.ok()) {
    auto last =
        std::chrono::year_month_day_last(moved.year(), std::chrono::month_day_last(moved.month()));
    moved = year_month_day(last);
  }
  return moved;
}

}  // namespace

tl::expected<Span, std::string> ParseSpan(std::string_view text, bool allow_number) {
  const std::string accepted =
      allow_number
          ? "expected \"N unit\" (unit: hour, day, week, month, year) or an integer"
          : "expected \"N unit\" with unit hour, day, week, month or year, e.g. \"90 days\"";
  std::string_view s = Trim(text);
  int64_t count = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), count);
  if (ec != std::errc() || end == s.data())
    return tl::unexpected("\"" + std::string(text) + "\": " + accepted);
  if (count <= 0)
    return tl::unexpected("\"" + std::string(text) + "\": the number must be positive");
  if (count > kMaxCount) {
    return tl::unexpected("\"" + std::string(text) + "\": the number must be at most " +
                          std::to_string(kMaxCount));
  }
  std::string_view unit = Trim(std::string_view(end, s.data() + s.size() - end));
  if (unit.empty()) {
    if (allow_number) return Span{count, SpanUnit::kNumber};
    return tl::unexpected("\"" + std::string(text) + "\" has no unit: " + accepted);
  }
  for (const UnitName& u : kUnits) {
    if (unit == u.singular || unit == u.plural) return Span{count, u.unit};
  }
  return tl::unexpected("\"" + std::string(text) + "\": unknown unit \"" + std::string(unit) +
                        "\"; " + accepted);
}

std::string FormatSpan(const Span& span) {
  if (span.unit == SpanUnit::kNumber) return std::to_string(span.count);
  for (const UnitName& u : kUnits) {
    if (u.unit == span.unit) {
      return std::to_string(span.count) + " " +
             std::string(span.count == 1 ? u.singular : u.plural);
    }
  }
  return std::to_string(span.count);
}

int64_t ApproximateSeconds(const Span& span) {
  switch (span.unit) {
    case SpanUnit::kHour: return span.count * 3600;
    case SpanUnit::kDay: return span.count * 86400;
    case SpanUnit::kWeek: return span.count * 7 * 86400;
    case SpanUnit::kMonth: return span.count * 30 * 86400;
    case SpanUnit::kYear: return span.count * 365 * 86400;
    case SpanUnit::kNumber: return span.count;
  }
  return span.count;
}

util::Instant AddSpan(util::Instant t, const Span& span, int64_t n, const util::TimeZone& zone) {
  const int64_t amount = span.count * n;
  if (span.unit == SpanUnit::kHour) return t + hours(amount);
  util::LocalTime local = zone.ToLocal(t);
  local_days day = std::chrono::floor<days>(local);
  // A boundary whose local midnight was skipped (a DST change at 24:00) stays a
  // midnight boundary: keep the intended time of day, 0, not the shifted one.
  auto time_of_day = zone.FromLocal(day) == t ? std::chrono::seconds(0) : local - day;
  year_month_day date{day};
  switch (span.unit) {
    case SpanUnit::kDay: date = year_month_day(day + days(amount)); break;
    case SpanUnit::kWeek: date = year_month_day(day + days(7 * amount)); break;
    case SpanUnit::kMonth: date = AddMonths(date, amount); break;
    case SpanUnit::kYear: date = AddMonths(date, 12 * amount); break;
    case SpanUnit::kHour:
    case SpanUnit::kNumber: break;
  }
  return zone.FromLocal(local_days(date) + time_of_day);
}

util::Instant FloorToSpan(util::Instant t, const Span& span, const util::TimeZone& zone) {
  util::LocalTime local = zone.ToLocal(t);
  local_days day = std::chrono::floor<days>(local);
  const int64_t day_number = day.time_since_epoch().count();
  year_month_day date{day};
  switch (span.unit) {
    case SpanUnit::kHour: {
      // Step back in absolute time from t, so that an instant in a repeated hour
      // floors into its own occurrence of that hour.
      auto hour = std::chrono::floor<hours>(local);
      int64_t h = (hour - day).count();
      return t - (local - hour) - hours(h % span.count);  // "6 hours": 0, 6, 12, 18
    }
    case SpanUnit::kDay: {
      int64_t aligned = FloorDiv(day_number, span.count) * span.count;
      return zone.FromLocal(local_days(days(aligned)));
    }
    case SpanUnit::kWeek: {
      // 1970-01-01 was a Thursday; day 4 was the first Monday.
      int64_t aligned = FloorDiv(day_number - 4, 7 * span.count) * 7 * span.count + 4;
      return zone.FromLocal(local_days(days(aligned)));
    }
    case SpanUnit::kMonth:
    case SpanUnit::kYear: {
      int64_t width = span.unit == SpanUnit::kMonth ? span.count : 12 * span.count;
      int64_t month_index = (static_cast<int>(date.year()) - 1970) * 12 +
                            static_cast<int64_t>(static_cast<unsigned>(date.month())) - 1;
      int64_t aligned = FloorDiv(month_index, width) * width;
      year_month_day first{
          std::chrono::year(1970 + static_cast<int>(FloorDiv(aligned, 12))),
          std::chrono::month(static_cast<unsigned>(aligned - FloorDiv(aligned, 12) * 12 + 1)),
          std::chrono::day(1)};
      return zone.FromLocal(local_days(first));
    }
    case SpanUnit::kNumber: break;
  }
  return t;
}

}  // namespace tidemark::core
