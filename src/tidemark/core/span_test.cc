#include "tidemark/core/span.h"

#include <gtest/gtest.h>

namespace tidemark::core {
namespace {

TEST(ParseSpan, AcceptsOneSyntaxSingularAndPlural) {
  EXPECT_EQ(*ParseSpan("1 day", false), (Span{1, SpanUnit::kDay}));
  EXPECT_EQ(*ParseSpan("90 days", false), (Span{90, SpanUnit::kDay}));
  EXPECT_EQ(*ParseSpan("2 months", false), (Span{2, SpanUnit::kMonth}));
  EXPECT_EQ(*ParseSpan(" 12 hours ", false), (Span{12, SpanUnit::kHour}));
  EXPECT_EQ(*ParseSpan("1 week", false), (Span{1, SpanUnit::kWeek}));
  EXPECT_EQ(*ParseSpan("3 years", false), (Span{3, SpanUnit::kYear}));
  EXPECT_EQ(*ParseSpan("1000", true), (Span{1000, SpanUnit::kNumber}));
}

TEST(ParseSpan, RefusesWhatIsNotTheSyntax) {
  EXPECT_FALSE(ParseSpan("1000", false));
  EXPECT_FALSE(ParseSpan("day", false));
  EXPECT_FALSE(ParseSpan("0 days", false));
  EXPECT_FALSE(ParseSpan("-1 days", false));
  EXPECT_FALSE(ParseSpan("5 fortnights", false));
  EXPECT_FALSE(ParseSpan("1d", false));
  EXPECT_NE(ParseSpan("5 fortnights", false).error().find("unknown unit"), std::string::npos);
}

TEST(FormatSpan, RoundTrips) {
  EXPECT_EQ(FormatSpan({1, SpanUnit::kDay}), "1 day");
  EXPECT_EQ(FormatSpan({90, SpanUnit::kDay}), "90 days");
  EXPECT_EQ(FormatSpan({1000, SpanUnit::kNumber}), "1000");
}

}  // namespace
}  // namespace tidemark::core
