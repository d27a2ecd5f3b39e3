// The YAML of a config file as a small tree of plain values with positions.
//
// This file's .cc is the only place that includes yaml-cpp: the parser and its tests
// work on YamlNode, so that the library's types and exceptions stay out of the rest of
// the project. Mappings keep every entry in file order, duplicates included, so the
// parser can report duplicate keys (yaml-cpp itself accepts them silently).
//
// Thread-safety: plain values.

#ifndef TIDEMARK_CONFIG_YAML_TREE_H_
#define TIDEMARK_CONFIG_YAML_TREE_H_

#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "tidemark/config/config.h"
#include "tidemark/config/diagnostics.h"

namespace tidemark::config {

struct YamlEntry;

struct YamlNode {
  enum class Kind { kNull, kScalar, kSequence, kMapping };

  Kind kind = Kind::kNull;
  std::string scalar;              // kScalar: the text, quotes removed, not yet expanded
  Position position;               // 1-based; a null value is placed at its key
  std::vector<YamlNode> items;     // kSequence
  std::vector<YamlEntry> entries;  // kMapping, in file order, duplicates kept

  bool IsNull() const { return kind == Kind::kNull; }
  bool IsScalar() const { return kind == Kind::kScalar; }
  bool IsSequence() const { return kind == Kind::kSequence; }
  bool IsMapping() const { return kind == Kind::kMapping; }
};

struct YamlEntry {
  YamlNode key;
  YamlNode value;
};

// "a mapping", "a list", "a scalar", "empty": for messages about the wrong kind of value.
const char* KindName(YamlNode::Kind kind);

// Parses one YAML document. An empty file gives a null node at 1:1. Fails with the
// syntax error's position (a tab used for indentation gets its own message), or when
// the text holds more than one document.
tl::expected<YamlNode, Problem> ParseYaml(std::string_view text, const std::string& file);

}  // namespace tidemark::config

#endif  // TIDEMARK_CONFIG_YAML_TREE_H_
