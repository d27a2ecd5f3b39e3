#include "tidemark/exec/metrics.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace tidemark::exec {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

util::Instant At(const char* text) { return *util::ParseInstant(text); }

core::Partition Day(const std::string& name, const char* start, const char* end) {
  core::Partition p;
  p.name = name;
  p.range = core::TimeRange{At(start), At(end)};
  return p;
}

DatasetOutcome Outcome() {
  DatasetOutcome outcome;
  outcome.dataset = "events";
  core::ObservedStorage storage;
  storage.lifecycle = "main";
  storage.storage = "main";
  storage.partitions = {Day("p1", "2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z"),
                        Day("p2", "2024-03-02T00:00:00Z", "2024-03-03T00:00:00Z"),
                        Day("p3", "2024-03-03T00:00:00Z", "2024-03-04T00:00:00Z")};
  core::Partition fallback;
  fallback.name = "p_default";
  fallback.state = core::PartitionState::kDefault;
  storage.partitions.push_back(fallback);
  outcome.observed.emplace();
  outcome.observed->storages.push_back(storage);
  outcome.ahead_until["main/main"] = At("2024-03-05T00:00:00Z");
  outcome.tally.actions["create_partition"] = {2, 0, 0.25};
  outcome.tally.actions["hide_partition"] = {1, 1, 2.5};
  return outcome;
}

TEST(RenderMetrics, StoragesAndTheLastRunInPrometheusText) {
  const std::string text = RenderMetrics(Outcome(), At("2024-03-02T12:00:00Z"));
  const std::string labels = "{dataset=\"events\",lifecycle=\"main\",storage=\"main\"}";
  EXPECT_THAT(text, HasSubstr("# TYPE tidemark_partitions gauge\n"));
  EXPECT_THAT(text, HasSubstr("tidemark_partitions" + labels + " 3\n"));
  EXPECT_THAT(text, HasSubstr("tidemark_partitions_ahead" + labels + " 1\n"));
  // Planned up to the partition beginning on 5 March: 2.5 days ahead.
  EXPECT_THAT(text, HasSubstr("tidemark_ahead_seconds" + labels + " 216000\n"));
  EXPECT_THAT(text, HasSubstr("tidemark_oldest_partition_age_seconds" + labels + " 129600\n"));
  EXPECT_THAT(text,
              HasSubstr("tidemark_last_run_timestamp_seconds{dataset=\"events\"} 1709380800\n"));
  EXPECT_THAT(text, HasSubstr("tidemark_last_run_success{dataset=\"events\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("tidemark_steps{dataset=\"events\",action=\"create_partition\"} 2\n"));
  EXPECT_THAT(
      text, HasSubstr("tidemark_step_failures{dataset=\"events\",action=\"hide_partition\"} 1\n"));
  EXPECT_THAT(
      text, HasSubstr("tidemark_step_seconds{dataset=\"events\",action=\"hide_partition\"} 2.5\n"));
}

TEST(RenderMetrics, AFailedRunReportsOnlyWhatExistsAhead) {
  DatasetOutcome outcome = Outcome();
  outcome.error = util::Error(util::ErrorCategory::kStep, "boom");
  const std::string text = RenderMetrics(outcome, At("2024-03-02T12:00:00Z"));
  EXPECT_THAT(text, HasSubstr("tidemark_last_run_success{dataset=\"events\"} 0\n"));
  // The last partition that exists begins on 3 March: 12 hours ahead.
  EXPECT_THAT(text, HasSubstr("tidemark_ahead_seconds{dataset=\"events\",lifecycle=\"main\","
                              "storage=\"main\"} 43200\n"));
}

TEST(RenderMetrics, LabelValuesAreEscaped) {
  DatasetOutcome outcome = Outcome();
  outcome.dataset = "odd \"name\"\\";
  EXPECT_THAT(RenderMetrics(outcome, At("2024-03-02T12:00:00Z")),
              HasSubstr("{dataset=\"odd \\\"name\\\"\\\\\"}"));
}

TEST(WriteMetrics, OneFilePerDatasetAndNoTemporariesLeft) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("tm-metrics-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  DatasetOutcome other = Outcome();
  other.dataset = "logs/access";
  ASSERT_TRUE(WriteMetrics((dir / "sub").string(), {Outcome(), other}, At("2024-03-02T12:00:00Z")));
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "sub"))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"tidemark_events.prom", "tidemark_logs_access.prom"}));
  std::ifstream in(dir / "sub" / "tidemark_events.prom");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), RenderMetrics(Outcome(), At("2024-03-02T12:00:00Z")));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tidemark::exec
