// The local object store on a real temporary directory: listing, atomic writes,
// renames, pruning, the writability probe, and picking a store by URL.

#include "tidemark/store/local_store.h"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tidemark::store {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kMtime = 1706500000123456789;

void WriteFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> Keys(const util::Result<std::vector<ObjectInfo>>& objects) {
  EXPECT_TRUE(objects) << objects.error().message();
  std::vector<std::string> keys;
  if (!objects) return keys;
  for (const ObjectInfo& object : *objects) keys.push_back(object.key);
  return keys;
}

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/tidemark-local-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    root_ = dir;
    store_ = NewLocalStore(root_.string() + "/");
  }
  void TearDown() override {
    fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add);
    fs::remove_all(root_);
  }

  fs::path root_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_F(LocalStoreTest, UrlIsTheRootWithoutATrailingSlash) {
  EXPECT_EQ(store_->url(), "file://" + root_.string());
}

TEST_F(LocalStoreTest, ListIsRecursiveSortedByKeyAndHoldsOnlyFiles) {
  WriteFile(root_ / "b" / "2.txt", "22");
  WriteFile(root_ / "a.txt", "1");
  WriteFile(root_ / "b" / "1.txt", "1");
  WriteFile(root_ / "b" / "c" / "deep.txt", "333");
  WriteFile(root_ / "a" / "x.txt", "x");
  fs::create_directories(root_ / "empty");
  EXPECT_THAT(Keys(store_->List("")),
              ElementsAre("a.txt", "a/x.txt", "b/1.txt", "b/2.txt", "b/c/deep.txt"));
  EXPECT_THAT(Keys(store_->List("b")), ElementsAre("b/1.txt", "b/2.txt", "b/c/deep.txt"));
  EXPECT_THAT(Keys(store_->List("/b/")), ElementsAre("b/1.txt", "b/2.txt", "b/c/deep.txt"));
  auto objects = store_->List("b/c");
  ASSERT_TRUE(objects);
  ASSERT_EQ(objects->size(), 1u);
  EXPECT_EQ((*objects)[0].size, 3);
}

TEST_F(LocalStoreTest, ListOfAnAbsentPrefixIsEmptyAndOfAFileIsThatFile) {
  WriteFile(root_ / "a.txt", "1");
  EXPECT_THAT(Keys(store_->List("nothing/here")), IsEmpty());
  EXPECT_THAT(Keys(store_->List("a.txt")), ElementsAre("a.txt"));
  EXPECT_THAT(Keys(NewLocalStore((root_ / "absent").string())->List("")), IsEmpty());
}

TEST_F(LocalStoreTest, AWriterCommitsAtomicallyWithTheGivenMtime) {
  auto writer = store_->OpenWrite("x/y/data.bin");
  ASSERT_TRUE(writer) << writer.error().message();
  ASSERT_TRUE((*writer)->Write("hello ", 6));
  ASSERT_TRUE((*writer)->Write("world", 5));
  // Before the commit nothing has a name (an O_TMPFILE file; a hidden temporary
  // where the filesystem has none).
  EXPECT_FALSE(fs::exists(root_ / "x" / "y" / "data.bin"));
  auto during = store_->List("x");
  ASSERT_TRUE(during);
  for (const ObjectInfo& object : *during) EXPECT_TRUE(IsTemporaryKey(object.key)) << object.key;
  ASSERT_TRUE((*writer)->Commit(kMtime));
  writer->reset();
  EXPECT_EQ(ReadFile(root_ / "x" / "y" / "data.bin"), "hello world");
  auto info = store_->Stat("x/y/data.bin");
  ASSERT_TRUE(info && *info);
  EXPECT_EQ((*info)->key, "x/y/data.bin");
  EXPECT_EQ((*info)->size, 11);
  EXPECT_EQ((*info)->mtime_ns, kMtime);
  EXPECT_THAT(Keys(store_->List("")), ElementsAre("x/y/data.bin"));
}

TEST_F(LocalStoreTest, ACommitReplacesAnExistingFileAtOnce) {
  WriteFile(root_ / "a.txt", "old");
  auto writer = store_->OpenWrite("a.txt");
  ASSERT_TRUE(writer);
  ASSERT_TRUE((*writer)->Write("new!", 4));
  EXPECT_EQ(ReadFile(root_ / "a.txt"), "old");
  ASSERT_TRUE((*writer)->Commit(kMtime));
  writer->reset();
  EXPECT_EQ(ReadFile(root_ / "a.txt"), "new!");
  EXPECT_THAT(Keys(store_->List("")), ElementsAre("a.txt")) << "no temporary left";
}

TEST_F(LocalStoreTest, AWriterWithoutCommitLeavesNothingVisible) {
  WriteFile(root_ / "kept.txt", "old");
  {
    auto writer = store_->OpenWrite("kept.txt");
    ASSERT_TRUE(writer);
    ASSERT_TRUE((*writer)->Write("new", 3));
    auto fresh = store_->OpenWrite("dir/fresh.txt");
    ASSERT_TRUE(fresh);
    ASSERT_TRUE((*fresh)->Write("x", 1));
  }
  EXPECT_THAT(Keys(store_->List("")), ElementsAre("kept.txt"));
  EXPECT_EQ(ReadFile(root_ / "kept.txt"), "old");
}

TEST_F(LocalStoreTest, ReadReturnsTheBytesThenZero) {
  WriteFile(root_ / "a.txt", "abcdef");
  auto reader = store_->OpenRead("a.txt");
  ASSERT_TRUE(reader) << reader.error().message();
  char buffer[4];
  EXPECT_EQ(*(*reader)->Read(buffer, sizeof buffer), 4u);
  EXPECT_EQ(std::string(buffer, 4), "abcd");
  EXPECT_EQ(*(*reader)->Read(buffer, sizeof buffer), 2u);
  EXPECT_EQ(*(*reader)->Read(buffer, sizeof buffer), 0u);
  auto absent = store_->OpenRead("absent.txt");
  ASSERT_FALSE(absent);
  EXPECT_THAT(absent.error().message(), HasSubstr("absent.txt"));
}

TEST_F(LocalStoreTest, StatOfAnAbsentKeyOrADirectoryIsEmpty) {
  WriteFile(root_ / "d" / "a.txt", "1");
  auto absent = store_->Stat("nothing");
  ASSERT_TRUE(absent);
  EXPECT_FALSE(*absent);
  auto directory = store_->Stat("d");
  ASSERT_TRUE(directory);
  EXPECT_FALSE(*directory);
}

TEST_F(LocalStoreTest, DeleteRemovesOneObjectAndAnAbsentOneIsNoError) {
  WriteFile(root_ / "a.txt", "1");
  EXPECT_TRUE(store_->Delete("a.txt"));
  EXPECT_FALSE(fs::exists(root_ / "a.txt"));
  EXPECT_TRUE(store_->Delete("a.txt"));
}

TEST_F(LocalStoreTest, RenameMovesADirectoryCreatingTheTargetsParents) {
  WriteFile(root_ / "dt=1" / "a.txt", "a");
  WriteFile(root_ / "dt=1" / "sub" / "b.txt", "b");
  ASSERT_TRUE(store_->CanRename());
  auto moved = store_->Rename("dt=1", "_tidemark/recycle/20240301T000000Z/dt=1");
  ASSERT_TRUE(moved) << moved.error().message();
  EXPECT_THAT(Keys(store_->List("")),
              ElementsAre("_tidemark/recycle/20240301T000000Z/dt=1/a.txt",
                          "_tidemark/recycle/20240301T000000Z/dt=1/sub/b.txt"));
  EXPECT_FALSE(fs::exists(root_ / "dt=1"));
  auto again = store_->Rename("dt=1", "elsewhere");
  ASSERT_FALSE(again);
  EXPECT_THAT(again.error().message(), HasSubstr("cannot move"));
}

TEST_F(LocalStoreTest, PruneEmptyRemovesEmptyDirectoriesAndKeepsTheRest) {
  fs::create_directories(root_ / "_tidemark" / "recycle" / "a" / "b");
  fs::create_directories(root_ / "_tidemark" / "recycle" / "c");
  WriteFile(root_ / "_tidemark" / "recycle" / "d" / "kept.txt", "1");
  ASSERT_TRUE(store_->PruneEmpty("_tidemark/recycle"));
  EXPECT_FALSE(fs::exists(root_ / "_tidemark" / "recycle" / "a"));
  EXPECT_FALSE(fs::exists(root_ / "_tidemark" / "recycle" / "c"));
  EXPECT_TRUE(fs::exists(root_ / "_tidemark" / "recycle" / "d" / "kept.txt"));
  ASSERT_TRUE(store_->Delete("_tidemark/recycle/d/kept.txt"));
  ASSERT_TRUE(store_->PruneEmpty("_tidemark/recycle"));
  EXPECT_FALSE(fs::exists(root_ / "_tidemark" / "recycle"));
  EXPECT_TRUE(fs::exists(root_ / "_tidemark"));  // above the prefix: left alone
  EXPECT_TRUE(store_->PruneEmpty("never/was"));
}

TEST_F(LocalStoreTest, ProbeWritableCreatesTheDirectoryAndLeavesNoTrace) {
  auto probed = store_->ProbeWritable("archive/events");
  ASSERT_TRUE(probed) << probed.error().message();
  EXPECT_TRUE(fs::is_directory(root_ / "archive" / "events"));
  EXPECT_THAT(Keys(store_->List("")), IsEmpty());
}

// ProbeWritable's verdict from a child process running as nobody, for whom file modes
// bind; nullopt when this process cannot change its uid.
std::optional<bool> ProbeAsNobody(ObjectStore& store, const std::string& prefix) {
  const pid_t child = fork();
  if (child < 0) return std::nullopt;
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    _exit(store.ProbeWritable(prefix) ? 0 : 1);
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) == 2) {
    return std::nullopt;
  }
  return WEXITSTATUS(status) == 0;
}

TEST_F(LocalStoreTest, ProbeWritableFailsOnAReadOnlyDirectory) {
  fs::create_directories(root_ / "frozen");
  fs::create_directories(root_ / "open");
  fs::permissions(root_, fs::perms::all);
  fs::permissions(root_ / "open", fs::perms::all);
  fs::permissions(root_ / "frozen", fs::perms::owner_read | fs::perms::owner_exec |
                                        fs::perms::group_read | fs::perms::group_exec |
                                        fs::perms::others_read | fs::perms::others_exec);
  if (access((root_ / "frozen").c_str(), W_OK) == 0) {
    // Root (CAP_DAC_OVERRIDE) writes whatever the mode says; ask as nobody instead.
    const std::optional<bool> frozen = ProbeAsNobody(*store_, "frozen");
    if (!frozen) {
      GTEST_SKIP() << "running as root, which writes read-only directories, and unable to "
                      "drop to an unprivileged uid: a read-only mode cannot make "
                      "ProbeWritable fail here";
    }
    EXPECT_FALSE(*frozen);
    EXPECT_EQ(ProbeAsNobody(*store_, "open"), std::optional<bool>(true));
    return;
  }
  auto probed = store_->ProbeWritable("frozen");
  ASSERT_FALSE(probed);
  EXPECT_THAT(probed.error().message(), HasSubstr("cannot write in"));
  EXPECT_THAT(probed.error().message(), HasSubstr("frozen"));
}

TEST_F(LocalStoreTest, ProbeWritableFailsWhereAFileIsInTheWay) {
  WriteFile(root_ / "file", "not a directory");
  auto probed = store_->ProbeWritable("file/below");
  ASSERT_FALSE(probed);
  EXPECT_THAT(probed.error().message(), HasSubstr("a file is in the way"));
}

TEST_F(LocalStoreTest, PutIfAbsentWritesOnceAndNeverReplaces) {
  auto first = store_->PutIfAbsent("_delta_log/00000000000000000000.json", "first");
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_TRUE(*first);
  auto second = store_->PutIfAbsent("_delta_log/00000000000000000000.json", "second");
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_FALSE(*second);
  EXPECT_EQ(ReadFile(root_ / "_delta_log" / "00000000000000000000.json"), "first");
  // Neither attempt left its temporary file.
  EXPECT_THAT(Keys(store_->List("")), ElementsAre("_delta_log/00000000000000000000.json"));
}

TEST_F(LocalStoreTest, PutIfAbsentHasOneWinnerAmongConcurrentWriters) {
  constexpr int kWriters = 8;
  std::vector<std::thread> threads;
  std::atomic<int> winners{0};
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      auto written = store_->PutIfAbsent("commit.json", "writer " + std::to_string(i));
      if (written && *written) ++winners;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(winners, 1);
  EXPECT_THAT(ReadFile(root_ / "commit.json"), ::testing::StartsWith("writer "));
  EXPECT_THAT(Keys(store_->List("")), ElementsAre("commit.json"));
}

TEST_F(LocalStoreTest, CopyWithinKeepsBytesAndMtimeAndReplacesTheTarget) {
  WriteFile(root_ / "a" / "data.bin", std::string(3 << 20, 'z') + "end");
  WriteFile(root_ / "b" / "copy.bin", "old");
  struct timespec times[2] = {{0, UTIME_OMIT}, {1706500000, 123456789}};
  ASSERT_EQ(utimensat(AT_FDCWD, (root_ / "a" / "data.bin").c_str(), times, 0), 0);
  ASSERT_TRUE(store_->CopyWithin("a/data.bin", "b/copy.bin"));
  ASSERT_TRUE(store_->CopyWithin("a/data.bin", "new/dir/copy.bin"));
  EXPECT_EQ(ReadFile(root_ / "b" / "copy.bin"), ReadFile(root_ / "a" / "data.bin"));
  for (const char* key : {"b/copy.bin", "new/dir/copy.bin"}) {
    auto info = store_->Stat(key);
    ASSERT_TRUE(info && *info) << key;
    EXPECT_EQ((*info)->mtime_ns, kMtime) << key;
    EXPECT_EQ((*info)->size, (3 << 20) + 3) << key;
  }
  auto missing = store_->CopyWithin("nothing", "x");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message(), HasSubstr("nothing is missing; cannot copy it"));
  EXPECT_FALSE(fs::exists(root_ / "x"));
}

TEST(TemporaryKeys, AreHiddenFilesWithTheTemporarySuffix) {
  EXPECT_TRUE(IsTemporaryKey(".a.parquet.tidemark-tmp"));
  EXPECT_TRUE(IsTemporaryKey("dt=1/.a.parquet.tidemark-tmp"));
  EXPECT_FALSE(IsTemporaryKey("dt=1/a.parquet.tidemark-tmp"));
  EXPECT_FALSE(IsTemporaryKey("dt=1/.a.parquet"));
  EXPECT_FALSE(IsTemporaryKey(".dir.tidemark-tmp/a.parquet"));
}

TEST(OpenStore, PicksTheLocalStoreForAbsoluteFileUrls) {
  auto store = OpenStore("file:///var/lib/lake");
  ASSERT_TRUE(store) << store.error().message();
  EXPECT_EQ((*store)->url(), "file:///var/lib/lake");
}

TEST(OpenStore, RefusesRelativeFileUrlsAndUnknownSchemes) {
  for (const char* url : {"file://relative/lake", "ftp://host/x"}) {
    auto store = OpenStore(url);
    ASSERT_FALSE(store) << url;
    EXPECT_EQ(store.error().category(), util::ErrorCategory::kConfig) << url;
    EXPECT_THAT(store.error().message(), HasSubstr(url));
  }
}

TEST(JoinKey, DropsEmptyPartsAndDuplicateSlashes) {
  EXPECT_EQ(JoinKey("a/b", "c"), "a/b/c");
  EXPECT_EQ(JoinKey("", "c/d"), "c/d");
  EXPECT_EQ(JoinKey("a/", "/c"), "a/c");
  EXPECT_EQ(JoinKey("a//b/", ""), "a/b");
}

}  // namespace
TEST(LocalStoreSync, SyncsWhatIsThereAndAnAbsentPrefixIsNothingToDo) {
  char dir[] = "/tmp/tidemark-sync-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  auto store = NewLocalStore(dir);
  auto writer = store->OpenWrite("a/b/c.txt");
  ASSERT_TRUE(writer);
  ASSERT_TRUE((*writer)->Write("x", 1));
  ASSERT_TRUE((*writer)->Commit(0));
  EXPECT_TRUE(store->Sync("a"));
  EXPECT_TRUE(store->Sync("absent"));
  std::filesystem::remove_all(dir);
}

TEST(LocalStoreExists, IsTrueForAFileOrANonEmptyDirectoryOnly) {
  char dir[] = "/tmp/tidemark-exists-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  auto store = NewLocalStore(dir);
  std::filesystem::create_directories(std::string(dir) + "/empty");
  std::ofstream(std::string(dir) + "/full/a.txt") << "x";
  std::filesystem::create_directories(std::string(dir) + "/full");
  std::ofstream(std::string(dir) + "/full/a.txt") << "x";
  std::filesystem::create_directories(std::string(dir) + "/tmp-only");
  std::ofstream(std::string(dir) + "/tmp-only/.a.txt.tidemark-tmp") << "x";
  EXPECT_FALSE(*store->Exists("absent"));
  EXPECT_FALSE(*store->Exists("empty"));
  EXPECT_FALSE(*store->Exists("tmp-only")) << "an interrupted write is not data";
  EXPECT_TRUE(*store->Exists("full"));
  EXPECT_TRUE(*store->Exists("full/a.txt"));
  std::filesystem::remove_all(dir);
}

}  // namespace tidemark::store
