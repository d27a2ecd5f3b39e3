// The planner on database storages: partitions created ahead of data, and expired
// partitions detached into the recycle schema, as exact step lists.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tidemark/plan/planner.h"

namespace tidemark::plan {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using util::Instant;

constexpr const char kLocation[] = "postgres://tm@127.0.0.1/app#public.events";

std::string Config(const std::string& zone, const std::string& keys,
                   const std::string& table = "public.events") {
  return "timezone: " + zone +
         "\n"
         "connections:\n"
         "  app: { url: \"postgres://tm@127.0.0.1/app\" }\n"
         "  cold: { url: \"file:///cold\" }\n"
         "archives:\n"
         "  cold: { connection: cold }\n"
         "datasets:\n"
         "  events:\n"
         "    storage: { connection: app, table: \"" +
         table +
         "\" }\n"
         "    partition_by: created_at\n" +
         keys;
}

config::Config Parse(const std::string& text) {
  auto config = config::ParseConfig(text, "/tmp/x/tidemark.yaml");
  EXPECT_TRUE(config) << config.error().message();
  return config ? *config : config::Config{};
}

Instant At(std::string_view text) {
  auto parsed = util::ParseInstant(text);
  EXPECT_TRUE(parsed) << text;
  return parsed.value_or(Instant{});
}

util::TimeZone Zone(std::string_view name) {
  auto zone = util::TimeZone::Load(name);
  EXPECT_TRUE(zone) << zone.error().message();
  return zone ? *zone : util::TimeZone::Utc();
}

core::Partition Range(const std::string& name, const char* start, const char* end) {
  core::Partition p;
  p.name = name;
  p.range = core::TimeRange{At(start), At(end)};
  p.rows = 10;
  p.bytes = 8192;
  return p;
}

core::Partition Ids(const std::string& name, int64_t start, int64_t end) {
  core::Partition p;
  p.name = name;
  p.ids = core::IdRange{start, end};
  return p;
}

core::ObservedDataset Observed(std::vector<core::Partition> partitions,
                               std::optional<int64_t> max_id = std::nullopt) {
  core::ObservedStorage storage;
  storage.lifecycle = "main";
  storage.storage = "main";
  storage.location = kLocation;
  storage.partitions = std::move(partitions);
  storage.max_id = max_id;
  core::ObservedDataset observed;
  observed.dataset = "events";
  observed.storages.push_back(std::move(storage));
  return observed;
}

Plan PlanFor(const config::Config& config, const core::ObservedDataset& observed, Instant now,
             const util::TimeZone& zone) {
  const config::Dataset* dataset = config.FindDataset("events");
  EXPECT_NE(dataset, nullptr);
  if (dataset == nullptr) return {};
  return PlanDataset(PlanRequest{&config, dataset, &observed, now, &zone});
}

// "0 create_partition events_p20240301 2024-03-01T00:00:00Z 2024-03-02T00:00:00Z"
std::vector<std::string> Lines(const Plan& plan) {
  std::vector<std::string> lines;
  for (const core::Step& s : plan.steps) {
    std::string line = std::to_string(s.seq) + " " + s.action + " " + s.partition;
    if (s.action == core::action::kCreatePartition) {
      line += s.params.count("id_start")
                  ? " " + s.Param("id_start") + " " + s.Param("id_end")
                  : " " + s.Param("range_start") + " " + s.Param("range_end");
    }
    if (s.action == core::action::kHidePartition) line += " bin=" + s.Param("bin");
    lines.push_back(line);
  }
  return lines;
}

TEST(PlanDatabase, CreatesTheCurrentPartitionAndPremakeAhead) {
  const auto config = Parse(Config("UTC", "    interval: 1 day\n    premake: 3\n"));
  const Plan plan = PlanFor(config, Observed({}), At("2024-03-01T10:30:00Z"), Zone("UTC"));
  EXPECT_THAT(
      Lines(plan),
      ElementsAre("0 create_partition events_p20240301 2024-03-01T00:00:00Z 2024-03-02T00:00:00Z",
                  "0 create_partition events_p20240302 2024-03-02T00:00:00Z 2024-03-03T00:00:00Z",
                  "0 create_partition events_p20240303 2024-03-03T00:00:00Z 2024-03-04T00:00:00Z",
                  "0 create_partition events_p20240304 2024-03-04T00:00:00Z 2024-03-05T00:00:00Z"));
  const core::Step& step = plan.steps[0];
  EXPECT_EQ(step.system, "postgres");
  EXPECT_EQ(step.id, "main/main/events_p20240301/create_partition");
  EXPECT_EQ(step.Param("table"), "public.events");
  EXPECT_EQ(step.Param("timezone"), "UTC");
  EXPECT_EQ(step.Param("connection"), "app");
  EXPECT_THAT(step.about, HasSubstr("premake 3"));
}

TEST(PlanDatabase, PartitionsMadeByOthersAreAdoptedByTheirBoundsNotTheirNames) {
  const auto config = Parse(Config("UTC", "    interval: 1 day\n    premake: 3\n"));
  // pg_partman's names; one day missing in the middle.
  const Plan plan = PlanFor(
      config,
      Observed({Range("events_p2024_03_01", "2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z"),
                Range("events_p2024_03_02", "2024-03-02T00:00:00Z", "2024-03-03T00:00:00Z"),
                Range("events_p2024_03_04", "2024-03-04T00:00:00Z", "2024-03-05T00:00:00Z")}),
      At("2024-03-01T10:30:00Z"), Zone("UTC"));
  EXPECT_THAT(Lines(plan), ElementsAre("0 create_partition events_p20240303 "
                                       "2024-03-03T00:00:00Z 2024-03-04T00:00:00Z"));
  EXPECT_THAT(plan.notes, IsEmpty());
}

TEST(PlanDatabase, NothingToDoWhenEveryRangeExists) {
  const auto config = Parse(Config("UTC", "    interval: 1 day\n    premake: 1\n"));
  const Plan plan = PlanFor(config,
                            Observed({Range("a", "2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z"),
                                      Range("b", "2024-03-02T00:00:00Z", "2024-03-03T00:00:00Z")}),
                            At("2024-03-01T23:59:59Z"), Zone("UTC"));
  EXPECT_THAT(plan.steps, IsEmpty());
}

TEST(PlanDatabase, AnOverlappingPartitionWithOtherBoundsIsNotedAndNotDuplicated) {
  const auto config = Parse(Config("UTC", "    interval: 1 day\n    premake: 1\n"));
  // A weekly partition from an older policy covers both days.
  const Plan plan = PlanFor(
      config, Observed({Range("events_w09", "2024-02-26T00:00:00Z", "2024-03-04T00:00:00Z")}),
      At("2024-03-01T10:00:00Z"), Zone("UTC"));
  EXPECT_THAT(plan.steps, IsEmpty());
  ASSERT_EQ(plan.notes.size(), 2u);
  EXPECT_THAT(plan.notes[0], HasSubstr("events_w09"));
  EXPECT_THAT(plan.notes[0], HasSubstr("overlaps"));
}

TEST(PlanDatabase, DailyBoundsFollowBerlinAcrossBothDstChanges) {
  const auto config = Parse(Config("Europe/Berlin", "    interval: 1 day\n    premake: 2\n"));
  const util::TimeZone berlin = Zone("Europe/Berlin");
  // Spring forward on 2024-03-31 (that day has 23 hours).
  EXPECT_THAT(
      Lines(PlanFor(config, Observed({}), At("2024-03-30T12:00:00Z"), berlin)),
      ElementsAre("0 create_partition events_p20240330 2024-03-29T23:00:00Z 2024-03-30T23:00:00Z",
                  "0 create_partition events_p20240331 2024-03-30T23:00:00Z 2024-03-31T22:00:00Z",
                  "0 create_partition events_p20240401 2024-03-31T22:00:00Z 2024-04-01T22:00:00Z"));
  // Fall back on 2024-10-27 (25 hours); 23:30 UTC on the 26th is already the 27th there.
  EXPECT_THAT(
      Lines(PlanFor(config, Observed({}), At("2024-10-26T22:30:00Z"), berlin)),
      ElementsAre("0 create_partition events_p20241027 2024-10-26T22:00:00Z 2024-10-27T23:00:00Z",
                  "0 create_partition events_p20241028 2024-10-27T23:00:00Z 2024-10-28T23:00:00Z",
                  "0 create_partition events_p20241029 2024-10-28T23:00:00Z 2024-10-29T23:00:00Z"));
}

TEST(PlanDatabase, NamesFollowTheIntervalAndTheTemplate) {
  const util::TimeZone utc = Zone("UTC");
  const Instant now = At("2024-03-01T10:30:00Z");
  auto first = [&](const std::string& keys) {
    const Plan plan = PlanFor(Parse(Config("UTC", keys)), Observed({}), now, utc);
    return plan.steps.empty() ? std::string() : plan.steps[0].partition;
  };
  EXPECT_EQ(first("    interval: 1 hour\n"), "events_p20240301_10");
  EXPECT_EQ(first("    interval: 1 month\n"), "events_p202403");
  EXPECT_EQ(first("    interval: 1 year\n"), "events_p2024");
  EXPECT_EQ(first("    interval: 1 week\n"), "events_p20240226");  // weeks start on Monday
  EXPECT_EQ(first("    interval: 1 day\n    partition_name: \"{table}_{start:%Y_%m_%d}\"\n"),
            "events_2024_03_01");
  EXPECT_EQ(first("    interval: 1 day\n    partition_name: \"p_{start}_{end:%d}\"\n"),
            "p_20240301_02");
}

TEST(PlanDatabase, LongNamesAreShortenedToTheIdentifierLimitKeepingTheDate) {
  const std::string table(60, 'x');
  const Plan plan = PlanFor(Parse(Config("UTC", "    interval: 1 day\n", "public." + table)),
                            Observed({}), At("2024-03-01T10:30:00Z"), Zone("UTC"));
  ASSERT_EQ(plan.steps.size(), 1u);
  const std::string& name = plan.steps[0].partition;
  EXPECT_EQ(name.size(), 63u);
  EXPECT_THAT(name, ::testing::EndsWith("_p20240301"));
  EXPECT_THAT(name, ::testing::StartsWith("xxxx"));
}

TEST(PlanDatabase, IdRangesAheadOfTheHighestId) {
  const auto config =
      Parse(Config("UTC", "    strategy: id\n    interval: 1000000\n    premake: 2\n"));
  const Plan plan = PlanFor(config, Observed({Ids("events_p1000000", 1000000, 2000000)}, 2500000),
                            At("2024-03-01T10:30:00Z"), Zone("UTC"));
  EXPECT_THAT(Lines(plan), ElementsAre("0 create_partition events_p2000000 2000000 3000000",
                                       "0 create_partition events_p3000000 3000000 4000000",
                                       "0 create_partition events_p4000000 4000000 5000000"));
}

TEST(PlanDatabase, AnEmptyIdTableStartsAtZero) {
  const auto config =
      Parse(Config("UTC", "    strategy: id\n    interval: 1000\n    premake: 1\n"));
  const Plan plan = PlanFor(config, Observed({}), At("2024-03-01T10:30:00Z"), Zone("UTC"));
  EXPECT_THAT(Lines(plan), ElementsAre("0 create_partition events_p0 0 1000",
                                       "0 create_partition events_p1000 1000 2000"));
}

TEST(PlanDatabase, ExpiredPartitionsGoToTheRecycleSchemaNamedWithTheirPurgeTime) {
  const auto config = Parse(Config("UTC",
                                   "    interval: 1 day\n    premake: 0\n    retention: 30 days\n"
                                   "    archive_to: cold\n    recycle_days: 7\n"));
  const Plan plan =
      PlanFor(config,
              Observed({Range("events_p20240129", "2024-01-29T00:00:00Z", "2024-01-30T00:00:00Z"),
                        Range("events_p20240301", "2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z")}),
              At("2024-03-01T10:30:00Z"), Zone("UTC"));
  EXPECT_THAT(Lines(plan), ElementsAre("1 check_archive ",
                                       "2 hide_partition events_p20240129 "
                                       "bin=events_p20240129__until_20240308_103000",
                                       "3 copy_to_archive events_p20240129",
                                       "4 verify_archive events_p20240129"));
  const core::Step& hide = plan.steps[1];
  EXPECT_EQ(hide.Param("removed_at"), "2024-03-01T10:30:00Z");
  EXPECT_EQ(hide.Param("table"), "public.events");
  EXPECT_EQ(hide.Param("range_start"), "2024-01-29T00:00:00Z");
  EXPECT_EQ(plan.steps[2].Param("archive"), "file:///cold/events/main/main/events_p20240129/");
}

TEST(PlanDatabase, DetachKeepsTheTableWhereItIsAndMarksIt) {
  const auto config =
      Parse(Config("UTC", "    interval: 1 day\n    retention: 30 days\n    on_expire: detach\n"));
  const Plan plan =
      PlanFor(config,
              Observed({Range("events_p20240129", "2024-01-29T00:00:00Z", "2024-01-30T00:00:00Z"),
                        Range("events_p20240301", "2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z")}),
              At("2024-03-01T10:30:00Z"), Zone("UTC"));
  EXPECT_THAT(Lines(plan), ElementsAre("2 hide_partition events_p20240129 bin=events_p20240129"));
  EXPECT_EQ(plan.steps[0].Param("detached"), "1");
}

TEST(PlanDatabase, NoPartitionIsCreatedPastTheStoragesUntilDate) {
  const std::string text =
      "timezone: UTC\n"
      "connections:\n"
      "  app: { url: \"postgres://tm@127.0.0.1/app\" }\n"
      "datasets:\n"
      "  events:\n"
      "    partition_by: created_at\n"
      "    interval: 1 day\n"
      "    premake: 3\n"
      "    lifecycles:\n"
      "      main:\n"
      "        storages:\n"
      "          main: { connection: app, table: public.events, until: 2024-03-03 }\n";
  const Plan plan = PlanFor(Parse(text), Observed({}), At("2024-03-01T10:30:00Z"), Zone("UTC"));
  EXPECT_THAT(
      Lines(plan),
      ElementsAre("0 create_partition events_p20240301 2024-03-01T00:00:00Z 2024-03-02T00:00:00Z",
                  "0 create_partition events_p20240302 2024-03-02T00:00:00Z 2024-03-03T00:00:00Z"));
}

}  // namespace
}  // namespace tidemark::plan
