// The bad-input suite through the real binary: every file in tests/data/bad_configs
// states, in its leading comments, the exit code `tidemark validate` must give and the
// words its message must contain.

#include <filesystem>
#include <sstream>

#include "tests/support/tidemark_env.h"
#include <gtest/gtest.h>

namespace tidemark::testing {
namespace {

namespace fs = std::filesystem;

struct Expectation {
  std::string file;
  int exit_code = -1;
  std::vector<std::string> messages;
};

Expectation Read(const fs::path& path) {
  Expectation e{path.string()};
  std::istringstream lines(ReadFile(path.string()));
  std::string line;
  while (std::getline(lines, line) && line.rfind("#", 0) == 0) {
    const std::string exit_tag = "# expect-exit: ", message_tag = "# expect-message: ";
    if (line.rfind(exit_tag, 0) == 0) e.exit_code = std::stoi(line.substr(exit_tag.size()));
    if (line.rfind(message_tag, 0) == 0) e.messages.push_back(line.substr(message_tag.size()));
  }
  return e;
}

std::vector<Expectation> All() {
  std::vector<Expectation> all;
  for (const auto& entry :
       fs::directory_iterator(std::string(TIDEMARK_SOURCE_DIR) + "/tests/data/bad_configs")) {
    if (entry.path().extension() == ".yaml") all.push_back(Read(entry.path()));
  }
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.file < b.file; });
  return all;
}

TEST(BadConfigs, TheSuiteHasAtLeastTwentyFiveCases) { EXPECT_GE(All().size(), 25u); }

class BadConfig : public ::testing::TestWithParam<Expectation> {};

TEST_P(BadConfig, ValidateExitsWithTheStatedCodeAndMessage) {
  const Expectation& e = GetParam();
  ASSERT_NE(e.exit_code, -1) << e.file << " states no expect-exit";
  ASSERT_FALSE(e.messages.empty()) << e.file << " states no expect-message";
  TempDir dir;
  const std::string config = dir.path() + "/" + fs::path(e.file).filename().string();
  fs::copy_file(e.file, config);
  CommandResult result = RunCommand(TidemarkBinary(), {"validate", "-c", config}, {}, dir.path());
  EXPECT_EQ(result.exit_code, e.exit_code) << result.err;
  for (const std::string& message : e.messages) {
    EXPECT_NE(result.err.find(message), std::string::npos)
        << "message lacks \"" << message << "\":\n"
        << result.err;
  }
  EXPECT_TRUE(result.out.empty()) << "nothing but the error on a bad config: " << result.out;
}

INSTANTIATE_TEST_SUITE_P(Files, BadConfig, ::testing::ValuesIn(All()),
                         [](const ::testing::TestParamInfo<Expectation>& info) {
                           std::string name = fs::path(info.param.file).stem().string();
                           for (char& c : name) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(ConfigFile, AMissingFileIsAUsageErrorNamingIt) {
  TempDir dir;
  CommandResult result =
      RunCommand(TidemarkBinary(), {"validate", "-c", dir.path() + "/nope.yaml"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("nope.yaml"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace tidemark::testing
