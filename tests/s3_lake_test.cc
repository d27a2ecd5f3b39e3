// Hive lakes and archives on S3, end to end with the real binary against the test S3
// server, without faults (s3_fault_test.cc has those): expiry moves partitions into the
// recycle bin by copy and delete, archives them with verified manifests, and restores
// bring back the exact bytes, from the bin or from the archive.

#include <filesystem>
#include <map>

#include "tests/support/s3_env.h"
#include "tests/support/tidemark_env.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tidemark/archive/tree_copy.h"
#include "tidemark/util/sha256.h"

namespace tidemark::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kNow[] = "2024-02-02T00:00:00Z";

// Files by path below the dataset ("dt=2024-01-01/part-0.csv") → sha256.
using Files = std::map<std::string, std::string>;

class S3LakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(prefix_.ok());
    lake_ = prefix_.Open(prefix_.Settings("lake/events"));
    archive_ = prefix_.Open(prefix_.Settings("archive"));
    ASSERT_TRUE(lake_ && archive_);
    ws_.MakeDailyPartitions("events", "2024-01-01", 5, 3);
    sources_ = HashTree(ws_.lake() + "/events");
  }

  // The dataset on S3 (and no longer on disk), archived to S3.
  void UseS3Lake(int recycle_days) {
    for (const auto& [path, sha] : sources_) {
      ASSERT_TRUE(Put(path, ReadFile(ws_.lake() + "/events/" + path)));
    }
    fs::remove_all(ws_.lake());
    WriteFile(ws_.config(), HiveArchiveConfig(S3ConnectionYaml("lake", prefix_.url() + "/lake"),
                                              S3ConnectionYaml("cold", prefix_.url() + "/archive"),
                                              recycle_days));
  }

  bool Put(const std::string& key, const std::string& data) {
    auto writer = lake_->OpenWrite(key);
    return writer && (*writer)->Write(data.data(), data.size()) &&
           (*writer)->Commit(1706500000000000000);
  }

  static std::string Get(store::ObjectStore& store, const std::string& key) {
    std::string text;
    EXPECT_TRUE(
        archive::ReadText({&store, ""}, key).map([&](std::string t) { text = std::move(t); }));
    return text;
  }

  // What the S3 lake holds: key → sha256.
  Files LakeNow() {
    Files files;
    auto objects = lake_->List("");
    EXPECT_TRUE(objects) << objects.error().message();
    for (const store::ObjectInfo& object : objects.value_or(std::vector<store::ObjectInfo>{})) {
      files[object.key] = util::Sha256Hex(Get(*lake_, object.key));
    }
    return files;
  }

  Files Partition(const Files& files, const std::string& partition) {
    Files out;
    for (const auto& [path, sha] : files) {
      if (path.starts_with(partition + "/")) out[path] = sha;
    }
    return out;
  }

  // The archive of `partition` as its manifest lists it, every file read back and hashed
  // here: path below the dataset → sha256, only for files whose bytes match.
  Files Archived(const std::string& partition) {
    Files files;
    const std::string at = "events/main/main/" + partition;
    auto manifest = archive::ReadManifest({archive_.get(), at});
    EXPECT_TRUE(manifest) << manifest.error().message();
    for (const archive::ManifestFile& file : manifest.value_or(archive::Manifest{}).files) {
      const std::string sha = util::Sha256Hex(Get(*archive_, at + "/" + file.path));
      if (sha == file.sha256) files[partition + "/" + file.path] = sha;
    }
    return files;
  }

  CommandResult Tidemark(const std::vector<std::string>& args) const {
    return ws_.Tidemark(args, {{"TIDEMARK_S3_RETRY_BASE_MS", "1"}});
  }

  std::string RunFile() const {
    for (const auto& entry : fs::directory_iterator(ws_.runs())) return entry.path().string();
    return "";
  }

  S3TestPrefix prefix_;
  std::unique_ptr<store::ObjectStore> lake_, archive_;
  Workspace ws_;
  Files sources_;
};

TEST_F(S3LakeTest, ApplyArchivesAnS3LakeToS3VerifiedAndPurgesTheBin) {
  UseS3Lake(0);
  CommandResult apply = Tidemark({"apply", "--now", kNow});
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  Files live = sources_;
  for (const char* expired : {"dt=2024-01-01", "dt=2024-01-02"}) {
    EXPECT_EQ(Archived(expired), Partition(sources_, expired)) << expired;
    for (const auto& [path, sha] : Partition(sources_, expired)) live.erase(path);
  }
  EXPECT_EQ(LakeNow(), live) << "the live partitions untouched, the bin purged";
  CommandResult verify = Tidemark({"verify", RunFile()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_THAT(verify.out, HasSubstr("9 of 9 steps hold"));
  CommandResult status = Tidemark({"status", "--now", kNow, "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  auto json = nlohmann::json::parse(status.out);
  EXPECT_EQ(json[0]["counts"]["live"], 3);
  EXPECT_EQ(json[0]["archived"].size(), 2u);
}

// A crash in the middle of moving a partition into the bin (copies checked, originals
// kept; or originals deleted, mark kept): apply again finishes the move and the archive,
// and every file is once in the lake, or archived with its bytes.
TEST_F(S3LakeTest, AMoveIntoTheBinInterruptedByACrashIsFinishedByTheNextApply) {
  UseS3Lake(0);
  for (const char* failpoint : {"move.copied:1", "move.deleted:2"}) {
    SCOPED_TRACE(failpoint);
    CommandResult crashed =
        ws_.Tidemark({"apply", "--now", kNow, "--force-run"},
                     {{"TIDEMARK_S3_RETRY_BASE_MS", "1"}, {"TIDEMARK_FAILPOINT", failpoint}});
    ASSERT_EQ(crashed.exit_code, 86) << crashed.out << crashed.err;
    // Nothing is lost at the crash: each file is in place or in the bin, same bytes.
    const Files now = LakeNow();
    for (const auto& [path, sha] : sources_) {
      bool found = now.count(path) > 0 && now.at(path) == sha;
      for (const auto& [key, held] : now) {
        if (key.starts_with("_tidemark/recycle/") && key.ends_with("/" + path) && held == sha)
          found = true;
      }
      EXPECT_TRUE(found) << path << " is neither in place nor in the bin";
    }
  }
  CommandResult resumed = Tidemark({"apply", "--now", kNow});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  Files live = sources_;
  for (const char* expired : {"dt=2024-01-01", "dt=2024-01-02"}) {
    EXPECT_EQ(Archived(expired), Partition(sources_, expired)) << expired;
    for (const auto& [path, sha] : Partition(sources_, expired)) live.erase(path);
  }
  EXPECT_EQ(LakeNow(), live) << "moves finished, the bin purged, no mark left";
}

// A local lake archived to S3 streams each file in one PUT. A crash in the middle of
// one (the process exits inside the upload's read callback), at the first file and at
// a later one: apply again archives every expired file once with its bytes, and until
// then every file is in the lake or its bin, never only half uploaded.
TEST_F(S3LakeTest, AStreamedArchiveCopyInterruptedByACrashIsDoneAgainByTheNextApply) {
  WriteFile(ws_.config(),
            HiveArchiveConfig("  lake: { url: \"file:" + ws_.lake() + "\" }\n",
                              S3ConnectionYaml("cold", prefix_.url() + "/archive"), 0));
  for (const char* failpoint : {"copy.mid_file:1", "copy.mid_file:4"}) {
    SCOPED_TRACE(failpoint);
    CommandResult crashed =
        ws_.Tidemark({"apply", "--now", kNow, "--force-run"},
                     {{"TIDEMARK_S3_RETRY_BASE_MS", "1"}, {"TIDEMARK_FAILPOINT", failpoint}});
    ASSERT_EQ(crashed.exit_code, 86) << crashed.out << crashed.err;
    const Files now = HashTree(ws_.lake() + "/events");
    for (const auto& [path, sha] : sources_) {
      bool found = now.count(path) > 0 && now.at(path) == sha;
      for (const auto& [key, held] : now) {
        if (key.starts_with("_tidemark/recycle/") && key.ends_with("/" + path) && held == sha)
          found = true;
      }
      EXPECT_TRUE(found) << path << " is neither in place nor in the bin";
    }
  }
  CommandResult resumed = Tidemark({"apply", "--now", kNow});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  Files live = sources_;
  for (const char* expired : {"dt=2024-01-01", "dt=2024-01-02"}) {
    EXPECT_EQ(Archived(expired), Partition(sources_, expired)) << expired;
    for (const auto& [path, sha] : Partition(sources_, expired)) live.erase(path);
  }
  EXPECT_EQ(HashTree(ws_.lake() + "/events"), live) << "the live partitions, the bin purged";
}

TEST_F(S3LakeTest, APurgedPartitionComesBackFromTheArchiveWithItsBytes) {
  UseS3Lake(0);
  ASSERT_EQ(Tidemark({"apply", "--now", kNow}).exit_code, 0);
  CommandResult restore =
      Tidemark({"restore", "--dataset", "events", "--partition", "dt=2024-01-01"});
  ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
  const Files now = LakeNow();
  EXPECT_EQ(Partition(now, "dt=2024-01-01"), Partition(sources_, "dt=2024-01-01"));
  EXPECT_THAT(Partition(now, "_tidemark"), IsEmpty()) << "no staging left behind";
  CommandResult again = Tidemark({"apply", "--now", kNow, "--force-run"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("held after a restore"));
}

TEST_F(S3LakeTest, ThePartitionsOfAnS3LakeWaitInItsBinAndComeBackFromIt) {
  UseS3Lake(7);
  ASSERT_EQ(Tidemark({"apply", "--now", kNow}).exit_code, 0);
  const std::string bin = "_tidemark/recycle/20240202T000000Z/";
  Files expected;
  for (const auto& [path, sha] : sources_) {
    expected[path.starts_with("dt=2024-01-01") || path.starts_with("dt=2024-01-02") ? bin + path
                                                                                    : path] = sha;
  }
  EXPECT_EQ(LakeNow(), expected) << "moved into the bin by copy, check and delete";
  CommandResult restore =
      Tidemark({"restore", "--dataset", "events", "--partition", "dt=2024-01-02"});
  ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
  const Files now = LakeNow();
  EXPECT_EQ(Partition(now, "dt=2024-01-02"), Partition(sources_, "dt=2024-01-02"));
  EXPECT_THAT(Partition(now, bin + "dt=2024-01-02"), IsEmpty());
  EXPECT_EQ(Archived("dt=2024-01-02"), Partition(sources_, "dt=2024-01-02")) << "the archive stays";
}

TEST_F(S3LakeTest, ALocalLakeArchivesToS3AndRestoresFromItElsewhere) {
  WriteFile(ws_.config(),
            HiveArchiveConfig("  lake: { url: \"file:lake\" }\n",
                              S3ConnectionYaml("cold", prefix_.url() + "/archive"), 0));
  ASSERT_EQ(Tidemark({"apply", "--now", kNow}).exit_code, 0);
  EXPECT_EQ(Archived("dt=2024-01-01"), Partition(sources_, "dt=2024-01-01"));
  EXPECT_FALSE(Exists(ws_.lake() + "/events/dt=2024-01-01"));
  const std::string elsewhere = ws_.dir() + "/restored";
  CommandResult restore = Tidemark({"restore", "--dataset", "events", "--partition",
                                    "dt=2024-01-01", "--from", "archive", "--to", elsewhere});
  ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
  EXPECT_EQ(HashTree(elsewhere), Partition(sources_, "dt=2024-01-01"));
}

TEST_F(S3LakeTest, ValidateReachesAnS3LakeThroughItsConnection) {
  UseS3Lake(7);
  CommandResult validate = Tidemark({"validate"});
  EXPECT_EQ(validate.exit_code, 0) << validate.out << validate.err;
  EXPECT_THAT(validate.out, HasSubstr("every connection answers"));
}

// A Delta table written by Spark, on S3: read through its log and planned. Commits
// need put-if-absent; s3rver ignores If-None-Match, so the expiry is refused with
// nothing changed rather than risking a commit over another writer's.
TEST_F(S3LakeTest, ADeltaTableOnS3IsPlannedAndNotCommittedWithoutConditionalWrites) {
  const std::string golden =
      std::string(TIDEMARK_TESTDATA_DIR) + "/delta-golden/kernel-timestamp-partition-col-ISO8601";
  auto table = prefix_.Open(prefix_.Settings("lake/ts"));
  ASSERT_TRUE(table);
  size_t uploaded = 0;
  for (const auto& entry : fs::recursive_directory_iterator(golden)) {
    if (!entry.is_regular_file()) continue;
    const std::string key = fs::relative(entry.path(), golden).string();
    const std::string data = ReadFile(entry.path().string());
    auto writer = table->OpenWrite(key);
    ASSERT_TRUE(writer && (*writer)->Write(data.data(), data.size()) && (*writer)->Commit(0));
    ++uploaded;
  }
  ASSERT_GT(uploaded, 3u);
  std::string config = HiveArchiveConfig(S3ConnectionYaml("lake", prefix_.url() + "/lake"),
                                         S3ConnectionYaml("cold", prefix_.url() + "/archive"), 7);
  config = config.substr(0, config.find("datasets:")) +
           "datasets:\n"
           "  ts:\n"
           "    storage: { connection: lake, path: ts, layout: delta }\n"
           "    partition_by: ts\n"
           "    interval: 1 hour\n"
           "    retention: 30 days\n"
           "    on_expire: archive\n"
           "    archive_to: cold\n";
  WriteFile(ws_.config(), config);
  CommandResult plan = ws_.Tidemark({"plan", "--now", "2024-03-01"});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_THAT(plan.out, HasSubstr("hide 2 partitions"));
  auto log_before = table->List("_delta_log");
  ASSERT_TRUE(log_before);
  CommandResult apply = ws_.Tidemark({"apply", "--now", "2024-03-01"});
  EXPECT_NE(apply.exit_code, 0);
  EXPECT_THAT(apply.out + apply.err, HasSubstr("If-None-Match"));
  auto log_after = table->List("_delta_log");
  ASSERT_TRUE(log_after);
  EXPECT_EQ(log_after->size(), log_before->size()) << "no commit was written";
  auto bin = table->List("_tidemark");
  ASSERT_TRUE(bin);
  EXPECT_THAT(*bin, IsEmpty()) << "no removal record is left behind";
}

}  // namespace
}  // namespace tidemark::testing
