// Messages of the checks across objects, on small configs given inline. The bad-input
// suite (bad_configs_test.cc) covers one file per rule; these cover what it cannot:
// what must not be reported, and what a message must never contain.

#include "tidemark/config/validate.h"

#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tidemark/config/config.h"

namespace tidemark::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kConnections = R"(
connections:
  disk: { url: "file:///tmp/tidemark-lake" }
  app:  { url: "postgres://tidemark@db1:5432/app" }
  s3a:  { url: "s3://bucket/base?region=eu-west-1" }
  s3b:  { url: "s3://bucket" }
)";

// The error of parsing kConnections + `text`, or "" when it parses.
std::string Problems(const std::string& text) {
  auto config = ParseConfig(kConnections + text, "t.yaml");
  return config ? "" : config.error().message();
}

size_t LineCount(const std::string& message) {
  return message.empty() ? 0 : 1 + std::count(message.begin(), message.end(), '\n');
}

TEST(Validate, NeverRepeatsAPasswordFromAUrl) {
  std::string message = ParseConfig(R"(
state: postgres://tm:statepw@db/state
connections:
  app: { url: "postgres://tidemark:apppw@db1:5432/app" }
)",
                                    "t.yaml")
                            .error()
                            .message();
  EXPECT_THAT(message, HasSubstr("t.yaml:2:8: state has a password in its URL"));
  EXPECT_THAT(message, HasSubstr("t.yaml:4:15: connection 'app' has a password in its URL"));
  EXPECT_THAT(message, Not(HasSubstr("statepw")));
  EXPECT_THAT(message, Not(HasSubstr("apppw")));
}

TEST(Validate, AValueThatFailedToParseIsNotReportedAgain) {
  unsetenv("TIDEMARK_TEST_UNSET");
  std::string message = Problems(R"(
datasets:
  events:
    storage: { connection: app, table: "${TIDEMARK_TEST_UNSET}" }
    strategy: id
    interval: 10 apples
    on_expire: archive
    archive_to: "${TIDEMARK_TEST_UNSET}"
)");
  EXPECT_EQ(LineCount(message), 3u) << message;
  EXPECT_THAT(message, Not(HasSubstr("needs table")));
  EXPECT_THAT(message, Not(HasSubstr("strategy id")));
  EXPECT_THAT(message, Not(HasSubstr("no archive_to")));
}

TEST(Validate, TwoConnectionNamesForOneServerStillShareATable) {
  std::string message = Problems(R"(  app2: { url: "postgres://tidemark@db1:5432/app" }
datasets:
  a: { storage: { connection: app, table: public.t } }
  b: { storage: { connection: app2, table: public.t } }
)");
  EXPECT_THAT(message, HasSubstr("the storage of dataset 'b' uses the same location as the "
                                 "storage of dataset 'a' (line 9): table public.t on "
                                 "connection 'app2'"));
}

TEST(Validate, OneLifecycleMayReturnToALocation) {
  EXPECT_EQ(Problems(R"(
datasets:
  t:
    lifecycles:
      raw:
        storages:
          first: { connection: disk, path: t, until: 2020-01-01 }
          middle: { connection: s3b, path: t, from: 2020-01-01, until: 2021-01-01 }
          back: { connection: disk, path: t, from: 2021-01-01 }
)"),
            "");
}

TEST(Validate, OverlapsWithOpenEndsAreSaidInWords) {
  std::string message = Problems(R"(
datasets:
  t:
    lifecycles:
      raw:
        storages:
          a: { connection: disk, path: a, until: 2020-01-01 }
          b: { connection: disk, path: b }
)");
  EXPECT_THAT(message, HasSubstr("t.yaml:14:11: storages 'a' and 'b' of lifecycle 'raw' of "
                                 "dataset 't' overlap from the beginning to 2020-01-01"));
}

TEST(Validate, ArchivesAreComparedWithStoragesAcrossConnectionNames) {
  // s3a's root is s3://bucket/base; the archive on s3b writes below s3://bucket/base/t.
  std::string message = Problems(R"(
archives:
  cold: { connection: s3b, path: "base/t/archive/{partition}" }
datasets:
  t: { storage: { connection: s3a, path: t } }
)");
  EXPECT_THAT(message, HasSubstr("archive 'cold' (s3://bucket/base/t/archive) lies inside the "
                                 "data of the storage of dataset 't' (s3://bucket/base/t)"));
  EXPECT_EQ(Problems(R"(
archives:
  cold: { connection: s3b, path: "archive/{dataset}/{partition}" }
datasets:
  t: { storage: { connection: s3a, path: t }, archive_to: cold }
)"),
            "");
}

TEST(Validate, RetentionMayEqualPremakeTimesInterval) {
  EXPECT_EQ(Problems(R"(
datasets:
  t: { storage: { connection: app, table: t }, interval: 1 week, premake: 4, retention: 28 days }
)"),
            "");
  EXPECT_THAT(Problems(R"(
datasets:
  t:
    archive_before: 3 weeks
    interval: 1 week
    premake: 4
    lifecycles: { raw: { storages: { pg: { connection: app, table: t } } } }
)"),
              HasSubstr("t.yaml:10:21: retention 3 weeks of dataset 't' is shorter than "
                        "premake × interval (4 × 1 week = 4 weeks)"));
}

TEST(Validate, AcceptsTheStateForms) {
  EXPECT_EQ(Problems("state: sqlite:state.db\n"), "");
  EXPECT_EQ(Problems("state: postgresql://tidemark@db/state\n"), "");
  EXPECT_THAT(Problems("state: \"sqlite:\"\n"), HasSubstr("state must be sqlite:PATH"));
}

TEST(Validate, KnowsTimeZonesFromTheSystem) {
  EXPECT_EQ(Problems("timezone: Europe/Berlin\n"), "");
}

TEST(Validate, SaysWhenNoConnectionsOrArchivesExist) {
  auto config = ParseConfig(R"(
datasets:
  t: { storage: { connection: disk, path: t }, archive_to: cold }
)",
                            "t.yaml");
  ASSERT_FALSE(config);
  EXPECT_THAT(config.error().message(),
              HasSubstr("names connection 'disk', which is not defined, and no connections "
                        "are; define it under connections:"));
  EXPECT_THAT(config.error().message(),
              HasSubstr("archives to 'cold', which is not defined, and no archives are"));
}

TEST(Validate, ReportsEveryProblemOfTheFile) {
  std::string message = Problems(R"(
archives:
  cold: { connection: app, path: "{table}" }
datasets:
  a: { storage: { connection: disk }, premake: -1 }
  b: { storage: { connection: app, table: t, layout: delta }, on_expire: archive }
)");
  EXPECT_EQ(LineCount(message), 7u) << message;
}

TEST(Validate, S3CredentialsComeWholeFromOnePlaceEach) {
  auto problems = [](const std::string& keys) {
    auto config =
        ParseConfig("connections:\n  lake: { url: \"s3://bucket\", " + keys + " }\n", "t.yaml");
    return config ? "" : config.error().message();
  };
  EXPECT_EQ(problems("access_key_env: A, secret_key_file: s.txt, session_token_env: T"), "");
  EXPECT_EQ(problems("profile: prod"), "");
  EXPECT_THAT(
      problems("access_key_env: A, access_key_file: a.txt, secret_key_env: S"),
      HasSubstr("connection 'lake' gives both access_key_env and access_key_file; keep one"));
  EXPECT_THAT(problems("access_key_env: A, secret_key_env: S, secret_key_file: s.txt"),
              HasSubstr("gives both secret_key_env and secret_key_file; keep one"));
  EXPECT_THAT(problems("access_key_env: A"),
              HasSubstr("connection 'lake' gives an access key but no secret key; add "
                        "secret_key_env or secret_key_file"));
  EXPECT_THAT(problems("secret_key_file: s.txt"),
              HasSubstr("gives a secret key but no access key"));
  EXPECT_THAT(problems("session_token_env: T"),
              HasSubstr("gives session_token_env without its access and secret keys"));
}

TEST(Validate, NewS3KeysAreRefusedOnOtherConnections) {
  auto config = ParseConfig(R"(
connections:
  app: { url: "postgres://u@h/db", ca_file: ca.pem, addressing: path, access_key_file: id,
         secret_key_file: s, session_token_env: T, part_size_mib: 16,
         multipart_threshold_mib: 100, parts_in_flight: 2 }
)",
                            "t.yaml");
  ASSERT_FALSE(config);
  for (const char* key : {"ca_file", "addressing", "access_key_file", "secret_key_file",
                          "session_token_env", "part_size_mib", "multipart_threshold_mib",
                          "parts_in_flight"}) {
    EXPECT_THAT(config.error().message(),
                HasSubstr(std::string("connection 'app' is postgres, and ") + key +
                          " applies to s3 connections only; remove it"));
  }
}

}  // namespace
}  // namespace tidemark::config
