#include "tidemark/core/step.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace tidemark::core {
namespace {

util::Instant At(int64_t seconds) { return util::Instant(std::chrono::seconds(seconds)); }

RunFile Sample() {
  RunFile run;
  run.run_id = "20240202T000000Z-0123abcd";
  run.dataset = "events";
  run.system = "lake";
  run.created_at = At(1706832000);
  run.now = At(1706832000);
  run.config_sha256 = std::string(64, 'a');
  run.notes = {"partition dt=x \"quoted\" left alone"};
  Step step;
  step.seq = 1;
  step.id = "main/main/dt=2024-01-01/hide_partition";
  step.lifecycle = "main";
  step.storage = "main";
  step.system = "lake";
  step.action = action::kHidePartition;
  step.partition = "region=über/dt=2024-01-01";
  step.params = {{"bin", "_tidemark/recycle/x"}, {"odd", "tab\there\nnewline\\back\x01"}};
  step.command = "mv a b";
  step.about = "hide";
  run.steps = {step, step};
  run.steps[1].seq = 2;
  return run;
}

TEST(RunFileJson, RoundTripsEveryFieldIncludingCharactersThatNeedEscaping) {
  RunFile run = Sample();
  std::string text = RunFileToJson(run);
  ASSERT_NO_THROW(nlohmann::json::parse(text)) << text;
  auto back = RunFileFromJson(text, "test");
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->run_id, run.run_id);
  EXPECT_EQ(back->created_at, run.created_at);
  EXPECT_EQ(back->notes, run.notes);
  ASSERT_EQ(back->steps.size(), 2u);
  EXPECT_EQ(back->steps[1].seq, 2);
  EXPECT_EQ(back->steps[0].partition, run.steps[0].partition);
  EXPECT_EQ(back->steps[0].params, run.steps[0].params);
  EXPECT_EQ(back->steps[0].command, "mv a b");
}

TEST(RunFileJson, AnEmptyRunIsValidJson) {
  RunFile run = Sample();
  run.steps.clear();
  run.notes.clear();
  auto back = RunFileFromJson(RunFileToJson(run), "test");
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_TRUE(back->steps.empty());
}

TEST(RunFileJson, RefusesOtherFormatsAndBrokenFilesWithAConfigError) {
  std::string text = RunFileToJson(Sample());
  text.replace(text.find("tidemark-run/1"), 14, "tidemark-run/9");
  auto other = RunFileFromJson(text, "x.json");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().category(), util::ErrorCategory::kConfig);
  EXPECT_NE(other.error().message().find("tidemark-run/9"), std::string::npos);
  EXPECT_FALSE(RunFileFromJson("{", "x.json"));
}

TEST(RunFileName, IsSystemKindDatasetAndTheUtcHour) {
  EXPECT_EQ(RunFileName(Sample()), "lake_archival_events_2024020200_run_file.json");
}

}  // namespace
}  // namespace tidemark::core
