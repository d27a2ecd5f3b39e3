#include "tidemark/backend/lake/hive_layout.h"

#include <cctype>

#include <algorithm>
#include <charconv>

#include "tidemark/util/strings.h"

namespace tidemark::backend::lake {

namespace {

using std::chrono::days;
using std::chrono::local_days;
using std::chrono::year_month_day;

struct Value {
  util::LocalTime local{};
  std::optional<std::chrono::seconds> offset;
  core::Span precision{1, core::SpanUnit::kDay};
};

bool IsDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int ToInt(std::string_view text) {
  int value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::optional<Value> Civil(int year, int month, int day, int hour, core::SpanUnit unit) {
  year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                      std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok() || hour < 0 || hour > 23) return std::nullopt;
  return Value{local_days(date) + std::chrono::hours(hour), std::nullopt, {1, unit}};
}

// yyyy, yyyymm, yyyymmdd, yyyymmddhh.
std::optional<Value> FromInteger(std::string_view v) {
  switch (v.size()) {
    case 4: return Civil(ToInt(v), 1, 1, 0, core::SpanUnit::kYear);
    case 6:
      return Civil(ToInt(v.substr(0, 4)), ToInt(v.substr(4, 2)), 1, 0, core::SpanUnit::kMonth);
    case 8:
      return Civil(ToInt(v.substr(0, 4)), ToInt(v.substr(4, 2)), ToInt(v.substr(6, 2)), 0,
                   core::SpanUnit::kDay);
    case 10:
      return Civil(ToInt(v.substr(0, 4)), ToInt(v.substr(4, 2)), ToInt(v.substr(6, 2)),
                   ToInt(v.substr(8, 2)), core::SpanUnit::kHour);
  }
  return std::nullopt;
}

std::optional<Value> FromText(const std::string& v) {
  if (IsDigits(v)) return FromInteger(v);
  if (v.size() == 7 && v[4] == '-' && IsDigits(v.substr(0, 4)) && IsDigits(v.substr(5, 2))) {
    return Civil(ToInt(v.substr(0, 4)), ToInt(v.substr(5, 2)), 1, 0, core::SpanUnit::kMonth);
  }
  if (auto date = util::ParseDate(v))
    return Value{local_days(*date), std::nullopt, {1, core::SpanUnit::kDay}};
  std::string text = v;
  if (text.size() == 13 && (text[10] == 'T' || text[10] == ' ')) text += ":00";  // 2024-01-05T10
  // Fractions of a second, as Delta writes ISO-8601 partition values
  // (2024-01-01T10:00:00.000000Z): the partition is an hour wide, so they are dropped.
  if (text.size() > 20 && text[19] == '.') {
    size_t end = 20;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
    text.erase(19, end - 19);
  }
  if (auto stamp = util::ParseTimestamp(text)) {
    return Value{stamp->local, stamp->offset, {1, core::SpanUnit::kHour}};
  }
  return std::nullopt;
}

std::optional<Value> FromComponents(const std::vector<std::string>& values) {
  int parts[4] = {0, 1, 1, 0};
  for (size_t i = 0; i < values.size(); ++i) {
    if (!IsDigits(values[i])) return std::nullopt;
    parts[i] = ToInt(values[i]);
  }
  static constexpr core::SpanUnit kUnits[] = {core::SpanUnit::kYear, core::SpanUnit::kMonth,
                                              core::SpanUnit::kDay, core::SpanUnit::kHour};
  return Civil(parts[0], parts[1], parts[2], parts[3], kUnits[values.size() - 1]);
}

// key -> value of each component.
std::vector<std::pair<std::string, std::string>> Components(const std::string& directory) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const std::string& part : util::Split(directory, '/')) {
    size_t eq = part.find('=');
    pairs.emplace_back(part.substr(0, eq), util::PercentDecode(part.substr(eq + 1)));
  }
  return pairs;
}

}  // namespace

std::string PartitionDirectoryOf(const std::string& relative_key) {
  std::vector<std::string> parts = util::Split(relative_key, '/');
  std::string directory;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const std::string& part = parts[i];
    if (part.empty() || part[0] == '_' || part[0] == '.') return "";
    if (part.find('=') == std::string::npos || part[0] == '=') break;
    if (!directory.empty()) directory += '/';
    directory += part;
  }
  return directory;
}

std::optional<core::TimeRange> ReadPartitionTime(const std::string& directory, const HiveKeys& keys,
                                                 const util::TimeZone& zone, std::string* problem) {
  if (keys.partition_by.empty()) {
    // Without a key there is no value to read; guessing would expire fresh data.
    *problem = "has no readable time: the dataset gives no partition_by key";
    return std::nullopt;
  }
  auto pairs = Components(directory);
  std::vector<std::string> values;
  for (const std::string& key : keys.partition_by) {
    auto it =
        std::find_if(pairs.begin(), pairs.end(), [&](const auto& p) { return p.first == key; });
    if (it == pairs.end()) {
      *problem = "has no " + key + "= level";
      return std::nullopt;
    }
    values.push_back(it->second);
  }
  std::optional<Value> value;
  if (values.size() == 1) {
    value = FromText(values[0]);
  } else if (values.size() <= 4) {
    value = FromComponents(values);
  }
  if (!value) {
    *problem = "value \"" + util::Join(values, "/") + "\" of " +
               util::Join(keys.partition_by, "/") +
               " is not a date, timestamp or yyyymmdd[hh] integer";
    return std::nullopt;
  }
  util::Instant start = value->offset
                            ? util::Instant(value->local.time_since_epoch()) - *value->offset
                            : zone.FromLocal(value->local);  // civil, in the zone
  // An integer interval (strategy id) says nothing about time; the value's own
  // precision gives the width then.
  const bool interval_is_time = keys.interval && keys.interval->IsTime();
  core::Span width = interval_is_time ? *keys.interval : value->precision;
  if (interval_is_time) start = core::FloorToSpan(start, width, zone);
  return core::TimeRange{start, core::AddSpan(start, width, 1, zone)};
}

}  // namespace tidemark::backend::lake
