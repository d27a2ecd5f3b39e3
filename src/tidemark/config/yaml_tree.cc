#include "tidemark/config/yaml_tree.h"

#include <string>

#include <yaml-cpp/yaml.h>

namespace tidemark::config {

namespace {

Position PositionOf(const YAML::Mark& mark, const std::string& file) {
  if (mark.line < 0) return Position{file, 1, 1};
  return Position{file, mark.line + 1, mark.column + 1};
}

YamlNode Convert(const YAML::Node& node, const std::string& file) {
  YamlNode out;
  out.position = PositionOf(node.Mark(), file);
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      out.kind = YamlNode::Kind::kScalar;
      out.scalar = node.Scalar();
      break;
    case YAML::NodeType::Sequence:
      out.kind = YamlNode::Kind::kSequence;
      for (const YAML::Node& item : node) out.items.push_back(Convert(item, file));
      break;
    case YAML::NodeType::Map:
      out.kind = YamlNode::Kind::kMapping;
      for (auto it = node.begin(); it != node.end(); ++it) {
        YamlEntry entry{Convert(it->first, file), Convert(it->second, file)};
        // yaml-cpp places an empty value at the start of the next line; its key is
        // where the user will look.
        if (entry.value.IsNull()) entry.value.position = entry.key.position;
        out.entries.push_back(std::move(entry));
      }
      break;
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null: break;
  }
  return out;
}

// Line `line` (1-based) of `text`, without its newline.
std::string_view LineOf(std::string_view text, int line) {
  for (int i = 1; i < line; ++i) {
    size_t newline = text.find('\n');
    if (newline == std::string_view::npos) return {};
    text.remove_prefix(newline + 1);
  }
  return text.substr(0, text.find('\n'));
}

// The 1-based column of a tab in the indentation of `line`, or 0.
int TabInIndentation(std::string_view line) {
  for (size_t i = 0; i < line.size() && (line[i] == ' ' || line[i] == '\t'); ++i) {
    if (line[i] == '\t') return static_cast<int>(i) + 1;
  }
  return 0;
}

Problem SyntaxProblem(std::string_view text, const YAML::Exception& error,
                      const std::string& file) {
  Position position = PositionOf(error.mark, file);
  int tab_column = TabInIndentation(LineOf(text, position.line));
  if (tab_column > 0) {
    position.column = tab_column;
    return {position,
            "a tab indents this line, and YAML indents with spaces only; "
            "replace the tab with spaces"};
  }
  return {position, "YAML syntax error: " + error.msg + "; fix the YAML near this position"};
}

}  // namespace

const char* KindName(YamlNode::Kind kind) {
  switch (kind) {
    case YamlNode::Kind::kNull: return "empty";
    case YamlNode::Kind::kScalar: return "a single value";
    case YamlNode::Kind::kSequence: return "a list";
    case YamlNode::Kind::kMapping: return "a mapping";
  }
  return "empty";
}

tl::expected<YamlNode, Problem> ParseYaml(std::string_view text, const std::string& file) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& error) {
    return tl::unexpected(SyntaxProblem(text, error, file));
  }
  if (documents.empty()) return YamlNode{.position = Position{file, 1, 1}};
  if (documents.size() > 1) {
    return tl::unexpected(Problem{PositionOf(documents[1].Mark(), file),
                                  "a second YAML document starts here, and a config is one "
                                  "document; remove the '---' separator and what follows "
                                  "or merge it into the first"});
  }
  return Convert(documents[0], file);
}

}  // namespace tidemark::config
