// The state store's contract, one specification for both stores: SQLite (a file) and
// PostgreSQL (a throwaway database on the test server). Each test runs once per store.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "tests/support/pg_env.h"
#include "tests/support/tidemark_env.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tidemark/state/postgres_state_store.h"
#include "tidemark/state/sqlite_database.h"
#include "tidemark/state/state_store.h"

namespace tidemark::state {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using tidemark::testing::PgTestDatabase;
using tidemark::testing::TempDir;
using tidemark::testing::TestPgServer;
using util::Instant;
using TextRows = std::vector<std::vector<std::string>>;

// The migrations this tidemark knows: journal and locks; holds and archives; the bin
// entry of an archive.
constexpr int kKnownMigrations = 3;

Instant At(std::string_view text) {
  auto instant = util::ParseInstant(text);
  EXPECT_TRUE(instant) << text;
  return instant.value_or(Instant{});
}

// Takes the lock, trying again for a few seconds: a PostgreSQL server notices a closed
// connection, and frees its locks, a moment after the client is gone.
util::Status AcquireWithin(StateStore& store, const std::string& dataset, const LockHolder& holder,
                           std::chrono::seconds limit = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto taken = store.AcquireLock(dataset, holder);
    if (taken || std::chrono::steady_clock::now() >= deadline) return taken;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Another process that opens the store, takes a dataset's lock and holds it until it is
// killed, as a crash would end it.
class LockHoldingProcess {
 public:
  LockHoldingProcess(const std::string& url, const std::string& base_dir,
                     const std::string& dataset, const std::string& run_id) {
    int ready[2];
    if (pipe(ready) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(ready[0]);
      auto store = OpenStateStore(url, base_dir);
      auto taken = store ? (*store)->AcquireLock(dataset, ThisProcess(run_id))
                         : util::Status(tl::unexpected(store.error()));
      if (!taken) std::fprintf(stderr, "lock holder: %s\n", taken.error().message().c_str());
      const char answer = taken ? 'y' : 'n';
      (void)!write(ready[1], &answer, 1);
      for (;;) pause();
    }
    close(ready[1]);
    char answer = 'n';
    locked_ = pid_ > 0 && read(ready[0], &answer, 1) == 1 && answer == 'y';
    close(ready[0]);
  }
  ~LockHoldingProcess() { Kill(); }

  bool locked() const { return locked_; }
  pid_t pid() const { return pid_; }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  bool locked_ = false;
};

class StateStoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!Postgres()) return;
    database_ = std::make_unique<PgTestDatabase>();
    ASSERT_TRUE(database_->ok());
    setenv(kStatePasswordEnv, TestPgServer().password.c_str(), 1);
  }
  void TearDown() override { unsetenv(kStatePasswordEnv); }

  bool Postgres() const { return GetParam() == "postgres"; }
  std::string SqlitePath(const std::string& name = "state.db") const {
    return dir_.path() + "/" + name;
  }
  std::string Url() const { return Postgres() ? database_->url() : "sqlite:" + SqlitePath(); }

  std::unique_ptr<StateStore> Open() {
    auto store = OpenStateStore(Url(), dir_.path());
    EXPECT_TRUE(store) << store.error().message();
    return store ? std::move(*store) : nullptr;
  }

  // A table of the store, as SQL run beside the store names it.
  std::string Table(const std::string& name) const {
    return Postgres() ? "tidemark." + name : name;
  }

  // Rows of a query run straight on the store's database, beside the store, as text.
  TextRows Query(const std::string& sql) {
    TextRows text;
    if (Postgres()) {
      sql::PqRows rows = database_->Query(sql);
      for (int r = 0; r < rows.rows(); ++r) {
        text.emplace_back();
        for (int c = 0; c < rows.columns(); ++c) text.back().push_back(rows.Text(r, c));
      }
      return text;
    }
    auto db = Database::Open(SqlitePath());
    EXPECT_TRUE(db) << db.error().message();
    auto rows = db ? (*db)->Query(sql) : tl::unexpected(db.error());
    EXPECT_TRUE(rows) << rows.error().message();
    for (const Row& row : rows.value_or(std::vector<Row>{})) {
      text.emplace_back();
      for (const Value& value : row) text.back().push_back(AsText(value));
    }
    return text;
  }

  TextRows AppliedVersions() {
    return Query("SELECT version FROM " + Table("schema_migrations") + " ORDER BY version");
  }

  TempDir dir_;
  std::unique_ptr<PgTestDatabase> database_;
};

INSTANTIATE_TEST_SUITE_P(BothStores, StateStoreContract, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST_P(StateStoreContract, ANewStoreGetsEveryMigration) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->SchemaVersion(), kKnownMigrations);
  EXPECT_EQ(AppliedVersions(), (TextRows{{"1"}, {"2"}, {"3"}}));
  for (const char* table : {"runs", "steps", "locks", "holds", "archives"}) {
    EXPECT_EQ(Query("SELECT COUNT(*) FROM " + Table(table)), (TextRows{{"0"}})) << table;
  }
}

TEST_P(StateStoreContract, ReopeningAppliesNothingAgain) {
  ASSERT_NE(Open(), nullptr);
  const std::string applied = "SELECT version, applied_at FROM " + Table("schema_migrations");
  const TextRows before = Query(applied);
  auto again = Open();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->SchemaVersion(), kKnownMigrations);
  EXPECT_EQ(Query(applied), before);
}

TEST_P(StateStoreContract, AStoreFromANewerTidemarkIsRefused) {
  ASSERT_NE(Open(), nullptr);
  Query("INSERT INTO " + Table("schema_migrations") + " (version, applied_at) VALUES (99, " +
        (Postgres() ? "now()" : "0") + ")");
  auto store = OpenStateStore(Url(), dir_.path());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().category(), util::ErrorCategory::kConfig);
  EXPECT_THAT(store.error().message(), HasSubstr("schema version 99"));
  EXPECT_THAT(store.error().message(), HasSubstr("newer tidemark"));
}

TEST_P(StateStoreContract, ManyProcessesCreatingOneNewStoreAtOnceAllSucceed) {
  // Separate processes, as separate `tidemark apply` runs on separate machines would
  // be, released at the same moment on a store that does not exist yet, many times.
  for (int round = 0; round < 10; ++round) {
    std::string url = "sqlite:" + SqlitePath("round-" + std::to_string(round) + ".db");
    if (Postgres()) {
      url = Url();
      ASSERT_TRUE(database_->Exec("DROP SCHEMA IF EXISTS tidemark CASCADE"));
    }
    int gate[2];
    ASSERT_EQ(pipe(gate), 0);
    std::vector<pid_t> children;
    for (int i = 0; i < 8; ++i) {
      const pid_t child = fork();
      if (child == 0) {
        close(gate[1]);
        char byte;
        (void)!read(gate[0], &byte, 1);  // returns when the parent closes the gate
        auto store = OpenStateStore(url, dir_.path());
        if (!store) std::fprintf(stderr, "%s\n", store.error().message().c_str());
        _exit(store && (*store)->SchemaVersion() == kKnownMigrations ? 0 : 1);
      }
      children.push_back(child);
    }
    close(gate[0]);
    close(gate[1]);
    for (pid_t child : children) {
      int status = 0;
      ASSERT_EQ(waitpid(child, &status, 0), child);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
          << "round " << round << ": a process could not open the new store";
    }
    if (Postgres()) {
      EXPECT_EQ(AppliedVersions(), (TextRows{{"1"}, {"2"}, {"3"}}));
    }
  }
}

TEST_P(StateStoreContract, TheJournalKnowsWhichStepsAreDone) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->BeginRun(
      {"run-1", "events", "archival", "/runs/a.json", At("2024-03-01T00:00:00Z"), ""}));
  ASSERT_TRUE(store->RecordStep("run-1", "main/main/check_archive", "done", ""));
  ASSERT_TRUE(store->RecordStep("run-1", "main/main/dt=1/hide_partition", "failed", "disk full"));
  auto done = store->DoneSteps("run-1");
  ASSERT_TRUE(done) << done.error().message();
  EXPECT_THAT(*done, ElementsAre("main/main/check_archive"));
  auto other = store->DoneSteps("run-2");
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->empty());
  auto steps = store->Steps("run-1");
  ASSERT_TRUE(steps);
  ASSERT_EQ(steps->size(), 2u);
  for (const StepRecord& step : *steps) {
    EXPECT_EQ(step.run_id, "run-1");
    EXPECT_EQ(step.attempts, 1);
    EXPECT_LE(std::chrono::abs(step.at - util::Now()), std::chrono::seconds(60));
    if (step.step_id != "main/main/dt=1/hide_partition") continue;
    EXPECT_EQ(step.status, "failed");
    EXPECT_EQ(step.message, "disk full");
  }
}

TEST_P(StateStoreContract, AStepOfAnUnknownRunIsRefused) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->RecordStep("no-such-run", "a", "done", ""));
}

TEST_P(StateStoreContract, AResumedRunIsOneRunRunningAgainWithItsDoneSteps) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const RunRecord run{"run-1", "events", "archival", "/runs/a.json", At("2024-03-01T00:00:00Z"),
                      ""};
  ASSERT_TRUE(store->BeginRun(run));
  ASSERT_TRUE(store->RecordStep("run-1", "a", "done", ""));
  ASSERT_TRUE(store->RecordStep("run-1", "b", "failed", "timeout"));
  ASSERT_TRUE(store->FinishRun("run-1", "failed"));
  auto runs = store->Runs("events", 10);
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].status, "failed");

  ASSERT_TRUE(store->BeginRun(run));  // resumed
  runs = store->Runs("events", 10);
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].run_id, "run-1");
  EXPECT_EQ((*runs)[0].status, "running");
  EXPECT_EQ((*runs)[0].started_at, At("2024-03-01T00:00:00Z"));
  EXPECT_THAT(*store->DoneSteps("run-1"), ElementsAre("a"));
  ASSERT_TRUE(store->RecordStep("run-1", "b", "done", ""));
  EXPECT_THAT(*store->DoneSteps("run-1"), ElementsAre("a", "b"));
  auto steps = store->Steps("run-1");
  ASSERT_TRUE(steps);
  for (const StepRecord& step : *steps) {
    EXPECT_EQ(step.attempts, step.step_id == "b" ? 2 : 1) << step.step_id;
    if (step.step_id == "b") {
      EXPECT_EQ(step.message, "") << "the later record replaces the failure's message";
    }
  }
}

TEST_P(StateStoreContract, RunsAreListedNewestFirstUpToTheLimit) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->BeginRun({"r1", "events", "archival", "a", At("2024-03-01T00:00:00Z"), ""}));
  ASSERT_TRUE(store->BeginRun({"r3", "events", "restore", "c", At("2024-03-03T00:00:00Z"), ""}));
  ASSERT_TRUE(store->BeginRun({"r2", "events", "archival", "b", At("2024-03-02T00:00:00Z"), ""}));
  ASSERT_TRUE(store->BeginRun({"x", "orders", "archival", "d", At("2024-03-04T00:00:00Z"), ""}));
  auto runs = store->Runs("events", 2);
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].run_id, "r3");
  EXPECT_EQ((*runs)[0].dataset, "events");
  EXPECT_EQ((*runs)[0].kind, "restore");
  EXPECT_EQ((*runs)[0].run_file, "c");
  EXPECT_EQ((*runs)[0].started_at, At("2024-03-03T00:00:00Z"));
  EXPECT_EQ((*runs)[0].status, "running");
  EXPECT_EQ((*runs)[1].run_id, "r2");
  ASSERT_TRUE(store->FinishRun("r3", "done"));
  EXPECT_EQ((*store->Runs("events", 1))[0].status, "done");
}

TEST_P(StateStoreContract, ATransactionThatFailsLeavesNothingBehind) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto failed = store->InTransaction([&]() -> util::Status {
    TM_TRY(store->BeginRun({"run-1", "events", "archival", "a", At("2024-03-01T00:00:00Z"), ""}));
    TM_TRY(store->RecordStep("run-1", "a", "done", ""));
    return util::StepError("the work failed");
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message(), "the work failed");
  EXPECT_TRUE(store->Runs("events", 10)->empty());
  EXPECT_TRUE(store->DoneSteps("run-1")->empty());
  // The store is usable afterwards, and a transaction that succeeds keeps its work.
  auto committed = store->InTransaction([&]() -> util::Status {
    TM_TRY(store->BeginRun({"run-1", "events", "archival", "a", At("2024-03-01T00:00:00Z"), ""}));
    return store->RecordStep("run-1", "a", "done", "");
  });
  ASSERT_TRUE(committed) << committed.error().message();
  EXPECT_THAT(*Open()->DoneSteps("run-1"), ElementsAre("a")) << "seen by another connection";
}

TEST_P(StateStoreContract, AFailingStatementRollsBackTheTransaction) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto failed = store->InTransaction([&]() -> util::Status {
    TM_TRY(store->BeginRun({"run-1", "events", "archival", "a", At("2024-03-01T00:00:00Z"), ""}));
    return store->RecordStep("no-such-run", "a", "done", "");
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().category(), util::ErrorCategory::kStep);
  EXPECT_TRUE(store->Runs("events", 10)->empty());
}

TEST_P(StateStoreContract, TransactionsDoNotNest) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  bool inner_ran = false;
  auto outer = store->InTransaction([&]() -> util::Status {
    TM_TRY(store->BeginRun({"run-1", "events", "archival", "a", At("2024-03-01T00:00:00Z"), ""}));
    auto inner = store->InTransaction([&]() -> util::Status {
      inner_ran = true;
      return {};
    });
    EXPECT_FALSE(inner) << "a nested transaction is refused";
    return {};
  });
  EXPECT_FALSE(inner_ran);
  ASSERT_TRUE(outer) << outer.error().message();
  EXPECT_EQ(store->Runs("events", 10)->size(), 1u) << "the outer transaction is unharmed";
}

TEST_P(StateStoreContract, ASecondStoreFindsTheDatasetLockedAndIsToldByWhomAtOnce) {
  auto first = Open();
  auto second = Open();  // another connection, as another process would have
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  LockHolder holder = ThisProcess("run-1");
  holder.acquired_at = At("2024-03-01T10:00:00Z");
  ASSERT_TRUE(first->AcquireLock("events", holder));
  const auto started = std::chrono::steady_clock::now();
  auto taken = second->AcquireLock("events", ThisProcess("run-2"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().category(), util::ErrorCategory::kConflict);
  EXPECT_THAT(taken.error().message(), HasSubstr("dataset events is locked by run run-1"));
  EXPECT_THAT(taken.error().message(), HasSubstr("pid " + std::to_string(getpid())));
  EXPECT_THAT(taken.error().message(), HasSubstr(" on " + holder.host));
  EXPECT_THAT(taken.error().message(), HasSubstr(util::FormatInstant(holder.acquired_at)));
  // Other datasets are not locked by it.
  EXPECT_TRUE(second->AcquireLock("orders", ThisProcess("run-2")));
}

TEST_P(StateStoreContract, OnlyTheHoldingRunReleasesTheLockAndThenItIsFree) {
  auto store = Open();
  auto other = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(store->AcquireLock("events", ThisProcess("run-1")));
  ASSERT_TRUE(store->ReleaseLock("events", "run-2"));  // not the holder: nothing happens
  EXPECT_FALSE(store->AcquireLock("events", ThisProcess("run-2"))) << "not even on its store";
  EXPECT_FALSE(other->AcquireLock("events", ThisProcess("run-2")));
  ASSERT_TRUE(store->ReleaseLock("events", "run-1"));
  EXPECT_EQ(Query("SELECT COUNT(*) FROM " + Table("locks")), (TextRows{{"0"}}));
  ASSERT_TRUE(other->AcquireLock("events", ThisProcess("run-2")));
  ASSERT_TRUE(other->ReleaseLock("events", "run-2"));
  EXPECT_TRUE(store->AcquireLock("events", ThisProcess("run-3")));
}

TEST_P(StateStoreContract, ACrashedHoldersLockIsFreeAndItsRecordReplaced) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  LockHoldingProcess crashed(Url(), dir_.path(), "events", "run-crashed");
  ASSERT_TRUE(crashed.locked());
  auto taken = store->AcquireLock("events", ThisProcess("run-2"));
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().category(), util::ErrorCategory::kConflict);
  EXPECT_THAT(taken.error().message(), HasSubstr("locked by run run-crashed (pid " +
                                                 std::to_string(crashed.pid()) + " on "));
  crashed.Kill();
  auto after = AcquireWithin(*store, "events", ThisProcess("run-2"));
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_EQ(Query("SELECT run_id, pid FROM " + Table("locks") + " WHERE dataset = 'events'"),
            (TextRows{{"run-2", std::to_string(getpid())}}));
}

TEST_P(StateStoreContract, HoldsRoundTripAndALaterHoldReplacesAnEarlierOne) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(
      store->AddHold("events", {"main", "main", "dt=2024-01-29", At("2024-03-08T00:00:00Z")}));
  ASSERT_TRUE(
      store->AddHold("events", {"main", "main", "dt=2024-01-29", At("2024-03-15T00:00:00Z")}));
  ASSERT_TRUE(
      store->AddHold("orders", {"raw", "landing", "dt=2024-01-01", At("2024-04-01T00:00:00Z")}));
  auto holds = store->Holds("events");
  ASSERT_TRUE(holds) << holds.error().message();
  ASSERT_EQ(holds->size(), 1u);
  EXPECT_EQ((*holds)[0].lifecycle, "main");
  EXPECT_EQ((*holds)[0].storage, "main");
  EXPECT_EQ((*holds)[0].partition, "dt=2024-01-29");
  EXPECT_EQ((*holds)[0].until, At("2024-03-15T00:00:00Z"));
  auto none = store->Holds("devices");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_P(StateStoreContract, ArchiveRecordsRoundTripWithAndWithoutARange) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  core::ArchivedPartition later{"main", "main", "dt=2024-01-30", "file:///cold/dt=2024-01-30/"};
  later.range = core::TimeRange{At("2024-01-30T00:00:00Z"), At("2024-01-31T00:00:00Z")};
  later.bytes = 8'000'000'000;  // past 32 bits
  later.files = 2;
  later.archived_at = At("2024-03-01T00:00:00Z");
  later.source_entry = "20240301T000000Z";
  core::ArchivedPartition earlier = later;
  earlier.partition = "dt=2024-01-29";
  earlier.location = "file:///cold/dt=2024-01-29/";
  earlier.range = core::TimeRange{At("2024-01-29T00:00:00Z"), At("2024-01-30T00:00:00Z")};
  core::ArchivedPartition unranged{"main", "main", "dt=latest", "file:///cold/dt=latest/"};
  core::ArchivedPartition unranged_upper{"main", "main", "dt=Z", "file:///cold/dt=Z/"};
  ASSERT_TRUE(store->RecordArchive("events", later));
  ASSERT_TRUE(store->RecordArchive("events", earlier));
  ASSERT_TRUE(store->RecordArchive("events", unranged));
  ASSERT_TRUE(store->RecordArchive("events", unranged_upper));
  later.location = "file:///cold2/dt=2024-01-30/";  // archived again elsewhere
  ASSERT_TRUE(store->RecordArchive("events", later));

  auto archives = store->Archives("events");
  ASSERT_TRUE(archives) << archives.error().message();
  ASSERT_EQ(archives->size(), 4u);
  // No range sorts first; names in byte order.
  EXPECT_EQ((*archives)[0].partition, "dt=Z");
  EXPECT_EQ((*archives)[1].partition, "dt=latest");
  EXPECT_FALSE((*archives)[1].range);
  const core::ArchivedPartition& first = (*archives)[2];
  EXPECT_EQ(first.lifecycle, "main");
  EXPECT_EQ(first.storage, "main");
  EXPECT_EQ(first.partition, "dt=2024-01-29");
  EXPECT_EQ(first.location, "file:///cold/dt=2024-01-29/");
  EXPECT_EQ(first.range, earlier.range);
  EXPECT_EQ(first.bytes, 8'000'000'000);
  EXPECT_EQ(first.files, 2);
  EXPECT_EQ(first.archived_at, At("2024-03-01T00:00:00Z"));
  EXPECT_EQ(first.source_entry, "20240301T000000Z");
  EXPECT_EQ((*archives)[3].partition, "dt=2024-01-30");
  EXPECT_EQ((*archives)[3].location, "file:///cold2/dt=2024-01-30/");
  auto none = store->Archives("orders");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_P(StateStoreContract, TheRecordsOfAllDatasetsAtOnceAreEachDatasetsRecords) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(
      store->AddHold("events", {"main", "main", "dt=2024-01-29", At("2024-03-15T00:00:00Z")}));
  ASSERT_TRUE(
      store->AddHold("orders", {"raw", "landing", "dt=2024-01-01", At("2024-04-01T00:00:00Z")}));
  ASSERT_TRUE(
      store->AddHold("orders", {"raw", "landing", "dt=2024-01-02", At("2024-04-02T00:00:00Z")}));
  core::ArchivedPartition a{"main", "main", "dt=2024-01-30", "file:///cold/a/"};
  a.range = core::TimeRange{At("2024-01-30T00:00:00Z"), At("2024-01-31T00:00:00Z")};
  core::ArchivedPartition b = a;
  b.partition = "dt=2024-01-29";
  b.range = core::TimeRange{At("2024-01-29T00:00:00Z"), At("2024-01-30T00:00:00Z")};
  core::ArchivedPartition unranged{"main", "main", "dt=latest", "file:///cold/l/"};
  ASSERT_TRUE(store->RecordArchive("events", a));
  ASSERT_TRUE(store->RecordArchive("events", b));
  ASSERT_TRUE(store->RecordArchive("events", unranged));
  ASSERT_TRUE(store->RecordArchive("Events", a));  // names are taken as written

  auto holds = store->AllHolds();
  ASSERT_TRUE(holds) << holds.error().message();
  EXPECT_EQ(holds->size(), 2u);
  for (const std::string dataset : {"events", "orders"}) {
    auto one = store->Holds(dataset);
    ASSERT_TRUE(one);
    ASSERT_EQ((*holds)[dataset].size(), one->size()) << dataset;
    for (size_t i = 0; i < one->size(); ++i) {
      EXPECT_EQ((*holds)[dataset][i].partition, (*one)[i].partition);
      EXPECT_EQ((*holds)[dataset][i].until, (*one)[i].until);
    }
  }
  auto archives = store->AllArchives();
  ASSERT_TRUE(archives) << archives.error().message();
  EXPECT_EQ(archives->size(), 2u);
  for (const std::string dataset : {"events", "Events"}) {
    auto one = store->Archives(dataset);
    ASSERT_TRUE(one);
    std::vector<std::string> all_names, one_names;
    for (const auto& x : (*archives)[dataset]) all_names.push_back(x.partition + " " + x.location);
    for (const auto& x : *one) one_names.push_back(x.partition + " " + x.location);
    EXPECT_EQ(all_names, one_names) << dataset;
  }
  EXPECT_EQ((*archives)["events"].size(), 3u);
}

}  // namespace
}  // namespace tidemark::state
