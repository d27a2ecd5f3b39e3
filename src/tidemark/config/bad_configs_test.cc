// The bad-input suite: every file in tests/data/bad_configs is a small config with one
// problem, whose leading comments state what must be reported:
//   # expect-exit: 2
//   # expect-message: did you mean 'retention'
//   # expect-message: :7:5:
// Each expect-message must be a substring of the error. The lead also runs these files
// through the binary to check the exit code.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tidemark/config/config.h"

namespace tidemark::config {
namespace {

namespace fs = std::filesystem;

fs::path BadConfigsDir() { return fs::path(TIDEMARK_SOURCE_DIR) / "tests/data/bad_configs"; }

std::vector<std::string> BadConfigNames() {
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(BadConfigsDir())) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct Expectations {
  int exit_code = -1;
  std::vector<std::string> messages;
};

Expectations ReadExpectations(const fs::path& file) {
  Expectations expectations;
  std::ifstream in(file);
  const std::string exit_prefix = "# expect-exit: ";
  const std::string message_prefix = "# expect-message: ";
  for (std::string line; std::getline(in, line) && line.starts_with("#");) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    if (line.starts_with(exit_prefix))
      expectations.exit_code = std::stoi(line.substr(exit_prefix.size()));
    if (line.starts_with(message_prefix))
      expectations.messages.push_back(line.substr(message_prefix.size()));
  }
  return expectations;
}

class BadConfig : public ::testing::TestWithParam<std::string> {};

TEST_P(BadConfig, FailsWithTheExpectedMessages) {
  unsetenv("TIDEMARK_TEST_SURELY_UNSET");
  const fs::path file = BadConfigsDir() / (GetParam() + ".yaml");
  const Expectations expectations = ReadExpectations(file);
  ASSERT_EQ(expectations.exit_code, 2) << file << " lacks '# expect-exit: 2'";
  ASSERT_FALSE(expectations.messages.empty()) << file << " lacks '# expect-message:' lines";
  auto config = LoadConfig(file.string());
  ASSERT_FALSE(config) << file << " loaded without error";
  EXPECT_EQ(util::ExitCodeFor(config.error().category()), expectations.exit_code);
  for (const std::string& expected : expectations.messages) {
    EXPECT_NE(config.error().message().find(expected), std::string::npos)
        << "expected: " << expected << "\nactual:   " << config.error().message();
  }
  // Exactly one problem per file, so each file tests the rule it is named after.
  EXPECT_EQ(config.error().message().find('\n'), std::string::npos) << config.error().message();
}

INSTANTIATE_TEST_SUITE_P(Files, BadConfig, ::testing::ValuesIn(BadConfigNames()),
                         [](const auto& info) { return info.param; });

TEST(BadConfigSuite, HasAtLeastThirtyFiles) { EXPECT_GE(BadConfigNames().size(), 30u); }

}  // namespace
}  // namespace tidemark::config
