// Changing a Delta table: the removal record comes before the commit, the commit is
// written only if its version is free, and a commit that lost the race to another
// writer is made again on the newer table, including what that writer added.

#include "tidemark/backend/lake/delta_table.h"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tidemark/backend/lake/delta_snapshot.h"
#include "tidemark/store/local_store.h"

namespace tidemark::backend::lake {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string Add(const std::string& path, const std::string& day) {
  return R"({"add":{"path":")" + path + R"(","partitionValues":{"event_date":")" + day +
         R"("},"size":4,"modificationTime":1704067200000,"dataChange":true}})"
         "\n";
}

// A local store whose first PutIfAbsent loses to another writer: just before it, that
// writer commits `rival` under the same version.
class RacedStore : public store::ObjectStore {
 public:
  RacedStore(std::unique_ptr<store::ObjectStore> inner, std::string rival)
      : inner_(std::move(inner)), rival_(std::move(rival)) {}
  std::string url() const override { return inner_->url(); }
  util::Result<std::vector<store::ObjectInfo>> List(const std::string& p) override {
    return inner_->List(p);
  }
  util::Result<std::optional<store::ObjectInfo>> Stat(const std::string& k) override {
    return inner_->Stat(k);
  }
  util::Result<bool> Exists(const std::string& p) override { return inner_->Exists(p); }
  util::Result<std::unique_ptr<store::Reader>> OpenRead(const std::string& k) override {
    return inner_->OpenRead(k);
  }
  util::Result<std::unique_ptr<store::Writer>> OpenWrite(const std::string& k) override {
    return inner_->OpenWrite(k);
  }
  util::Status Delete(const std::string& k) override { return inner_->Delete(k); }
  bool CanRename() const override { return true; }
  util::Status Rename(const std::string& a, const std::string& b) override {
    return inner_->Rename(a, b);
  }
  util::Status ProbeWritable(const std::string& p) override { return inner_->ProbeWritable(p); }
  util::Status PruneEmpty(const std::string& p) override { return inner_->PruneEmpty(p); }
  util::Status Sync(const std::string& p) override { return inner_->Sync(p); }
  util::Result<bool> PutIfAbsent(const std::string& key, std::string_view data) override {
    if (!rival_.empty()) {
      EXPECT_TRUE(*inner_->PutIfAbsent(key, rival_));
      rival_.clear();
    }
    ++puts;
    return inner_->PutIfAbsent(key, data);
  }
  int puts = 0;

 private:
  std::unique_ptr<store::ObjectStore> inner_;
  std::string rival_;
};

class DeltaTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/tidemark-delta-table-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    root_ = dir;
    Write(root_ / "_delta_log/00000000000000000000.json",
          R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})"
          "\n"
          R"({"metaData":{"id":"t","format":{"provider":"parquet","options":{}},)"
          R"("schemaString":"{\"type\":\"struct\",\"fields\":[]}",)"
          R"("partitionColumns":["event_date"],"configuration":{}}})"
          "\n" +
              Add("event_date=2024-01-01/a.parquet", "2024-01-01") +
              Add("event_date=2024-01-01/b.parquet", "2024-01-01") +
              Add("event_date=2024-01-02/c.parquet", "2024-01-02"));
    for (const char* file :
         {"event_date=2024-01-01/a.parquet", "event_date=2024-01-01/b.parquet",
          "event_date=2024-01-02/c.parquet", "event_date=2024-01-01/late.parquet"})
      Write(root_ / file, "PAR1");
    step_.id = "main/main/event_date=2024-01-01/hide_partition";
    step_.action = core::action::kHidePartition;
    step_.partition = "event_date=2024-01-01";
    step_.params["bin"] = "_tidemark/recycle/20240202T000000Z/event_date=2024-01-01";
    step_.params["layout"] = "delta";
  }
  void TearDown() override { fs::remove_all(root_); }

  std::vector<std::string> Live() {
    auto store = store::NewLocalStore(root_.string());
    auto snapshot = delta::ReadSnapshot(*store, "");
    EXPECT_TRUE(snapshot) << snapshot.error().message();
    std::vector<std::string> keys;
    if (snapshot) {
      for (const auto& file : snapshot->files) keys.push_back(file.key);
    }
    return keys;
  }

  fs::path root_;
  core::Step step_;
};

TEST_F(DeltaTableTest, HidingCommitsRemovesOnceWithATransactionNamingTheRunAndStep) {
  auto store = store::NewLocalStore(root_.string());
  ASSERT_TRUE(HideDeltaPartition(*store, step_, "run-1"));
  EXPECT_THAT(Live(), ::testing::ElementsAre("event_date=2024-01-02/c.parquet"));
  std::ifstream in(root_ / "_delta_log/00000000000000000001.json");
  std::string commit((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(
      commit,
      HasSubstr(R"("appId":"tidemark/run-1/main/main/event_date=2024-01-01/hide_partition")"));
  EXPECT_THAT(commit, HasSubstr(R"("extendedFileMetadata":true)"));
  EXPECT_THAT(commit, HasSubstr(R"("operation":"DELETE")"));
  EXPECT_TRUE(fs::exists(root_ / step_.Param("bin") / "removed.json"));
  // Run again (a rerun after a crash): the transaction says it happened; no new commit.
  ASSERT_TRUE(HideDeltaPartition(*store, step_, "run-1"));
  EXPECT_FALSE(fs::exists(root_ / "_delta_log/00000000000000000002.json"));
  EXPECT_TRUE(DeltaStepHolds(*store, step_));
}

TEST_F(DeltaTableTest, ACommitThatLostTheRaceIsMadeAgainOnTheNewerTable) {
  // Another writer adds a late file to the partition under version 1 first.
  RacedStore store(store::NewLocalStore(root_.string()),
                   Add("event_date=2024-01-01/late.parquet", "2024-01-01"));
  ASSERT_TRUE(HideDeltaPartition(store, step_, "run-1"));
  EXPECT_EQ(store.puts, 2);
  EXPECT_THAT(Live(), ::testing::ElementsAre("event_date=2024-01-02/c.parquet"))
      << "the late file is removed with the others";
  std::ifstream in(root_ / step_.Param("bin") / "removed.json");
  std::string record((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(record, HasSubstr("late.parquet")) << "the record names what was removed";
  EXPECT_TRUE(fs::exists(root_ / "_delta_log/00000000000000000002.json"));
}

TEST_F(DeltaTableTest, RestoringFromTheBinCommitsTheRememberedAddsAndDropsTheRecord) {
  auto store = store::NewLocalStore(root_.string());
  ASSERT_TRUE(HideDeltaPartition(*store, step_, "run-1"));
  core::Step restore = step_;
  restore.id = "main/main/event_date=2024-01-01/restore_from_bin";
  restore.action = core::action::kRestoreFromBin;
  ASSERT_TRUE(RestoreDeltaFromBin(*store, restore, "run-2"));
  EXPECT_EQ(Live().size(), 3u);
  EXPECT_FALSE(fs::exists(root_ / step_.Param("bin") / "removed.json"));
  ASSERT_TRUE(RestoreDeltaFromBin(*store, restore, "run-2")) << "a rerun finds its transaction";
  EXPECT_FALSE(fs::exists(root_ / "_delta_log/00000000000000000003.json"));
}

TEST_F(DeltaTableTest, PurgeRefusesFilesTheTableHoldsAgain) {
  auto store = store::NewLocalStore(root_.string());
  ASSERT_TRUE(HideDeltaPartition(*store, step_, "run-1"));
  // Someone commits a.parquet again by hand.
  Write(root_ / "_delta_log/00000000000000000002.json",
        Add("event_date=2024-01-01/a.parquet", "2024-01-01"));
  core::Step purge = step_;
  purge.action = core::action::kPurgeRecycled;
  auto purged = PurgeDeltaFiles(*store, purge);
  ASSERT_FALSE(purged);
  EXPECT_THAT(purged.error().message(), HasSubstr("holds its files again"));
  EXPECT_TRUE(fs::exists(root_ / "event_date=2024-01-01/a.parquet"));
  EXPECT_TRUE(fs::exists(root_ / "event_date=2024-01-01/b.parquet"));
}

TEST_F(DeltaTableTest, AppendOnlyTablesAreNotChanged) {
  Write(root_ / "_delta_log/00000000000000000001.json",
        R"({"metaData":{"id":"t","format":{"provider":"parquet","options":{}},)"
        R"("schemaString":"{\"type\":\"struct\",\"fields\":[]}",)"
        R"("partitionColumns":["event_date"],"configuration":{"delta.appendOnly":"true"}}})"
        "\n");
  auto store = store::NewLocalStore(root_.string());
  auto hidden = HideDeltaPartition(*store, step_, "run-1");
  ASSERT_FALSE(hidden);
  EXPECT_THAT(hidden.error().message(), HasSubstr("appendOnly"));
  EXPECT_FALSE(fs::exists(root_ / "_delta_log/00000000000000000002.json"));
  EXPECT_FALSE(fs::exists(root_ / step_.Param("bin") / "removed.json"));
}

}  // namespace
}  // namespace tidemark::backend::lake
