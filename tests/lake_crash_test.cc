// Crash tests for the lake archive flow: the process exits at a failpoint (every step
// boundary, and in the middle of a file copy), then apply runs again. Afterwards every
// original file exists exactly once: in the source, or in the archive together with
// the recycle bin, with identical sha256; and at the moment of the crash nothing
// half-written is visible.

#include <filesystem>

#include "tests/support/tidemark_env.h"
#include <gtest/gtest.h>

namespace tidemark::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kNow[] = "2024-02-02T00:00:00Z";
constexpr int kFailpointExit = 86;
constexpr int kExpired = 2;  // dt=2024-01-01 and dt=2024-01-02 are past 30 days
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

std::string DatasetYaml(int recycle_days) {
  return "  events:\n"
         "    storage: { connection: lake, path: events, layout: hive }\n"
         "    partition_by: dt\n"
         "    interval: 1 day\n"
         "    retention: 30 days\n"
         "    on_expire: archive\n"
         "    archive_to: cold\n"
         "    recycle_days: " +
         std::to_string(recycle_days) + "\n";
}

class LakeCrash : public ::testing::TestWithParam<Scenario> {
 protected:
  void SetUp() override {
    ws_.Configure(DatasetYaml(GetParam().recycle_days));
    ws_.MakeDailyPartitions("events", "2024-01-01", 5, kFilesPerPartition);
    originals_ = HashTree(ws_.lake() + "/events");
  }

  std::string Source() const { return ws_.lake() + "/events"; }
  std::string ArchiveOf(const std::string& partition) const {
    return ws_.archive() + "/events/main/main/" + partition;
  }

  // Every visible partition directory and every visible archive file is complete.
  void ExpectNothingHalfWrittenVisible() const {
    for (const auto& [path, sha] : HashTree(Source())) {
      if (path[0] == '_') continue;  // readers skip _tidemark/
      ASSERT_TRUE(originals_.count(path)) << "unexpected visible file " << path;
      EXPECT_EQ(sha, originals_.at(path)) << path;
    }
    std::map<std::string, int> visible_per_partition;
    for (const auto& [path, sha] : HashTree(Source())) {
      if (path[0] != '_') visible_per_partition[path.substr(0, path.find('/'))]++;
    }
    for (const auto& [partition, files] : visible_per_partition) {
      EXPECT_EQ(files, kFilesPerPartition) << partition << " is partly visible";
    }
    for (const auto& [path, sha] : HashTree(ws_.archive() + "/events/main/main")) {
      std::string name = fs::path(path).filename().string();
      if (name[0] == '.' || name == "manifest.json") continue;
      ASSERT_TRUE(originals_.count(path)) << "unexpected archive file " << path;
      EXPECT_EQ(sha, originals_.at(path)) << "half-written archive file " << path;
    }
  }

  // Each original file is in the source, or in the archive and (unless purged) the bin.
  void ExpectEveryFileExactlyOnce() const {
    auto source = HashTree(Source());
    auto archive = HashTree(ws_.archive() + "/events/main/main");
    std::map<std::string, std::string> bin;
    for (const auto& [path, sha] : source) {
      if (path.rfind("_tidemark/recycle/", 0) != 0) continue;
      std::string rest = path.substr(std::string("_tidemark/recycle/").size());
      ASSERT_FALSE(bin.count(rest.substr(rest.find('/') + 1))) << "twice in the bin: " << path;
      bin[rest.substr(rest.find('/') + 1)] = sha;
    }
    int archived = 0;
    for (const auto& [path, sha] : originals_) {
      const bool in_source = source.count(path) > 0;
      const bool in_archive = archive.count(path) > 0;
      EXPECT_NE(in_source, in_archive) << path << " must be in exactly one of source and archive";
      if (in_source) {
        EXPECT_EQ(source.at(path), sha) << path;
      }
      if (in_archive) {
        ++archived;
        EXPECT_EQ(archive.at(path), sha) << path;
        if (GetParam().recycle_days > 0) {
          ASSERT_TRUE(bin.count(path)) << path << " archived but not in the recycle bin";
          EXPECT_EQ(bin.at(path), sha) << path;
        }
      }
    }
    EXPECT_EQ(archived, kExpired * kFilesPerPartition);
    if (GetParam().recycle_days == 0) {
      EXPECT_TRUE(bin.empty()) << "recycle_days 0 must purge";
    }
    for (const auto& [path, sha] : archive) {
      std::string name = fs::path(path).filename().string();
      EXPECT_FALSE(name[0] == '.') << "temporary left behind: " << path;
      if (name != "manifest.json") {
        EXPECT_TRUE(originals_.count(path)) << "extra archive file " << path;
      }
    }
    for (const auto& [path, sha] : source) {
      EXPECT_EQ(path.find(".tidemark-tmp"), std::string::npos) << "temporary left behind: " << path;
    }
  }

  Workspace ws_;
  std::map<std::string, std::string> originals_;
};

TEST_P(LakeCrash, ApplyAfterTheCrashFinishesWithEveryFileExactlyOnce) {
  CommandResult crashed =
      ws_.Tidemark({"apply", "--now", kNow}, {{"TIDEMARK_FAILPOINT", GetParam().failpoint}});
  ASSERT_EQ(crashed.exit_code, kFailpointExit) << crashed.out << crashed.err;
  ExpectNothingHalfWrittenVisible();

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
    for (int n = 1; n <= kExpired * kFilesPerPartition; ++n) {
      scenarios.push_back({"copy.mid_file:" + std::to_string(n), recycle_days});
    }
  }
  return scenarios;
}

INSTANTIATE_TEST_SUITE_P(EveryBoundary, LakeCrash, ::testing::ValuesIn(Scenarios()), Name);

TEST(LakeCrashPlan, HasTheStepsTheScenariosCount) {
  Workspace ws;
  ws.Configure(DatasetYaml(7));
  ws.MakeDailyPartitions("events", "2024-01-01", 5, kFilesPerPartition);
  CommandResult plan = ws.Tidemark({"plan", "--now", kNow});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.out.find("7 steps"), std::string::npos) << plan.out;
}

}  // namespace
}  // namespace tidemark::testing
