// The planner on tables partitioned by sequential id (strategy sequential, MariaDB):
// one step that lays out the empty partitions ahead, only when what is there is off,
// and a failure, not a step, when no empty partition is left.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tidemark/plan/planner.h"

namespace tidemark::plan {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr const char kConfig[] =
    "connections:\n"
    "  logs: { url: \"mariadb://tm@127.0.0.1/logs\" }\n"
    "datasets:\n"
    "  access_log:\n"
    "    storage: { connection: logs, table: logs.access_log }\n"
    "    partition_by: id\n"
    "    strategy: sequential\n"
    "    interval: 7 days\n"
    "    premake: 2\n";

config::Config Parse() {
  auto config = config::ParseConfig(kConfig, "/tmp/x/tidemark.yaml");
  EXPECT_TRUE(config) << config.error().message();
  return config ? *config : config::Config{};
}

util::Instant At(std::string_view text) { return *util::ParseInstant(text); }

core::Partition Ids(const std::string& name, int64_t start, int64_t end) {
  core::Partition p;
  p.name = name;
  p.ids = core::IdRange{start, end};
  return p;
}

core::Partition Tail(int64_t start) {
  core::Partition p = Ids("p_max", start, INT64_MAX);
  p.state = core::PartitionState::kDefault;
  return p;
}

Plan PlanFor(const config::Config& config, std::vector<core::Partition> partitions,
             int64_t largest_id, util::Instant now) {
  core::ObservedStorage storage;
  storage.lifecycle = "main";
  storage.storage = "main";
  storage.location = "mariadb://tm@127.0.0.1/logs#logs.access_log";
  storage.partitions = std::move(partitions);
  storage.max_id = largest_id;
  core::ObservedDataset observed;
  observed.dataset = "access_log";
  observed.storages.push_back(std::move(storage));
  const util::TimeZone utc = util::TimeZone::Utc();
  return PlanDataset(PlanRequest{&config, config.FindDataset("access_log"), &observed, now, &utc});
}

// Four weeks at 100,000 ids a week; the active partition began on 29 January and holds
// 3 days' worth on 1 February.
std::vector<core::Partition> History() {
  return {Ids("p20240101", 1, 100001), Ids("p20240108", 100001, 200001),
          Ids("p20240115", 200001, 300001), Ids("p20240122", 300001, 400001),
          Ids("p20240129", 400001, 1000001)};
}

TEST(PlanSequential, LaysOutPremakeEmptyPartitionsInOneStep) {
  const auto config = Parse();
  std::vector<core::Partition> parts = History();
  parts.push_back(Tail(1000001));
  const Plan plan = PlanFor(config, parts, 442857, At("2024-02-01T00:00:00Z"));
  EXPECT_THAT(plan.failures, IsEmpty());
  ASSERT_EQ(plan.steps.size(), 1u);
  const core::Step& step = plan.steps[0];
  EXPECT_EQ(step.action, core::action::kReorganizeAhead);
  EXPECT_EQ(step.seq, kCreatePhase);
  EXPECT_EQ(step.id, "main/main/reorganize_ahead");
  // Only the MAXVALUE tail is reorganized: the active partition holds rows.
  EXPECT_EQ(step.Param("reorganize"), "p_max");
  // At 100,000 ids a week the active partition's 600,000 ids last six weeks in all:
  // the next starts on 11 March, each covers a week.
  EXPECT_EQ(step.Param("into"), "p20240311 1100001\np20240318 1200001\np_max MAXVALUE");
  EXPECT_THAT(step.about, HasSubstr("p20240311, p20240318"));
  EXPECT_THAT(step.about, HasSubstr("only empty partitions change"));
}

TEST(PlanSequential, EmptyPartitionsThatAreCloseEnoughAreLeftAlone) {
  const auto config = Parse();
  std::vector<core::Partition> parts = History();
  parts.push_back(Ids("p20240311", 1000001, 1100500));  // off by 499 of 100,000
  parts.push_back(Ids("p20240318", 1100500, 1200001));
  parts.push_back(Tail(1200001));
  const Plan plan = PlanFor(config, parts, 442857, At("2024-02-01T00:00:00Z"));
  EXPECT_THAT(plan.steps, IsEmpty());
  EXPECT_THAT(plan.failures, IsEmpty());
}

TEST(PlanSequential, MisnamedOrMissizedEmptyPartitionsAreRenamedAndResized) {
  const auto config = Parse();
  std::vector<core::Partition> parts = History();
  parts.push_back(Ids("p20240304", 1000001, 1500001));
  parts.push_back(Tail(1500001));
  const Plan plan = PlanFor(config, parts, 442857, At("2024-02-01T00:00:00Z"));
  ASSERT_EQ(plan.steps.size(), 1u);
  EXPECT_EQ(plan.steps[0].Param("reorganize"), "p20240304\np_max");
  EXPECT_EQ(plan.steps[0].Param("into"), "p20240311 1100001\np20240318 1200001\np_max MAXVALUE");
}

TEST(PlanSequential, NoEmptyPartitionLeftFailsTheDatasetWithoutAStep) {
  const auto config = Parse();
  std::vector<core::Partition> parts = History();
  parts.push_back(Tail(1000001));
  const Plan plan = PlanFor(config, parts, 1000050, At("2024-02-01T00:00:00Z"));
  EXPECT_THAT(plan.steps, IsEmpty());
  ASSERT_EQ(plan.failures.size(), 1u);
  EXPECT_THAT(plan.failures[0], HasSubstr("main/main: no empty partition is left"));
}

TEST(PlanSequential, ATableWithoutAMaxvaluePartitionFails) {
  const auto config = Parse();
  const Plan plan = PlanFor(config, History(), 442857, At("2024-02-01T00:00:00Z"));
  EXPECT_THAT(plan.steps, IsEmpty());
  EXPECT_THAT(plan.failures, ElementsAre(HasSubstr("has no MAXVALUE partition")));
}

}  // namespace
}  // namespace tidemark::plan
