#include "tidemark/config/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tidemark/config/keys.h"
#include "tidemark/util/sha256.h"

namespace tidemark::config {
namespace {

using std::chrono::year_month_day;
using ::testing::HasSubstr;

constexpr const char* kPath = "/etc/tidemark/tidemark.yaml";

year_month_day Date(int y, unsigned m, unsigned d) {
  return year_month_day{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
}

Config Parse(const std::string& text) {
  auto config = ParseConfig(text, kPath);
  EXPECT_TRUE(config) << config.error().message();
  return config ? *config : Config{};
}

std::string ParseError(const std::string& text) {
  auto config = ParseConfig(text, "t.yaml");
  EXPECT_FALSE(config);
  if (config) return "";
  EXPECT_EQ(config.error().category(), util::ErrorCategory::kConfig);
  return config.error().message();
}

TEST(ParseConfig, DesignExampleTopLevelAndConnections) {
  Config config = Parse(std::string(ExampleConfig()));
  EXPECT_EQ(config.path, kPath);
  EXPECT_EQ(config.base_dir, "/etc/tidemark");
  EXPECT_EQ(config.state, "sqlite:.tidemark/state.db");
  EXPECT_EQ(config.runs_dir, ".tidemark/runs");
  EXPECT_EQ(config.timezone, "UTC");
  ASSERT_EQ(config.connections.size(), 4u);
  const Connection& app = config.connections[0];
  EXPECT_EQ(app.name, "app");
  EXPECT_EQ(app.url, "postgres://tidemark@db1:5432/app");
  EXPECT_EQ(app.password_env, "APP_PG_PASSWORD");
  EXPECT_EQ(app.position.ToString(), std::string(kPath) + ":6:3");
  EXPECT_EQ(config.FindConnection("logs")->password_file, "/etc/tidemark/logs.pw");
  const Connection* lake = config.FindConnection("lake");
  EXPECT_EQ(lake->url, "s3://datalake?region=eu-west-1");
  EXPECT_EQ(lake->access_key_env, "AWS_ACCESS_KEY_ID");
  EXPECT_EQ(lake->secret_key_env, "AWS_SECRET_ACCESS_KEY");
  EXPECT_EQ(config.FindConnection("disk")->url, "file:///var/lib/lake");
  ASSERT_EQ(config.archives.size(), 1u);
  EXPECT_EQ(config.archives[0].name, "cold");
  EXPECT_EQ(config.archives[0].connection, "lake");
  EXPECT_EQ(config.archives[0].path, "archive/{dataset}/{lifecycle}/{storage}/{partition}/");
  EXPECT_EQ(config.sha256, util::Sha256Hex(ExampleConfig()));
}

TEST(ParseConfig, DesignExampleShortFormDatasets) {
  Config config = Parse(std::string(ExampleConfig()));
  ASSERT_EQ(config.datasets.size(), 4u);
  const Dataset& events = *config.FindDataset("events");
  EXPECT_TRUE(events.short_form);
  EXPECT_EQ(events.partition_by, std::vector<std::string>{"created_at"});
  EXPECT_EQ(events.interval, (core::Span{1, core::SpanUnit::kDay}));
  EXPECT_TRUE(events.interval_given);
  EXPECT_EQ(events.premake, 7);
  EXPECT_EQ(events.retention, (core::Span{90, core::SpanUnit::kDay}));
  EXPECT_EQ(events.on_expire, OnExpire::kArchive);
  EXPECT_EQ(events.archive_to, "cold");
  EXPECT_EQ(events.recycle_days, 7);
  EXPECT_EQ(events.strategy, Strategy::kTime);
  ASSERT_EQ(events.lifecycles.size(), 1u);
  EXPECT_EQ(events.lifecycles[0].name, "main");
  EXPECT_EQ(events.lifecycles[0].order, 1);
  ASSERT_EQ(events.lifecycles[0].storages.size(), 1u);
  const Storage& main = events.lifecycles[0].storages[0];
  EXPECT_EQ(main.name, "main");
  EXPECT_EQ(main.connection, "app");
  EXPECT_EQ(main.table, "public.events");
  EXPECT_EQ(main.layout, Layout::kNone);
  EXPECT_FALSE(main.from);

  const Dataset& access_log = *config.FindDataset("access_log");
  EXPECT_EQ(access_log.strategy, Strategy::kSequential);
  EXPECT_EQ(access_log.interval, (core::Span{7, core::SpanUnit::kDay}));
  EXPECT_EQ(access_log.premake, 2);
  EXPECT_EQ(access_log.on_expire, OnExpire::kDrop);  // no archive_to

  const Dataset& devices = *config.FindDataset("devices");
  EXPECT_FALSE(devices.interval_given);
  EXPECT_EQ(devices.interval, (core::Span{1, core::SpanUnit::kDay}));
  EXPECT_EQ(devices.on_expire, OnExpire::kArchive);  // archive_to given
  EXPECT_EQ(devices.late_data.consumers, std::vector<std::string>{"devices_loader"});
  EXPECT_EQ(devices.lifecycles[0].storages[0].path, "devices");
  EXPECT_EQ(devices.lifecycles[0].storages[0].layout, Layout::kDelta);
}

TEST(ParseConfig, DesignExampleFullFormDataset) {
  Config config = Parse(std::string(ExampleConfig()));
  const Dataset& orders = *config.FindDataset("orders");
  EXPECT_FALSE(orders.short_form);
  EXPECT_EQ(orders.retention, (core::Span{2, core::SpanUnit::kMonth}));  // archive_before
  EXPECT_EQ(orders.on_expire, OnExpire::kArchive);
  ASSERT_EQ(orders.lifecycles.size(), 2u);
  const Lifecycle& raw = orders.lifecycles[0];
  EXPECT_EQ(raw.name, "raw");
  EXPECT_EQ(raw.order, 1);
  ASSERT_EQ(raw.storages.size(), 1u);
  EXPECT_EQ(raw.storages[0].name, "landing");
  EXPECT_EQ(raw.storages[0].connection, "lake");
  EXPECT_EQ(raw.storages[0].path, "landing/orders");
  EXPECT_EQ(raw.storages[0].layout, Layout::kHive);
  EXPECT_EQ(raw.storages[0].from, Date(2019, 1, 1));
  EXPECT_EQ(raw.storages[0].until, Date(2020, 2, 21));
  const Lifecycle& bronze = orders.lifecycles[1];
  EXPECT_EQ(bronze.name, "bronze");
  EXPECT_EQ(bronze.order, 2);
  EXPECT_EQ(bronze.storages[0].table, "bronze.orders");
  EXPECT_EQ(bronze.storages[0].from, Date(2019, 1, 1));
  EXPECT_FALSE(bronze.storages[0].until);
  EXPECT_EQ(bronze.storages[0].position.ToString(), std::string(kPath) + ":53:11");
}

TEST(ParseConfig, DefaultsForAnAlmostEmptyFile) {
  Config config = Parse("datasets:\n");
  EXPECT_EQ(config.state, "sqlite:.tidemark/state.db");
  EXPECT_EQ(config.runs_dir, ".tidemark/runs");
  EXPECT_EQ(config.timezone, "UTC");
  EXPECT_TRUE(config.connections.empty());
  EXPECT_TRUE(config.datasets.empty());
}

TEST(ParseConfig, FullFormWithStoragesOverTime) {
  Config config = Parse(R"(
connections:
  disk: { url: "file:lake" }
  nfs: { url: "file:///mnt/nfs" }
datasets:
  t:
    partition_by: [day, region]
    retention: 1 year
    on_expire: detach
    recycle_days: 0
    tablespace_after: 3 months
    tablespace: cold_ts
    lifecycles:
      bronze:
        order: 3
        storages:
          old: { connection: nfs, path: t, from: 2001-01-01, until: 2010-01-01 }
          new: { connection: disk, path: t, from: 2010-01-01, layout: hive }
)");
  const Dataset& t = config.datasets.at(0);
  EXPECT_EQ(t.partition_by, (std::vector<std::string>{"day", "region"}));
  EXPECT_EQ(t.on_expire, OnExpire::kDetach);
  EXPECT_EQ(t.recycle_days, 0);
  EXPECT_EQ(t.tablespace_after, (core::Span{3, core::SpanUnit::kMonth}));
  EXPECT_EQ(t.tablespace, "cold_ts");
  EXPECT_EQ(t.lifecycles.at(0).order, 3);
  ASSERT_EQ(t.lifecycles.at(0).storages.size(), 2u);
  EXPECT_EQ(t.lifecycles[0].storages[0].name, "old");
  EXPECT_EQ(t.lifecycles[0].storages[1].name, "new");
}

TEST(ParseConfig, StrategyIdTakesAnIntegerInterval) {
  Config config = Parse(R"(
connections: { db: { url: "mariadb://u@h/logs" } }
datasets:
  ids: { storage: { connection: db, table: logs.t }, strategy: id, interval: 1000000, premake: 3 }
)");
  EXPECT_EQ(config.datasets[0].strategy, Strategy::kId);
  EXPECT_EQ(config.datasets[0].interval, (core::Span{1000000, core::SpanUnit::kNumber}));
}

TEST(ParseConfig, S3ConnectionKeys) {
  Config config = Parse(R"(
connections:
  lake: { url: "s3://bucket/base", profile: prod, region: eu-west-1, endpoint: "http://127.0.0.1:4568" }
)");
  const Connection& lake = config.connections.at(0);
  EXPECT_EQ(lake.profile, "prod");
  EXPECT_EQ(lake.region, "eu-west-1");
  EXPECT_EQ(lake.endpoint, "http://127.0.0.1:4568");
}

TEST(ParseConfig, S3CredentialFilesTokensAddressingAndCa) {
  Config config = Parse(R"(
connections:
  lake: { url: "s3://bucket/base", access_key_file: keys/id, secret_key_file: /etc/s3/secret,
          session_token_env: LAKE_TOKEN, addressing: virtual, ca_file: certs/ca.pem }
  minio: { url: "s3://bucket2", endpoint: "http://127.0.0.1:9000", addressing: path,
           access_key_env: MINIO_ID, secret_key_env: MINIO_SECRET }
)");
  const Connection& lake = config.connections.at(0);
  EXPECT_EQ(lake.access_key_file, "keys/id");
  EXPECT_EQ(lake.secret_key_file, "/etc/s3/secret");
  EXPECT_EQ(lake.session_token_env, "LAKE_TOKEN");
  EXPECT_EQ(lake.addressing, "virtual");
  EXPECT_EQ(lake.ca_file, "certs/ca.pem");
  EXPECT_EQ(config.connections.at(1).addressing, "path");
  EXPECT_THAT(ParseError(R"(
connections:
  lake: { url: "s3://bucket", addressing: sideways }
)"),
              HasSubstr("addressing"));
  EXPECT_THAT(ParseError(R"(
connections:
  lake: { url: "s3://bucket", session_token: abc }
)"),
              HasSubstr("secrets never go in the file; use session_token_env"));
}

TEST(ParseConfig, S3UploadSizesAreWholeMiBWithinS3sLimits) {
  Config config = Parse(R"(
connections:
  lake: { url: "s3://bucket", part_size_mib: 64, multipart_threshold_mib: 5120,
          parts_in_flight: 8 }
  other: { url: "s3://bucket2" }
)");
  EXPECT_EQ(config.connections.at(0).part_size_mib, 64);
  EXPECT_EQ(config.connections.at(0).multipart_threshold_mib, 5120);
  EXPECT_EQ(config.connections.at(0).parts_in_flight, 8);
  EXPECT_EQ(config.connections.at(1).part_size_mib, 0);  // the store's default
  EXPECT_THAT(ParseError(R"(
connections:
  lake: { url: "s3://bucket", part_size_mib: 4 }
)"),
              HasSubstr("part_size_mib must be an integer from 5 to 5120, not \"4\""));
  EXPECT_THAT(ParseError(R"(
connections:
  lake: { url: "s3://bucket", multipart_threshold_mib: 99999999999 }
)"),
              HasSubstr("multipart_threshold_mib must be an integer from 5 to 5120"));
  EXPECT_THAT(ParseError(R"(
connections:
  lake: { url: "s3://bucket", parts_in_flight: 0 }
)"),
              HasSubstr("parts_in_flight must be an integer from 1 to 64, not \"0\""));
}

TEST(ParseConfig, ExpandsEnvironmentVariablesInValues) {
  setenv("TIDEMARK_TEST_TABLE", "public.from_env", 1);
  setenv("TIDEMARK_TEST_PREMAKE", "4", 1);
  Config config = Parse(R"(
runs_dir: "$${literal}/runs"
connections: { app: { url: "postgres://u@h/db" } }
datasets:
  e: { storage: { connection: app, table: "${TIDEMARK_TEST_TABLE}" }, premake: "${TIDEMARK_TEST_PREMAKE}" }
)");
  EXPECT_EQ(config.runs_dir, "${literal}/runs");
  EXPECT_EQ(config.datasets[0].lifecycles[0].storages[0].table, "public.from_env");
  EXPECT_EQ(config.datasets[0].premake, 4);
}

TEST(ParseConfig, ResolvesRelativePathsAgainstTheFilesDirectory) {
  Config config = Parse("datasets: {}\n");
  EXPECT_EQ(config.ResolvePath(".tidemark/runs"), "/etc/tidemark/.tidemark/runs");
  EXPECT_EQ(config.ResolvePath("../lake"), "/etc/lake");
  EXPECT_EQ(config.ResolvePath("/var/lib/x"), "/var/lib/x");
}

TEST(ParseConfig, ReportsEveryProblemOnePerLineInFileOrder) {
  std::string message = ParseError(R"(timezone: Mars/Olympus
datasets:
  e:
    storage: { connection: nowhere, table: t }
    premake: seven
    retension: 3 days
)");
  std::vector<std::string> lines;
  for (size_t start = 0, end; start <= message.size(); start = end + 1) {
    end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    lines.push_back(message.substr(start, end - start));
  }
  ASSERT_EQ(lines.size(), 4u) << message;
  EXPECT_THAT(lines[0], HasSubstr("t.yaml:1:11: unknown timezone \"Mars/Olympus\""));
  EXPECT_THAT(lines[1], HasSubstr("t.yaml:4:28: the storage of dataset 'e' names connection "
                                  "'nowhere', which is not defined, and no connections are"));
  EXPECT_THAT(lines[2], HasSubstr("t.yaml:5:14: premake must be a non-negative integer, not "
                                  "\"seven\""));
  EXPECT_THAT(lines[3], HasSubstr("t.yaml:6:5: unknown key 'retension' in dataset 'e'; did you "
                                  "mean 'retention'?"));
}

TEST(LoadConfig, ReadsTheFileAndRecordsItsDigest) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("tidemark_config_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string text =
      "connections: { disk: { url: \"file:lake\" } }\n"
      "datasets: { d: { storage: { connection: disk, path: d } } }\n";
  std::ofstream(dir / "tidemark.yaml") << text;
  auto config = LoadConfig((dir / "tidemark.yaml").string());
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->sha256, util::Sha256Hex(text));
  EXPECT_EQ(config->base_dir, dir.string());
  EXPECT_EQ(config->datasets[0].lifecycles[0].storages[0].layout, Layout::kHive);
  std::filesystem::remove_all(dir);
}

TEST(LoadConfig, MissingFileIsAConfigError) {
  auto config = LoadConfig("/nonexistent/tidemark.yaml");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().category(), util::ErrorCategory::kConfig);
  EXPECT_THAT(config.error().message(),
              HasSubstr("/nonexistent/tidemark.yaml: cannot read the config file"));
}

TEST(Names, RoundTripTheWordsOfTheFile) {
  EXPECT_STREQ(LayoutName(Layout::kDelta), "delta");
  EXPECT_STREQ(StrategyName(Strategy::kSequential), "sequential");
  EXPECT_STREQ(OnExpireName(OnExpire::kDetach), "detach");
  EXPECT_EQ((Position{"a.yaml", 3, 7}).ToString(), "a.yaml:3:7");
  EXPECT_EQ((Position{"a.yaml", 0, 0}).ToString(), "a.yaml");
}

}  // namespace
}  // namespace tidemark::config
