#include "tidemark/config/locations.h"

#include <gtest/gtest.h>

namespace tidemark::config {
namespace {

Config ConfigIn(const std::string& base_dir) {
  Config config;
  config.base_dir = base_dir;
  config.connections = {{.name = "disk", .url = "file:lake"},
                        {.name = "s3", .url = "s3://bucket/base/?region=eu-west-1"},
                        {.name = "pg", .url = "postgres://u@db:5432/app?sslmode=require"}};
  config.archives = {{.name = "cold",
                      .connection = "s3",
                      .path = "archive/{dataset}/{lifecycle}/{storage}/{partition}/"}};
  return config;
}

TEST(UrlScheme, IsLowercasedAndEmptyWithoutOne) {
  EXPECT_EQ(UrlScheme("Postgres://x"), "postgres");
  EXPECT_EQ(UrlScheme("file:lake"), "file");
  EXPECT_EQ(UrlScheme("/var/lib"), "");
  EXPECT_EQ(UrlScheme("lake"), "");
  EXPECT_EQ(KindOfScheme("mysql"), SystemKind::kDatabase);
  EXPECT_EQ(KindOfScheme("s3"), SystemKind::kLake);
  EXPECT_EQ(KindOfScheme("ftp"), SystemKind::kUnknown);
}

TEST(UrlHasSecret, FindsPasswordsInUserinfoAndQuery) {
  EXPECT_TRUE(UrlHasSecret("postgres://u:pw@db/app"));
  EXPECT_TRUE(UrlHasSecret("postgres://u:@db/app"));
  EXPECT_TRUE(UrlHasSecret("postgres://u@db/app?sslmode=require&password=pw"));
  EXPECT_TRUE(UrlHasSecret("s3://bucket?secret_key=x"));
  EXPECT_FALSE(UrlHasSecret("postgres://u@db:5432/app"));
  EXPECT_FALSE(UrlHasSecret("postgres://db:5432/app"));
  EXPECT_FALSE(UrlHasSecret("s3://bucket?region=eu-west-1"));
  EXPECT_FALSE(UrlHasSecret("file:///a:b@c"));  // no authority
}

TEST(LakeRoot, AcceptsTheDocumentedForms) {
  Config config = ConfigIn("/etc/tidemark");
  EXPECT_EQ(*LakeRoot("file:///var/lib/lake/", config), "/var/lib/lake");
  EXPECT_EQ(*LakeRoot("file:/var/lib/lake", config), "/var/lib/lake");
  EXPECT_EQ(*LakeRoot("file:lake", config), "/etc/tidemark/lake");
  EXPECT_EQ(*LakeRoot("file:../lake", config), "/etc/lake");
  EXPECT_EQ(*LakeRoot("s3://bucket", config), "s3://bucket");
  EXPECT_EQ(*LakeRoot("s3://bucket/a//b/?region=x", config), "s3://bucket/a/b");
  EXPECT_FALSE(LakeRoot("file://host/path", config));
  EXPECT_FALSE(LakeRoot("file:", config));
  EXPECT_FALSE(LakeRoot("s3:///prefix", config));
  EXPECT_FALSE(LakeRoot("postgres://db/app", config));
}

TEST(IsInside, ComparesWholeComponents) {
  EXPECT_TRUE(IsInside("/lake/events", "/lake"));
  EXPECT_TRUE(IsInside("/lake", "/lake"));
  EXPECT_FALSE(IsInside("/lake2", "/lake"));
  EXPECT_FALSE(IsInside("/lake", "/lake/events"));
  EXPECT_TRUE(IsInside("s3://b/a/b", "s3://b/a"));
  EXPECT_FALSE(IsInside("s3://b2/a", "s3://b"));
}

TEST(StaticPrefix, IsTheDirectoryBeforeTheFirstPlaceholder) {
  EXPECT_EQ(StaticPrefix("archive/{dataset}/{partition}/"), "archive");
  EXPECT_EQ(StaticPrefix("a/b/x{dataset}/{partition}"), "a/b");
  EXPECT_EQ(StaticPrefix("{dataset}/{partition}"), "");
  EXPECT_EQ(StaticPrefix("fixed/place/"), "fixed/place");
}

TEST(JoinLocation, Normalizes) {
  EXPECT_EQ(JoinLocation("/lake", "./events/"), "/lake/events");
  EXPECT_EQ(JoinLocation("/lake", ""), "/lake");
  EXPECT_EQ(JoinLocation("s3://b", "a/../c"), "s3://b/c");
  EXPECT_TRUE(IsRelativeBelow("a/b"));
  EXPECT_FALSE(IsRelativeBelow("/a"));
  EXPECT_FALSE(IsRelativeBelow("a/../../b"));
}

}  // namespace
}  // namespace tidemark::config
