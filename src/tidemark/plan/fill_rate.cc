#include "tidemark/plan/fill_rate.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <set>

#include "tidemark/util/strings.h"

namespace tidemark::plan {

namespace {

struct Sample {
  double at = 0;    // seconds from now to the middle of the fill (negative: the past)
  double rate = 0;  // ids per second
  double weight = 0;
};

double Seconds(util::Instant a, util::Instant b) { return static_cast<double>((b - a).count()); }

struct Model {
  double rate = 0;    // at now
  double growth = 0;  // per second
};

// The candidate models: a weighted mean of all samples, of the newest three, of the
// newest two, and a weighted straight line through all of them.
enum class Kind { kAll, kLastThree, kLastTwo, kTrend };
constexpr Kind kKinds[] = {Kind::kAll, Kind::kLastThree, Kind::kLastTwo, Kind::kTrend};

// Fits `kind` to samples[first…], weighting them 1, 1/4, 1/9, … from samples[first].
std::optional<Model> Fit(Kind kind, const std::vector<Sample>& samples, size_t first) {
  size_t end = samples.size();
  if (kind == Kind::kLastThree) end = std::min(end, first + 3);
  if (kind == Kind::kLastTwo) end = std::min(end, first + 2);
  if (end <= first) return std::nullopt;
  if (kind == Kind::kTrend && end - first < 4) return std::nullopt;
  double sw = 0, sx = 0, sr = 0;
  for (size_t i = first; i < end; ++i) {
    const double rank = static_cast<double>(i - first + 1);
    const double w = samples[i].weight / (rank * rank);
    sw += w;
    sx += w * samples[i].at;
    sr += w * samples[i].rate;
  }
  Model m;
  m.rate = sr / sw;
  if (kind != Kind::kTrend) return m;
  const double mx = sx / sw;
  double sxx = 0, sxr = 0;
  for (size_t i = first; i < end; ++i) {
    const double rank = static_cast<double>(i - first + 1);
    const double w = samples[i].weight / (rank * rank);
    sxx += w * (samples[i].at - mx) * (samples[i].at - mx);
    sxr += w * (samples[i].at - mx) * (samples[i].rate - m.rate);
  }
  if (sxx <= 0) return std::nullopt;
  m.growth = sxr / sxx;
  m.rate -= m.growth * mx;  // the line at x = 0, now
  return m;
}

// How well `kind`, fitted to the samples older than each of the newest three, predicts
// that sample: the mean relative error, or nullopt when it cannot be tried.
std::optional<double> Backtest(Kind kind, const std::vector<Sample>& samples) {
  double total = 0;
  int tried = 0;
  for (size_t j = 0; j < 3 && j + 1 < samples.size(); ++j) {
    auto m = Fit(kind, samples, j + 1);
    if (!m) continue;
    const double predicted = m->rate + m->growth * samples[j].at;
    total += std::abs(predicted - samples[j].rate) / samples[j].rate;
    ++tried;
  }
  if (tried == 0) return std::nullopt;
  return total / tried;
}

// Ids used between now and `seconds` later under the plan's model; the rate never
// falls below zero.
double IdsWithin(const FillPlan& plan, double seconds) {
  if (seconds <= 0) return 0;
  const double a = plan.ids_per_second, b = plan.growth;
  if (b < 0 && a + b * seconds < 0) {
    const double stop = -a / b;  // when the rate reaches zero
    return a * stop + b * stop * stop / 2;
  }
  return a * seconds + b * seconds * seconds / 2;
}

// Seconds from now until `ids` more ids are used; +inf when never.
double SecondsUntil(const FillPlan& plan, double ids) {
  if (ids <= 0) return 0;
  double high = 1;
  while (IdsWithin(plan, high) < ids) {
    high *= 2;
    if (high > 1e12) return std::numeric_limits<double>::infinity();  // 30,000 years
  }
  double low = 0;
  for (int i = 0; i < 100 && high - low > 0.5; ++i) {
    const double mid = (low + high) / 2;
    (IdsWithin(plan, mid) < ids ? low : high) = mid;
  }
  return high;
}

}  // namespace

std::string SequentialName(util::Instant t, const core::Span& interval,
                           const util::TimeZone& zone) {
  const util::Instant local(zone.ToLocal(t).time_since_epoch());
  return util::FormatCompactUtc(local,
                                interval.unit == core::SpanUnit::kHour ? "p%Y%m%d_%H" : "p%Y%m%d");
}

std::optional<util::Instant> StartFromName(const std::string& name, const util::TimeZone& zone) {
  std::string digits = name;
  if (util::StartsWith(digits, "p_")) {
    digits = digits.substr(2);
  } else if (util::StartsWith(digits, "p")) {
    digits = digits.substr(1);
  } else {
    return std::nullopt;
  }
  int hour = 0;
  if (digits.size() == 11 && digits[8] == '_') {
    if (!std::isdigit(static_cast<unsigned char>(digits[9])) ||
        !std::isdigit(static_cast<unsigned char>(digits[10]))) {
      return std::nullopt;
    }
    hour = (digits[9] - '0') * 10 + (digits[10] - '0');
    digits.resize(8);
  }
  if (digits.size() != 8 || hour > 23) return std::nullopt;
  auto date =
      util::ParseDate(digits.substr(0, 4) + "-" + digits.substr(4, 2) + "-" + digits.substr(6, 2));
  if (!date) return std::nullopt;
  return zone.FromLocal(util::LocalTime(std::chrono::local_days(*date)) + std::chrono::hours(hour));
}

util::Result<FillPlan> PlanFill(const FillInput& in, const util::TimeZone& zone) {
  const std::vector<IdPartition>& parts = in.partitions;
  if (parts.empty()) {
    return util::StepError("the table has no partition below MAXVALUE to predict from");
  }
  // The active partition: the one the largest id is in.
  size_t active = 0;
  while (active < parts.size() && in.largest_id >= parts[active].less_than) ++active;
  if (active == parts.size()) {
    return util::StepError(
        "no empty partition is left: the largest id, " + std::to_string(in.largest_id) +
        ", is in the MAXVALUE partition, and reorganizing a partition that holds rows "
        "copies every row; split it by hand (ALTER TABLE … REORGANIZE PARTITION) at an id "
        "above the largest, then tidemark keeps partitions ahead again");
  }
  auto lower = [&](size_t i) { return i == 0 ? in.first_id : parts[i - 1].less_than; };

  // Rate samples, newest first.
  std::vector<Sample> samples;
  const double interval_seconds = Seconds(in.now, core::AddSpan(in.now, in.interval, 1, zone));
  if (parts[active].started && *parts[active].started < in.now) {
    const double filled = static_cast<double>(in.largest_id + 1 - lower(active));
    const double took = Seconds(*parts[active].started, in.now);
    Sample s;
    s.at = -took / 2;
    s.rate = filled / took;
    // A partition that began to fill moments ago says little yet.
    s.weight = std::min(1.0, took / interval_seconds);
    samples.push_back(s);
  }
  for (size_t i = active; i-- > 0;) {
    if (!parts[i].started || !parts[i + 1].started || *parts[i + 1].started <= *parts[i].started)
      continue;
    const double took = Seconds(*parts[i].started, *parts[i + 1].started);
    Sample s;
    s.at = Seconds(in.now, *parts[i].started) + took / 2;
    s.rate = static_cast<double>(parts[i].less_than - lower(i)) / took;
    s.weight = 1;
    samples.push_back(s);
  }
  if (samples.empty()) {
    return util::StepError(
        "no fill rate can be predicted: no partition holding rows has a known start (name "
        "partitions pYYYYMMDD, or name a column that dates the rows)");
  }
  FillPlan plan;
  plan.samples = static_cast<int>(samples.size());
  // The model that best predicted the newest samples from the older ones; another than
  // the mean of all only when it is clearly better (noise then averages out).
  Kind chosen = Kind::kAll;
  std::optional<double> best = Backtest(Kind::kAll, samples);
  for (Kind kind : kKinds) {
    auto score = Backtest(kind, samples);
    if (score && best && *score < 0.8 * *best) {
      chosen = kind;
      best = score;
    }
  }
  const Model model = *Fit(chosen, samples, 0);
  plan.ids_per_second = model.rate;
  plan.growth = model.growth;
  plan.trend = chosen == Kind::kTrend;
  if (plan.trend && !(plan.ids_per_second > 0)) {
    plan.trend = false;
    plan.growth = 0;
    plan.ids_per_second = Fit(Kind::kAll, samples, 0)->rate;
  }
  if (!(plan.ids_per_second > 0)) {
    return util::StepError("no fill rate can be predicted: the table's ids did not grow");
  }

  // Partitions up to the active one stay as they are.
  std::set<std::string> names;
  for (size_t i = 0; i <= active; ++i) {
    PlannedPartition p;
    p.name = parts[i].name;
    p.less_than = parts[i].less_than;
    if (parts[i].started) p.starts = *parts[i].started;
    plan.partitions.push_back(p);
    names.insert(p.name);
  }
  const int existing_empty = static_cast<int>(parts.size() - active - 1);
  const int wanted = std::max(in.premake, existing_empty);
  const double first_starts_in =
      SecondsUntil(plan, static_cast<double>(parts[active].less_than - (in.largest_id + 1)));
  if (!std::isfinite(first_starts_in)) {
    return util::StepError(
        "no fill rate can be predicted: at the rate predicted, the active "
        "partition " +
        parts[active].name + " never fills");
  }
  const util::Instant first_starts =
      in.now + std::chrono::seconds(static_cast<int64_t>(std::llround(first_starts_in)));
  int64_t previous = parts[active].less_than;
  for (int k = 0; k < wanted; ++k) {
    PlannedPartition p;
    p.empty = true;
    p.starts = core::AddSpan(first_starts, in.interval, k, zone);
    const util::Instant ends = core::AddSpan(first_starts, in.interval, k + 1, zone);
    p.less_than =
        std::max(previous + 1,
                 in.largest_id + 1 +
                     static_cast<int64_t>(std::llround(IdsWithin(plan, Seconds(in.now, ends)))));
    std::string name = SequentialName(p.starts, in.interval, zone);
    for (int n = 1; names.count(name) > 0; ++n) {
      name = SequentialName(p.starts, in.interval, zone) + "_" + std::to_string(n);
    }
    names.insert(name);
    p.name = name;
    previous = p.less_than;
    plan.last_empty_starts = p.starts;
    plan.partitions.push_back(p);
  }
  return plan;
}

int64_t PredictedId(const FillPlan& plan, int64_t largest_id, util::Instant now, util::Instant t) {
  return largest_id + static_cast<int64_t>(std::llround(IdsWithin(plan, Seconds(now, t))));
}

}  // namespace tidemark::plan
