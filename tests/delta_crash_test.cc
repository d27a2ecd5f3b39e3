// Crash tests for the Delta expire flow: the process exits at a failpoint (every step
// boundary, after the removal record is written, in the middle of a file copy, and
// between the purge's deletes), then apply runs again. Afterwards the log replays
// cleanly, each `remove` was committed once, and every file is either referenced by
// the table or archived (with identical bytes), exactly once. At the moment of the
// crash no file is gone that is not in the archive.

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/delta_env.h"
#include "tests/support/tidemark_env.h"
#include "tidemark/backend/lake/delta_snapshot.h"
#include "tidemark/store/local_store.h"
#include "tidemark/util/strings.h"

namespace tidemark::testing {
namespace {

namespace fs = std::filesystem;
namespace delta = backend::lake::delta;

constexpr char kNow[] = "2024-02-02T00:00:00Z";
constexpr int kFailpointExit = 86;
constexpr int kExpired = 2;  // event_date=2024-01-01 and 2024-01-02 are past 30 days
constexpr int kFilesPerPartition = 3;

struct Scenario {
  std::string failpoint;  // TIDEMARK_FAILPOINT
  int recycle_days;
};

std::string Name(const ::testing::TestParamInfo<Scenario>& info) {
  std::string name = info.param.failpoint + "_recycle" + std::to_string(info.param.recycle_days);
  for (char& c : name) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

// How many actions of `kind` ("add" or "remove") each path got over the whole log.
std::map<std::string, int> ActionCounts(const std::string& table, const char* kind) {
  std::map<std::string, int> counts;
  for (int version = 0; version < DeltaCommits(table); ++version) {
    char name[40];
    std::snprintf(name, sizeof name, "/_delta_log/%020d.json", version);
    std::ifstream in(table + name);
    std::string line;
    while (std::getline(in, line)) {
      auto action = nlohmann::json::parse(line);
      if (action.contains(kind))
        ++counts[util::PercentDecode(action[kind]["path"].get<std::string>())];
    }
  }
  return counts;
}

std::map<std::string, int> RemoveCounts(const std::string& table) {
  return ActionCounts(table, "remove");
}

class DeltaCrash : public ::testing::TestWithParam<Scenario> {
 protected:
  void SetUp() override {
    ws_.Configure(DeltaDatasetYaml(GetParam().recycle_days));
    DeltaTableSpec spec;
    spec.files_per_partition = kFilesPerPartition;
    files_ = MakeDeltaTable(Table(), spec);
    originals_ = HashTree(Table());
  }

  std::string Table() const { return ws_.lake() + "/events"; }
  std::string Archives() const { return ws_.archive() + "/events/main/main"; }
  bool Expired(const std::string& file) const {
    return file.rfind("event_date=2024-01-01/", 0) == 0 ||
           file.rfind("event_date=2024-01-02/", 0) == 0;
  }

  // The archived data files, by path in the table, with their sha256.
  std::map<std::string, std::string> Archived() const {
    std::map<std::string, std::string> archived;
    if (!fs::exists(Archives())) return archived;
    for (const auto& partition : fs::directory_iterator(Archives())) {
      for (const auto& [path, sha] : HashTree(partition.path().string())) {
        if (path == "manifest.json" || path.rfind("_tidemark/", 0) == 0) continue;
        EXPECT_EQ(path.find(".tidemark-tmp"), std::string::npos) << "temporary left: " << path;
        EXPECT_FALSE(archived.count(path)) << path << " archived twice";
        archived[path] = sha;
      }
    }
    return archived;
  }

  // Nothing is gone unless an identical copy is in the archive; no file is removed twice.
  void ExpectNothingLost() const {
    const auto table = HashTree(Table());
    const auto archived = Archived();
    for (const std::string& file : files_) {
      if (table.count(file)) {
        EXPECT_EQ(table.at(file), originals_.at(file)) << file;
        continue;
      }
      ASSERT_TRUE(archived.count(file)) << file << " is gone and not archived";
      EXPECT_EQ(archived.at(file), originals_.at(file)) << file;
    }
    for (const auto& [path, count] : RemoveCounts(Table()))
      EXPECT_EQ(count, 1) << path << " removed " << count << " times";
  }

  // The log replays (from checkpoint or commits alike), and each file is referenced by
  // the table or archived, exactly once.
  void ExpectEveryFileExactlyOnce() const {
    auto store = store::NewLocalStore(Table());
    auto snapshot = delta::ReadSnapshot(*store, "");
    ASSERT_TRUE(snapshot) << snapshot.error().message();
    const std::set<std::string> live = LiveDeltaFiles(Table());
    std::set<std::string> replayed;
    for (const delta::LiveFile& file : snapshot->files) replayed.insert(file.key);
    EXPECT_EQ(replayed, live) << "tidemark's replay and an independent one differ";
    const auto table = HashTree(Table());
    const auto archived = Archived();
    int archived_count = 0;
    for (const std::string& file : files_) {
      const bool referenced = live.count(file) > 0;
      const bool in_archive = archived.count(file) > 0;
      EXPECT_NE(referenced, in_archive) << file << " must be referenced or archived, not both";
      EXPECT_EQ(referenced, !Expired(file)) << file;
      if (in_archive) {
        ++archived_count;
        EXPECT_EQ(archived.at(file), originals_.at(file)) << file;
        // recycle_days 0 and a table keeping removed files 0 hours: purged at once.
        EXPECT_EQ(table.count(file) > 0, GetParam().recycle_days > 0) << file;
      }
      if (referenced) {
        EXPECT_EQ(table.at(file), originals_.at(file)) << file;
      }
    }
    EXPECT_EQ(archived_count, kExpired * kFilesPerPartition);
    for (const auto& [path, count] : RemoveCounts(Table())) {
      EXPECT_EQ(count, 1) << path;
      EXPECT_TRUE(Expired(path)) << path;
    }
    for (const auto& [path, sha] : table)
      EXPECT_EQ(path.find(".tidemark-tmp"), std::string::npos) << "temporary left: " << path;
  }

  Workspace ws_;
  std::vector<std::string> files_;
  std::map<std::string, std::string> originals_;
};

TEST_P(DeltaCrash, ApplyAfterTheCrashFinishesWithEveryFileExactlyOnce) {
  CommandResult crashed =
      ws_.Tidemark({"apply", "--now", kNow}, {{"TIDEMARK_FAILPOINT", GetParam().failpoint}});
  ASSERT_EQ(crashed.exit_code, kFailpointExit) << crashed.out << crashed.err;
  ExpectNothingLost();

  CommandResult resumed = ws_.Tidemark({"apply", "--now", kNow});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_NE(resumed.out.find("reusing"), std::string::npos)
      << "the crashed run file is picked up again";
  ExpectEveryFileExactlyOnce();

  CommandResult again = ws_.Tidemark({"apply", "--now", kNow, "--force-run"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("nothing to do"), std::string::npos) << again.out;
  ExpectEveryFileExactlyOnce();
}

std::vector<Scenario> Scenarios() {
  std::vector<Scenario> scenarios;
  for (int recycle_days : {7, 0}) {
    // check + (hide, copy, verify) per partition, + purge per partition when recycle_days is 0.
    int steps = 1 + 3 * kExpired + (recycle_days == 0 ? kExpired : 0);
    for (const char* point : {"step.before", "step.executed", "step.after"}) {
      for (int n = 1; n <= steps; ++n) {
        if (std::string(point) == "step.after" && n == steps) continue;  // the run is over
        scenarios.push_back({std::string(point) + ":" + std::to_string(n), recycle_days});
      }
    }
    for (int n = 1; n <= kExpired; ++n)
      scenarios.push_back({"delta.recorded:" + std::to_string(n), recycle_days});
    for (int n = 1; n <= kExpired * (kFilesPerPartition + 1); ++n)
      scenarios.push_back({"copy.mid_file:" + std::to_string(n), recycle_days});
    if (recycle_days == 0) {
      for (int n = 1; n <= kExpired; ++n)
        scenarios.push_back({"delta.files_deleted:" + std::to_string(n), recycle_days});
    }
  }
  return scenarios;
}

INSTANTIATE_TEST_SUITE_P(EveryBoundary, DeltaCrash, ::testing::ValuesIn(Scenarios()), Name);

// Restores of a removed partition, crashing at each point and run again: the
// partition's files are committed back exactly once, with their bytes, and the
// removal record is gone.
struct RestoreScenario {
  std::string failpoint;
  std::string from;  // "bin" (recycle_days 7) or "archive" (recycle_days 0: purged)
};

class DeltaRestoreCrash : public ::testing::TestWithParam<RestoreScenario> {};

TEST_P(DeltaRestoreCrash, RestoreAfterTheCrashCommitsThePartitionOnce) {
  const bool from_bin = GetParam().from == "bin";
  Workspace ws;
  ws.Configure(DeltaDatasetYaml(from_bin ? 7 : 0));
  const std::string table = ws.lake() + "/events";
  const std::vector<std::string> files = MakeDeltaTable(table, DeltaTableSpec{});
  const auto originals = HashTree(table);
  ASSERT_EQ(ws.Tidemark({"apply", "--now", kNow}).exit_code, 0);
  const std::vector<std::string> args = {"restore", "--dataset", "events", "--partition",
                                         "event_date=2024-01-01", "--from", GetParam().from};
  CommandResult crashed = ws.Tidemark(args, {{"TIDEMARK_FAILPOINT", GetParam().failpoint}});
  ASSERT_EQ(crashed.exit_code, kFailpointExit) << crashed.out << crashed.err;
  CommandResult resumed = ws.Tidemark(args);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;

  const std::set<std::string> live = LiveDeltaFiles(table);
  const auto adds = ActionCounts(table, "add");
  const auto now = HashTree(table);
  for (const std::string& file : files) {
    const bool restored = file.rfind("event_date=2024-01-01/", 0) == 0;
    const bool removed = file.rfind("event_date=2024-01-02/", 0) == 0;
    EXPECT_EQ(live.count(file) > 0, !removed) << file;
    EXPECT_EQ(adds.at(file), restored ? 2 : 1) << file << " added " << adds.at(file) << " times";
    if (!removed) {
      ASSERT_TRUE(now.count(file)) << file;
      EXPECT_EQ(now.at(file), originals.at(file)) << file;
    }
  }
  for (const auto& [path, sha] : now) {
    EXPECT_EQ(path.find("event_date=2024-01-01/removed.json"), std::string::npos)
        << "the removal record is gone: " << path;
    EXPECT_EQ(path.find(".tidemark-tmp"), std::string::npos) << "temporary left: " << path;
  }
  auto store = store::NewLocalStore(table);
  EXPECT_TRUE(delta::ReadSnapshot(*store, "")) << "the log replays";
}

std::string RestoreName(const ::testing::TestParamInfo<RestoreScenario>& info) {
  std::string name = info.param.from + "_" + info.param.failpoint;
  for (char& c : name) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(
    EveryPoint, DeltaRestoreCrash,
    ::testing::Values(RestoreScenario{"step.before:1", "bin"},
                      RestoreScenario{"delta.restored:1", "bin"},
                      RestoreScenario{"step.executed:1", "bin"},
                      RestoreScenario{"step.before:1", "archive"},
                      RestoreScenario{"restore.mid_file:1", "archive"},
                      RestoreScenario{"restore.mid_file:3", "archive"},
                      RestoreScenario{"delta.restored:1", "archive"},
                      RestoreScenario{"step.executed:1", "archive"}),
    RestoreName);

TEST(DeltaCrashPlan, HasTheStepsTheScenariosCount) {
  Workspace ws;
  ws.Configure(DeltaDatasetYaml(7));
  MakeDeltaTable(ws.lake() + "/events", DeltaTableSpec{});
  CommandResult plan = ws.Tidemark({"plan", "--now", kNow});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.out.find("7 steps"), std::string::npos) << plan.out;
}

}  // namespace
}  // namespace tidemark::testing
