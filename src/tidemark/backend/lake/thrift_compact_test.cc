// The compact protocol reader on bytes built by hand after the specification, and on
// damaged bytes.

#include "tidemark/backend/lake/thrift_compact.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tidemark::backend::lake {
namespace {

using ::testing::HasSubstr;

// Writes compact-protocol bytes, as Thrift's own writer does.
class Bytes {
 public:
  Bytes& Raw(uint8_t b) {
    out_ += static_cast<char>(b);
    return *this;
  }
  Bytes& Varint(uint64_t n) {
    while (n >= 0x80) {
      Raw(static_cast<uint8_t>(n | 0x80));
      n >>= 7;
    }
    return Raw(static_cast<uint8_t>(n));
  }
  Bytes& Zigzag(int64_t v) {
    return Varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  // A field header, short form when the id follows the last by 1 to 15.
  Bytes& Field(int16_t id, ThriftType type) {
    const int delta = id - last_;
    last_ = id;
    if (delta > 0 && delta <= 15) return Raw(static_cast<uint8_t>(delta << 4 | uint8_t(type)));
    Raw(static_cast<uint8_t>(type));
    return Zigzag(id);
  }
  Bytes& Stop() { return Raw(0); }
  Bytes& String(std::string_view s) {
    Varint(s.size());
    out_.append(s);
    return *this;
  }
  void ResetFieldIds() { last_ = 0; }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
  int16_t last_ = 0;
};

TEST(ThriftCompact, ReadsTheFieldsOfAStructAndSkipsWhatItDoesNotKnow) {
  Bytes b;
  b.Field(1, ThriftType::kI32).Zigzag(-5);
  b.Field(2, ThriftType::kBinary).String(std::string_view("ab\0c", 4));
  b.Field(3, ThriftType::kList).Raw(3 << 4 | uint8_t(ThriftType::kI64));
  b.Zigzag(1).Zigzag(-2).Zigzag(INT64_MAX);
  b.Field(4, ThriftType::kStruct);  // nested: {1: double 2.5, 2: map<binary,i32>{"k": 7}}
  {
    Bytes inner;
    inner.Field(1, ThriftType::kDouble);
    double d = 2.5;
    for (size_t i = 0; i < 8; ++i) inner.Raw(reinterpret_cast<uint8_t*>(&d)[i]);
    inner.Field(2, ThriftType::kMap)
        .Varint(1)
        .Raw(uint8_t(ThriftType::kBinary) << 4 | uint8_t(ThriftType::kI32));
    inner.String("k").Zigzag(7);
    inner.Stop();
    for (char c : inner.str()) b.Raw(static_cast<uint8_t>(c));
  }
  b.Field(40, ThriftType::kTrue);  // the long form: 36 after the last id
  b.Field(41, ThriftType::kI16).Zigzag(-300);
  b.Stop();

  ThriftReader r(b.str(), "the footer");
  ASSERT_TRUE(r.StructBegin());
  auto f = r.Field();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->id, 1);
  EXPECT_EQ(*r.I32(), -5);
  f = r.Field();
  EXPECT_EQ(f->id, 2);
  EXPECT_EQ(*r.Binary(), std::string_view("ab\0c", 4));
  f = r.Field();
  EXPECT_EQ(f->id, 3);
  auto list = r.ListBegin();
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size, 3u);
  EXPECT_EQ(list->element, ThriftType::kI64);
  EXPECT_EQ(*r.I64(), 1);
  EXPECT_EQ(*r.I64(), -2);
  EXPECT_EQ(*r.I64(), INT64_MAX);
  f = r.Field();
  EXPECT_EQ(f->id, 4);
  ASSERT_TRUE(r.Skip(f->type));  // the nested struct, map and all
  f = r.Field();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->id, 40);
  EXPECT_TRUE(ThriftReader::BoolOf(*f));
  f = r.Field();
  EXPECT_EQ(f->id, 41);
  EXPECT_EQ(*r.I16(), -300);
  f = r.Field();
  EXPECT_EQ(f->type, ThriftType::kStop);
  ASSERT_TRUE(r.StructEnd());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ThriftCompact, FieldIdsAreRelativeToTheirOwnStruct) {
  Bytes b;
  b.Field(5, ThriftType::kStruct);
  b.ResetFieldIds();
  b.Field(1, ThriftType::kI32).Zigzag(1).Stop();
  b.ResetFieldIds();
  b.Field(5, ThriftType::kI32);  // written as if 5 were last: the id after it is 6
  // Hand-write field 6 as a delta of 1 from 5.
  std::string bytes = b.str();
  bytes.back() = static_cast<char>(1 << 4 | uint8_t(ThriftType::kI32));
  bytes += static_cast<char>(2);  // zigzag 1
  bytes += static_cast<char>(0);
  ThriftReader r(bytes, "x");
  ASSERT_TRUE(r.StructBegin());
  auto outer = r.Field();
  EXPECT_EQ(outer->id, 5);
  ASSERT_TRUE(r.StructBegin());
  EXPECT_EQ(r.Field()->id, 1);
  EXPECT_EQ(*r.I32(), 1);
  EXPECT_EQ(r.Field()->type, ThriftType::kStop);
  ASSERT_TRUE(r.StructEnd());
  auto next = r.Field();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->id, 6);
}

TEST(ThriftCompact, LongListsAndBoolElements) {
  Bytes b;
  b.Raw(0xF0 | uint8_t(ThriftType::kTrue)).Varint(20);
  for (int i = 0; i < 20; ++i) b.Raw(i % 2 == 0 ? 1 : 2);
  ThriftReader r(b.str(), "x");
  auto list = r.ListBegin();
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size, 20u);
  EXPECT_TRUE(*r.Bool());
  EXPECT_FALSE(*r.Bool());
  ThriftReader skip(b.str(), "x");
  ASSERT_TRUE(skip.Skip(ThriftType::kList));
  EXPECT_EQ(skip.remaining(), 0u);
}

TEST(ThriftCompact, DamageIsAnErrorNamingTheBytesAndWhere) {
  auto fails = [](const std::string& bytes, const std::function<util::Status(ThriftReader&)>& read,
                  const std::string& words) {
    ThriftReader r(bytes, "the footer of part-0.parquet");
    auto status = read(r);
    ASSERT_FALSE(status) << words;
    EXPECT_THAT(status.error().message(), HasSubstr("the footer of part-0.parquet is damaged"));
    EXPECT_THAT(status.error().message(), HasSubstr(words));
  };
  auto i64 = [](ThriftReader& r) { return r.I64().map([](int64_t) {}); };
  fails("", i64, "ends inside a number");
  fails("\x80\x80", i64, "ends inside a number");
  fails(std::string(11, '\x80'), i64, "over");
  fails("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x7F", i64, "over 64 bits");
  fails(
      "\x80\x80\x80\x80\x10", [](ThriftReader& r) { return r.I32().map([](int32_t) {}); },
      "i32 out of range");
  fails(
      "\x64xyz", [](ThriftReader& r) { return r.Binary().map([](std::string_view) {}); },
      "string of 100 bytes past its end");
  fails(
      "\xF5\xFF\xFF\xFF\xFF\x0F",
      [](ThriftReader& r) { return r.ListBegin().map([](ThriftList) {}); }, "past its end");
  fails(
      "\x0D", [](ThriftReader& r) { return r.Skip(ThriftType::kStruct); }, "unknown type code 13");
  fails(
      "\x1C", [](ThriftReader& r) { return r.Skip(ThriftType::kStruct); }, "ends inside a struct");
  fails(
      "\x01\x02", [](ThriftReader& r) { return r.Double().map([](double) {}); },
      "ends inside a double");
  // A struct nested in itself 10,000 times is refused at depth 64, not by the stack.
  std::string deep(10000, static_cast<char>(0x10 | uint8_t(ThriftType::kStruct)));
  fails(
      deep, [](ThriftReader& r) { return r.Skip(ThriftType::kStruct); }, "deeper than 64");
}

// The writer's bytes read back by the reader: short and long field headers, negative
// and large numbers, strings, lists long enough for the long list header.
TEST(ThriftCompact, WriterOutputReadsBack) {
  ThriftWriter w;
  w.StructBegin();
  w.I32Field(1, -5);
  w.I64Field(40, INT64_MIN);  // a jump of more than 15: the long header
  w.BinaryField(41, "abc");
  w.BoolField(42, true);
  w.FieldBegin(43, ThriftType::kList);
  w.ListBegin(ThriftType::kI32, 20);
  for (int i = 0; i < 20; ++i) w.I32(i * 1000);
  w.FieldBegin(44, ThriftType::kStruct);
  w.StructBegin();
  w.I32Field(1, 7);
  w.StructEnd();
  w.I32Field(2, 99);  // an id below the last: the long header again
  w.StructEnd();

  ThriftReader r(w.bytes(), "written");
  std::vector<std::string> seen;
  ASSERT_TRUE(r.ReadStruct([&](const ThriftField& f) -> util::Result<bool> {
    switch (f.id) {
      case 1: {
        TM_TRY_ASSIGN(int32_t v, r.I32());
        seen.push_back("1=" + std::to_string(v));
        return true;
      }
      case 40: {
        TM_TRY_ASSIGN(int64_t v, r.I64());
        seen.push_back("40=" + std::to_string(v));
        return true;
      }
      case 41: {
        TM_TRY_ASSIGN(std::string_view v, r.Binary());
        seen.push_back("41=" + std::string(v));
        return true;
      }
      case 42:
        seen.push_back(std::string("42=") + (ThriftReader::BoolOf(f) ? "true" : "false"));
        return true;
      case 43: {
        TM_TRY_ASSIGN(ThriftList list, r.ListBegin());
        int64_t sum = 0;
        for (uint32_t i = 0; i < list.size; ++i) {
          TM_TRY_ASSIGN(int32_t v, r.I32());
          sum += v;
        }
        seen.push_back("43=" + std::to_string(list.size) + "/" + std::to_string(sum));
        return true;
      }
      case 44: seen.push_back("44"); return false;  // skipped
      case 2: {
        TM_TRY_ASSIGN(int32_t v, r.I32());
        seen.push_back("2=" + std::to_string(v));
        return true;
      }
      default: return false;
    }
  }));
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_THAT(seen, ::testing::ElementsAre("1=-5", "40=-9223372036854775808", "41=abc", "42=true",
                                           "43=20/190000", "44", "2=99"));
}

TEST(ThriftCompact, ExpectNamesTheFieldOfTheWrongType) {
  ThriftWriter w;
  w.StructBegin();
  w.BinaryField(3, "x");
  w.StructEnd();
  ThriftReader r(w.bytes(), "the footer of f.parquet");
  auto status = r.ReadStruct([&](const ThriftField& f) -> util::Result<bool> {
    TM_TRY(r.Expect(f, ThriftType::kI32));
    return true;
  });
  ASSERT_FALSE(status);
  EXPECT_THAT(status.error().message(), HasSubstr("field 3 has type 8, not 5"));
}

}  // namespace
}  // namespace tidemark::backend::lake
