#include "tidemark/util/strings.h"

#include <gtest/gtest.h>

namespace tidemark::util {
namespace {

TEST(Strings, SplitKeepsEmptyParts) {
  EXPECT_EQ(Split("a/b//c", '/'), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(Split("", '/'), (std::vector<std::string>{""}));
}

TEST(Strings, HumanBytesUsesBinaryUnits) {
  EXPECT_EQ(HumanBytes(12), "12 B");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(int64_t{300} << 20), "300 MiB");
}

TEST(Strings, PercentDecodeReadsHiveEscapes) {
  EXPECT_EQ(PercentDecode("2024-01-05%2010%3A00%3A00"), "2024-01-05 10:00:00");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("a%zzb"), "a%zzb");
}

TEST(Strings, PercentEncodeEscapesTheBytesItIsTold) {
  auto space_or_high = [](unsigned char byte) { return byte == ' ' || byte >= 0x80; };
  EXPECT_EQ(PercentEncode("a b\xC3\xA9", space_or_high), "a%20b%C3%A9");
  EXPECT_EQ(PercentEncode("", space_or_high), "");
  EXPECT_EQ(PercentDecode(PercentEncode("10:00 %", [](unsigned char) { return true; })),
            "10:00 %");
}

}  // namespace
}  // namespace tidemark::util
