#include "tidemark/config/yaml_tree.h"

#include <optional>
#include <string>
#include <utility>

#include <yaml-cpp/yaml.h>

namespace tidemark::config {

namespace {

Position PositionOf(const YAML::Mark& mark, const std::string& file) {
  if (mark.line < 0) return Position{file, 1, 1};
  return Position{file, mark.line + 1, mark.column + 1};
}

// Copies yaml-cpp's tree. yaml-cpp resolves aliases to shared nodes, so an alias inside
// its own anchor makes a cycle and nested aliases can multiply a small file; the limits
// turn both into a problem instead of a crash or an exhausted memory.
class Converter {
 public:
  explicit Converter(const std::string& file) : file_(file) {}

  YamlNode Convert(const YAML::Node& node, int depth) {
    YamlNode out;
    out.position = PositionOf(node.Mark(), file_);
    if (depth > kMaxDepth || ++nodes_ > kMaxNodes) {
      if (!too_big_) too_big_ = out.position;
      return out;
    }
    if (node.IsScalar()) {
      out.kind = YamlNode::Kind::kScalar;
      out.scalar = node.Scalar();
    } else if (node.IsSequence()) {
      out.kind = YamlNode::Kind::kSequence;
      for (const YAML::Node& item : node) out.items.push_back(Convert(item, depth + 1));
    } else if (node.IsMap()) {
      out.kind = YamlNode::Kind::kMapping;
      for (auto it = node.begin(); it != node.end(); ++it) out.entries.push_back(Entry(*it, depth));
    }
    return out;
  }

  // Where the limits were hit, if they were.
  const std::optional<Position>& too_big() const { return too_big_; }

 private:
  static constexpr int kMaxDepth = 64;
  static constexpr int kMaxNodes = 1'000'000;

  YamlEntry Entry(const std::pair<YAML::Node, YAML::Node>& pair, int depth) {
    YamlEntry entry{Convert(pair.first, depth + 1), Convert(pair.second, depth + 1)};
    // yaml-cpp places an empty value at the start of the next line; its key is where the
    // user will look.
    if (entry.value.IsNull()) entry.value.position = entry.key.position;
    return entry;
  }

  const std::string& file_;
  int nodes_ = 0;
  std::optional<Position> too_big_;
};

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
  Converter converter(file);
  YamlNode root = converter.Convert(documents[0], 0);
  if (converter.too_big()) {
    return tl::unexpected(Problem{*converter.too_big(),
                                  "the YAML nests too deep or expands to too many values here "
                                  "(an alias inside its own anchor?); write the values out"});
  }
  return root;
}

}  // namespace tidemark::config
