#include "tests/support/delta_env.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/support/tidemark_env.h"
#include "tidemark/util/strings.h"
#include "tidemark/util/time.h"

namespace tidemark::testing {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string CommitPath(const std::string& root, int version) {
  char name[40];
  std::snprintf(name, sizeof name, "%020d.json", version);
  return root + "/_delta_log/" + name;
}

std::string Lines(const std::vector<Json>& actions) {
  std::string text;
  for (const Json& action : actions) text += action.dump() + "\n";
  return text;
}

}  // namespace

std::vector<std::string> MakeDeltaTable(const std::string& root, const DeltaTableSpec& spec) {
  fs::create_directories(root + "/_delta_log");
  const std::string schema =
      R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},)"
      R"({"name":"event_date","type":"date","nullable":true,"metadata":{}}]})";
  Json configuration = Json::object();
  for (const auto& [key, value] : spec.configuration) configuration[key] = value;
  const int64_t created = 1704067200000;  // 2024-01-01T00:00:00Z
  std::vector<Json> first = {
      {{"commitInfo", {{"timestamp", created}, {"operation", "CREATE TABLE"}}}},
      {{"protocol", {{"minReaderVersion", 1}, {"minWriterVersion", spec.min_writer_version}}}},
      {{"metaData",
        {{"id", "5f0f3b6e-6a7b-4c1d-9a51-0d6f3f1e2a10"},
         {"format", {{"provider", "parquet"}, {"options", Json::object()}}},
         {"schemaString", schema},
         {"partitionColumns", {"event_date"}},
         {"configuration", configuration},
         {"createdTime", created}}}}};
  WriteFile(CommitPath(root, 0), Lines(first));
  std::vector<std::string> files;
  auto day = util::ParseDate(spec.first_day);
  std::chrono::sys_days date{*day};
  for (int d = 0; d < spec.days; ++d, date += std::chrono::days(1)) {
    const std::string value = util::FormatDate(std::chrono::year_month_day{date});
    std::vector<Json> adds = {
        {{"commitInfo", {{"timestamp", created + d * 1000}, {"operation", "WRITE"}}}}};
    for (int f = 0; f < spec.files_per_partition; ++f) {
      const std::string path = "event_date=" + value + "/part-0000" + std::to_string(f) + "-" +
                               util::RandomHex(8) + ".c000.snappy.parquet";
      const std::string content = "PAR1 " + value + " file " + std::to_string(f) + " " +
                                  std::string(100 + 37 * f + d, 'x') + " PAR1";
      WriteFile(root + "/" + path, content);
      files.push_back(path);
      adds.push_back({{"add",
                       {{"path", path},
                        {"partitionValues", {{"event_date", value}}},
                        {"size", content.size()},
                        {"modificationTime", created + d * 1000},
                        {"dataChange", true},
                        {"stats", R"({"numRecords":10})"}}}});
    }
    WriteFile(CommitPath(root, d + 1), Lines(adds));
  }
  return files;
}

std::set<std::string> LiveDeltaFiles(const std::string& root) {
  std::set<std::string> live;
  for (int version = 0;; ++version) {
    const std::string path = CommitPath(root, version);
    if (!fs::exists(path)) break;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      Json action = Json::parse(line);
      if (action.contains("add")) live.insert(util::PercentDecode(action["add"]["path"].get<std::string>()));
      if (action.contains("remove"))
        live.erase(util::PercentDecode(action["remove"]["path"].get<std::string>()));
    }
  }
  return live;
}

int DeltaCommits(const std::string& root) {
  int version = 0;
  while (fs::exists(CommitPath(root, version))) ++version;
  return version;
}

std::string DeltaDatasetYaml(int recycle_days) {
  return "  events:\n"
         "    storage: { connection: lake, path: events, layout: delta }\n"
         "    partition_by: event_date\n"
         "    interval: 1 day\n"
         "    retention: 30 days\n"
         "    on_expire: archive\n"
         "    archive_to: cold\n"
         "    recycle_days: " +
         std::to_string(recycle_days) + "\n";
}

}  // namespace tidemark::testing
