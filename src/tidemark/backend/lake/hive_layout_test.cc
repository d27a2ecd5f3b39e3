// Hive-style partition directories: which directory a file belongs to, and the time
// range a directory's key=value components stand for.

#include "tidemark/backend/lake/hive_layout.h"

#include <gtest/gtest.h>

namespace tidemark::backend::lake {
namespace {

using namespace std::chrono_literals;
using util::Instant;

Instant At(std::string_view text) {
  auto parsed = util::ParseTimestamp(text);
  EXPECT_TRUE(parsed && parsed->offset) << text;
  return Instant(parsed->local.time_since_epoch()) - *parsed->offset;
}

util::TimeZone Berlin() {
  auto zone = util::TimeZone::Load("Europe/Berlin");
  EXPECT_TRUE(zone) << zone.error().message();
  return zone ? *zone : util::TimeZone::Utc();
}

// The range as "start .. end" in UTC, or "unreadable: <problem>".
std::string Read(const std::string& directory, HiveKeys keys,
                 const util::TimeZone& zone = util::TimeZone::Utc()) {
  std::string problem;
  auto range = ReadPartitionTime(directory, keys, zone, &problem);
  if (!range) return "unreadable: " + problem;
  EXPECT_TRUE(problem.empty()) << problem;
  return util::FormatInstant(range->start) + " .. " + util::FormatInstant(range->end);
}

HiveKeys Keys(std::vector<std::string> partition_by) { return {std::move(partition_by), {}}; }

TEST(PartitionDirectoryOf, IsTheLeadingKeyValueComponentsOfTheFilesPath) {
  EXPECT_EQ(PartitionDirectoryOf("dt=2024-01-05/part-0000.parquet"), "dt=2024-01-05");
  EXPECT_EQ(PartitionDirectoryOf("region=eu/dt=2024-01-05/part-0000.parquet"),
            "region=eu/dt=2024-01-05");
  EXPECT_EQ(PartitionDirectoryOf("year=2024/month=01/day=05/a.parquet"),
            "year=2024/month=01/day=05");
}

TEST(PartitionDirectoryOf, StopsAtTheFirstComponentThatIsNotKeyEqualsValue) {
  EXPECT_EQ(PartitionDirectoryOf("dt=2024-01-05/bucket/x=1/a.parquet"), "dt=2024-01-05");
  EXPECT_EQ(PartitionDirectoryOf("=2024/dt=2024-01-05/a.parquet"), "");
}

TEST(PartitionDirectoryOf, FilesAtTheRootAreInNoPartition) {
  EXPECT_EQ(PartitionDirectoryOf("a.parquet"), "");
  EXPECT_EQ(PartitionDirectoryOf("dt=2024-01-05"), "");  // a file named like a partition
  EXPECT_EQ(PartitionDirectoryOf("data/dt=2024-01-05/a.parquet"), "");
}

TEST(PartitionDirectoryOf, HiddenDirectoriesAreNotData) {
  EXPECT_EQ(PartitionDirectoryOf("_tidemark/recycle/20240301T000000Z/dt=2024-01-05/a"), "");
  EXPECT_EQ(PartitionDirectoryOf("_delta_log/00000.json"), "");
  EXPECT_EQ(PartitionDirectoryOf(".spark-staging/dt=2024-01-05/a.parquet"), "");
  EXPECT_EQ(PartitionDirectoryOf("dt=2024-01-05/_temporary/0/a.parquet"), "");
  EXPECT_EQ(PartitionDirectoryOf("dt=2024-01-05/.hidden/a.parquet"), "");
}

TEST(ReadPartitionTime, ADateIsOneDay) {
  EXPECT_EQ(Read("dt=2024-01-05", Keys({"dt"})), "2024-01-05T00:00:00Z .. 2024-01-06T00:00:00Z");
}

TEST(ReadPartitionTime, AnHourTimestampIsOneHourWhateverItsSpelling) {
  const std::string hour = "2024-01-05T10:00:00Z .. 2024-01-05T11:00:00Z";
  EXPECT_EQ(Read("hour=2024-01-05T10", Keys({"hour"})), hour);
  EXPECT_EQ(Read("hour=2024-01-05 10", Keys({"hour"})), hour);
  EXPECT_EQ(Read("hour=2024-01-05T10:00", Keys({"hour"})), hour);
  EXPECT_EQ(Read("hour=2024-01-05 10:00:00", Keys({"hour"})), hour);
  EXPECT_EQ(Read("hour=2024-01-05T10%3A00%3A00", Keys({"hour"})), hour);
  EXPECT_EQ(Read("hour=2024-01-05 10%3A00%3A00Z", Keys({"hour"})), hour);
}

TEST(ReadPartitionTime, FractionsOfASecondAsDeltaWritesThemAreDropped) {
  EXPECT_EQ(Read("ts=2024-01-01T10%3A00%3A00.000000Z", Keys({"ts"})),
            "2024-01-01T10:00:00Z .. 2024-01-01T11:00:00Z");
  EXPECT_EQ(Read("ts=2024-01-02 12%3A30%3A00.5", Keys({"ts"})),
            "2024-01-02T12:30:00Z .. 2024-01-02T13:30:00Z");
}

TEST(ReadPartitionTime, AnOffsetInTheValueWinsOverTheZone) {
  const util::TimeZone berlin = Berlin();
  EXPECT_EQ(Read("hour=2024-01-05T10:00:00Z", Keys({"hour"}), berlin),
            "2024-01-05T10:00:00Z .. 2024-01-05T11:00:00Z");
  EXPECT_EQ(Read("hour=2024-01-05T10:00:00%2B02:00", Keys({"hour"}), berlin),
            "2024-01-05T08:00:00Z .. 2024-01-05T09:00:00Z");
  // Without one, the value is a civil time in the zone (CET, UTC+1, in January).
  EXPECT_EQ(Read("hour=2024-01-05T10:00:00", Keys({"hour"}), berlin),
            "2024-01-05T09:00:00Z .. 2024-01-05T10:00:00Z");
}

TEST(ReadPartitionTime, AMonthIsOneCalendarMonth) {
  EXPECT_EQ(Read("month=2024-01", Keys({"month"})), "2024-01-01T00:00:00Z .. 2024-02-01T00:00:00Z");
  EXPECT_EQ(Read("month=2024-02", Keys({"month"})), "2024-02-01T00:00:00Z .. 2024-03-01T00:00:00Z");
}

TEST(ReadPartitionTime, IntegersAreReadByTheirNumberOfDigits) {
  EXPECT_EQ(Read("ds=20240105", Keys({"ds"})), "2024-01-05T00:00:00Z .. 2024-01-06T00:00:00Z");
  EXPECT_EQ(Read("ds=2024010510", Keys({"ds"})), "2024-01-05T10:00:00Z .. 2024-01-05T11:00:00Z");
  EXPECT_EQ(Read("ds=202401", Keys({"ds"})), "2024-01-01T00:00:00Z .. 2024-02-01T00:00:00Z");
  EXPECT_EQ(Read("ds=2024", Keys({"ds"})), "2024-01-01T00:00:00Z .. 2025-01-01T00:00:00Z");
}

TEST(ReadPartitionTime, SeveralKeysAreYearMonthDayAndHourInOrder) {
  EXPECT_EQ(Read("year=2024/month=01/day=05", Keys({"year", "month", "day"})),
            "2024-01-05T00:00:00Z .. 2024-01-06T00:00:00Z");
  EXPECT_EQ(Read("year=2024/month=1", Keys({"year", "month"})),
            "2024-01-01T00:00:00Z .. 2024-02-01T00:00:00Z");
  EXPECT_EQ(Read("year=2024/month=01/day=05/hour=23", Keys({"year", "month", "day", "hour"})),
            "2024-01-05T23:00:00Z .. 2024-01-06T00:00:00Z");
  // The keys are found by name, in whatever order the directories nest.
  EXPECT_EQ(Read("day=05/month=01/year=2024", Keys({"year", "month", "day"})),
            "2024-01-05T00:00:00Z .. 2024-01-06T00:00:00Z");
}

TEST(ReadPartitionTime, GroupingKeysTakeNoPartInTheTime) {
  EXPECT_EQ(Read("region=eu/dt=2024-01-05", Keys({"dt"})),
            "2024-01-05T00:00:00Z .. 2024-01-06T00:00:00Z");
  EXPECT_EQ(Read("dt=2024-01-05/region=20991231", Keys({"dt"})),
            "2024-01-05T00:00:00Z .. 2024-01-06T00:00:00Z");
}

TEST(ReadPartitionTime, AGivenIntervalSetsTheWidthAndAlignsTheStart) {
  // 2024-01-05 is a Friday; weeks start on Monday 2024-01-01.
  EXPECT_EQ(Read("dt=2024-01-05", {{"dt"}, core::Span{1, core::SpanUnit::kWeek}}),
            "2024-01-01T00:00:00Z .. 2024-01-08T00:00:00Z");
  EXPECT_EQ(Read("hour=2024-01-05T10", {{"hour"}, core::Span{1, core::SpanUnit::kDay}}),
            "2024-01-05T00:00:00Z .. 2024-01-06T00:00:00Z");
  EXPECT_EQ(Read("dt=2024-01-05", {{"dt"}, core::Span{1, core::SpanUnit::kHour}}),
            "2024-01-05T00:00:00Z .. 2024-01-05T01:00:00Z");
}

TEST(ReadPartitionTime, AnIntegerIntervalLeavesTheWidthToTheValue) {
  // strategy: id with interval: 1000 is a valid configuration; it is no width in time.
  EXPECT_EQ(Read("dt=2024-01-05", {{"dt"}, core::Span{1000, core::SpanUnit::kNumber}}),
            "2024-01-05T00:00:00Z .. 2024-01-06T00:00:00Z");
}

TEST(ReadPartitionTime, DaysAreCivilDaysOfTheZoneAcrossDstChanges) {
  const util::TimeZone berlin = Berlin();
  std::string problem;
  auto spring = ReadPartitionTime("dt=2024-03-31", Keys({"dt"}), berlin, &problem);
  ASSERT_TRUE(spring) << problem;
  EXPECT_EQ(spring->start, At("2024-03-30T23:00:00Z"));
  EXPECT_EQ(spring->end - spring->start, 23h);
  auto autumn = ReadPartitionTime("dt=2024-10-27", Keys({"dt"}), berlin, &problem);
  ASSERT_TRUE(autumn) << problem;
  EXPECT_EQ(autumn->start, At("2024-10-26T22:00:00Z"));
  EXPECT_EQ(autumn->end - autumn->start, 25h);
}

TEST(ReadPartitionTime, UnreadableValuesSayWhatWasFound) {
  EXPECT_EQ(Read("dt=yesterday", Keys({"dt"})),
            "unreadable: value \"yesterday\" of dt is not a date, timestamp or yyyymmdd[hh] "
            "integer");
  EXPECT_EQ(Read("dt=2024-02-30", Keys({"dt"})),
            "unreadable: value \"2024-02-30\" of dt is not a date, timestamp or yyyymmdd[hh] "
            "integer");
  EXPECT_EQ(Read("ds=20241301", Keys({"ds"})),
            "unreadable: value \"20241301\" of ds is not a date, timestamp or yyyymmdd[hh] "
            "integer");
  EXPECT_EQ(Read("ds=2024010524", Keys({"ds"})),
            "unreadable: value \"2024010524\" of ds is not a date, timestamp or yyyymmdd[hh] "
            "integer");
  EXPECT_EQ(Read("ds=123", Keys({"ds"})),
            "unreadable: value \"123\" of ds is not a date, timestamp or yyyymmdd[hh] integer");
  EXPECT_EQ(Read("year=2024/month=jan", Keys({"year", "month"})),
            "unreadable: value \"2024/jan\" of year/month is not a date, timestamp or "
            "yyyymmdd[hh] integer");
}

TEST(ReadPartitionTime, AMissingKeyIsNamed) {
  EXPECT_EQ(Read("region=eu", Keys({"dt"})), "unreadable: has no dt= level");
  EXPECT_EQ(Read("year=2024/month=01", Keys({"year", "month", "day"})),
            "unreadable: has no day= level");
}

TEST(ReadPartitionTime, NoPartitionKeysGiveAProblemNotAGuess) {
  EXPECT_EQ(Read("dt=2024-01-05", Keys({})),
            "unreadable: has no readable time: the dataset gives no partition_by key");
}

}  // namespace
}  // namespace tidemark::backend::lake
