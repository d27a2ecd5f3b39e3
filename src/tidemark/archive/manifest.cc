#include "tidemark/archive/manifest.h"

#include <nlohmann/json.hpp>

namespace tidemark::archive {

using nlohmann::json;

int64_t Manifest::TotalBytes() const {
  int64_t total = 0;
  for (const ManifestFile& file : files) total += file.size;
  return total;
}

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
    return m;
  } catch (const std::exception& e) {
    return tl::unexpected(util::Error(util::ErrorCategory::kVerify,
                                      where + ": unreadable manifest (" + e.what() + ")"));
  }
}

}  // namespace tidemark::archive
