#include "tidemark/config/keys.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

namespace tidemark::config {
namespace {

const std::filesystem::path kReference =
    std::filesystem::path(TIDEMARK_SOURCE_DIR) / "docs/configuration.md";

TEST(ConfigurationReference, DocsEqualTheRenderedKeyTable) {
  const std::string rendered = RenderConfigurationReference();
  if (std::getenv("TIDEMARK_UPDATE_DOCS") != nullptr) {
    std::ofstream(kReference, std::ios::binary) << rendered;
  }
  std::ifstream in(kReference, std::ios::binary);
  ASSERT_TRUE(in) << kReference << " is missing";
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_TRUE(text.str() == rendered)
      << kReference << " differs from the key table in config/keys.cc; regenerate it with "
      << "TIDEMARK_UPDATE_DOCS=1 build/tidemark_unit_tests "
         "--gtest_filter='ConfigurationReference.*'";
}

TEST(ConfigurationReference, ListsEveryKeyOfEverySection) {
  const std::string rendered = RenderConfigurationReference();
  for (const SectionInfo& section : AllSections()) {
    EXPECT_NE(rendered.find("## " + std::string(section.title) + "\n"), std::string::npos);
    for (const KeyInfo& key : section.keys) {
      EXPECT_NE(rendered.find("| `" + std::string(key.name) + "` |"), std::string::npos)
          << key.name;
    }
  }
}

TEST(KeyTable, EveryKeyIsDocumentedAndUniqueInItsSection) {
  for (const SectionInfo& section : AllSections()) {
    std::set<std::string_view> names;
    for (const KeyInfo& key : section.keys) {
      EXPECT_TRUE(names.insert(key.name).second) << section.title << ": " << key.name;
      EXPECT_FALSE(key.doc.empty()) << key.name;
      // A '|' would break the markdown table.
      EXPECT_EQ(key.doc.find('|'), std::string_view::npos) << key.name;
      EXPECT_EQ(key.type == KeyType::kChoice, !key.choices.empty()) << key.name;
    }
  }
}

TEST(KeyTable, TheTwoDatasetFormsDifferOnlyInTheirStorageKeys) {
  EXPECT_NE(FindKey(Section::kDatasetShort, "storage"), nullptr);
  EXPECT_EQ(FindKey(Section::kDatasetShort, "lifecycles"), nullptr);
  EXPECT_EQ(FindKey(Section::kDatasetShort, "archive_before"), nullptr);
  EXPECT_NE(FindKey(Section::kDatasetFull, "lifecycles"), nullptr);
  EXPECT_NE(FindKey(Section::kDatasetFull, "archive_before"), nullptr);
  EXPECT_EQ(FindKey(Section::kDatasetFull, "storage"), nullptr);
  EXPECT_TRUE(FindKey(Section::kConnection, "url")->required);
}

TEST(EditDistance, CountsEditsAndSwapsOfNeighbours) {
  EXPECT_EQ(EditDistance("retention", "retention"), 0u);
  EXPECT_EQ(EditDistance("retension", "retention"), 1u);
  EXPECT_EQ(EditDistance("retnetion", "retention"), 1u);  // a swap
  EXPECT_EQ(EditDistance("premke", "premake"), 1u);
  EXPECT_EQ(EditDistance("", "url"), 3u);
  EXPECT_EQ(EditDistance("Interval", "interval"), 0u);
}

TEST(SuggestKey, OffersTheClosestKeyOnlyWhenClose) {
  EXPECT_EQ(SuggestKey(Section::kDatasetShort, "retension"), "retention");
  EXPECT_EQ(SuggestKey(Section::kDatasetShort, "partition"), "partition_by");
  EXPECT_EQ(SuggestKey(Section::kStorage, "form"), "from");
  EXPECT_EQ(SuggestKey(Section::kTop, "dataset"), "datasets");
  EXPECT_EQ(SuggestKey(Section::kDatasetShort, "owner"), std::nullopt);
  EXPECT_EQ(SuggestKey(Section::kConnection, "xyz"), std::nullopt);
}

TEST(SecretKeyHint, NamesWhereTheSecretGoesInstead) {
  EXPECT_EQ(SecretKeyHint("password"),
            "secrets never go in the file; use password_env or password_file");
  EXPECT_EQ(SecretKeyHint("Password"),
            "secrets never go in the file; use password_env or password_file");
  EXPECT_EQ(SecretKeyHint("secret_key"),
            "secrets never go in the file; use secret_key_env or secret_key_file");
  EXPECT_EQ(SecretKeyHint("access_key"),
            "secrets never go in the file; use access_key_env or access_key_file");
  EXPECT_EQ(SecretKeyHint("session_token"), "secrets never go in the file; use session_token_env");
  EXPECT_EQ(SecretKeyHint("password_env"), std::nullopt);
}

}  // namespace
}  // namespace tidemark::config
