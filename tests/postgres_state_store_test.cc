// What only the PostgreSQL state store does, beyond the contract both stores share:
// where its password comes from, its own schema, advisory locks that end with their
// session, and a store that roles without the CREATE privilege can use.

#include "tidemark/state/postgres_state_store.h"

#include <chrono>
#include <cstdlib>
#include <thread>

#include "tests/support/pg_env.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tidemark/state/state_store.h"
#include "tidemark/util/strings.h"

namespace tidemark::state {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using tidemark::testing::PgTestDatabase;
using tidemark::testing::TestPgServer;

// "postgres://tidemark_test@127.0.0.1:PORT/db" with another user name.
std::string WithUser(const std::string& url, const std::string& user) {
  const size_t start = url.find("://") + 3;
  return url.substr(0, start) + user + url.substr(url.find('@'));
}

class PostgresStateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(database_.ok());
    setenv(kStatePasswordEnv, TestPgServer().password.c_str(), 1);
  }
  void TearDown() override {
    unsetenv(kStatePasswordEnv);
    unsetenv("PGPASSWORD");
  }

  std::unique_ptr<StateStore> Open() {
    auto store = OpenStateStore(database_.url(), "/nonexistent");
    EXPECT_TRUE(store) << store.error().message();
    return store ? std::move(*store) : nullptr;
  }

  // How many sessions hold the advisory lock of `dataset` in the test database.
  int64_t LockHolders(const std::string& dataset) {
    const auto key = static_cast<uint64_t>(DatasetLockKey(dataset));
    sql::PqRows rows = database_.Query(
        "SELECT COUNT(*) FROM pg_locks k JOIN pg_database d ON d.oid = k.database"
        " WHERE d.datname = current_database() AND k.locktype = 'advisory' AND k.granted"
        " AND k.classid = $1::oid AND k.objid = $2::oid AND k.objsubid = 1",
        {std::to_string(key >> 32), std::to_string(key & 0xffffffffu)});
    return rows.rows() == 1 ? rows.Int(0, 0) : -1;
  }

  // Waits until no session holds the lock, for at most a few seconds.
  bool WaitUntilFree(const std::string& dataset) {
    for (int i = 0; i < 100 && LockHolders(dataset) != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return LockHolders(dataset) == 0;
  }

  PgTestDatabase database_;
};

TEST_F(PostgresStateStoreTest, BothUrlSchemesNameAPostgresStore) {
  EXPECT_TRUE(IsPostgresStateUrl("postgres://u@h/db"));
  EXPECT_TRUE(IsPostgresStateUrl("postgresql://u@h/db"));
  EXPECT_FALSE(IsPostgresStateUrl("sqlite:state.db"));
  EXPECT_FALSE(IsPostgresStateUrl("mysql://u@h/db"));
  const std::string url = database_.url();
  auto store = OpenStateStore("postgresql" + url.substr(url.find("://")), "/nonexistent");
  EXPECT_TRUE(store) << store.error().message();
}

TEST_F(PostgresStateStoreTest, TheTablesLiveInTheirOwnSchema) {
  ASSERT_NE(Open(), nullptr);
  sql::PqRows rows = database_.Query(
      "SELECT string_agg(table_name, ' ' ORDER BY table_name) FROM information_schema.tables"
      " WHERE table_schema = 'tidemark'");
  ASSERT_EQ(rows.rows(), 1);
  EXPECT_EQ(rows.Text(0, 0), "archives holds locks runs schema_migrations steps");
  EXPECT_EQ(database_
                .Query("SELECT COUNT(*) FROM information_schema.tables"
                       " WHERE table_schema = 'public'")
                .Int(0, 0),
            0);
}

TEST_F(PostgresStateStoreTest, TheLockKeyOfADatasetNeverChanges) {
  // Workers of different tidemark versions must agree on it: the first 8 bytes of
  // sha256("tidemark:events").
  EXPECT_EQ(DatasetLockKey("events"), -2897536584616514309);
  EXPECT_NE(DatasetLockKey("events"), DatasetLockKey("orders"));
}

TEST_F(PostgresStateStoreTest, ADatasetLockIsASessionAdvisoryLock) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(LockHolders("events"), 0);
  ASSERT_TRUE(store->AcquireLock("events", ThisProcess("run-1")));
  EXPECT_EQ(LockHolders("events"), 1);
  EXPECT_EQ(LockHolders("orders"), 0);
  ASSERT_TRUE(store->ReleaseLock("events", "run-1"));
  EXPECT_EQ(LockHolders("events"), 0);
}

TEST_F(PostgresStateStoreTest, ClosingTheStoreEndsItsLocks) {
  auto first = Open();
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->AcquireLock("events", ThisProcess("run-1")));
  first.reset();  // never released: the session ends
  ASSERT_TRUE(WaitUntilFree("events"));
  auto second = Open();
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(second->AcquireLock("events", ThisProcess("run-2")));
  EXPECT_EQ(database_.Query("SELECT run_id FROM tidemark.locks").Text(0, 0), "run-2");
}

TEST_F(PostgresStateStoreTest, TerminatingTheHoldersSessionFreesTheLock) {
  auto first = Open();
  auto second = Open();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(first->AcquireLock("events", ThisProcess("run-1")));
  ASSERT_FALSE(second->AcquireLock("events", ThisProcess("run-2")));
  // What an operator does to free a dataset whose worker hangs.
  database_.Query("SELECT pg_terminate_backend(backend_pid) FROM tidemark.locks");
  ASSERT_TRUE(WaitUntilFree("events"));
  EXPECT_TRUE(second->AcquireLock("events", ThisProcess("run-2")));
}

TEST_F(PostgresStateStoreTest, AConflictWithAnUnrecordedHolderStillFailsAtOnce) {
  // Someone holds the advisory lock and never wrote who they are.
  auto holder = database_.Connect();
  ASSERT_NE(holder, nullptr);
  ASSERT_TRUE(holder->Query("SELECT pg_advisory_lock($1::bigint)",
                            {std::to_string(DatasetLockKey("events"))}));
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const auto started = std::chrono::steady_clock::now();
  auto taken = store->AcquireLock("events", ThisProcess("run-1"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().category(), util::ErrorCategory::kConflict);
  EXPECT_THAT(taken.error().message(),
              HasSubstr("dataset events is locked by another tidemark session"));
}

TEST_F(PostgresStateStoreTest, AStaleRecordIsNotTakenForTheHolder) {
  // A record left by a holder that is gone, while a session that has not recorded itself
  // yet holds the lock: the message must not name the old run.
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(database_.Exec(
      "INSERT INTO tidemark.locks VALUES ('events', 'run-old', 'gone', 1, 1, now(), 1)"));
  auto holder = database_.Connect();
  ASSERT_NE(holder, nullptr);
  ASSERT_TRUE(holder->Query("SELECT pg_advisory_lock($1::bigint)",
                            {std::to_string(DatasetLockKey("events"))}));
  auto taken = store->AcquireLock("events", ThisProcess("run-1"));
  ASSERT_FALSE(taken);
  EXPECT_THAT(taken.error().message(), Not(HasSubstr("run-old")));
}

TEST_F(PostgresStateStoreTest, TheWrongPasswordIsAConnectErrorThatNeverShowsIt) {
  setenv(kStatePasswordEnv, "hunter2-wrong-password", 1);
  auto store = OpenStateStore(database_.url(), "/nonexistent");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().category(), util::ErrorCategory::kConnect);
  EXPECT_THAT(store.error().message(), Not(HasSubstr("hunter2")));
  EXPECT_THAT(store.error().message(), HasSubstr("password authentication failed"));
  EXPECT_THAT(store.error().message(), HasSubstr(kStatePasswordEnv));
  // Nor a password written into the URL.
  unsetenv(kStatePasswordEnv);
  const std::string url = database_.url();
  const size_t at = url.find('@');
  auto in_url = OpenStateStore(url.substr(0, at) + ":swordfish-in-url" + url.substr(at), "/x");
  ASSERT_FALSE(in_url);
  EXPECT_EQ(in_url.error().category(), util::ErrorCategory::kConnect);
  EXPECT_THAT(in_url.error().message(), Not(HasSubstr("swordfish")));
}

TEST_F(PostgresStateStoreTest, WithoutTidemarkStatePasswordLibpqFindsThePassword) {
  unsetenv(kStatePasswordEnv);
  setenv("PGPASSWORD", TestPgServer().password.c_str(), 1);
  auto store = OpenStateStore(database_.url(), "/nonexistent");
  EXPECT_TRUE(store) << store.error().message();
}

TEST_F(PostgresStateStoreTest, AServerThatIsNotThereIsAConnectError) {
  // Port 1 on the loopback: nothing listens there.
  auto store = OpenStateStore("postgres://tidemark_test@127.0.0.1:1/state", "/nonexistent");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().category(), util::ErrorCategory::kConnect);
  EXPECT_THAT(store.error().message(), HasSubstr("state store"));
}

// A login role for one test, dropped with everything granted to it in `database`.
class TemporaryRole {
 public:
  TemporaryRole(PgTestDatabase& database, const std::string& password)
      : database_(database), name_("tm_worker_" + util::RandomHex(8)) {
    created_ = database_.Exec("CREATE ROLE " + sql::QuoteIdent(name_) + " LOGIN PASSWORD " +
                              sql::QuoteLiteral(password));
  }
  ~TemporaryRole() {
    if (!created_) return;
    database_.Exec("DROP OWNED BY " + sql::QuoteIdent(name_) + "; DROP ROLE " +
                   sql::QuoteIdent(name_));
  }
  bool ok() const { return created_; }
  const std::string& name() const { return name_; }

 private:
  PgTestDatabase& database_;
  std::string name_;
  bool created_ = false;
};

TEST_F(PostgresStateStoreTest, ARoleWithoutCreatePrivilegeUsesAStoreThatIsSetUp) {
  PgTestDatabase& database = database_;
  ASSERT_NE(Open(), nullptr) << "set up by its owner";
  TemporaryRole worker(database, "worker-password");
  ASSERT_TRUE(worker.ok());
  const std::string role = sql::QuoteIdent(worker.name());
  ASSERT_TRUE(database.Exec("REVOKE CREATE ON DATABASE " + sql::QuoteIdent(database.name()) +
                            " FROM PUBLIC; REVOKE CREATE ON SCHEMA public FROM PUBLIC;"
                            " GRANT USAGE ON SCHEMA tidemark TO " +
                            role +
                            "; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA"
                            " tidemark TO " +
                            role));
  setenv(kStatePasswordEnv, "worker-password", 1);
  const std::string url = WithUser(database.url(), worker.name());
  auto store = OpenStateStore(url, "/nonexistent");
  ASSERT_TRUE(store) << store.error().message();
  EXPECT_EQ((*store)->SchemaVersion(), 3);
  ASSERT_TRUE((*store)->AcquireLock("events", ThisProcess("run-1")));
  ASSERT_TRUE((*store)->BeginRun({"run-1", "events", "archival", "a", util::Now(), ""}));
  EXPECT_TRUE((*store)->RecordStep("run-1", "a", "done", ""));
  EXPECT_TRUE((*store)->ReleaseLock("events", "run-1"));
  // A new store, though, needs the privilege, and says so.
  ASSERT_TRUE(database.Exec("DROP SCHEMA tidemark CASCADE"));
  auto refused = OpenStateStore(url, "/nonexistent");
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("permission denied"));
}

}  // namespace
}  // namespace tidemark::state
