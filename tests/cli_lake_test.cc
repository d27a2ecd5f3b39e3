// The command line end to end on a local Hive lake: plan, apply, status, restore,
// verify, run-file reuse, locks and parallel datasets, run against the real binary.

#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/support/tidemark_env.h"
#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

namespace tidemark::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kNow[] = "2024-02-02T00:00:00Z";

std::string Events(const std::string& name = "events", const std::string& archive_to = "cold",
                   int recycle_days = 7) {
  return "  " + name +
         ":\n"
         "    storage: { connection: lake, path: " +
         name +
         ", layout: hive }\n"
         "    partition_by: dt\n"
         "    interval: 1 day\n"
         "    retention: 30 days\n"
         "    on_expire: archive\n"
         "    archive_to: " +
         archive_to +
         "\n"
         "    recycle_days: " +
         std::to_string(recycle_days) + "\n";
}

std::vector<std::string> RunFiles(const Workspace& ws) {
  std::vector<std::string> names;
  if (!fs::exists(ws.runs())) return names;
  for (const auto& entry : fs::directory_iterator(ws.runs()))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

class CliLake : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_.Configure(Events());
    ws_.MakeDailyPartitions("events", "2024-01-01", 5, 2);
  }
  Workspace ws_;
};

TEST_F(CliLake, PlanWritesOneRunFileNamedAsSeed003AndChangesNothing) {
  auto before = HashTree(ws_.lake());
  CommandResult plan = ws_.Tidemark({"plan", "--now", kNow});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  auto names = RunFiles(ws_);
  ASSERT_EQ(names.size(), 1u);
  EXPECT_TRUE(names[0].rfind("lake_archival_events_", 0) == 0) << names[0];
  EXPECT_TRUE(names[0].size() ==
              std::string("lake_archival_events_2026112110_run_file.json").size())
      << names[0];
  EXPECT_EQ(HashTree(ws_.lake()), before) << "plan is a dry run";
  EXPECT_NE(plan.out.find("hide 2 partitions (dt=2024-01-01 … dt=2024-01-02"), std::string::npos)
      << plan.out;
  EXPECT_NE(plan.out.find("archive 2 partitions"), std::string::npos) << plan.out;
}

TEST_F(CliLake, RunFileIsVersionedReviewableJsonWithoutSecrets) {
  ws_.Configure(Events() + "");
  std::string config = ReadFile(ws_.config());
  config.replace(config.find("  cold: { url: \"file:archive\" }"),
                 std::string("  cold: { url: \"file:archive\" }").size(),
                 "  cold: { url: \"file:archive\", password_env: TIDEMARK_TEST_SECRET }");
  WriteFile(ws_.config(), config);
  CommandResult plan =
      ws_.Tidemark({"plan", "--now", kNow}, {{"TIDEMARK_TEST_SECRET", "hunter2-very-secret"}});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  std::string text = ReadFile(ws_.runs() + "/" + RunFiles(ws_)[0]);
  EXPECT_EQ(text.find("hunter2-very-secret"), std::string::npos);
  auto run = nlohmann::json::parse(text);
  EXPECT_EQ(run["format"], "tidemark-run/1");
  EXPECT_EQ(run["dataset"], "events");
  EXPECT_EQ(run["now"], "2024-02-02T00:00:00Z");
  EXPECT_EQ(run["config_sha256"].get<std::string>().size(), 64u);
  ASSERT_EQ(run["steps"].size(), 7u);
  EXPECT_EQ(run["steps"][0]["action"], "check_archive");
  EXPECT_EQ(run["steps"][1]["action"], "hide_partition");
  EXPECT_EQ(run["steps"][1]["seq"], 2);
  EXPECT_EQ(run["steps"][1]["id"], "main/main/dt=2024-01-01/hide_partition");
  EXPECT_NE(run["steps"][1]["command"].get<std::string>().find("mv "), std::string::npos);
  EXPECT_FALSE(run["steps"][1]["about"].get<std::string>().empty());
}

TEST_F(CliLake, ApplyArchivesExpiredPartitionsAndStatusShowsThem) {
  CommandResult apply = ws_.Tidemark({"apply", "--now", kNow});
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  EXPECT_FALSE(Exists(ws_.lake() + "/events/dt=2024-01-01"));
  EXPECT_TRUE(Exists(ws_.lake() + "/events/dt=2024-01-03"));
  EXPECT_TRUE(Exists(ws_.archive() + "/events/main/main/dt=2024-01-01/manifest.json"));
  auto manifest = nlohmann::json::parse(
      ReadFile(ws_.archive() + "/events/main/main/dt=2024-01-01/manifest.json"));
  EXPECT_EQ(manifest["files"].size(), 2u);
  EXPECT_EQ(manifest["files"][0]["sha256"].get<std::string>().size(), 64u);
  struct stat original, archived;
  ASSERT_EQ(stat((ws_.archive() + "/events/main/main/dt=2024-01-01/part-0.csv").c_str(), &archived),
            0);
  ASSERT_EQ(stat((ws_.lake() + "/events/dt=2024-01-03/part-0.csv").c_str(), &original), 0);

  CommandResult status = ws_.Tidemark({"status", "--now", kNow, "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  auto j = nlohmann::json::parse(status.out);
  EXPECT_EQ(j[0]["counts"]["live"], 3);
  EXPECT_EQ(j[0]["counts"]["recycled"], 2);
  EXPECT_EQ(j[0]["archived"].size(), 2u);
  CommandResult line = ws_.Tidemark({"status", "--now", kNow});
  EXPECT_NE(line.out.find("live 3"), std::string::npos) << line.out;
  EXPECT_NE(line.out.find("recycled 2"), std::string::npos) << line.out;
}

TEST_F(CliLake, ApplyWritesMetricsForTheTextfileCollector) {
  WriteFile(ws_.config(), "metrics_dir: metrics\n" + ReadFile(ws_.config()));
  CommandResult apply = ws_.Tidemark({"apply", "--now", kNow});
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  const std::string path = ws_.dir() + "/metrics/tidemark_events.prom";
  ASSERT_TRUE(Exists(path));
  const std::string text = ReadFile(path);
  EXPECT_NE(text.find("tidemark_last_run_success{dataset=\"events\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("tidemark_steps{dataset=\"events\",action=\"hide_partition\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find("tidemark_partitions{dataset=\"events\",lifecycle=\"main\",storage=\"main\"} "),
      std::string::npos)
      << text;
}

TEST_F(CliLake, ArchiveKeepsModificationTimesToTheNanosecond) {
  const std::string file = ws_.lake() + "/events/dt=2024-01-01/part-1.csv";
  struct timespec times[2] = {{1700000000, 123456789}, {1700000000, 123456789}};
  ASSERT_EQ(utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
  ASSERT_EQ(ws_.Tidemark({"apply", "--now", kNow}).exit_code, 0);
  struct stat st;
  ASSERT_EQ(stat((ws_.archive() + "/events/main/main/dt=2024-01-01/part-1.csv").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1700000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 123456789);
}

TEST_F(CliLake, ApplyReusesTheRunFileOfTheHourUnlessForced) {
  ASSERT_EQ(ws_.Tidemark({"plan", "--now", kNow}).exit_code, 0);
  CommandResult apply = ws_.Tidemark({"apply", "--now", kNow});
  ASSERT_EQ(apply.exit_code, 0) << apply.err;
  EXPECT_NE(apply.out.find("reusing"), std::string::npos) << apply.out;
  EXPECT_EQ(RunFiles(ws_).size(), 1u);
  CommandResult reused = ws_.Tidemark({"apply", "--now", kNow});
  EXPECT_NE(reused.out.find("0 steps run, 7 done before"), std::string::npos) << reused.out;
  CommandResult forced = ws_.Tidemark({"apply", "--now", kNow, "--force-run"});
  EXPECT_EQ(forced.exit_code, 0);
  EXPECT_NE(forced.out.find("nothing to do"), std::string::npos) << forced.out;
  CommandResult other_time = ws_.Tidemark({"plan", "--now", "2024-02-05T00:00:00Z"});
  ASSERT_EQ(other_time.exit_code, 0);
  EXPECT_EQ(RunFiles(ws_).size(), 2u)
      << "a plan for another time writes a second file in the same hour";
  EXPECT_NE(RunFiles(ws_)[0].find("-2_run_file.json"), std::string::npos) << RunFiles(ws_)[0];
}

TEST_F(CliLake, ApplyOfAGivenRunFileExecutesIt) {
  ASSERT_EQ(ws_.Tidemark({"plan", "--now", kNow}).exit_code, 0);
  CommandResult apply = ws_.Tidemark({"apply", ws_.runs() + "/" + RunFiles(ws_)[0]});
  ASSERT_EQ(apply.exit_code, 0) << apply.err;
  EXPECT_FALSE(Exists(ws_.lake() + "/events/dt=2024-01-02"));
}

TEST_F(CliLake, VerifySaysWhetherEachStepHoldsNow) {
  ASSERT_EQ(ws_.Tidemark({"apply", "--now", kNow}).exit_code, 0);
  const std::string run = ws_.runs() + "/" + RunFiles(ws_)[0];
  CommandResult holds = ws_.Tidemark({"verify", run});
  EXPECT_EQ(holds.exit_code, 0) << holds.out;
  EXPECT_NE(holds.out.find("7 of 7 steps hold"), std::string::npos) << holds.out;
  // Damage one archived file: its verify step no longer holds.
  WriteFile(ws_.archive() + "/events/main/main/dt=2024-01-02/part-0.csv", "damaged");
  CommandResult broken = ws_.Tidemark({"verify", run});
  EXPECT_EQ(broken.exit_code, 5) << broken.out;
  EXPECT_NE(broken.out.find("NO     main/main/dt=2024-01-02/verify_archive"), std::string::npos)
      << broken.out;
}

TEST_F(CliLake, RestoreFromTheBinPutsThePartitionBackAndHoldsIt) {
  auto originals = HashTree(ws_.lake() + "/events/dt=2024-01-01");
  ASSERT_EQ(ws_.Tidemark({"apply", "--now", kNow}).exit_code, 0);
  CommandResult restore =
      ws_.Tidemark({"restore", "--dataset", "events", "--partition", "dt=2024-01-01"});
  ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
  EXPECT_EQ(HashTree(ws_.lake() + "/events/dt=2024-01-01"), originals);
  CommandResult again = ws_.Tidemark({"apply", "--now", kNow, "--force-run"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("held after a restore"), std::string::npos) << again.out;
  EXPECT_TRUE(Exists(ws_.lake() + "/events/dt=2024-01-01/part-0.csv"));
}

TEST_F(CliLake, RestoreFromTheArchiveToAnotherLocationChecksEveryFile) {
  auto originals = HashTree(ws_.lake() + "/events/dt=2024-01-02");
  ASSERT_EQ(ws_.Tidemark({"apply", "--now", kNow}).exit_code, 0);
  const std::string elsewhere = ws_.dir() + "/restored";
  CommandResult restore = ws_.Tidemark({"restore", "--dataset", "events", "--partition",
                                        "dt=2024-01-02", "--from", "archive", "--to", elsewhere});
  ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
  EXPECT_EQ(HashTree(elsewhere + "/dt=2024-01-02"), originals);
  EXPECT_FALSE(Exists(ws_.lake() + "/events/dt=2024-01-02")) << "the source stays as it was";
  // A damaged archive is refused and nothing appears at the target.
  WriteFile(ws_.archive() + "/events/main/main/dt=2024-01-01/part-1.csv", "damaged!");
  CommandResult damaged = ws_.Tidemark({"restore", "--dataset", "events", "--partition",
                                        "dt=2024-01-01", "--from", "archive", "--to", elsewhere});
  EXPECT_EQ(damaged.exit_code, 5) << damaged.out << damaged.err;
  EXPECT_FALSE(Exists(elsewhere + "/dt=2024-01-01"));
}

TEST_F(CliLake, RestoreRefusesIncompatibleTargetsAndLivePartitions) {
  ASSERT_EQ(ws_.Tidemark({"apply", "--now", kNow}).exit_code, 0);
  CommandResult database = ws_.Tidemark({"restore", "--dataset", "events", "--partition",
                                         "dt=2024-01-01", "--to", "postgres://db/app"});
  EXPECT_EQ(database.exit_code, 2);
  EXPECT_NE(database.err.find("storage family"), std::string::npos) << database.err;
  CommandResult live =
      ws_.Tidemark({"restore", "--dataset", "events", "--partition", "dt=2024-01-04"});
  EXPECT_EQ(live.exit_code, 2);
  EXPECT_NE(live.err.find("is live"), std::string::npos) << live.err;
  CommandResult unknown =
      ws_.Tidemark({"restore", "--dataset", "events", "--partition", "dt=1999-01-01"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("dt=1999-01-01"), std::string::npos) << unknown.err;
}

TEST_F(CliLake, UnparsablePartitionsAreReportedAndLeftAlone) {
  WriteFile(ws_.lake() + "/events/dt=not-a-date/part-0.csv", "x");
  CommandResult apply = ws_.Tidemark({"apply", "--now", kNow});
  ASSERT_EQ(apply.exit_code, 0) << apply.err;
  EXPECT_NE(apply.out.find("dt=not-a-date"), std::string::npos) << apply.out;
  EXPECT_TRUE(Exists(ws_.lake() + "/events/dt=not-a-date/part-0.csv"));
}

TEST_F(CliLake, UnwritableArchiveLeavesTheSourceUntouchedAndExitsOne) {
  // A file where the archive's directory should be: no one can write below it, root included.
  WriteFile(ws_.archive(), "not a directory");
  auto before = HashTree(ws_.lake());
  CommandResult apply = ws_.Tidemark({"apply", "--now", kNow});
  EXPECT_EQ(apply.exit_code, 1) << apply.out << apply.err;
  EXPECT_NE(apply.out.find("FAILED main/main/check_archive"), std::string::npos) << apply.out;
  EXPECT_EQ(HashTree(ws_.lake()), before);
}

TEST_F(CliLake, ReadOnlyArchiveDirectoryLeavesTheSourceUntouchedAndExitsOne) {
  fs::create_directories(ws_.archive());
  chmod(ws_.archive().c_str(), 0555);
  std::vector<std::string> args{"apply", "--now", kNow};
  std::map<std::string, std::string> env;
  auto before = HashTree(ws_.lake());
  CommandResult apply;
  if (geteuid() == 0) {
    // Root writes anywhere; run tidemark as nobody, with the workspace open to it.
    for (const auto& entry : fs::recursive_directory_iterator(ws_.dir())) {
      if (entry.path() != ws_.archive())
        chmod(entry.path().c_str(), entry.is_directory() ? 0777 : 0666);
    }
    chmod(ws_.dir().c_str(), 0777);
    std::vector<std::string> full{
        "--reuid=65534", "--regid=65534", "--clear-groups", TidemarkBinary(), "-c", ws_.config()};
    full.insert(full.end(), args.begin(), args.end());
    apply = RunCommand("/usr/bin/setpriv", full, env, ws_.dir());
  } else {
    apply = ws_.Tidemark(args);
  }
  EXPECT_EQ(apply.exit_code, 1) << apply.out << apply.err;
  EXPECT_NE(apply.out.find("Permission denied"), std::string::npos) << apply.out;
  EXPECT_EQ(HashTree(ws_.lake()), before);
  EXPECT_TRUE(Exists(ws_.lake() + "/events/dt=2024-01-01/part-0.csv"));
}

TEST(CliLock, ASecondApplyOfTheSameDatasetExitsFourWithinASecond) {
  Workspace ws;
  ws.Configure(Events());
  ws.MakeDailyPartitions("events", "2024-01-01", 5, 2);
  const std::string log = ws.dir() + "/first.err";
  Background first(TidemarkBinary(), {"-c", ws.config(), "apply", "--now", kNow},
                   {{"TIDEMARK_FAILPOINT", "step.before:2:hang"}}, log);
  for (int i = 0; i < 200 && ReadFile(log).find("hanging") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_NE(ReadFile(log).find("hanging"), std::string::npos) << ReadFile(log);
  CommandResult second = ws.Tidemark({"apply", "--now", kNow});
  EXPECT_EQ(second.exit_code, 4) << second.out << second.err;
  EXPECT_LT(second.seconds, 1.0);
  EXPECT_NE(second.err.find("is locked by run"), std::string::npos) << second.err;
  // The holder dies without releasing: the next apply takes the lock over and finishes.
  first.Kill();
  CommandResult third = ws.Tidemark({"apply", "--now", kNow});
  EXPECT_EQ(third.exit_code, 0) << third.out << third.err;
  EXPECT_FALSE(Exists(ws.lake() + "/events/dt=2024-01-01"));
}

TEST(CliJobs, AFailingDatasetNeverStopsTheOthers) {
  Workspace ws;
  ws.Configure(Events("events") + Events("clicks", "broken") + Events("views"));
  std::string config = ReadFile(ws.config());
  config.replace(
      config.find("archives:\n"), 10,
      "archives:\n  broken: { connection: cold, path: \"blocked/{dataset}/{partition}/\" }\n");
  WriteFile(ws.config(), config);
  WriteFile(ws.archive() + "/blocked", "a file where a directory must be");
  for (const char* name : {"events", "clicks", "views"})
    ws.MakeDailyPartitions(name, "2024-01-01", 4, 1);
  CommandResult apply = ws.Tidemark({"apply", "--now", kNow, "--jobs", "2"});
  EXPECT_EQ(apply.exit_code, 1) << apply.out << apply.err;
  EXPECT_FALSE(Exists(ws.lake() + "/events/dt=2024-01-01"));
  EXPECT_FALSE(Exists(ws.lake() + "/views/dt=2024-01-01"));
  EXPECT_TRUE(Exists(ws.lake() + "/clicks/dt=2024-01-01/part-0.csv"));
  EXPECT_NE(apply.err.find("clicks"), std::string::npos) << apply.err;
}

TEST(CliUsage, UnknownDatasetAndBadNowAreUsageErrors) {
  Workspace ws;
  ws.Configure(Events());
  CommandResult unknown = ws.Tidemark({"plan", "--dataset", "nope"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("no dataset \"nope\""), std::string::npos) << unknown.err;
  CommandResult now = ws.Tidemark({"plan", "--now", "yesterday"});
  EXPECT_EQ(now.exit_code, 2);
  EXPECT_NE(now.err.find("--now"), std::string::npos) << now.err;
  CommandResult flag = ws.Tidemark({"apply", "--no-such-flag"});
  EXPECT_EQ(flag.exit_code, 2);
}

}  // namespace
}  // namespace tidemark::testing

namespace tidemark::testing {
namespace {

TEST(CliValidate, ALakeRootThatIsAFileCannotBeReached) {
  Workspace ws;
  ws.Configure(Events());
  WriteFile(ws.lake(), "not a directory");
  CommandResult result = ws.Tidemark({"validate"});
  EXPECT_EQ(result.exit_code, 3) << result.out << result.err;
  EXPECT_NE(result.err.find("connection lake"), std::string::npos) << result.err;
  CommandResult offline = ws.Tidemark({"validate", "--offline"});
  EXPECT_EQ(offline.exit_code, 0) << offline.err;
}

TEST(CliValidate, AGoodConfigurationSaysSo) {
  Workspace ws;
  ws.Configure(Events());
  ws.MakeDailyPartitions("events", "2024-01-01", 1, 1);
  CommandResult result = ws.Tidemark({"validate"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("ok: 1 dataset(s)"), std::string::npos) << result.out;
}

}  // namespace
}  // namespace tidemark::testing

namespace tidemark::testing {
namespace {

TEST(CliRecycleBin, IsPurgedOnceRecycleDaysHavePassedAndTheArchiveStays) {
  Workspace ws;
  ws.Configure(Events("events", "cold", 7));
  ws.MakeDailyPartitions("events", "2024-01-01", 5, 2);
  ASSERT_EQ(ws.Tidemark({"apply", "--now", "2024-02-02T00:00:00Z"}).exit_code, 0);
  ASSERT_TRUE(Exists(ws.lake() + "/events/_tidemark/recycle"));
  CommandResult early = ws.Tidemark({"apply", "--now", "2024-02-08T23:00:00Z"});
  EXPECT_EQ(early.exit_code, 0) << early.err;
  EXPECT_EQ(early.out.find("purge"), std::string::npos) << "6 days are not 7: " << early.out;
  CommandResult due = ws.Tidemark({"apply", "--now", "2024-02-09T00:00:00Z"});
  EXPECT_EQ(due.exit_code, 0) << due.err;
  EXPECT_NE(due.out.find("purge from the recycle bin 2 partitions"), std::string::npos) << due.out;
  for (const auto& [path, sha] : HashTree(ws.lake() + "/events/_tidemark/recycle")) {
    EXPECT_EQ(path.find("dt=2024-01-01"), std::string::npos)
        << "purged, still in the bin: " << path;
    EXPECT_EQ(path.find("dt=2024-01-02"), std::string::npos)
        << "purged, still in the bin: " << path;
  }
  EXPECT_FALSE(Exists(ws.lake() + "/events/_tidemark/recycle/20240202T000000Z"))
      << "empty bin folders go too";
  EXPECT_EQ(HashTree(ws.archive() + "/events/main/main/dt=2024-01-01").size(), 3u)
      << "two files and the manifest";
}

TEST(CliRecycleBin, PurgeRefusesWhenTheArchiveIsGone) {
  Workspace ws;
  ws.Configure(Events("events", "cold", 1));
  ws.MakeDailyPartitions("events", "2024-01-01", 5, 1);
  ASSERT_EQ(ws.Tidemark({"apply", "--now", "2024-02-02T00:00:00Z"}).exit_code, 0);
  std::filesystem::remove_all(ws.archive() + "/events/main/main/dt=2024-01-01");
  CommandResult purge = ws.Tidemark({"apply", "--now", "2024-02-04T00:00:00Z"});
  EXPECT_EQ(purge.exit_code, 1) << purge.out;
  EXPECT_NE(purge.out.find("refusing to purge"), std::string::npos) << purge.out;
  EXPECT_TRUE(
      Exists(ws.lake() + "/events/_tidemark/recycle/20240202T000000Z/dt=2024-01-01/part-0.csv"))
      << "the last copy is kept";
}

TEST(CliExpiry, GoesByPartitionValueNotByFileAge) {
  Workspace ws;
  ws.Configure(Events());
  ws.MakeDailyPartitions("events", "2024-01-01", 1, 1);  // old value, new file
  ws.MakeDailyPartitions("events", "2024-02-01", 1, 1);  // new value, old file
  const std::string old_file = ws.lake() + "/events/dt=2024-02-01/part-0.csv";
  struct timespec ancient[2] = {{86400, 0}, {86400, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, old_file.c_str(), ancient, 0), 0);
  ASSERT_EQ(ws.Tidemark({"apply", "--now", "2024-02-02T00:00:00Z"}).exit_code, 0);
  EXPECT_FALSE(Exists(ws.lake() + "/events/dt=2024-01-01"));
  EXPECT_TRUE(Exists(old_file));
}

}  // namespace
}  // namespace tidemark::testing
