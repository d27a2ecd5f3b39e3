// PlanRestore as a specification: which copy of a partition is put back, where, and
// which requests are refused with a message that says what to do.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tidemark/plan/planner.h"

namespace tidemark::plan {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using util::Instant;

constexpr const char* kPath = "/tmp/x/tidemark.yaml";

// One lake dataset with one storage (main/main), archived to file:///cold.
const char kEventsConfig[] =
    "connections:\n"
    "  lake: { url: \"file:///lake\" }\n"
    "  cold: { url: \"file:///cold\" }\n"
    "archives:\n"
    "  cold: { connection: cold }\n"
    "datasets:\n"
    "  events:\n"
    "    storage: { connection: lake, path: events, layout: hive }\n"
    "    partition_by: dt\n"
    "    retention: 30 days\n"
    "    archive_to: cold\n";

// Two lifecycles of one dataset, both on the lake.
const char kOrdersConfig[] =
    "connections:\n"
    "  lake: { url: \"file:///lake\" }\n"
    "  cold: { url: \"file:///cold\" }\n"
    "archives:\n"
    "  cold: { connection: cold }\n"
    "datasets:\n"
    "  orders:\n"
    "    partition_by: dt\n"
    "    retention: 30 days\n"
    "    archive_to: cold\n"
    "    lifecycles:\n"
    "      raw:\n"
    "        order: 1\n"
    "        storages:\n"
    "          landing: { connection: lake, path: raw/orders }\n"
    "      bronze:\n"
    "        order: 2\n"
    "        storages:\n"
    "          cleaned: { connection: lake, path: bronze/orders }\n";

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

core::BinEntry Recycled(const std::string& partition, const std::string& stamp) {
  core::BinEntry entry;
  entry.partition = partition;
  entry.entry = "_tidemark/recycle/" + stamp + "/" + partition;
  entry.removed_at =
      At(stamp.substr(0, 4) + "-" + stamp.substr(4, 2) + "-" + stamp.substr(6, 2) + "T" +
         stamp.substr(9, 2) + ":" + stamp.substr(11, 2) + ":" + stamp.substr(13, 2) + "Z");
  return entry;
}

core::ObservedStorage Storage(const std::string& lifecycle, const std::string& storage,
                              const std::string& location) {
  core::ObservedStorage observed;
  observed.lifecycle = lifecycle;
  observed.storage = storage;
  observed.location = location;
  return observed;
}

core::ObservedDataset EventsObserved() {
  core::ObservedDataset observed;
  observed.dataset = "events";
  observed.storages = {Storage("main", "main", "file:///lake/events")};
  return observed;
}

core::ObservedDataset OrdersObserved() {
  core::ObservedDataset observed;
  observed.dataset = "orders";
  observed.storages = {Storage("raw", "landing", "file:///lake/raw/orders"),
                       Storage("bronze", "cleaned", "file:///lake/bronze/orders")};
  return observed;
}

core::ArchivedPartition ArchiveRecord(const std::string& lifecycle, const std::string& storage,
                                      const std::string& partition, const std::string& location) {
  core::ArchivedPartition archived;
  archived.lifecycle = lifecycle;
  archived.storage = storage;
  archived.partition = partition;
  archived.location = location;
  archived.archived_at = At("2024-03-01T00:00:00Z");
  return archived;
}

struct Request {
  std::string partition = "dt=2024-01-29";
  std::string lifecycle;
  std::string to;
  RestoreSource source = RestoreSource::kAuto;
};

util::Result<Plan> Restore(const config::Config& config, const core::ObservedDataset& observed,
                           const Request& r = {}) {
  const config::Dataset* dataset = config.FindDataset(observed.dataset);
  EXPECT_NE(dataset, nullptr);
  return PlanRestore(
      RestoreRequest{&config, dataset, &observed, r.partition, r.lifecycle, r.to, r.source});
}

// "0 restore_from_bin main/main/dt=2024-01-29/restore_from_bin"
std::vector<std::string> Lines(const Plan& plan) {
  std::vector<std::string> lines;
  for (const core::Step& step : plan.steps) {
    lines.push_back(std::to_string(step.seq) + " " + step.action + " " + step.id);
  }
  return lines;
}

std::string RefusalOf(const util::Result<Plan>& plan) {
  EXPECT_FALSE(plan) << "expected a refusal, got " << (plan ? Lines(*plan).size() : 0) << " steps";
  if (plan) return "";
  EXPECT_EQ(plan.error().category(), util::ErrorCategory::kConfig);
  return plan.error().message();
}

using Params = std::map<std::string, std::string>;

TEST(PlanRestore, PutsThePartitionBackFromTheNewestBinEntry) {
  const config::Config config = Parse(kEventsConfig);
  core::ObservedDataset observed = EventsObserved();
  observed.storages[0].bin = {Recycled("dt=2024-01-29", "20240301T000000Z"),
                              Recycled("dt=2024-01-29", "20240305T000000Z"),
                              Recycled("dt=2024-01-30", "20240306T000000Z")};
  auto plan = Restore(config, observed);
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_THAT(Lines(*plan),
              ElementsAre("0 restore_from_bin main/main/dt=2024-01-29/restore_from_bin"));
  const core::Step& step = plan->steps[0];
  EXPECT_EQ(step.partition, "dt=2024-01-29");
  EXPECT_EQ(step.system, "lake");
  EXPECT_EQ(step.params, (Params{{"bin", "_tidemark/recycle/20240305T000000Z/dt=2024-01-29"},
                                 {"connection", "lake"},
                                 {"dataset", "events"},
                                 {"location", "file:///lake/events"},
                                 {"target", "file:///lake/events"}}));
}

TEST(PlanRestore, ADetachedPartitionIsPutBackFromTheDetachedArea) {
  const config::Config config = Parse(kEventsConfig);
  core::ObservedDataset observed = EventsObserved();
  core::BinEntry detached = Recycled("dt=2024-01-29", "20240301T000000Z");
  detached.detached = true;
  observed.storages[0].bin = {detached};
  auto plan = Restore(config, observed);
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_THAT(Lines(*plan),
              ElementsAre("0 restore_from_bin main/main/dt=2024-01-29/restore_from_bin"));
  EXPECT_EQ(plan->steps[0].params.at("bin"), detached.entry);
}

TEST(PlanRestore, FromArchiveOnRequestEvenWhenTheBinHasIt) {
  const config::Config config = Parse(kEventsConfig);
  core::ObservedDataset observed = EventsObserved();
  observed.storages[0].bin = {Recycled("dt=2024-01-29", "20240301T000000Z")};
  auto plan = Restore(config, observed, {.source = RestoreSource::kArchive});
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_THAT(Lines(*plan),
              ElementsAre("0 restore_from_archive main/main/dt=2024-01-29/restore_from_archive"));
  EXPECT_EQ(plan->steps[0].params,
            (Params{{"archive", "file:///cold/events/main/main/dt=2024-01-29/"},
                    {"connection", "lake"},
                    {"dataset", "events"},
                    {"location", "file:///lake/events"},
                    {"target", "file:///lake/events"}}));
}

TEST(PlanRestore, FromArchiveWhenTheBinIsEmptyUsingTheRecordedLocation) {
  const config::Config config = Parse(kEventsConfig);
  core::ObservedDataset observed = EventsObserved();
  observed.archived = {
      ArchiveRecord("main", "main", "dt=2024-01-29", "file:///old-cold/events/dt=2024-01-29/"),
      ArchiveRecord("main", "main", "dt=2024-01-30", "file:///old-cold/events/dt=2024-01-30/")};
  auto plan = Restore(config, observed);
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_THAT(Lines(*plan),
              ElementsAre("0 restore_from_archive main/main/dt=2024-01-29/restore_from_archive"));
  EXPECT_EQ(plan->steps[0].params.at("archive"), "file:///old-cold/events/dt=2024-01-29/");
  EXPECT_EQ(plan->steps[0].params.count("bin"), 0u);
}

TEST(PlanRestore, FromTheArchiveTemplateWhenNothingIsRecorded) {
  const config::Config config = Parse(kEventsConfig);
  auto plan = Restore(config, EventsObserved());
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_EQ(plan->steps[0].action, core::action::kRestoreFromArchive);
  EXPECT_EQ(plan->steps[0].params.at("archive"), "file:///cold/events/main/main/dt=2024-01-29/");
}

TEST(PlanRestore, ToAnotherLakeLocationCopiesThereFromTheBin) {
  const config::Config config = Parse(kEventsConfig);
  core::ObservedDataset observed = EventsObserved();
  observed.storages[0].bin = {Recycled("dt=2024-01-29", "20240301T000000Z")};
  auto plan = Restore(config, observed, {.to = "file:///scratch/events"});
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_EQ(plan->steps[0].params.at("location"), "file:///lake/events");
  EXPECT_EQ(plan->steps[0].params.at("target"), "file:///scratch/events");
  EXPECT_EQ(plan->steps[0].action, core::action::kRestoreFromBin);
}

TEST(PlanRestore, RefusesAPartitionThatIsLiveInPlace) {
  const config::Config config = Parse(kEventsConfig);
  core::ObservedDataset observed = EventsObserved();
  core::Partition live;
  live.name = "dt=2024-01-29";
  observed.storages[0].partitions = {live};
  observed.storages[0].bin = {Recycled("dt=2024-01-29", "20240301T000000Z")};
  EXPECT_THAT(RefusalOf(Restore(config, observed)),
              HasSubstr("partition dt=2024-01-29 is live in file:///lake/events; nothing to "
                        "restore there (use --to"));
  // Elsewhere it may go.
  EXPECT_TRUE(Restore(config, observed, {.to = "file:///scratch/events"}));
}

TEST(PlanRestore, RefusesADatabaseTargetForLakeData) {
  const config::Config config = Parse(kEventsConfig);
  core::ObservedDataset observed = EventsObserved();
  observed.storages[0].bin = {Recycled("dt=2024-01-29", "20240301T000000Z")};
  const std::string message =
      RefusalOf(Restore(config, observed, {.to = "postgres://db1:5432/app"}));
  EXPECT_THAT(message, HasSubstr("storage family"));
  EXPECT_THAT(message, HasSubstr("file:// or s3://"));
}

TEST(PlanRestore, RefusesWhenThereIsNoCopyAnywhere) {
  config::Config config = Parse(kEventsConfig);
  config.datasets[0].archive_to.clear();
  config.datasets[0].on_expire = config::OnExpire::kDrop;
  EXPECT_THAT(RefusalOf(Restore(config, EventsObserved())),
              HasSubstr("partition dt=2024-01-29 of dataset events has no recycle bin entry and "
                        "no archive"));
}

TEST(PlanRestore, RefusesTheBinAsSourceWhenTheBinHasNoEntry) {
  const config::Config config = Parse(kEventsConfig);
  EXPECT_THAT(RefusalOf(Restore(config, EventsObserved(), {.source = RestoreSource::kBin})),
              HasSubstr("is not in the recycle bin"));
}

TEST(PlanRestore, RefusesWhenNoLifecycleOfSeveralHasACopy) {
  const config::Config config = Parse(kOrdersConfig);
  EXPECT_THAT(RefusalOf(Restore(config, OrdersObserved())),
              HasSubstr("no copy of partition dt=2024-01-29 of dataset orders was found"));
}

TEST(PlanRestore, RefusesToGuessBetweenLifecyclesThatBothHaveACopy) {
  const config::Config config = Parse(kOrdersConfig);
  core::ObservedDataset observed = OrdersObserved();
  observed.storages[0].bin = {Recycled("dt=2024-01-29", "20240301T000000Z")};
  observed.archived = {
      ArchiveRecord("bronze", "cleaned", "dt=2024-01-29", "file:///cold/x/dt=2024-01-29/")};
  EXPECT_THAT(RefusalOf(Restore(config, observed)),
              HasSubstr("has copies in several lifecycles (raw/landing, bronze/cleaned); choose "
                        "one with --lifecycle"));
  auto bronze = Restore(config, observed, {.lifecycle = "bronze"});
  ASSERT_TRUE(bronze) << bronze.error().message();
  EXPECT_THAT(
      Lines(*bronze),
      ElementsAre("0 restore_from_archive bronze/cleaned/dt=2024-01-29/restore_from_archive"));
  EXPECT_EQ(bronze->steps[0].params.at("archive"), "file:///cold/x/dt=2024-01-29/");
  auto raw = Restore(config, observed, {.lifecycle = "raw"});
  ASSERT_TRUE(raw) << raw.error().message();
  EXPECT_THAT(Lines(*raw),
              ElementsAre("0 restore_from_bin raw/landing/dt=2024-01-29/restore_from_bin"));
}

TEST(PlanRestore, RefusesAnUnknownLifecycleListingTheKnownOnes) {
  const config::Config config = Parse(kOrdersConfig);
  EXPECT_THAT(RefusalOf(Restore(config, OrdersObserved(), {.lifecycle = "gold"})),
              HasSubstr("dataset orders has no lifecycle \"gold\" (it has: raw, bronze)"));
}

}  // namespace
}  // namespace tidemark::plan
