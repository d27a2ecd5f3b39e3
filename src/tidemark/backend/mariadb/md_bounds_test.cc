#include "tidemark/backend/mariadb/md_bounds.h"

#include <gtest/gtest.h>

namespace tidemark::backend::mariadb {
namespace {

util::Instant At(const char* text) { return *util::ParseInstant(text); }

util::TimeZone Berlin() { return *util::TimeZone::Load("Europe/Berlin"); }

TEST(ParseKey, TheFormsTidemarkPartitionsBy) {
  PartitionKey days = ParseKey("RANGE", "to_days(`created_at`)");
  EXPECT_EQ(days.form, KeyForm::kToDays);
  EXPECT_EQ(days.column, "created_at");
  EXPECT_EQ(ParseKey("RANGE", "TO_DAYS(created_at)").form, KeyForm::kToDays);
  PartitionKey unix = ParseKey("RANGE", "unix_timestamp(`ts`)");
  EXPECT_EQ(unix.form, KeyForm::kUnixTimestamp);
  EXPECT_EQ(unix.column, "ts");
  PartitionKey columns = ParseKey("RANGE COLUMNS", "`day`");
  EXPECT_EQ(columns.form, KeyForm::kColumns);
  EXPECT_EQ(columns.column, "day");
  PartitionKey id = ParseKey("RANGE", "`id`");
  EXPECT_EQ(id.form, KeyForm::kInteger);
  EXPECT_EQ(id.column, "id");
  EXPECT_EQ(ParseKey("RANGE", "`odd``name`").column, "odd`name");
}

TEST(ParseKey, EverythingElseIsOther) {
  EXPECT_EQ(ParseKey("HASH", "`id`").form, KeyForm::kOther);
  EXPECT_EQ(ParseKey("KEY", "`id`").form, KeyForm::kOther);
  EXPECT_EQ(ParseKey("LIST", "`region`").form, KeyForm::kOther);
  EXPECT_EQ(ParseKey("RANGE COLUMNS", "`a`,`b`").form, KeyForm::kOther);
  EXPECT_EQ(ParseKey("RANGE", "year(`created_at`)").form, KeyForm::kOther);
  EXPECT_EQ(ParseKey("RANGE", "`id` div 1000").form, KeyForm::kOther);
  EXPECT_EQ(ParseKey("", "").form, KeyForm::kOther);
}

TEST(ParseLessThan, MaxvalueIntegersAndLiterals) {
  EXPECT_TRUE(ParseLessThan("MAXVALUE")->maxvalue);
  EXPECT_EQ(ParseLessThan("739255")->integer, 739255);
  EXPECT_EQ(ParseLessThan("-5")->integer, -5);
  EXPECT_EQ(ParseLessThan("'2024-01-05'")->literal, "2024-01-05");
  EXPECT_EQ(ParseLessThan("'2024-01-05 10:00:00'")->literal, "2024-01-05 10:00:00");
  EXPECT_EQ(ParseLessThan("'it''s'")->literal, "it's");
  EXPECT_FALSE(ParseLessThan("'2024-01-05','x'"));
  EXPECT_FALSE(ParseLessThan("12 34"));
  EXPECT_FALSE(ParseLessThan(""));
}

TEST(BoundInstant, ToDaysAndDateColumnsAreCivilDaysOfTheZone) {
  // TO_DAYS('2024-03-31') = 739341: midnight in Berlin is 22:00 UTC the day before.
  EXPECT_EQ(BoundInstant(*ParseLessThan("739341"), KeyForm::kToDays, Berlin()),
            At("2024-03-30T23:00:00Z"));
  EXPECT_EQ(BoundInstant(*ParseLessThan("739342"), KeyForm::kToDays, Berlin()),
            At("2024-03-31T22:00:00Z"));
  EXPECT_EQ(BoundInstant(*ParseLessThan("'2024-03-31'"), KeyForm::kColumns, Berlin()),
            At("2024-03-30T23:00:00Z"));
  EXPECT_EQ(BoundInstant(*ParseLessThan("'2024-03-31 12:00:00'"), KeyForm::kColumns, Berlin()),
            At("2024-03-31T10:00:00Z"));
}

TEST(BoundInstant, UnixTimestampsAreInstants) {
  EXPECT_EQ(BoundInstant(*ParseLessThan("1711843200"), KeyForm::kUnixTimestamp, Berlin()),
            At("2024-03-31T00:00:00Z"));
}

TEST(BoundInstant, MaxvalueIdsAndOddLiteralsAreNotInstants) {
  EXPECT_FALSE(BoundInstant(*ParseLessThan("MAXVALUE"), KeyForm::kToDays, Berlin()));
  EXPECT_FALSE(BoundInstant(*ParseLessThan("1000"), KeyForm::kInteger, Berlin()));
  EXPECT_FALSE(BoundInstant(*ParseLessThan("'soon'"), KeyForm::kColumns, Berlin()));
  EXPECT_FALSE(BoundInstant(*ParseLessThan("1000"), KeyForm::kColumns, Berlin()));
}

TEST(LessThanFor, RoundTripsEveryForm) {
  const util::TimeZone zone = Berlin();
  for (const char* text :
       {"2024-03-30T23:00:00Z", "2024-10-26T22:00:00Z", "1999-12-31T23:00:00Z"}) {
    const util::Instant t = At(text);
    for (KeyForm form : {KeyForm::kToDays, KeyForm::kUnixTimestamp, KeyForm::kColumns}) {
      auto back = BoundInstant(*ParseLessThan(LessThanFor(t, form, zone)), form, zone);
      EXPECT_EQ(back, t) << text << " form " << static_cast<int>(form);
    }
  }
  EXPECT_EQ(LessThanFor(At("2024-03-30T23:00:00Z"), KeyForm::kToDays, zone), "739341");
  EXPECT_EQ(LessThanFor(At("2024-03-30T23:00:00Z"), KeyForm::kColumns, zone), "'2024-03-31'");
  EXPECT_EQ(LessThanFor(At("2024-03-31T10:00:00Z"), KeyForm::kColumns, zone),
            "'2024-03-31 12:00:00'");
}

}  // namespace
}  // namespace tidemark::backend::mariadb
