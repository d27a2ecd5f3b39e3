#include "tidemark/util/timezone.h"

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace tidemark::util {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using namespace std::chrono_literals;

// "2024-03-31T01:00:00Z" as an instant; the tests write times the way people read them.
Instant At(std::string_view text) {
  std::optional<ParsedTimestamp> ts = ParseTimestamp(text);
  EXPECT_TRUE(ts && ts->offset) << text;
  return Instant(ts->local.time_since_epoch() - *ts->offset);
}

LocalTime Local(std::string_view text) {
  std::optional<ParsedTimestamp> ts = ParseTimestamp(text);
  EXPECT_TRUE(ts && !ts->offset) << text;
  return ts->local;
}

TimeZone MustLoad(std::string_view name) {
  Result<TimeZone> zone = TimeZone::Load(name);
  EXPECT_TRUE(zone) << zone.error().message();
  return zone ? *zone : TimeZone::Utc();
}

// Points $TZDIR at a fresh directory for one test and restores it afterwards.
class ZoneDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* old = std::getenv("TZDIR");
    if (old != nullptr) saved_ = old;
    // Unique per test and per run, so that parallel runs of the suite do not collide.
    const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("tidemark_tz_" + test + "_" + std::to_string(std::random_device{}()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    setenv("TZDIR", dir_.c_str(), 1);
  }
  void TearDown() override {
    if (saved_) {
      setenv("TZDIR", saved_->c_str(), 1);
    } else {
      unsetenv("TZDIR");
    }
    std::filesystem::remove_all(dir_);
  }

  void WriteFile(const std::string& name, const std::string& bytes) {
    std::filesystem::create_directories((dir_ / name).parent_path());
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
  }

  std::filesystem::path dir_;
  std::optional<std::string> saved_;
};

// A TZif file built by hand, so that each format feature is tested on its own.
struct FakeZone {
  char version = '2';                // '\0' for version 1
  std::vector<int64_t> transitions;  // UTC seconds
  std::vector<uint8_t> type_of;      // per transition
  std::vector<int32_t> offsets{0};   // UTC offset of each local time type
  std::string footer;                // POSIX TZ string, version 2 and later
};

void PutBigEndian(std::string& out, int64_t value, int width) {
  for (int shift = 8 * (width - 1); shift >= 0; shift -= 8) {
    out += static_cast<char>((static_cast<uint64_t>(value) >> shift) & 0xff);
  }
}

std::string TzifBlock(const FakeZone& z, char version, int time_size) {
  std::string out = "TZif";
  out += version;
  out += std::string(15, '\0');
  for (size_t count :
       {size_t{0}, size_t{0}, size_t{0}, z.transitions.size(), z.offsets.size(), size_t{4}}) {
    PutBigEndian(out, static_cast<int64_t>(count), 4);
  }
  for (int64_t t : z.transitions) PutBigEndian(out, t, time_size);
  for (uint8_t type : z.type_of) out += static_cast<char>(type);
  for (int32_t offset : z.offsets) {
    PutBigEndian(out, offset, 4);
    out += std::string(2, '\0');  // isdst, abbreviation index
  }
  return out + std::string("ABC\0", 4);
}

std::string Tzif(const FakeZone& z) {
  if (z.version == '\0') return TzifBlock(z, '\0', 4);
  return TzifBlock(z, z.version, 4) + TzifBlock(z, z.version, 8) + "\n" + z.footer + "\n";
}

// ---------------------------------------------------------------------------------
// Loading.

TEST_F(ZoneDirTest, UtcWorksWithoutAnyZoneFiles) {
  for (const char* name : {"UTC", "Etc/UTC"}) {
    TimeZone zone = MustLoad(name);
    EXPECT_EQ(zone.name(), name);
    EXPECT_EQ(zone.OffsetAt(At("2024-07-01T12:00Z")), 0s);
    EXPECT_EQ(zone.FromLocal(Local("2024-07-01T12:00")), At("2024-07-01T12:00Z"));
  }
  EXPECT_EQ(TimeZone::Utc().name(), "UTC");
  EXPECT_EQ(TimeZone::Utc().ToLocal(At("2024-07-01T12:00Z")), Local("2024-07-01T12:00"));
}

TEST_F(ZoneDirTest, UnknownZoneIsAConfigErrorNamingTheZoneAndTheDirectory) {
  Result<TimeZone> zone = TimeZone::Load("Europe/Berln");
  ASSERT_FALSE(zone);
  EXPECT_EQ(zone.error().category(), ErrorCategory::kConfig);
  EXPECT_NE(zone.error().message().find("unknown time zone \"Europe/Berln\""), std::string::npos);
  EXPECT_NE(zone.error().message().find(dir_.string()), std::string::npos);
  EXPECT_NE(zone.error().message().find("\"UTC\""), std::string::npos);
}

TEST_F(ZoneDirTest, RefusesNamesThatCouldLeaveTheZoneDirectory) {
  WriteFile("Real/Zone", Tzif({}));
  for (const char* name :
       {"", "/etc/localtime", "../Real/Zone", "Real/../Real/Zone", "Real\\Zone"}) {
    Result<TimeZone> zone = TimeZone::Load(name);
    ASSERT_FALSE(zone) << name;
    EXPECT_EQ(zone.error().category(), ErrorCategory::kConfig);
    EXPECT_NE(zone.error().message().find("\"" + std::string(name) + "\""), std::string::npos);
  }
  EXPECT_TRUE(TimeZone::Load("Real/Zone"));
}

TEST_F(ZoneDirTest, ADirectoryIsNotAZone) {
  WriteFile("Real/Zone", Tzif({}));
  EXPECT_FALSE(TimeZone::Load("Real"));
}

TEST_F(ZoneDirTest, AFileThatIsNotTzifIsReportedWithItsPath) {
  WriteFile("Broken/Zone", "this is not a zone file");
  WriteFile("Short/Zone", Tzif({}).substr(0, 30));
  for (const char* name : {"Broken/Zone", "Short/Zone"}) {
    Result<TimeZone> zone = TimeZone::Load(name);
    ASSERT_FALSE(zone) << name;
    EXPECT_NE(zone.error().message().find((dir_ / name).string()), std::string::npos);
  }
}

// ---------------------------------------------------------------------------------
// The system database.

TEST(TimeZoneBerlin, SpringsForwardAt0100UtcOnMarch31_2024) {
  TimeZone berlin = MustLoad("Europe/Berlin");
  EXPECT_EQ(berlin.OffsetAt(At("2024-03-31T00:59:59Z")), 1h);
  EXPECT_EQ(berlin.OffsetAt(At("2024-03-31T01:00:00Z")), 2h);
  EXPECT_EQ(berlin.ToLocal(At("2024-03-31T01:00:00Z")), Local("2024-03-31T03:00"));
}

TEST(TimeZoneBerlin, FallsBackAt0100UtcOnOctober27_2024) {
  TimeZone berlin = MustLoad("Europe/Berlin");
  EXPECT_EQ(berlin.OffsetAt(At("2024-10-27T00:59:59Z")), 2h);
  EXPECT_EQ(berlin.OffsetAt(At("2024-10-27T01:00:00Z")), 1h);
  EXPECT_EQ(berlin.ToLocal(At("2024-10-27T01:00:00Z")), Local("2024-10-27T02:00"));
}

TEST(TimeZoneBerlin, FromLocalMovesATimeInTheSpringGapForwardByTheGap) {
  TimeZone berlin = MustLoad("Europe/Berlin");
  // 02:30 does not exist; it becomes 03:30 CEST.
  EXPECT_EQ(berlin.FromLocal(Local("2024-03-31T02:30")), At("2024-03-31T01:30Z"));
  EXPECT_EQ(berlin.FromLocal(Local("2024-03-31T02:00")), At("2024-03-31T01:00Z"));
  EXPECT_EQ(berlin.FromLocal(Local("2024-03-31T01:59:59")), At("2024-03-31T00:59:59Z"));
  EXPECT_EQ(berlin.FromLocal(Local("2024-03-31T03:00")), At("2024-03-31T01:00Z"));
}

TEST(TimeZoneBerlin, FromLocalTakesTheFirstOccurrenceOfARepeatedTime) {
  TimeZone berlin = MustLoad("Europe/Berlin");
  EXPECT_EQ(berlin.FromLocal(Local("2024-10-27T02:30")), At("2024-10-27T00:30Z"));
  EXPECT_EQ(berlin.FromLocal(Local("2024-10-27T02:00")), At("2024-10-27T00:00Z"));
  EXPECT_EQ(berlin.FromLocal(Local("2024-10-27T03:00")), At("2024-10-27T02:00Z"));
}

TEST(TimeZoneBerlin, ToLocalAndFromLocalRoundTripOutsideChanges) {
  TimeZone berlin = MustLoad("Europe/Berlin");
  for (const char* text : {"1975-06-01T12:00Z", "2024-01-05T10:00Z", "2024-07-01T23:30Z",
                           "2090-07-01T12:00Z", "2090-12-31T23:59:59Z"}) {
    EXPECT_EQ(berlin.FromLocal(berlin.ToLocal(At(text))), At(text)) << text;
  }
}

TEST(TimeZoneBerlin, UsesTheFooterRuleBeyondTheLastTransitionIn2090) {
  TimeZone berlin = MustLoad("Europe/Berlin");
  EXPECT_EQ(berlin.OffsetAt(At("2090-07-01T12:00Z")), 2h);
  EXPECT_EQ(berlin.OffsetAt(At("2090-01-15T12:00Z")), 1h);
  EXPECT_EQ(berlin.OffsetAt(At("2090-03-26T00:59:59Z")), 1h);
  EXPECT_EQ(berlin.OffsetAt(At("2090-03-26T01:00:00Z")), 2h);
  EXPECT_EQ(berlin.OffsetAt(At("2090-10-29T00:59:59Z")), 2h);
  EXPECT_EQ(berlin.OffsetAt(At("2090-10-29T01:00:00Z")), 1h);
  EXPECT_EQ(berlin.FromLocal(Local("2090-03-26T02:30")), At("2090-03-26T01:30Z"));
  EXPECT_EQ(berlin.FromLocal(Local("2090-10-29T02:30")), At("2090-10-29T00:30Z"));
}

TEST(TimeZoneSaoPaulo, HasNoDaylightSavingTimeTodayButHadItBefore2019) {
  TimeZone sao_paulo = MustLoad("America/Sao_Paulo");
  EXPECT_EQ(sao_paulo.OffsetAt(At("2024-01-15T12:00Z")), -3h);
  EXPECT_EQ(sao_paulo.OffsetAt(At("2024-07-15T12:00Z")), -3h);
  EXPECT_EQ(sao_paulo.OffsetAt(At("2090-01-15T12:00Z")), -3h);
  EXPECT_EQ(sao_paulo.OffsetAt(At("2018-01-15T12:00Z")), -2h);
  EXPECT_EQ(sao_paulo.FromLocal(Local("2090-01-15T09:00")), At("2090-01-15T12:00Z"));
}

TEST(TimeZoneSydney, KeepsSouthernSummerTimeInAFutureYear) {
  TimeZone sydney = MustLoad("Australia/Sydney");
  EXPECT_EQ(sydney.OffsetAt(At("2080-01-15T12:00Z")), 11h);
  EXPECT_EQ(sydney.OffsetAt(At("2080-07-15T12:00Z")), 10h);
  EXPECT_EQ(sydney.OffsetAt(At("2080-04-06T15:59:59Z")), 11h);
  EXPECT_EQ(sydney.OffsetAt(At("2080-04-06T16:00:00Z")), 10h);
  EXPECT_EQ(sydney.OffsetAt(At("2080-10-05T15:59:59Z")), 10h);
  EXPECT_EQ(sydney.OffsetAt(At("2080-10-05T16:00:00Z")), 11h);
  EXPECT_EQ(sydney.FromLocal(Local("2080-10-06T02:30")), At("2080-10-05T16:30Z"));
  EXPECT_EQ(sydney.FromLocal(Local("2080-04-07T02:30")), At("2080-04-06T15:30Z"));
}

TEST(TimeZoneSantiago, SkipsMidnightWhenItsRuleChangesAt24h) {
  TimeZone santiago = MustLoad("America/Santiago");
  EXPECT_EQ(santiago.OffsetAt(At("2090-09-03T03:59:59Z")), -4h);
  EXPECT_EQ(santiago.OffsetAt(At("2090-09-03T04:00:00Z")), -3h);
  EXPECT_EQ(santiago.FromLocal(Local("2090-09-03T00:00")), At("2090-09-03T04:00Z"));
}

// ---------------------------------------------------------------------------------
// File format features, on hand-made files.

TEST_F(ZoneDirTest, ASlimFileWithOnlyAFooterFollowsTheRuleAtAllTimes) {
  WriteFile("Slim/Berlin", Tzif({.offsets = {3600}, .footer = "CET-1CEST,M3.5.0,M10.5.0/3"}));
  TimeZone zone = MustLoad("Slim/Berlin");
  EXPECT_EQ(zone.OffsetAt(At("2024-03-31T00:59:59Z")), 1h);
  EXPECT_EQ(zone.OffsetAt(At("2024-03-31T01:00:00Z")), 2h);
  EXPECT_EQ(zone.OffsetAt(At("2024-10-27T01:00:00Z")), 1h);
}

TEST_F(ZoneDirTest, TransitionsGovernUntilTheLastOneThenTheFooter) {
  // Fixed +01:00 until 2000, a table entry to +05:00, then the rule's +03:00 from 2010.
  WriteFile("Mixed/Zone", Tzif({.transitions = {946684800, 1262304000},
                                .type_of = {1, 2},
                                .offsets = {3600, 18000, 10800},
                                .footer = "<+03>-3"}));
  TimeZone zone = MustLoad("Mixed/Zone");
  EXPECT_EQ(zone.OffsetAt(At("1999-12-31T23:59:59Z")), 1h);
  EXPECT_EQ(zone.OffsetAt(At("2000-01-01T00:00:00Z")), 5h);
  EXPECT_EQ(zone.OffsetAt(At("2010-01-01T00:00:00Z")), 3h);
  EXPECT_EQ(zone.OffsetAt(At("2090-01-01T00:00:00Z")), 3h);
}

TEST_F(ZoneDirTest, Version1FilesUseTheir32BitTable) {
  WriteFile("Old/Zone", Tzif({.version = '\0',
                              .transitions = {-86400, 86400},
                              .type_of = {1, 0},
                              .offsets = {0, -7200}}));
  TimeZone zone = MustLoad("Old/Zone");
  EXPECT_EQ(zone.OffsetAt(At("1969-12-30T00:00Z")), 0s);
  EXPECT_EQ(zone.OffsetAt(At("1970-01-01T00:00Z")), -2h);
  EXPECT_EQ(zone.OffsetAt(At("2024-01-01T00:00Z")), 0s);
}

TEST_F(ZoneDirTest, Version3RuleTimesMayBePast24HoursOrNegative) {
  WriteFile("Asia/Jerusalem", Tzif({.version = '3', .footer = "IST-2IDT,M3.4.4/26,M10.5.0"}));
  WriteFile("America/Nuuk", Tzif({.version = '3', .footer = "<-02>2<-01>,M3.5.0/-1,M10.5.0/0"}));
  TimeZone jerusalem = MustLoad("Asia/Jerusalem");
  // Thursday 26:00 is Friday 02:00.
  EXPECT_EQ(jerusalem.OffsetAt(At("2024-03-28T23:59:59Z")), 2h);
  EXPECT_EQ(jerusalem.OffsetAt(At("2024-03-29T00:00:00Z")), 3h);
  EXPECT_EQ(jerusalem.OffsetAt(At("2024-10-26T23:00:00Z")), 2h);
  TimeZone nuuk = MustLoad("America/Nuuk");
  // Sunday -01:00 is Saturday 23:00 local.
  EXPECT_EQ(nuuk.OffsetAt(At("2024-03-31T00:59:59Z")), -2h);
  EXPECT_EQ(nuuk.OffsetAt(At("2024-03-31T01:00:00Z")), -1h);
  EXPECT_EQ(nuuk.OffsetAt(At("2024-10-27T00:59:59Z")), -1h);
  EXPECT_EQ(nuuk.OffsetAt(At("2024-10-27T01:00:00Z")), -2h);
}

TEST_F(ZoneDirTest, JulianRuleDaysSkipFebruary29AndZeroBasedDaysCountIt) {
  WriteFile("Julian/One", Tzif({.footer = "XST3XDT,J60/2,J300/2"}));
  WriteFile("Julian/Zero", Tzif({.footer = "XST3XDT,59/2,299/2"}));
  TimeZone one_based = MustLoad("Julian/One");
  // J60 is March 1 even in a leap year.
  EXPECT_EQ(one_based.OffsetAt(At("2024-03-01T04:59:59Z")), -3h);
  EXPECT_EQ(one_based.OffsetAt(At("2024-03-01T05:00:00Z")), -2h);
  EXPECT_EQ(one_based.OffsetAt(At("2024-10-27T03:59:59Z")), -2h);
  EXPECT_EQ(one_based.OffsetAt(At("2024-10-27T04:00:00Z")), -3h);
  TimeZone zero_based = MustLoad("Julian/Zero");
  // Day 59 is February 29 in a leap year and March 1 otherwise.
  EXPECT_EQ(zero_based.OffsetAt(At("2024-02-29T05:00:00Z")), -2h);
  EXPECT_EQ(zero_based.OffsetAt(At("2023-02-28T23:00:00Z")), -3h);
  EXPECT_EQ(zero_based.OffsetAt(At("2023-03-01T05:00:00Z")), -2h);
}

TEST_F(ZoneDirTest, RulesCoverAllYearDstAndNegativeDst) {
  WriteFile("All/Year", Tzif({.footer = "EST5EDT,0/0,J365/25"}));
  WriteFile("Europe/Dublin", Tzif({.footer = "IST-1GMT0,M10.5.0,M3.5.0/1"}));
  WriteFile("Default/Dst", Tzif({.footer = "EST5EDT"}));
  TimeZone all_year = MustLoad("All/Year");
  for (const char* t : {"2024-01-01T00:00Z", "2024-06-01T00:00Z", "2024-12-31T23:59Z"}) {
    EXPECT_EQ(all_year.OffsetAt(At(t)), -4h) << t;
  }
  TimeZone dublin = MustLoad("Europe/Dublin");
  EXPECT_EQ(dublin.OffsetAt(At("2024-07-01T12:00Z")), 1h);
  EXPECT_EQ(dublin.OffsetAt(At("2024-12-01T12:00Z")), 0s);
  // Without a rule, the US rule applies, as in tzcode.
  TimeZone us = MustLoad("Default/Dst");
  EXPECT_EQ(us.OffsetAt(At("2024-07-01T12:00Z")), -4h);
  EXPECT_EQ(us.OffsetAt(At("2024-12-01T12:00Z")), -5h);
}

TEST_F(ZoneDirTest, AnUnreadableFooterIsAnErrorNotASilentGuess) {
  WriteFile("Bad/Rule", Tzif({.footer = "CET-1CEST,M13.5.0,M10.5.0"}));
  Result<TimeZone> zone = TimeZone::Load("Bad/Rule");
  ASSERT_FALSE(zone);
  EXPECT_NE(zone.error().message().find("M13.5.0"), std::string::npos);
}

}  // namespace
}  // namespace tidemark::util
