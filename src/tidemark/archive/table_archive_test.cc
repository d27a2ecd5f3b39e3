// Table archives on a real temporary directory: a stream written in any pieces reads back
// the same, the manifest describes it, damage is found, and nothing half-written is ever
// visible under its final name.

#include "tidemark/archive/table_archive.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <malloc.h>
#include <nlohmann/json.hpp>

#include "tidemark/store/local_store.h"
#include "tidemark/util/failpoint.h"
#include "tidemark/util/sha256.h"

namespace tidemark::archive {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kDataName[] = "data.copy.zst";

// Rows shaped like PostgreSQL COPY text; one in ten holds an escaped newline ("\\n"),
// which is two characters and does not end the row.
std::string Rows(int first, int count) {
  std::string text;
  for (int i = first; i < first + count; ++i) {
    text += std::to_string(i) + "\t2024-01-05 " + std::to_string(10 + i % 12) + ":" +
            std::to_string(10 + i % 50) + ":00+00\t" +
            std::to_string((int64_t{i} * 7919) % 100003) +
            (i % 10 == 0 ? "\tline one\\nline two\n" : "\tsome text\n");
  }
  return text;
}

// The rows of `text`, each with its '\n'.
std::vector<std::string_view> SplitRows(std::string_view text) {
  std::vector<std::string_view> rows;
  while (!text.empty()) {
    size_t end = text.find('\n');
    end = end == std::string_view::npos ? text.size() : end + 1;
    rows.push_back(text.substr(0, end));
    text.remove_prefix(end);
  }
  return rows;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
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

// A kilobyte figure ("VmHWM", "VmRSS") of /proc/self/status.
int64_t StatusKb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::atoll(line.c_str() + field.size() + 1);
  }
  return -1;
}

class RecordingProgress : public util::Progress {
 public:
  void Begin(const std::string& label, int64_t total_bytes) override {
    label_ = label;
    total_ = total_bytes;
  }
  void Advance(int64_t bytes) override { done_ += bytes; }
  void End() override { ended_ = true; }

  std::string label_;
  int64_t total_ = 0;
  int64_t done_ = 0;
  bool ended_ = false;
};

// Forwards to a store whose writers fail once they have taken `limit` bytes.
class FailingWritesStore : public store::ObjectStore {
 public:
  FailingWritesStore(store::ObjectStore& inner, size_t limit) : inner_(inner), limit_(limit) {}

  std::string url() const override { return inner_.url(); }
  util::Result<std::vector<store::ObjectInfo>> List(const std::string& p) override {
    return inner_.List(p);
  }
  util::Result<std::optional<store::ObjectInfo>> Stat(const std::string& k) override {
    return inner_.Stat(k);
  }
  util::Result<bool> Exists(const std::string& p) override { return inner_.Exists(p); }
  util::Result<std::unique_ptr<store::Reader>> OpenRead(const std::string& k) override {
    return inner_.OpenRead(k);
  }
  util::Result<std::unique_ptr<store::Writer>> OpenWrite(const std::string& key) override {
    TM_TRY_ASSIGN(auto writer, inner_.OpenWrite(key));
    return std::unique_ptr<store::Writer>(new FailingWriter(std::move(writer), limit_));
  }
  util::Status Delete(const std::string& k) override { return inner_.Delete(k); }
  bool CanRename() const override { return inner_.CanRename(); }
  util::Status Rename(const std::string& f, const std::string& t) override {
    return inner_.Rename(f, t);
  }
  util::Status ProbeWritable(const std::string& p) override { return inner_.ProbeWritable(p); }
  util::Status PruneEmpty(const std::string& p) override { return inner_.PruneEmpty(p); }
  util::Status Sync(const std::string& p) override { return inner_.Sync(p); }

 private:
  class FailingWriter : public store::Writer {
   public:
    FailingWriter(std::unique_ptr<store::Writer> inner, size_t limit)
        : inner_(std::move(inner)), left_(limit) {}
    util::Status Write(const char* data, size_t size) override {
      if (size > left_) return util::StepError("injected: no space left on the archive");
      left_ -= size;
      return inner_->Write(data, size);
    }
    util::Status Commit(int64_t mtime_ns) override { return inner_->Commit(mtime_ns); }

   private:
    std::unique_ptr<store::Writer> inner_;
    size_t left_;
  };

  store::ObjectStore& inner_;
  size_t limit_;
};

class TableArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/tidemark-table-archive-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    root_ = dir;
    store_ = store::NewLocalStore(root_.string());
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path Archive() const { return root_ / "archive" / "events_p20240105"; }
  fs::path DataFile() const { return Archive() / kDataName; }
  TreeLocation At() { return {store_.get(), "archive/events_p20240105"}; }

  static Manifest Header() {
    Manifest header;
    header.dataset = "events";
    header.partition = "events_p20240105";
    header.run_id = "run-1";
    TableSection& table = header.table.emplace();
    table.format = kTableFormatPostgresCopyText;
    table.columns = {{"id", "bigint"}, {"at", "timestamp with time zone"}, {"note", "text"}};
    table.ddl = "CREATE TABLE public.events_p20240105 (id bigint, at timestamptz, note text)";
    table.source_table = "public.events_p20240105";
    table.bounds = "FOR VALUES FROM ('2024-01-05') TO ('2024-01-06')";
    return header;
  }

  // Writes `pieces` through a writer and finishes it.
  util::Result<Manifest> WriteArchive(const std::vector<std::string_view>& pieces) {
    TM_TRY_ASSIGN(auto writer, TableArchiveWriter::Open(At(), kDataName));
    for (std::string_view piece : pieces) TM_TRY(writer->Write(piece));
    return writer->Finish(Header());
  }

  util::Result<std::string> ReadArchive(util::Progress& progress = util::NoProgress()) {
    TM_TRY_ASSIGN(auto reader, TableArchiveReader::Open(At(), progress));
    std::string stream;
    while (true) {
      TM_TRY_ASSIGN(std::string_view piece, reader->Next());
      if (piece.empty()) return stream;
      stream.append(piece);
    }
  }

  // Rewrites the manifest on disk after `change`.
  void EditManifest(const std::function<void(Manifest&)>& change) {
    auto manifest = ManifestFromJson(ReadFile(Archive() / kManifestName), "manifest");
    ASSERT_TRUE(manifest) << manifest.error().message();
    change(*manifest);
    WriteFile(Archive() / kManifestName, ManifestToJson(*manifest));
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

TEST_F(TableArchiveTest, AStreamWrittenOneRowAtATimeReadsBackTheSame) {
  const std::string stream = Rows(0, 300000);  // ~12 MiB: many buffers
  auto manifest = WriteArchive(SplitRows(stream));
  ASSERT_TRUE(manifest) << manifest.error().message();
  EXPECT_EQ(manifest->table->rows, 300000);
  auto read = ReadArchive();
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_TRUE(*read == stream) << read->size() << " bytes read of " << stream.size();
}

TEST_F(TableArchiveTest, AStreamWrittenInPiecesLargerThanEveryBufferReadsBackTheSame) {
  const std::string a = Rows(0, 250000), b = Rows(250000, 250000);  // ~10 MiB each
  auto manifest = WriteArchive({a, "", b, "7\tx\ty\tz\n"});
  ASSERT_TRUE(manifest) << manifest.error().message();
  EXPECT_EQ(manifest->table->rows, 500001);
  auto read = ReadArchive();
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_TRUE(*read == a + b + "7\tx\ty\tz\n");
}

TEST_F(TableArchiveTest, TheManifestDescribesTheDataFileAndTheStream) {
  const std::string stream = Rows(0, 1000);
  auto manifest = WriteArchive({stream});
  ASSERT_TRUE(manifest) << manifest.error().message();
  EXPECT_THAT(Files(Archive()), ElementsAre(kDataName, "manifest.json"));

  auto written = ReadTableManifest(At());
  ASSERT_TRUE(written) << written.error().message();
  ASSERT_TRUE(written->has_value());
  const Manifest& m = **written;
  EXPECT_EQ(m.dataset, "events");
  EXPECT_EQ(m.partition, "events_p20240105");
  EXPECT_EQ(m.run_id, "run-1");
  ASSERT_EQ(m.files.size(), 1u);
  EXPECT_EQ(m.files[0].path, kDataName);
  EXPECT_EQ(m.files[0].size, static_cast<int64_t>(fs::file_size(DataFile())));
  EXPECT_EQ(m.files[0].sha256, util::Sha256Hex(ReadFile(DataFile())));
  auto info = store_->Stat("archive/events_p20240105/data.copy.zst");
  ASSERT_TRUE(info && *info);
  EXPECT_EQ(m.files[0].mtime_ns, (*info)->mtime_ns);
  ASSERT_TRUE(m.table);
  const TableSection& t = *m.table;
  EXPECT_EQ(t.format, "postgres-copy-text");
  EXPECT_EQ(t.compression, "zstd");
  ASSERT_EQ(t.columns.size(), 3u);
  EXPECT_EQ(t.columns[1].name, "at");
  EXPECT_EQ(t.columns[1].type, "timestamp with time zone");
  EXPECT_EQ(t.ddl, Header().table->ddl);
  EXPECT_EQ(t.source_table, "public.events_p20240105");
  EXPECT_EQ(t.bounds, "FOR VALUES FROM ('2024-01-05') TO ('2024-01-06')");
  EXPECT_EQ(t.rows, 1000);
  EXPECT_EQ(t.content_bytes, static_cast<int64_t>(stream.size()));
  EXPECT_EQ(t.content_sha256, util::Sha256Hex(stream));
  EXPECT_EQ(ManifestToJson(m), ManifestToJson(*manifest));
  EXPECT_LT(m.files[0].size, t.content_bytes / 2);
}

TEST_F(TableArchiveTest, AnEmptyTableIsAnArchiveOfZeroRows) {
  auto manifest = WriteArchive({});
  ASSERT_TRUE(manifest) << manifest.error().message();
  EXPECT_EQ(manifest->table->rows, 0);
  EXPECT_EQ(manifest->table->content_bytes, 0);
  EXPECT_GT(manifest->files[0].size, 0);  // one empty frame
  auto read = ReadArchive();
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(*read, "");
  EXPECT_TRUE(VerifyTableArchive(At(), util::NoProgress()));
}

TEST_F(TableArchiveTest, TheManifestAppearsOnlyWhenFinished) {
  auto writer = TableArchiveWriter::Open(At(), kDataName);
  ASSERT_TRUE(writer) << writer.error().message();
  ASSERT_TRUE((*writer)->Write(Rows(0, 200000)));
  auto before = ReadTableManifest(At());
  ASSERT_TRUE(before) << before.error().message();
  EXPECT_FALSE(before->has_value());
  ASSERT_TRUE((*writer)->Finish(Header()));
  auto after = ReadTableManifest(At());
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_TRUE(after->has_value());
}

TEST_F(TableArchiveTest, AnUnfinishedWriterLeavesNothingVisible) {
  {
    auto writer = TableArchiveWriter::Open(At(), kDataName);
    ASSERT_TRUE(writer) << writer.error().message();
    ASSERT_TRUE((*writer)->Write(Rows(0, 300000)));  // compressed blocks reached the store
  }
  EXPECT_THAT(Files(Archive()), ElementsAre());
}

TEST_F(TableArchiveTest, WritingAnArchiveAgainWithdrawsItsManifestUntilFinished) {
  ASSERT_TRUE(WriteArchive({Rows(0, 100)}));
  const std::string old_data = ReadFile(DataFile());
  {
    auto writer = TableArchiveWriter::Open(At(), kDataName);
    ASSERT_TRUE(writer) << writer.error().message();
    ASSERT_TRUE((*writer)->Write(Rows(0, 5000)));
  }
  // The earlier data file is untouched, but no manifest vouches for it any more.
  EXPECT_THAT(Files(Archive()), ElementsAre(kDataName));
  EXPECT_EQ(ReadFile(DataFile()), old_data);
  EXPECT_THAT(VerifyFailure(VerifyTableArchive(At(), util::NoProgress())),
              HasSubstr("no manifest at file://" + Archive().string() + "/manifest.json"));
}

TEST_F(TableArchiveTest, FinishRemovesLeftoversOfEarlierAttempts) {
  WriteFile(Archive() / "old.copy.zst", "old");
  WriteFile(Archive() / ".data.copy.zst.tidemark-tmp", "half");
  ASSERT_TRUE(WriteArchive({Rows(0, 10)}));
  EXPECT_THAT(Files(Archive()), ElementsAre(kDataName, "manifest.json"));
  EXPECT_TRUE(VerifyTableArchive(At(), util::NoProgress()));
}

TEST_F(TableArchiveTest, ErrorsOfTheStoreAreReturnedAndLeaveNoArchive) {
  FailingWritesStore failing(*store_, 2 << 20);
  auto writer = TableArchiveWriter::Open({&failing, "archive/events_p20240105"}, kDataName);
  ASSERT_TRUE(writer) << writer.error().message();
  util::Status status;
  for (int i = 0; i < 40 && status; ++i) status = (*writer)->Write(Rows(i * 100000, 100000));
  if (status) status = (*writer)->Finish(Header()).map([](const Manifest&) {});
  ASSERT_FALSE(status);
  EXPECT_THAT(status.error().message(), HasSubstr("injected: no space left"));
  EXPECT_FALSE((*writer)->Write("1\n"));  // stays failed
  writer->reset();
  EXPECT_THAT(Files(Archive()), ElementsAre());
}

TEST_F(TableArchiveTest, ReadTableManifestTellsAMissingManifestFromABadOne) {
  auto absent = ReadTableManifest(At());
  ASSERT_TRUE(absent) << absent.error().message();
  EXPECT_FALSE(absent->has_value());

  Manifest lake = Header();
  lake.table.reset();
  WriteFile(Archive() / kManifestName, ManifestToJson(lake));
  EXPECT_THAT(VerifyFailure(ReadTableManifest(At())),
              HasSubstr("describes a lake archive, not a table archive"));

  Manifest lz4 = Header();
  lz4.table->compression = "lz4";
  lz4.files = {{kDataName, 1, 1, "00"}};
  WriteFile(Archive() / kManifestName, ManifestToJson(lz4));
  EXPECT_THAT(VerifyFailure(ReadTableManifest(At())),
              HasSubstr("compression \"lz4\" is unknown; this tidemark reads \"zstd\""));

  WriteFile(Archive() / kManifestName, "{\"format\": ");
  EXPECT_THAT(VerifyFailure(ReadTableManifest(At())), HasSubstr("unreadable manifest"));
}

TEST_F(TableArchiveTest, VerifyAcceptsAnIntactArchiveAndReportsCompressedBytes) {
  auto manifest = WriteArchive({Rows(0, 50000)});
  ASSERT_TRUE(manifest) << manifest.error().message();
  RecordingProgress progress;
  auto verified = VerifyTableArchive(At(), progress);
  ASSERT_TRUE(verified) << verified.error().message();
  EXPECT_EQ(verified->table->rows, 50000);
  EXPECT_EQ(progress.label_, "verify public.events_p20240105");
  EXPECT_EQ(progress.total_, manifest->files[0].size);
  EXPECT_EQ(progress.done_, manifest->files[0].size);
  EXPECT_TRUE(progress.ended_);
}

TEST_F(TableArchiveTest, VerifyRefusesAFileTheManifestDoesNotList) {
  ASSERT_TRUE(WriteArchive({Rows(0, 10)}));
  WriteFile(Archive() / "stray.csv", "1,2\n");
  EXPECT_THAT(VerifyFailure(VerifyTableArchive(At(), util::NoProgress())),
              HasSubstr("stray.csv is not in the manifest"));
}

TEST_F(TableArchiveTest, AFlippedByteInTheDataFileIsAVerifyError) {
  ASSERT_TRUE(WriteArchive({Rows(0, 100000)}));
  const std::string intact = ReadFile(DataFile());
  for (size_t at : {intact.size() / 2, intact.size() - 1}) {  // a block; the frame checksum
    std::string damaged = intact;
    damaged[at] ^= 0x01;
    WriteFile(DataFile(), damaged);
    EXPECT_THAT(VerifyFailure(VerifyTableArchive(At(), util::NoProgress())),
                HasSubstr(DataFile().string()))
        << at;
  }
}

TEST_F(TableArchiveTest, ATruncatedDataFileIsRefusedBeforeAnyRowIsReturned) {
  auto manifest = WriteArchive({Rows(0, 100000)});
  ASSERT_TRUE(manifest) << manifest.error().message();
  const std::string data = ReadFile(DataFile());
  WriteFile(DataFile(), data.substr(0, data.size() - 100));
  EXPECT_THAT(VerifyFailure(TableArchiveReader::Open(At(), util::NoProgress())),
              HasSubstr(DataFile().string() + " has " + std::to_string(data.size() - 100) +
                        " bytes; the manifest says " + std::to_string(data.size())));
}

TEST_F(TableArchiveTest, ATruncatedDataFileIsFoundEvenWhenTheManifestAgreesOnItsSize) {
  ASSERT_TRUE(WriteArchive({Rows(0, 100000)}));
  const std::string data = ReadFile(DataFile());
  WriteFile(DataFile(), data.substr(0, data.size() / 2));
  EditManifest([&](Manifest& m) {
    m.files[0].size = static_cast<int64_t>(data.size() / 2);
    m.files[0].sha256 = util::Sha256Hex(data.substr(0, data.size() / 2));
  });
  EXPECT_THAT(VerifyFailure(ReadArchive()), HasSubstr("truncated zstd data"));
}

TEST_F(TableArchiveTest, AWrongRowCountIsAnErrorInsteadOfTheEndOfTheStream) {
  const std::string stream = Rows(0, 1000);
  ASSERT_TRUE(WriteArchive({stream}));
  EditManifest([](Manifest& m) { m.table->rows = 1001; });
  auto reader = TableArchiveReader::Open(At(), util::NoProgress());
  ASSERT_TRUE(reader) << reader.error().message();
  auto piece = (*reader)->Next();
  ASSERT_TRUE(piece) << piece.error().message();
  EXPECT_EQ(*piece, stream);  // the rows come, but the end does not
  EXPECT_THAT(VerifyFailure((*reader)->Next()),
              HasSubstr(DataFile().string() +
                        " does not match its manifest: row count 1000, the manifest says 1001"));
}

TEST_F(TableArchiveTest, AWrongContentChecksumIsAVerifyError) {
  ASSERT_TRUE(WriteArchive({Rows(0, 1000)}));
  EditManifest([](Manifest& m) { m.table->content_sha256 = util::Sha256Hex("other"); });
  EXPECT_THAT(VerifyFailure(ReadArchive()),
              HasSubstr("uncompressed sha256 " + util::Sha256Hex(Rows(0, 1000)) +
                        ", the manifest says " + util::Sha256Hex("other")));
}

TEST_F(TableArchiveTest, TheReaderReportsProgressUnderTheSourceTable) {
  auto manifest = WriteArchive({Rows(0, 1000)});
  ASSERT_TRUE(manifest) << manifest.error().message();
  RecordingProgress progress;
  ASSERT_TRUE(ReadArchive(progress));
  EXPECT_EQ(progress.label_, "restore public.events_p20240105");
  EXPECT_EQ(progress.done_, manifest->files[0].size);
  EXPECT_TRUE(progress.ended_);
}

TEST_F(TableArchiveTest, AnExportStoppedMidStreamLeavesNeitherDataNorManifest) {
  const std::string stream = Rows(0, 200000);
  EXPECT_EXIT(
      {
        setenv("TIDEMARK_FAILPOINT", "export.mid_stream", 1);
        util::ReloadFailpoints();
        (void)WriteArchive({stream});
        std::exit(0);
      },
      ::testing::ExitedWithCode(util::kFailpointExitCode), "failpoint export.mid_stream reached");
  EXPECT_THAT(Files(Archive()), ElementsAre());
}

TEST_F(TableArchiveTest, ARestoreStopsMidStreamAfterTheFirstPiece) {
  ASSERT_TRUE(WriteArchive({Rows(0, 200000)}));
  EXPECT_EXIT(
      {
        setenv("TIDEMARK_FAILPOINT", "restore.mid_stream", 1);
        util::ReloadFailpoints();
        auto reader = TableArchiveReader::Open(At(), util::NoProgress());
        if (!reader || !(*reader)->Next()) std::exit(1);
        std::fprintf(stderr, "first piece returned\n");
        (void)(*reader)->Next();
        std::exit(0);
      },
      ::testing::ExitedWithCode(util::kFailpointExitCode),
      "first piece returned\n.*failpoint restore.mid_stream reached");
}

// The whole process's peak memory must not follow the table's size.
TEST_F(TableArchiveTest, PeakMemoryStaysFlatWhileA256MiBStreamIsWritten) {
  const std::string block = Rows(0, 25000);  // ~1 MiB
  const std::vector<std::string_view> rows = SplitRows(block);
  constexpr int64_t kTotal = int64_t{256} << 20;
  malloc_trim(0);  // free memory earlier tests left resident would hide our growth
  {
    std::ofstream clear("/proc/self/clear_refs");
    if (!(clear << "5" << std::flush)) GTEST_SKIP() << "cannot reset the peak RSS here";
  }
  const int64_t before_kb = StatusKb("VmHWM");
  auto writer = TableArchiveWriter::Open(At(), kDataName);
  ASSERT_TRUE(writer) << writer.error().message();
  int64_t written = 0, rows_written = 0;
  while (written < kTotal) {
    for (std::string_view row : rows) ASSERT_TRUE((*writer)->Write(row));
    written += static_cast<int64_t>(block.size());
    rows_written += static_cast<int64_t>(rows.size());
  }
  auto manifest = (*writer)->Finish(Header());
  ASSERT_TRUE(manifest) << manifest.error().message();
  const int64_t growth_kb = StatusKb("VmHWM") - before_kb;
  EXPECT_EQ(manifest->table->content_bytes, written);
  EXPECT_EQ(manifest->table->rows, rows_written);
  EXPECT_LT(growth_kb, 32 * 1024) << "peak RSS grew by " << growth_kb << " KiB";
  RecordProperty("peak_rss_growth_kib", std::to_string(growth_kb));
}

TEST(ManifestTest, ALakeManifestWithoutATableSectionReadsAndWritesAsBefore) {
  // As written before table archives existed.
  const std::string old = R"({
 "bytes": 8,
 "created_at": "2024-04-10T10:00:00Z",
 "dataset": "events",
 "file_count": 1,
 "files": [{"mtime_ns": 1706500000123456789, "path": "part-0.parquet", "sha256": "ab", "size": 8}],
 "format": "tidemark-archive/1",
 "lifecycle": "default",
 "partition": "dt=2024-01-29",
 "range_end": "2024-01-30T00:00:00Z",
 "range_start": "2024-01-29T00:00:00Z",
 "run_id": "run-1",
 "source": "file:///lake/events/dt=2024-01-29",
 "storage": "lake",
 "tool": "tidemark 0.1.0"
})";
  auto manifest = ManifestFromJson(old, "old.json");
  ASSERT_TRUE(manifest) << manifest.error().message();
  EXPECT_FALSE(manifest->table);
  EXPECT_EQ(manifest->partition, "dt=2024-01-29");
  ASSERT_EQ(manifest->files.size(), 1u);
  EXPECT_EQ(manifest->files[0].mtime_ns, 1706500000123456789);
  const std::string again = ManifestToJson(*manifest);
  EXPECT_THAT(again, ::testing::Not(HasSubstr("\"table\"")));
  EXPECT_EQ(nlohmann::json::parse(again), nlohmann::json::parse(old));
}

TEST(ManifestTest, TheTableSectionSurvivesJson) {
  Manifest manifest;
  TableSection& table = manifest.table.emplace();
  table.format = kTableFormatMariadbLoadDataText;
  table.columns = {{"id", "bigint(20)"}, {"note", "varchar(200)"}};
  table.ddl = "CREATE TABLE `t` (\n  `id` bigint(20)\n)";
  table.source_table = "shop.orders";
  table.bounds = "VALUES LESS THAN (20240106)";
  table.rows = int64_t{1} << 40;
  table.content_bytes = int64_t{3} << 40;
  table.content_sha256 = util::Sha256Hex("x");
  manifest.files = {{kDataName, 10, 20, util::Sha256Hex("y")}};
  auto back = ManifestFromJson(ManifestToJson(manifest), "m");
  ASSERT_TRUE(back) << back.error().message();
  ASSERT_TRUE(back->table);
  EXPECT_EQ(back->table->format, "mariadb-load-data-text");
  EXPECT_EQ(back->table->columns[1].type, "varchar(200)");
  EXPECT_EQ(back->table->ddl, table.ddl);
  EXPECT_EQ(back->table->rows, int64_t{1} << 40);
  EXPECT_EQ(ManifestToJson(*back), ManifestToJson(manifest));
}

TEST(ManifestTest, ATableSectionWithoutItsCountsIsUnreadable) {
  const std::string text =
      R"({"format": "tidemark-archive/1", "files": [], "table": {"format": "postgres-copy-text",)"
      R"( "compression": "zstd", "columns": []}})";
  auto manifest = ManifestFromJson(text, "m.json");
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().category(), util::ErrorCategory::kVerify);
  EXPECT_THAT(manifest.error().message(), HasSubstr("m.json: unreadable manifest"));
}

}  // namespace
}  // namespace tidemark::archive
