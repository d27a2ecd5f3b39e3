#include "tidemark/util/time.h"

#include <gtest/gtest.h>

namespace tidemark::util {
namespace {

using std::chrono::hours;
using std::chrono::local_days;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_days;
using std::chrono::year_month_day;
using namespace std::chrono_literals;

constexpr year_month_day Ymd(int y, unsigned m, unsigned d) {
  return year_month_day{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
}

TEST(TimeParseDate, AcceptsExactlyYearMonthDay) {
  EXPECT_EQ(ParseDate("2024-01-05"), Ymd(2024, 1, 5));
  EXPECT_EQ(ParseDate("1999-12-31"), Ymd(1999, 12, 31));
}

TEST(TimeParseDate, ChecksTheDayAgainstTheMonthIncludingLeapYears) {
  EXPECT_EQ(ParseDate("2024-02-29"), Ymd(2024, 2, 29));
  EXPECT_EQ(ParseDate("2000-02-29"), Ymd(2000, 2, 29));
  EXPECT_FALSE(ParseDate("2023-02-29"));
  EXPECT_FALSE(ParseDate("1900-02-29"));
  EXPECT_FALSE(ParseDate("2024-04-31"));
  EXPECT_FALSE(ParseDate("2024-13-01"));
  EXPECT_FALSE(ParseDate("2024-00-10"));
  EXPECT_FALSE(ParseDate("2024-01-00"));
}

TEST(TimeParseDate, RefusesAnyOtherShape) {
  for (const char* text : {"", "2024-1-05", "2024-01-5", "24-01-05", "2024/01/05", "2024-01-05 ",
                           " 2024-01-05", "2024-01-05T00:00", "+024-01-05", "2024-0a-05"}) {
    EXPECT_FALSE(ParseDate(text)) << text;
  }
}

TEST(TimeParseTimestamp, ReadsADateAloneAsMidnightWithoutOffset) {
  std::optional<ParsedTimestamp> ts = ParseTimestamp("2024-01-05");
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->local, local_days(Ymd(2024, 1, 5)));
  EXPECT_FALSE(ts->offset);
}

TEST(TimeParseTimestamp, AcceptsTOrSpaceAndOptionalSeconds) {
  const auto expected = local_days(Ymd(2024, 1, 5)) + 10h + 7min;
  EXPECT_EQ(ParseTimestamp("2024-01-05T10:07")->local, expected);
  EXPECT_EQ(ParseTimestamp("2024-01-05 10:07")->local, expected);
  EXPECT_EQ(ParseTimestamp("2024-01-05T10:07:09")->local, expected + 9s);
  EXPECT_FALSE(ParseTimestamp("2024-01-05T10:07")->offset);
}

TEST(TimeParseTimestamp, ReadsZuluAndNumericOffsetsEastPositive) {
  EXPECT_EQ(ParseTimestamp("2024-01-05T10:00Z")->offset, seconds(0));
  EXPECT_EQ(ParseTimestamp("2024-01-05T10:00:00+02:00")->offset, seconds(2h));
  EXPECT_EQ(ParseTimestamp("2024-01-05T10:00-03:30")->offset, -seconds(3h + 30min));
  EXPECT_EQ(ParseTimestamp("2024-01-05 10:00:00+0530")->offset, seconds(5h + 30min));
  // The civil time is kept as written; the offset is reported beside it.
  EXPECT_EQ(ParseTimestamp("2024-01-05T10:00+02:00")->local, local_days(Ymd(2024, 1, 5)) + 10h);
}

TEST(TimeParseTimestamp, RefusesMalformedTimesAndOffsets) {
  for (const char* text : {"2024-01-05T", "2024-01-05T10", "2024-01-05T24:00", "2024-01-05T10:60",
                           "2024-01-05T10:00:60", "2024-01-05T10:00:0", "2024-01-05t10:00",
                           "2024-01-05_10:00", "2024-01-05T10:00z", "2024-01-05T10:00+2",
                           "2024-01-05T10:00+02", "2024-01-05T10:00+02:0", "2024-01-05T10:00+24:00",
                           "2024-01-05T10:00 +02:00", "2024-01-05T10:00Z ", "2024-02-30T10:00"}) {
    EXPECT_FALSE(ParseTimestamp(text)) << text;
  }
}

TEST(TimeFormatDate, PadsToIsoForm) {
  EXPECT_EQ(FormatDate(Ymd(2024, 1, 5)), "2024-01-05");
  EXPECT_EQ(FormatDate(Ymd(987, 12, 31)), "0987-12-31");
}

TEST(TimeFormatInstant, WritesUtcWithZ) {
  EXPECT_EQ(FormatInstant(sys_days(Ymd(2024, 1, 5)) + 10h), "2024-01-05T10:00:00Z");
  EXPECT_EQ(FormatInstant(Instant(seconds(0))), "1970-01-01T00:00:00Z");
}

TEST(TimeFormatInstant, PlacesInstantsBefore1970OnTheRightDay) {
  EXPECT_EQ(FormatInstant(Instant(seconds(-1))), "1969-12-31T23:59:59Z");
}

TEST(TimeFormatLocal, WritesCivilTimeWithoutZone) {
  EXPECT_EQ(FormatLocal(local_days(Ymd(2024, 10, 27)) + 2h + 30min + 5s), "2024-10-27T02:30:05");
}

TEST(TimeFormatCompactUtc, ExpandsTheSixFieldsAndCopiesTheRest) {
  const Instant t = sys_days(Ymd(2024, 1, 5)) + 10h + 4min + 9s;
  EXPECT_EQ(FormatCompactUtc(t, "%Y%m%d%H"), "2024010510");
  EXPECT_EQ(FormatCompactUtc(t, "%Y-%m-%d_%H%M%S"), "2024-01-05_100409");
  EXPECT_EQ(FormatCompactUtc(t, "p%x%"), "p%x%");
}

TEST(TimeParseAndFormat, RoundTripThroughText) {
  std::optional<ParsedTimestamp> ts = ParseTimestamp("2024-02-29T23:59:58");
  ASSERT_TRUE(ts);
  EXPECT_EQ(FormatLocal(ts->local), "2024-02-29T23:59:58");
  EXPECT_EQ(FormatDate(*ParseDate("2024-02-29")), "2024-02-29");
}

TEST(TimeNow, IsWholeSecondsNearTheSystemClock) {
  const Instant now = Now();
  const auto system = std::chrono::system_clock::now();
  EXPECT_EQ(now, std::chrono::floor<seconds>(now));
  EXPECT_LE(now, system);
  EXPECT_GT(now, system - minutes(1));
}

}  // namespace
}  // namespace tidemark::util
