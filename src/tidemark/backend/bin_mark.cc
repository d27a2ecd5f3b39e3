#include "tidemark/backend/bin_mark.h"

#include <nlohmann/json.hpp>

#include "tidemark/util/strings.h"

namespace tidemark::backend {

std::string BinMark::ToComment() const {
  nlohmann::ordered_json j;
  j["dataset"] = dataset;
  j["parent_schema"] = parent_schema;
  j["parent"] = parent_name;
  j["partition"] = partition;
  j["removed_at"] = removed_at;
  if (!range_start.empty()) j["range_start"] = range_start;
  if (!range_end.empty()) j["range_end"] = range_end;
  if (!id_start.empty()) j["id_start"] = id_start;
  if (!id_end.empty()) j["id_end"] = id_end;
  if (!bound.empty()) j["bound"] = bound;
  j["detached"] = detached;
  return std::string(kCommentPrefix) + j.dump();
}

std::optional<BinMark> BinMark::FromComment(const std::string& comment) {
  if (!util::StartsWith(comment, kCommentPrefix)) return std::nullopt;
  auto j = nlohmann::json::parse(comment.substr(std::string(kCommentPrefix).size()), nullptr,
                                 /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auto text = [&](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  BinMark c;
  c.dataset = text("dataset");
  c.parent_schema = text("parent_schema");
  c.parent_name = text("parent");
  c.partition = text("partition");
  c.removed_at = text("removed_at");
  c.range_start = text("range_start");
  c.range_end = text("range_end");
  c.id_start = text("id_start");
  c.id_end = text("id_end");
  c.bound = text("bound");
  auto detached = j.find("detached");
  c.detached = detached != j.end() && detached->is_boolean() && detached->get<bool>();
  if (c.parent_name.empty() || c.partition.empty()) return std::nullopt;
  return c;
}

}  // namespace tidemark::backend
