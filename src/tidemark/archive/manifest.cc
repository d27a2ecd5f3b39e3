#include "tidemark/archive/manifest.h"

#include <nlohmann/json.hpp>

namespace tidemark::archive {

using nlohmann::json;

int64_t Manifest::TotalBytes() const {
  int64_t total = 0;
  for (const ManifestFile& file : files) total += file.size;
  return total;
}

namespace {

json TableToJson(const TableSection& t) {
  json columns = json::array();
  for (const TableColumn& c : t.columns) columns.push_back({{"name", c.name}, {"type", c.type}});
  return {{"format", t.format},
          {"compression", t.compression},
          {"columns", columns},
          {"ddl", t.ddl},
          {"source_table", t.source_table},
          {"bounds", t.bounds},
          {"rows", t.rows},
          {"content_bytes", t.content_bytes},
          {"content_sha256", t.content_sha256}};
}

// Throws (like the rest of the parsing) when a required key is missing or mistyped.
TableSection TableFromJson(const json& j) {
  TableSection t;
  t.format = j.at("format").get<std::string>();
  t.compression = j.at("compression").get<std::string>();
  for (const json& c : j.at("columns")) {
    t.columns.push_back({c.at("name").get<std::string>(), c.at("type").get<std::string>()});
  }
  t.ddl = j.value("ddl", "");
  t.source_table = j.value("source_table", "");
  t.bounds = j.value("bounds", "");
  t.rows = j.at("rows").get<int64_t>();
  t.content_bytes = j.at("content_bytes").get<int64_t>();
  t.content_sha256 = j.at("content_sha256").get<std::string>();
  return t;
}

}  // namespace

std::string ManifestToJson(const Manifest& m) {
  json files = json::array();
  for (const ManifestFile& f : m.files) {
    files.push_back(
        {{"path", f.path}, {"size", f.size}, {"mtime_ns", f.mtime_ns}, {"sha256", f.sha256}});
  }
  json j = {{"format", m.format},           {"tool", m.tool_version},
            {"dataset", m.dataset},         {"lifecycle", m.lifecycle},
            {"storage", m.storage},         {"partition", m.partition},
            {"source", m.source},           {"range_start", m.range_start},
            {"range_end", m.range_end},     {"run_id", m.run_id},
            {"created_at", m.created_at},   {"bytes", m.TotalBytes()},
            {"file_count", m.files.size()}, {"files", files}};
  if (m.table) j["table"] = TableToJson(*m.table);
  return j.dump(1) + "\n";
}

util::Result<Manifest> ManifestFromJson(const std::string& text, const std::string& where) {
  try {
    json j = json::parse(text);
    Manifest m;
    m.format = j.at("format").get<std::string>();
    if (m.format != kManifestFormat) {
      return tl::unexpected(
          util::Error(util::ErrorCategory::kVerify,
                      where + ": manifest format \"" + m.format + "\" is unknown"));
    }
    m.tool_version = j.value("tool", "");
    m.dataset = j.value("dataset", "");
    m.lifecycle = j.value("lifecycle", "");
    m.storage = j.value("storage", "");
    m.partition = j.value("partition", "");
    m.source = j.value("source", "");
    m.range_start = j.value("range_start", "");
    m.range_end = j.value("range_end", "");
    m.run_id = j.value("run_id", "");
    m.created_at = j.value("created_at", "");
    for (const json& f : j.at("files")) {
      m.files.push_back({f.at("path").get<std::string>(), f.at("size").get<int64_t>(),
                         f.at("mtime_ns").get<int64_t>(), f.at("sha256").get<std::string>()});
    }
    if (j.contains("table")) m.table = TableFromJson(j.at("table"));
    return m;
  } catch (const std::exception& e) {
    return tl::unexpected(util::Error(util::ErrorCategory::kVerify,
                                      where + ": unreadable manifest (" + e.what() + ")"));
  }
}

}  // namespace tidemark::archive
