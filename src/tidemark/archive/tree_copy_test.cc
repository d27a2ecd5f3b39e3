// Copying a partition's files into an archive and back, with checksums and mtimes, on
// real temporary directories: what is written, in which order, and what is detected.

#include "tidemark/archive/tree_copy.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tidemark/store/local_store.h"
#include "tidemark/util/sha256.h"

namespace tidemark::archive {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kMtimeA = 1706500000123456789;
constexpr int64_t kMtimeB = 1706510000000000001;

void WriteFile(const fs::path& path, const std::string& content, int64_t mtime_ns) {
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

std::vector<std::string> Files(const fs::path& dir) {
  std::vector<std::string> files;
  if (!fs::exists(dir)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(fs::relative(entry.path(), dir).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Records, at every block copied, whether the manifest was already visible.
class ManifestWatch : public util::Progress {
 public:
  explicit ManifestWatch(fs::path manifest) : manifest_(std::move(manifest)) {}
  void Advance(int64_t bytes) override {
    bytes_ += bytes;
    seen_during_copy_ = seen_during_copy_ || fs::exists(manifest_);
  }
  void End() override { seen_during_copy_ = seen_during_copy_ || fs::exists(manifest_); }
  bool seen_during_copy() const { return seen_during_copy_; }
  int64_t bytes() const { return bytes_; }

 private:
  fs::path manifest_;
  bool seen_during_copy_ = false;
  int64_t bytes_ = 0;
};

class TreeCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/tidemark-tree-copy-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    root_ = dir;
    store_ = store::NewLocalStore(root_.string());
    WriteFile(Source() / "part-0.parquet", "aaa", kMtimeA);
    WriteFile(Source() / "sub" / "part-1.parquet", "bbbbb", kMtimeB);
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path Source() const { return root_ / "bin" / "dt=2024-01-29"; }
  fs::path Archive() const { return root_ / "archive" / "dt=2024-01-29"; }
  fs::path Restored() const { return root_ / "restored" / "dt=2024-01-29"; }
  TreeLocation SourceAt() { return {store_.get(), "bin/dt=2024-01-29"}; }
  TreeLocation ArchiveAt() { return {store_.get(), "archive/dt=2024-01-29"}; }
  TreeLocation RestoredAt() { return {store_.get(), "restored/dt=2024-01-29"}; }

  Manifest Header() const {
    Manifest header;
    header.dataset = "events";
    header.partition = "dt=2024-01-29";
    header.run_id = "run-1";
    return header;
  }

  util::Result<Manifest> Copy() {
    return CopyToArchive(SourceAt(), ArchiveAt(), Header(), util::NoProgress());
  }

  util::Result<Manifest> Verify(bool with_source) {
    TreeLocation source = SourceAt();
    return VerifyArchive(ArchiveAt(), with_source ? &source : nullptr, util::NoProgress());
  }

  // The message of a kVerify error, or "" (with a failure) when there was none.
  template <typename T>
  std::string VerifyFailure(const util::Result<T>& result) {
    EXPECT_FALSE(result);
    if (result) return "";
    EXPECT_EQ(result.error().category(), util::ErrorCategory::kVerify) << result.error().message();
    return result.error().message();
  }

  fs::path root_;
  std::unique_ptr<store::ObjectStore> store_;
};

TEST_F(TreeCopyTest, CopyToArchiveKeepsContentAndNanosecondMtimesAndListsEveryFile) {
  auto manifest = Copy();
  ASSERT_TRUE(manifest) << manifest.error().message();
  EXPECT_THAT(Files(Archive()),
              ElementsAre("manifest.json", "part-0.parquet", "sub/part-1.parquet"));
  EXPECT_EQ(ReadFile(Archive() / "sub" / "part-1.parquet"), "bbbbb");
  EXPECT_EQ(MtimeNs(Archive() / "part-0.parquet"), kMtimeA);
  EXPECT_EQ(MtimeNs(Archive() / "sub" / "part-1.parquet"), kMtimeB);

  auto written = ManifestFromJson(ReadFile(Archive() / "manifest.json"), "manifest.json");
  ASSERT_TRUE(written) << written.error().message();
  EXPECT_EQ(written->dataset, "events");
  EXPECT_EQ(written->partition, "dt=2024-01-29");
  EXPECT_EQ(written->run_id, "run-1");
  ASSERT_EQ(written->files.size(), 2u);
  EXPECT_EQ(written->files[0].path, "part-0.parquet");
  EXPECT_EQ(written->files[0].size, 3);
  EXPECT_EQ(written->files[0].mtime_ns, kMtimeA);
  EXPECT_EQ(written->files[0].sha256, util::Sha256Hex("aaa"));
  EXPECT_EQ(written->files[1].path, "sub/part-1.parquet");
  EXPECT_EQ(written->files[1].size, 5);
  EXPECT_EQ(written->files[1].mtime_ns, kMtimeB);
  EXPECT_EQ(written->files[1].sha256, util::Sha256Hex("bbbbb"));
  EXPECT_EQ(written->TotalBytes(), 8);
  EXPECT_EQ(manifest->files.size(), 2u);
}

TEST_F(TreeCopyTest, TheManifestAppearsOnlyAfterEveryFileIsCopied) {
  ManifestWatch watch(Archive() / "manifest.json");
  ASSERT_TRUE(CopyToArchive(SourceAt(), ArchiveAt(), Header(), watch));
  EXPECT_EQ(watch.bytes(), 8);
  EXPECT_FALSE(watch.seen_during_copy());
  EXPECT_TRUE(fs::exists(Archive() / "manifest.json"));
}

TEST_F(TreeCopyTest, AStaleManifestIsNotVisibleWhileTheArchiveIsCopiedAgain) {
  ASSERT_TRUE(Copy());
  WriteFile(Source() / "part-2.parquet", "new data", kMtimeB);  // the source grew
  ManifestWatch watch(Archive() / "manifest.json");
  auto manifest = CopyToArchive(SourceAt(), ArchiveAt(), Header(), watch);
  ASSERT_TRUE(manifest) << manifest.error().message();
  EXPECT_FALSE(watch.seen_during_copy());
  EXPECT_EQ(manifest->files.size(), 3u);
  EXPECT_TRUE(Verify(true));
}

TEST_F(TreeCopyTest, PrefixesWithSlashesAroundThemNameTheSameDirectory) {
  const TreeLocation source{store_.get(), "/bin/dt=2024-01-29/"};
  const TreeLocation target{store_.get(), "archive/dt=2024-01-29/"};
  auto manifest = CopyToArchive(source, target, Header(), util::NoProgress());
  ASSERT_TRUE(manifest) << manifest.error().message();
  ASSERT_EQ(manifest->files.size(), 2u);
  EXPECT_EQ(manifest->files[0].path, "part-0.parquet");
  EXPECT_EQ(manifest->files[1].path, "sub/part-1.parquet");
  auto verified = VerifyArchive(target, &source, util::NoProgress());
  EXPECT_TRUE(verified) << verified.error().message();
}

TEST_F(TreeCopyTest, ARerunAfterAPartialCopyCompletesAndLeavesNoTemporaries) {
  // A crash left one file complete and another half-written under its temporary name.
  WriteFile(Archive() / "part-0.parquet", "aaa", kMtimeA);
  WriteFile(Archive() / "sub" / ".part-1.parquet.tidemark-tmp", "bb", kMtimeB);
  auto manifest = Copy();
  ASSERT_TRUE(manifest) << manifest.error().message();
  EXPECT_THAT(Files(Archive()),
              ElementsAre("manifest.json", "part-0.parquet", "sub/part-1.parquet"));
  EXPECT_EQ(ReadFile(Archive() / "sub" / "part-1.parquet"), "bbbbb");
  EXPECT_EQ(manifest->files[0].sha256, util::Sha256Hex("aaa"));
  EXPECT_TRUE(Verify(true));
}

TEST_F(TreeCopyTest, ACompleteArchiveIsLeftAsItIs) {
  ASSERT_TRUE(Copy());
  const std::string manifest = ReadFile(Archive() / "manifest.json");
  const int64_t manifest_mtime = MtimeNs(Archive() / "manifest.json");
  ASSERT_TRUE(Copy());
  EXPECT_EQ(ReadFile(Archive() / "manifest.json"), manifest);
  EXPECT_EQ(MtimeNs(Archive() / "manifest.json"), manifest_mtime);
}

TEST_F(TreeCopyTest, AnEmptySourceIsNotArchived) {
  fs::remove_all(Source());
  auto manifest = Copy();
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().category(), util::ErrorCategory::kStep);
  EXPECT_THAT(manifest.error().message(), HasSubstr("nothing to archive"));
  EXPECT_FALSE(fs::exists(Archive() / "manifest.json"));
}

TEST_F(TreeCopyTest, VerifyAcceptsAnIntactArchive) {
  ASSERT_TRUE(Copy());
  auto with_source = Verify(true);
  EXPECT_TRUE(with_source) << with_source.error().message();
  EXPECT_TRUE(Verify(false));
}

TEST_F(TreeCopyTest, VerifyDetectsAMissingFile) {
  ASSERT_TRUE(Copy());
  fs::remove(Archive() / "sub" / "part-1.parquet");
  EXPECT_THAT(VerifyFailure(Verify(false)), HasSubstr("sub/part-1.parquet is missing"));
}

TEST_F(TreeCopyTest, VerifyDetectsAnExtraFile) {
  ASSERT_TRUE(Copy());
  WriteFile(Archive() / "stray.parquet", "x", kMtimeA);
  EXPECT_THAT(VerifyFailure(Verify(false)), HasSubstr("stray.parquet is not in the manifest"));
}

TEST_F(TreeCopyTest, VerifyDetectsAnAlteredFileOfTheSameSize) {
  ASSERT_TRUE(Copy());
  WriteFile(Archive() / "part-0.parquet", "aXa", kMtimeA);
  EXPECT_THAT(VerifyFailure(Verify(false)), HasSubstr("part-0.parquet differs from the manifest"));
}

TEST_F(TreeCopyTest, VerifyDetectsATruncatedFile) {
  ASSERT_TRUE(Copy());
  WriteFile(Archive() / "part-0.parquet", "aa", kMtimeA);
  EXPECT_THAT(VerifyFailure(Verify(false)), HasSubstr("has 2 bytes; the manifest says 3"));
}

TEST_F(TreeCopyTest, VerifyDetectsAMissingManifest) {
  ASSERT_TRUE(Copy());
  fs::remove(Archive() / "manifest.json");
  EXPECT_THAT(VerifyFailure(Verify(false)), HasSubstr("no manifest"));
  EXPECT_THAT(VerifyFailure(ReadManifest(ArchiveAt())), HasSubstr("missing or incomplete"));
}

TEST_F(TreeCopyTest, VerifyDetectsASourceThatChangedSinceTheCopy) {
  ASSERT_TRUE(Copy());
  WriteFile(Source() / "part-0.parquet", "aaa", kMtimeA + 1);  // touched
  EXPECT_THAT(VerifyFailure(Verify(true)),
              HasSubstr("part-0.parquet changed since it was archived"));
  EXPECT_TRUE(Verify(false));  // the archive itself is intact
}

TEST_F(TreeCopyTest, VerifyDetectsASourceThatGainedAFile) {
  ASSERT_TRUE(Copy());
  WriteFile(Source() / "late.parquet", "late", kMtimeA);
  EXPECT_THAT(VerifyFailure(Verify(true)), HasSubstr("holds 3 files; the archive has 2"));
}

TEST_F(TreeCopyTest, CopyFromArchivePutsBackEveryFileWithItsMtime) {
  ASSERT_TRUE(Copy());
  auto status = CopyFromArchive(ArchiveAt(), RestoredAt(), util::NoProgress());
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_THAT(Files(Restored()), ElementsAre("part-0.parquet", "sub/part-1.parquet"));
  EXPECT_EQ(ReadFile(Restored() / "part-0.parquet"), "aaa");
  EXPECT_EQ(MtimeNs(Restored() / "sub" / "part-1.parquet"), kMtimeB);
  auto manifest = ReadManifest(ArchiveAt());
  ASSERT_TRUE(manifest);
  EXPECT_TRUE(VerifyAgainstManifest(*manifest, RestoredAt(), util::NoProgress()));
}

TEST_F(TreeCopyTest, CopyFromArchiveResumesAndReplacesAWrongFile) {
  ASSERT_TRUE(Copy());
  WriteFile(Restored() / "part-0.parquet", "aaa", kMtimeA);                // complete
  WriteFile(Restored() / "sub" / "part-1.parquet", "bbXbb", kMtimeB);      // wrong bytes
  WriteFile(Restored() / "sub" / ".part-1.parquet.tidemark-tmp", "b", 0);  // left by a crash
  auto status = CopyFromArchive(ArchiveAt(), RestoredAt(), util::NoProgress());
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_THAT(Files(Restored()), ElementsAre("part-0.parquet", "sub/part-1.parquet"));
  EXPECT_EQ(ReadFile(Restored() / "sub" / "part-1.parquet"), "bbbbb");
}

TEST_F(TreeCopyTest, CopyFromArchiveDetectsADamagedArchiveFile) {
  ASSERT_TRUE(Copy());
  WriteFile(Archive() / "sub" / "part-1.parquet", "bbbbX", kMtimeB);
  auto status = CopyFromArchive(ArchiveAt(), RestoredAt(), util::NoProgress());
  EXPECT_THAT(VerifyFailure(status), HasSubstr("the archive is damaged"));
  EXPECT_FALSE(fs::exists(Restored() / "sub" / "part-1.parquet"));
}

TEST_F(TreeCopyTest, VerifyAgainstManifestDetectsARestoreThatIsNotTheArchive) {
  auto manifest = Copy();
  ASSERT_TRUE(manifest);
  WriteFile(Restored() / "part-0.parquet", "aaa", kMtimeA);
  EXPECT_THAT(VerifyFailure(VerifyAgainstManifest(*manifest, RestoredAt(), util::NoProgress())),
              HasSubstr("sub/part-1.parquet is missing"));
}

}  // namespace
TEST_F(TreeCopyTest, ArchivingAgainReplacesWrongFilesAndRemovesFilesTheSourceNoLongerHas) {
  // An older archive of the partition: a stale file, and a file with the right size and
  // mtime but other bytes (as a torn copy of the same length would leave).
  WriteFile(Archive() / "part-old.parquet", "old", kMtimeA);
  WriteFile(Archive() / "part-0.parquet", "xxx", kMtimeA);
  auto manifest = Copy();
  ASSERT_TRUE(manifest) << manifest.error().message();
  EXPECT_THAT(Files(Archive()),
              ElementsAre("manifest.json", "part-0.parquet", "sub/part-1.parquet"));
  EXPECT_EQ(ReadFile(Archive() / "part-0.parquet"), "aaa");
  EXPECT_TRUE(Verify(true)) << "the archive now matches its source";
}


// A local store that cannot rename, as S3 cannot; CopyWithin may damage what it copies.
class NoRenameStore : public store::ObjectStore {
 public:
  explicit NoRenameStore(std::unique_ptr<store::ObjectStore> inner) : inner_(std::move(inner)) {}
  std::string url() const override { return inner_->url(); }
  util::Result<std::vector<store::ObjectInfo>> List(const std::string& prefix) override {
    return inner_->List(prefix);
  }
  util::Result<std::optional<store::ObjectInfo>> Stat(const std::string& key) override {
    return inner_->Stat(key);
  }
  util::Result<bool> Exists(const std::string& prefix) override { return inner_->Exists(prefix); }
  util::Result<std::unique_ptr<store::Reader>> OpenRead(const std::string& key) override {
    return inner_->OpenRead(key);
  }
  util::Result<std::unique_ptr<store::Writer>> OpenWrite(const std::string& key) override {
    return inner_->OpenWrite(key);
  }
  util::Status Delete(const std::string& key) override {
    ++deletes;
    return inner_->Delete(key);
  }
  util::Status CopyWithin(const std::string& from, const std::string& to) override {
    ++copies;
    TM_TRY(inner_->CopyWithin(from, to));
    if (!damage) return {};
    auto writer = inner_->OpenWrite(to);
    if (!writer) return tl::unexpected(writer.error());
    TM_TRY((*writer)->Write("x", 1));
    return (*writer)->Commit(0);
  }
  bool CanRename() const override { return false; }
  util::Status Rename(const std::string&, const std::string&) override {
    return util::StepError("cannot rename");
  }
  util::Status ProbeWritable(const std::string& prefix) override {
    return inner_->ProbeWritable(prefix);
  }
  util::Status PruneEmpty(const std::string& prefix) override { return inner_->PruneEmpty(prefix); }
  util::Status Sync(const std::string& prefix) override { return inner_->Sync(prefix); }

  bool damage = false;
  int copies = 0;
  int deletes = 0;

 private:
  std::unique_ptr<store::ObjectStore> inner_;
};

// A store that takes objects as streams (as S3 does up to its multipart threshold): each
// stream is recorded, read once in part (as a request cut short reads it) and then sent
// again from the start.
class StreamingStore : public NoRenameStore {
 public:
  using NoRenameStore::NoRenameStore;
  bool StreamsPut(int64_t size) const override { return size <= 4; }
  util::Status PutFromSource(const std::string& key, int64_t size, const std::string& sha256_hex,
                             int64_t mtime_ns, const store::ByteSource& source) override {
    streamed.push_back(key + " " + std::to_string(size) + " " + sha256_hex);
    char first[2];
    TM_TRY(source(0, first, sizeof first));
    return ObjectStore::PutFromSource(key, size, sha256_hex, mtime_ns, source);
  }
  std::vector<std::string> streamed;
};

TEST_F(TreeCopyTest, ALocalFileIsHashedThenStreamedWithItsHashWhereTheTargetTakesStreams) {
  StreamingStore archive(store::NewLocalStore(root_.string()));
  auto manifest = CopyToArchive(SourceAt(), {&archive, "archive/dt=2024-01-29"}, Header(),
                                util::NoProgress());
  ASSERT_TRUE(manifest) << manifest.error().message();
  // "bbbbb" is over the store's limit of 4 bytes: written as before.
  EXPECT_THAT(archive.streamed, ElementsAre("archive/dt=2024-01-29/part-0.parquet 3 " +
                                            util::Sha256Hex("aaa")));
  EXPECT_EQ(ReadFile(Archive() / "part-0.parquet"), "aaa");  // whole, though read twice
  EXPECT_EQ(MtimeNs(Archive() / "part-0.parquet"), kMtimeA);
  EXPECT_EQ(ReadFile(Archive() / "sub/part-1.parquet"), "bbbbb");
  EXPECT_EQ(manifest->files[0].sha256, util::Sha256Hex("aaa"));
  EXPECT_TRUE(Verify(true)) << "the archive is the source";
}

TEST_F(TreeCopyTest, MoveWithoutRenameCopiesChecksThenDeletes) {
  NoRenameStore store(store::NewLocalStore(root_.string()));
  ASSERT_TRUE(MoveTree(store, "bin/dt=2024-01-29", "moved/dt=2024-01-29", util::NoProgress()));
  EXPECT_THAT(Files(root_ / "moved"), ElementsAre("dt=2024-01-29/part-0.parquet",
                                                  "dt=2024-01-29/sub/part-1.parquet"));
  EXPECT_EQ(ReadFile(root_ / "moved/dt=2024-01-29/sub/part-1.parquet"), "bbbbb");
  EXPECT_EQ(MtimeNs(root_ / "moved/dt=2024-01-29/part-0.parquet"), kMtimeA);
  EXPECT_TRUE(Files(Source()).empty());
  EXPECT_FALSE(*MoveUnfinished(store, "moved/dt=2024-01-29"));
}

TEST_F(TreeCopyTest, MoveWithoutRenameKeepsTheOriginalsWhenACopyDiffers) {
  NoRenameStore store(store::NewLocalStore(root_.string()));
  store.damage = true;
  auto moved = MoveTree(store, "bin/dt=2024-01-29", "moved/dt=2024-01-29", util::NoProgress());
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().category(), util::ErrorCategory::kVerify);
  EXPECT_THAT(moved.error().message(), HasSubstr("nothing was deleted"));
  EXPECT_EQ(store.deletes, 0);
  EXPECT_EQ(Files(Source()).size(), 2u);
  EXPECT_TRUE(*MoveUnfinished(store, "moved/dt=2024-01-29"));
}

TEST_F(TreeCopyTest, AnInterruptedMoveIsFinishedWithoutCopyingAgain) {
  NoRenameStore store(store::NewLocalStore(root_.string()));
  // As a crash after the first copy leaves it: the mark, one copy, both originals.
  WriteFile(root_ / "moved/dt=2024-01-29/.move.tidemark-tmp", "moving", kMtimeA);
  WriteFile(root_ / "moved/dt=2024-01-29/part-0.parquet", "aaa", kMtimeA);
  ASSERT_TRUE(*MoveUnfinished(store, "moved/dt=2024-01-29"));
  ASSERT_TRUE(MoveTree(store, "bin/dt=2024-01-29", "moved/dt=2024-01-29", util::NoProgress()));
  EXPECT_EQ(store.copies, 1);  // only sub/part-1.parquet
  EXPECT_THAT(Files(root_ / "moved"), ElementsAre("dt=2024-01-29/part-0.parquet",
                                                  "dt=2024-01-29/sub/part-1.parquet"));
  EXPECT_TRUE(Files(Source()).empty());
  // A crash after the originals went leaves only the mark: finishing removes it.
  WriteFile(root_ / "moved/dt=2024-01-29/.move.tidemark-tmp", "moving", kMtimeA);
  ASSERT_TRUE(MoveTree(store, "bin/dt=2024-01-29", "moved/dt=2024-01-29", util::NoProgress()));
  EXPECT_FALSE(*MoveUnfinished(store, "moved/dt=2024-01-29"));
  EXPECT_EQ(Files(root_ / "moved").size(), 2u);
}

}  // namespace tidemark::archive
