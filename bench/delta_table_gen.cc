// delta_table_gen: writes the transaction log of a large Delta table for
// bench/delta_plan_bench, and checks that tidemark reads it back as written.
//
//   delta_table_gen DIR [--files 100000] [--partitions 1000] [--commits 1000] …
//
// The table (DIR/_delta_log only; the data files are never written, since planning reads
// nothing but the log):
//   - a classic checkpoint at --checkpoint-version (default 1000; the JSON commits up to
//     it are gone, as after Delta's log cleanup) in the schema Spark writes: top-level
//     optional structs txn, add, remove, metaData, protocol, snappy, dictionary-encoded.
//     It holds the protocol, the metadata and --files add rows spread evenly over
//     --partitions daily partitions event_date=YYYY-MM-DD from --first-day on;
//   - `_last_checkpoint` pointing at it;
//   - --commits JSON commits after it, commitInfo first, as a streaming writer and its
//     maintenance leave them: 20 commits per new day, of which 18 appends of 4 small
//     files, one compaction (OPTIMIZE) of that day's small files into 2, and one DELETE
//     that rewrites 3 files of an old partition (copy-on-write).
//
// Printed on stdout, one JSON object: what was written, the expected live files (in all
// and per day), and (unless --no-check) what ReadSnapshot found; with --measure N, the
// median wall and process CPU seconds of N in-process reads of the checkpoint alone and
// of the whole snapshot. Messages go to stderr. Exit 0 on success, 1 when the check
// fails, 2 on bad usage or an I/O error.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "tidemark/backend/lake/delta_checkpoint.h"
#include "tidemark/backend/lake/delta_snapshot.h"
#include "tidemark/backend/lake/parquet.h"
#include "tidemark/backend/lake/parquet_writer.h"
#include "tidemark/store/local_store.h"

namespace {

namespace fs = std::filesystem;
namespace pq = tidemark::backend::lake::parquet;
namespace delta = tidemark::backend::lake::delta;
using Json = nlohmann::ordered_json;
using pq::Column;
using pq::PhysicalType;
using pq::Repetition;
using pq::SchemaNode;

constexpr char kEngineInfo[] = "Apache-Spark/3.5.1 Delta-Lake/3.2.0";
constexpr int kCommitsPerDay = 20;
constexpr int kFilesPerAppend = 4;
constexpr int kFilesPerDelete = 3;
constexpr int64_t kMiB = 1 << 20;
constexpr int64_t kDayMs = 86'400'000;

struct Options {
  std::string dir;
  int files = 100'000;
  int partitions = 1'000;
  int commits = 1'000;
  int64_t checkpoint_version = 1'000;
  std::string first_day = "1990-01-01";
  uint64_t seed = 20240105;
  size_t page_kib = 1024;  // Spark's parquet.page.size
  std::string json_equivalent;
  int measure = 0;
  bool check = true;
};

// --- Days and names ---------------------------------------------------------------------

using Day = std::chrono::sys_days;

std::optional<Day> ParseDay(const std::string& text) {
  int y = 0;
  unsigned m = 0, d = 0;
  if (std::sscanf(text.c_str(), "%d-%u-%u", &y, &m, &d) != 3) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m},
                                        std::chrono::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return Day{ymd};
}

std::string DayText(Day day) {
  const std::chrono::year_month_day ymd{day};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return text;
}

int64_t DayMs(Day day) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(day.time_since_epoch()).count();
}

std::string IsoMs(int64_t ms) {
  const Day day{std::chrono::days{ms / kDayMs}};
  const int64_t in_day = ms % kDayMs;
  char text[32];
  std::snprintf(text, sizeof text, "%sT%02d:%02d:%02d.%03dZ", DayText(day).c_str(),
                static_cast<int>(in_day / 3'600'000), static_cast<int>(in_day / 60'000 % 60),
                static_cast<int>(in_day / 1000 % 60), static_cast<int>(in_day % 1000));
  return text;
}

class Names {
 public:
  explicit Names(uint64_t seed) : random_(seed) {}
  std::mt19937_64& random() { return random_; }
  int64_t Between(int64_t low, int64_t high) {  // [low, high]
    return low + static_cast<int64_t>(random_() % static_cast<uint64_t>(high - low + 1));
  }
  std::string Uuid() {
    const uint64_t a = random_(), b = random_();
    char text[40];
    std::snprintf(text, sizeof text, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>(a >> 16 & 0xffff), static_cast<unsigned>(a & 0xfff),
                  static_cast<unsigned>(0x8000 | (b >> 48 & 0x3fff)),
                  static_cast<unsigned long long>(b & 0xffffffffffffULL));
    return text;
  }
  // A data file as Spark names it: event_date=…/part-00007-<uuid>.c000.snappy.parquet
  std::string DataPath(const std::string& day, int task) {
    char part[16];
    std::snprintf(part, sizeof part, "%05d", task);
    return "event_date=" + day + "/part-" + part + "-" + Uuid() + ".c000.snappy.parquet";
  }

 private:
  std::mt19937_64 random_;
};

// --- The files of the table -------------------------------------------------------------

struct DataFile {
  std::string path;
  std::string day;
  int64_t size = 0;
  int64_t modification_time = 0;
  std::string stats;
};

// The statistics Spark collects for the first 32 columns of the table schema.
std::string Stats(Names& names, int64_t day_ms, int64_t size) {
  const int64_t rows = size / 48;
  const int64_t first_id = names.Between(0, int64_t{1} << 40);
  const int64_t first_ms = day_ms + names.Between(0, 3'600'000);
  const int64_t last_ms = day_ms + kDayMs - 1 - names.Between(0, 3'600'000);
  Json stats;
  stats["numRecords"] = rows;
  stats["minValues"] = {{"event_id", first_id},
                        {"event_time", IsoMs(first_ms)},
                        {"user_id", names.Between(1, 1000)},
                        {"payload", "AAAAB3NzaC1yc2EAAAADAQAB"}};
  stats["maxValues"] = {{"event_id", first_id + rows * 3},
                        {"event_time", IsoMs(last_ms)},
                        {"user_id", names.Between(9'000'000, 9'999'999)},
                        {"payload", "zzzzy9E8nYHcQ1vR2pLmXw0T"}};
  stats["nullCount"] = {{"event_id", 0},
                        {"event_time", 0},
                        {"user_id", 0},
                        {"payload", names.Between(0, rows / 100)}};
  return stats.dump();
}

DataFile NewFile(Names& names, Day day, int task, int64_t size, int64_t modification_time) {
  DataFile file;
  file.day = DayText(day);
  file.path = names.DataPath(file.day, task);
  file.size = size;
  file.modification_time = modification_time;
  file.stats = Stats(names, DayMs(day), size);
  return file;
}

constexpr char kSchemaString[] =
    R"({"type":"struct","fields":[{"name":"event_id","type":"long","nullable":true,"metadata":{}},)"
    R"({"name":"event_time","type":"timestamp","nullable":true,"metadata":{}},)"
    R"({"name":"user_id","type":"long","nullable":true,"metadata":{}},)"
    R"({"name":"payload","type":"string","nullable":true,"metadata":{}},)"
    R"({"name":"event_date","type":"date","nullable":true,"metadata":{}}]})";

struct TableMeta {
  std::string id;
  int64_t created_time = 0;
  std::vector<std::pair<std::string, std::string>> configuration;
};

// --- The checkpoint ---------------------------------------------------------------------

SchemaNode Text(std::string name) {
  return pq::LeafNode(std::move(name), PhysicalType::kByteArray, Repetition::kOptional, "UTF8");
}
SchemaNode Long(std::string name) {
  return pq::LeafNode(std::move(name), PhysicalType::kInt64, Repetition::kOptional);
}
SchemaNode Int(std::string name) {
  return pq::LeafNode(std::move(name), PhysicalType::kInt32, Repetition::kOptional);
}
SchemaNode Bool(std::string name) {
  return pq::LeafNode(std::move(name), PhysicalType::kBoolean, Repetition::kOptional);
}
SchemaNode StringMap(std::string name) {
  return pq::MapNode(std::move(name), Repetition::kOptional,
                     pq::LeafNode("key", PhysicalType::kByteArray, Repetition::kRequired, "UTF8"),
                     Text("value"));
}
SchemaNode Struct(std::string name, std::vector<SchemaNode> children) {
  return pq::GroupNode(std::move(name), Repetition::kOptional, std::move(children));
}

// What Spark writes for a classic checkpoint (every field nullable, as Delta declares
// them), restricted to the fields of the actions this table uses.
SchemaNode CheckpointSchema() {
  return pq::GroupNode(
      "spark_schema", Repetition::kRequired,
      {Struct("txn", {Text("appId"), Long("version"), Long("lastUpdated")}),
       Struct("add",
              {Text("path"), StringMap("partitionValues"), Long("size"), Long("modificationTime"),
               Bool("dataChange"), Text("stats"), StringMap("tags")}),
       Struct("remove", {Text("path"), Long("deletionTimestamp"), Bool("dataChange"),
                         Bool("extendedFileMetadata"), StringMap("partitionValues"), Long("size")}),
       Struct("metaData",
              {Text("id"), Text("name"), Text("description"),
               Struct("format", {Text("provider"), StringMap("options")}), Text("schemaString"),
               pq::ListNode("partitionColumns", Repetition::kOptional, Text("element")),
               StringMap("configuration"), Long("createdTime")}),
       Struct("protocol", {Int("minReaderVersion"), Int("minWriterVersion")})});
}

// The checkpoint's columns, filled row by row. Strings are views into `arena_`.
class CheckpointColumns {
 public:
  explicit CheckpointColumns(const SchemaNode& schema) { Collect(schema, 0, 0, ""); }

  // One row holding only `action`: every leaf of the other top-level structs is null.
  void BeginRow(std::string_view action) {
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i].substr(0, names_[i].find('.')) != action) Null(columns_[i], 0);
    }
    ++rows_;
  }
  Column& operator[](std::string_view name) {
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) return columns_[i];
    }
    std::fprintf(stderr, "delta_table_gen: no leaf %.*s\n", static_cast<int>(name.size()),
                 name.data());
    std::abort();
  }
  void Value(std::string_view leaf, int64_t value) {
    Put((*this)[leaf], 0), (*this)[leaf].ints.push_back(value);
  }
  void Value(std::string_view leaf, std::string_view text) {
    Put((*this)[leaf], 0), (*this)[leaf].bytes.push_back(Keep(text));
  }
  // A null at the level where its parent struct is present.
  void Null(std::string_view leaf) { Null((*this)[leaf], (*this)[leaf].max_def - 1); }
  // A map of strings under `map` ("add.partitionValues"): absent (null), empty or entries.
  void Map(std::string_view map,
           const std::optional<std::vector<std::pair<std::string, std::string>>>& entries) {
    Column& key = (*this)[std::string(map) + ".key_value.key"];
    Column& value = (*this)[std::string(map) + ".key_value.value"];
    const int16_t present = static_cast<int16_t>(key.max_def - 1);  // map there, no entry
    if (!entries || entries->empty()) {
      const int16_t def = entries ? present : static_cast<int16_t>(present - 1);
      Null(key, def), Null(value, def);
      return;
    }
    for (size_t i = 0; i < entries->size(); ++i) {
      const int16_t rep = i == 0 ? 0 : key.max_rep;
      Put(key, rep), key.bytes.push_back(Keep((*entries)[i].first));
      Put(value, rep), value.bytes.push_back(Keep((*entries)[i].second));
    }
  }
  void List(std::string_view list, const std::vector<std::string>& elements) {
    Column& element = (*this)[std::string(list) + ".list.element"];
    if (elements.empty()) {
      Null(element, static_cast<int16_t>(element.max_def - 2));
      return;
    }
    for (size_t i = 0; i < elements.size(); ++i) {
      Put(element, i == 0 ? 0 : element.max_rep), element.bytes.push_back(Keep(elements[i]));
    }
  }

  size_t rows() const { return rows_; }
  const std::vector<Column>& columns() const { return columns_; }

 private:
  void Collect(const SchemaNode& node, int16_t def, int16_t rep, const std::string& prefix) {
    for (const SchemaNode& child : node.children) {
      const int16_t d = static_cast<int16_t>(def + (child.repetition != Repetition::kRequired));
      const int16_t r = static_cast<int16_t>(rep + (child.repetition == Repetition::kRepeated));
      const std::string name = prefix.empty() ? child.name : prefix + "." + child.name;
      if (!child.is_leaf()) {
        Collect(child, d, r, name);
        continue;
      }
      Column column;
      column.type = *child.type;
      column.max_def = d;
      column.max_rep = r;
      names_.push_back(name);
      columns_.push_back(std::move(column));
    }
  }
  static void Put(Column& column, int16_t rep) { Entry(column, column.max_def, rep); }
  static void Null(Column& column, int16_t def) { Entry(column, def, 0); }
  static void Entry(Column& column, int16_t def, int16_t rep) {
    if (column.max_def > 0) column.def_levels.push_back(def);
    if (column.max_rep > 0) column.rep_levels.push_back(rep);
    ++column.entries;
  }
  std::string_view Keep(std::string_view text) { return arena_.emplace_back(text); }

  std::vector<std::string> names_;  // dotted paths of the leaves, in schema order
  std::vector<Column> columns_;
  std::deque<std::string> arena_;  // a deque never moves what it holds
  size_t rows_ = 0;
};

std::vector<std::pair<std::string, std::string>> PartitionOf(const std::string& day) {
  return {{"event_date", day}};
}

void AddProtocolRow(CheckpointColumns& c) {
  c.BeginRow("protocol");
  c.Value("protocol.minReaderVersion", 1);
  c.Value("protocol.minWriterVersion", 2);
}

void AddMetadataRow(CheckpointColumns& c, const TableMeta& meta) {
  c.BeginRow("metaData");
  c.Value("metaData.id", meta.id);
  c.Null("metaData.name");
  c.Null("metaData.description");
  c.Value("metaData.format.provider", "parquet");
  c.Map("metaData.format.options", std::vector<std::pair<std::string, std::string>>{});
  c.Value("metaData.schemaString", kSchemaString);
  c.List("metaData.partitionColumns", {"event_date"});
  c.Map("metaData.configuration", meta.configuration);
  c.Value("metaData.createdTime", meta.created_time);
}

void AddFileRow(CheckpointColumns& c, const DataFile& file) {
  c.BeginRow("add");
  c.Value("add.path", file.path);
  c.Map("add.partitionValues", PartitionOf(file.day));
  c.Value("add.size", file.size);
  c.Value("add.modificationTime", file.modification_time);
  c.Value("add.dataChange", 0);  // Delta writes checkpoints' adds with dataChange false
  c.Value("add.stats", file.stats);
  c.Map("add.tags", std::nullopt);
}

tidemark::util::Result<std::string> WriteCheckpoint(const TableMeta& meta,
                                                    const std::vector<DataFile>& files,
                                                    const Options& options) {
  const SchemaNode schema = CheckpointSchema();
  CheckpointColumns columns(schema);
  AddProtocolRow(columns);
  AddMetadataRow(columns, meta);
  for (const DataFile& file : files) AddFileRow(columns, file);
  pq::WriterOptions writer;
  writer.codec = pq::Codec::kSnappy;
  writer.dictionary = true;
  writer.page_bytes = options.page_kib * 1024;
  writer.row_group_rows = size_t{1} << 30;  // one row group: Spark's 128 MiB blocks hold it
  return pq::WriteParquet(schema, columns.columns(), writer);
}

// --- The commits after the checkpoint ---------------------------------------------------

Json AddAction(const DataFile& file, bool data_change) {
  return {{"add",
           {{"path", file.path},
            {"partitionValues", {{"event_date", file.day}}},
            {"size", file.size},
            {"modificationTime", file.modification_time},
            {"dataChange", data_change},
            {"stats", file.stats}}}};
}

Json RemoveAction(const DataFile& file, int64_t timestamp, bool data_change) {
  return {{"remove",
           {{"path", file.path},
            {"deletionTimestamp", timestamp},
            {"dataChange", data_change},
            {"extendedFileMetadata", true},
            {"partitionValues", {{"event_date", file.day}}},
            {"size", file.size}}}};
}

Json CommitInfo(Names& names, int64_t timestamp, int64_t read_version, const std::string& operation,
                Json parameters, Json metrics, bool blind_append) {
  Json info = {{"timestamp", timestamp},
               {"operation", operation},
               {"operationParameters", std::move(parameters)},
               {"readVersion", read_version},
               {"isolationLevel", blind_append ? "WriteSerializable" : "Serializable"},
               {"isBlindAppend", blind_append},
               {"operationMetrics", std::move(metrics)},
               {"engineInfo", kEngineInfo},
               {"txnId", names.Uuid()}};
  return {{"commitInfo", std::move(info)}};
}

// The table as the generator keeps it: the live files of each partition, by day.
using LiveFiles = std::map<std::string, std::vector<DataFile>>;

struct Commit {
  std::string text;
  int adds = 0;
  int removes = 0;
};

std::string Lines(const std::vector<Json>& actions) {
  std::string out;
  for (const Json& action : actions) out += action.dump() + "\n";
  return out;
}

int64_t TotalSize(const std::vector<DataFile>& files) {
  int64_t total = 0;
  for (const DataFile& file : files) total += file.size;
  return total;
}

Commit Append(Names& names, LiveFiles& live, Day day, int64_t now, int64_t version) {
  std::vector<DataFile> added;
  for (int task = 0; task < kFilesPerAppend; ++task) {
    added.push_back(
        NewFile(names, day, task, names.Between(2 * kMiB, 12 * kMiB), now - 200 + task));
  }
  const int64_t bytes = TotalSize(added);
  std::vector<Json> actions{CommitInfo(names, now, version - 1, "WRITE",
                                       {{"mode", "Append"}, {"partitionBy", "[\"event_date\"]"}},
                                       {{"numFiles", std::to_string(added.size())},
                                        {"numOutputRows", std::to_string(bytes / 48)},
                                        {"numOutputBytes", std::to_string(bytes)}},
                                       true)};
  for (const DataFile& file : added) actions.push_back(AddAction(file, true));
  auto& files = live[DayText(day)];
  files.insert(files.end(), added.begin(), added.end());
  return {Lines(actions), static_cast<int>(added.size()), 0};
}

// OPTIMIZE of one day: every file of the partition is rewritten into two.
Commit Optimize(Names& names, LiveFiles& live, Day day, int64_t now, int64_t version) {
  std::vector<DataFile>& files = live[DayText(day)];
  const int64_t bytes = TotalSize(files);
  std::vector<DataFile> added;
  for (int task = 0; task < 2; ++task)
    added.push_back(NewFile(names, day, task, bytes / 2 + task, now - 100));
  std::vector<Json> actions{
      CommitInfo(names, now, version - 1, "OPTIMIZE",
                 {{"predicate", "[\"(event_date#4 = " + DayText(day) + ")\"]"},
                  {"zOrderBy", "[]"},
                  {"auto", false},
                  {"clusterBy", "[]"}},
                 {{"numRemovedFiles", std::to_string(files.size())},
                  {"numAddedFiles", "2"},
                  {"numRemovedBytes", std::to_string(bytes)},
                  {"numAddedBytes", std::to_string(bytes)}},
                 false)};
  for (const DataFile& file : files) actions.push_back(RemoveAction(file, now, false));
  for (const DataFile& file : added) actions.push_back(AddAction(file, false));
  Commit commit{Lines(actions), 2, static_cast<int>(files.size())};
  files = std::move(added);
  return commit;
}

// A DELETE of some rows in an old partition: a few files rewritten without them.
Commit Delete(Names& names, LiveFiles& live, Day old_day, int64_t now, int64_t version) {
  std::vector<DataFile>& files = live[DayText(old_day)];
  const size_t n = std::min<size_t>(kFilesPerDelete, files.size());
  std::vector<Json> actions{CommitInfo(
      names, now, version - 1, "DELETE",
      {{"predicate", "[\"((event_date#4 = " + DayText(old_day) + ") AND (user_id#2L = 4242))\"]"}},
      {{"numRemovedFiles", std::to_string(n)},
       {"numAddedFiles", std::to_string(n)},
       {"numDeletedRows", "17"},
       {"numCopiedRows", "1000000"}},
      false)};
  std::vector<DataFile> rewritten;
  for (size_t i = 0; i < n; ++i) {
    const DataFile& old = files[files.size() - 1 - i];
    actions.push_back(RemoveAction(old, now, true));
    rewritten.push_back(NewFile(names, old_day, static_cast<int>(i), old.size - 1024, now - 50));
  }
  files.resize(files.size() - n);
  for (const DataFile& file : rewritten) actions.push_back(AddAction(file, true));
  files.insert(files.end(), rewritten.begin(), rewritten.end());
  return {Lines(actions), static_cast<int>(n), static_cast<int>(n)};
}

// --- Writing the table ------------------------------------------------------------------

std::string VersionName(int64_t version) {
  char text[32];
  std::snprintf(text, sizeof text, "%020lld", static_cast<long long>(version));
  return text;
}

bool WriteWholeFile(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) std::fprintf(stderr, "delta_table_gen: cannot write %s\n", path.c_str());
  return static_cast<bool>(out);
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

struct Written {
  Json summary;
  LiveFiles live;
  int64_t version = 0;
  fs::path checkpoint;
};

std::vector<DataFile> CheckpointFiles(Names& names, Day first, const Options& options) {
  std::vector<DataFile> files;
  files.reserve(static_cast<size_t>(options.files));
  for (int i = 0; i < options.files; ++i) {
    const int partition = static_cast<int>(int64_t{i} * options.partitions / options.files);
    const Day day = first + std::chrono::days{partition};
    const int64_t written = DayMs(day) + kDayMs + names.Between(0, 6 * 3'600'000);
    files.push_back(NewFile(names, day, i % 200, names.Between(24 * kMiB, 160 * kMiB), written));
  }
  return files;
}

bool WriteJsonEquivalent(const std::string& path, const TableMeta& meta,
                         const std::vector<DataFile>& files) {
  Json configuration = Json::object();
  for (const auto& [key, value] : meta.configuration) configuration[key] = value;
  std::vector<Json> actions{{{"protocol", {{"minReaderVersion", 1}, {"minWriterVersion", 2}}}},
                            {{"metaData",
                              {{"id", meta.id},
                               {"format", {{"provider", "parquet"}, {"options", Json::object()}}},
                               {"schemaString", kSchemaString},
                               {"partitionColumns", Json::array({"event_date"})},
                               {"configuration", configuration},
                               {"createdTime", meta.created_time}}}}};
  std::string text = Lines(actions);
  for (const DataFile& file : files) text += AddAction(file, true).dump() + "\n";
  return WriteWholeFile(path, text);
}

std::optional<Written> WriteTable(const Options& options, Day first) {
  Names names(options.seed);
  const fs::path log = fs::path(options.dir) / "_delta_log";
  fs::create_directories(log);
  Written out;
  TableMeta meta{names.Uuid(),
                 DayMs(first) - kDayMs,
                 {{"delta.logRetentionDuration", "interval 30 days"},
                  {"delta.deletedFileRetentionDuration", "interval 7 days"}}};

  auto started = std::chrono::steady_clock::now();
  std::vector<DataFile> files = CheckpointFiles(names, first, options);
  auto checkpoint = WriteCheckpoint(meta, files, options);
  if (!checkpoint) {
    std::fprintf(stderr, "delta_table_gen: the Parquet writer failed: %s\n",
                 checkpoint.error().message().c_str());
    return std::nullopt;
  }
  out.checkpoint = log / (VersionName(options.checkpoint_version) + ".checkpoint.parquet");
  if (!WriteWholeFile(out.checkpoint, *checkpoint)) return std::nullopt;
  const double checkpoint_seconds = SecondsSince(started);
  const Json last_checkpoint = {{"version", options.checkpoint_version},
                                {"size", files.size() + 2},
                                {"sizeInBytes", checkpoint->size()},
                                {"numOfAddFiles", files.size()}};
  if (!WriteWholeFile(log / "_last_checkpoint", last_checkpoint.dump())) return std::nullopt;
  if (!options.json_equivalent.empty() &&
      !WriteJsonEquivalent(options.json_equivalent, meta, files)) {
    return std::nullopt;
  }
  for (DataFile& file : files) out.live[file.day].push_back(std::move(file));

  // New days after the checkpoint's last, kCommitsPerDay commits each.
  const Day first_new = first + std::chrono::days{options.partitions};
  int64_t version = options.checkpoint_version;
  int64_t commit_bytes = 0, adds = 0, removes = 0;
  for (int i = 0; i < options.commits; ++i) {
    ++version;
    const Day day = first_new + std::chrono::days{i / kCommitsPerDay};
    const int slot = i % kCommitsPerDay;
    const int64_t now = DayMs(day) + (slot + 1) * (kDayMs / (kCommitsPerDay + 1));
    Commit commit;
    if (slot == kCommitsPerDay - 1) {
      commit = Optimize(names, out.live, day, now, version);
    } else if (slot == kCommitsPerDay / 2) {
      const Day old_day = first + std::chrono::days{names.Between(0, options.partitions - 1)};
      commit = Delete(names, out.live, old_day, now, version);
    } else {
      commit = Append(names, out.live, day, now, version);
    }
    if (!WriteWholeFile(log / (VersionName(version) + ".json"), commit.text)) return std::nullopt;
    commit_bytes += static_cast<int64_t>(commit.text.size());
    adds += commit.adds;
    removes += commit.removes;
  }
  out.version = version;

  size_t live_files = 0;
  Json live_per_day = Json::object();
  for (const auto& [day, day_files] : out.live) {
    live_files += day_files.size();
    live_per_day[day] = day_files.size();
  }
  out.summary = {{"table", options.dir},
                 {"version", version},
                 {"checkpoint_version", options.checkpoint_version},
                 {"checkpoint_file", out.checkpoint.string()},
                 {"checkpoint_bytes", checkpoint->size()},
                 {"checkpoint_rows", options.files + 2},
                 {"checkpoint_seconds", checkpoint_seconds},
                 {"commits", options.commits},
                 {"commit_bytes", commit_bytes},
                 {"commit_adds", adds},
                 {"commit_removes", removes},
                 {"first_day", DayText(first)},
                 {"last_day", out.live.rbegin()->first},
                 {"partitions", out.live.size()},
                 {"live_files", live_files},
                 {"live_per_day", live_per_day}};
  return out;
}

// --- Reading it back --------------------------------------------------------------------

bool Check(const Options& options, Written& written) {
  const fs::path table = fs::absolute(options.dir);
  auto store = tidemark::store::NewLocalStore(table.parent_path().string());
  const std::string prefix = table.filename().string();
  auto started = std::chrono::steady_clock::now();
  auto snapshot = delta::ReadSnapshot(*store, prefix);
  const double seconds = SecondsSince(started);
  if (!snapshot) {
    std::fprintf(stderr, "delta_table_gen: ReadSnapshot failed: %s\n",
                 snapshot.error().message().c_str());
    written.summary["check"] = {{"ok", false}, {"error", snapshot.error().message()}};
    return false;
  }
  auto partitions = delta::Partitions(*snapshot);
  std::vector<std::string> problems;
  auto expect = [&](const char* what, int64_t found, int64_t expected) {
    if (found != expected) {
      problems.push_back(std::string(what) + ": read " + std::to_string(found) + ", wrote " +
                         std::to_string(expected));
    }
  };
  expect("version", snapshot->version, written.version);
  expect("checkpoint version", snapshot->checkpoint_version.value_or(-1),
         options.checkpoint_version);
  expect("live files", static_cast<int64_t>(snapshot->files.size()),
         written.summary["live_files"].get<int64_t>());
  if (!partitions) {
    problems.push_back("Partitions failed: " + partitions.error().message());
  } else {
    expect("partitions", static_cast<int64_t>(partitions->size()),
           static_cast<int64_t>(written.live.size()));
    for (const delta::Partition& partition : *partitions) {
      const std::string day = partition.name.substr(partition.name.find('=') + 1);
      auto it = written.live.find(day);
      const int64_t expected =
          it == written.live.end() ? -1 : static_cast<int64_t>(it->second.size());
      expect(("files of " + partition.name).c_str(), static_cast<int64_t>(partition.files.size()),
             expected);
      if (problems.size() > 20) break;
    }
  }
  for (const std::string& problem : problems)
    std::fprintf(stderr, "delta_table_gen: %s\n", problem.c_str());
  written.summary["check"] = {{"ok", problems.empty()},
                              {"snapshot_seconds", seconds},
                              {"live_files", snapshot->files.size()},
                              {"partitions", partitions ? partitions->size() : 0},
                              {"notes", snapshot->notes},
                              {"problems", problems}};
  return problems.empty();
}

// Median seconds of reading the checkpoint file alone (its bytes already in memory) and
// of ReadSnapshot, which also lists the log, reads the files and replays the commits.
void Measure(const Options& options, Written& written) {
  std::ifstream in(written.checkpoint, std::ios::binary);
  auto bytes = std::make_shared<const std::string>(std::istreambuf_iterator<char>(in),
                                                   std::istreambuf_iterator<char>());
  const fs::path table = fs::absolute(options.dir);
  auto store = tidemark::store::NewLocalStore(table.parent_path().string());
  std::vector<double> decode, snapshot, decode_cpu, snapshot_cpu;
  auto cpu_since = [](std::clock_t start) {
    return static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
  };
  for (int i = 0; i < options.measure; ++i) {
    delta::CommitActions actions;
    auto started = std::chrono::steady_clock::now();
    std::clock_t cpu = std::clock();
    auto status = delta::ReadCheckpointPart(bytes, written.checkpoint.string(), &actions);
    decode.push_back(SecondsSince(started));
    decode_cpu.push_back(cpu_since(cpu));
    if (!status) std::fprintf(stderr, "delta_table_gen: %s\n", status.error().message().c_str());
    started = std::chrono::steady_clock::now();
    cpu = std::clock();
    auto read = delta::ReadSnapshot(*store, table.filename().string());
    snapshot.push_back(SecondsSince(started));
    snapshot_cpu.push_back(cpu_since(cpu));
    if (!read) std::fprintf(stderr, "delta_table_gen: %s\n", read.error().message().c_str());
  }
  written.summary["measure"] = {{"runs", options.measure},
                                {"checkpoint_decode_seconds", Median(decode)},
                                {"checkpoint_decode_cpu_seconds", Median(decode_cpu)},
                                {"snapshot_seconds", Median(snapshot)},
                                {"snapshot_cpu_seconds", Median(snapshot_cpu)},
                                {"checkpoint_decode_all", decode},
                                {"snapshot_all", snapshot}};
}

int Main(int argc, char** argv) {
  Options options;
  CLI::App app(
      "delta_table_gen: writes the log of a large Delta table (see bench/delta_plan_bench)");
  app.add_option("dir", options.dir, "the table's directory; must not hold a _delta_log yet")
      ->required();
  app.add_option("--files", options.files, "add rows in the checkpoint")
      ->check(CLI::PositiveNumber);
  app.add_option("--partitions", options.partitions, "daily partitions in the checkpoint")
      ->check(CLI::PositiveNumber);
  app.add_option("--commits", options.commits, "JSON commits after the checkpoint")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--checkpoint-version", options.checkpoint_version, "the checkpoint's version")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--first-day", options.first_day, "the first partition's day, YYYY-MM-DD");
  app.add_option("--seed", options.seed, "seed of every name, size and statistic");
  app.add_option("--page-kib", options.page_kib, "Parquet data page size in KiB")
      ->check(CLI::PositiveNumber);
  app.add_option("--json-equivalent", options.json_equivalent,
                 "also write the checkpoint's actions as JSON lines to this file");
  app.add_option("--measure", options.measure, "time this many in-process reads");
  bool no_check = false;
  app.add_flag("--no-check", no_check, "do not read the table back");
  CLI11_PARSE(app, argc, argv);
  options.check = !no_check;
  const std::optional<Day> first = ParseDay(options.first_day);
  if (!first) {
    std::fprintf(stderr, "delta_table_gen: --first-day %s is not a date YYYY-MM-DD\n",
                 options.first_day.c_str());
    return 2;
  }
  if (fs::exists(fs::path(options.dir) / "_delta_log")) {
    std::fprintf(stderr, "delta_table_gen: %s already holds a _delta_log\n", options.dir.c_str());
    return 2;
  }
  std::optional<Written> written = WriteTable(options, *first);
  if (!written) return 2;
  bool ok = true;
  if (options.check) ok = Check(options, *written);
  if (ok && options.measure > 0) Measure(options, *written);
  std::printf("%s\n", written->summary.dump(2).c_str());
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
