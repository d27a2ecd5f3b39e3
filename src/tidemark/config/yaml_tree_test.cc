#include "tidemark/config/yaml_tree.h"

#include <gtest/gtest.h>

namespace tidemark::config {
namespace {

TEST(ParseYaml, KeepsDuplicateKeysAndPositions) {
  auto tree = ParseYaml("a: 1\nb:\n  c: [x, 'y']\na: 2\n", "f.yaml");
  ASSERT_TRUE(tree);
  ASSERT_TRUE(tree->IsMapping());
  ASSERT_EQ(tree->entries.size(), 3u);
  EXPECT_EQ(tree->entries[0].key.scalar, "a");
  EXPECT_EQ(tree->entries[2].key.scalar, "a");
  EXPECT_EQ(tree->entries[2].value.scalar, "2");
  EXPECT_EQ(tree->entries[2].key.position.ToString(), "f.yaml:4:1");
  const YamlNode& list = tree->entries[1].value.entries[0].value;
  ASSERT_TRUE(list.IsSequence());
  EXPECT_EQ(list.items[1].scalar, "y");
  EXPECT_EQ(list.items[1].position.ToString(), "f.yaml:3:10");
}

TEST(ParseYaml, PlacesAnEmptyValueAtItsKey) {
  auto tree = ParseYaml("a:\nb: 1\n", "f.yaml");
  ASSERT_TRUE(tree);
  EXPECT_TRUE(tree->entries[0].value.IsNull());
  EXPECT_EQ(tree->entries[0].value.position.ToString(), "f.yaml:1:1");
}

TEST(ParseYaml, EmptyTextIsANullDocument) {
  auto tree = ParseYaml("# only a comment\n", "f.yaml");
  ASSERT_TRUE(tree);
  EXPECT_TRUE(tree->IsNull());
  EXPECT_EQ(tree->position.ToString(), "f.yaml:1:1");
}

TEST(ParseYaml, SyntaxErrorsHavePositions) {
  auto tree = ParseYaml("a: [1, 2\n", "f.yaml");
  ASSERT_FALSE(tree);
  EXPECT_EQ(tree.error().position.ToString(), "f.yaml:2:1");
  EXPECT_EQ(tree.error().message,
            "YAML syntax error: end of sequence flow not found; fix the YAML near this position");
}

TEST(ParseYaml, TabIndentationGetsItsOwnMessage) {
  auto tree = ParseYaml("a:\n  b: 1\n \tc: 2\n", "f.yaml");
  ASSERT_FALSE(tree);
  EXPECT_EQ(tree.error().position.ToString(), "f.yaml:3:2");
  EXPECT_EQ(tree.error().message,
            "a tab indents this line, and YAML indents with spaces only; replace the tab with "
            "spaces");
}

TEST(ParseYaml, RefusesASecondDocument) {
  auto tree = ParseYaml("a: 1\n---\nb: 2\n", "f.yaml");
  ASSERT_FALSE(tree);
  EXPECT_EQ(tree.error().position.ToString(), "f.yaml:3:1");
}

TEST(ParseYaml, RefusesAnAliasInsideItsOwnAnchor) {
  auto tree = ParseYaml("a: &x\n  b: *x\n", "f.yaml");
  ASSERT_FALSE(tree);
  EXPECT_NE(tree.error().message.find("nests too deep"), std::string::npos);
}

TEST(ParseYaml, RefusesAliasesThatMultiplyBeyondTheLimit) {
  std::string text = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 8; ++i) {
    const std::string prev = "*l" + std::to_string(i - 1);
    text += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [" + prev;
    for (int j = 1; j < 10; ++j) text += ", " + prev;
    text += "]\n";
  }
  auto tree = ParseYaml(text, "f.yaml");
  ASSERT_FALSE(tree);
  EXPECT_NE(tree.error().message.find("too many values"), std::string::npos);
}

}  // namespace
}  // namespace tidemark::config
