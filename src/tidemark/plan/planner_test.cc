// The planner as a specification: given a configuration, an observed dataset and a
// fixed `now`, the plan is exactly these steps, in this order, with these parameters.

#include "tidemark/plan/planner.h"

#include <initializer_list>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tidemark::plan {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using util::Instant;

constexpr const char* kPath = "/tmp/x/tidemark.yaml";

// A lake dataset on file:///lake/events, archived to file:///cold. `expiry` holds the
// dataset keys that differ between tests (on_expire, archive_to, recycle_days).
std::string EventsConfig(const std::string& expiry) {
  return "timezone: UTC\n"
         "connections:\n"
         "  lake: { url: \"file:///lake\" }\n"
         "  cold: { url: \"file:///cold\" }\n"
         "archives:\n"
         "  cold: { connection: cold, path: \"{dataset}/{lifecycle}/{storage}/{partition}/\" }\n"
         "datasets:\n"
         "  events:\n"
         "    storage: { connection: lake, path: events, layout: hive }\n"
         "    partition_by: dt\n"
         "    interval: 1 day\n"
         "    retention: 30 days\n" +
         expiry;
}

const char kArchiveKeys[] =
    "    on_expire: archive\n"
    "    archive_to: cold\n"
    "    recycle_days: 7\n";

config::Config Parse(const std::string& text) {
  auto config = config::ParseConfig(text, kPath);
  EXPECT_TRUE(config) << config.error().message();
  return config ? *config : config::Config{};
}

Instant At(std::string_view text) {
  auto parsed = util::ParseTimestamp(text);
  EXPECT_TRUE(parsed && parsed->offset) << text;
  return Instant(parsed->local.time_since_epoch()) - *parsed->offset;
}

util::TimeZone Zone(std::string_view name) {
  auto zone = util::TimeZone::Load(name);
  EXPECT_TRUE(zone) << zone.error().message();
  return zone ? *zone : util::TimeZone::Utc();
}

// The civil day `date` (YYYY-MM-DD) in `zone` as a range of instants.
core::TimeRange Day(const std::string& date, const util::TimeZone& zone) {
  auto ymd = util::ParseDate(date);
  EXPECT_TRUE(ymd) << date;
  const std::chrono::local_days start{*ymd};
  return {zone.FromLocal(start), zone.FromLocal(start + std::chrono::days(1))};
}

core::Partition DailyPartition(const std::string& date,
                               const util::TimeZone& zone = util::TimeZone::Utc()) {
  core::Partition partition;
  partition.name = "dt=" + date;
  partition.range = Day(date, zone);
  partition.bytes = 2048;
  partition.files = 2;
  return partition;
}

core::ObservedStorage Storage(const std::string& lifecycle, const std::string& storage,
                              const std::string& location,
                              std::vector<core::Partition> partitions) {
  core::ObservedStorage observed;
  observed.lifecycle = lifecycle;
  observed.storage = storage;
  observed.location = location;
  observed.partitions = std::move(partitions);
  return observed;
}

core::ObservedDataset Observed(std::vector<core::ObservedStorage> storages) {
  core::ObservedDataset observed;
  observed.dataset = "events";
  observed.storages = std::move(storages);
  return observed;
}

core::ObservedDataset EventsObserved(std::vector<core::Partition> partitions) {
  return Observed({Storage("main", "main", "file:///lake/events", std::move(partitions))});
}

Plan PlanFor(const config::Config& config, const core::ObservedDataset& observed, Instant now,
             const util::TimeZone& zone = util::TimeZone::Utc()) {
  const config::Dataset* dataset = config.FindDataset(observed.dataset);
  EXPECT_NE(dataset, nullptr);
  if (dataset == nullptr) return {};
  return PlanDataset(PlanRequest{&config, dataset, &observed, now, &zone});
}

// "1 check_archive main/main/check_archive": one line per step.
std::vector<std::string> Lines(const Plan& plan) {
  std::vector<std::string> lines;
  for (const core::Step& step : plan.steps) {
    lines.push_back(std::to_string(step.seq) + " " + step.action + " " + step.id);
  }
  return lines;
}

// "partition=dt=2024-01-29 bin=_tidemark/…": the step's partition (when asked for) and
// the named params, "-" for an absent one.
std::vector<std::string> Details(const Plan& plan, std::initializer_list<const char*> keys) {
  std::vector<std::string> lines;
  for (const core::Step& step : plan.steps) {
    std::string line;
    for (const char* key : keys) {
      std::string value;
      if (std::string(key) == "partition") {
        value = step.partition;
      } else {
        auto it = step.params.find(key);
        value = it == step.params.end() ? "-" : it->second;
      }
      line += (line.empty() ? "" : " ") + std::string(key) + "=" + value;
    }
    lines.push_back(line);
  }
  return lines;
}

const Instant kNow = At("2024-03-01T00:00:00Z");  // retention 30 days: cutoff 2024-01-31

TEST(PlanDataset, ArchiveChecksHidesCopiesAndVerifiesTheExpiredPartitionsOnly) {
  const config::Config config = Parse(EventsConfig(kArchiveKeys));
  const core::ObservedDataset observed = EventsObserved(
      {DailyPartition("2024-01-31"), DailyPartition("2024-01-29"), DailyPartition("2024-01-30")});
  const Plan plan = PlanFor(config, observed, kNow);
  EXPECT_THAT(Lines(plan), ElementsAre("1 check_archive main/main/check_archive",
                                       "2 hide_partition main/main/dt=2024-01-29/hide_partition",
                                       "2 hide_partition main/main/dt=2024-01-30/hide_partition",
                                       "3 copy_to_archive main/main/dt=2024-01-29/copy_to_archive",
                                       "3 copy_to_archive main/main/dt=2024-01-30/copy_to_archive",
                                       "4 verify_archive main/main/dt=2024-01-29/verify_archive",
                                       "4 verify_archive main/main/dt=2024-01-30/verify_archive"));
  EXPECT_THAT(
      Details(plan, {"partition", "bin", "archive"}),
      ElementsAre("partition= bin=- archive=file:///cold/events/main/main/",
                  "partition=dt=2024-01-29 bin=_tidemark/recycle/20240301T000000Z/dt=2024-01-29 "
                  "archive=-",
                  "partition=dt=2024-01-30 bin=_tidemark/recycle/20240301T000000Z/dt=2024-01-30 "
                  "archive=-",
                  "partition=dt=2024-01-29 bin=_tidemark/recycle/20240301T000000Z/dt=2024-01-29 "
                  "archive=file:///cold/events/main/main/dt=2024-01-29/",
                  "partition=dt=2024-01-30 bin=_tidemark/recycle/20240301T000000Z/dt=2024-01-30 "
                  "archive=file:///cold/events/main/main/dt=2024-01-30/",
                  "partition=dt=2024-01-29 bin=_tidemark/recycle/20240301T000000Z/dt=2024-01-29 "
                  "archive=file:///cold/events/main/main/dt=2024-01-29/",
                  "partition=dt=2024-01-30 bin=_tidemark/recycle/20240301T000000Z/dt=2024-01-30 "
                  "archive=file:///cold/events/main/main/dt=2024-01-30/"));
  EXPECT_THAT(plan.notes, IsEmpty());
}

// The backends execute these params; lake_backend_test.cc builds the same steps.
TEST(PlanDataset, EveryStepCarriesExactlyTheParamsItsBackendNeeds) {
  const config::Config config =
      Parse(EventsConfig("    on_expire: archive\n    archive_to: cold\n    recycle_days: 0\n"));
  const Plan plan = PlanFor(config, EventsObserved({DailyPartition("2024-01-29")}), kNow);
  ASSERT_EQ(plan.steps.size(), 5u);
  for (const core::Step& step : plan.steps) {
    EXPECT_EQ(step.lifecycle, "main") << step.id;
    EXPECT_EQ(step.storage, "main") << step.id;
    EXPECT_EQ(step.system, "lake") << step.id;
    EXPECT_FALSE(step.about.empty()) << step.id;
  }
  using Params = std::map<std::string, std::string>;
  const Params common = {
      {"connection", "lake"}, {"dataset", "events"}, {"location", "file:///lake/events"}};
  Params check = common;
  check["archive"] = "file:///cold/events/main/main/";
  EXPECT_EQ(plan.steps[0].params, check);
  Params hide = common;
  hide.insert({{"bin", "_tidemark/recycle/20240301T000000Z/dt=2024-01-29"},
               {"bytes", "2048"},
               {"files", "2"},
               {"range_start", "2024-01-29T00:00:00Z"},
               {"range_end", "2024-01-30T00:00:00Z"}});
  EXPECT_EQ(plan.steps[1].params, hide);
  Params archived = hide;
  archived["archive"] = "file:///cold/events/main/main/dt=2024-01-29/";
  EXPECT_EQ(plan.steps[2].params, archived);  // copy
  EXPECT_EQ(plan.steps[3].params, archived);  // verify
  EXPECT_EQ(plan.steps[4].params, archived);  // purge
}

// The state store's record that `entry` was archived and verified.
core::ArchivedPartition VerifiedFrom(const core::BinEntry& entry) {
  core::ArchivedPartition archived{"main", "main", entry.partition, "file:///cold/x/"};
  archived.source_entry = entry.entry;
  return archived;
}

TEST(PlanDataset, ABinPurgeCarriesTheEntryAndTheArchiveToCheck) {
  const config::Config config = Parse(EventsConfig(kArchiveKeys));
  core::ObservedDataset observed = EventsObserved({});
  core::BinEntry entry;
  entry.partition = "dt=2024-01-10";
  entry.entry = "_tidemark/recycle/20240201T000000Z/dt=2024-01-10";
  entry.removed_at = At("2024-02-01T00:00:00Z");
  entry.bytes = 10;
  entry.files = 1;
  observed.storages[0].bin = {entry};
  observed.archived = {VerifiedFrom(entry)};
  const Plan plan = PlanFor(config, observed, kNow);
  ASSERT_EQ(plan.steps.size(), 1u);
  EXPECT_EQ(plan.steps[0].partition, "dt=2024-01-10");
  EXPECT_EQ(plan.steps[0].params, (std::map<std::string, std::string>{
                                      {"archive", "file:///cold/events/main/main/dt=2024-01-10/"},
                                      {"bin", "_tidemark/recycle/20240201T000000Z/dt=2024-01-10"},
                                      {"bytes", "10"},
                                      {"connection", "lake"},
                                      {"dataset", "events"},
                                      {"files", "1"},
                                      {"location", "file:///lake/events"}}));
}

TEST(PlanDataset, APartitionEndingAtTheCutoffExpiresOneEndingASecondLaterDoesNot) {
  const config::Config config = Parse(EventsConfig(kArchiveKeys));
  const core::ObservedDataset observed = EventsObserved({DailyPartition("2024-01-30")});
  // dt=2024-01-30 ends at 2024-01-31T00:00:00Z, the cutoff of kNow.
  EXPECT_EQ(ExpiryCutoff(*config.FindDataset("events"), kNow, util::TimeZone::Utc()),
            At("2024-01-31T00:00:00Z"));
  EXPECT_THAT(Lines(PlanFor(config, observed, kNow)),
              ElementsAre("1 check_archive main/main/check_archive",
                          "2 hide_partition main/main/dt=2024-01-30/hide_partition",
                          "3 copy_to_archive main/main/dt=2024-01-30/copy_to_archive",
                          "4 verify_archive main/main/dt=2024-01-30/verify_archive"));
  // A second earlier, the partition ends a second after the cutoff.
  EXPECT_THAT(Lines(PlanFor(config, observed, kNow - std::chrono::seconds(1))), IsEmpty());
}

TEST(PlanDataset, DropHidesWithoutCopyingAndKeepsTheBinCopy) {
  const config::Config config = Parse(EventsConfig("    on_expire: drop\n    recycle_days: 7\n"));
  const Plan plan = PlanFor(
      config, EventsObserved({DailyPartition("2024-01-29"), DailyPartition("2024-02-15")}), kNow);
  EXPECT_THAT(Lines(plan), ElementsAre("2 hide_partition main/main/dt=2024-01-29/hide_partition"));
  EXPECT_THAT(Details(plan, {"bin", "archive"}),
              ElementsAre("bin=_tidemark/recycle/20240301T000000Z/dt=2024-01-29 archive=-"));
}

TEST(PlanDataset, DropWithRecycleDaysZeroPurgesTheBinCopyInTheSameRun) {
  const config::Config config = Parse(EventsConfig("    on_expire: drop\n    recycle_days: 0\n"));
  const Plan plan = PlanFor(config, EventsObserved({DailyPartition("2024-01-29")}), kNow);
  EXPECT_THAT(Lines(plan), ElementsAre("2 hide_partition main/main/dt=2024-01-29/hide_partition",
                                       "5 purge_recycled main/main/dt=2024-01-29/purge_recycled"));
  EXPECT_THAT(Details(plan, {"partition", "bin", "archive"}),
              ElementsAre("partition=dt=2024-01-29 "
                          "bin=_tidemark/recycle/20240301T000000Z/dt=2024-01-29 archive=-",
                          "partition=dt=2024-01-29 "
                          "bin=_tidemark/recycle/20240301T000000Z/dt=2024-01-29 archive=-"));
}

TEST(PlanDataset, ArchiveWithRecycleDaysZeroPurgesAfterVerifyNamingTheArchive) {
  const config::Config config =
      Parse(EventsConfig("    on_expire: archive\n    archive_to: cold\n    recycle_days: 0\n"));
  const Plan plan = PlanFor(config, EventsObserved({DailyPartition("2024-01-29")}), kNow);
  EXPECT_THAT(Lines(plan), ElementsAre("1 check_archive main/main/check_archive",
                                       "2 hide_partition main/main/dt=2024-01-29/hide_partition",
                                       "3 copy_to_archive main/main/dt=2024-01-29/copy_to_archive",
                                       "4 verify_archive main/main/dt=2024-01-29/verify_archive",
                                       "5 purge_recycled main/main/dt=2024-01-29/purge_recycled"));
  EXPECT_EQ(plan.steps.back().params.at("archive"), "file:///cold/events/main/main/dt=2024-01-29/");
}

TEST(PlanDataset, DetachHidesIntoTheDetachedAreaAndNeverPurges) {
  const config::Config config = Parse(EventsConfig("    on_expire: detach\n    recycle_days: 0\n"));
  core::ObservedDataset observed = EventsObserved({DailyPartition("2024-01-29")});
  core::BinEntry old_detached;
  old_detached.partition = "dt=2023-01-01";
  old_detached.entry = "_tidemark/detached/20230201T000000Z/dt=2023-01-01";
  old_detached.removed_at = At("2023-02-01T00:00:00Z");
  old_detached.detached = true;
  observed.storages[0].bin.push_back(old_detached);
  const Plan plan = PlanFor(config, observed, kNow);
  EXPECT_THAT(Lines(plan), ElementsAre("2 hide_partition main/main/dt=2024-01-29/hide_partition"));
  EXPECT_THAT(Details(plan, {"bin"}),
              ElementsAre("bin=_tidemark/detached/20240301T000000Z/dt=2024-01-29"));
}

TEST(PlanDataset, KeepPlansNothingAndSaysWhy) {
  const config::Config config = Parse(EventsConfig("    on_expire: keep\n"));
  const Plan plan =
      PlanFor(config,
              EventsObserved({DailyPartition("2024-01-29"), DailyPartition("2024-01-30"),
                              DailyPartition("2024-02-20")}),
              kNow);
  EXPECT_THAT(plan.steps, IsEmpty());
  EXPECT_THAT(plan.notes, ElementsAre("2 partition(s) of main/main are past retention and kept "
                                      "(on_expire: keep)"));
}

core::BinEntry Recycled(const std::string& partition, const std::string& stamp,
                        const std::string& removed_at) {
  core::BinEntry entry;
  entry.partition = partition;
  entry.entry = "_tidemark/recycle/" + stamp + "/" + partition;
  entry.removed_at = At(removed_at);
  entry.bytes = 10;
  entry.files = 1;
  return entry;
}

TEST(PlanDataset, BinEntriesArePurgedOnceRecycleDaysHavePassedWithTheArchiveToCheck) {
  const config::Config config = Parse(EventsConfig(kArchiveKeys));  // recycle_days: 7
  core::ObservedDataset observed = EventsObserved({DailyPartition("2024-02-20")});
  observed.storages[0].bin = {
      Recycled("dt=2024-01-10", "20240223T000000Z", "2024-02-23T00:00:00Z"),  // exactly 7 days
      Recycled("dt=2024-01-11", "20240223T000001Z", "2024-02-23T00:00:01Z"),  // a second short
      Recycled("dt=2024-01-01", "20240201T000000Z", "2024-02-01T00:00:00Z"),  // long ago
  };
  for (const core::BinEntry& entry : observed.storages[0].bin)
    observed.archived.push_back(VerifiedFrom(entry));
  const Plan plan = PlanFor(config, observed, kNow);
  EXPECT_THAT(
      Lines(plan),
      ElementsAre("5 purge_recycled main/main/_tidemark/recycle/20240223T000000Z/dt=2024-01-10/"
                  "purge_recycled",
                  "5 purge_recycled main/main/_tidemark/recycle/20240201T000000Z/dt=2024-01-01/"
                  "purge_recycled"));
  EXPECT_THAT(Details(plan, {"partition", "bin", "archive"}),
              ElementsAre("partition=dt=2024-01-10 "
                          "bin=_tidemark/recycle/20240223T000000Z/dt=2024-01-10 "
                          "archive=file:///cold/events/main/main/dt=2024-01-10/",
                          "partition=dt=2024-01-01 "
                          "bin=_tidemark/recycle/20240201T000000Z/dt=2024-01-01 "
                          "archive=file:///cold/events/main/main/dt=2024-01-01/"));
}

TEST(PlanDataset, BinPurgesOfADroppingDatasetNameNoArchive) {
  const config::Config config = Parse(EventsConfig("    on_expire: drop\n    recycle_days: 7\n"));
  core::ObservedDataset observed = EventsObserved({});
  observed.storages[0].bin = {
      Recycled("dt=2024-01-01", "20240201T000000Z", "2024-02-01T00:00:00Z")};
  const Plan plan = PlanFor(config, observed, kNow);
  EXPECT_THAT(Details(plan, {"bin", "archive"}),
              ElementsAre("bin=_tidemark/recycle/20240201T000000Z/dt=2024-01-01 archive=-"));
}

TEST(PlanDataset, AHeldPartitionIsNotExpiredUntilItsHoldEnds) {
  const config::Config config = Parse(EventsConfig(kArchiveKeys));
  core::ObservedDataset observed =
      EventsObserved({DailyPartition("2024-01-28"), DailyPartition("2024-01-29")});
  observed.holds = {{"main", "main", "dt=2024-01-29", At("2024-03-08T00:00:00Z")},
                    {"main", "main", "dt=2024-01-28", kNow}};  // ends now: no longer held
  const Plan plan = PlanFor(config, observed, kNow);
  EXPECT_THAT(Lines(plan), ElementsAre("1 check_archive main/main/check_archive",
                                       "2 hide_partition main/main/dt=2024-01-28/hide_partition",
                                       "3 copy_to_archive main/main/dt=2024-01-28/copy_to_archive",
                                       "4 verify_archive main/main/dt=2024-01-28/verify_archive"));
  EXPECT_THAT(plan.notes,
              ElementsAre("partition dt=2024-01-29 is past retention but held after a restore"));
}

TEST(PlanDataset, AHoldOnAnotherStorageDoesNotProtectThePartition) {
  const config::Config config = Parse(EventsConfig("    on_expire: drop\n"));
  core::ObservedDataset observed = EventsObserved({DailyPartition("2024-01-29")});
  observed.holds = {{"main", "other", "dt=2024-01-29", At("2024-03-08T00:00:00Z")}};
  EXPECT_THAT(Lines(PlanFor(config, observed, kNow)),
              ElementsAre("2 hide_partition main/main/dt=2024-01-29/hide_partition"));
}

TEST(PlanDataset, UnparsedPartitionsAreLeftAloneAndTheObserversNoteIsPassedOn) {
  const config::Config config = Parse(EventsConfig(kArchiveKeys));
  core::Partition unparsed;
  unparsed.name = "dt=yesterday";
  unparsed.state = core::PartitionState::kUnparsed;
  unparsed.problem = "value \"yesterday\" of dt is not a date";
  core::ObservedDataset observed = EventsObserved({unparsed});
  observed.storages[0].notes = {
      "partition dt=yesterday value \"yesterday\" of dt is not a date; "
      "left alone"};
  const Plan plan = PlanFor(config, observed, kNow);
  EXPECT_THAT(plan.steps, IsEmpty());
  EXPECT_THAT(plan.notes, ElementsAre("partition dt=yesterday value \"yesterday\" of dt is not a "
                                      "date; left alone"));
}

TEST(PlanDataset, AnAbsentStoragePlansNothingButKeepsItsNote) {
  const config::Config config = Parse(EventsConfig(kArchiveKeys));
  core::ObservedDataset observed = EventsObserved({});
  observed.storages[0].exists = false;
  observed.storages[0].notes = {"file:///lake/events holds no files yet"};
  const Plan plan = PlanFor(config, observed, kNow);
  EXPECT_THAT(plan.steps, IsEmpty());
  EXPECT_THAT(plan.notes, ElementsAre("file:///lake/events holds no files yet"));
}

TEST(PlanDataset, NothingExpiredGivesAnEmptyPlan) {
  const config::Config config = Parse(EventsConfig(kArchiveKeys));
  const Plan plan = PlanFor(
      config, EventsObserved({DailyPartition("2024-02-01"), DailyPartition("2024-02-29")}), kNow);
  EXPECT_THAT(plan.steps, IsEmpty());
  EXPECT_THAT(plan.notes, IsEmpty());
}

TEST(PlanDataset, WithoutRetentionNothingExpires) {
  config::Config config = Parse(EventsConfig("    on_expire: drop\n"));
  config.datasets[0].retention.reset();
  EXPECT_THAT(PlanFor(config, EventsObserved({DailyPartition("2000-01-01")}), kNow).steps,
              IsEmpty());
}

// Full form: silver (order 2) is written first, raw (order 1) last; the order, not the
// position in the file, decides the seq.
const char kOrdersConfig[] =
    "timezone: UTC\n"
    "connections:\n"
    "  lake: { url: \"file:///lake\" }\n"
    "  cold: { url: \"file:///cold\" }\n"
    "archives:\n"
    "  cold: { connection: cold }\n"
    "datasets:\n"
    "  orders:\n"
    "    partition_by: dt\n"
    "    archive_before: 30 days\n"
    "    on_expire: archive\n"
    "    archive_to: cold\n"
    "    recycle_days: 0\n"
    "    lifecycles:\n"
    "      silver:\n"
    "        order: 2\n"
    "        storages:\n"
    "          curated: { connection: lake, path: silver/orders, layout: hive }\n"
    "      bronze:\n"
    "        order: 2\n"
    "        storages:\n"
    "          cleaned: { connection: lake, path: bronze/orders, layout: hive }\n"
    "      raw:\n"
    "        order: 1\n"
    "        storages:\n"
    "          landing: { connection: lake, path: raw/orders, layout: hive }\n";

TEST(PlanDataset, LowerOrdersComeFirstAndEqualOrdersShareSeqNumbers) {
  const config::Config config = Parse(kOrdersConfig);
  core::ObservedDataset observed = Observed({
      Storage("raw", "landing", "file:///lake/raw/orders", {DailyPartition("2024-01-29")}),
      Storage("bronze", "cleaned", "file:///lake/bronze/orders", {DailyPartition("2024-01-29")}),
      Storage("silver", "curated", "file:///lake/silver/orders", {DailyPartition("2024-01-29")}),
  });
  observed.dataset = "orders";
  const Plan plan = PlanFor(config, observed, kNow);
  EXPECT_THAT(Lines(plan),
              ElementsAre("1 check_archive raw/landing/check_archive",
                          "2 hide_partition raw/landing/dt=2024-01-29/hide_partition",
                          "3 copy_to_archive raw/landing/dt=2024-01-29/copy_to_archive",
                          "4 verify_archive raw/landing/dt=2024-01-29/verify_archive",
                          "5 purge_recycled raw/landing/dt=2024-01-29/purge_recycled",
                          "7 check_archive silver/curated/check_archive",
                          "7 check_archive bronze/cleaned/check_archive",
                          "8 hide_partition silver/curated/dt=2024-01-29/hide_partition",
                          "8 hide_partition bronze/cleaned/dt=2024-01-29/hide_partition",
                          "9 copy_to_archive silver/curated/dt=2024-01-29/copy_to_archive",
                          "9 copy_to_archive bronze/cleaned/dt=2024-01-29/copy_to_archive",
                          "10 verify_archive silver/curated/dt=2024-01-29/verify_archive",
                          "10 verify_archive bronze/cleaned/dt=2024-01-29/verify_archive",
                          "11 purge_recycled silver/curated/dt=2024-01-29/purge_recycled",
                          "11 purge_recycled bronze/cleaned/dt=2024-01-29/purge_recycled"));
  EXPECT_THAT(
      Details(plan, {"location", "archive"}),
      ElementsAre("location=file:///lake/raw/orders archive=file:///cold/orders/raw/landing/",
                  "location=file:///lake/raw/orders archive=-",
                  "location=file:///lake/raw/orders "
                  "archive=file:///cold/orders/raw/landing/dt=2024-01-29/",
                  "location=file:///lake/raw/orders "
                  "archive=file:///cold/orders/raw/landing/dt=2024-01-29/",
                  "location=file:///lake/raw/orders "
                  "archive=file:///cold/orders/raw/landing/dt=2024-01-29/",
                  "location=file:///lake/silver/orders "
                  "archive=file:///cold/orders/silver/curated/",
                  "location=file:///lake/bronze/orders "
                  "archive=file:///cold/orders/bronze/cleaned/",
                  "location=file:///lake/silver/orders archive=-",
                  "location=file:///lake/bronze/orders archive=-",
                  "location=file:///lake/silver/orders "
                  "archive=file:///cold/orders/silver/curated/dt=2024-01-29/",
                  "location=file:///lake/bronze/orders "
                  "archive=file:///cold/orders/bronze/cleaned/dt=2024-01-29/",
                  "location=file:///lake/silver/orders "
                  "archive=file:///cold/orders/silver/curated/dt=2024-01-29/",
                  "location=file:///lake/bronze/orders "
                  "archive=file:///cold/orders/bronze/cleaned/dt=2024-01-29/",
                  "location=file:///lake/silver/orders "
                  "archive=file:///cold/orders/silver/curated/dt=2024-01-29/",
                  "location=file:///lake/bronze/orders "
                  "archive=file:///cold/orders/bronze/cleaned/dt=2024-01-29/"));
}

TEST(PlanDataset, OrderGroupsAreNumberedDenselyWhateverTheOrderValues) {
  config::Config config = Parse(kOrdersConfig);
  for (config::Lifecycle& lifecycle : config.datasets[0].lifecycles) {
    lifecycle.order = lifecycle.name == "raw" ? 10 : 20;
  }
  core::ObservedDataset observed = Observed({
      Storage("raw", "landing", "file:///lake/raw/orders", {}),
      Storage("bronze", "cleaned", "file:///lake/bronze/orders", {DailyPartition("2024-01-29")}),
  });
  observed.dataset = "orders";
  EXPECT_THAT(Lines(PlanFor(config, observed, kNow)),
              ElementsAre("7 check_archive bronze/cleaned/check_archive",
                          "8 hide_partition bronze/cleaned/dt=2024-01-29/hide_partition",
                          "9 copy_to_archive bronze/cleaned/dt=2024-01-29/copy_to_archive",
                          "10 verify_archive bronze/cleaned/dt=2024-01-29/verify_archive",
                          "11 purge_recycled bronze/cleaned/dt=2024-01-29/purge_recycled"));
}

// Europe/Berlin moved to summer time on 2024-03-31: that day is 23 hours long.
TEST(PlanDataset, RetentionInDaysCountsCivilDaysAcrossADstChange) {
  const util::TimeZone berlin = Zone("Europe/Berlin");
  config::Config config = Parse(EventsConfig("    on_expire: drop\n"));
  config.timezone = "Europe/Berlin";
  config.datasets[0].retention = core::Span{1, core::SpanUnit::kDay};
  const core::ObservedDataset observed =
      EventsObserved({DailyPartition("2024-03-30", berlin), DailyPartition("2024-03-31", berlin),
                      DailyPartition("2024-04-01", berlin)});
  // Local midnight of 2024-04-01; one civil day earlier is local midnight of 03-31
  // (2024-03-30T23:00Z), 23 hours before now rather than 24.
  const Instant now = At("2024-03-31T22:00:00Z");
  EXPECT_EQ(ExpiryCutoff(config.datasets[0], now, berlin), At("2024-03-30T23:00:00Z"));
  const Plan plan = PlanFor(config, observed, now, berlin);
  EXPECT_THAT(Lines(plan), ElementsAre("2 hide_partition main/main/dt=2024-03-30/hide_partition"));
  EXPECT_THAT(Details(plan, {"bin", "range_start", "range_end"}),
              ElementsAre("bin=_tidemark/recycle/20240331T220000Z/dt=2024-03-30 "
                          "range_start=2024-03-29T23:00:00Z range_end=2024-03-30T23:00:00Z"));
  // A second earlier the cutoff is 22:59:59Z and dt=2024-03-30 has not expired yet;
  // counting a day as 24 hours would have kept it until 2024-03-31T23:00Z.
  EXPECT_THAT(Lines(PlanFor(config, observed, now - std::chrono::seconds(1), berlin)), IsEmpty());
  // dt=2024-03-31 ends at local midnight of 04-01 and expires a civil day later.
  EXPECT_THAT(Lines(PlanFor(config, observed, At("2024-04-01T22:00:00Z"), berlin)),
              ElementsAre("2 hide_partition main/main/dt=2024-03-30/hide_partition",
                          "2 hide_partition main/main/dt=2024-03-31/hide_partition"));
}

}  // namespace
}  // namespace tidemark::plan

namespace tidemark::plan {
namespace {

TEST(PlanDataset, ABinEntryWithoutAVerifiedArchiveIsArchivedBeforeItCanBePurged) {
  // A run hid dt=2024-01-01 and stopped; its run file was never applied again.
  const config::Config config = Parse(EventsConfig(kArchiveKeys));
  core::ObservedDataset observed = EventsObserved({});
  observed.storages[0].bin = {
      Recycled("dt=2024-01-01", "20240201T000000Z", "2024-02-01T00:00:00Z")};
  core::ArchivedPartition other = VerifiedFrom(observed.storages[0].bin[0]);
  other.source_entry = "_tidemark/recycle/20230101T000000Z/dt=2024-01-01";  // an older removal
  observed.archived = {other};
  EXPECT_THAT(
      Lines(PlanFor(config, observed, kNow)),
      ElementsAre("1 check_archive main/main/check_archive",
                  "3 copy_to_archive main/main/_tidemark/recycle/20240201T000000Z/dt=2024-01-01/"
                  "copy_to_archive",
                  "4 verify_archive main/main/_tidemark/recycle/20240201T000000Z/dt=2024-01-01/"
                  "verify_archive",
                  "5 purge_recycled main/main/_tidemark/recycle/20240201T000000Z/dt=2024-01-01/"
                  "purge_recycled"));
}

TEST(PlanDataset, DroppingDatasetsNeverArchiveTheirBin) {
  const config::Config config = Parse(EventsConfig("    on_expire: drop\n    recycle_days: 7\n"));
  core::ObservedDataset observed = EventsObserved({});
  observed.storages[0].bin = {
      Recycled("dt=2024-01-01", "20240224T000000Z", "2024-02-24T00:00:00Z")};
  EXPECT_THAT(PlanFor(config, observed, kNow).steps, IsEmpty());
}

}  // namespace
}  // namespace tidemark::plan

namespace tidemark::plan {
namespace {

// A Delta table keeps removed files readable for time travel: with recycle_days 0 the
// files are not deleted in the run that removes them, and a bin entry waits for the
// longer of recycle_days and the table's retention.
TEST(PlanDelta, RemovedFilesAreDeletedOnlyAfterTheTablesRetention) {
  const config::Config config = Parse(EventsConfig("    on_expire: drop\n    recycle_days: 0\n"));
  core::ObservedDataset observed = EventsObserved({DailyPartition("2024-01-29")});
  observed.storages[0].layout = "delta";
  observed.storages[0].keep_removed_seconds = 7 * 86400;
  observed.storages[0].bin = {
      Recycled("dt=2024-01-10", "20240223T000000Z", "2024-02-23T00:00:00Z"),  // exactly 7 days
      Recycled("dt=2024-01-11", "20240223T000001Z", "2024-02-23T00:00:01Z"),  // a second short
  };
  const Plan plan = PlanFor(config, observed, kNow);
  EXPECT_THAT(
      Lines(plan),
      ElementsAre("2 hide_partition main/main/dt=2024-01-29/hide_partition",
                  "5 purge_recycled main/main/_tidemark/recycle/20240223T000000Z/dt=2024-01-10/"
                  "purge_recycled"));
  EXPECT_THAT(Details(plan, {"layout", "bin"}),
              ElementsAre("layout=delta bin=_tidemark/recycle/20240301T000000Z/dt=2024-01-29",
                          "layout=delta bin=_tidemark/recycle/20240223T000000Z/dt=2024-01-10"));
  EXPECT_THAT(plan.steps[1].about, ::testing::HasSubstr("the table keeps removed files 7 days"));
}

}  // namespace
}  // namespace tidemark::plan
