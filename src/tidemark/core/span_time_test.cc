// Calendar arithmetic of spans in a time zone: AddSpan and FloorToSpan across DST.

#include <gtest/gtest.h>

#include "tidemark/core/span.h"

namespace tidemark::core {
namespace {

using util::Instant;
using util::TimeZone;
using namespace std::chrono_literals;

Instant At(std::string_view text) {
  std::optional<util::ParsedTimestamp> ts = util::ParseTimestamp(text);
  EXPECT_TRUE(ts && ts->offset) << text;
  return Instant(ts->local.time_since_epoch() - *ts->offset);
}

TimeZone Zone(std::string_view name) {
  util::Result<TimeZone> zone = TimeZone::Load(name);
  EXPECT_TRUE(zone) << zone.error().message();
  return zone ? *zone : TimeZone::Utc();
}

constexpr Span kHour{1, SpanUnit::kHour};
constexpr Span kDay{1, SpanUnit::kDay};

TEST(SpanTimeBerlin, TheDayOfTheSpringChangeIs23HoursLong) {
  TimeZone berlin = Zone("Europe/Berlin");
  const Instant midnight = FloorToSpan(At("2024-03-31T12:00Z"), kDay, berlin);
  EXPECT_EQ(midnight, At("2024-03-30T23:00Z"));
  const Instant next = AddSpan(midnight, kDay, 1, berlin);
  EXPECT_EQ(next, At("2024-03-31T22:00Z"));
  EXPECT_EQ(next - midnight, 23h);
}

TEST(SpanTimeBerlin, TheDayOfTheAutumnChangeIs25HoursLong) {
  TimeZone berlin = Zone("Europe/Berlin");
  const Instant midnight = FloorToSpan(At("2024-10-27T12:00Z"), kDay, berlin);
  EXPECT_EQ(midnight, At("2024-10-26T22:00Z"));
  const Instant next = AddSpan(midnight, kDay, 1, berlin);
  EXPECT_EQ(next, At("2024-10-27T23:00Z"));
  EXPECT_EQ(next - midnight, 25h);
}

TEST(SpanTimeBerlin, DailyMidnightsStepAcrossBothChangesOfTheYear) {
  TimeZone berlin = Zone("Europe/Berlin");
  Instant midnight = FloorToSpan(At("2024-01-01T00:00Z"), kDay, berlin);
  int short_days = 0, long_days = 0, days = 0;
  for (; midnight < At("2024-12-31T23:00Z"); ++days) {  // local 2025-01-01
    const Instant next = AddSpan(midnight, kDay, 1, berlin);
    EXPECT_EQ(FloorToSpan(next - 1s, kDay, berlin), midnight);
    short_days += next - midnight == 23h;
    long_days += next - midnight == 25h;
    midnight = next;
  }
  EXPECT_EQ(days, 366);
  EXPECT_EQ(short_days, 1);
  EXPECT_EQ(long_days, 1);
}

TEST(SpanTimeBerlin, EveryInstantOfTheRepeatedHourFloorsToThatDay) {
  TimeZone berlin = Zone("Europe/Berlin");
  EXPECT_EQ(FloorToSpan(At("2024-10-27T00:30Z"), kDay, berlin), At("2024-10-26T22:00Z"));
  EXPECT_EQ(FloorToSpan(At("2024-10-27T01:30Z"), kDay, berlin), At("2024-10-26T22:00Z"));
}

TEST(SpanTimeBerlin, DaysKeepTheWallClockTimeWhileHoursKeepTheDistance) {
  TimeZone berlin = Zone("Europe/Berlin");
  const Instant noon = At("2024-03-30T11:00Z");                        // 12:00 CET
  EXPECT_EQ(AddSpan(noon, kDay, 1, berlin), At("2024-03-31T10:00Z"));  // 12:00 CEST
  EXPECT_EQ(AddSpan(noon, {24, SpanUnit::kHour}, 1, berlin), At("2024-03-31T11:00Z"));
  EXPECT_EQ(AddSpan(At("2024-03-31T11:00Z"), kDay, -1, berlin), At("2024-03-30T12:00Z"));
}

TEST(SpanTimeBerlin, ADayFromATimeOfDayLostInTheGapMovesPastTheGap) {
  TimeZone berlin = Zone("Europe/Berlin");
  // 02:30 CET on March 30 plus a day is 02:30 on March 31, which is 03:30 CEST.
  EXPECT_EQ(AddSpan(At("2024-03-30T01:30Z"), kDay, 1, berlin), At("2024-03-31T01:30Z"));
}

TEST(SpanTimeBerlin, HoursFloorToLocalHoursOutsideChanges) {
  TimeZone berlin = Zone("Europe/Berlin");
  EXPECT_EQ(FloorToSpan(At("2024-07-01T10:45:12Z"), kHour, berlin), At("2024-07-01T10:00Z"));
  // Six-hour cells start at local 00, 06, 12 and 18: 12:45 CEST is in the 12:00 cell.
  EXPECT_EQ(FloorToSpan(At("2024-07-01T10:45Z"), {6, SpanUnit::kHour}, berlin),
            At("2024-07-01T10:00Z"));
  EXPECT_EQ(FloorToSpan(At("2024-07-01T03:45Z"), {6, SpanUnit::kHour}, berlin),
            At("2024-07-01T04:00Z") - 6h);
}

TEST(SpanTimeBerlin, WeeksStartOnLocalMondayMidnight) {
  TimeZone berlin = Zone("Europe/Berlin");
  // Sunday 2024-03-31 (the change) belongs to the week of Monday March 25, CET.
  EXPECT_EQ(FloorToSpan(At("2024-03-31T20:00Z"), {1, SpanUnit::kWeek}, berlin),
            At("2024-03-24T23:00Z"));
  EXPECT_EQ(AddSpan(At("2024-03-24T23:00Z"), {1, SpanUnit::kWeek}, 1, berlin),
            At("2024-03-31T22:00Z"));
}

TEST(SpanTimeBerlin, MonthsQuartersAndYearsStartOnLocalFirsts) {
  TimeZone berlin = Zone("Europe/Berlin");
  const Instant t = At("2024-08-15T12:00Z");
  EXPECT_EQ(FloorToSpan(t, {1, SpanUnit::kMonth}, berlin), At("2024-07-31T22:00Z"));
  EXPECT_EQ(FloorToSpan(t, {3, SpanUnit::kMonth}, berlin), At("2024-06-30T22:00Z"));
  EXPECT_EQ(FloorToSpan(t, {1, SpanUnit::kYear}, berlin), At("2023-12-31T23:00Z"));
  // Local midnight of January 1 is still the previous year in UTC.
  EXPECT_EQ(FloorToSpan(At("2023-12-31T23:30Z"), {1, SpanUnit::kYear}, berlin),
            At("2023-12-31T23:00Z"));
}

TEST(SpanTimeBerlin, MonthsClampToTheEndOfShorterMonths) {
  TimeZone berlin = Zone("Europe/Berlin");
  const Instant end_of_january = At("2024-01-31T09:00Z");  // 10:00 CET
  EXPECT_EQ(AddSpan(end_of_january, {1, SpanUnit::kMonth}, 1, berlin), At("2024-02-29T09:00Z"));
  EXPECT_EQ(AddSpan(end_of_january, {2, SpanUnit::kMonth}, 1, berlin), At("2024-03-31T08:00Z"));
  EXPECT_EQ(AddSpan(At("2024-02-29T09:00Z"), {1, SpanUnit::kYear}, 1, berlin),
            At("2025-02-28T09:00Z"));
}

TEST(SpanTimeBerlin, FarFutureDaysFollowTheZoneRule) {
  TimeZone berlin = Zone("Europe/Berlin");
  const Instant midnight = FloorToSpan(At("2090-03-26T12:00Z"), kDay, berlin);
  EXPECT_EQ(midnight, At("2090-03-25T23:00Z"));
  EXPECT_EQ(AddSpan(midnight, kDay, 1, berlin) - midnight, 23h);
}

TEST(SpanTimeSydney, SouthernAutumnDayIs25HoursLong) {
  TimeZone sydney = Zone("Australia/Sydney");
  // Sunday 2080-04-07 turns 03:00 AEDT back to 02:00 AEST.
  const Instant midnight = FloorToSpan(At("2080-04-07T02:00Z"), kDay, sydney);
  EXPECT_EQ(midnight, At("2080-04-06T13:00Z"));  // 00:00 AEDT
  EXPECT_EQ(AddSpan(midnight, kDay, 1, sydney) - midnight, 25h);
}

TEST(SpanTimeSantiago, ADayWhoseMidnightIsSkippedStartsAtTheChange) {
  TimeZone santiago = Zone("America/Santiago");
  const Instant start = FloorToSpan(At("2024-09-08T12:00Z"), kDay, santiago);
  EXPECT_EQ(start, At("2024-09-08T04:00Z"));  // 01:00 -03, just after the change
  EXPECT_EQ(start - FloorToSpan(At("2024-09-07T12:00Z"), kDay, santiago), 24h);
  EXPECT_EQ(FloorToSpan(At("2024-09-09T12:00Z"), kDay, santiago) - start, 23h);
}

TEST(SpanTimeUtc, DaysAreAlways24Hours) {
  const TimeZone utc = TimeZone::Utc();
  EXPECT_EQ(FloorToSpan(At("2024-03-31T12:34Z"), kDay, utc), At("2024-03-31T00:00Z"));
  EXPECT_EQ(AddSpan(At("2024-03-31T00:00Z"), {7, SpanUnit::kDay}, 1, utc), At("2024-04-07T00:00Z"));
}

// span.cc floors hours on the wall clock and maps back with FromLocal, which picks the
// first occurrence; in the repeated hour that returns an instant an hour before the cell
// that contains t. Enable when FloorToSpan handles the second occurrence.
TEST(SpanTimeBerlin, HoursInTheRepeatedHourFloorToTheirOwnCell) {
  TimeZone berlin = Zone("Europe/Berlin");
  // 01:30Z is 02:30 CET, the second 02:30 of the night; its hour began at 01:00Z.
  EXPECT_EQ(FloorToSpan(At("2024-10-27T01:30Z"), kHour, berlin), At("2024-10-27T01:00Z"));
}

}  // namespace
}  // namespace tidemark::core
