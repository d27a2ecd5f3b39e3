#include "tidemark/backend/postgres/pg_bounds.h"

#include <gtest/gtest.h>

namespace tidemark::backend::postgres {
namespace {

// relpartbound as PostgreSQL 15 on x86-64 writes it, for a range partition with one
// value each side: `lower` and `upper` are the "{CONST …}" parts.
std::string Spec(const std::string& lower, const std::string& upper) {
  return "{PARTITIONBOUNDSPEC :strategy r :is_default false :modulus 0 :remainder 0 "
         ":listdatums <> :lowerdatums ({PARTITIONRANGEDATUM :kind 0 :value " +
         lower + " :location 50}) :upperdatums ({PARTITIONRANGEDATUM :kind 0 :value " + upper +
         " :location 80}) :location 44}";
}

std::string Const(int type, int length, const std::string& bytes) {
  return "{CONST :consttype " + std::to_string(type) +
         " :consttypmod -1 :constcollid 0 :constlen " + std::to_string(length) +
         " :constbyval true :constisnull false :location 50 :constvalue " + std::to_string(length) +
         " [ " + bytes + " ]}";
}

// Seconds since 1970 of a UTC (or civil) time.
int64_t Seconds(const std::string& text) {
  return util::ParseTimestamp(text)->local.time_since_epoch().count();
}

TEST(DecodeNodeBound, TimestamptzMicrosecondsSince2000) {
  // FOR VALUES FROM ('2026-10-29 00:00:00+00') TO ('2026-10-30 00:00:00+00')
  const std::string node =
      Spec(Const(1184, 8, "0 64 36 33 -18 1 3 0"), Const(1184, 8, "0 -96 -5 62 2 2 3 0"));
  auto bound = DecodeNodeBound(node, KeyKind::kTimestamptz);
  ASSERT_TRUE(bound);
  EXPECT_FALSE(bound->is_default);
  EXPECT_EQ(bound->from, Seconds("2026-10-29 00:00:00"));
  EXPECT_EQ(bound->to, Seconds("2026-10-30 00:00:00"));
}

TEST(DecodeNodeBound, TimestampBeforeAndAfter2000IsACivilTime) {
  // FOR VALUES FROM ('1970-01-01 00:00:00') TO ('2000-01-02 00:00:00')
  const std::string node =
      Spec(Const(1114, 8, "0 32 -56 -60 -2 -94 -4 -1"), Const(1114, 8, "0 96 -41 29 20 0 0 0"));
  auto bound = DecodeNodeBound(node, KeyKind::kTimestamp);
  ASSERT_TRUE(bound);
  EXPECT_EQ(bound->from, 0);
  EXPECT_EQ(bound->to, Seconds("2000-01-02 00:00:00"));
}

TEST(DecodeNodeBound, DateDaysSince2000SignExtended) {
  // FOR VALUES FROM ('1960-01-01') TO ('2030-01-01')
  const std::string node =
      Spec(Const(1082, 4, "-18 -58 -1 -1 -1 -1 -1 -1"), Const(1082, 4, "-50 42 0 0 0 0 0 0"));
  auto bound = DecodeNodeBound(node, KeyKind::kDate);
  ASSERT_TRUE(bound);
  EXPECT_EQ(bound->from, Seconds("1960-01-01 00:00:00"));
  EXPECT_EQ(bound->to, Seconds("2030-01-01 00:00:00"));
}

TEST(DecodeNodeBound, IntegersOfEveryWidth) {
  auto small = DecodeNodeBound(
      Spec(Const(21, 2, "-5 -1 -1 -1 -1 -1 -1 -1"), Const(21, 2, "44 1 0 0 0 0 0 0")),
      KeyKind::kInteger);
  ASSERT_TRUE(small);
  EXPECT_EQ(small->from, -5);
  EXPECT_EQ(small->to, 300);
  auto medium = DecodeNodeBound(
      Spec(Const(23, 4, "0 108 -54 -120 -1 -1 -1 -1"), Const(23, 4, "0 -108 53 119 0 0 0 0")),
      KeyKind::kInteger);
  ASSERT_TRUE(medium);
  EXPECT_EQ(medium->from, -2000000000);
  EXPECT_EQ(medium->to, 2000000000);
  auto big = DecodeNodeBound(Spec(Const(20, 8, "0 0 124 29 -81 -109 25 -125"),
                                  Const(20, 8, "0 0 -124 -30 80 108 -26 124")),
                             KeyKind::kInteger);
  ASSERT_TRUE(big);
  EXPECT_EQ(big->from, -9000000000000000000);
  EXPECT_EQ(big->to, 9000000000000000000);
}

TEST(DecodeNodeBound, BytesPrintedUnsignedOrAsAFourByteDatumReadTheSame) {
  // A server where char is unsigned prints 0..255; a 32-bit one lists four bytes.
  auto unsigned_bytes = DecodeNodeBound(
      Spec(Const(23, 4, "251 255 255 255 255 255 255 255"), Const(23, 4, "44 1 0 0 0 0 0 0")),
      KeyKind::kInteger);
  ASSERT_TRUE(unsigned_bytes);
  EXPECT_EQ(unsigned_bytes->from, -5);
  auto four = DecodeNodeBound(Spec(Const(23, 4, "-5 -1 -1 -1"), Const(23, 4, "44 1 0 0")),
                              KeyKind::kInteger);
  ASSERT_TRUE(four);
  EXPECT_EQ(four->from, -5);
  EXPECT_EQ(four->to, 300);
}

TEST(DecodeNodeBound, TheDefaultPartition) {
  auto bound = DecodeNodeBound(
      "{PARTITIONBOUNDSPEC :strategy r :is_default true :modulus 0 :remainder 0 :listdatums <> "
      ":lowerdatums <> :upperdatums <> :location 33}",
      KeyKind::kTimestamptz);
  ASSERT_TRUE(bound);
  EXPECT_TRUE(bound->is_default);
}

TEST(DecodeNodeBound, RefusesWhatIsNotOneFiniteWholeValueEachSide) {
  const std::string day = Const(1184, 8, "0 64 36 33 -18 1 3 0");
  // ('infinity')
  EXPECT_FALSE(DecodeNodeBound(Spec(day, Const(1184, 8, "-1 -1 -1 -1 -1 -1 -1 127")),
                               KeyKind::kTimestamptz));
  // ('1999-12-31 23:59:59.5+00')
  EXPECT_FALSE(DecodeNodeBound(Spec(Const(1184, 8, "-32 94 -8 -1 -1 -1 -1 -1"), day),
                               KeyKind::kTimestamptz));
  // MINVALUE
  EXPECT_FALSE(DecodeNodeBound(
      "{PARTITIONBOUNDSPEC :strategy r :is_default false :modulus 0 :remainder 0 :listdatums <> "
      ":lowerdatums ({PARTITIONRANGEDATUM :kind -1 :value <> :location 50}) :upperdatums "
      "({PARTITIONRANGEDATUM :kind 0 :value " +
          day + " :location 64}) :location 44}",
      KeyKind::kTimestamptz));
  // A type that is not the key's, and a key kind tidemark does not partition by.
  EXPECT_FALSE(DecodeNodeBound(Spec(day, day), KeyKind::kTimestamp));
  EXPECT_FALSE(DecodeNodeBound(Spec(day, day), KeyKind::kOther));
  // Two key columns.
  EXPECT_FALSE(DecodeNodeBound(
      "{PARTITIONBOUNDSPEC :strategy r :is_default false :lowerdatums ({PARTITIONRANGEDATUM "
      ":kind 0 :value " +
          day + "} {PARTITIONRANGEDATUM :kind 0 :value " + day +
          "}) :upperdatums ({PARTITIONRANGEDATUM :kind 0 :value " + day + "})}",
      KeyKind::kTimestamptz));
  // LIST, HASH, and text that is not a bound at all.
  EXPECT_FALSE(DecodeNodeBound(
      "{PARTITIONBOUNDSPEC :strategy l :is_default false :modulus 0 :remainder 0 :listdatums "
      "({CONST :consttype 23}) :lowerdatums <> :upperdatums <> :location 1}",
      KeyKind::kInteger));
  EXPECT_FALSE(DecodeNodeBound("", KeyKind::kInteger));
  EXPECT_FALSE(DecodeNodeBound("FOR VALUES FROM ('1') TO ('2')", KeyKind::kInteger));
  // Cut short, and a byte out of range.
  const std::string whole = Spec(day, day);
  EXPECT_FALSE(DecodeNodeBound(whole.substr(0, whole.size() - 40), KeyKind::kTimestamptz));
  EXPECT_FALSE(
      DecodeNodeBound(Spec(day, Const(1184, 8, "0 64 36 33 -18 1 3 300")), KeyKind::kTimestamptz));
}

TEST(TextKeyBound, AgreesWithTheDecodedForm) {
  auto parsed =
      ParseRangeBound("FOR VALUES FROM ('2026-10-29 00:00:00+00') TO ('2026-10-30 00:00:00+00')");
  ASSERT_TRUE(parsed);
  auto from_text = TextKeyBound(*parsed, KeyKind::kTimestamptz);
  auto from_node = DecodeNodeBound(
      Spec(Const(1184, 8, "0 64 36 33 -18 1 3 0"), Const(1184, 8, "0 -96 -5 62 2 2 3 0")),
      KeyKind::kTimestamptz);
  ASSERT_TRUE(from_text);
  EXPECT_EQ(from_text, from_node);

  auto ids = ParseRangeBound("FOR VALUES FROM ('-5') TO (300)");
  ASSERT_TRUE(ids);
  EXPECT_EQ(TextKeyBound(*ids, KeyKind::kInteger), (KeyBound{false, -5, 300}));
  auto whole_default = ParseRangeBound("DEFAULT");
  ASSERT_TRUE(whole_default);
  EXPECT_TRUE(TextKeyBound(*whole_default, KeyKind::kDate)->is_default);
  auto open = ParseRangeBound("FOR VALUES FROM (MINVALUE) TO ('2024-01-01')");
  ASSERT_TRUE(open);
  EXPECT_FALSE(TextKeyBound(*open, KeyKind::kDate));
}

TEST(KeyInstant, CivilTimesTakeTheZoneAndInstantsDoNot) {
  auto berlin = util::TimeZone::Load("Europe/Berlin");
  ASSERT_TRUE(berlin);
  const int64_t midnight = Seconds("2024-03-31 00:00:00");
  EXPECT_EQ(KeyInstant(midnight, KeyKind::kTimestamptz, *berlin).time_since_epoch().count(),
            midnight);
  EXPECT_EQ(KeyInstant(midnight, KeyKind::kDate, *berlin).time_since_epoch().count(),
            midnight - 3600);
}

}  // namespace
}  // namespace tidemark::backend::postgres
