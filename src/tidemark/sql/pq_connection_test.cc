#include "tidemark/sql/pq_connection.h"

#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tidemark::sql {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(QuoteIdent, DoublesQuotesAndKeepsEverythingElse) {
  EXPECT_EQ(QuoteIdent("events"), "\"events\"");
  EXPECT_EQ(QuoteIdent("My \"odd\" Name"), "\"My \"\"odd\"\" Name\"");
  EXPECT_EQ(QuoteIdent("événements"), "\"événements\"");
  EXPECT_EQ(QuoteQualified("public", "Events"), "\"public\".\"Events\"");
  EXPECT_EQ(QuoteQualified("", "t"), "\"t\"");
}

TEST(QuoteLiteral, DoublesQuotesAndEscapesBackslashes) {
  EXPECT_EQ(QuoteLiteral("it's"), "'it''s'");
  EXPECT_EQ(QuoteLiteral("a\\b"), "E'a\\\\b'");
  EXPECT_EQ(QuoteLiteral(""), "''");
}

TEST(IsRetryableSqlstate, LockTimeoutsAndDeadlocksAreRetryable) {
  EXPECT_TRUE(IsRetryableSqlstate("55P03"));
  EXPECT_TRUE(IsRetryableSqlstate("40P01"));
  EXPECT_TRUE(IsRetryableSqlstate("40001"));
  EXPECT_FALSE(IsRetryableSqlstate("42501"));  // insufficient_privilege
  EXPECT_FALSE(IsRetryableSqlstate("42P01"));  // undefined_table
  EXPECT_FALSE(IsRetryableSqlstate(""));
}

TEST(PqConnection, UnreachableServerIsAConnectErrorWithoutThePassword) {
  setenv("TIDEMARK_PQ_TEST_PASSWORD", "s3cret-value", 1);
  // Port 1 on loopback: nothing listens there, so the refusal is immediate.
  auto opened = PqConnection::Open({"postgres://someone@127.0.0.1:1/db?connect_timeout=2",
                                    "TIDEMARK_PQ_TEST_PASSWORD", "", "connection 'app'"});
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().category(), util::ErrorCategory::kConnect);
  EXPECT_THAT(opened.error().message(), HasSubstr("connection 'app'"));
  EXPECT_THAT(opened.error().message(), HasSubstr("127.0.0.1"));
  EXPECT_THAT(opened.error().message(), Not(HasSubstr("s3cret-value")));
}

TEST(PqConnection, UnsetPasswordVariableIsNamed) {
  unsetenv("TIDEMARK_PQ_TEST_UNSET");
  auto opened = PqConnection::Open(
      {"postgres://someone@127.0.0.1:1/db", "TIDEMARK_PQ_TEST_UNSET", "", "connection 'app'"});
  ASSERT_FALSE(opened);
  EXPECT_THAT(opened.error().message(), HasSubstr("TIDEMARK_PQ_TEST_UNSET"));
}

TEST(PqConnection, PasswordInTheUrlIsNotRepeated) {
  auto opened =
      PqConnection::Open({"postgres://someone:hunter2@127.0.0.1:1/db", "", "", "connection 'x'"});
  ASSERT_FALSE(opened);
  EXPECT_THAT(opened.error().message(), Not(HasSubstr("hunter2")));
}

}  // namespace
}  // namespace tidemark::sql
