// The Parquet reader on files Spark wrote (Delta checkpoints and data files of the
// delta-golden tables, cross-checked against the tables' JSON commits), on files of the
// test writer in every combination of codec, page version and dictionary, and on damaged
// files.

#include "tidemark/backend/lake/parquet.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tidemark/backend/lake/parquet_writer.h"
#include "tidemark/backend/lake/thrift_compact.h"

namespace tidemark::backend::lake::parquet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kGolden = TIDEMARK_TESTDATA_DIR "/delta-golden/";

std::shared_ptr<const std::string> Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return std::make_shared<const std::string>(buffer.str());
}

File OpenGolden(const std::string& relative) {
  auto bytes = Slurp(kGolden + relative);
  EXPECT_GT(bytes->size(), 0u) << relative;
  auto file = File::Open(bytes, relative);
  EXPECT_TRUE(file) << file.error().message();
  return std::move(*file);
}

Column Read(const File& file, const std::vector<std::string>& path, size_t row_group = 0) {
  auto column = file.ReadColumn(row_group, path);
  EXPECT_TRUE(column) << column.error().message();
  return column ? std::move(*column) : Column();
}

// The values of a column without repetition, one per row: nullopt where it is null.
std::vector<std::optional<std::string>> Strings(const Column& c) {
  std::vector<std::optional<std::string>> out;
  size_t next = 0;
  for (size_t i = 0; i < c.entries; ++i) {
    if (c.Def(i) == c.max_def) {
      out.emplace_back(std::string(c.bytes[next++]));
    } else {
      out.emplace_back();
    }
  }
  return out;
}

std::vector<std::optional<int64_t>> Ints(const Column& c) {
  std::vector<std::optional<int64_t>> out;
  size_t next = 0;
  for (size_t i = 0; i < c.entries; ++i) {
    if (c.Def(i) == c.max_def) {
      out.emplace_back(c.ints[next++]);
    } else {
      out.emplace_back();
    }
  }
  return out;
}

// ----- what Spark wrote -----

// The file actions of a table replayed from its JSON commits up to `version`: the live
// files (path → size, modification time) and the removed ones.
struct Replay {
  std::map<std::string, std::pair<int64_t, int64_t>> live;
  std::set<std::string> removed;
  std::optional<std::string> metadata_id;
  std::optional<int> min_reader, min_writer;
};

Replay ReplayJson(const std::string& table, int version) {
  Replay replay;
  for (int v = 0; v <= version; ++v) {
    char name[32];
    std::snprintf(name, sizeof name, "%020d.json", v);
    std::ifstream in(kGolden + table + "/_delta_log/" + name);
    EXPECT_TRUE(in) << table << " " << name;
    for (std::string line; std::getline(in, line);) {
      const nlohmann::json action = nlohmann::json::parse(line);
      if (action.contains("add")) {
        const auto& add = action["add"];
        const std::string path = add["path"];
        replay.live[path] = {add["size"], add["modificationTime"]};
        replay.removed.erase(path);
      } else if (action.contains("remove")) {
        const std::string path = action["remove"]["path"];
        replay.live.erase(path);
        replay.removed.insert(path);
      } else if (action.contains("metaData")) {
        replay.metadata_id = action["metaData"]["id"];
      } else if (action.contains("protocol")) {
        replay.min_reader = action["protocol"]["minReaderVersion"];
        replay.min_writer = action["protocol"]["minWriterVersion"];
      }
    }
  }
  return replay;
}

// The same from a checkpoint, through the reader.
Replay ReplayCheckpoint(const File& file) {
  Replay replay;
  for (size_t g = 0; g < file.row_groups(); ++g) {
    const auto add_path = Strings(Read(file, {"add", "path"}, g));
    const auto add_size = Ints(Read(file, {"add", "size"}, g));
    const auto add_time = Ints(Read(file, {"add", "modificationTime"}, g));
    const auto remove_path = Strings(Read(file, {"remove", "path"}, g));
    const auto id = Strings(Read(file, {"metaData", "id"}, g));
    const auto reader = Ints(Read(file, {"protocol", "minReaderVersion"}, g));
    const auto writer = Ints(Read(file, {"protocol", "minWriterVersion"}, g));
    for (size_t row = 0; row < add_path.size(); ++row) {
      if (add_path[row]) replay.live[*add_path[row]] = {*add_size[row], *add_time[row]};
      if (remove_path[row]) replay.removed.insert(*remove_path[row]);
      if (id[row]) replay.metadata_id = *id[row];
      if (reader[row]) replay.min_reader = static_cast<int>(*reader[row]);
      if (writer[row]) replay.min_writer = static_cast<int>(*writer[row]);
    }
  }
  return replay;
}

TEST(ParquetSpark, CheckpointSchemaHoldsTheDeltaActions) {
  const File file = OpenGolden("checkpoint/_delta_log/00000000000000000010.checkpoint.parquet");
  std::vector<std::string> actions;
  for (const SchemaNode& child : file.schema().children) actions.push_back(child.name);
  EXPECT_THAT(actions,
              ElementsAre("txn", "add", "remove", "metaData", "protocol", "domainMetadata"));
  EXPECT_EQ(file.num_rows(), 13);
  EXPECT_EQ(file.row_groups(), 1u);

  const SchemaNode* values = file.schema().Child("add")->Child("partitionValues");
  ASSERT_NE(values, nullptr);
  EXPECT_EQ(values->converted_type, "MAP");
  EXPECT_EQ(values->logical_type, "MAP");
  EXPECT_EQ(values->repetition, Repetition::kOptional);
  const SchemaNode* key_value = values->Child("key_value");
  ASSERT_NE(key_value, nullptr);
  EXPECT_EQ(key_value->repetition, Repetition::kRepeated);
  const SchemaNode* key = file.Leaf({"add", "partitionValues", "key_value", "key"});
  const SchemaNode* value = file.Leaf({"add", "partitionValues", "key_value", "value"});
  ASSERT_NE(key, nullptr);
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(key->type, PhysicalType::kByteArray);
  EXPECT_EQ(key->converted_type, "UTF8");
  EXPECT_EQ(key->repetition, Repetition::kRequired);
  EXPECT_EQ(key->max_def, 3);
  EXPECT_EQ(key->max_rep, 1);
  EXPECT_EQ(value->max_def, 4);
  EXPECT_EQ(value->max_rep, 1);
  const SchemaNode* columns = file.Leaf({"metaData", "partitionColumns", "list", "element"});
  ASSERT_NE(columns, nullptr);
  EXPECT_EQ(file.schema().Child("metaData")->Child("partitionColumns")->converted_type, "LIST");
  EXPECT_EQ(file.Leaf({"add", "size"})->type, PhysicalType::kInt64);
  EXPECT_EQ(file.Leaf({"add", "dataChange"})->type, PhysicalType::kBoolean);
  EXPECT_EQ(file.Leaf({"protocol", "minReaderVersion"})->type, PhysicalType::kInt32);
  EXPECT_EQ(file.Leaf({"add"}), nullptr);  // a group, not a leaf
  EXPECT_EQ(file.Leaf({"add", "nope"}), nullptr);

  const ColumnChunk* chunk = file.Chunk(0, {"add", "path"});
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->codec, Codec::kSnappy);
  EXPECT_EQ(chunk->num_values, 13);
  EXPECT_THAT(chunk->path, ElementsAre("add", "path"));
}

TEST(ParquetSpark, CheckpointOfVersion10HoldsOneAddAndTenRemoves) {
  const File file = OpenGolden("checkpoint/_delta_log/00000000000000000010.checkpoint.parquet");
  const Column path = Read(file, {"add", "path"});
  EXPECT_EQ(path.entries, 13u);
  EXPECT_THAT(path.bytes, ElementsAre("11"));
  EXPECT_THAT(Ints(Read(file, {"add", "size"})), ::testing::Contains(std::optional<int64_t>(1)));
  // Checkpoints record adds as no data change.
  EXPECT_THAT(Read(file, {"add", "dataChange"}).ints, ElementsAre(0));
  std::set<std::string> removed;
  for (const auto& p : Read(file, {"remove", "path"}).bytes) removed.emplace(p);
  EXPECT_EQ(removed, (std::set<std::string>{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}));
  EXPECT_THAT(Read(file, {"remove", "deletionTimestamp"}).ints,
              ::testing::Contains(1697495774314));  // removing "10", in 00…10.json

  // An empty map in the add row, no map in the others.
  const Column keys = Read(file, {"add", "partitionValues", "key_value", "key"});
  EXPECT_EQ(keys.entries, 13u);
  EXPECT_TRUE(keys.bytes.empty());
  const auto starts = keys.RowStarts();
  EXPECT_EQ(starts.size(), 14u);
  const auto add_row =
      std::find(path.def_levels.begin(), path.def_levels.end(), 2) - path.def_levels.begin();
  EXPECT_EQ(keys.Def(add_row), 2);  // partitionValues defined, key_value absent: {}
  EXPECT_EQ(keys.Def(0), 0);        // no add at all
  const Column schema = Read(file, {"metaData", "schemaString"});
  ASSERT_EQ(schema.bytes.size(), 1u);
  EXPECT_THAT(std::string(schema.bytes[0]), HasSubstr("\"intCol\""));
}

// The adds and removes of each checkpoint are those of replaying the table's JSON commits
// up to the checkpoint's version.
TEST(ParquetSpark, CheckpointsAgreeWithTheirJsonCommits) {
  const std::pair<std::string, int> checkpoints[] = {
      {"checkpoint", 10},
      {"basic-with-inserts-deletes-checkpoint", 10},
      {"only-checkpoint-files", 1},
      {"only-checkpoint-files", 2},
      {"corrupted-last-checkpoint", 10},
  };
  for (const auto& [table, version] : checkpoints) {
    SCOPED_TRACE(table + " " + std::to_string(version));
    char name[48];
    std::snprintf(name, sizeof name, "%020d.checkpoint.parquet", version);
    const File file = OpenGolden(table + "/_delta_log/" + name);
    const Replay json = ReplayJson(table, version);
    const Replay checkpoint = ReplayCheckpoint(file);
    EXPECT_FALSE(json.live.empty());
    EXPECT_EQ(checkpoint.live, json.live);
    EXPECT_EQ(checkpoint.removed, json.removed);
    EXPECT_EQ(checkpoint.metadata_id, json.metadata_id);
    EXPECT_EQ(checkpoint.min_reader, json.min_reader);
    EXPECT_EQ(checkpoint.min_writer, json.min_writer);
    // Every leaf of every row group decodes.
    for (size_t g = 0; g < file.row_groups(); ++g) {
      for (const auto& leaf : file.leaf_paths()) {
        auto column = file.ReadColumn(g, leaf);
        ASSERT_TRUE(column) << column.error().message();
        EXPECT_EQ(column->RowStarts().size(), static_cast<size_t>(file.RowGroupRows(g)) + 1);
      }
    }
  }
}

// The data files of a table: row counts and the smallest and largest id agree with the
// statistics its commits give.
TEST(ParquetSpark, DataFilesAgreeWithTheirStatistics) {
  const std::string table = "basic-with-inserts-deletes-checkpoint";
  int files = 0;
  for (int v = 0; v <= 13; ++v) {
    char name[32];
    std::snprintf(name, sizeof name, "%020d.json", v);
    std::ifstream in(kGolden + table + "/_delta_log/" + name);
    for (std::string line; std::getline(in, line);) {
      const nlohmann::json action = nlohmann::json::parse(line);
      if (!action.contains("add")) continue;
      const std::string path = action["add"]["path"];
      const nlohmann::json stats = nlohmann::json::parse(std::string(action["add"]["stats"]));
      SCOPED_TRACE(path);
      const File file = OpenGolden(table + "/" + path);
      EXPECT_EQ(file.num_rows(), stats["numRecords"].get<int64_t>());
      std::vector<int64_t> ids;
      for (size_t g = 0; g < file.row_groups(); ++g) {
        const Column id = Read(file, {"id"}, g);
        ids.insert(ids.end(), id.ints.begin(), id.ints.end());
      }
      ASSERT_EQ(ids.size(), stats["numRecords"].get<size_t>());
      EXPECT_EQ(*std::min_element(ids.begin(), ids.end()), stats["minValues"]["id"].get<int64_t>());
      EXPECT_EQ(*std::max_element(ids.begin(), ids.end()), stats["maxValues"]["id"].get<int64_t>());
      ++files;
    }
  }
  EXPECT_GE(files, 10);
}

// A data file of many types, nested ones too: a list of structs and a struct in a struct.
TEST(ParquetSpark, DataFileWithNestedColumns) {
  std::string relative;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(kGolden + "data-reader-partition-values")) {
    if (entry.path().extension() == ".parquet" &&
        entry.path().string().find("as_int=0/") != std::string::npos) {
      relative = entry.path().string().substr(kGolden.size());
    }
  }
  ASSERT_FALSE(relative.empty());
  const File file = OpenGolden(relative);
  const SchemaNode* val = file.Leaf({"as_list_of_records", "list", "element", "val"});
  ASSERT_NE(val, nullptr);
  EXPECT_EQ(val->max_def, 4);
  EXPECT_EQ(val->max_rep, 1);
  for (size_t g = 0; g < file.row_groups(); ++g) {
    const Column list = Read(file, {"as_list_of_records", "list", "element", "val"}, g);
    const Column aca = Read(file, {"as_nested_struct", "ac", "aca"}, g);
    const Column value = Read(file, {"value"}, g);
    ASSERT_EQ(list.RowStarts().size(), value.entries + 1);
    // Each row's list holds three records whose val is the row's value.
    const auto starts = list.RowStarts();
    size_t next = 0;
    for (size_t row = 0; row + 1 < starts.size(); ++row) {
      EXPECT_EQ(starts[row + 1] - starts[row], 3u);
      for (size_t e = starts[row]; e < starts[row + 1]; ++e) {
        ASSERT_EQ(list.Def(e), 4);
        EXPECT_EQ(std::to_string(list.ints[next++]), std::string(value.bytes[row]));
      }
      EXPECT_EQ(std::to_string(aca.ints[row]), std::string(value.bytes[row]));
    }
  }
}

// ----- round trips through the writer -----

// Rows of a table with every physical type, repetition and nesting the reader knows,
// shredded into columns after the Dremel encoding by hand.
struct Table {
  SchemaNode schema;
  std::vector<Column> columns;
  std::vector<std::string> storage;  // the bytes the columns' views point into
  size_t rows = 0;
};

Column Leaf(PhysicalType type, int16_t max_def, int16_t max_rep) {
  Column c;
  c.type = type;
  c.max_def = max_def;
  c.max_rep = max_rep;
  return c;
}

// Appends one entry at (def, rep); a value when def is the column's max.
void Entry(Column* c, int16_t def, int16_t rep) {
  if (c->max_def > 0) c->def_levels.push_back(def);
  if (c->max_rep > 0) c->rep_levels.push_back(rep);
  ++c->entries;
}

Table MakeTable(size_t rows, uint32_t seed) {
  Table t;
  using R = Repetition;
  using T = PhysicalType;
  t.schema = GroupNode("schema", R::kRequired, {});
  auto& s = t.schema.children;
  s.push_back(LeafNode("id", T::kInt64, R::kRequired));
  s.push_back(LeafNode("name", T::kByteArray, R::kOptional, "UTF8"));
  s.push_back(LeafNode("tags", T::kInt32, R::kRepeated));
  s.push_back(LeafNode("flag", T::kBoolean, R::kOptional));
  s.push_back(LeafNode("ratio", T::kFloat, R::kRequired));
  s.push_back(LeafNode("score", T::kDouble, R::kOptional));
  s.push_back(LeafNode("legacy_time", T::kInt96, R::kOptional));
  s.push_back(LeafNode("code", T::kFixed, R::kRequired, "", 3));
  s.push_back(GroupNode(
      "nested", R::kOptional,
      {LeafNode("a", T::kInt32, R::kOptional),
       GroupNode("inner", R::kOptional, {LeafNode("b", T::kByteArray, R::kRequired, "UTF8")})}));
  s.push_back(MapNode("partitionValues", R::kOptional,
                      LeafNode("", T::kByteArray, R::kRequired, "UTF8"),
                      LeafNode("", T::kByteArray, R::kOptional, "UTF8")));
  s.push_back(ListNode("sizes", R::kOptional, LeafNode("", T::kInt64, R::kOptional)));
  Column id = Leaf(T::kInt64, 0, 0), name = Leaf(T::kByteArray, 1, 0), tags = Leaf(T::kInt32, 1, 1),
         flag = Leaf(T::kBoolean, 1, 0), ratio = Leaf(T::kFloat, 0, 0),
         score = Leaf(T::kDouble, 1, 0), time = Leaf(T::kInt96, 1, 0), code = Leaf(T::kFixed, 0, 0),
         a = Leaf(T::kInt32, 2, 0), b = Leaf(T::kByteArray, 2, 0), key = Leaf(T::kByteArray, 2, 1),
         value = Leaf(T::kByteArray, 3, 1), size = Leaf(T::kInt64, 3, 1);
  std::mt19937 random(seed);
  auto chance = [&](int percent) { return static_cast<int>(random() % 100) < percent; };
  // Views into `storage`, which is reserved so that they stay valid.
  t.storage.reserve(rows * 12);
  auto keep = [&](std::string text) -> std::string_view {
    return t.storage.emplace_back(std::move(text));
  };
  for (size_t row = 0; row < rows; ++row) {
    const int64_t r = static_cast<int64_t>(row);
    Entry(&id, 0, 0), id.ints.push_back(r * 1'000'003 - 7'000'000'000);
    if (chance(20)) {
      Entry(&name, 0, 0);
    } else {
      Entry(&name, 1, 0), name.bytes.push_back(keep("name-" + std::to_string(row % 37)));
    }
    const int n_tags = static_cast<int>(random() % 4);
    if (n_tags == 0) Entry(&tags, 0, 0);
    for (int i = 0; i < n_tags; ++i) Entry(&tags, 1, i == 0 ? 0 : 1), tags.ints.push_back(-i * r);
    if (chance(10)) {
      Entry(&flag, 0, 0);
    } else {
      Entry(&flag, 1, 0), flag.ints.push_back(chance(70));
    }
    Entry(&ratio, 0, 0), ratio.doubles.push_back(static_cast<float>(r) / 8);
    if (chance(30)) {
      Entry(&score, 0, 0);
    } else {
      Entry(&score, 1, 0), score.doubles.push_back(r % 5 == 0 ? -0.0 : 1e300 / (r + 1));
    }
    if (chance(50)) {
      Entry(&time, 0, 0);
    } else {
      Entry(&time, 1, 0),
          time.bytes.push_back(keep(std::string(12, static_cast<char>('a' + row % 26))));
    }
    Entry(&code, 0, 0),
        code.bytes.push_back(keep(std::string("x") + static_cast<char>(row % 256) + "z"));
    // nested: null, {a: null, inner: null}, {a, inner: {b}}
    const int nested = static_cast<int>(random() % 3);
    if (nested == 0) {
      Entry(&a, 0, 0), Entry(&b, 0, 0);
    } else if (nested == 1) {
      Entry(&a, 1, 0), Entry(&b, 1, 0);
    } else {
      Entry(&a, 2, 0), a.ints.push_back(static_cast<int32_t>(r * 7919));
      Entry(&b, 2, 0), b.bytes.push_back(keep("b" + std::to_string(row)));
    }
    // partitionValues: null, {}, or up to 3 keys, some values null.
    const int map = static_cast<int>(random() % 5);
    if (map == 0) {
      Entry(&key, 0, 0), Entry(&value, 0, 0);
    } else if (map == 1) {
      Entry(&key, 1, 0), Entry(&value, 1, 0);
    } else {
      for (int i = 0; i < map - 1; ++i) {
        const int16_t rep = i == 0 ? 0 : 1;
        Entry(&key, 2, rep), key.bytes.push_back(keep("k" + std::to_string(i)));
        if (chance(25)) {
          Entry(&value, 2, rep);
        } else {
          Entry(&value, 3, rep), value.bytes.push_back(keep(std::to_string(row % 11 + i)));
        }
      }
    }
    // sizes: null, [], or up to 3 elements, some null.
    const int list = static_cast<int>(random() % 5);
    if (list == 0) {
      Entry(&size, 0, 0);
    } else if (list == 1) {
      Entry(&size, 1, 0);
    } else {
      for (int i = 0; i < list - 1; ++i) {
        if (chance(20)) {
          Entry(&size, 2, i == 0 ? 0 : 1);
        } else {
          Entry(&size, 3, i == 0 ? 0 : 1), size.ints.push_back(r << 20 | i);
        }
      }
    }
  }
  t.columns = {id, name, tags, flag, ratio, score, time, code, a, b, key, value, size};
  t.rows = rows;
  return t;
}

// Every column of every row group, concatenated; `arenas` keeps the bytes alive.
std::vector<Column> ReadAll(const File& file,
                            std::vector<std::shared_ptr<const std::string>>* arenas) {
  std::vector<Column> out;
  for (const auto& path : file.leaf_paths()) {
    Column all;
    for (size_t g = 0; g < file.row_groups(); ++g) {
      auto c = file.ReadColumn(g, path);
      EXPECT_TRUE(c) << c.error().message();
      if (!c) return out;
      EXPECT_EQ(c->RowStarts().size(), static_cast<size_t>(file.RowGroupRows(g)) + 1);
      all.type = c->type;
      all.max_def = c->max_def;
      all.max_rep = c->max_rep;
      all.entries += c->entries;
      all.def_levels.insert(all.def_levels.end(), c->def_levels.begin(), c->def_levels.end());
      all.rep_levels.insert(all.rep_levels.end(), c->rep_levels.begin(), c->rep_levels.end());
      all.ints.insert(all.ints.end(), c->ints.begin(), c->ints.end());
      all.doubles.insert(all.doubles.end(), c->doubles.begin(), c->doubles.end());
      all.bytes.insert(all.bytes.end(), c->bytes.begin(), c->bytes.end());
      arenas->push_back(c->arena);
    }
    out.push_back(std::move(all));
  }
  return out;
}

// The pages of a column chunk, found by walking their headers.
int CountPages(const std::string& file, const ColumnChunk& chunk) {
  size_t pos = static_cast<size_t>(chunk.start());
  const size_t end = pos + static_cast<size_t>(chunk.total_compressed_size);
  int pages = 0;
  while (pos < end) {
    ThriftReader r(std::string_view(file).substr(pos, end - pos), "page");
    int32_t size = 0;
    EXPECT_TRUE(r.ReadStruct([&](const ThriftField& f) -> util::Result<bool> {
      if (f.id != 3) return false;
      TM_TRY_ASSIGN(size, r.I32());
      return true;
    }));
    pos += r.position() + static_cast<size_t>(size);
    ++pages;
  }
  return pages;
}

struct Combination {
  Codec codec;
  int page_version;
  bool dictionary;
};

std::string Describe(const Combination& c) {
  return std::string(CodecName(c.codec)) + " v" + std::to_string(c.page_version) +
         (c.dictionary ? " dictionary" : " plain");
}

class ParquetRoundTrip : public ::testing::TestWithParam<Combination> {};

TEST_P(ParquetRoundTrip, ReadsBackExactlyWhatWasWritten) {
  const Table table = MakeTable(1000, 42);
  WriterOptions options;
  options.codec = GetParam().codec;
  options.page_version = GetParam().page_version;
  options.dictionary = GetParam().dictionary;
  options.page_bytes = 300;
  options.row_group_rows = 400;
  auto bytes = WriteParquet(table.schema, table.columns, options);
  ASSERT_TRUE(bytes) << bytes.error().message();
  auto shared = std::make_shared<const std::string>(std::move(*bytes));
  auto file = File::Open(shared, "round-trip.parquet");
  ASSERT_TRUE(file) << file.error().message();
  EXPECT_EQ(file->num_rows(), 1000);
  ASSERT_EQ(file->row_groups(), 3u);
  EXPECT_EQ(file->RowGroupRows(2), 200);
  std::vector<std::shared_ptr<const std::string>> arenas;
  const std::vector<Column> read = ReadAll(*file, &arenas);
  ASSERT_EQ(read.size(), table.columns.size());
  for (size_t i = 0; i < read.size(); ++i) {
    const Column& want = table.columns[i];
    const Column& got = read[i];
    SCOPED_TRACE(file->leaf_paths()[i].back());
    EXPECT_EQ(got.type, want.type);
    EXPECT_EQ(got.max_def, want.max_def);
    EXPECT_EQ(got.max_rep, want.max_rep);
    EXPECT_EQ(got.entries, want.entries);
    EXPECT_EQ(got.def_levels, want.def_levels);
    EXPECT_EQ(got.rep_levels, want.rep_levels);
    EXPECT_EQ(got.ints, want.ints);
    ASSERT_EQ(got.doubles.size(), want.doubles.size());
    for (size_t v = 0; v < got.doubles.size(); ++v) {
      EXPECT_EQ(std::signbit(got.doubles[v]), std::signbit(want.doubles[v]));
      EXPECT_EQ(got.doubles[v], want.doubles[v]);
    }
    EXPECT_EQ(got.bytes, want.bytes);
    const ColumnChunk* chunk = file->Chunk(0, file->leaf_paths()[i]);
    ASSERT_NE(chunk, nullptr);
    EXPECT_EQ(chunk->codec, GetParam().codec);
    const bool dictionary_encoded =
        std::count(chunk->encodings.begin(), chunk->encodings.end(),
                   GetParam().page_version == 1 ? Encoding::kPlainDictionary
                                                : Encoding::kRleDictionary) > 0;
    EXPECT_EQ(dictionary_encoded, GetParam().dictionary && got.type != PhysicalType::kBoolean);
    // Several data pages per chunk (plus the dictionary) for the wider columns.
    if (i == 0) {
      EXPECT_GE(CountPages(*shared, *chunk), 3 + GetParam().dictionary);
    }
  }
}

std::vector<Combination> AllCombinations() {
  std::vector<Combination> out;
  for (Codec codec : {Codec::kUncompressed, Codec::kSnappy, Codec::kGzip, Codec::kZstd}) {
    for (int version : {1, 2}) {
      for (bool dictionary : {false, true}) out.push_back({codec, version, dictionary});
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(ParquetCodecs, ParquetRoundTrip, ::testing::ValuesIn(AllCombinations()),
                         [](const ::testing::TestParamInfo<Combination>& info) {
                           std::string name = Describe(info.param);
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(ParquetRoundTrip, RowStartsFollowTheRepetitionLevels) {
  const Table table = MakeTable(50, 7);
  auto bytes = WriteParquet(table.schema, table.columns);
  ASSERT_TRUE(bytes);
  auto file = File::Open(std::make_shared<const std::string>(std::move(*bytes)), "rows.parquet");
  ASSERT_TRUE(file);
  const Column key = Read(*file, {"partitionValues", "key_value", "key"});
  const Column value = Read(*file, {"partitionValues", "key_value", "value"});
  const std::vector<size_t> starts = key.RowStarts();
  ASSERT_EQ(starts.size(), 51u);
  EXPECT_EQ(starts.front(), 0u);
  EXPECT_EQ(starts.back(), key.entries);
  EXPECT_EQ(value.RowStarts(), starts);
  // Rebuild each row's map: null, empty, or keys k0, k1… with their values.
  size_t next_key = 0, next_value = 0;
  for (size_t row = 0; row < 50; ++row) {
    const size_t first = starts[row], last = starts[row + 1];
    if (key.Def(first) < 2) {
      EXPECT_EQ(last - first, 1u);  // null (0) or empty (1) maps take one entry
      continue;
    }
    for (size_t e = first; e < last; ++e) {
      EXPECT_EQ(key.bytes[next_key++], "k" + std::to_string(e - first));
      if (value.Def(e) == 3) ++next_value;
    }
  }
  EXPECT_EQ(next_key, key.bytes.size());
  EXPECT_EQ(next_value, value.bytes.size());
  const Column id = Read(*file, {"id"});
  EXPECT_EQ(id.RowStarts().size(), 51u);
  EXPECT_EQ(id.RowStarts()[7], 7u);
}

TEST(ParquetRoundTrip, AnEmptyFileHasNoRows) {
  SchemaNode schema = GroupNode("schema", Repetition::kRequired,
                                {LeafNode("x", PhysicalType::kInt64, Repetition::kOptional)});
  Column x = Leaf(PhysicalType::kInt64, 1, 0);
  auto bytes = WriteParquet(schema, {x});
  ASSERT_TRUE(bytes) << bytes.error().message();
  auto file = File::Open(std::make_shared<const std::string>(std::move(*bytes)), "empty.parquet");
  ASSERT_TRUE(file) << file.error().message();
  EXPECT_EQ(file->num_rows(), 0);
  const Column read = Read(*file, {"x"});
  EXPECT_EQ(read.entries, 0u);
  EXPECT_THAT(read.RowStarts(), ElementsAre(0u));
}

}  // namespace
}  // namespace tidemark::backend::lake::parquet
