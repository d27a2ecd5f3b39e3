// Snapshots of the Delta golden tables written by Spark (read in place, never copied
// into the project), and of logs built or damaged in temporary directories.

#include "tidemark/backend/lake/delta_snapshot.h"

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <stdlib.h>

#include "tidemark/backend/lake/delta_checkpoint.h"
#include "tidemark/backend/lake/parquet_writer.h"
#include "tidemark/store/local_store.h"

namespace tidemark::backend::lake::delta {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Values = std::vector<std::pair<std::string, std::optional<std::string>>>;

fs::path GoldenDir() {
  return fs::weakly_canonical(fs::path(TIDEMARK_TESTDATA_DIR) / "delta-golden");
}

std::unique_ptr<store::ObjectStore> GoldenStore() {
  return store::NewLocalStore(GoldenDir().string());
}

util::Result<Snapshot> ReadGolden(const std::string& table, SnapshotOptions options = {}) {
  auto store = GoldenStore();
  return ReadSnapshot(*store, table, options);
}

std::vector<std::string> Keys(const Snapshot& snapshot) {
  std::vector<std::string> keys;
  for (const LiveFile& file : snapshot.files) keys.push_back(file.key);
  return keys;
}

std::vector<Partition> PartitionsOf(const Snapshot& snapshot) {
  auto partitions = Partitions(snapshot);
  EXPECT_TRUE(partitions) << partitions.error().message();
  return partitions ? *partitions : std::vector<Partition>{};
}

// What each golden table holds at its newest version, worked out from its log.
struct Expected {
  int64_t version;
  size_t files;
  std::vector<std::string> partition_columns;
  std::optional<int64_t> checkpoint;
};

const std::map<std::string, Expected>& GoldenTables() {
  static const std::map<std::string, Expected> tables = {
      {"basic-with-inserts-deletes-checkpoint", {13, 7, {}, 10}},
      {"basic-with-vacuum-protocol-check-feature", {1, 2, {}, std::nullopt}},
      {"canonicalized-paths-special-a", {1, 0, {}, std::nullopt}},
      {"checkpoint", {14, 1, {}, 10}},
      {"corrupted-last-checkpoint", {10, 11, {}, 10}},
      {"data-reader-date-types-UTC", {0, 2, {}, std::nullopt}},
      {"data-reader-partition-values",
       {0,
        3,
        {"as_int", "as_long", "as_byte", "as_short", "as_boolean", "as_float", "as_double",
         "as_string", "as_string_lit_null", "as_date", "as_timestamp", "as_big_decimal"},
        std::nullopt}},
      {"kernel-timestamp-partition-col-ISO8601", {0, 2, {"ts"}, std::nullopt}},
      {"log-replay-special-characters", {1, 0, {}, std::nullopt}},
      {"only-checkpoint-files", {2, 7, {}, 2}},
      {"snapshot-vacuumed", {5, 2, {}, std::nullopt}},
      {"table-with-columnmapping-mode-name", {0, 2, {}, std::nullopt}},
      {"time-travel-partition-changes-a", {0, 10, {"part5"}, std::nullopt}},
  };
  return tables;
}

TEST(DeltaSnapshot, EveryGoldenTableReadsAtItsVersionWithItsFiles) {
  for (const auto& entry : fs::directory_iterator(GoldenDir())) {
    const std::string name = entry.path().filename().string();
    if (name == "deltalog-invalid-protocol-version") continue;  // refused, below
    const auto expected = GoldenTables().find(name);
    ASSERT_NE(expected, GoldenTables().end()) << "no expectation for the golden table " << name;
    auto snapshot = ReadGolden(name);
    ASSERT_TRUE(snapshot) << name << ": " << snapshot.error().message();
    EXPECT_EQ(snapshot->version, expected->second.version) << name;
    EXPECT_EQ(snapshot->files.size(), expected->second.files) << name;
    EXPECT_EQ(snapshot->metadata.partition_columns, expected->second.partition_columns) << name;
    EXPECT_EQ(snapshot->checkpoint_version, expected->second.checkpoint) << name;
    EXPECT_THAT(snapshot->notes, IsEmpty()) << name;
  }
}

// The acceptance criterion: where every JSON commit is still there, the newest
// checkpoint plus the later commits give the same files as all commits from 0.
TEST(DeltaSnapshot, CheckpointPlusCommitsEqualsEveryCommitFromZero) {
  for (const auto& [name, expected] : GoldenTables()) {
    auto fast = ReadGolden(name);
    auto slow = ReadGolden(name, {.json_only = true});
    ASSERT_TRUE(fast && slow) << name;
    EXPECT_FALSE(slow->checkpoint_version) << name;
    EXPECT_EQ(fast->version, slow->version) << name;
    ASSERT_EQ(Keys(*fast), Keys(*slow)) << name;
    for (size_t i = 0; i < fast->files.size(); ++i) {
      const AddFile& a = fast->files[i].add;
      const AddFile& b = slow->files[i].add;
      EXPECT_EQ(a.path, b.path) << name;
      EXPECT_EQ(a.size, b.size) << name;
      EXPECT_EQ(a.modification_time, b.modification_time) << name;
      EXPECT_EQ(a.partition_values, b.partition_values) << name;
      EXPECT_EQ(a.stats, b.stats) << name;
    }
    EXPECT_EQ(fast->protocol.min_reader_version, slow->protocol.min_reader_version) << name;
    EXPECT_EQ(fast->metadata.id, slow->metadata.id) << name;
    EXPECT_EQ(fast->metadata.schema_string, slow->metadata.schema_string) << name;
  }
}

TEST(DeltaSnapshot, BasicTableWithACheckpointAndLaterDeletes) {
  auto snapshot = ReadGolden("basic-with-inserts-deletes-checkpoint");
  ASSERT_TRUE(snapshot) << snapshot.error().message();
  EXPECT_EQ(snapshot->table, "basic-with-inserts-deletes-checkpoint");
  EXPECT_EQ(snapshot->root_url,
            "file://" + (GoldenDir() / "basic-with-inserts-deletes-checkpoint").string());
  EXPECT_THAT(Keys(*snapshot),
              ElementsAre("part-00000-1b0098ea-c696-4470-84cc-d43bb7afb833-c000.snappy.parquet",
                          "part-00000-4b448490-06f4-4c74-9f65-9f36ae68e3b2-c000.snappy.parquet",
                          "part-00000-7d1a368c-74ea-42df-9527-2c9a7c8292b9-c000.snappy.parquet",
                          "part-00000-c92cba9e-6c07-4a93-916a-0a6e115e39b3-c000.snappy.parquet",
                          "part-00000-ca2d0b26-c15c-454f-a933-fc724e15e5f1-c000.snappy.parquet",
                          "part-00000-da82aeb5-4edb-4cc1-91ef-970c75c965cc-c000.snappy.parquet",
                          "part-00000-f80053c6-2b0d-41ed-ab5f-61ef1503cae6-c000.snappy.parquet"));
  // Removed files remain as tombstones (from the checkpoint and the later commits).
  std::set<std::string> tombstones;
  for (const Tombstone& t : snapshot->tombstones) tombstones.insert(t.key);
  EXPECT_TRUE(
      tombstones.count("part-00000-26da113c-2e45-4aba-b1ce-6eb5e46c53f7-c000.snappy.parquet"));
  EXPECT_TRUE(
      tombstones.count("part-00000-b09fdf65-0ae3-44d0-96d0-1d85a121b76a-c000.snappy.parquet"));
  EXPECT_EQ(snapshot->protocol.min_writer_version, 2);
  ASSERT_TRUE(snapshot->commit_info);
  EXPECT_THAT(*snapshot->commit_info, HasSubstr("\"operation\":\"DELETE\""));
  const std::vector<Partition> partitions = PartitionsOf(*snapshot);
  ASSERT_EQ(partitions.size(), 1u);
  EXPECT_EQ(partitions[0].name, "");
  EXPECT_EQ(partitions[0].files.size(), 7u);
  EXPECT_EQ(partitions[0].total_bytes, 500 + 503 * 4 + 527 + 510);
  EXPECT_EQ(partitions[0].newest_modification_time, 1691426743013);
  EXPECT_TRUE(CanWrite(*snapshot));
}

TEST(DeltaSnapshot, PartitionValuesOfManyTypesAndNulls) {
  auto snapshot = ReadGolden("data-reader-partition-values");
  ASSERT_TRUE(snapshot) << snapshot.error().message();
  const std::vector<Partition> partitions = PartitionsOf(*snapshot);
  ASSERT_EQ(partitions.size(), 3u);
  const std::string zero =
      "as_int=0/as_long=0/as_byte=0/as_short=0/as_boolean=true/as_float=0.0/as_double=0.0/"
      "as_string=0/as_string_lit_null=null/as_date=2021-09-08/"
      "as_timestamp=2021-09-08 11%3A11%3A11/as_big_decimal=0";
  EXPECT_EQ(partitions[0].name, zero);
  EXPECT_THAT(
      partitions[0].files,
      ElementsAre(zero + "/part-00000-b9dc86ae-0134-4363-bd87-19cfb3403e9a.c000.snappy.parquet"));
  EXPECT_EQ(partitions[0].total_bytes, 1944);
  EXPECT_EQ(partitions[0].values[10],
            std::make_pair(std::string("as_timestamp"),
                           std::optional<std::string>("2021-09-08 11:11:11")));
  EXPECT_EQ(partitions[1].name.substr(0, 19), "as_int=1/as_long=1/");
  const Partition& nulls = partitions[2];
  EXPECT_EQ(nulls.name.substr(0, 55), "as_int=__HIVE_DEFAULT_PARTITION__/as_long=__HIVE_DEFAUL");
  for (const auto& [column, value] : nulls.values) EXPECT_FALSE(value) << column;
  // The file keys are where Spark put the files.
  auto store = GoldenStore();
  for (const Partition& partition : partitions) {
    for (const std::string& key : partition.files) {
      EXPECT_TRUE(store->Stat("data-reader-partition-values/" + key).value()) << key;
    }
  }
}

TEST(DeltaSnapshot, IsoTimestampPartitionValuesNameTheirPartitions) {
  auto snapshot = ReadGolden("kernel-timestamp-partition-col-ISO8601");
  ASSERT_TRUE(snapshot) << snapshot.error().message();
  const std::vector<Partition> partitions = PartitionsOf(*snapshot);
  ASSERT_EQ(partitions.size(), 2u);
  EXPECT_EQ(partitions[0].name, "ts=2024-01-01T10%3A00%3A00.000000Z");
  EXPECT_EQ(partitions[0].values,
            (Values{{"ts", std::optional<std::string>("2024-01-01T10:00:00.000000Z")}}));
  EXPECT_THAT(partitions[0].files,
              ElementsAre("ts=2024-01-01 10%3A00%3A00/"
                          "part-00000-9630b3f5-7ab4-4688-9822-3ef93a9d0559.c000.snappy.parquet"));
  EXPECT_EQ(partitions[0].total_bytes, 570);
  EXPECT_EQ(partitions[0].newest_modification_time, 1748542297686);
  EXPECT_EQ(partitions[1].name, "ts=2024-01-02T12%3A30%3A00.000000Z");
  auto store = GoldenStore();
  for (const LiveFile& file : snapshot->files) {
    EXPECT_TRUE(store->Stat("kernel-timestamp-partition-col-ISO8601/" + file.key).value());
  }
}

TEST(DeltaSnapshot, PartitionsOfATableWithOnePartitionColumn) {
  auto snapshot = ReadGolden("time-travel-partition-changes-a");
  ASSERT_TRUE(snapshot) << snapshot.error().message();
  const std::vector<Partition> partitions = PartitionsOf(*snapshot);
  ASSERT_EQ(partitions.size(), 5u);
  EXPECT_EQ(partitions[0].name, "part5=0");
  EXPECT_THAT(
      partitions[0].files,
      ElementsAre("part5=0/part-00000-67b6882e-f49f-4df5-9850-b5e8a72f4917.c000.snappy.parquet",
                  "part5=0/part-00001-4f02a740-31dc-46c6-bc0e-c19d164ac82d.c000.snappy.parquet"));
  EXPECT_EQ(partitions[0].total_bytes, 858);
  EXPECT_EQ(partitions[0].newest_modification_time, 1603724025000);
  EXPECT_EQ(partitions[4].name, "part5=4");
  EXPECT_EQ(partitions[4].newest_modification_time, 1603724026000);
}

TEST(DeltaSnapshot, SpecialCharactersInPaths) {
  auto v0 = ReadGolden("log-replay-special-characters", {.max_version = 0});
  ASSERT_TRUE(v0) << v0.error().message();
  EXPECT_THAT(Keys(*v0), ElementsAre("special p@#h"));
  EXPECT_EQ(v0->files[0].add.path, "special%20p@%23h");
  auto v1 = ReadGolden("log-replay-special-characters");
  ASSERT_TRUE(v1);
  EXPECT_THAT(Keys(*v1), IsEmpty());
  ASSERT_EQ(v1->tombstones.size(), 1u);
  EXPECT_EQ(v1->tombstones[0].key, "special p@#h");
}

// The remove names "file:/some/…" the file the add named "/some/…": one file.
TEST(DeltaSnapshot, PathsAreComparedCanonically) {
  auto v0 = ReadGolden("canonicalized-paths-special-a", {.max_version = 0});
  ASSERT_TRUE(v0) << v0.error().message();
  ASSERT_EQ(v0->files.size(), 1u);
  EXPECT_TRUE(v0->files[0].outside_root);
  EXPECT_EQ(v0->files[0].key, "file:/some/unqualified/with space/p@#h");
  EXPECT_THAT(Partitions(*v0).error().message(), HasSubstr("outside the table root"));
  auto v1 = ReadGolden("canonicalized-paths-special-a");
  ASSERT_TRUE(v1);
  EXPECT_THAT(v1->files, IsEmpty());
}

TEST(DeltaSnapshot, VacuumedTableListsOnlyTheFilesThatAreThere) {
  auto snapshot = ReadGolden("snapshot-vacuumed");
  ASSERT_TRUE(snapshot) << snapshot.error().message();
  EXPECT_THAT(Keys(*snapshot),
              ElementsAre("part-00000-f95c1140-7256-4bfa-b651-e7a7eb6208bb-c000.snappy.parquet",
                          "part-00001-0b5675f1-d9b2-4240-914f-250ae37e8fa4-c000.snappy.parquet"));
  auto store = GoldenStore();
  for (const LiveFile& file : snapshot->files) {
    EXPECT_TRUE(store->Stat("snapshot-vacuumed/" + file.key).value());
  }
  auto v3 = ReadGolden("snapshot-vacuumed", {.max_version = 3});
  ASSERT_TRUE(v3);
  EXPECT_EQ(v3->version, 3);
  EXPECT_EQ(v3->files.size(), 4u);
}

TEST(DeltaSnapshot, OnlyCheckpointFiles) {
  auto snapshot = ReadGolden("only-checkpoint-files");
  ASSERT_TRUE(snapshot) << snapshot.error().message();
  EXPECT_EQ(snapshot->checkpoint_version, 2);
  EXPECT_EQ(snapshot->metadata.configuration.at("delta.checkpointInterval"), "1");
  EXPECT_THAT(Keys(*snapshot),
              ElementsAre("part-00000-b4e80ee6-4cbd-4cc6-b565-d2c625d0731a-c000.snappy.parquet",
                          "part-00001-b50e4584-a496-4a37-a227-f7b3e9705aee-c000.snappy.parquet",
                          "part-00004-dcf3f384-2139-4406-af81-89aff10b612d-c000.snappy.parquet",
                          "part-00005-e3a5e9cc-e036-41cb-952d-fd3e374af794-c000.snappy.parquet",
                          "part-00006-c048e558-898c-43b3-b144-47efbbab72d1-c000.snappy.parquet",
                          "part-00007-50c77d47-31b2-4e0a-a43d-2f6be5ff15ee-c000.snappy.parquet",
                          "part-00008-9fcc1da0-688a-4be6-a296-21da16557267-c000.snappy.parquet"));
  auto v1 = ReadGolden("only-checkpoint-files", {.max_version = 1});
  ASSERT_TRUE(v1) << v1.error().message();
  EXPECT_EQ(v1->checkpoint_version, 1);
  EXPECT_EQ(v1->files.size(), 5u);
}

TEST(DeltaSnapshot, TimeTravelUsesNoCheckpointNewerThanTheVersion) {
  auto v5 = ReadGolden("checkpoint", {.max_version = 5});
  ASSERT_TRUE(v5) << v5.error().message();
  EXPECT_EQ(v5->version, 5);
  EXPECT_FALSE(v5->checkpoint_version);
  EXPECT_THAT(Keys(*v5), ElementsAre("6"));
  auto v10 = ReadGolden("checkpoint", {.max_version = 10});
  ASSERT_TRUE(v10);
  EXPECT_EQ(v10->checkpoint_version, 10);
  EXPECT_THAT(Keys(*v10), ElementsAre("11"));
  EXPECT_THAT(ReadGolden("checkpoint", {.max_version = 15}).error().message(),
              HasSubstr("has no version 15 (the newest is 14)"));
}

TEST(DeltaSnapshot, ColumnMappingByNameReadsTheGoldenTable) {
  auto snapshot = ReadGolden("table-with-columnmapping-mode-name");
  ASSERT_TRUE(snapshot) << snapshot.error().message();
  EXPECT_EQ(snapshot->column_mapping_mode, "name");
  EXPECT_EQ(snapshot->protocol.min_reader_version, 2);
  EXPECT_TRUE(CanWrite(*snapshot));
}

TEST(DeltaSnapshot, TheInvalidProtocolVersionIsRefused) {
  auto snapshot = ReadGolden("deltalog-invalid-protocol-version");
  ASSERT_FALSE(snapshot);
  EXPECT_EQ(snapshot.error().category(), util::ErrorCategory::kConfig);
  EXPECT_THAT(snapshot.error().message(),
              HasSubstr("deltalog-invalid-protocol-version requires reader version 99 (tidemark "
                        "reads versions 1 to 3); tidemark cannot read this table"));
}

TEST(DeltaSnapshot, VacuumProtocolCheckIsReadAndWritable) {
  auto snapshot = ReadGolden("basic-with-vacuum-protocol-check-feature");
  ASSERT_TRUE(snapshot) << snapshot.error().message();
  EXPECT_EQ(snapshot->protocol.min_reader_version, 3);
  EXPECT_THAT(*snapshot->protocol.reader_features, ElementsAre("vacuumProtocolCheck"));
  // appendOnly and invariants are supported but not active.
  EXPECT_TRUE(CanWrite(*snapshot));
}

// --- Logs built or damaged in a temporary directory ---

class TempTable {
 public:
  TempTable() {
    char name[] = "/tmp/tidemark-delta-XXXXXX";
    dir_ = mkdtemp(name);
    fs::create_directories(dir_ / "_delta_log");
  }
  ~TempTable() { fs::remove_all(dir_); }

  // Copies the log of a golden table, writable.
  void CopyLogOf(const std::string& golden) {
    fs::remove_all(dir_ / "_delta_log");
    fs::copy(GoldenDir() / golden / "_delta_log", dir_ / "_delta_log");
    for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
      fs::permissions(entry.path(), fs::perms::owner_write, fs::perm_options::add);
    }
  }
  void Write(const std::string& log_file, const std::string& text) {
    const fs::path path = dir_ / "_delta_log" / log_file;
    fs::remove(path);
    std::ofstream(path, std::ios::binary) << text;
  }
  void Remove(const std::string& log_file) {
    ASSERT_TRUE(fs::remove(dir_ / "_delta_log" / log_file));
  }
  util::Result<Snapshot> Read(SnapshotOptions options = {}) const {
    auto store = store::NewLocalStore(dir_.string());
    return ReadSnapshot(*store, "", options);
  }

 private:
  fs::path dir_;
};

std::string Commit(int64_t version) {
  char name[32];
  std::snprintf(name, sizeof name, "%020lld.json", static_cast<long long>(version));
  return name;
}

TEST(DeltaSnapshot, AnUnreadableLastCheckpointIsANote) {
  TempTable table;
  table.CopyLogOf("corrupted-last-checkpoint");
  table.Write("_last_checkpoint", "");  // as Delta's own test corrupts it
  auto snapshot = table.Read();
  ASSERT_TRUE(snapshot) << snapshot.error().message();
  EXPECT_EQ(snapshot->version, 10);
  EXPECT_EQ(snapshot->files.size(), 11u);
  EXPECT_EQ(snapshot->checkpoint_version, 10);
  ASSERT_EQ(snapshot->notes.size(), 1u);
  EXPECT_THAT(snapshot->notes[0], HasSubstr("_last_checkpoint is unreadable"));

  table.Write("_last_checkpoint", R"({"version":7,"size":9})");
  snapshot = table.Read();
  ASSERT_TRUE(snapshot);
  EXPECT_EQ(snapshot->checkpoint_version, 10);
  ASSERT_EQ(snapshot->notes.size(), 1u);
  EXPECT_THAT(snapshot->notes[0], HasSubstr("points at a checkpoint at version 7 that is missing"));
}

TEST(DeltaSnapshot, AGapAfterTheCheckpointIsAnErrorNamingTheVersion) {
  TempTable table;
  table.CopyLogOf("checkpoint");
  table.Remove(Commit(3));  // before the checkpoint: not needed
  auto snapshot = table.Read();
  ASSERT_TRUE(snapshot) << snapshot.error().message();
  EXPECT_THAT(Keys(*snapshot), ElementsAre("15"));
  EXPECT_THAT(table.Read({.json_only = true}).error().message(),
              HasSubstr("commit 00000000000000000003.json is missing"));

  table.Remove(Commit(12));
  snapshot = table.Read();
  ASSERT_FALSE(snapshot);
  EXPECT_EQ(snapshot.error().category(), util::ErrorCategory::kVerify);
  EXPECT_THAT(snapshot.error().message(),
              HasSubstr("commit 00000000000000000012.json is missing from _delta_log; every "
                        "commit after the checkpoint at version 10 must be present"));
}

TEST(DeltaSnapshot, WithoutACheckpointVersionZeroMustBeThere) {
  TempTable table;
  table.CopyLogOf("snapshot-vacuumed");
  table.Remove(Commit(0));
  EXPECT_THAT(table.Read().error().message(),
              HasSubstr("commit 00000000000000000000.json is missing from _delta_log; without a "
                        "usable checkpoint, every commit from version 0 must be present"));
}

TEST(DeltaSnapshot, ADamagedNewestCheckpointFallsBack) {
  TempTable table;
  table.CopyLogOf("only-checkpoint-files");
  table.Write("00000000000000000002.checkpoint.parquet", "PAR1 not really parquet PAR1");
  auto snapshot = table.Read();
  ASSERT_TRUE(snapshot) << snapshot.error().message();
  EXPECT_EQ(snapshot->checkpoint_version, 1);  // the older checkpoint, then commit 2
  EXPECT_EQ(snapshot->files.size(), 7u);
  ASSERT_EQ(snapshot->notes.size(), 1u);
  EXPECT_THAT(snapshot->notes[0], HasSubstr("the checkpoint at version 2 could not be read"));

  table.Write("00000000000000000001.checkpoint.parquet", "");
  snapshot = table.Read();
  ASSERT_TRUE(snapshot) << snapshot.error().message();
  EXPECT_FALSE(snapshot->checkpoint_version);  // every commit from 0
  EXPECT_EQ(snapshot->files.size(), 7u);
  EXPECT_EQ(snapshot->notes.size(), 2u);

  table.Remove(Commit(0));
  snapshot = table.Read();
  ASSERT_FALSE(snapshot);
  EXPECT_THAT(snapshot.error().message(), HasSubstr("cannot be read at version 2: "));
  EXPECT_THAT(snapshot.error().message(),
              HasSubstr("no older checkpoint or complete run of commits from version 0 can "
                        "replace it (commit 0 is gone)"));
}

TEST(DeltaSnapshot, IncompleteMultiPartCheckpointsAreIgnoredAndV2OnesRefused) {
  TempTable table;
  table.CopyLogOf("checkpoint");
  table.Write("00000000000000000013.checkpoint.0000000001.0000000002.parquet", "junk");
  table.Write("00000000000000000014.crc", "junk");
  table.Write("00000000000000000003.00000000000000000005.compacted.json", "junk");
  auto snapshot = table.Read();
  ASSERT_TRUE(snapshot) << snapshot.error().message();
  EXPECT_EQ(snapshot->checkpoint_version, 10);
  EXPECT_THAT(Keys(*snapshot), ElementsAre("15"));

  table.Write("00000000000000000014.checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.json", "{}");
  EXPECT_THAT(table.Read().error().message(),
              HasSubstr("uses V2 checkpoints (00000000000000000014.checkpoint.80a083e8-7026-4e79-"
                        "81be-64bd76c43a11.json), which tidemark cannot read"));
}

TEST(DeltaSnapshot, NoLogIsNotADeltaTable) {
  TempTable table;
  EXPECT_THAT(table.Read().error().message(), HasSubstr("has no commits under _delta_log/"));
}

const char kProtocolLine[] = R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})";

std::string MetadataLine(const std::string& schema_fields, const std::string& partition_columns,
                         const std::string& configuration = "{}") {
  nlohmann::json schema = {{"type", "struct"}, {"fields", nlohmann::json::parse(schema_fields)}};
  nlohmann::json metadata = {
      {"id", "t"},
      {"format", {{"provider", "parquet"}, {"options", nlohmann::json::object()}}},
      {"schemaString", schema.dump()},
      {"partitionColumns", nlohmann::json::parse(partition_columns)},
      {"configuration", nlohmann::json::parse(configuration)}};
  return nlohmann::json{{"metaData", metadata}}.dump();
}

std::string AddLine(const std::string& path, const std::string& partition_values,
                    const std::string& extra = "") {
  return R"({"add":{"path":")" + path + R"(","partitionValues":)" + partition_values +
         R"(,"size":10,"modificationTime":1000,"dataChange":true)" + extra + "}}";
}

TEST(DeltaSnapshot, ColumnMappingKeysPartitionValuesByPhysicalName) {
  // The golden table's own metadata, partitioned by its string column.
  const std::string golden =
      (std::stringstream() << std::ifstream(GoldenDir() /
                                            "table-with-columnmapping-mode-name/_delta_log/" /
                                            Commit(0))
                                  .rdbuf())
          .str();
  std::string metadata_line, protocol_line;
  std::istringstream lines(golden);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("{\"metaData\"")) metadata_line = line;
    if (line.starts_with("{\"protocol\"")) protocol_line = line;
  }
  nlohmann::json metadata = nlohmann::json::parse(metadata_line);
  metadata["metaData"]["partitionColumns"] = {"StringType"};
  const std::string physical = "col-7f007ffd-c4e2-4d7e-84c2-af985d4e3feb";
  TempTable table;
  table.Write(Commit(0), protocol_line + "\n" + metadata.dump() + "\n" +
                             AddLine("a/1.parquet", R"({")" + physical + R"(":"x y"})") + "\n" +
                             AddLine("a/2.parquet", R"({")" + physical + R"(":"x y"})") + "\n" +
                             AddLine("b/1.parquet", R"({"StringType":"z"})") + "\n");
  auto snapshot = table.Read();
  ASSERT_TRUE(snapshot) << snapshot.error().message();
  EXPECT_EQ(snapshot->column_mapping_mode, "name");
  ASSERT_EQ(snapshot->partition_columns.size(), 1u);
  EXPECT_EQ(snapshot->partition_columns[0].logical, "StringType");
  EXPECT_EQ(snapshot->partition_columns[0].physical, physical);
  const std::vector<Partition> partitions = PartitionsOf(*snapshot);
  ASSERT_EQ(partitions.size(), 2u);
  EXPECT_EQ(partitions[0].name, "StringType=__HIVE_DEFAULT_PARTITION__");  // keyed by logical name
  EXPECT_THAT(partitions[0].files, ElementsAre("b/1.parquet"));
  EXPECT_EQ(partitions[1].name, "StringType=x y");
  EXPECT_EQ(partitions[1].values, (Values{{"StringType", std::optional<std::string>("x y")}}));
  EXPECT_THAT(partitions[1].files, ElementsAre("a/1.parquet", "a/2.parquet"));

  // Without a protocol that supports column mapping, the mode is not honoured.
  table.Write(Commit(0), std::string(kProtocolLine) + "\n" + metadata.dump() + "\n" +
                             AddLine("b/1.parquet", R"({"StringType":"z"})") + "\n");
  snapshot = table.Read();
  ASSERT_TRUE(snapshot) << snapshot.error().message();
  EXPECT_EQ(snapshot->column_mapping_mode, "none");
  EXPECT_EQ(PartitionsOf(*snapshot)[0].name, "StringType=z");
}

TEST(DeltaSnapshot, ColumnMappingWithoutPhysicalNamesIsRefused) {
  TempTable table;
  table.Write(Commit(0), R"({"protocol":{"minReaderVersion":2,"minWriterVersion":5}})"
                         "\n" +
                             MetadataLine(R"([{"name":"dt","type":"string","metadata":{}}])",
                                          R"(["dt"])", R"({"delta.columnMapping.mode":"id"})") +
                             "\n");
  EXPECT_THAT(table.Read().error().message(),
              HasSubstr("partition column dt has no delta.columnMapping.physicalName"));
  table.Write(Commit(0),
              R"({"protocol":{"minReaderVersion":2,"minWriterVersion":5}})"
              "\n" +
                  MetadataLine(R"([])", R"([])", R"({"delta.columnMapping.mode":"fancy"})") + "\n");
  EXPECT_THAT(table.Read().error().message(), HasSubstr("column mapping mode \"fancy\""));
}

// A logical file is (path, deletion vector): the replay honours it whatever the order
// of the actions in a commit.
TEST(DeltaSnapshot, DeletionVectorsTellLogicalFilesApart) {
  const std::string dv1 =
      R"(,"deletionVector":{"storageType":"i","pathOrInlineDv":"wi5b","sizeInBytes":4,"cardinality":1})";
  const std::string dv2 =
      R"(,"deletionVector":{"storageType":"i","pathOrInlineDv":"xx5b","sizeInBytes":4,"cardinality":2})";
  TempTable table;
  table.Write(
      Commit(0),
      R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors"]}})"
      "\n" +
          MetadataLine(R"([{"name":"dt","type":"string","metadata":{}}])", R"(["dt"])") + "\n" +
          AddLine("a", R"({"dt":"1"})") + "\n" + AddLine("b", R"({"dt":"1"})") + "\n");
  table.Write(Commit(1), AddLine("a", R"({"dt":"1"})", dv1) + "\n" +
                             R"({"remove":{"path":"a","dataChange":true}})" + "\n");
  table.Write(Commit(2), R"({"remove":{"path":"a","dataChange":true)" + dv2 + "}}\n");
  table.Write(Commit(3), R"({"remove":{"path":"a","dataChange":true)" + dv1 + "}}\n" +
                             R"({"someday":{"x":1}})" + "\n");
  auto v1 = table.Read({.max_version = 1});
  ASSERT_TRUE(v1) << v1.error().message();
  EXPECT_THAT(Keys(*v1), ElementsAre("a", "b"));
  ASSERT_TRUE(v1->files[0].add.deletion_vector);
  EXPECT_EQ(v1->files_with_deletion_vectors, 1u);
  ASSERT_EQ(v1->notes.size(), 1u);
  EXPECT_THAT(v1->notes[0], HasSubstr("1 live files carry deletion vectors"));
  auto v2 = table.Read({.max_version = 2});
  ASSERT_TRUE(v2);
  EXPECT_THAT(Keys(*v2), ElementsAre("a", "b"));
  auto v3 = table.Read();
  ASSERT_TRUE(v3);
  EXPECT_THAT(Keys(*v3), ElementsAre("b"));
  EXPECT_THAT(v3->unknown_action_kinds, ElementsAre("someday"));
  EXPECT_TRUE(CanWrite(*v3));
}

TEST(DeltaSnapshot, TransactionsKeepTheNewestVersionPerApplication) {
  TempTable table;
  table.Write(Commit(0), std::string(kProtocolLine) + "\n" + MetadataLine("[]", "[]") + "\n" +
                             R"({"txn":{"appId":"a","version":5}})" + "\n" +
                             R"({"txn":{"appId":"b","version":1,"lastUpdated":3}})" + "\n");
  table.Write(Commit(1), R"({"txn":{"appId":"a","version":4}})"
                         "\n");
  auto snapshot = table.Read();
  ASSERT_TRUE(snapshot) << snapshot.error().message();
  ASSERT_EQ(snapshot->txns.size(), 2u);
  EXPECT_EQ(snapshot->txns.at("a").version, 4);  // the newest, not the largest
  EXPECT_EQ(snapshot->txns.at("b").last_updated, 3);
}

TEST(DeltaSnapshot, DamagedCommitsNameTheFileAndLine) {
  TempTable table;
  table.Write(Commit(0), std::string(kProtocolLine) + "\n" + MetadataLine("[]", "[]") + "\n");
  table.Write(Commit(1), R"({"add":{"path":"a","partitionValues":{},"size":1,"dataChange":true}})");
  auto snapshot = table.Read();
  ASSERT_FALSE(snapshot);
  EXPECT_THAT(snapshot.error().message(),
              HasSubstr("/_delta_log/00000000000000000001.json line 1: add.modificationTime is "
                        "missing"));
  table.Write(Commit(1), R"({"add":{"path":"../x","partitionValues":{},"size":1,)"
                         R"("modificationTime":1,"dataChange":true}})");
  EXPECT_THAT(table.Read().error().message(), HasSubstr("\"..\" segment"));
}

Snapshot WithProtocol(int reader, int writer, std::optional<std::vector<std::string>> readers,
                      std::optional<std::vector<std::string>> writers,
                      std::map<std::string, std::string> configuration = {}) {
  Snapshot snapshot;
  snapshot.root_url = "file:///lake/t";
  snapshot.protocol = {reader, writer, std::move(readers), std::move(writers)};
  snapshot.metadata.configuration = std::move(configuration);
  return snapshot;
}

TEST(DeltaSnapshot, ReaderFeaturesTidemarkDoesNotKnowAreRefused) {
  for (const char* feature : {"v2Checkpoint", "catalogManaged", "somethingNew"}) {
    TempTable table;
    table.Write(Commit(0),
                std::string(R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,)") +
                    R"("readerFeatures":[")" + feature + R"("],"writerFeatures":[")" + feature +
                    R"("]}})" + "\n" + MetadataLine("[]", "[]") + "\n");
    auto snapshot = table.Read();
    ASSERT_FALSE(snapshot) << feature;
    EXPECT_EQ(snapshot.error().category(), util::ErrorCategory::kConfig);
    EXPECT_THAT(snapshot.error().message(), HasSubstr("reader feature"));
    EXPECT_THAT(snapshot.error().message(), HasSubstr(feature));
    EXPECT_THAT(snapshot.error().message(), HasSubstr("tidemark cannot read this table"));
  }
  TempTable table;
  table.Write(Commit(0),
              std::string(R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,)") +
                  R"("readerFeatures":["deletionVectors","timestampNtz","columnMapping",)" +
                  R"("typeWidening","variantType"],"writerFeatures":[]}})" + "\n" +
                  MetadataLine("[]", "[]") + "\n");
  EXPECT_TRUE(table.Read());
  table.Write(Commit(0),
              std::string(R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7}})") + "\n" +
                  MetadataLine("[]", "[]") + "\n");
  EXPECT_THAT(table.Read().error().message(), HasSubstr("reader version 3 but no readerFeatures"));
}

TEST(DeltaSnapshot, WritingIsAllowedOnlyUnderFeaturesWhoseRulesTidemarkFollows) {
  const auto why = [](const Snapshot& snapshot, WriteKind kind = WriteKind::kRemoveAndRestore) {
    auto status = CanWrite(snapshot, kind);
    return status ? std::string() : status.error().message();
  };
  EXPECT_EQ(why(WithProtocol(1, 2, {}, {})), "");
  EXPECT_EQ(why(WithProtocol(1, 6, {}, {})), "");
  const Snapshot harmless = WithProtocol(
      3, 7, std::vector<std::string>{"deletionVectors"},
      std::vector<std::string>{"deletionVectors", "rowTracking", "domainMetadata", "changeDataFeed",
                               "columnMapping", "checkpointProtection"});
  EXPECT_EQ(why(harmless), "");
  EXPECT_THAT(
      why(WithProtocol(1, 2, {}, {}, {{"delta.appendOnly", "true"}}), WriteKind::kRemove),
      HasSubstr("tidemark will not commit to Delta table file:///lake/t: it is append-only"));
  EXPECT_THAT(why(WithProtocol(1, 7, {}, std::vector<std::string>{"appendOnly"},
                               {{"delta.appendOnly", "TRUE"}}),
                  WriteKind::kRestore),
              HasSubstr("append-only"));
  EXPECT_EQ(why(WithProtocol(1, 7, {}, std::vector<std::string>{"appendOnly"},
                             {{"delta.appendOnly", "false"}})),
            "");

  const Snapshot constrained =
      WithProtocol(1, 3, {}, {}, {{"delta.constraints.positive", "x > 0"}});
  EXPECT_EQ(why(constrained, WriteKind::kRemove), "");
  EXPECT_THAT(why(constrained, WriteKind::kRestore), HasSubstr("CHECK constraint positive"));
  EXPECT_THAT(why(constrained), HasSubstr("CHECK constraint positive"));

  Snapshot invariant = WithProtocol(1, 2, {}, {});
  invariant.metadata.schema_string =
      R"({"fields":[{"name":"x","metadata":{"delta.invariants":"{\"expression\":{\"expression\":\"x > 3\"}}"}}]})";
  EXPECT_EQ(why(invariant, WriteKind::kRemove), "");
  EXPECT_THAT(why(invariant, WriteKind::kRestore), HasSubstr("delta.invariants"));

  const Snapshot iceberg = WithProtocol(2, 7, {}, std::vector<std::string>{"icebergCompatV2"},
                                        {{"delta.enableIcebergCompatV2", "true"}});
  EXPECT_EQ(why(iceberg, WriteKind::kRemove), "");
  EXPECT_THAT(why(iceberg, WriteKind::kRestore), HasSubstr("delta.enableIcebergCompatV2"));

  EXPECT_THAT(why(WithProtocol(1, 7, {}, std::vector<std::string>{"inCommitTimestamp"},
                               {{"delta.enableInCommitTimestamps", "true"}}),
                  WriteKind::kRemove),
              HasSubstr("in-commit timestamps"));
  EXPECT_EQ(why(WithProtocol(1, 7, {}, std::vector<std::string>{"inCommitTimestamp"})), "");
  EXPECT_THAT(
      why(WithProtocol(1, 7, {}, std::vector<std::string>{"brandNewFeature"}), WriteKind::kRemove),
      HasSubstr("the writer feature \"brandNewFeature\" is unknown to tidemark"));
  EXPECT_THAT(why(WithProtocol(3, 7, std::vector<std::string>{"catalogManaged"},
                               std::vector<std::string>{"catalogManaged"})),
              HasSubstr("catalog"));
  EXPECT_THAT(why(WithProtocol(1, 8, {}, {})), HasSubstr("requires writer version 8"));
  EXPECT_THAT(why(WithProtocol(1, 7, {}, std::nullopt)), HasSubstr("no writerFeatures"));
}

// --- Checkpoints written here, in the shape Spark gives them ---

// Writes actions as a classic checkpoint in Spark's checkpoint schema (its txn, add,
// remove, metaData and protocol columns), one action per row.
class CheckpointWriter {
 public:
  util::Result<std::string> Write(const CommitActions& actions,
                                  const parquet::WriterOptions& options = {}) {
    if (actions.protocol) Row(kProtocol, [&] { Protocol(*actions.protocol); });
    if (actions.metadata) Row(kMetadata, [&] { Metadata(*actions.metadata); });
    for (const Transaction& txn : actions.txns) Row(kTxn, [&] { Txn(txn); });
    for (const AddFile& add : actions.adds) Row(kAdd, [&] { Add(add); });
    for (const RemoveFile& remove : actions.removes) Row(kRemove, [&] { Remove(remove); });
    return parquet::WriteParquet(Schema(), columns_, options);
  }

 private:
  using T = parquet::PhysicalType;
  using R = parquet::Repetition;
  enum Group { kTxn, kAdd, kRemove, kMetadata, kProtocol, kGroups };
  static constexpr int kLeaves[kGroups] = {3, 17, 13, 6, 4};  // leaves under each group

  static parquet::SchemaNode Str(const char* name) {
    return parquet::LeafNode(name, T::kByteArray, R::kOptional, "UTF8");
  }
  static parquet::SchemaNode Int(const char* name, T type = T::kInt64) {
    return parquet::LeafNode(name, type, R::kOptional);
  }
  static parquet::SchemaNode StringMap(const char* name) {
    return parquet::MapNode(name, R::kOptional,
                            parquet::LeafNode("", T::kByteArray, R::kRequired, "UTF8"), Str(""));
  }
  static parquet::SchemaNode Vector() {
    return parquet::GroupNode(
        "deletionVector", R::kOptional,
        {Str("storageType"), Str("pathOrInlineDv"), Int("offset", T::kInt32),
         Int("sizeInBytes", T::kInt32), Int("cardinality"), Int("maxRowIndex")});
  }
  static parquet::SchemaNode Schema() {
    using parquet::GroupNode;
    return GroupNode(
        "spark_schema", R::kRequired,
        {GroupNode("txn", R::kOptional, {Str("appId"), Int("version"), Int("lastUpdated")}),
         GroupNode("add", R::kOptional,
                   {Str("path"), StringMap("partitionValues"), Int("size"), Int("modificationTime"),
                    Int("dataChange", T::kBoolean), Str("stats"), StringMap("tags"), Vector(),
                    Int("baseRowId"), Int("defaultRowCommitVersion")}),
         GroupNode("remove", R::kOptional,
                   {Str("path"), Int("deletionTimestamp"), Int("dataChange", T::kBoolean),
                    Int("extendedFileMetadata", T::kBoolean), StringMap("partitionValues"),
                    Int("size"), Vector()}),
         GroupNode("metaData", R::kOptional,
                   {Str("id"), Str("schemaString"),
                    parquet::ListNode("partitionColumns", R::kOptional, Str("")),
                    StringMap("configuration"), Int("createdTime")}),
         GroupNode("protocol", R::kOptional,
                   {Int("minReaderVersion", T::kInt32), Int("minWriterVersion", T::kInt32),
                    parquet::ListNode("readerFeatures", R::kOptional, Str("")),
                    parquet::ListNode("writerFeatures", R::kOptional, Str(""))})});
  }

  // One row: the leaves of `group` are filled by `fill`, those of the others are null.
  template <typename Fill>
  void Row(Group group, Fill fill) {
    if (columns_.empty()) Init();
    size_t first = 0;
    for (int g = 0; g < kGroups; ++g) {
      if (g == group) {
        next_ = first;
        fill();
      } else {
        for (int i = 0; i < kLeaves[g]; ++i) Entry(columns_[first + i], 0, 0);
      }
      first += kLeaves[g];
    }
  }
  void Init() {
    std::function<void(const parquet::SchemaNode&, int16_t, int16_t)> walk =
        [&](const parquet::SchemaNode& node, int16_t def, int16_t rep) {
          if (node.repetition != R::kRequired) ++def;
          if (node.repetition == R::kRepeated) ++rep;
          if (node.is_leaf()) {
            parquet::Column c;
            c.type = *node.type;
            c.max_def = def;
            c.max_rep = rep;
            columns_.push_back(std::move(c));
          }
          for (const auto& child : node.children) walk(child, def, rep);
        };
    for (const auto& child : Schema().children) walk(child, 0, 0);
  }
  static void Entry(parquet::Column& c, int16_t def, int16_t rep) {
    if (c.max_def > 0) c.def_levels.push_back(def);
    if (c.max_rep > 0) c.rep_levels.push_back(rep);
    ++c.entries;
  }
  parquet::Column& Next() { return columns_[next_++]; }
  void String(const std::optional<std::string>& value) {
    parquet::Column& c = Next();
    if (!value) return Entry(c, c.max_def - 1, 0);
    Entry(c, c.max_def, 0);
    c.bytes.push_back(storage_.emplace_back(*value));
  }
  void Number(std::optional<int64_t> value) {
    parquet::Column& c = Next();
    if (!value) return Entry(c, c.max_def - 1, 0);
    Entry(c, c.max_def, 0);
    c.ints.push_back(*value);
  }
  void Map(const std::optional<PartitionValues>& map) {
    parquet::Column& key = Next();
    parquet::Column& value = Next();
    const int16_t entry = key.max_def;  // the key is required
    if (!map || map->empty()) {
      const int16_t def = map ? entry - 1 : entry - 2;
      return Entry(key, def, 0), Entry(value, def, 0);
    }
    int16_t rep = 0;
    for (const auto& [k, v] : *map) {
      Entry(key, entry, rep);
      key.bytes.push_back(storage_.emplace_back(k));
      Entry(value, v ? entry + 1 : entry, rep);
      if (v) value.bytes.push_back(storage_.emplace_back(*v));
      rep = 1;
    }
  }
  void List(const std::optional<std::vector<std::string>>& list) {
    parquet::Column& c = Next();
    const int16_t entry = c.max_def - 1;  // the element is optional
    if (!list || list->empty()) return Entry(c, list ? entry - 1 : entry - 2, 0);
    int16_t rep = 0;
    for (const std::string& item : *list) {
      Entry(c, c.max_def, rep);
      c.bytes.push_back(storage_.emplace_back(item));
      rep = 1;
    }
  }
  void Vector(const std::optional<DeletionVector>& dv) {
    if (!dv) {
      for (int i = 0; i < 6; ++i) {
        parquet::Column& c = Next();
        Entry(c, c.max_def - 2, 0);
      }
      return;
    }
    String(dv->storage_type);
    String(dv->path_or_inline_dv);
    Number(dv->offset);
    Number(dv->size_in_bytes);
    Number(dv->cardinality);
    Number(dv->max_row_index);
  }
  void Txn(const Transaction& txn) {
    String(txn.app_id), Number(txn.version), Number(txn.last_updated);
  }
  void Add(const AddFile& add) {
    String(add.path), Map(add.partition_values), Number(add.size), Number(add.modification_time);
    Number(add.data_change), String(add.stats), Map(add.tags), Vector(add.deletion_vector);
    Number(add.base_row_id), Number(add.default_row_commit_version);
  }
  void Remove(const RemoveFile& remove) {
    String(remove.path), Number(remove.deletion_timestamp), Number(remove.data_change);
    Number(remove.extended_file_metadata), Map(remove.partition_values), Number(remove.size);
    Vector(remove.deletion_vector);
  }
  void Metadata(const delta::Metadata& m) {
    String(m.id), String(m.schema_string), List(m.partition_columns);
    PartitionValues configuration(m.configuration.begin(), m.configuration.end());
    Map(configuration), Number(m.created_time);
  }
  void Protocol(const delta::Protocol& p) {
    Number(p.min_reader_version), Number(p.min_writer_version);
    List(p.reader_features), List(p.writer_features);
  }

  std::vector<parquet::Column> columns_;
  std::deque<std::string> storage_;  // the bytes the columns' views point into
  size_t next_ = 0;
};

AddFile MakeAdd(const std::string& path, const std::string& day, int64_t size, int64_t time) {
  AddFile add;
  add.path = path;
  add.partition_values = {{"event_date", day}};
  add.size = size;
  add.modification_time = time;
  add.data_change = false;
  add.stats =
      R"({"numRecords":100,"minValues":{"id":1},"maxValues":{"id":100},"nullCount":{"id":0}})";
  return add;
}

CommitActions TableStart() {
  CommitActions actions;
  actions.protocol = delta::Protocol{3, 7, std::vector<std::string>{"deletionVectors"},
                                     std::vector<std::string>{"deletionVectors"}};
  actions.metadata = delta::Metadata{
      "t",
      R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},)"
      R"({"name":"event_date","type":"date","nullable":true,"metadata":{}}]})",
      {"event_date"},
      {{"delta.checkpointInterval", "10"}},
      1700000000000};
  return actions;
}

TEST(DeltaSnapshot, CheckpointsWithDeletionVectorsTagsAndSeveralParts) {
  CommitActions first = TableStart();
  first.txns.push_back({"stream", 7, 99});
  AddFile with_dv = MakeAdd("event_date=2024-01-01/a.parquet", "2024-01-01", 10, 1);
  with_dv.deletion_vector = DeletionVector{"u", "ab^-aqEH.-t@S}K{vb[*k^", 4, 40, 6, std::nullopt};
  with_dv.tags = Tags{{"INSERTION_TIME", "1"}};
  with_dv.base_row_id = 5;
  first.adds.push_back(with_dv);
  first.adds.push_back(MakeAdd("event_date=2024-01-01/b%20c.parquet", "2024-01-01", 20, 2));
  CommitActions second;
  AddFile null_day = MakeAdd("event_date=__HIVE_DEFAULT_PARTITION__/n.parquet", "", 30, 3);
  null_day.partition_values = {{"event_date", std::nullopt}};
  null_day.stats.reset();
  second.adds.push_back(null_day);
  second.adds.push_back(MakeAdd("event_date=2024-01-02/d.parquet", "2024-01-02", 40, 4));
  RemoveFile gone =
      RemoveForDelete(MakeAdd("event_date=2023-12-31/x.parquet", "2023-12-31", 1, 1), 77);
  second.removes.push_back(gone);

  TempTable table;
  auto part1 = CheckpointWriter().Write(first, {.codec = parquet::Codec::kSnappy});
  auto part2 = CheckpointWriter().Write(
      second, {.page_version = 2, .dictionary = true, .row_group_rows = 2});
  ASSERT_TRUE(part1 && part2) << (part1 ? part2.error() : part1.error()).message();
  table.Write("00000000000000000005.checkpoint.0000000001.0000000002.parquet", *part1);
  table.Write("00000000000000000005.checkpoint.0000000002.0000000002.parquet", *part2);
  table.Write(Commit(6),
              AddLine("event_date=2024-01-02/e.parquet", R"({"event_date":"2024-01-02"})") + "\n" +
                  R"({"remove":{"path":"event_date%3D2024-01-01/a.parquet",)" +
                  R"("dataChange":true,"deletionVector":{"storageType":"u",)" +
                  R"("pathOrInlineDv":"ab^-aqEH.-t@S}K{vb[*k^","offset":4,)" +
                  R"("sizeInBytes":40,"cardinality":6}}})" + "\n");
  auto snapshot = table.Read();
  ASSERT_TRUE(snapshot) << snapshot.error().message();
  EXPECT_EQ(snapshot->version, 6);
  EXPECT_EQ(snapshot->checkpoint_version, 5);
  EXPECT_EQ(snapshot->metadata.partition_columns, std::vector<std::string>{"event_date"});
  EXPECT_EQ(snapshot->metadata.configuration.at("delta.checkpointInterval"), "10");
  EXPECT_EQ(snapshot->metadata.created_time, 1700000000000);
  EXPECT_THAT(*snapshot->protocol.reader_features, ElementsAre("deletionVectors"));
  EXPECT_EQ(snapshot->txns.at("stream").version, 7);
  EXPECT_EQ(snapshot->txns.at("stream").last_updated, 99);
  EXPECT_THAT(Keys(*snapshot),
              ElementsAre("event_date=2024-01-01/b c.parquet", "event_date=2024-01-02/d.parquet",
                          "event_date=2024-01-02/e.parquet",
                          "event_date=__HIVE_DEFAULT_PARTITION__/n.parquet"));
  const AddFile& b = snapshot->files[0].add;
  EXPECT_EQ(b.size, 20);
  EXPECT_EQ(b.stats, first.adds[1].stats);
  EXPECT_FALSE(b.tags);
  EXPECT_FALSE(snapshot->files[3].add.stats);
  ASSERT_EQ(snapshot->tombstones.size(), 2u);
  EXPECT_EQ(snapshot->tombstones[0].key, "event_date=2023-12-31/x.parquet");
  EXPECT_EQ(snapshot->tombstones[0].remove.deletion_timestamp, 77);
  EXPECT_EQ(snapshot->tombstones[1].key, "event_date=2024-01-01/a.parquet");
  const std::vector<Partition> partitions = PartitionsOf(*snapshot);
  ASSERT_EQ(partitions.size(), 3u);
  EXPECT_EQ(partitions[0].name, "event_date=2024-01-01");
  EXPECT_EQ(partitions[1].name, "event_date=2024-01-02");
  EXPECT_EQ(partitions[1].total_bytes, 50);
  EXPECT_EQ(partitions[2].name, "event_date=__HIVE_DEFAULT_PARTITION__");

  // At version 5, the deletion vector, tags and row id come from the checkpoint.
  auto v5 = table.Read({.max_version = 5});
  ASSERT_TRUE(v5) << v5.error().message();
  ASSERT_EQ(v5->files.size(), 4u);
  const AddFile& a = v5->files[0].add;
  ASSERT_TRUE(a.deletion_vector);
  EXPECT_EQ(a.deletion_vector->UniqueId(), with_dv.deletion_vector->UniqueId());
  EXPECT_EQ(a.deletion_vector->cardinality, 6);
  EXPECT_EQ(a.tags, with_dv.tags);
  EXPECT_EQ(a.base_row_id, 5);
  EXPECT_EQ(v5->files_with_deletion_vectors, 1u);

  // Without its second part, the checkpoint is not used; nor are commits 0 to 4 there.
  table.Remove("00000000000000000005.checkpoint.0000000002.0000000002.parquet");
  EXPECT_THAT(table.Read().error().message(),
              HasSubstr("commit 00000000000000000000.json is missing"));
}

TEST(DeltaSnapshot, V2CheckpointsInClassicFilesAreRefused) {
  const parquet::SchemaNode schema = parquet::GroupNode(
      "spark_schema", parquet::Repetition::kRequired,
      {parquet::GroupNode("checkpointMetadata", parquet::Repetition::kOptional,
                          {parquet::LeafNode("version", parquet::PhysicalType::kInt64,
                                             parquet::Repetition::kOptional)})});
  parquet::Column version;
  version.type = parquet::PhysicalType::kInt64;
  version.max_def = 2;
  version.def_levels = {2};
  version.entries = 1;
  version.ints = {3};
  auto bytes = parquet::WriteParquet(schema, {version});
  ASSERT_TRUE(bytes) << bytes.error().message();
  TempTable table;
  table.Write(Commit(3), "{\"commitInfo\":{}}\n");
  table.Write("00000000000000000003.checkpoint.parquet", *bytes);
  auto snapshot = table.Read();
  ASSERT_FALSE(snapshot);
  EXPECT_EQ(snapshot.error().category(), util::ErrorCategory::kConfig);
  EXPECT_THAT(snapshot.error().message(), HasSubstr("is a V2 checkpoint"));
}

// The benchmark's shape: a checkpoint of 100,000 files and 1,000 commits after it.
// Run by hand: --gtest_also_run_disabled_tests --gtest_filter='*Benchmark*'.
TEST(DeltaSnapshot, DISABLED_BenchmarkCheckpointOf100000FilesAnd1000Commits) {
  TempTable table;
  CommitActions start = TableStart();
  const auto day_of = [](int i) {
    return "2024-" + std::to_string(1 + i % 12) + "-" + std::to_string(1 + i % 28);
  };
  const auto path_of = [&](int i) {
    return "event_date=" + day_of(i) + "/part-" + std::to_string(i) +
           "-0b5675f1-d9b2-4240-914f-250ae37e8fa4-c000.snappy.parquet";
  };
  for (int i = 0; i < 100000; ++i) {
    start.adds.push_back(MakeAdd(path_of(i), day_of(i), 1000 + i, 1700000000000 + i));
  }
  auto checkpoint = CheckpointWriter().Write(start, {.codec = parquet::Codec::kSnappy});
  ASSERT_TRUE(checkpoint) << checkpoint.error().message();
  table.Write("00000000000000000000.checkpoint.parquet", *checkpoint);
  for (int v = 1; v <= 1000; ++v) {
    std::string commit = R"({"commitInfo":{"timestamp":1,"operation":"WRITE"}})"
                         "\n";
    for (int k = 0; k < 5; ++k) {
      const std::string path =
          "event_date=2025-01-01/new-" + std::to_string(v * 10 + k) + ".parquet";
      commit += AddLine(path, R"({"event_date":"2025-01-01"})",
                        R"(,"stats":"{\"numRecords\":100,\"minValues\":{\"id\":1}}")") +
                "\n";
    }
    commit += R"({"remove":{"path":")" + path_of(v * 37) +
              R"(","dataChange":true}})"
              "\n";
    table.Write(Commit(v), commit);
  }
  const auto since = [](std::chrono::steady_clock::time_point begin) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  };
  auto begin = std::chrono::steady_clock::now();
  auto snapshot = table.Read();
  const double read = since(begin);
  ASSERT_TRUE(snapshot) << snapshot.error().message();
  begin = std::chrono::steady_clock::now();
  auto partitions = Partitions(*snapshot);
  const double grouping = since(begin);
  ASSERT_TRUE(partitions);
  EXPECT_EQ(snapshot->version, 1000);
  EXPECT_EQ(snapshot->files.size(), 100000u + 5000u - 1000u);
  // The parts, for the record.
  begin = std::chrono::steady_clock::now();
  CommitActions from_checkpoint;
  ASSERT_TRUE(
      ReadCheckpointPart(std::make_shared<const std::string>(*checkpoint), "cp", &from_checkpoint));
  const double checkpoint_only = since(begin);
  begin = std::chrono::steady_clock::now();
  ASSERT_TRUE(table.Read({.max_version = 0}));
  const double version_zero = since(begin);
  std::printf(
      "ReadSnapshot %.3f s (the checkpoint's Parquet alone %.3f s, the snapshot at the "
      "checkpoint %.3f s), Partitions %.3f s: %zu files, %zu partitions, checkpoint of "
      "%zu bytes\n",
      read, checkpoint_only, version_zero, grouping, snapshot->files.size(), partitions->size(),
      checkpoint->size());
  EXPECT_LT(read + grouping, 2.0);
}

TEST(DeltaSnapshot, PartitionNamesAreEscapedLikeHive) {
  EXPECT_EQ(EscapePartitionPathPart("2024-01-02 10:00:00"), "2024-01-02 10%3A00%3A00");
  EXPECT_EQ(EscapePartitionPathPart("a/b=c%d#e?f*g'h\"i\\j{k[l]m^n\x01o\x7Fp<q>|"),
            "a%2Fb%3Dc%25d%23e%3Ff%2Ag%27h%22i%5Cj%7Bk%5Bl%5Dm%5En%01o%7Fp<q>|");
  EXPECT_EQ(EscapePartitionPathPart("été"), "été");
  EXPECT_EQ(PartitionName({{"event_date", "2024-01-02"}}), "event_date=2024-01-02");
  EXPECT_EQ(PartitionName({{"a b", std::nullopt}, {"c", ""}, {"d:e", "1"}}),
            "a b=__HIVE_DEFAULT_PARTITION__/c=__HIVE_DEFAULT_PARTITION__/d%3Ae=1");
  EXPECT_EQ(PartitionName({}), "");
}

}  // namespace
}  // namespace tidemark::backend::lake::delta
