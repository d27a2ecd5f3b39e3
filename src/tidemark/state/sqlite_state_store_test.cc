// The SQLite state store: its schema migrations, the journal of runs and steps, the
// per-dataset lock, restore holds and archive records, on a real file.

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tidemark/state/sqlite_database.h"
#include "tidemark/state/state_store.h"

namespace tidemark::state {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using util::Instant;

// The migrations this tidemark knows: journal and locks; holds and archives.
constexpr int kKnownMigrations = 3;

Instant At(std::string_view text) {
  auto parsed = util::ParseTimestamp(text);
  EXPECT_TRUE(parsed && parsed->offset) << text;
  return Instant(parsed->local.time_since_epoch()) - *parsed->offset;
}

class SqliteStateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/tidemark-state-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Url() const { return "sqlite:" + (dir_ / "state.db").string(); }

  std::unique_ptr<StateStore> Open() {
    auto store = OpenStateStore(Url(), dir_.string());
    EXPECT_TRUE(store) << store.error().message();
    return store ? std::move(*store) : nullptr;
  }

  // Rows of a query run straight on the file, beside the store.
  std::vector<Row> Query(const std::string& sql) {
    auto db = Database::Open((dir_ / "state.db").string());
    EXPECT_TRUE(db) << db.error().message();
    if (!db) return {};
    auto rows = (*db)->Query(sql);
    EXPECT_TRUE(rows) << rows.error().message();
    return rows ? *rows : std::vector<Row>{};
  }

  std::vector<int64_t> AppliedVersions() {
    std::vector<int64_t> versions;
    for (const Row& row : Query("SELECT version FROM schema_migrations ORDER BY version")) {
      versions.push_back(AsInt(row[0]));
    }
    return versions;
  }

  fs::path dir_;
};

TEST_F(SqliteStateStoreTest, ANewFileGetsEveryMigration) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->SchemaVersion(), kKnownMigrations);
  EXPECT_THAT(AppliedVersions(), ElementsAre(1, 2, 3));
  EXPECT_EQ(Query("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN "
                  "('runs', 'steps', 'locks', 'holds', 'archives')")
                .size(),
            5u);
}

TEST_F(SqliteStateStoreTest, ReopeningAppliesNothingAgain) {
  ASSERT_NE(Open(), nullptr);
  const std::vector<Row> applied = Query("SELECT version, applied_at FROM schema_migrations");
  auto again = Open();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->SchemaVersion(), kKnownMigrations);
  EXPECT_EQ(Query("SELECT version, applied_at FROM schema_migrations"), applied);
}

TEST_F(SqliteStateStoreTest, AStoreFromANewerTidemarkIsRefused) {
  ASSERT_NE(Open(), nullptr);
  Query("INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)");
  auto store = OpenStateStore(Url(), dir_.string());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().category(), util::ErrorCategory::kConfig);
  EXPECT_THAT(store.error().message(), HasSubstr("schema version 99"));
  EXPECT_THAT(store.error().message(), HasSubstr("newer tidemark"));
}

TEST_F(SqliteStateStoreTest, ARelativePathResolvesAgainstTheBaseDirectoryAndIsCreated) {
  auto store = OpenStateStore("sqlite:.tidemark/state.db", dir_.string());
  ASSERT_TRUE(store) << store.error().message();
  EXPECT_TRUE(fs::exists(dir_ / ".tidemark" / "state.db"));
}

TEST_F(SqliteStateStoreTest, UnknownStateUrlsAreConfigErrors) {
  auto store = OpenStateStore("mysql://db/state", dir_.string());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().category(), util::ErrorCategory::kConfig);
  EXPECT_FALSE(OpenStateStore("sqlite:", dir_.string()));
}

TEST_F(SqliteStateStoreTest, TheJournalKnowsWhichStepsAreDone) {
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
  EXPECT_THAT(*other, IsEmpty());
  auto steps = store->Steps("run-1");
  ASSERT_TRUE(steps);
  ASSERT_EQ(steps->size(), 2u);
  for (const StepRecord& step : *steps) {
    if (step.step_id != "main/main/dt=1/hide_partition") continue;
    EXPECT_EQ(step.status, "failed");
    EXPECT_EQ(step.message, "disk full");
    EXPECT_EQ(step.attempts, 1);
  }
}

TEST_F(SqliteStateStoreTest, AResumedRunIsOneRunRunningAgainWithItsDoneSteps) {
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
  }
}

TEST_F(SqliteStateStoreTest, RunsAreListedNewestFirstUpToTheLimit) {
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
  EXPECT_EQ((*runs)[0].kind, "restore");
  EXPECT_EQ((*runs)[0].run_file, "c");
  EXPECT_EQ((*runs)[1].run_id, "r2");
}

TEST_F(SqliteStateStoreTest, ALiveHolderKeepsTheLockAndASecondRunFailsAtOnce) {
  auto first = Open();
  auto second = Open();  // another connection, as another process would have
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(first->AcquireLock("events", ThisProcess("run-1")));
  const auto started = std::chrono::steady_clock::now();
  auto taken = second->AcquireLock("events", ThisProcess("run-2"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().category(), util::ErrorCategory::kConflict);
  EXPECT_THAT(taken.error().message(), HasSubstr("dataset events is locked by run run-1"));
  EXPECT_THAT(taken.error().message(), HasSubstr("pid " + std::to_string(getpid())));
  // Other datasets are not locked by it.
  EXPECT_TRUE(second->AcquireLock("orders", ThisProcess("run-2")));
}

TEST_F(SqliteStateStoreTest, ADeadHoldersLockIsTakenOver) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  LockHolder dead = ThisProcess("run-dead");
  dead.pid = child;
  ASSERT_FALSE(HolderAlive(dead));
  ASSERT_TRUE(store->AcquireLock("events", dead));
  auto taken = store->AcquireLock("events", ThisProcess("run-2"));
  EXPECT_TRUE(taken) << taken.error().message();
  EXPECT_EQ(Query("SELECT run_id FROM locks WHERE dataset = 'events'"),
            (std::vector<Row>{{std::string("run-2")}}));
}

TEST_F(SqliteStateStoreTest, ALiveProcessThatIsNotTheHolderByStartTimeIsTakenOver) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  LockHolder reused = ThisProcess("run-old");  // our pid, but another process's start time
  reused.pid_start += 1;
  EXPECT_FALSE(HolderAlive(reused));
  EXPECT_TRUE(HolderAlive(ThisProcess("run-1")));
  ASSERT_TRUE(store->AcquireLock("events", reused));
  EXPECT_TRUE(store->AcquireLock("events", ThisProcess("run-2")));
}

TEST_F(SqliteStateStoreTest, AHolderOnAnotherHostIsAssumedAlive) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  LockHolder remote = ThisProcess("run-remote");
  remote.host = "elsewhere.invalid";
  remote.pid = 1;
  ASSERT_TRUE(store->AcquireLock("events", remote));
  auto taken = store->AcquireLock("events", ThisProcess("run-2"));
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().category(), util::ErrorCategory::kConflict);
  EXPECT_THAT(taken.error().message(), HasSubstr("elsewhere.invalid"));
}

TEST_F(SqliteStateStoreTest, OnlyTheHoldingRunReleasesTheLock) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->AcquireLock("events", ThisProcess("run-1")));
  ASSERT_TRUE(store->ReleaseLock("events", "run-2"));  // not the holder: nothing happens
  EXPECT_FALSE(store->AcquireLock("events", ThisProcess("run-2")));
  ASSERT_TRUE(store->ReleaseLock("events", "run-1"));
  EXPECT_TRUE(store->AcquireLock("events", ThisProcess("run-2")));
}

TEST_F(SqliteStateStoreTest, HoldsRoundTripAndALaterHoldReplacesAnEarlierOne) {
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
  EXPECT_THAT(*none, IsEmpty());
}

TEST_F(SqliteStateStoreTest, ArchiveRecordsRoundTripWithAndWithoutARange) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  core::ArchivedPartition later{"main", "main", "dt=2024-01-30", "file:///cold/dt=2024-01-30/"};
  later.range = core::TimeRange{At("2024-01-30T00:00:00Z"), At("2024-01-31T00:00:00Z")};
  later.bytes = 8;
  later.files = 2;
  later.archived_at = At("2024-03-01T00:00:00Z");
  core::ArchivedPartition earlier = later;
  earlier.partition = "dt=2024-01-29";
  earlier.location = "file:///cold/dt=2024-01-29/";
  earlier.range = core::TimeRange{At("2024-01-29T00:00:00Z"), At("2024-01-30T00:00:00Z")};
  core::ArchivedPartition unranged{"main", "main", "dt=latest", "file:///cold/dt=latest/"};
  ASSERT_TRUE(store->RecordArchive("events", later));
  ASSERT_TRUE(store->RecordArchive("events", earlier));
  ASSERT_TRUE(store->RecordArchive("events", unranged));
  later.location = "file:///cold2/dt=2024-01-30/";  // archived again elsewhere
  ASSERT_TRUE(store->RecordArchive("events", later));

  auto archives = store->Archives("events");
  ASSERT_TRUE(archives) << archives.error().message();
  ASSERT_EQ(archives->size(), 3u);
  EXPECT_EQ((*archives)[0].partition, "dt=latest");  // no range sorts first
  EXPECT_FALSE((*archives)[0].range);
  const core::ArchivedPartition& first = (*archives)[1];
  EXPECT_EQ(first.lifecycle, "main");
  EXPECT_EQ(first.storage, "main");
  EXPECT_EQ(first.partition, "dt=2024-01-29");
  EXPECT_EQ(first.location, "file:///cold/dt=2024-01-29/");
  EXPECT_EQ(first.range, earlier.range);
  EXPECT_EQ(first.bytes, 8);
  EXPECT_EQ(first.files, 2);
  EXPECT_EQ(first.archived_at, At("2024-03-01T00:00:00Z"));
  EXPECT_EQ((*archives)[2].partition, "dt=2024-01-30");
  EXPECT_EQ((*archives)[2].location, "file:///cold2/dt=2024-01-30/");
  auto none = store->Archives("orders");
  ASSERT_TRUE(none);
  EXPECT_THAT(*none, IsEmpty());
}

}  // namespace
TEST_F(SqliteStateStoreTest, ManyProcessesCreatingOneNewStoreAtOnceAllSucceed) {
  // Separate processes, as separate `tidemark apply --dataset` runs would be, released
  // at the same moment, on new store files, many times over.
  for (int round = 0; round < 20; ++round) {
    const std::string url = "sqlite:round-" + std::to_string(round) + ".db";
    int gate[2];
    ASSERT_EQ(pipe(gate), 0);
    std::vector<pid_t> children;
    for (int i = 0; i < 8; ++i) {
      pid_t child = fork();
      if (child == 0) {
        close(gate[1]);
        char byte;
        (void)!read(gate[0], &byte, 1);  // returns when the parent closes the gate
        _exit(OpenStateStore(url, dir_.string()) ? 0 : 1);
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
  }
}

}  // namespace tidemark::state
