// The Delta action parser on commits written by hand after the protocol and by Spark
// (the golden tables), on damaged and hostile input; the writer against Spark's own
// lines; log paths.

#include "tidemark/backend/lake/delta_log.h"

#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tidemark::backend::lake::delta {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

const std::string kGolden = TIDEMARK_TESTDATA_DIR "/delta-golden/";

std::string ReadGolden(const std::string& relative) {
  std::ifstream in(kGolden + relative, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_TRUE(in.good() || in.eof()) << relative;
  return text.str();
}

// The line of `text` that holds `needle`.
std::string LineWith(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) return line;
  }
  ADD_FAILURE() << "no line with " << needle;
  return "";
}

std::string ErrorOf(std::string_view text) {
  auto parsed = ParseCommit(text, "t/_delta_log/00000000000000000007.json");
  EXPECT_FALSE(parsed.has_value()) << text;
  return parsed ? "" : parsed.error().message();
}

TEST(DeltaLog, ParsesEveryActionKind) {
  const std::string commit =
      R"({"commitInfo":{"timestamp":5,"operation":"WRITE","operationParameters":{"mode":"Append"}}})"
      "\n"
      R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors","appendOnly"]}})"
      "\n"
      R"({"metaData":{"id":"abc","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[]}","partitionColumns":["dt"],"configuration":{"delta.appendOnly":"false","x":null},"createdTime":17}})"
      "\n"
      R"({"add":{"path":"dt=2024-01-02/a%20b.parquet","partitionValues":{"dt":"2024-01-02","n":null},"size":10,"modificationTime":20,"dataChange":false,"stats":"{\"numRecords\":3}","tags":{"k":"v"},"deletionVector":{"storageType":"u","pathOrInlineDv":"ab^-aqEH.-t@S}K{vb[*k^","offset":4,"sizeInBytes":40,"cardinality":6,"maxRowIndex":9},"baseRowId":100,"defaultRowCommitVersion":3,"clusteringProvider":"liquid","unknownField":[1,2]}})"
      "\n"
      R"({"remove":{"path":"old.parquet","deletionTimestamp":30,"dataChange":true,"extendedFileMetadata":true,"partitionValues":{"dt":null},"size":11,"tags":{},"baseRowId":1,"defaultRowCommitVersion":2}})"
      "\n"
      R"({"txn":{"appId":"app","version":42,"lastUpdated":50}})"
      "\n"
      R"({"domainMetadata":{"domain":"delta.rowTracking","configuration":"{}","removed":false}})"
      "\n"
      R"({"cdc":{"path":"_change_data/c.parquet","partitionValues":{},"size":1,"dataChange":false}})"
      "\n"
      R"({"checkpointMetadata":{"version":1}})"
      "\n"
      R"({"futureAction":{"x":1}})"
      "\n"
      R"({"futureAction":{"x":2}})"
      "\n";
  auto parsed = ParseCommit(commit, "c.json");
  ASSERT_TRUE(parsed) << parsed.error().message();
  const CommitActions& c = *parsed;
  EXPECT_EQ(c.commit_info,
            R"({"timestamp":5,"operation":"WRITE","operationParameters":{"mode":"Append"}})");
  ASSERT_TRUE(c.protocol);
  EXPECT_EQ(c.protocol->min_reader_version, 3);
  EXPECT_EQ(c.protocol->min_writer_version, 7);
  EXPECT_THAT(*c.protocol->reader_features, ElementsAre("deletionVectors"));
  EXPECT_THAT(*c.protocol->writer_features, ElementsAre("deletionVectors", "appendOnly"));
  ASSERT_TRUE(c.metadata);
  EXPECT_EQ(c.metadata->id, "abc");
  EXPECT_EQ(c.metadata->schema_string, R"({"type":"struct","fields":[]})");
  EXPECT_THAT(c.metadata->partition_columns, ElementsAre("dt"));
  EXPECT_THAT(c.metadata->configuration, ElementsAre(Pair("delta.appendOnly", "false")));
  EXPECT_EQ(c.metadata->created_time, 17);

  ASSERT_EQ(c.adds.size(), 1u);
  const AddFile& add = c.adds[0];
  EXPECT_EQ(add.path, "dt=2024-01-02/a%20b.parquet");
  EXPECT_THAT(add.partition_values,
              ElementsAre(Pair("dt", std::optional<std::string>("2024-01-02")),
                          Pair("n", std::optional<std::string>())));
  EXPECT_EQ(add.size, 10);
  EXPECT_EQ(add.modification_time, 20);
  EXPECT_FALSE(add.data_change);
  EXPECT_EQ(add.stats, R"({"numRecords":3})");
  EXPECT_THAT(*add.tags, ElementsAre(Pair("k", std::optional<std::string>("v"))));
  ASSERT_TRUE(add.deletion_vector);
  EXPECT_EQ(add.deletion_vector->storage_type, "u");
  EXPECT_EQ(add.deletion_vector->offset, 4);
  EXPECT_EQ(add.deletion_vector->size_in_bytes, 40);
  EXPECT_EQ(add.deletion_vector->cardinality, 6);
  EXPECT_EQ(add.deletion_vector->max_row_index, 9);
  EXPECT_EQ(add.deletion_vector->UniqueId(), "uab^-aqEH.-t@S}K{vb[*k^@4");
  EXPECT_EQ(add.base_row_id, 100);
  EXPECT_EQ(add.default_row_commit_version, 3);
  EXPECT_EQ(add.clustering_provider, "liquid");

  ASSERT_EQ(c.removes.size(), 1u);
  const RemoveFile& remove = c.removes[0];
  EXPECT_EQ(remove.path, "old.parquet");
  EXPECT_EQ(remove.deletion_timestamp, 30);
  EXPECT_TRUE(remove.data_change);
  EXPECT_EQ(remove.extended_file_metadata, true);
  EXPECT_THAT(*remove.partition_values, ElementsAre(Pair("dt", std::optional<std::string>())));
  EXPECT_EQ(remove.size, 11);
  EXPECT_TRUE(remove.tags && remove.tags->empty());
  EXPECT_FALSE(remove.deletion_vector);

  ASSERT_EQ(c.txns.size(), 1u);
  EXPECT_EQ(c.txns[0].app_id, "app");
  EXPECT_EQ(c.txns[0].version, 42);
  EXPECT_EQ(c.txns[0].last_updated, 50);
  ASSERT_EQ(c.domains.size(), 1u);
  EXPECT_EQ(c.domains[0].domain, "delta.rowTracking");
  EXPECT_EQ(c.cdc_files, 1u);
  EXPECT_THAT(c.unknown_kinds, ElementsAre("futureAction"));
}

TEST(DeltaLog, ParsesASparkCommitAndKeepsItsCommitInfoVerbatim) {
  const std::string text =
      ReadGolden("basic-with-inserts-deletes-checkpoint/_delta_log/00000000000000000013.json");
  auto parsed = ParseCommit(text, "00000000000000000013.json");
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->removes.size(), 2u);
  ASSERT_EQ(parsed->adds.size(), 1u);
  EXPECT_EQ(parsed->adds[0].path,
            "part-00000-7d1a368c-74ea-42df-9527-2c9a7c8292b9-c000.snappy.parquet");
  EXPECT_EQ(parsed->adds[0].size, 510);
  const std::string line = LineWith(text, "commitInfo");
  EXPECT_EQ("{\"commitInfo\":" + *parsed->commit_info + "}", line);
}

TEST(DeltaLog, AMissingRequiredFieldNamesTheFileTheLineAndTheField) {
  EXPECT_EQ(
      ErrorOf(
          "{\"commitInfo\":{}}\n"
          R"({"add":{"path":"a","partitionValues":{},"modificationTime":1,"dataChange":true}})"),
      "t/_delta_log/00000000000000000007.json line 2: add.size is missing");
  EXPECT_THAT(ErrorOf(R"({"remove":{"path":"a"}})"),
              HasSubstr("line 1: remove.dataChange is missing"));
  EXPECT_THAT(ErrorOf(R"({"metaData":{"id":"x"}})"),
              HasSubstr("metaData.partitionColumns is missing"));
  EXPECT_THAT(ErrorOf(R"({"protocol":{"minWriterVersion":2}})"),
              HasSubstr("protocol.minReaderVersion is missing"));
  EXPECT_THAT(ErrorOf(R"({"txn":{"appId":"a"}})"), HasSubstr("txn.version is missing"));
  EXPECT_THAT(ErrorOf(R"({"add":{"path":null,"partitionValues":{},"size":1,)"
                      R"("modificationTime":1,"dataChange":true}})"),
              HasSubstr("add.path is null"));
  EXPECT_THAT(ErrorOf(R"({"add":{"path":"a","partitionValues":{},"size":1,"modificationTime":1,)"
                      R"("dataChange":true,"deletionVector":{"storageType":"u"}}})"),
              HasSubstr("add.deletionVector.pathOrInlineDv is missing"));
}

TEST(DeltaLog, WrongTypesAreRefused) {
  const std::string head = R"({"add":{"path":"a","partitionValues":{},"modificationTime":1,)";
  EXPECT_THAT(ErrorOf(head + R"("dataChange":true,"size":"10"}})"),
              HasSubstr("add.size is string, expected an integer"));
  EXPECT_THAT(ErrorOf(head + R"("dataChange":true,"size":1.5}})"),
              HasSubstr("add.size is number, expected an integer"));
  EXPECT_THAT(ErrorOf(head + R"("dataChange":true,"size":-1}})"),
              HasSubstr("add.size is out of range"));
  EXPECT_THAT(ErrorOf(head + R"("dataChange":true,"size":18446744073709551615}})"),
              HasSubstr("add.size is out of range"));
  EXPECT_THAT(ErrorOf(head + R"("dataChange":"true","size":1}})"),
              HasSubstr("add.dataChange is string, expected a boolean"));
  EXPECT_THAT(ErrorOf(R"({"add":{"path":"a","partitionValues":{"dt":5},"size":1,)"
                      R"("modificationTime":1,"dataChange":true}})"),
              HasSubstr("add.partitionValues.dt is number, expected a string or null"));
  EXPECT_THAT(ErrorOf(R"({"metaData":{"id":"x","partitionColumns":"dt"}})"),
              HasSubstr("metaData.partitionColumns is string, expected an array"));
  EXPECT_THAT(ErrorOf(R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2,)"
                      R"("readerFeatures":[1]}})"),
              HasSubstr("protocol.readerFeatures[] is number, expected a string"));
  EXPECT_THAT(ErrorOf(R"({"protocol":{"minReaderVersion":0,"minWriterVersion":2}})"),
              HasSubstr("protocol.minReaderVersion is out of range"));
  EXPECT_THAT(ErrorOf(R"({"add":[1]})"), HasSubstr("line 1: add is array, expected an object"));
}

TEST(DeltaLog, LinesThatAreNotOneActionAreRefused) {
  EXPECT_THAT(ErrorOf("{\"txn\":{\"appId\":\"a\",\"version\":1}}\n{\"add\":"),
              HasSubstr("line 2 is not valid JSON"));
  EXPECT_THAT(ErrorOf("[1,2]"), HasSubstr("line 1 is array, not an action"));
  EXPECT_THAT(ErrorOf("{}"), HasSubstr("line 1 holds no action"));
  EXPECT_THAT(ErrorOf(R"({"txn":{"appId":"a","version":1},"cdc":{}})"),
              HasSubstr("holds two actions"));
  EXPECT_THAT(ErrorOf("{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
                      "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}"),
              HasSubstr("line 2: a second protocol action in one commit"));
  // Not UTF-8.
  EXPECT_THAT(ErrorOf("{\"txn\":{\"appId\":\"\xff\",\"version\":1}}"),
              HasSubstr("is not valid JSON"));
}

TEST(DeltaLog, BlankLinesCarriageReturnsAndNullMembersAreTolerated) {
  auto parsed =
      ParseCommit("\r\n{\"txn\":{\"appId\":\"a\",\"version\":1},\"add\":null}\r\n\n  \n", "c.json");
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->txns.size(), 1u);
  EXPECT_TRUE(ParseCommit("", "c.json"));
}

TEST(DeltaLog, DeepNestingIsRefusedBeforeParsing) {
  const std::string deep =
      "{\"commitInfo\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_THAT(ErrorOf(deep), HasSubstr("line 1 nests deeper than 64 levels"));
  // Brackets inside strings are text, not nesting.
  const std::string text = "{\"commitInfo\":{\"x\":\"" + std::string(1000, '[') + "\"}}";
  EXPECT_TRUE(ParseCommit(text, "c.json"));
  // An unterminated deep line is refused as well, by the scan.
  EXPECT_THAT(ErrorOf(std::string(5000, '{')), HasSubstr("nests deeper"));
}

TEST(DeltaLog, HugeLinesAreRefused) {
  std::string huge = "{\"commitInfo\":{\"x\":\"";
  huge.append(kMaxLineBytes, 'a');
  huge += "\"}}";
  EXPECT_THAT(ErrorOf(huge), HasSubstr("line 1 is longer than"));
}

TEST(DeltaLog, AddsAndRemovesRoundTrip) {
  AddFile add;
  add.path = "dt=2024-01-02/p%20q.parquet";
  add.partition_values = {{"dt", "2024-01-02"}, {"h", std::nullopt}};
  add.size = 123;
  add.modification_time = 456;
  add.data_change = false;
  add.stats = R"({"numRecords":3,"minValues":{"s":"a\"b"}})";
  add.tags = Tags{{"INSERTION_TIME", "1"}, {"z", std::nullopt}};
  add.deletion_vector = DeletionVector{"u", "ab^-aq", 4, 40, 6, 10};
  add.base_row_id = 7;
  add.default_row_commit_version = 8;
  add.clustering_provider = "liquid";
  RemoveFile remove = RemoveForDelete(add, 999);

  const std::string text = SerializeAction(add) + "\n" + SerializeAction(remove) + "\n" +
                           SerializeAction(Transaction{"tidemark/run/step", 12, 13});
  auto parsed = ParseCommit(text, "c.json");
  ASSERT_TRUE(parsed) << parsed.error().message();
  ASSERT_EQ(parsed->adds.size(), 1u);
  const AddFile& back = parsed->adds[0];
  EXPECT_EQ(back.path, add.path);
  EXPECT_EQ(back.partition_values, add.partition_values);
  EXPECT_EQ(back.size, 123);
  EXPECT_EQ(back.modification_time, 456);
  EXPECT_FALSE(back.data_change);
  EXPECT_EQ(back.stats, add.stats);
  EXPECT_EQ(back.tags, add.tags);
  EXPECT_EQ(back.deletion_vector->UniqueId(), add.deletion_vector->UniqueId());
  EXPECT_EQ(back.deletion_vector->max_row_index, 10);
  EXPECT_EQ(back.base_row_id, 7);
  EXPECT_EQ(back.default_row_commit_version, 8);
  EXPECT_EQ(back.clustering_provider, "liquid");
  ASSERT_EQ(parsed->removes.size(), 1u);
  const RemoveFile& removed = parsed->removes[0];
  EXPECT_EQ(removed.path, add.path);
  EXPECT_EQ(removed.deletion_timestamp, 999);
  EXPECT_TRUE(removed.data_change);
  EXPECT_EQ(removed.extended_file_metadata, true);
  EXPECT_EQ(removed.partition_values, add.partition_values);
  EXPECT_EQ(removed.size, 123);
  EXPECT_EQ(removed.tags, add.tags);
  EXPECT_EQ(removed.deletion_vector->UniqueId(), add.deletion_vector->UniqueId());
  EXPECT_EQ(removed.base_row_id, 7);
  EXPECT_EQ(removed.default_row_commit_version, 8);
  ASSERT_EQ(parsed->txns.size(), 1u);
  EXPECT_EQ(parsed->txns[0].app_id, "tidemark/run/step");
  EXPECT_EQ(parsed->txns[0].version, 12);
  EXPECT_EQ(parsed->txns[0].last_updated, 13);

  AddFile restored = AddForRestore(add);
  EXPECT_TRUE(restored.data_change);
  std::string expected = SerializeAction(add);
  expected.replace(expected.find("\"dataChange\":false"), 18, "\"dataChange\":true");
  EXPECT_EQ(SerializeAction(restored), expected);
}

// Spark's DELETE of a whole file (version 5 of the golden table removes the file that
// version 0 added): tidemark writes the very same line.
TEST(DeltaLog, RemovesAreWrittenExactlyAsSparkWritesThem) {
  const std::string log = "basic-with-inserts-deletes-checkpoint/_delta_log/";
  auto v0 = ParseCommit(ReadGolden(log + "00000000000000000000.json"), "v0");
  const std::string v5_text = ReadGolden(log + "00000000000000000005.json");
  auto v5 = ParseCommit(v5_text, "v5");
  ASSERT_TRUE(v0 && v5);
  ASSERT_EQ(v0->adds.size(), 1u);
  ASSERT_EQ(v5->removes.size(), 1u);
  const RemoveFile& spark = v5->removes[0];
  const RemoveFile mine = RemoveForDelete(v0->adds[0], *spark.deletion_timestamp);
  EXPECT_EQ(mine.path, spark.path);
  EXPECT_EQ(mine.deletion_timestamp, spark.deletion_timestamp);
  EXPECT_EQ(mine.data_change, spark.data_change);
  EXPECT_EQ(mine.extended_file_metadata, spark.extended_file_metadata);
  EXPECT_EQ(mine.partition_values, spark.partition_values);
  EXPECT_EQ(mine.size, spark.size);
  EXPECT_EQ(mine.tags, spark.tags);
  EXPECT_FALSE(mine.deletion_vector);
  EXPECT_EQ(SerializeAction(mine), LineWith(v5_text, "\"remove\""));
}

TEST(DeltaLog, CommitsAreWrittenCommitInfoFirstAndReadBack) {
  CommitToWrite commit;
  commit.commit_info.timestamp_ms = 1700000000000;
  commit.commit_info.operation = "DELETE";
  commit.commit_info.predicates = {"event_date = '2024-01-02'"};
  commit.commit_info.read_version = 41;
  commit.txn = Transaction{"tidemark/r1/s1", 42, 1700000000000};
  AddFile add;
  add.path = "event_date=2024-01-02/a.parquet";
  add.partition_values = {{"event_date", "2024-01-02"}};
  add.size = 5;
  commit.removes.push_back(RemoveForDelete(add, 1700000000000));
  auto text = SerializeActions(commit);
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_EQ(text->substr(0, text->find('\n')),
            R"({"commitInfo":{"timestamp":1700000000000,"operation":"DELETE",)"
            R"("operationParameters":{"predicate":"[\"event_date = '2024-01-02'\"]"},)"
            R"("readVersion":41,"isBlindAppend":false,"engineInfo":")" +
                CommitInfoToWrite::EngineInfo() + "\"}}");
  EXPECT_THAT(CommitInfoToWrite::EngineInfo(), ::testing::StartsWith("tidemark "));
  EXPECT_EQ(text->back(), '\n');
  auto back = ParseCommit(*text, "c.json");
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->removes.size(), 1u);
  EXPECT_EQ(back->txns.size(), 1u);
  EXPECT_TRUE(back->commit_info);

  commit.commit_info.operation = "WRITE";
  commit.commit_info.partition_by = {"event_date"};
  commit.removes.clear();
  commit.adds.push_back(AddForRestore(add));
  text = SerializeActions(commit);
  ASSERT_TRUE(text);
  EXPECT_THAT(*text, HasSubstr(R"("operationParameters":{"mode":"Append",)"
                               R"("partitionBy":"[\"event_date\"]","predicate":)"));

  commit.adds[0].path = "bad\xff.parquet";
  EXPECT_THAT(SerializeActions(commit).error().message(), HasSubstr("not UTF-8"));
}

TEST(DeltaLog, LogPathsDecodeToKeysUnderTheTableRoot) {
  const std::string root = "file:///data/lake/t";
  EXPECT_EQ(DecodeLogPath("a%20b.parquet", root).value(), "a b.parquet");
  EXPECT_EQ(DecodeLogPath("ts=2024-01-01%2010%253A00%253A00/p.parquet", root).value(),
            "ts=2024-01-01 10%3A00%3A00/p.parquet");
  EXPECT_EQ(DecodeLogPath("x%3Ay", root).value(), "x:y");
  EXPECT_EQ(DecodeLogPath("special%20p@%23h", root).value(), "special p@#h");
  EXPECT_EQ(DecodeLogPath("file:///data/lake/t/dt=1/a%20b", root).value(), "dt=1/a b");
  EXPECT_EQ(DecodeLogPath("file:/data/lake/t/a", root).value(), "a");
  EXPECT_EQ(DecodeLogPath("file://localhost/data/lake/t/a", root).value(), "a");
  EXPECT_EQ(DecodeLogPath("/data/lake/t/a", root).value(), "a");
  EXPECT_EQ(DecodeLogPath("file:/data/lake/t%2Fa", root).value(), "a");
  EXPECT_EQ(DecodeLogPath("s3a://bucket/lake/t/a.parquet", "s3://bucket/lake/t/").value(),
            "a.parquet");
  EXPECT_EQ(DecodeLogPath("S3://bucket/lake/t/a.parquet", "s3://bucket/lake/t").value(),
            "a.parquet");

  for (const char* outside :
       {"file:/data/lake/other/a", "file:/data/lake/t", "file:/data/lake/tt/a", "/elsewhere/a",
        "s3://bucket/lake/t/a", "hdfs://nn/data/lake/t/a"}) {
    auto decoded = DecodeLogPath(outside, root);
    ASSERT_FALSE(decoded) << outside;
    EXPECT_THAT(decoded.error().message(), HasSubstr("outside the table root")) << outside;
  }
  EXPECT_THAT(DecodeLogPath("s3://other/lake/t/a", "s3://bucket/lake/t").error().message(),
              HasSubstr("outside"));
  for (const char* bad :
       {"a%2", "a%zz", "%2e%2e/x", "a/../b", "./a", "a//b", "a%00b", "%2Fetc", "", "a/"}) {
    EXPECT_FALSE(DecodeLogPath(bad, root)) << bad;
  }
  auto outside = ResolveLogPath("/some/with%20space/p@%23h", root);
  ASSERT_TRUE(outside);
  EXPECT_TRUE(outside->outside_root);
  EXPECT_EQ(outside->key, "file:/some/with space/p@#h");
  EXPECT_EQ(ResolveLogPath("file:/some/with%20space/p@%23h", root)->key, outside->key);
}

TEST(DeltaLog, EncodedPathsDecodeBack) {
  const std::string key = "ts=2024-01-01 10%3A00%3A00/a#b?c[d]:e\x01.parquet";
  EXPECT_EQ(EncodeLogPath("event_date=2024-01-02/part-0.parquet"),
            "event_date=2024-01-02/part-0.parquet");
  EXPECT_EQ(EncodeLogPath("a b%c"), "a%20b%25c");
  EXPECT_EQ(DecodeLogPath(EncodeLogPath(key), "file:///t").value(), key);
}

TEST(DeltaLog, ParsesLastCheckpointHints) {
  auto golden = ParseLastCheckpoint(
      ReadGolden("basic-with-inserts-deletes-checkpoint/_delta_log/_last_checkpoint"), "lc");
  ASSERT_TRUE(golden) << golden.error().message();
  EXPECT_EQ(golden->version, 10);
  EXPECT_EQ(golden->size, 13);
  EXPECT_FALSE(golden->parts);
  EXPECT_FALSE(golden->v2);
  auto parts = ParseLastCheckpoint(R"({"version":3,"size":9,"parts":3,"v2Checkpoint":{}})", "lc");
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->parts, 3);
  EXPECT_TRUE(parts->v2);
  EXPECT_THAT(ParseLastCheckpoint("", "lc").error().message(),
              HasSubstr("lc line 1 is not valid JSON"));
  EXPECT_THAT(ParseLastCheckpoint(R"({"size":1})", "lc").error().message(),
              HasSubstr("_last_checkpoint.version is missing"));
  EXPECT_THAT(ParseLastCheckpoint(R"({"version":-1})", "lc").error().message(),
              HasSubstr("out of range"));
  EXPECT_FALSE(ParseLastCheckpoint("[]", "lc"));
}

TEST(DeltaLog, ReadsPhysicalNamesFromTheSchema) {
  auto commit = ParseCommit(
      ReadGolden("table-with-columnmapping-mode-name/_delta_log/00000000000000000000.json"), "v0");
  ASSERT_TRUE(commit) << commit.error().message();
  auto columns = ParseSchemaColumns(commit->metadata->schema_string, "schema");
  ASSERT_TRUE(columns) << columns.error().message();
  ASSERT_GE(columns->size(), 9u);
  EXPECT_EQ((*columns)[0].name, "ByteType");
  EXPECT_EQ((*columns)[0].physical_name, "col-33314a5e-7dc1-438a-8f4d-df8c417071d6");
  EXPECT_EQ((*columns)[8].name, "StringType");
  EXPECT_EQ((*columns)[8].physical_name, "col-7f007ffd-c4e2-4d7e-84c2-af985d4e3feb");

  auto plain =
      ParseSchemaColumns(R"({"type":"struct","fields":[{"name":"a","metadata":{}}]})", "s");
  ASSERT_TRUE(plain);
  EXPECT_FALSE((*plain)[0].physical_name);
  EXPECT_THAT(ParseSchemaColumns(R"({"type":"struct"})", "s").error().message(),
              HasSubstr("fields is missing"));
}

}  // namespace
}  // namespace tidemark::backend::lake::delta
