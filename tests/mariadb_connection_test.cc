// MariaDbConnection against a real MariaDB 10.11 (scripts/mariadb-server): connecting,
// queries, streaming, LOAD DATA LOCAL from memory, and how lock waits and KILLs are
// reported.

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <thread>

#include "tests/support/mariadb_env.h"
#include "tests/support/tidemark_env.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace tidemark::testing {
namespace {

using sql::MariaDbConnection;
using sql::MariaDbOptions;
using sql::MariaDbRows;
using sql::MariaDbRowView;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;

std::unique_ptr<MariaDbConnection> Open(const MariaDbOptions& options) {
  auto opened = MariaDbConnection::Open(options);
  if (!opened) {
    ADD_FAILURE() << opened.error().message();
    return nullptr;
  }
  return std::move(*opened);
}

std::string AllBytes() {
  std::string bytes;
  for (int b = 0; b < 256; ++b) bytes += static_cast<char>(b);
  return bytes;
}

std::string Hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// The process's resident memory, from /proc/self/statm.
int64_t ResidentBytes() {
  std::ifstream in("/proc/self/statm");
  int64_t pages = 0;
  int64_t resident = 0;
  in >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// A source that hands out `text` `piece` bytes at a time, then an empty view.
std::function<util::Result<std::string_view>()> PiecesOf(const std::string& text, size_t piece) {
  auto offset = std::make_shared<size_t>(0);
  return [&text, piece, offset]() -> util::Result<std::string_view> {
    std::string_view rest = std::string_view(text).substr(*offset);
    const size_t n = std::min(piece, rest.size());
    *offset += n;
    return rest.substr(0, n);
  };
}

// Every cell of `a` and `b` is the same (NULL where the other is NULL).
void ExpectSameRows(const MariaDbRows& a, const MariaDbRows& b) {
  ASSERT_EQ(a.rows(), b.rows());
  ASSERT_EQ(a.columns(), b.columns());
  for (int r = 0; r < a.rows(); ++r) {
    for (int c = 0; c < a.columns(); ++c) {
      ASSERT_EQ(a.IsNull(r, c), b.IsNull(r, c)) << "row " << r << ", column " << c;
      ASSERT_EQ(a.View(r, c), b.View(r, c)) << "row " << r << ", column " << c;
    }
  }
}

TEST(MariaDbConnect, OpensWithPasswordEnvAndSetsUpTheSession) {
  MariaDbTestDatabase db;
  ASSERT_TRUE(db.ok());
  MariaDbOptions options = db.Options();
  options.lock_wait_timeout_s = 7;
  auto conn = Open(options);
  ASSERT_NE(conn, nullptr);
  const std::string port = TestMariaDbServer().url.substr(TestMariaDbServer().url.rfind(':') + 1);
  EXPECT_EQ(conn->Describe(), "test database " + db.name() + " (127.0.0.1:" +
                                  port.substr(0, port.size() - 1) + "/" + db.name() + ")");
  EXPECT_GE(conn->ServerVersion(), 101100u);
  EXPECT_TRUE(conn->Healthy());
  auto rows = conn->Query(
      "SELECT @@session.time_zone, @@session.sql_mode, @@character_set_client, "
      "@@character_set_connection, @@character_set_results, @@session.lock_wait_timeout, "
      "DATABASE(), CONNECTION_ID()");
  ASSERT_TRUE(rows) << rows.error().message();
  EXPECT_EQ(rows->Text(0, 0), "+00:00");
  EXPECT_EQ(rows->Text(0, 1), "STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION");
  EXPECT_EQ(rows->Text(0, 2), "utf8mb4");
  EXPECT_EQ(rows->Text(0, 3), "utf8mb4");
  EXPECT_EQ(rows->Text(0, 4), "utf8mb4");
  EXPECT_EQ(rows->Int(0, 5), 7);
  EXPECT_EQ(rows->Text(0, 6), db.name());
  EXPECT_EQ(rows->Int(0, 7), static_cast<int64_t>(conn->ThreadId()));

  auto server_default = Open(db.Options());
  ASSERT_NE(server_default, nullptr);
  auto timeout = server_default->Query("SELECT @@session.lock_wait_timeout");
  ASSERT_TRUE(timeout) << timeout.error().message();
  EXPECT_EQ(timeout->Int(0, 0), 86400);  // the server's default, untouched
}

TEST(MariaDbConnect, MysqlSchemeAndPasswordFileWork) {
  MariaDbTestDatabase db;
  ASSERT_TRUE(db.ok());
  TempDir dir;
  const std::string file = dir.path() + "/password";
  WriteFile(file, TestMariaDbServer().password + "\n");
  MariaDbOptions options = db.Options();
  options.url = "mysql://" + db.url().substr(std::string("mariadb://").size());
  options.password_env.clear();
  options.password_file = file;
  auto conn = Open(options);
  ASSERT_NE(conn, nullptr);
  auto rows = conn->Query("SELECT 1 + 1");
  ASSERT_TRUE(rows) << rows.error().message();
  EXPECT_EQ(rows->Int(0, 0), 2);
}

TEST(MariaDbConnect, WrongPasswordIsAConnectErrorNamingWhereThePasswordCameFrom) {
  MariaDbTestDatabase db;
  ASSERT_TRUE(db.ok());
  setenv("TIDEMARK_TEST_MARIADB_WRONG", "wrong-password-4711", 1);
  MariaDbOptions from_env = db.Options();
  from_env.password_env = "TIDEMARK_TEST_MARIADB_WRONG";
  auto opened = MariaDbConnection::Open(from_env);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().category(), util::ErrorCategory::kConnect);
  EXPECT_FALSE(opened.error().retryable());
  EXPECT_THAT(opened.error().message(), HasSubstr("Access denied"));
  EXPECT_THAT(opened.error().message(), HasSubstr("(errno 1045)"));
  EXPECT_THAT(opened.error().message(),
              HasSubstr("the environment variable TIDEMARK_TEST_MARIADB_WRONG (password_env)"));
  EXPECT_THAT(opened.error().message(), Not(HasSubstr("wrong-password-4711")));

  TempDir dir;
  WriteFile(dir.path() + "/password", "wrong-password-4712\n");
  MariaDbOptions from_file = db.Options();
  from_file.password_env.clear();
  from_file.password_file = dir.path() + "/password";
  opened = MariaDbConnection::Open(from_file);
  ASSERT_FALSE(opened);
  EXPECT_THAT(opened.error().message(),
              HasSubstr("the file " + dir.path() + "/password (password_file)"));
  EXPECT_THAT(opened.error().message(), Not(HasSubstr("wrong-password-4712")));

  MariaDbOptions from_url = db.Options();
  from_url.password_env.clear();
  from_url.url =
      "mariadb://tidemark_test:wrong-password-4713@" + db.url().substr(db.url().find('@') + 1);
  opened = MariaDbConnection::Open(from_url);
  ASSERT_FALSE(opened);
  EXPECT_THAT(opened.error().message(), HasSubstr("the password came from the URL"));
  EXPECT_THAT(opened.error().message(), Not(HasSubstr("wrong-password-4713")));
}

TEST(MariaDbConnect, UnknownUrlParameterAndDatabaseAreRefused) {
  MariaDbTestDatabase db;
  ASSERT_TRUE(db.ok());
  MariaDbOptions options = db.Options();
  options.url += "?frobnicate=1";
  auto opened = MariaDbConnection::Open(options);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().category(), util::ErrorCategory::kConfig);
  EXPECT_THAT(opened.error().message(), HasSubstr("unknown parameter 'frobnicate'"));

  options = db.Options();
  options.url = MariaDbUrlWithDatabase(TestMariaDbServer().url, db.name() + "_missing");
  opened = MariaDbConnection::Open(options);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().category(), util::ErrorCategory::kConnect);
  EXPECT_FALSE(opened.error().retryable());
  EXPECT_THAT(opened.error().message(), HasSubstr("(errno 1049)"));
}

TEST(MariaDbConnect, SslModesAgainstAServerWithoutTls) {
  MariaDbTestDatabase db;
  ASSERT_TRUE(db.ok());
  MariaDbRows have_ssl = db.Query("SELECT @@have_ssl");
  ASSERT_EQ(have_ssl.rows(), 1);
  ASSERT_NE(have_ssl.Text(0, 0), "YES") << "this test expects the test server without TLS";
  for (const char* mode : {"disabled", "preferred"}) {
    MariaDbOptions options = db.Options();
    options.url += std::string("?ssl_mode=") + mode;
    EXPECT_NE(Open(options), nullptr) << mode;
  }
  for (const char* mode : {"required", "verify_identity"}) {
    MariaDbOptions options = db.Options();
    options.url += std::string("?ssl_mode=") + mode;
    auto opened = MariaDbConnection::Open(options);
    ASSERT_FALSE(opened) << mode;
    EXPECT_EQ(opened.error().category(), util::ErrorCategory::kConnect) << mode;
    EXPECT_FALSE(opened.error().retryable()) << mode;
    EXPECT_THAT(opened.error().message(), HasSubstr("TLS")) << mode;
  }
}

TEST(MariaDbQuery, ViewsNullsEmptyStringsAndBinaryBytes) {
  MariaDbTestDatabase db;
  ASSERT_TRUE(db.ok());
  auto conn = db.Connect();
  ASSERT_NE(conn, nullptr);
  static const char kText[] = "tab\there, newline\n, nul \0, quote ' \" \\ \x1a 😀";
  const std::string text(kText, sizeof kText - 1);
  ASSERT_TRUE(
      conn->Exec("CREATE TABLE t (id INT PRIMARY KEY, txt TEXT NULL, bin VARBINARY(300) "
                 "NULL, n INT NULL) ENGINE=InnoDB"));
  auto inserted = conn->Query("INSERT INTO t VALUES (1, " + sql::QuoteMariaDbLiteral(text) +
                              ", UNHEX('" + Hex(AllBytes()) + "'), NULL), (2, '', '', 0)");
  ASSERT_TRUE(inserted) << inserted.error().message();
  EXPECT_EQ(inserted->affected(), 2);
  EXPECT_EQ(inserted->rows(), 0);

  auto rows = conn->Query("SELECT id, txt, bin, n FROM t ORDER BY id");
  ASSERT_TRUE(rows) << rows.error().message();
  conn.reset();  // the rows keep their result
  ASSERT_EQ(rows->rows(), 2);
  ASSERT_EQ(rows->columns(), 4);
  EXPECT_EQ(rows->affected(), 2);
  EXPECT_EQ(rows->Column("bin"), 2);
  EXPECT_EQ(rows->Column("missing"), -1);
  EXPECT_EQ(rows->column_names(), (std::vector<std::string>{"id", "txt", "bin", "n"}));
  EXPECT_EQ(rows->Int(0, 0), 1);
  EXPECT_EQ(rows->View(0, 1), text);
  EXPECT_EQ(rows->View(0, 2), AllBytes());
  EXPECT_TRUE(rows->IsNull(0, 3));
  EXPECT_EQ(rows->View(0, 3), "");
  EXPECT_EQ(rows->Int(0, 3), 0);
  EXPECT_FALSE(rows->IsNull(1, 1));
  EXPECT_EQ(rows->View(1, 1), "");
  EXPECT_FALSE(rows->IsNull(1, 2));
  EXPECT_FALSE(rows->IsNull(1, 3));
  EXPECT_EQ(rows->Text(1, 3), "0");
}

TEST(MariaDbQuery, AFailedStatementCarriesItsErrnoAndTheConnectionGoesOn) {
  MariaDbTestDatabase db;
  ASSERT_TRUE(db.ok());
  auto conn = db.Connect();
  ASSERT_NE(conn, nullptr);
  auto missing = conn->Query("SELECT * FROM missing_table");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().category(), util::ErrorCategory::kStep);
  EXPECT_FALSE(missing.error().retryable());
  EXPECT_THAT(missing.error().message(), HasSubstr(conn->Describe()));
  EXPECT_THAT(missing.error().message(), HasSubstr("SELECT * FROM missing_table"));
  EXPECT_THAT(missing.error().message(), HasSubstr("(errno 1146)"));
  EXPECT_EQ(conn->ErrorNumber(), 1146u);
  EXPECT_TRUE(conn->Healthy());
  auto after = conn->Query("SELECT 5");
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_EQ(after->Int(0, 0), 5);
  EXPECT_EQ(conn->ErrorNumber(), 0u);
}

TEST(MariaDbQuery, LoadDataLocalOutsideLoadDataLocalReadsNoFile) {
  MariaDbTestDatabase db;
  ASSERT_TRUE(db.ok());
  auto conn = db.Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Exec("CREATE TABLE t (line TEXT)"));
  auto loaded = conn->Exec("LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t");
  ASSERT_FALSE(loaded);
  EXPECT_THAT(loaded.error().message(), HasSubstr("LoadDataLocal"));
  auto count = conn->Query("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count) << count.error().message();
  EXPECT_EQ(count->Int(0, 0), 0);
}

TEST(MariaDbStreamRows, StreamsTwoHundredThousandRows) {
  MariaDbTestDatabase db;
  ASSERT_TRUE(db.ok());
  auto conn = db.Connect();
  ASSERT_NE(conn, nullptr);
  int64_t seen = 0;
  int64_t nulls = 0;
  auto streamed = conn->StreamRows(
      "SELECT seq, CONCAT('row ', seq), IF(seq % 10 = 0, NULL, seq * 2) FROM seq_1_to_200000",
      [&](const MariaDbRowView& row) -> util::Status {
        ++seen;
        EXPECT_EQ(row.columns(), 3);
        if (row.View(0) != std::to_string(seen) || row.View(1) != "row " + std::to_string(seen)) {
          return util::StepError("row " + std::to_string(seen) + " is " + std::string(row.View(0)));
        }
        if (row.IsNull(2)) ++nulls;
        return {};
      });
  ASSERT_TRUE(streamed) << streamed.error().message();
  EXPECT_EQ(*streamed, 200000);
  EXPECT_EQ(seen, 200000);
  EXPECT_EQ(nulls, 20000);
  // A statement without rows streams none.
  auto none = conn->StreamRows("DO 1", [](const MariaDbRowView&) -> util::Status {
    return util::StepError("no row expected");
  });
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_EQ(*none, 0);
}

TEST(MariaDbStreamRows, ASinkErrorStopsTheStreamAndTheConnectionStillAnswers) {
  MariaDbTestDatabase db;
  ASSERT_TRUE(db.ok());
  auto conn = db.Connect();
  ASSERT_NE(conn, nullptr);
  int64_t calls = 0;
  const auto start = std::chrono::steady_clock::now();
  auto streamed = conn->StreamRows("SELECT seq, REPEAT('x', 100) FROM seq_1_to_20000000",
                                   [&](const MariaDbRowView&) -> util::Status {
                                     if (++calls == 100000) return util::StepError("sink is full");
                                     return {};
                                   });
  ASSERT_FALSE(streamed);
  EXPECT_EQ(streamed.error().message(), "sink is full");
  EXPECT_EQ(calls, 100000);
  // The rest of the query was stopped (KILL QUERY), not read to its end: reading the
  // remaining 2 GB took 12 s on the 2-core test machine, stopping it 0.07 s.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(conn->Healthy());
  auto after = conn->Query("SELECT 42");
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_EQ(after->Int(0, 0), 42);
}

TEST(MariaDbStreamRows, AKilledQueryIsANonRetryableStepErrorOnAUsableConnection) {
  MariaDbTestDatabase db;
  ASSERT_TRUE(db.ok());
  auto conn = db.Connect();
  auto killer = db.Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_NE(killer, nullptr);
  int64_t calls = 0;
  auto streamed = conn->StreamRows(
      "SELECT seq FROM seq_1_to_1000000000", [&](const MariaDbRowView&) -> util::Status {
        if (++calls == 1000) {
          TM_TRY(killer->Exec("KILL QUERY " + std::to_string(conn->ThreadId())));
        }
        return {};
      });
  ASSERT_FALSE(streamed);
  EXPECT_EQ(streamed.error().category(), util::ErrorCategory::kStep);
  EXPECT_FALSE(streamed.error().retryable());
  EXPECT_THAT(streamed.error().message(), HasSubstr("(errno 1317)"));
  EXPECT_TRUE(conn->Healthy());
  auto after = conn->Query("SELECT 1");
  ASSERT_TRUE(after) << after.error().message();
}

TEST(MariaDbStreamRows, AKilledConnectionIsANonRetryableStepError) {
  MariaDbTestDatabase db;
  ASSERT_TRUE(db.ok());
  auto conn = db.Connect();
  auto killer = db.Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_NE(killer, nullptr);
  int64_t calls = 0;
  auto streamed = conn->StreamRows(
      "SELECT seq FROM seq_1_to_1000000000", [&](const MariaDbRowView&) -> util::Status {
        if (++calls == 1000) TM_TRY(killer->Exec("KILL " + std::to_string(conn->ThreadId())));
        return {};
      });
  ASSERT_FALSE(streamed);
  EXPECT_EQ(streamed.error().category(), util::ErrorCategory::kStep);
  EXPECT_FALSE(streamed.error().retryable());
  EXPECT_THAT(conn->ErrorNumber(), AnyOf(1927u, 2013u, 2006u)) << streamed.error().message();
  EXPECT_FALSE(conn->Healthy());
  auto after = conn->Query("SELECT 1");
  ASSERT_FALSE(after);
  EXPECT_FALSE(after.error().retryable());
}

constexpr char kRoundTripTable[] =
    "(id INT PRIMARY KEY, txt TEXT CHARACTER SET utf8mb4 NULL, bin BLOB NULL, "
    "vb VARBINARY(256) NULL, d DATETIME(6) NULL, amount DECIMAL(20,6) NULL) ENGINE=InnoDB";
constexpr char kRoundTripSelect[] =
    "SELECT id, txt, HEX(txt), bin, HEX(bin), vb, d, amount FROM %s ORDER BY id";

std::string SelectAll(const std::string& table) {
  std::string sql = kRoundTripSelect;
  return sql.replace(sql.find("%s"), 2, table);
}

TEST(MariaDbLoadDataLocal, ExportedRowsLoadBackExactly) {
  MariaDbTestDatabase db;
  ASSERT_TRUE(db.ok());
  auto conn = db.Connect();
  ASSERT_NE(conn, nullptr);
  std::string reversed = AllBytes();
  std::reverse(reversed.begin(), reversed.end());
  static const char kSpecial[] = "emoji 😀 ü\ttab\nnewline\r\\back\0nul'\"\x1a end";
  const std::string special(kSpecial, sizeof kSpecial - 1);
  ASSERT_TRUE(conn->Exec(std::string("CREATE TABLE src ") + kRoundTripTable));
  ASSERT_TRUE(
      conn->Exec("INSERT INTO src VALUES "
                 "(1, " +
                 sql::QuoteMariaDbLiteral(special) + ", " + sql::QuoteMariaDbLiteral(special) +
                 ", UNHEX('00'), '2024-02-29 23:59:59.123456', -12345678901234.123456), "
                 "(2, NULL, NULL, NULL, NULL, NULL), "
                 "(3, '', UNHEX('" +
                 Hex(AllBytes()) + "'), UNHEX('" + Hex(reversed) +
                 "'), NULL, 0), "
                 "(4, '\\\\N', 'N', '\\\\', '1970-01-01 00:00:00', 1), "
                 "(5, 'N', '\\\\N', '', NULL, NULL)"));
  ASSERT_TRUE(conn->Exec(
      "INSERT INTO src SELECT seq + 100, CONCAT('line ', seq, IF(seq % 3 = 0, '\\n', '\\t'), "
      "'😀\\\\'), UNHEX(SHA2(seq, 256)), UNHEX(MD5(seq)), NULL, seq / 7 FROM seq_1_to_3000"));
  ASSERT_TRUE(conn->Exec(std::string("CREATE TABLE dst ") + kRoundTripTable));

  std::string text;
  auto exported = conn->StreamRows("SELECT id, txt, bin, vb, d, amount FROM src ORDER BY id",
                                   [&](const MariaDbRowView& row) -> util::Status {
                                     sql::AppendLoadDataRow(text, row);
                                     return {};
                                   });
  ASSERT_TRUE(exported) << exported.error().message();
  ASSERT_EQ(*exported, 3005);
  auto loaded = conn->LoadDataLocal(
      std::string("LOAD DATA LOCAL INFILE 'src.txt' INTO TABLE dst ") + sql::kLoadDataFormat,
      PiecesOf(text, 7));
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(*loaded, 3005);

  auto warnings = conn->Query("SHOW WARNINGS");
  ASSERT_TRUE(warnings) << warnings.error().message();
  EXPECT_EQ(warnings->rows(), 0) << warnings->Text(0, 2);
  auto source = conn->Query(SelectAll("src"));
  auto copy = conn->Query(SelectAll("dst"));
  ASSERT_TRUE(source && copy);
  ASSERT_EQ(source->rows(), 3005);
  EXPECT_EQ(source->View(0, 1), special);
  EXPECT_EQ(source->View(2, 3), AllBytes());
  ExpectSameRows(*source, *copy);
}

TEST(MariaDbLoadDataLocal, ASourceErrorRollsTheLoadBackAndIsReturned) {
  MariaDbTestDatabase db;
  ASSERT_TRUE(db.ok());
  auto conn = db.Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Exec("CREATE TABLE dst (id INT PRIMARY KEY, note TEXT) ENGINE=InnoDB"));
  std::string rows;
  for (int i = 1; i <= 5000; ++i) rows += std::to_string(i) + "\tnote " + std::to_string(i) + "\n";
  // Hands out the rows in pieces of 1000 bytes, then fails.
  auto failing = [&rows, offset = size_t{0}]() mutable -> util::Result<std::string_view> {
    if (offset >= rows.size()) return util::StepError("the archive is corrupt");
    std::string_view piece = std::string_view(rows).substr(offset, 1000);
    offset += piece.size();
    return piece;
  };
  const std::string load =
      std::string("LOAD DATA LOCAL INFILE 'x' INTO TABLE dst ") + sql::kLoadDataFormat;
  auto loaded = conn->LoadDataLocal(load, failing);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().message(), "the archive is corrupt");
  auto state = conn->Query("SELECT COUNT(*), @@in_transaction FROM dst");
  ASSERT_TRUE(state) << state.error().message();
  EXPECT_EQ(state->Int(0, 0), 0);
  EXPECT_EQ(state->Int(0, 1), 0);

  // In a transaction of the caller's, only the load is undone.
  ASSERT_TRUE(conn->Exec("START TRANSACTION"));
  ASSERT_TRUE(conn->Exec("INSERT INTO dst VALUES (999999, 'before')"));
  loaded = conn->LoadDataLocal(
      load, [&rows, offset = size_t{0}]() mutable -> util::Result<std::string_view> {
        if (offset >= rows.size() / 2) return util::StepError("the network broke");
        std::string_view piece = std::string_view(rows).substr(offset, 4096);
        offset += piece.size();
        return piece;
      });
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().message(), "the network broke");
  state = conn->Query("SELECT COUNT(*), @@in_transaction FROM dst");
  ASSERT_TRUE(state) << state.error().message();
  EXPECT_EQ(state->Int(0, 0), 1);
  EXPECT_EQ(state->Int(0, 1), 1);
  loaded = conn->LoadDataLocal(load, PiecesOf(rows, 1 << 16));
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(*loaded, 5000);
  ASSERT_TRUE(conn->Exec("COMMIT"));
  EXPECT_EQ(db.Query("SELECT COUNT(*) FROM dst").Int(0, 0), 5001);
}

// LOCAL makes the server skip duplicates and mangle bad values with a warning only (as
// IGNORE does); LoadDataLocal refuses such a load and rolls it back.
TEST(MariaDbLoadDataLocal, WarningsAndFailingStatementsAreStepErrorsAndLoadNothing) {
  MariaDbTestDatabase db;
  ASSERT_TRUE(db.ok());
  auto conn = db.Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(
      conn->Exec("CREATE TABLE dst (id INT PRIMARY KEY, code VARCHAR(5) NOT NULL) ENGINE=InnoDB"));
  const std::string load =
      std::string("LOAD DATA LOCAL INFILE 'x' INTO TABLE dst ") + sql::kLoadDataFormat;
  const struct {
    std::string rows;
    unsigned int error_number;
  } kCases[] = {
      {"1\ta\n2\tb\n3\tc\n2\td\n4\te\n", 1062},  // duplicate key: skipped
      {"1\ta\n2\ttoo long\n", 1265},             // truncated
      {"1\ta\nabc\tb\n", 1366},                  // not a number: 0
      {"1\ta\n2\t\\N\n", 1263},                  // NULL into NOT NULL: ''
  };
  for (const auto& c : kCases) {
    auto loaded = conn->LoadDataLocal(load, PiecesOf(c.rows, 3));
    ASSERT_FALSE(loaded) << c.rows;
    EXPECT_EQ(loaded.error().category(), util::ErrorCategory::kStep);
    EXPECT_FALSE(loaded.error().retryable());
    EXPECT_THAT(loaded.error().message(), HasSubstr("(errno " + std::to_string(c.error_number)));
    EXPECT_THAT(loaded.error().message(), HasSubstr("nothing was loaded"));
    EXPECT_EQ(conn->ErrorNumber(), c.error_number);
    EXPECT_EQ(db.Query("SELECT COUNT(*) FROM dst").Int(0, 0), 0) << c.rows;
  }

  auto missing = conn->LoadDataLocal("LOAD DATA LOCAL INFILE 'x' INTO TABLE missing",
                                     PiecesOf(kCases[0].rows, 3));
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message(), HasSubstr("(errno 1146)"));
  auto after = conn->Query("SELECT @@in_transaction");
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_EQ(after->Int(0, 0), 0);
}

TEST(MariaDbLoadDataLocal, StreamsHundredsOfMegabytesInBoundedMemory) {
  MariaDbTestDatabase db;
  ASSERT_TRUE(db.ok());
  auto conn = db.Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Exec("CREATE TABLE big (id BIGINT, payload TEXT) ENGINE=InnoDB"));
  constexpr int64_t kLines = 256 * 1024;  // of 1 KiB each: 256 MiB
  const std::string payload(1000, 'x');
  std::string buffer;
  int64_t line = 0;
  int64_t calls = 0;
  const int64_t resident_before = ResidentBytes();
  int64_t resident_most = resident_before;
  // The server skips all lines but the last (IGNORE … LINES), so that the test measures
  // the stream rather than InnoDB.
  auto loaded = conn->LoadDataLocal(std::string("LOAD DATA LOCAL INFILE 'big' INTO TABLE big ") +
                                        sql::kLoadDataFormat + " IGNORE " +
                                        std::to_string(kLines - 1) + " LINES",
                                    [&]() -> util::Result<std::string_view> {
                                      buffer.clear();
                                      while (line < kLines && buffer.size() < (64 << 10)) {
                                        ++line;
                                        buffer += std::to_string(line) + "\t" + payload + "\n";
                                      }
                                      if (++calls % 64 == 0)
                                        resident_most = std::max(resident_most, ResidentBytes());
                                      return std::string_view(buffer);
                                    });
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(*loaded, 1);
  EXPECT_EQ(line, kLines);
  EXPECT_LT(resident_most - resident_before, 32 << 20);
  auto last = conn->Query("SELECT id, LENGTH(payload) FROM big");
  ASSERT_TRUE(last) << last.error().message();
  ASSERT_EQ(last->rows(), 1);
  EXPECT_EQ(last->Int(0, 0), kLines);
  EXPECT_EQ(last->Int(0, 1), 1000);
}

TEST(MariaDbLockWait, AnAlterWaitingForAMetadataLockGetsARetryableErrno1205) {
  MariaDbTestDatabase db;
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(db.Exec("CREATE TABLE t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB"));
  ASSERT_TRUE(db.Exec("INSERT INTO t VALUES (1, 0), (2, 0)"));
  auto holder = db.Connect();
  ASSERT_NE(holder, nullptr);
  ASSERT_TRUE(holder->Exec("START TRANSACTION"));
  ASSERT_TRUE(holder->Query("SELECT * FROM t"));  // holds a metadata lock until COMMIT
  MariaDbOptions options = db.Options();
  options.lock_wait_timeout_s = 1;
  auto waiter = Open(options);
  ASSERT_NE(waiter, nullptr);
  const auto start = std::chrono::steady_clock::now();
  auto altered = waiter->Exec("ALTER TABLE t ADD COLUMN extra INT");
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(altered);
  EXPECT_EQ(altered.error().category(), util::ErrorCategory::kStep);
  EXPECT_TRUE(altered.error().retryable());
  EXPECT_THAT(altered.error().message(), HasSubstr("(errno 1205)"));
  EXPECT_EQ(waiter->ErrorNumber(), 1205u);
  EXPECT_GE(waited, std::chrono::milliseconds(900));
  EXPECT_LT(waited, std::chrono::seconds(10));

  // A row lock wait is the same error.
  ASSERT_TRUE(holder->Exec("UPDATE t SET v = 1 WHERE id = 1"));
  ASSERT_TRUE(waiter->Exec("SET SESSION innodb_lock_wait_timeout = 1"));
  auto updated = waiter->Exec("UPDATE t SET v = 2 WHERE id = 1");
  ASSERT_FALSE(updated);
  EXPECT_TRUE(updated.error().retryable());
  EXPECT_EQ(waiter->ErrorNumber(), 1205u);

  // Once the holder is done, trying again succeeds.
  ASSERT_TRUE(holder->Exec("COMMIT"));
  auto retried = waiter->Exec("ALTER TABLE t ADD COLUMN extra INT");
  EXPECT_TRUE(retried) << retried.error().message();
}

TEST(MariaDbLockWait, ADeadlockIsRetryableErrno1213) {
  MariaDbTestDatabase db;
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(db.Exec("CREATE TABLE t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB"));
  ASSERT_TRUE(db.Exec("INSERT INTO t VALUES (1, 0), (2, 0)"));
  auto first = db.Connect();
  auto second = db.Connect();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(first->Exec("START TRANSACTION"));
  ASSERT_TRUE(second->Exec("START TRANSACTION"));
  ASSERT_TRUE(first->Exec("UPDATE t SET v = 1 WHERE id = 1"));
  ASSERT_TRUE(second->Exec("UPDATE t SET v = 2 WHERE id = 2"));
  std::optional<util::Status> first_result;
  std::thread blocked([&] { first_result = first->Exec("UPDATE t SET v = 1 WHERE id = 2"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  util::Status second_result = second->Exec("UPDATE t SET v = 2 WHERE id = 1");
  // Whichever InnoDB chose as the victim failed; the other may go on.
  if (second_result) {
    EXPECT_TRUE(second->Exec("ROLLBACK"));  // no ASSERT while the thread runs
  }
  blocked.join();
  ASSERT_TRUE(first_result.has_value());
  const bool first_failed = !*first_result;
  ASSERT_NE(first_failed, !second_result) << "exactly one transaction is the deadlock's victim";
  const util::Error& victim = first_failed ? first_result->error() : second_result.error();
  EXPECT_TRUE(victim.retryable()) << victim.message();
  EXPECT_THAT(victim.message(), HasSubstr("(errno 1213)"));
  ASSERT_TRUE(first->Exec("ROLLBACK"));
  ASSERT_TRUE(second->Exec("ROLLBACK"));
}

}  // namespace
}  // namespace tidemark::testing
