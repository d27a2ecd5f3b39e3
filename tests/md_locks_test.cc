// Lock waits on MariaDB: every ALTER (and the LOCK TABLES around the emptiness checks)
// waits at most the connection's lock_timeout_ms for its metadata lock, then retries
// with backoff, so a long transaction on the table delays tidemark instead of making
// every other session of the table queue behind it.

#include <chrono>
#include <thread>

#include "tests/support/mariadb_env.h"
#include "tests/support/tidemark_env.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tidemark::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kTable[] =
    "CREATE TABLE ev (id BIGINT NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (id, "
    "created_at)) PARTITION BY RANGE (TO_DAYS(created_at)) (PARTITION p20240101 VALUES LESS "
    "THAN (TO_DAYS('2024-01-02')), PARTITION pmax VALUES LESS THAN MAXVALUE)";

class MdLocks : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok());
    ASSERT_TRUE(db_.Exec(kTable));
    ASSERT_TRUE(db_.Exec("INSERT INTO ev VALUES (1, '2024-01-01 10:00:00')"));
  }

  void Configure(int attempts) {
    WriteFile(ws_.config(),
              "state: sqlite:.tidemark/state.db\n"
              "runs_dir: .tidemark/runs\n"
              "connections:\n"
              "  db: { url: \"" +
                  db_.url() + "\", password_env: " + kTestMariaDbPasswordEnv +
                  ", lock_timeout_ms: 1000, ddl_attempts: " + std::to_string(attempts) +
                  " }\n"
                  "datasets:\n"
                  "  events:\n"
                  "    storage: { connection: db, table: ev }\n"
                  "    partition_by: created_at\n"
                  "    partition_name: 'p{start}'\n"
                  "    interval: 1 day\n");
  }

  CommandResult Apply() {
    return ws_.Tidemark({"apply", "--force-run", "--now", "2024-01-02T10:00:00Z"},
                        {{kTestMariaDbPasswordEnv, TestMariaDbServer().password}});
  }

  std::string Partitions() {
    sql::MariaDbRows rows = db_.Query(
        "SELECT GROUP_CONCAT(PARTITION_NAME ORDER BY PARTITION_ORDINAL_POSITION) FROM "
        "information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'ev'");
    return rows.rows() == 1 ? rows.Text(0, 0) : "";
  }

  MariaDbTestDatabase db_;
  Workspace ws_;
};

TEST_F(MdLocks, ALongTransactionMakesTheStepGiveUpAfterItsAttemptsWithNothingChanged) {
  Configure(2);
  auto reader = db_.Connect();
  ASSERT_NE(reader, nullptr);
  ASSERT_TRUE(reader->Exec("START TRANSACTION"));
  ASSERT_TRUE(reader->Query("SELECT COUNT(*) FROM ev"));  // holds the table's metadata lock

  CommandResult applied = Apply();
  EXPECT_EQ(applied.exit_code, 1) << applied.out << applied.err;
  EXPECT_THAT(applied.err, HasSubstr("gave up after 2 attempts, each waiting up to 1000 ms"));
  EXPECT_THAT(applied.err, HasSubstr("errno 1205"));
  // Two waits of a second and a backoff, not the server's default of a day.
  EXPECT_LT(applied.seconds, 10.0);
  EXPECT_EQ(Partitions(), "p20240101,pmax");

  // Once the transaction ends, the next apply gets through.
  ASSERT_TRUE(reader->Exec("COMMIT"));
  applied = Apply();
  EXPECT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  EXPECT_EQ(Partitions(), "p20240101,p20240102,pmax");
}

TEST_F(MdLocks, TheStepSucceedsOnARetryOnceTheTransactionEnds) {
  Configure(6);
  auto reader = db_.Connect();
  ASSERT_NE(reader, nullptr);
  ASSERT_TRUE(reader->Exec("START TRANSACTION"));
  ASSERT_TRUE(reader->Query("SELECT COUNT(*) FROM ev"));
  std::thread commit([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    (void)reader->Exec("COMMIT");
  });
  CommandResult applied = Apply();
  commit.join();
  EXPECT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  EXPECT_GT(applied.seconds, 2.0);  // it waited, retried, and got through
  EXPECT_EQ(Partitions(), "p20240101,p20240102,pmax");
}

TEST_F(MdLocks, SessionsQueryingTheTableWaitAtMostTheLockTimeoutBehindTidemark) {
  // tidemark's ALTER waits behind a transaction; a third session's read, queued behind
  // the ALTER's pending exclusive lock, gets through once tidemark gives up its wait.
  Configure(1);
  auto holder = db_.Connect();
  auto other = db_.Connect();
  ASSERT_NE(holder, nullptr);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(holder->Exec("START TRANSACTION"));
  ASSERT_TRUE(holder->Query("SELECT COUNT(*) FROM ev"));
  double waited = -1;
  std::thread reader([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // after tidemark queued
    const auto started = std::chrono::steady_clock::now();
    auto rows = other->Query("SELECT COUNT(*) FROM ev");
    waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    EXPECT_TRUE(rows);
  });
  CommandResult applied = Apply();
  reader.join();
  ASSERT_TRUE(holder->Exec("COMMIT"));
  EXPECT_EQ(applied.exit_code, 1) << applied.out << applied.err;
  EXPECT_GE(waited, 0.0);
  EXPECT_LT(waited, 3.0) << "a reader queued behind tidemark's lock wait for " << waited << " s";
}

}  // namespace
}  // namespace tidemark::testing
