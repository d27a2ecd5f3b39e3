#include "tidemark/sql/mariadb_connection.h"

#include <cstdlib>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tidemark::sql {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Field(std::string_view value, bool is_null = false) {
  std::string out;
  AppendLoadDataField(out, value.data(), value.size(), is_null);
  return out;
}

// LOAD DATA's reading of one field with FIELDS ESCAPED BY '\\' (MariaDB's manual,
// "LOAD DATA INFILE"): \0 \b \n \r \t \Z stand for NUL, backspace, newline, carriage
// return, tab and 0x1a; \N alone is NULL; a backslash before any other character
// stands for that character.
std::optional<std::string> ReadLoadDataField(std::string_view field) {
  if (field == "\\N") return std::nullopt;
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\' || i + 1 == field.size()) {
      out += field[i];
      continue;
    }
    switch (char c = field[++i]) {
      case '0': out += '\0'; break;
      case 'b': out += '\b'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'Z': out += '\x1a'; break;
      default: out += c;
    }
  }
  return out;
}

TEST(QuoteMariaDbIdent, DoublesBackticksAndKeepsEverythingElse) {
  EXPECT_EQ(QuoteMariaDbIdent("events"), "`events`");
  EXPECT_EQ(QuoteMariaDbIdent("my `odd` name"), "`my ``odd`` name`");
  EXPECT_EQ(QuoteMariaDbIdent("événements \"x\""), "`événements \"x\"`");
  EXPECT_EQ(QuoteMariaDbQualified("logs", "Events"), "`logs`.`Events`");
  EXPECT_EQ(QuoteMariaDbQualified("", "t"), "`t`");
}

TEST(QuoteMariaDbLiteral, EscapesWithBackslashes) {
  EXPECT_EQ(QuoteMariaDbLiteral("plain"), "'plain'");
  EXPECT_EQ(QuoteMariaDbLiteral(""), "''");
  EXPECT_EQ(QuoteMariaDbLiteral("it's \"x\""), "'it\\'s \\\"x\\\"'");
  EXPECT_EQ(QuoteMariaDbLiteral("a\\b"), "'a\\\\b'");
  EXPECT_EQ(QuoteMariaDbLiteral(std::string("\0\n\r\x1a", 4)), "'\\0\\n\\r\\Z'");
  EXPECT_EQ(QuoteMariaDbLiteral("tab\there ✓"), "'tab\there ✓'");
}

TEST(AppendLoadDataField, WritesNullAsBackslashN) {
  EXPECT_EQ(Field("", true), "\\N");
  EXPECT_EQ(Field(""), "");
  // The text "\N" is not NULL: its backslash is escaped.
  EXPECT_EQ(Field("\\N"), "\\\\N");
  EXPECT_EQ(Field("N"), "N");
}

TEST(AppendLoadDataField, EscapesSeparatorsBackslashesAndNul) {
  EXPECT_EQ(Field("a\tb"), "a\\tb");
  EXPECT_EQ(Field("line1\nline2\r\n"), "line1\\nline2\\r\\n");
  EXPECT_EQ(Field("C:\\dir"), "C:\\\\dir");
  EXPECT_EQ(Field(std::string_view("x\0y", 3)), "x\\0y");
  EXPECT_EQ(Field("emoji 😀 ü"), "emoji 😀 ü");
}

TEST(AppendLoadDataField, EveryByteValueReadsBackAsItself) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  const std::string field = Field(all);
  EXPECT_EQ(field.find('\t'), std::string::npos);
  EXPECT_EQ(field.find('\n'), std::string::npos);
  EXPECT_EQ(ReadLoadDataField(field), all);
}

TEST(AppendLoadDataRow, SeparatesFieldsWithTabsAndEndsWithNewline) {
  char a[] = "a\tb";
  char empty[] = "";
  char* values[] = {a, nullptr, empty};
  const unsigned long lengths[] = {3, 0, 0};
  std::string out = "before\n";
  AppendLoadDataRow(out, MariaDbRowView(values, lengths, 3));
  EXPECT_EQ(out, "before\na\\tb\t\\N\t\n");
}

TEST(IsRetryableMariaDbError, LockWaitsDeadlocksAndConflictsAreRetryable) {
  EXPECT_TRUE(IsRetryableMariaDbError(1205));   // lock wait timeout (rows and metadata)
  EXPECT_TRUE(IsRetryableMariaDbError(1213));   // deadlock
  EXPECT_TRUE(IsRetryableMariaDbError(1020));   // record changed (snapshot isolation)
  EXPECT_TRUE(IsRetryableMariaDbError(1969));   // max_statement_time
  EXPECT_FALSE(IsRetryableMariaDbError(1317));  // query interrupted (KILL QUERY)
  EXPECT_FALSE(IsRetryableMariaDbError(1927));  // connection killed
  EXPECT_FALSE(IsRetryableMariaDbError(2006));  // server gone
  EXPECT_FALSE(IsRetryableMariaDbError(2013));  // lost connection during a query
  EXPECT_FALSE(IsRetryableMariaDbError(1045));  // access denied
  EXPECT_FALSE(IsRetryableMariaDbError(1062));  // duplicate key
  EXPECT_FALSE(IsRetryableMariaDbError(4031));  // MariaDB: referenced trigger missing
  EXPECT_FALSE(IsRetryableMariaDbError(0));
}

TEST(ParseMariaDbUrl, ReadsEveryPart) {
  auto url = ParseMariaDbUrl(
      "mariadb://app%40x:p%3Ass@db1.example:3307/logs%2Dold?ssl_mode=verify_identity&"
      "ssl_ca=/etc/ca.pem&ssl_cert=/c.pem&ssl_key=/k.pem&connect_timeout=3");
  ASSERT_TRUE(url) << url.error().message();
  EXPECT_EQ(url->user, "app@x");
  EXPECT_EQ(url->password, "p:ss");
  EXPECT_TRUE(url->has_password);
  EXPECT_EQ(url->host, "db1.example");
  EXPECT_EQ(url->port, 3307u);
  EXPECT_EQ(url->database, "logs-old");
  EXPECT_EQ(url->ssl_mode, "verify_identity");
  EXPECT_EQ(url->ssl_ca, "/etc/ca.pem");
  EXPECT_EQ(url->ssl_cert, "/c.pem");
  EXPECT_EQ(url->ssl_key, "/k.pem");
  EXPECT_EQ(url->connect_timeout_s, 3u);
}

TEST(ParseMariaDbUrl, DefaultsAndOtherForms) {
  auto url = ParseMariaDbUrl("mysql://app@127.0.0.1/");
  ASSERT_TRUE(url) << url.error().message();
  EXPECT_EQ(url->port, 3306u);
  EXPECT_EQ(url->database, "");
  EXPECT_FALSE(url->has_password);
  EXPECT_EQ(url->ssl_mode, "preferred");
  EXPECT_EQ(url->connect_timeout_s, 10u);

  auto v6 = ParseMariaDbUrl("mariadb://app@[::1]:3310/db");
  ASSERT_TRUE(v6) << v6.error().message();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 3310u);

  auto socket = ParseMariaDbUrl("mariadb://app@/db?socket=/run/mysqld/mysqld.sock");
  ASSERT_TRUE(socket) << socket.error().message();
  EXPECT_EQ(socket->host, "");
  EXPECT_EQ(socket->socket, "/run/mysqld/mysqld.sock");

  auto bare = ParseMariaDbUrl("mariadb://db1");
  ASSERT_TRUE(bare) << bare.error().message();
  EXPECT_EQ(bare->user, "");
  EXPECT_EQ(bare->host, "db1");
}

void ExpectConfigError(std::string_view url, std::string_view expected) {
  auto parsed = ParseMariaDbUrl(url);
  ASSERT_FALSE(parsed) << url;
  EXPECT_EQ(parsed.error().category(), util::ErrorCategory::kConfig) << url;
  EXPECT_THAT(parsed.error().message(), HasSubstr(std::string(expected))) << url;
}

TEST(ParseMariaDbUrl, RefusesWhatItCannotHonour) {
  ExpectConfigError("postgres://a@h/db", "mariadb://");
  ExpectConfigError("mariadb://a@h/db?sslmode=require", "unknown parameter 'sslmode'");
  ExpectConfigError("mariadb://a@h/db?ssl_mode=require", "ssl_mode 'require'");
  ExpectConfigError("mariadb://a@h:99999/db", "port '99999'");
  ExpectConfigError("mariadb://a@h:x/db", "port 'x'");
  ExpectConfigError("mariadb://a@/db", "no host");
  ExpectConfigError("mariadb://a@h/db?connect_timeout=0", "connect_timeout '0'");
  ExpectConfigError("mariadb://a@h/db?ssl_mode", "no value");
  ExpectConfigError("mariadb://a@h/db?ssl_mode=verify_ca", "needs ssl_ca or ssl_capath");
  ExpectConfigError("mariadb://a@h/db?ssl_ca=/ca.pem", "only with ssl_mode=verify_ca");
  ExpectConfigError("mariadb://a@h/db?ssl_mode=disabled&ssl_cert=/c&ssl_key=/k", "need TLS");
  ExpectConfigError("mariadb://a@h/db?ssl_cert=/c", "go together");
  ExpectConfigError("mariadb://a@[::1/db", "closing ']'");
  ExpectConfigError("mariadb://a@h/db/x", "holds a '/'");
}

TEST(MariaDbConnection, UnreachableServerIsAConnectErrorWithoutThePassword) {
  setenv("TIDEMARK_MARIADB_TEST_PASSWORD", "s3cret-value", 1);
  // Port 1 on loopback: nothing listens there, so the refusal is immediate.
  auto opened =
      MariaDbConnection::Open({"mariadb://someone@127.0.0.1:1/db?connect_timeout=2",
                               "TIDEMARK_MARIADB_TEST_PASSWORD", "", "connection 'logs'"});
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().category(), util::ErrorCategory::kConnect);
  EXPECT_TRUE(opened.error().retryable());
  EXPECT_THAT(opened.error().message(), HasSubstr("connection 'logs' (127.0.0.1:1/db)"));
  EXPECT_THAT(opened.error().message(), HasSubstr("(errno 2002)"));
  EXPECT_THAT(opened.error().message(), Not(HasSubstr("s3cret-value")));
}

TEST(MariaDbConnection, PasswordInTheUrlIsNotRepeated) {
  auto opened = MariaDbConnection::Open(
      {"mysql://someone:hunter2@127.0.0.1:1/db?connect_timeout=2", "", "", "connection 'x'"});
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().category(), util::ErrorCategory::kConnect);
  EXPECT_THAT(opened.error().message(), Not(HasSubstr("hunter2")));
}

TEST(MariaDbConnection, UnsetPasswordVariableIsNamed) {
  unsetenv("TIDEMARK_MARIADB_TEST_UNSET");
  auto opened = MariaDbConnection::Open(
      {"mariadb://someone@127.0.0.1:1/db", "TIDEMARK_MARIADB_TEST_UNSET", "", "connection 'x'"});
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().category(), util::ErrorCategory::kConnect);
  EXPECT_THAT(opened.error().message(), HasSubstr("TIDEMARK_MARIADB_TEST_UNSET"));
  EXPECT_THAT(opened.error().message(), HasSubstr("password_env"));
}

TEST(MariaDbConnection, UnreadablePasswordFileIsNamed) {
  auto opened = MariaDbConnection::Open(
      {"mariadb://someone@127.0.0.1:1/db", "", "/nonexistent/tidemark/password", "connection 'x'"});
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().category(), util::ErrorCategory::kConnect);
  EXPECT_THAT(opened.error().message(), HasSubstr("/nonexistent/tidemark/password"));
  EXPECT_THAT(opened.error().message(), HasSubstr("password_file"));
}

TEST(MariaDbConnection, UnknownUrlParameterIsAConfigErrorNamingIt) {
  auto opened = MariaDbConnection::Open(
      {"mariadb://someone:hunter2@127.0.0.1:1/db?compress=1", "", "", "connection 'logs'"});
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().category(), util::ErrorCategory::kConfig);
  EXPECT_THAT(opened.error().message(), HasSubstr("connection 'logs'"));
  EXPECT_THAT(opened.error().message(), HasSubstr("'compress'"));
  EXPECT_THAT(opened.error().message(), Not(HasSubstr("hunter2")));
}

}  // namespace
}  // namespace tidemark::sql
