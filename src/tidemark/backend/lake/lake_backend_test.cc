// The lake backend on a real temporary directory: what Observe reports, and what the
// steps the planner writes do to the files, including when they run twice or find
// something wrong.

#include "tidemark/backend/lake/lake_backend.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tidemark/archive/manifest.h"
#include "tidemark/util/sha256.h"

namespace tidemark::backend::lake {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using util::Instant;

constexpr int64_t kMtimeA = 1706500000123456789;  // 2024-01-29T03:46:40.123456789Z
constexpr int64_t kMtimeB = 1706510000987654321;

Instant At(std::string_view text) {
  auto parsed = util::ParseTimestamp(text);
  EXPECT_TRUE(parsed && parsed->offset) << text;
  return Instant(parsed->local.time_since_epoch()) - *parsed->offset;
}

// The partition that expired, and where hiding it at 2024-03-01T00:00:00Z put it.
constexpr char kPartition[] = "dt=2024-01-29";
constexpr char kBin[] = "_tidemark/recycle/20240301T000000Z/dt=2024-01-29";

// Steps in the order a run file holds them.
struct Plan {
  std::vector<core::Step> steps;
};

void WriteFile(const fs::path& path, const std::string& content, int64_t mtime_ns = kMtimeA) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
  struct timespec times[2] = {{0, UTIME_OMIT},
                              {static_cast<time_t>(mtime_ns / 1000000000), mtime_ns % 1000000000}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int64_t MtimeNs(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

// Regular files below `dir`, relative and sorted.
std::vector<std::string> Files(const fs::path& dir) {
  std::vector<std::string> files;
  if (!fs::exists(dir)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(fs::relative(entry.path(), dir).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Every file and directory below `dir` with its size, mtime and content.
std::map<std::string, std::string> Snapshot(const fs::path& dir) {
  std::map<std::string, std::string> snapshot;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string key = fs::relative(entry.path(), dir).string();
    snapshot[key] = entry.is_regular_file()
                        ? std::to_string(MtimeNs(entry.path())) + " " + ReadFile(entry.path())
                        : "dir";
  }
  return snapshot;
}

class LakeBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/tidemark-lake-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    root_ = dir;
    UseConfig(7);
  }
  void TearDown() override { fs::remove_all(root_); }

  void UseConfig(int recycle_days) {
    backend_.reset();
    const std::string text =
        "timezone: UTC\n"
        "connections:\n"
        "  lake: { url: \"file://" +
        root_.string() +
        "/lake\" }\n"
        "  cold: { url: \"file://" +
        root_.string() +
        "/cold\" }\n"
        "archives:\n"
        "  cold: { connection: cold }\n"
        "datasets:\n"
        "  events:\n"
        "    storage: { connection: lake, path: events, layout: hive }\n"
        "    partition_by: dt\n"
        "    interval: 1 day\n"
        "    retention: 30 days\n"
        "    on_expire: archive\n"
        "    archive_to: cold\n"
        "    recycle_days: " +
        std::to_string(recycle_days) + "\n";
    auto config = config::ParseConfig(text, "/tmp/x/tidemark.yaml");
    ASSERT_TRUE(config) << config.error().message();
    config_ = *config;
    recycle_days_ = recycle_days;
    auto backend = OpenBackend(config_, *config_.FindConnection("lake"));
    ASSERT_TRUE(backend) << backend.error().message();
    backend_ = std::move(*backend);
  }

  fs::path Events() const { return root_ / "lake" / "events"; }
  fs::path Archive() const { return root_ / "cold" / "events" / "main" / "main" / "dt=2024-01-29"; }
  const config::Dataset& Dataset() const { return config_.datasets[0]; }

  // Two files in the expired dt=2024-01-29, one in dt=2024-02-20.
  void MakeDataset() {
    WriteFile(Events() / "dt=2024-01-29" / "part-0.parquet", "aaa", kMtimeA);
    WriteFile(Events() / "dt=2024-01-29" / "part-1.parquet", "bbbbb", kMtimeB);
    WriteFile(Events() / "dt=2024-02-20" / "part-0.parquet", "cc", kMtimeA);
  }

  core::ObservedDataset Observe() {
    core::ObservedDataset observed;
    observed.dataset = "events";
    const config::Lifecycle& lifecycle = Dataset().lifecycles[0];
    auto storage = backend_->Observe(Dataset(), lifecycle, lifecycle.storages[0], zone_);
    EXPECT_TRUE(storage) << storage.error().message();
    if (storage) observed.storages.push_back(*storage);
    return observed;
  }

  std::string Location() const { return "file://" + Events().string(); }
  std::string ArchiveUrl(const std::string& partition) const {
    return "file://" + (root_ / "cold" / "events" / "main" / "main").string() + "/" + partition +
           (partition.empty() ? "" : "/");
  }

  core::Step StepFor(int seq, const char* action, const std::string& partition) const {
    core::Step step;
    step.seq = seq;
    step.lifecycle = "main";
    step.storage = "main";
    step.system = "lake";
    step.action = action;
    step.partition = partition;
    step.id = "main/main/" + (partition.empty() ? "" : partition + "/") + action;
    step.params = {{"dataset", "events"}, {"location", Location()}, {"connection", "lake"}};
    return step;
  }

  // The steps PlanDataset writes at 2024-03-01 for the expired dt=2024-01-29. backend/ may
  // not include plan/, so they are spelt out here; planner_test.cc pins the same
  // fields from the planner's side.
  Plan ArchivalPlan() const {
    core::Step check = StepFor(0, core::action::kCheckArchive, "");
    check.params["archive"] = ArchiveUrl("");
    core::Step hide = StepFor(1, core::action::kHidePartition, kPartition);
    hide.params.insert({{"bin", kBin},
                        {"bytes", "8"},
                        {"files", "2"},
                        {"range_start", "2024-01-29T00:00:00Z"},
                        {"range_end", "2024-01-30T00:00:00Z"}});
    Plan plan{{check, hide}};
    for (auto [seq, action] :
         {std::pair{2, core::action::kCopyToArchive}, std::pair{3, core::action::kVerifyArchive},
          std::pair{4, core::action::kPurgeRecycled}}) {
      if (seq == 4 && recycle_days_ != 0) break;
      core::Step step = StepFor(seq, action, kPartition);
      step.params = hide.params;
      step.params["archive"] = ArchiveUrl(kPartition);
      plan.steps.push_back(step);
    }
    return plan;
  }

  // The purge PlanDataset writes for every recycled entry once recycle_days have passed.
  Plan BinPurgePlan() {
    Plan plan;
    const core::ObservedDataset observed = Observe();
    for (const core::BinEntry& entry : observed.storages.at(0).bin) {
      core::Step purge = StepFor(4, core::action::kPurgeRecycled, entry.partition);
      purge.id = "main/main/" + entry.entry + "/purge_recycled";
      purge.params.insert({{"bin", entry.entry},
                           {"bytes", std::to_string(entry.bytes)},
                           {"files", std::to_string(entry.files)},
                           {"archive", ArchiveUrl(entry.partition)}});
      plan.steps.push_back(purge);
    }
    return plan;
  }

  // The step PlanRestore writes for dt=2024-01-29, to its place or to `target`.
  Plan RestorePlan(const char* action, const std::string& target = "") const {
    core::Step step = StepFor(0, action, kPartition);
    step.params["target"] = target.empty() ? Location() : target;
    if (action == std::string(core::action::kRestoreFromBin)) {
      step.params["bin"] = kBin;
    } else {
      step.params["archive"] = ArchiveUrl(kPartition);
    }
    return {{step}};
  }

  util::Status Execute(const core::Step& step) {
    StepContext context;
    context.run_id = "run-1";
    return backend_->Execute(step, context);
  }

  // Runs the steps in order, stopping at the first that fails or at `stop_before`.
  util::Status Run(const Plan& plan, const std::string& stop_before = "") {
    for (const core::Step& step : plan.steps) {
      if (step.action == stop_before) return {};
      auto status = Execute(step);
      if (!status) return tl::unexpected(status.error().WithContext(step.id));
    }
    return {};
  }

  const core::Step& StepOf(const Plan& plan, const std::string& action) {
    for (const core::Step& step : plan.steps) {
      if (step.action == action) return step;
    }
    ADD_FAILURE() << "no " << action << " step";
    static const core::Step none;
    return none;
  }

  fs::path root_;
  config::Config config_;
  int recycle_days_ = 7;
  util::TimeZone zone_ = util::TimeZone::Utc();
  std::unique_ptr<Backend> backend_;
};

TEST_F(LakeBackendTest, ObserveGroupsFilesIntoPartitions) {
  MakeDataset();
  WriteFile(Events() / "_SUCCESS", "");  // at the root: no partition
  const core::ObservedDataset observed = Observe();
  ASSERT_EQ(observed.storages.size(), 1u);
  const core::ObservedStorage& storage = observed.storages[0];
  EXPECT_EQ(storage.lifecycle, "main");
  EXPECT_EQ(storage.storage, "main");
  EXPECT_EQ(storage.location, "file://" + Events().string());
  EXPECT_TRUE(storage.exists);
  ASSERT_EQ(storage.partitions.size(), 2u);
  const core::Partition& first = storage.partitions[0];
  EXPECT_EQ(first.name, "dt=2024-01-29");
  EXPECT_EQ(first.bytes, 8);
  EXPECT_EQ(first.files, 2);
  EXPECT_EQ(first.state, core::PartitionState::kLive);
  EXPECT_EQ(first.range, (core::TimeRange{At("2024-01-29T00:00:00Z"), At("2024-01-30T00:00:00Z")}));
  EXPECT_EQ(first.newest_change, Instant(std::chrono::seconds(kMtimeB / 1000000000)));
  EXPECT_EQ(storage.partitions[1].name, "dt=2024-02-20");
  EXPECT_EQ(storage.partitions[1].bytes, 2);
  EXPECT_EQ(storage.partitions[1].files, 1);
  EXPECT_THAT(storage.bin, IsEmpty());
  EXPECT_THAT(storage.notes, IsEmpty());
}

TEST_F(LakeBackendTest, ObserveReportsRecycledAndDetachedEntriesWithTheirRemovalTime) {
  MakeDataset();
  WriteFile(Events() / "_tidemark/recycle/20240301T101500Z/dt=2024-01-01/a.parquet", "1234");
  WriteFile(Events() / "_tidemark/recycle/20240301T101500Z/dt=2024-01-01/b.parquet", "56");
  WriteFile(Events() / "_tidemark/detached/20240302T000000Z/dt=2024-01-02/a.parquet", "7");
  const core::ObservedStorage storage = Observe().storages.at(0);
  EXPECT_EQ(storage.partitions.size(), 2u);  // the bin holds no partitions
  ASSERT_EQ(storage.bin.size(), 2u);
  const core::BinEntry& detached = storage.bin[0];  // "_tidemark/detached" sorts first
  EXPECT_EQ(detached.partition, "dt=2024-01-02");
  EXPECT_EQ(detached.entry, "_tidemark/detached/20240302T000000Z/dt=2024-01-02");
  EXPECT_TRUE(detached.detached);
  EXPECT_EQ(detached.removed_at, At("2024-03-02T00:00:00Z"));
  const core::BinEntry& recycled = storage.bin[1];
  EXPECT_EQ(recycled.partition, "dt=2024-01-01");
  EXPECT_EQ(recycled.entry, "_tidemark/recycle/20240301T101500Z/dt=2024-01-01");
  EXPECT_FALSE(recycled.detached);
  EXPECT_EQ(recycled.removed_at, At("2024-03-01T10:15:00Z"));
  EXPECT_EQ(recycled.bytes, 6);
  EXPECT_EQ(recycled.files, 2);
  EXPECT_EQ(recycled.range,
            (core::TimeRange{At("2024-01-01T00:00:00Z"), At("2024-01-02T00:00:00Z")}));
}

TEST_F(LakeBackendTest, ObserveNotesBinEntriesWithoutAReadableStamp) {
  MakeDataset();
  WriteFile(Events() / "_tidemark/recycle/yesterday/dt=2024-01-01/a.parquet", "1");
  const core::ObservedStorage storage = Observe().storages.at(0);
  EXPECT_THAT(storage.bin, IsEmpty());
  EXPECT_THAT(storage.notes, ElementsAre("recycle bin entry _tidemark/recycle/yesterday/"
                                         "dt=2024-01-01 has no readable time; left alone"));
}

TEST_F(LakeBackendTest, ObserveMarksUnparsedPartitionsAndSaysWhy) {
  MakeDataset();
  WriteFile(Events() / "dt=latest" / "part-0.parquet", "zz");
  const core::ObservedStorage storage = Observe().storages.at(0);
  ASSERT_EQ(storage.partitions.size(), 3u);
  const core::Partition& unparsed = storage.partitions[2];
  EXPECT_EQ(unparsed.name, "dt=latest");
  EXPECT_EQ(unparsed.state, core::PartitionState::kUnparsed);
  EXPECT_FALSE(unparsed.range);
  EXPECT_EQ(unparsed.problem,
            "value \"latest\" of dt is not a date, timestamp or yyyymmdd[hh] integer");
  EXPECT_THAT(storage.notes, ElementsAre("partition dt=latest value \"latest\" of dt is not a "
                                         "date, timestamp or yyyymmdd[hh] integer; left alone"));
}

TEST_F(LakeBackendTest, ObserveIgnoresTemporaryFilesAndTheStagingArea) {
  MakeDataset();
  WriteFile(Events() / "dt=2024-01-29" / ".part-2.parquet.tidemark-tmp", "half-written");
  WriteFile(Events() / "dt=2024-01-30" / ".x.tidemark-tmp", "only a temporary");
  WriteFile(Events() / "_tidemark/staging/dt=2024-01-15/a.parquet", "staged");
  const core::ObservedStorage storage = Observe().storages.at(0);
  ASSERT_EQ(storage.partitions.size(), 2u);
  EXPECT_EQ(storage.partitions[0].name, "dt=2024-01-29");
  EXPECT_EQ(storage.partitions[0].files, 2);
  EXPECT_EQ(storage.partitions[0].bytes, 8);
  EXPECT_EQ(storage.partitions[1].name, "dt=2024-02-20");
  EXPECT_THAT(storage.bin, IsEmpty());
}

TEST_F(LakeBackendTest, ObserveOfAMissingRootSaysItDoesNotExistYet) {
  const core::ObservedStorage storage = Observe().storages.at(0);
  EXPECT_FALSE(storage.exists);
  EXPECT_THAT(storage.partitions, IsEmpty());
  EXPECT_THAT(storage.notes, ElementsAre("file://" + Events().string() + " holds no files yet"));
}

TEST_F(LakeBackendTest, ArchiveRunHidesCopiesWithMtimesAndWritesTheManifest) {
  MakeDataset();
  const Plan plan = ArchivalPlan();
  ASSERT_EQ(plan.steps.size(), 4u);  // check, hide, copy, verify
  ASSERT_TRUE(Run(plan)) << Run(plan).error().message();

  EXPECT_THAT(Files(Events()),
              ElementsAre("_tidemark/recycle/20240301T000000Z/dt=2024-01-29/part-0.parquet",
                          "_tidemark/recycle/20240301T000000Z/dt=2024-01-29/part-1.parquet",
                          "dt=2024-02-20/part-0.parquet"));
  EXPECT_FALSE(fs::exists(Events() / "dt=2024-01-29"));
  EXPECT_THAT(Files(root_ / "cold"), ElementsAre("events/main/main/dt=2024-01-29/manifest.json",
                                                 "events/main/main/dt=2024-01-29/part-0.parquet",
                                                 "events/main/main/dt=2024-01-29/part-1.parquet"));
  EXPECT_EQ(ReadFile(Archive() / "part-0.parquet"), "aaa");
  EXPECT_EQ(MtimeNs(Archive() / "part-0.parquet"), kMtimeA);
  EXPECT_EQ(MtimeNs(Archive() / "part-1.parquet"), kMtimeB);

  auto manifest = archive::ManifestFromJson(ReadFile(Archive() / "manifest.json"), "manifest");
  ASSERT_TRUE(manifest) << manifest.error().message();
  EXPECT_EQ(manifest->dataset, "events");
  EXPECT_EQ(manifest->lifecycle, "main");
  EXPECT_EQ(manifest->storage, "main");
  EXPECT_EQ(manifest->partition, "dt=2024-01-29");
  EXPECT_EQ(manifest->source, "file://" + Events().string() + "/dt=2024-01-29");
  EXPECT_EQ(manifest->range_start, "2024-01-29T00:00:00Z");
  EXPECT_EQ(manifest->range_end, "2024-01-30T00:00:00Z");
  EXPECT_EQ(manifest->run_id, "run-1");
  ASSERT_EQ(manifest->files.size(), 2u);
  EXPECT_EQ(manifest->files[0].path, "part-0.parquet");
  EXPECT_EQ(manifest->files[0].size, 3);
  EXPECT_EQ(manifest->files[0].mtime_ns, kMtimeA);
  EXPECT_EQ(manifest->files[0].sha256, util::Sha256Hex("aaa"));
  EXPECT_EQ(manifest->files[1].path, "part-1.parquet");
  EXPECT_EQ(manifest->files[1].size, 5);
  EXPECT_EQ(manifest->files[1].mtime_ns, kMtimeB);
  EXPECT_EQ(manifest->files[1].sha256, util::Sha256Hex("bbbbb"));
  for (const core::Step& step : plan.steps) {
    EXPECT_TRUE(backend_->Holds(step)) << step.id;
  }
}

TEST_F(LakeBackendTest, ExecutingEveryStepASecondTimeSucceedsAndChangesNothing) {
  MakeDataset();
  const Plan plan = ArchivalPlan();
  ASSERT_TRUE(Run(plan));
  const auto before = Snapshot(root_);
  auto again = Run(plan);
  EXPECT_TRUE(again) << again.error().message();
  EXPECT_EQ(Snapshot(root_), before);
}

TEST_F(LakeBackendTest, RecycleDaysZeroPurgesTheBinCopyAfterVerifyAndKeepsTheArchive) {
  UseConfig(0);
  MakeDataset();
  const Plan plan = ArchivalPlan();
  ASSERT_EQ(plan.steps.back().action, core::action::kPurgeRecycled);
  // Each step twice in a row, as a crash before the journal records it would have it.
  for (const core::Step& step : plan.steps) {
    auto first = Execute(step);
    ASSERT_TRUE(first) << step.id << ": " << first.error().message();
    const auto before = Snapshot(root_);
    auto second = Execute(step);
    ASSERT_TRUE(second) << step.id << " again: " << second.error().message();
    EXPECT_EQ(Snapshot(root_), before) << step.id;
  }
  EXPECT_THAT(Files(Events()), ElementsAre("dt=2024-02-20/part-0.parquet"));
  EXPECT_FALSE(fs::exists(Events() / "_tidemark" / "recycle"));
  EXPECT_THAT(Files(Archive()), ElementsAre("manifest.json", "part-0.parquet", "part-1.parquet"));
}

TEST_F(LakeBackendTest, OldBinEntriesArePurgedByALaterRun) {
  MakeDataset();
  ASSERT_TRUE(Run(ArchivalPlan()));
  const Plan later = BinPurgePlan();
  ASSERT_THAT(later.steps.size(), 1u);
  ASSERT_TRUE(Run(later));
  EXPECT_THAT(Files(Events()), ElementsAre("dt=2024-02-20/part-0.parquet"));
}

TEST_F(LakeBackendTest, PurgeRefusesWhenTheArchiveManifestIsMissing) {
  UseConfig(0);
  MakeDataset();
  const Plan plan = ArchivalPlan();
  ASSERT_TRUE(Run(plan, core::action::kPurgeRecycled));
  fs::remove(Archive() / "manifest.json");
  auto purged = Execute(StepOf(plan, core::action::kPurgeRecycled));
  ASSERT_FALSE(purged);
  EXPECT_THAT(purged.error().message(),
              HasSubstr("refusing to purge _tidemark/recycle/20240301T000000Z/dt=2024-01-29"));
  EXPECT_THAT(Files(Events()),
              ElementsAre("_tidemark/recycle/20240301T000000Z/dt=2024-01-29/part-0.parquet",
                          "_tidemark/recycle/20240301T000000Z/dt=2024-01-29/part-1.parquet",
                          "dt=2024-02-20/part-0.parquet"));
}

TEST_F(LakeBackendTest, VerifyFailsWhenAnArchivedFileWasAltered) {
  MakeDataset();
  const Plan plan = ArchivalPlan();
  ASSERT_TRUE(Run(plan, core::action::kVerifyArchive));
  WriteFile(Archive() / "part-1.parquet", "bbbbX", kMtimeB);  // same size and mtime
  auto verified = Execute(StepOf(plan, core::action::kVerifyArchive));
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().category(), util::ErrorCategory::kVerify);
  EXPECT_THAT(verified.error().message(), HasSubstr("part-1.parquet differs from the manifest"));
}

TEST_F(LakeBackendTest, VerifyFailsWhenTheBinCopyChangedSinceTheArchive) {
  MakeDataset();
  const Plan plan = ArchivalPlan();
  ASSERT_TRUE(Run(plan, core::action::kVerifyArchive));
  WriteFile(Events() / "_tidemark/recycle/20240301T000000Z/dt=2024-01-29/part-0.parquet", "aaaa");
  auto verified = Execute(StepOf(plan, core::action::kVerifyArchive));
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().category(), util::ErrorCategory::kVerify);
}

TEST_F(LakeBackendTest, HideRefusesWhenNewDataArrivedInAPartitionAlreadyMoved) {
  MakeDataset();
  const Plan plan = ArchivalPlan();
  const core::Step& hide = StepOf(plan, core::action::kHidePartition);
  ASSERT_TRUE(Execute(hide));
  WriteFile(Events() / "dt=2024-01-29" / "late.parquet", "late");
  auto again = Execute(hide);
  ASSERT_FALSE(again);
  EXPECT_THAT(again.error().message(), HasSubstr("holds files again"));
  EXPECT_TRUE(fs::exists(Events() / "dt=2024-01-29" / "late.parquet"));
}

TEST_F(LakeBackendTest, RestoreFromBinMovesThePartitionBack) {
  MakeDataset();
  ASSERT_TRUE(Run(ArchivalPlan()));
  const Plan restore = RestorePlan(core::action::kRestoreFromBin);
  ASSERT_EQ(restore.steps.size(), 1u);
  ASSERT_EQ(restore.steps[0].action, core::action::kRestoreFromBin);
  auto status = Run(restore);
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_THAT(Files(Events()),
              ElementsAre("dt=2024-01-29/part-0.parquet", "dt=2024-01-29/part-1.parquet",
                          "dt=2024-02-20/part-0.parquet"));
  EXPECT_EQ(MtimeNs(Events() / "dt=2024-01-29" / "part-1.parquet"), kMtimeB);
  const auto before = Snapshot(root_);
  EXPECT_TRUE(Run(restore));
  EXPECT_EQ(Snapshot(root_), before);
}

TEST_F(LakeBackendTest, RestoreFromArchiveCopiesThePartitionBackWithItsMtimes) {
  UseConfig(0);
  MakeDataset();
  ASSERT_TRUE(Run(ArchivalPlan()));
  const Plan restore = RestorePlan(core::action::kRestoreFromArchive);
  ASSERT_EQ(restore.steps.size(), 1u);
  ASSERT_EQ(restore.steps[0].action, core::action::kRestoreFromArchive);
  auto status = Run(restore);
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_THAT(Files(Events()),
              ElementsAre("dt=2024-01-29/part-0.parquet", "dt=2024-01-29/part-1.parquet",
                          "dt=2024-02-20/part-0.parquet"));
  EXPECT_EQ(ReadFile(Events() / "dt=2024-01-29" / "part-1.parquet"), "bbbbb");
  EXPECT_EQ(MtimeNs(Events() / "dt=2024-01-29" / "part-0.parquet"), kMtimeA);
  EXPECT_FALSE(fs::exists(Events() / "_tidemark" / "staging"));
  const auto before = Snapshot(root_);
  EXPECT_TRUE(Run(restore));
  EXPECT_EQ(Snapshot(root_), before);
}

TEST_F(LakeBackendTest, RestoreFromArchiveRefusesATargetThatHoldsOtherFiles) {
  UseConfig(0);
  MakeDataset();
  ASSERT_TRUE(Run(ArchivalPlan()));
  const Plan restore = RestorePlan(core::action::kRestoreFromArchive);
  WriteFile(Events() / "dt=2024-01-29" / "new.parquet", "new");
  auto status = Run(restore);
  ASSERT_FALSE(status);
  EXPECT_THAT(status.error().message(), HasSubstr("already holds other files"));
  EXPECT_THAT(Files(Events() / "dt=2024-01-29"), ElementsAre("new.parquet"));
}

TEST_F(LakeBackendTest, RestoreFromBinRefusesATargetThatHoldsFiles) {
  MakeDataset();
  ASSERT_TRUE(Run(ArchivalPlan()));
  const Plan restore = RestorePlan(core::action::kRestoreFromBin);
  WriteFile(Events() / "dt=2024-01-29" / "new.parquet", "new");
  auto status = Run(restore);
  ASSERT_FALSE(status);
  EXPECT_THAT(status.error().message(), HasSubstr("already holds files"));
  EXPECT_THAT(Files(Events() / "dt=2024-01-29"), ElementsAre("new.parquet"));
  EXPECT_EQ(Files(Events() / "_tidemark/recycle/20240301T000000Z/dt=2024-01-29").size(), 2u);
}

TEST_F(LakeBackendTest, RestoreFromBinToAnotherLocationCopiesAndKeepsTheBinEntry) {
  MakeDataset();
  ASSERT_TRUE(Run(ArchivalPlan()));
  const std::string scratch = "file://" + (root_ / "scratch").string();
  const Plan restore = RestorePlan(core::action::kRestoreFromBin, scratch);
  auto status = Run(restore);
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_THAT(Files(root_ / "scratch"),
              ElementsAre("dt=2024-01-29/part-0.parquet", "dt=2024-01-29/part-1.parquet"));
  EXPECT_EQ(MtimeNs(root_ / "scratch" / "dt=2024-01-29" / "part-0.parquet"), kMtimeA);
  EXPECT_EQ(Files(Events() / "_tidemark/recycle/20240301T000000Z/dt=2024-01-29").size(), 2u);
}

}  // namespace
}  // namespace tidemark::backend::lake
