#include "tidemark/config/storage_urls.h"

#include <gtest/gtest.h>

namespace tidemark::config {
namespace {

Config Sample() {
  auto config = ParseConfig(
      "connections:\n"
      "  lake: { url: \"file:lake/./data/\" }\n"
      "  abs: { url: \"file:///var/lib/lake\" }\n"
      "  s3: { url: \"s3://bucket/base?region=eu-west-1\" }\n"
      "  db: { url: \"postgres://db1/app\" }\n"
      "archives:\n"
      "  cold: { connection: s3, path: \"archive/{dataset}/{lifecycle}/{storage}/{partition}/\" "
      "}\n",
      "/etc/tidemark/tidemark.yaml");
  EXPECT_TRUE(config) << config.error().message();
  return *config;
}

TEST(StorageUrls, LakeRootsAreAbsoluteNormalisedAndCarryNoQuery) {
  Config config = Sample();
  EXPECT_EQ(ResolveUrl(config, "file:lake/./data/"), "file:///etc/tidemark/lake/data");
  EXPECT_EQ(ResolveUrl(config, "file:///var/lib/lake"), "file:///var/lib/lake");
  EXPECT_EQ(ResolveUrl(config, "s3://bucket/base?region=eu-west-1"), "s3://bucket/base");
  EXPECT_EQ(ResolveUrl(config, "postgres://db1/app"), "postgres://db1/app");
}

TEST(StorageUrls, StorageAndArchiveLocations) {
  Config config = Sample();
  Storage storage;
  storage.connection = "lake";
  storage.path = "events/";
  EXPECT_EQ(StorageUrl(config, storage), "file:///etc/tidemark/lake/data/events");
  const Archive& cold = *config.FindArchive("cold");
  EXPECT_EQ(ArchiveUrl(config, cold, "events", "raw", "landing", "year=2024/month=01"),
            "s3://bucket/base/archive/events/raw/landing/year=2024/month=01/");
  EXPECT_EQ(ArchivePrefixUrl(config, cold, "events", "raw", "landing"),
            "s3://bucket/base/archive/events/raw/landing/");
}

TEST(StorageUrls, FamiliesByScheme) {
  EXPECT_EQ(StorageFamily("file:///x"), "lake");
  EXPECT_EQ(StorageFamily("s3://b"), "lake");
  EXPECT_EQ(StorageFamily("postgresql://h/db"), "postgres");
  EXPECT_EQ(StorageFamily("mysql://h/db"), "mariadb");
  EXPECT_EQ(StorageFamily("ftp://h"), "");
}

}  // namespace
}  // namespace tidemark::config
