// The command line on Delta tables: partitions expire through commits of `remove`
// actions, are archived and purged only after the table's own retention, and come
// back by commits of `add` actions, from the recycle bin or from the archive.

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/support/delta_env.h"
#include "tests/support/tidemark_env.h"

namespace tidemark::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kNow[] = "2024-02-02T00:00:00Z";

class CliDelta : public ::testing::Test {
 protected:
  void Make(int recycle_days, DeltaTableSpec spec = {}) {
    ws_.Configure(DeltaDatasetYaml(recycle_days));
    files_ = MakeDeltaTable(Table(), spec);
    originals_ = HashTree(Table());
  }
  std::string Table() const { return ws_.lake() + "/events"; }
  std::set<std::string> Partition(const std::string& day) const {
    std::set<std::string> files;
    for (const std::string& file : files_) {
      if (file.rfind("event_date=" + day + "/", 0) == 0) files.insert(file);
    }
    return files;
  }
  bool AllLive(const std::set<std::string>& files) const {
    auto live = LiveDeltaFiles(Table());
    for (const std::string& file : files) {
      if (!live.count(file)) return false;
    }
    return true;
  }
  bool NoneLive(const std::set<std::string>& files) const {
    auto live = LiveDeltaFiles(Table());
    for (const std::string& file : files) {
      if (live.count(file)) return false;
    }
    return true;
  }

  Workspace ws_;
  std::vector<std::string> files_;
  std::map<std::string, std::string> originals_;
};

TEST_F(CliDelta, ExpiryCommitsRemovesArchivesAndRestoresFromTheBin) {
  Make(7);
  CommandResult plan = ws_.Tidemark({"plan", "--now", kNow});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  const size_t in = plan.out.find(" steps in ");
  ASSERT_NE(in, std::string::npos) << plan.out;
  const std::string run_file = plan.out.substr(in + 10, plan.out.find('\n', in) - in - 10);
  EXPECT_NE(ReadFile(run_file).find("only if absent: remove every file of event_date=2024-01-01"),
            std::string::npos)
      << ReadFile(run_file);
  CommandResult apply = ws_.Tidemark({"apply", "--now", kNow});
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  EXPECT_EQ(DeltaCommits(Table()), 6 + 2) << "one commit per expired partition";
  EXPECT_TRUE(NoneLive(Partition("2024-01-01")));
  EXPECT_TRUE(AllLive(Partition("2024-01-03")));
  for (const std::string& file : Partition("2024-01-01")) {
    EXPECT_TRUE(Exists(Table() + "/" + file)) << "kept for recycle_days: " << file;
    EXPECT_EQ(HashTree(ws_.archive() + "/events/main/main/event_date=2024-01-01").at(file),
              originals_.at(file));
  }
  CommandResult status = ws_.Tidemark({"status", "--now", kNow});
  EXPECT_NE(status.out.find("live 3  recycled 2"), std::string::npos) << status.out;

  CommandResult restore =
      ws_.Tidemark({"restore", "--dataset", "events", "--partition", "event_date=2024-01-01"});
  ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
  EXPECT_TRUE(AllLive(Partition("2024-01-01")));
  EXPECT_EQ(DeltaCommits(Table()), 9);
  for (const auto& [path, sha] : HashTree(Table() + "/_tidemark")) {
    EXPECT_EQ(path, "recycle/20240202T000000Z/event_date=2024-01-02/removed.json")
        << "only the other partition's bin entry is left";
  }
  CommandResult again = ws_.Tidemark({"apply", "--now", kNow, "--force-run"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("held after a restore"), std::string::npos) << again.out;
  EXPECT_TRUE(AllLive(Partition("2024-01-01")));
}

TEST_F(CliDelta, PurgedFilesComeBackFromTheArchiveCheckedAndCommitted) {
  Make(0);
  ASSERT_EQ(ws_.Tidemark({"apply", "--now", kNow}).exit_code, 0);
  for (const std::string& file : Partition("2024-01-02"))
    EXPECT_FALSE(Exists(Table() + "/" + file)) << "purged: " << file;
  CommandResult restore =
      ws_.Tidemark({"restore", "--dataset", "events", "--partition", "event_date=2024-01-02"});
  ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
  EXPECT_TRUE(AllLive(Partition("2024-01-02")));
  auto table = HashTree(Table());
  for (const std::string& file : Partition("2024-01-02")) EXPECT_EQ(table.at(file), originals_.at(file));
  EXPECT_TRUE(HashTree(Table() + "/_tidemark").empty());

  // A damaged archive is refused; nothing is committed.
  const std::string archived = ws_.archive() + "/events/main/main/event_date=2024-01-01/" +
                               *Partition("2024-01-01").begin();
  WriteFile(archived, "damaged!");
  const int commits = DeltaCommits(Table());
  CommandResult damaged =
      ws_.Tidemark({"restore", "--dataset", "events", "--partition", "event_date=2024-01-01"});
  EXPECT_EQ(damaged.exit_code, 5) << damaged.out << damaged.err;
  EXPECT_EQ(DeltaCommits(Table()), commits);
  EXPECT_TRUE(NoneLive(Partition("2024-01-01")));
}

TEST_F(CliDelta, RemovedFilesStayForTheTablesRetentionWhateverRecycleDaysSay) {
  DeltaTableSpec spec;
  spec.configuration = {{"delta.deletedFileRetentionDuration", "interval 2 days"}};
  Make(0, spec);
  ASSERT_EQ(ws_.Tidemark({"apply", "--now", kNow}).exit_code, 0);
  for (const std::string& file : Partition("2024-01-01"))
    EXPECT_TRUE(Exists(Table() + "/" + file)) << "time travel may still read " << file;
  CommandResult early = ws_.Tidemark({"apply", "--now", "2024-02-03T23:59:59Z"});
  ASSERT_EQ(early.exit_code, 0) << early.out << early.err;
  for (const std::string& file : Partition("2024-01-01")) EXPECT_TRUE(Exists(Table() + "/" + file));
  CommandResult due = ws_.Tidemark({"apply", "--now", "2024-02-04T00:00:01Z"});
  ASSERT_EQ(due.exit_code, 0) << due.out << due.err;
  for (const std::string& file : Partition("2024-01-01"))
    EXPECT_FALSE(Exists(Table() + "/" + file)) << "purged after 2 days: " << file;
}

TEST_F(CliDelta, AppendOnlyTablesAreRefusedWithNothingChanged) {
  DeltaTableSpec spec;
  spec.configuration = {{"delta.appendOnly", "true"}};
  Make(7, spec);
  CommandResult apply = ws_.Tidemark({"apply", "--now", kNow});
  EXPECT_NE(apply.exit_code, 0);
  EXPECT_NE((apply.out + apply.err).find("appendOnly"), std::string::npos) << apply.out << apply.err;
  EXPECT_EQ(DeltaCommits(Table()), 6);
  EXPECT_TRUE(AllLive(Partition("2024-01-01")));
}

TEST_F(CliDelta, RestoreToAnotherPlaceIsRefused) {
  Make(7);
  ASSERT_EQ(ws_.Tidemark({"apply", "--now", kNow}).exit_code, 0);
  CommandResult elsewhere = ws_.Tidemark({"restore", "--dataset", "events", "--partition",
                                          "event_date=2024-01-01", "--to", ws_.dir() + "/x"});
  EXPECT_EQ(elsewhere.exit_code, 2);
  EXPECT_NE(elsewhere.err.find("restored into its own table"), std::string::npos) << elsewhere.err;
}

// Tables written by Spark (delta-golden/ of the test data), copied into a workspace.
TEST(CliDeltaGolden, SparkTablesArePlannedAndAnUnreadableProtocolIsRefused) {
  const std::string golden = std::string(TIDEMARK_TESTDATA_DIR) + "/delta-golden/";
  Workspace ws;
  fs::create_directories(ws.lake());
  CopyTree(golden + "kernel-timestamp-partition-col-ISO8601", ws.lake() + "/ts");
  CopyTree(golden + "time-travel-partition-changes-a", ws.lake() + "/parts");
  CopyTree(golden + "deltalog-invalid-protocol-version", ws.lake() + "/future");
  ws.Configure(
      "  ts:\n"
      "    storage: { connection: lake, path: ts, layout: delta }\n"
      "    partition_by: ts\n"
      "    interval: 1 hour\n"
      "    retention: 30 days\n"
      "    on_expire: archive\n"
      "    archive_to: cold\n"
      "  parts:\n"
      "    storage: { connection: lake, path: parts, layout: delta }\n"
      "    partition_by: part5\n"
      "  future:\n"
      "    storage: { connection: lake, path: future, layout: delta }\n"
      "    partition_by: dt\n");
  CommandResult status = ws.Tidemark({"status", "--now", "2024-03-01"});
  EXPECT_NE(status.out.find("ts  "), std::string::npos) << status.out << status.err;
  CommandResult plan = ws.Tidemark({"plan", "--dataset", "ts", "--now", "2024-03-01"});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_NE(plan.out.find("hide 2 partitions"), std::string::npos) << plan.out;
  // Integer partition values are not times: reported, left alone.
  CommandResult parts = ws.Tidemark({"plan", "--dataset", "parts", "--now", "2024-03-01"});
  EXPECT_EQ(parts.exit_code, 0) << parts.out << parts.err;
  CommandResult future = ws.Tidemark({"plan", "--dataset", "future", "--now", "2024-03-01"});
  EXPECT_NE(future.exit_code, 0);
  EXPECT_NE((future.out + future.err).find("reader version 99"), std::string::npos)
      << future.out << future.err;
  EXPECT_TRUE(HashTree(ws.lake() + "/future/_tidemark").empty()) << "nothing written";
}

}  // namespace
}  // namespace tidemark::testing
