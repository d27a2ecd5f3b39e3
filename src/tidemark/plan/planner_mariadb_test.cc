// The planner on MariaDB storages, whose partitions are parts of one table laid out
// contiguously up to a MAXVALUE tail: partitions can only be added where the last one
// ends, and bin tables share one recycle database for every database of the server.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tidemark/plan/planner.h"

namespace tidemark::plan {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using util::Instant;

config::Config Parse(const std::string& keys) {
  const std::string text =
      "connections:\n"
      "  shop: { url: \"mariadb://tm@127.0.0.1/shop\" }\n"
      "  cold: { url: \"file:///cold\" }\n"
      "archives:\n"
      "  cold: { connection: cold }\n"
      "datasets:\n"
      "  events:\n"
      "    storage: { connection: shop, table: events }\n"
      "    partition_name: \"p{start}\"\n" +
      keys;
  auto config = config::ParseConfig(text, "/tmp/x/tidemark.yaml");
  EXPECT_TRUE(config) << config.error().message();
  return config ? *config : config::Config{};
}

Instant At(std::string_view text) {
  auto parsed = util::ParseInstant(text);
  EXPECT_TRUE(parsed) << text;
  return parsed.value_or(Instant{});
}

core::Partition Day(const std::string& name, const char* start, const char* end) {
  core::Partition p;
  p.name = name;
  p.range = core::TimeRange{At(start), At(end)};
  return p;
}

core::Partition Ids(const std::string& name, int64_t start, int64_t end) {
  core::Partition p;
  p.name = name;
  p.ids = core::IdRange{start, end};
  return p;
}

core::Partition Tail() {
  core::Partition p;
  p.name = "pmax";
  p.state = core::PartitionState::kDefault;
  return p;
}

core::ObservedDataset Observed(std::vector<core::Partition> partitions,
                               std::optional<int64_t> max_id = std::nullopt) {
  core::ObservedStorage storage;
  storage.lifecycle = "main";
  storage.storage = "main";
  storage.location = "mariadb://tm@127.0.0.1/shop#shop.events";
  storage.partitions = std::move(partitions);
  storage.max_id = max_id;
  core::ObservedDataset observed;
  observed.dataset = "events";
  observed.storages.push_back(std::move(storage));
  return observed;
}

Plan PlanFor(const config::Config& config, const core::ObservedDataset& observed, Instant now) {
  static const util::TimeZone utc = util::TimeZone::Utc();
  return PlanDataset(PlanRequest{&config, config.FindDataset("events"), &observed, now, &utc});
}

std::vector<std::string> Lines(const Plan& plan) {
  std::vector<std::string> lines;
  for (const core::Step& s : plan.steps) {
    std::string line = s.action + " " + s.partition;
    if (s.action == core::action::kCreatePartition) {
      line += s.params.count("id_start") ? " " + s.Param("id_start") + " " + s.Param("id_end")
                                         : " " + s.Param("range_start").substr(0, 10) + " " +
                                               s.Param("range_end").substr(0, 10);
    }
    if (s.action == core::action::kHidePartition) line += " bin=" + s.Param("bin");
    lines.push_back(line);
  }
  return lines;
}

TEST(PlanMariaDb, AddsTheMissingRangesFromTheLastBoundBeforeThoseAhead) {
  const auto config = Parse("    partition_by: created_at\n    interval: 1 day\n    premake: 1\n");
  const auto observed =
      Observed({Day("p20240101", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"),
                Day("p20240102", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"), Tail()});
  const Plan plan = PlanFor(config, observed, At("2024-01-05T10:00:00Z"));
  EXPECT_THAT(Lines(plan), ElementsAre("create_partition p20240103 2024-01-03 2024-01-04",
                                       "create_partition p20240104 2024-01-04 2024-01-05",
                                       "create_partition p20240105 2024-01-05 2024-01-06",
                                       "create_partition p20240106 2024-01-06 2024-01-07"));
  EXPECT_THAT(plan.steps[0].about, HasSubstr("missing"));
  EXPECT_THAT(plan.steps[2].about, HasSubstr("for now"));
  EXPECT_THAT(plan.failures, IsEmpty());
}

TEST(PlanMariaDb, CreatesNothingBelowTheLastBound) {
  // The first partition takes every value below its bound, so nothing before it is
  // missing, and days already ahead are not made again.
  const auto config = Parse("    partition_by: created_at\n    interval: 1 day\n    premake: 2\n");
  const auto observed =
      Observed({Day("p20240110", "2024-01-10T00:00:00Z", "2024-01-11T00:00:00Z"), Tail()});
  const Plan plan = PlanFor(config, observed, At("2024-01-09T10:00:00Z"));
  EXPECT_THAT(Lines(plan), ElementsAre("create_partition p20240111 2024-01-11 2024-01-12"));
}

TEST(PlanMariaDb, FailsTheDatasetWhenTheLastPartitionIsFarBehind) {
  const auto config = Parse("    partition_by: created_at\n    interval: 1 hour\n    premake: 2\n");
  const auto observed =
      Observed({Day("p20200101", "2020-01-01T00:00:00Z", "2020-01-01T01:00:00Z"), Tail()});
  const Plan plan = PlanFor(config, observed, At("2024-01-05T10:00:00Z"));
  EXPECT_THAT(plan.steps, IsEmpty());
  ASSERT_EQ(plan.failures.size(), 1u);
  EXPECT_THAT(plan.failures[0], HasSubstr("more than 1000 intervals behind"));
  EXPECT_THAT(plan.failures[0], HasSubstr("2020-01-01T01:00:00Z"));
}

TEST(PlanMariaDb, IdRangesContinueFromTheLastBound) {
  const auto config =
      Parse("    partition_by: id\n    strategy: id\n    interval: 1000\n    premake: 1\n");
  const auto observed = Observed({Ids("p0", INT64_MIN, 1000), Tail()}, 2500);
  const Plan plan = PlanFor(config, observed, At("2024-01-05T10:00:00Z"));
  EXPECT_THAT(Lines(plan),
              ElementsAre("create_partition p1000 1000 2000", "create_partition p2000 2000 3000",
                          "create_partition p3000 3000 4000"));
}

TEST(PlanMariaDb, BinTablesNameTheirDatabaseTableAndPartition) {
  const auto config = Parse(
      "    partition_by: created_at\n    interval: 1 day\n    retention: 2 days\n"
      "    recycle_days: 7\n");
  const auto observed =
      Observed({Day("p20240101", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"),
                Day("p20240105", "2024-01-05T00:00:00Z", "2024-01-06T00:00:00Z"), Tail()});
  const Plan plan = PlanFor(config, observed, At("2024-01-05T10:00:00Z"));
  EXPECT_THAT(
      Lines(plan),
      ElementsAre("hide_partition p20240101 bin=shop__events__p20240101__until_20240112_100000"));
}

TEST(PlanMariaDb, PartitionsKeptDetachedBecomeTablesBesideTheirTable) {
  const auto config = Parse(
      "    partition_by: id\n    strategy: id\n    interval: 1000\n    dated_by: created_at\n"
      "    retention: 2 days\n    on_expire: detach\n");
  core::Partition old = Ids("p0", INT64_MIN, 1000);
  old.range = core::TimeRange{At("2024-01-01T00:00:00Z"), At("2024-01-01T08:00:00Z")};
  const auto observed = Observed({old, Ids("p1000", 1000, 2000), Tail()}, 1500);
  const Plan plan = PlanFor(config, observed, At("2024-01-05T10:00:00Z"));
  ASSERT_FALSE(plan.steps.empty());
  const core::Step& hide = plan.steps.back();
  EXPECT_EQ(hide.action, core::action::kHidePartition);
  EXPECT_EQ(hide.Param("bin"), "events__p0");
  EXPECT_EQ(hide.Param("id_end"), "1000");
  EXPECT_EQ(hide.Param("detached"), "1");
}

}  // namespace
}  // namespace tidemark::plan
