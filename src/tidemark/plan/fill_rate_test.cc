#include "tidemark/plan/fill_rate.h"

#include <cmath>
#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tidemark::plan {
namespace {

using ::testing::HasSubstr;

constexpr double kDay = 86400;
constexpr double kWeek = 7 * kDay;

util::Instant At(const std::string& text) { return *util::ParseInstant(text); }

// An insert history: the id reached `seconds` after the table's first row, by
// integrating a rate (ids per second) numerically, one hour at a time.
class History {
 public:
  explicit History(std::function<double(double)> rate) : rate_(std::move(rate)) {}

  int64_t IdAt(double seconds) const {
    double ids = 0;
    const double step = 3600;
    for (double t = 0; t < seconds; t += step) {
      const double dt = std::min(step, seconds - t);
      ids += rate_(t + dt / 2) * dt;
    }
    return static_cast<int64_t>(std::llround(ids));
  }

 private:
  std::function<double(double)> rate_;
};

const util::Instant kStart = At("2024-01-01T00:00:00Z");

// `filled` weekly partitions that filled exactly as `history` says, named for the day
// each began; the active one (begun `filled` weeks after the start) sized far too big,
// and two empty ones after it sized badly, as a layout of long ago would be; now is
// `into_active` seconds into the active partition.
FillInput WeeklyLayout(const History& history, int filled, double into_active) {
  FillInput in;
  in.first_id = 1;
  in.interval = core::Span{7, core::SpanUnit::kDay};
  in.premake = 3;
  const util::TimeZone utc = util::TimeZone::Utc();
  for (int k = 0; k <= filled; ++k) {
    const util::Instant started = kStart + std::chrono::seconds(static_cast<int64_t>(k * kWeek));
    IdPartition p;
    p.name = SequentialName(started, in.interval, utc);
    p.started = StartFromName(p.name, utc);
    p.less_than = k < filled ? history.IdAt((k + 1) * kWeek) + 1 : 0;
    in.partitions.push_back(p);
  }
  const double now = filled * kWeek + into_active;
  in.now = kStart + std::chrono::seconds(static_cast<int64_t>(now));
  in.largest_id = history.IdAt(now);
  const int64_t active_lower = in.partitions[filled - 1].less_than;
  in.partitions[filled].less_than = active_lower + 3 * (in.largest_id - active_lower) + 1000;
  in.partitions.push_back({"p_old_a", in.partitions[filled].less_than + 10, std::nullopt});
  in.partitions.push_back({"p_old_b", in.partitions[filled].less_than + 20, std::nullopt});
  return in;
}

// For every empty partition planned: its lower bound against the id the history
// actually reaches when the partition is predicted to start filling. Returns the worst
// error relative to that id (the measure), and in `of_horizon` the worst
// error relative to the ids used between now and then.
double WorstError(const History& history, const FillInput& in, const FillPlan& plan,
                  double* of_horizon) {
  double worst = 0;
  *of_horizon = 0;
  const int64_t now_id = in.largest_id;
  for (size_t i = 1; i < plan.partitions.size(); ++i) {
    const PlannedPartition& p = plan.partitions[i];
    if (!p.empty) continue;
    const int64_t lower = plan.partitions[i - 1].less_than;
    const double at = static_cast<double>((p.starts - kStart).count());
    const int64_t actual = history.IdAt(at);
    const double error = std::abs(static_cast<double>(lower - actual));
    worst = std::max(worst, error / static_cast<double>(actual));
    if (actual > now_id) {
      *of_horizon = std::max(*of_horizon, error / static_cast<double>(actual - now_id));
    }
  }
  return worst;
}

TEST(PlanFill, AConstantRateIsPredictedExactly) {
  History history([](double) { return 2.0; });  // 172,800 ids a day
  FillInput in = WeeklyLayout(history, 10, 3 * kDay);
  auto plan = PlanFill(in, util::TimeZone::Utc());
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_NEAR(plan->ids_per_second, 2.0, 1e-6);
  EXPECT_FALSE(plan->trend);
  double of_horizon = 0;
  EXPECT_LE(WorstError(history, in, *plan, &of_horizon), 0.05);
  EXPECT_LE(of_horizon, 0.01);
}

TEST(PlanFill, AStepChangeIsFollowedWithinTwoPartitions) {
  // 2 ids a second, then 6 from the start of week 9 on.
  History history([](double t) { return t < 9 * kWeek ? 2.0 : 6.0; });
  FillInput in = WeeklyLayout(history, 11, 3 * kDay);
  auto plan = PlanFill(in, util::TimeZone::Utc());
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_FALSE(plan->trend);
  double of_horizon = 0;
  EXPECT_LE(WorstError(history, in, *plan, &of_horizon), 0.05);
  EXPECT_LE(of_horizon, 0.05);
  EXPECT_NEAR(plan->ids_per_second, 6.0, 0.01);
}

TEST(PlanFill, DayToDayNoiseAveragesOut) {
  // 2 ids a second, each day 25 % more or less than that (a fixed pseudo-random
  // sequence), and a weekend dip: the mean of all samples stays the model.
  History history([](double t) {
    const int64_t day = static_cast<int64_t>(t / kDay);
    const double noise = static_cast<double>((day * 7919) % 101) / 100.0 - 0.5;  // -0.5..0.5
    const double weekend = day % 7 >= 5 ? 0.6 : 1.0;
    return 2.0 * (1.0 + 0.5 * noise) * weekend;
  });
  FillInput in = WeeklyLayout(history, 12, 3 * kDay);
  auto plan = PlanFill(in, util::TimeZone::Utc());
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_FALSE(plan->trend);
  double of_horizon = 0;
  EXPECT_LE(WorstError(history, in, *plan, &of_horizon), 0.05);
  EXPECT_LE(of_horizon, 0.15);
}

TEST(PlanFill, SteadyGrowthIsPredictedByTheTrend) {
  // The rate grows by half of its first value every week.
  History history([](double t) { return 1.0 + 0.5 * t / kWeek; });
  FillInput in = WeeklyLayout(history, 12, 4 * kDay);
  auto plan = PlanFill(in, util::TimeZone::Utc());
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_TRUE(plan->trend);
  double of_horizon = 0;
  EXPECT_LE(WorstError(history, in, *plan, &of_horizon), 0.05);
  EXPECT_LE(of_horizon, 0.05);
}

TEST(PlanFill, PartitionsHoldingRowsAreKeptAsTheyAre) {
  History history([](double) { return 2.0; });
  FillInput in = WeeklyLayout(history, 6, 2 * kDay);
  auto plan = PlanFill(in, util::TimeZone::Utc());
  ASSERT_TRUE(plan) << plan.error().message();
  // Six filled and the active one, unchanged, then the empty ones.
  for (size_t i = 0; i <= 6; ++i) {
    EXPECT_EQ(plan->partitions[i].name, in.partitions[i].name);
    EXPECT_EQ(plan->partitions[i].less_than, in.partitions[i].less_than);
    EXPECT_FALSE(plan->partitions[i].empty);
  }
  // premake 3 empty ones, renamed for the weeks they start, bounds rising.
  ASSERT_EQ(plan->partitions.size(), 10u);
  for (size_t i = 7; i < 10; ++i) {
    EXPECT_TRUE(plan->partitions[i].empty);
    EXPECT_GT(plan->partitions[i].less_than, plan->partitions[i - 1].less_than);
    EXPECT_EQ(plan->partitions[i].name,
              SequentialName(plan->partitions[i].starts, in.interval, util::TimeZone::Utc()));
  }
  // The active partition, begun on 12 February, was sized for three times what it
  // holds after two days: it fills in four more, and the first empty one starts then.
  EXPECT_EQ(plan->partitions[7].name, "p20240218");
  EXPECT_EQ(plan->last_empty_starts, plan->partitions[9].starts);
}

TEST(PlanFill, MoreEmptyPartitionsThanPremakeAreAllKeptAndResized) {
  History history([](double) { return 2.0; });
  FillInput in = WeeklyLayout(history, 6, 2 * kDay);
  in.premake = 1;
  auto plan = PlanFill(in, util::TimeZone::Utc());
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_EQ(plan->partitions.size(), 9u);  // the two existing empty ones, relaid
}

TEST(PlanFill, NoEmptyPartitionLeftIsAnErrorThatSaysWhatToDo) {
  History history([](double) { return 2.0; });
  FillInput in = WeeklyLayout(history, 6, 2 * kDay);
  in.largest_id = in.partitions.back().less_than + 5;  // rows in the MAXVALUE tail
  auto plan = PlanFill(in, util::TimeZone::Utc());
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().message(), HasSubstr("no empty partition is left"));
  EXPECT_THAT(plan.error().message(), HasSubstr("REORGANIZE PARTITION"));
}

TEST(PlanFill, WithoutAnyStartDateThereIsNoRate) {
  FillInput in;
  in.first_id = 1;
  in.largest_id = 500;
  in.now = kStart;
  in.partitions = {{"first", 1000, std::nullopt}, {"second", 2000, std::nullopt}};
  auto plan = PlanFill(in, util::TimeZone::Utc());
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().message(), HasSubstr("no partition holding rows has a known start"));
}

TEST(PlanFill, OnlyTheActivePartitionsOwnStartIsEnough) {
  FillInput in;
  in.first_id = 1;
  in.largest_id = 3 * 86400;  // one id a second for three days
  in.now = kStart + std::chrono::days(3);
  in.interval = core::Span{1, core::SpanUnit::kDay};
  in.premake = 2;
  in.partitions = {{"p20240101", 10'000'000, kStart}};
  auto plan = PlanFill(in, util::TimeZone::Utc());
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_NEAR(plan->ids_per_second, 1.0, 0.001);
  ASSERT_EQ(plan->partitions.size(), 3u);
  // 10,000,000 ids at one a second: the active partition fills on day 115.
  EXPECT_EQ(plan->partitions[1].name, "p20240425");
  EXPECT_NEAR(static_cast<double>(plan->partitions[1].less_than - 10'000'000), 86400, 2);
}

TEST(SequentialName, DaysAndHoursInTheConfiguredZone) {
  auto berlin = util::TimeZone::Load("Europe/Berlin");
  ASSERT_TRUE(berlin);
  const util::Instant t = At("2024-01-04T23:30:00Z");  // 00:30 on the 5th in Berlin
  EXPECT_EQ(SequentialName(t, {7, core::SpanUnit::kDay}, *berlin), "p20240105");
  EXPECT_EQ(SequentialName(t, {1, core::SpanUnit::kHour}, *berlin), "p20240105_00");
  EXPECT_EQ(SequentialName(t, {1, core::SpanUnit::kDay}, util::TimeZone::Utc()), "p20240104");
}

TEST(StartFromName, ReadsOwnNamesAndSeedNames) {
  const util::TimeZone utc = util::TimeZone::Utc();
  EXPECT_EQ(StartFromName("p20240105", utc), At("2024-01-05T00:00:00Z"));
  EXPECT_EQ(StartFromName("p_20201204", utc), At("2020-12-04T00:00:00Z"));
  EXPECT_EQ(StartFromName("p20240105_10", utc), At("2024-01-05T10:00:00Z"));
  EXPECT_FALSE(StartFromName("p2024010", utc));
  EXPECT_FALSE(StartFromName("p20241301", utc));
  EXPECT_FALSE(StartFromName("p20240105_24", utc));
  EXPECT_FALSE(StartFromName("start", utc));
}

}  // namespace
}  // namespace tidemark::plan
