#include "tidemark/core/table_name.h"

#include <gtest/gtest.h>

namespace tidemark::core {
namespace {

TEST(ParseTableName, PartsAreTakenLiterallyCaseAndAll) {
  EXPECT_EQ(ParseTableName("events"), (TableName{"", "events"}));
  EXPECT_EQ(ParseTableName("public.Events"), (TableName{"public", "Events"}));
  EXPECT_EQ(ParseTableName("app.my table"), (TableName{"app", "my table"}));
  EXPECT_EQ(ParseTableName("données.événements"), (TableName{"données", "événements"}));
}

TEST(ParseTableName, QuotesAllowDotsAndQuotes) {
  EXPECT_EQ(ParseTableName("\"my.schema\".\"a \"\"b\"\"\""), (TableName{"my.schema", "a \"b\""}));
  EXPECT_EQ(ParseTableName("\"x.y\""), (TableName{"", "x.y"}));
}

TEST(ParseTableName, RefusesWhatItCannotRead) {
  EXPECT_FALSE(ParseTableName(""));
  EXPECT_FALSE(ParseTableName("a.b.c"));
  EXPECT_FALSE(ParseTableName("a."));
  EXPECT_FALSE(ParseTableName(".b"));
  EXPECT_FALSE(ParseTableName("\"open"));
  EXPECT_FALSE(ParseTableName("a\"b"));
}

TEST(TableName, ToStringQuotesOnlyWhereNeeded) {
  EXPECT_EQ((TableName{"public", "Events"}).ToString(), "public.Events");
  EXPECT_EQ((TableName{"my.schema", "a\"b"}).ToString(), "\"my.schema\".\"a\"\"b\"");
  for (const char* text : {"public.Events", "\"my.schema\".\"a\"\"b\"", "t"}) {
    EXPECT_EQ(ParseTableName(text)->ToString(), text);
  }
}

TEST(FitIdentifier, KeepsShortNamesAndShortensLongOnesKeepingTheSuffix) {
  EXPECT_EQ(FitIdentifier("events", "_p20240101", 63), "events_p20240101");
  const std::string fitted = FitIdentifier(std::string(70, 'a'), "_p20240101", 63);
  EXPECT_EQ(fitted.size(), 63u);
  EXPECT_EQ(fitted.substr(fitted.size() - 10), "_p20240101");
  EXPECT_NE(FitIdentifier(std::string(70, 'a'), "_p1", 20),
            FitIdentifier(std::string(71, 'a'), "_p1", 20));
}

TEST(FitIdentifier, NeverCutsAUtf8Character) {
  std::string name;
  for (int i = 0; i < 40; ++i) name += "é";  // 2 bytes each
  const std::string fitted = FitIdentifier(name, "_p2024", 30);
  EXPECT_LE(fitted.size(), 30u);
  const size_t cut = fitted.find('_');
  EXPECT_EQ(cut % 2, 0u);
}

}  // namespace
}  // namespace tidemark::core
