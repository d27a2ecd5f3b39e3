#include "tidemark/config/expand.h"

#include <map>

#include <gtest/gtest.h>

namespace tidemark::config {
namespace {

EnvironmentLookup Fake(std::map<std::string, std::string> variables) {
  return [variables](const std::string& name) -> std::optional<std::string> {
    auto it = variables.find(name);
    if (it == variables.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ExpandEnvironment, ReplacesVariables) {
  auto env = Fake({{"HOST", "db1"}, {"PORT", "5432"}, {"EMPTY", ""}});
  EXPECT_EQ(*ExpandEnvironment("postgres://u@${HOST}:${PORT}/app", env),
            "postgres://u@db1:5432/app");
  EXPECT_EQ(*ExpandEnvironment("a${EMPTY}b", env), "ab");
  EXPECT_EQ(*ExpandEnvironment("no variables", env), "no variables");
}

TEST(ExpandEnvironment, KeepsOtherDollarsAndTheEscapedForm) {
  auto env = Fake({{"X", "x"}});
  EXPECT_EQ(*ExpandEnvironment("$${X}", env), "${X}");
  EXPECT_EQ(*ExpandEnvironment("cost $5 and $X", env), "cost $5 and $X");
  EXPECT_EQ(*ExpandEnvironment("$$${X}", env), "$${X}");  // "$" then "$${" then "X}"
  EXPECT_EQ(*ExpandEnvironment("${X}$", env), "x$");
}

TEST(ExpandEnvironment, NamesTheMissingVariable) {
  auto result = ExpandEnvironment("${HOST}/${NOT_SET}", Fake({{"HOST", "h"}}));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(),
            "environment variable NOT_SET is not set; set it, or write $${ for a literal ${");
}

TEST(ExpandEnvironment, RefusesMalformedReferences) {
  auto env = Fake({});
  EXPECT_EQ(ExpandEnvironment("${OPEN", env).error(),
            "\"${\" has no closing \"}\"; write ${NAME}, or write $${ for a literal ${");
  EXPECT_EQ(ExpandEnvironment("${1X}", env).error(),
            "\"${1X}\" is not an environment variable name (letters, digits and _); or write "
            "$${ for a literal ${");
  EXPECT_FALSE(ExpandEnvironment("${}", env));
}

}  // namespace
}  // namespace tidemark::config
