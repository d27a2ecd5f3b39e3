// The real binary keeping its state in a shared PostgreSQL: parallel datasets journaled
// there, and the dataset lock held across processes.

#include <chrono>
#include <thread>

#include "tests/support/pg_env.h"
#include "tests/support/tidemark_env.h"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tidemark/state/postgres_state_store.h"

namespace tidemark::testing {
namespace {

constexpr char kNow[] = "2024-02-02T00:00:00Z";
const std::vector<std::string> kDatasets = {"events", "clicks", "views", "orders"};

std::string LakeDataset(const std::string& name) {
  return "  " + name +
         ":\n"
         "    storage: { connection: lake, path: " +
         name +
         ", layout: hive }\n"
         "    partition_by: dt\n"
         "    interval: 1 day\n"
         "    retention: 30 days\n"
         "    on_expire: archive\n"
         "    archive_to: cold\n"
         "    recycle_days: 7\n";
}

class CliPostgresState : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(database_.ok());
    std::string datasets;
    for (const std::string& name : kDatasets) {
      datasets += LakeDataset(name);
      ws_.MakeDailyPartitions(name, "2024-01-01", 5, 2);
    }
    ws_.Configure(datasets);
    std::string config = ReadFile(ws_.config());
    const std::string sqlite = "state: sqlite:.tidemark/state.db";
    ASSERT_NE(config.find(sqlite), std::string::npos);
    config.replace(config.find(sqlite), sqlite.size(), "state: " + database_.url());
    WriteFile(ws_.config(), config);
  }

  // The child's environment: the store's password, and only through its variable.
  std::map<std::string, std::string> Env() const {
    return {{state::kStatePasswordEnv, TestPgServer().password}};
  }

  int64_t Count(const std::string& sql) {
    sql::PqRows rows = database_.Query(sql);
    return rows.rows() == 1 ? rows.Int(0, 0) : -1;
  }

  // Waits until no session holds an advisory lock in the database, for a few seconds.
  bool WaitUntilNoLocks() {
    const std::string held =
        "SELECT COUNT(*) FROM pg_locks k JOIN pg_database d ON d.oid = k.database"
        " WHERE d.datname = current_database() AND k.locktype = 'advisory' AND k.granted";
    for (int i = 0; i < 100 && Count(held) != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return Count(held) == 0;
  }

  PgTestDatabase database_;
  Workspace ws_;
};

TEST_F(CliPostgresState, ApplyWithFourJobsJournalsEveryDatasetThere) {
  CommandResult apply = ws_.Tidemark({"apply", "--now", kNow, "--jobs", "4"}, Env());
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  for (const std::string& name : kDatasets) {
    EXPECT_FALSE(Exists(ws_.lake() + "/" + name + "/dt=2024-01-01")) << name;
    EXPECT_TRUE(Exists(ws_.archive() + "/" + name + "/main/main/dt=2024-01-02/manifest.json"))
        << name;
  }
  EXPECT_FALSE(Exists(ws_.dir() + "/.tidemark/state.db")) << "no SQLite store on the side";
  EXPECT_EQ(Count("SELECT COUNT(*) FROM tidemark.runs WHERE status = 'done'"), 4);
  EXPECT_EQ(Count("SELECT COUNT(DISTINCT dataset) FROM tidemark.runs"), 4);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM tidemark.steps WHERE status = 'done'"), 4 * 7);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM tidemark.archives"), 4 * 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM tidemark.locks"), 0) << "every lock released";

  CommandResult status = ws_.Tidemark({"status", "--now", kNow, "--json"}, Env());
  ASSERT_EQ(status.exit_code, 0) << status.err;
  auto datasets = nlohmann::json::parse(status.out);
  ASSERT_EQ(datasets.size(), 4u);
  for (const auto& dataset : datasets) {
    EXPECT_EQ(dataset["counts"]["live"], 3) << dataset.dump();
    EXPECT_EQ(dataset["counts"]["recycled"], 2) << dataset.dump();
    EXPECT_EQ(dataset["archived"].size(), 2u) << dataset.dump();
  }
  CommandResult again = ws_.Tidemark({"apply", "--now", kNow, "--jobs", "4"}, Env());
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("0 steps run, 7 done before"), std::string::npos)
      << "the journal in PostgreSQL says what is done: " << again.out;
}

TEST_F(CliPostgresState, ASecondApplyOfALockedDatasetExitsFourAndTheLockEndsWithItsHolder) {
  const std::string log = ws_.dir() + "/first.err";
  auto env = Env();
  env["TIDEMARK_FAILPOINT"] = "step.before:1:hang";
  Background first(TidemarkBinary(),
                   {"-c", ws_.config(), "apply", "--now", kNow, "--dataset", "events"}, env, log);
  for (int i = 0; i < 400 && ReadFile(log).find("hanging") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_NE(ReadFile(log).find("hanging"), std::string::npos) << ReadFile(log);

  CommandResult second = ws_.Tidemark({"apply", "--now", kNow, "--dataset", "events"}, Env());
  EXPECT_EQ(second.exit_code, 4) << second.out << second.err;
  EXPECT_NE(second.err.find("dataset events is locked by run"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("(pid " + std::to_string(first.pid()) + " on "), std::string::npos)
      << second.err;
  CommandResult other = ws_.Tidemark({"apply", "--now", kNow, "--dataset", "clicks"}, Env());
  EXPECT_EQ(other.exit_code, 0) << "another dataset is not locked: " << other.out << other.err;

  // The holder dies without releasing; its session, and with it the lock, ends.
  first.Kill();
  ASSERT_TRUE(WaitUntilNoLocks());
  CommandResult third = ws_.Tidemark({"apply", "--now", kNow, "--dataset", "events"}, Env());
  EXPECT_EQ(third.exit_code, 0) << third.out << third.err;
  EXPECT_FALSE(Exists(ws_.lake() + "/events/dt=2024-01-01"));
}

TEST_F(CliPostgresState, AWrongPasswordExitsThreeWithoutShowingIt) {
  CommandResult apply = ws_.Tidemark({"apply", "--now", kNow},
                                     {{state::kStatePasswordEnv, "hunter2-not-the-password"}});
  EXPECT_EQ(apply.exit_code, 3) << apply.out << apply.err;
  EXPECT_EQ(apply.err.find("hunter2"), std::string::npos) << apply.err;
  EXPECT_EQ(apply.out.find("hunter2"), std::string::npos) << apply.out;
  EXPECT_NE(apply.err.find("password authentication failed"), std::string::npos) << apply.err;
  EXPECT_TRUE(Exists(ws_.lake() + "/events/dt=2024-01-01")) << "nothing was touched";
}

}  // namespace
}  // namespace tidemark::testing
