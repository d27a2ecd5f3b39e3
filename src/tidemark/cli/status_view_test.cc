// The partition map of `tidemark status`: what is counted in which state, where the
// gaps are, and how one line looks without colour.

#include "tidemark/cli/status_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tidemark::cli {
namespace {

using core::PartitionState;
using ::testing::ElementsAre;
using util::Instant;

Instant At(std::string_view text) {
  auto parsed = util::ParseTimestamp(text);
  EXPECT_TRUE(parsed && parsed->offset) << text;
  return Instant(parsed->local.time_since_epoch()) - *parsed->offset;
}

core::TimeRange Day(const std::string& date) {
  const Instant start = At(date + "T00:00:00Z");
  return {start, start + std::chrono::days(1)};
}

core::Partition Live(const std::string& date, int64_t bytes = 100) {
  core::Partition partition;
  partition.name = "dt=" + date;
  partition.range = Day(date);
  partition.bytes = bytes;
  partition.files = 1;
  return partition;
}

core::BinEntry Bin(const std::string& date, bool detached = false) {
  core::BinEntry entry;
  entry.partition = "dt=" + date;
  entry.entry = "_tidemark/recycle/20240201T000000Z/dt=" + date;
  entry.range = Day(date);
  entry.detached = detached;
  return entry;
}

core::ArchivedPartition Archived(const std::string& date) {
  core::ArchivedPartition archived;
  archived.lifecycle = "main";
  archived.storage = "main";
  archived.partition = "dt=" + date;
  archived.location = "file:///cold/events/main/main/dt=" + date + "/";
  archived.range = Day(date);
  return archived;
}

config::Dataset Events(bool interval_given = true) {
  config::Dataset dataset;
  dataset.name = "events";
  dataset.interval = {1, core::SpanUnit::kDay};
  dataset.interval_given = interval_given;
  return dataset;
}

core::ObservedDataset Observed(std::vector<core::Partition> partitions,
                               std::vector<core::BinEntry> bin = {},
                               std::vector<core::ArchivedPartition> archived = {}) {
  core::ObservedDataset observed;
  observed.dataset = "events";
  core::ObservedStorage storage;
  storage.lifecycle = "main";
  storage.storage = "main";
  storage.location = "file:///lake/events";
  storage.partitions = std::move(partitions);
  storage.bin = std::move(bin);
  observed.storages = {storage};
  observed.archived = std::move(archived);
  return observed;
}

const Instant kNow = At("2024-01-10T12:00:00Z");

DatasetStatus Build(const core::ObservedDataset& observed,
                    const config::Dataset& dataset = Events()) {
  return BuildStatus(dataset, observed, kNow, util::TimeZone::Utc());
}

TEST(BuildStatus, AMissingDayBetweenLiveDaysIsOneGap) {
  const DatasetStatus status =
      Build(Observed({Live("2024-01-01"), Live("2024-01-02"), Live("2024-01-04")}));
  EXPECT_EQ(status.gaps, 1);
  EXPECT_EQ(status.counts, (std::map<PartitionState, int>{{PartitionState::kLive, 3}}));
  EXPECT_EQ(status.live_bytes, 300);
}

TEST(BuildStatus, RecycledAndArchivedDaysAreNotGaps) {
  const DatasetStatus status = Build(Observed({Live("2024-01-01"), Live("2024-01-04")},
                                              {Bin("2024-01-02")}, {Archived("2024-01-03")}));
  EXPECT_EQ(status.gaps, 0);
  EXPECT_EQ(status.counts, (std::map<PartitionState, int>{{PartitionState::kLive, 2},
                                                          {PartitionState::kRecycled, 1},
                                                          {PartitionState::kArchived, 1}}));
}

TEST(BuildStatus, ConsecutiveMissingDaysAreAGapEach) {
  EXPECT_EQ(Build(Observed({Live("2024-01-01"), Live("2024-01-05")})).gaps, 3);
}

TEST(BuildStatus, AnArchiveOfAPartitionStillInTheBinIsCountedOnce) {
  const DatasetStatus status =
      Build(Observed({Live("2024-01-01")}, {Bin("2024-01-02")}, {Archived("2024-01-02")}));
  EXPECT_EQ(status.counts, (std::map<PartitionState, int>{{PartitionState::kLive, 1},
                                                          {PartitionState::kRecycled, 1}}));
  EXPECT_EQ(status.items.size(), 2u);
}

TEST(BuildStatus, FuturePartitionsAreAheadAndHeldOnesRestored) {
  core::ObservedDataset observed =
      Observed({Live("2024-01-09"), Live("2024-01-10"), Live("2024-01-11"), Live("2023-12-01")});
  observed.holds = {{"main", "main", "dt=2023-12-01", At("2024-02-01T00:00:00Z")}};
  const DatasetStatus status = Build(observed);
  // 2024-01-10 holds now (12:00); only 01-11 starts after it.
  EXPECT_EQ(status.counts, (std::map<PartitionState, int>{{PartitionState::kLive, 2},
                                                          {PartitionState::kAhead, 1},
                                                          {PartitionState::kRestored, 1}}));
  EXPECT_EQ(status.live_bytes, 400);
}

TEST(BuildStatus, DetachedEntriesAreCountedApartFromRecycledOnes) {
  const DatasetStatus status =
      Build(Observed({Live("2024-01-01")}, {Bin("2024-01-02", true), Bin("2024-01-03", false)}));
  EXPECT_EQ(status.counts, (std::map<PartitionState, int>{{PartitionState::kLive, 1},
                                                          {PartitionState::kDetached, 1},
                                                          {PartitionState::kRecycled, 1}}));
  EXPECT_EQ(status.gaps, 0);
}

TEST(BuildStatus, UnparsedPartitionsAreCountedButHoldNoPlaceInTime) {
  core::Partition unparsed;
  unparsed.name = "dt=latest";
  unparsed.state = PartitionState::kUnparsed;
  unparsed.bytes = 999;
  core::ObservedDataset observed = Observed({Live("2024-01-01"), unparsed});
  observed.storages[0].notes = {"partition dt=latest ...; left alone"};
  const DatasetStatus status = Build(observed);
  EXPECT_EQ(status.counts, (std::map<PartitionState, int>{{PartitionState::kLive, 1},
                                                          {PartitionState::kUnparsed, 1}}));
  EXPECT_EQ(status.items.size(), 1u);
  EXPECT_EQ(status.live_bytes, 100);
  EXPECT_THAT(status.notes, ElementsAre("partition dt=latest ...; left alone"));
}

TEST(BuildStatus, WithoutAnIntervalTheWidthIsInferredFromTheLivePartitions) {
  auto hour = [](const std::string& at) {
    core::Partition partition;
    partition.name = "hour=" + at;
    const Instant start = At(at + ":00:00Z");
    partition.range = core::TimeRange{start, start + std::chrono::hours(1)};
    return partition;
  };
  const DatasetStatus status =
      Build(Observed({hour("2024-01-01T00"), hour("2024-01-01T01"), hour("2024-01-01T03")}),
            Events(/*interval_given=*/false));
  EXPECT_EQ(status.gaps, 1);
}

TEST(BuildStatus, AnIntegerIntervalIsNoStepInTimeAndTheWidthIsInferred) {
  config::Dataset dataset = Events();
  dataset.interval = {1000, core::SpanUnit::kNumber};  // strategy: id
  EXPECT_EQ(Build(Observed({Live("2024-01-01"), Live("2024-01-03")}), dataset).gaps, 1);
}

TEST(BuildStatus, NothingLiveMeansNoGaps) {
  EXPECT_EQ(Build(Observed({}, {Bin("2024-01-01"), Bin("2024-01-05")})).gaps, 0);
}

TEST(RenderStatusLine, ShowsOneSymbolPerCellAndTheCounts) {
  const DatasetStatus status = Build(Observed(
      {Live("2024-01-01"), Live("2024-01-02"), Live("2024-01-04"), Live("2024-01-07", 2048)},
      {Bin("2024-01-05")}, {Archived("2024-01-06")}));
  EXPECT_EQ(RenderStatusLine(status, 10, 7, false, util::TimeZone::Utc()),
            "events      2024-01-01 |##.#ra#| 2024-01-07  live 4  recycled 1  archived 1 "
            "(2.3 KiB live)  gaps 1");
}

TEST(RenderStatusLine, ShowsAheadRestoredDetachedAndUnparsed) {
  core::Partition unparsed;
  unparsed.name = "dt=latest";
  unparsed.state = PartitionState::kUnparsed;
  core::ObservedDataset observed =
      Observed({Live("2024-01-08"), Live("2024-01-11"), unparsed}, {Bin("2024-01-09", true)});
  observed.holds = {{"main", "main", "dt=2024-01-08", At("2024-02-01T00:00:00Z")}};
  const DatasetStatus status = Build(observed);
  EXPECT_EQ(RenderStatusLine(status, 6, 4, false, util::TimeZone::Utc()),
            "events  2024-01-08 |Rd.+| 2024-01-11  restored 1  ahead 1  detached 1 (200 B live)  "
            "gaps 1  unparsed 1");
}

TEST(RenderStatusLine, WithoutPartitionsSaysSo) {
  EXPECT_EQ(RenderStatusLine(Build(Observed({})), 8, 10, false, util::TimeZone::Utc()),
            "events    (no partitions)");
}

TEST(RenderStatusLine, ColourWrapsEachSymbolAndIsResetAfterIt) {
  const DatasetStatus status = Build(Observed({Live("2024-01-01")}));
  EXPECT_THAT(RenderStatusLine(status, 6, 1, true, util::TimeZone::Utc()),
              ::testing::HasSubstr("|\033[32m#\033[0m|"));
}

}  // namespace
}  // namespace tidemark::cli
