#include "tidemark/util/timezone.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

namespace tidemark::util {

namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::local_days;
using std::chrono::minutes;
using std::chrono::seconds;

// RFC 8536 keeps UTC offsets within -25h..+26h; every solution of FromLocal lies this
// close to the civil time read as UTC.
constexpr seconds kMaxOffset = hours(27);
// Real TZif files are a few kilobytes; the cap keeps a wrong path from being slurped.
constexpr std::uintmax_t kMaxFileSize = 1 << 20;

// ---------------------------------------------------------------------------------
// POSIX TZ strings (RFC 8536 section 3.3), e.g. "CET-1CEST,M3.5.0,M10.5.0/3".

// The day a rule changes the clock, and the local time of day it does so.
struct RuleDate {
  enum class Kind { kMonthWeekDay, kJulianNoLeap, kDayOfYear } kind = Kind::kMonthWeekDay;
  unsigned month = 0, week = 0, weekday = 0;  // Mm.w.d
  int day = 0;                                // Jn (1..365) or n (0..365)
  seconds time = hours(2);                    // may be negative or past 24h (RFC 8536)
};

struct PosixRule {
  seconds std_offset{0};  // east-positive, unlike the string's west-positive sign
  std::optional<seconds> dst_offset;
  RuleDate start, end;
};

// Consumes a digit run no longer than `max_digits` from the front of s.
std::optional<int> TakeNumber(std::string_view& s, size_t max_digits) {
  size_t n = 0;
  int value = 0;
  while (n < s.size() && n < max_digits && s[n] >= '0' && s[n] <= '9') {
    value = value * 10 + (s[n++] - '0');
  }
  if (n == 0) return std::nullopt;
  s.remove_prefix(n);
  return value;
}

bool TakeChar(std::string_view& s, char c) {
  if (s.empty() || s.front() != c) return false;
  s.remove_prefix(1);
  return true;
}

// "[+-]hh[:mm[:ss]]"; offsets allow 24 hours, rule times 167 (RFC 8536 extension).
std::optional<seconds> TakeHms(std::string_view& s, int max_hours) {
  const bool negative = TakeChar(s, '-');
  if (!negative) TakeChar(s, '+');
  std::optional<int> h = TakeNumber(s, 3);
  if (!h || *h > max_hours) return std::nullopt;
  seconds value = hours(*h);
  for (seconds unit : {seconds(minutes(1)), seconds(1)}) {
    if (!TakeChar(s, ':')) break;
    std::optional<int> part = TakeNumber(s, 2);
    if (!part || *part > 59) return std::nullopt;
    value += unit * *part;
  }
  return negative ? -value : value;
}

// A zone abbreviation: three or more letters, or the quoted form ("<+03>") that names
// made of digits and signs need.
bool TakeName(std::string_view& s) {
  if (TakeChar(s, '<')) {
    size_t close = s.find('>');
    if (close == std::string_view::npos || close < 1) return false;
    s.remove_prefix(close + 1);
    return true;
  }
  size_t n = 0;
  while (n < s.size() && ((s[n] | 0x20) >= 'a' && (s[n] | 0x20) <= 'z')) ++n;
  s.remove_prefix(n);
  return n >= 3;
}

std::optional<RuleDate> TakeRuleDate(std::string_view& s) {
  RuleDate date;
  std::optional<int> a, b, c;
  if (TakeChar(s, 'M')) {
    date.kind = RuleDate::Kind::kMonthWeekDay;
    a = TakeNumber(s, 2);
    b = TakeChar(s, '.') ? TakeNumber(s, 1) : std::nullopt;
    c = TakeChar(s, '.') ? TakeNumber(s, 1) : std::nullopt;
    if (!a || !b || !c || *a < 1 || *a > 12 || *b < 1 || *b > 5 || *c > 6) return std::nullopt;
    date.month = *a, date.week = *b, date.weekday = *c;
  } else {
    const bool julian = TakeChar(s, 'J');
    date.kind = julian ? RuleDate::Kind::kJulianNoLeap : RuleDate::Kind::kDayOfYear;
    a = TakeNumber(s, 3);
    if (!a || *a > 365 || (julian && *a < 1)) return std::nullopt;
    date.day = *a;
  }
  if (TakeChar(s, '/')) {
    std::optional<seconds> time = TakeHms(s, 167);
    if (!time) return std::nullopt;
    date.time = *time;
  }
  return date;
}

std::optional<PosixRule> ParsePosixRule(std::string_view s) {
  PosixRule rule;
  std::optional<seconds> std_west = TakeName(s) ? TakeHms(s, 24) : std::nullopt;
  if (!std_west) return std::nullopt;
  rule.std_offset = -*std_west;
  if (s.empty()) return rule;
  if (!TakeName(s)) return std::nullopt;
  rule.dst_offset = rule.std_offset + hours(1);  // POSIX default: one hour ahead
  if (!s.empty() && s.front() != ',') {
    std::optional<seconds> dst_west = TakeHms(s, 24);
    if (!dst_west) return std::nullopt;
    rule.dst_offset = -*dst_west;
  }
  // POSIX leaves a missing rule to the implementation; tzcode uses the US rule.
  if (s.empty()) s = ",M3.2.0,M11.1.0";
  std::optional<RuleDate> start = TakeChar(s, ',') ? TakeRuleDate(s) : std::nullopt;
  std::optional<RuleDate> end = start && TakeChar(s, ',') ? TakeRuleDate(s) : std::nullopt;
  if (!end || !s.empty()) return std::nullopt;
  rule.start = *start;
  rule.end = *end;
  return rule;
}

local_days RuleDay(const RuleDate& date, int year_number) {
  const std::chrono::year y(year_number);
  const local_days new_year(y / std::chrono::January / 1);
  switch (date.kind) {
    case RuleDate::Kind::kMonthWeekDay: {
      const std::chrono::month m(date.month);
      const std::chrono::weekday wd(date.weekday);
      if (date.week == 5) return local_days(y / m / wd[std::chrono::last]);
      return local_days(y / m / wd[date.week]);
    }
    case RuleDate::Kind::kJulianNoLeap: {
      // Jn never counts February 29, so from March on a leap year is one day ahead.
      const int leap_shift = y.is_leap() && date.day >= 60 ? 1 : 0;
      return new_year + days(date.day - 1 + leap_shift);
    }
    case RuleDate::Kind::kDayOfYear: return new_year + days(date.day);
  }
  return new_year;
}

// The UTC instant of a rule's change: its time is read in the offset then in force.
Instant RuleInstant(const RuleDate& date, int year, seconds offset_before) {
  LocalTime local = RuleDay(date, year) + date.time;
  return Instant(local.time_since_epoch() - offset_before);
}

int YearOf(Instant t) {
  return static_cast<int>(std::chrono::year_month_day(std::chrono::floor<days>(t)).year());
}

struct RuleEvent {
  Instant at;
  bool starts_dst;
};

// The DST changes of the years around t, oldest first. A year on each side (two after)
// covers rule times up to a week off their day, offsets up to a day, and the next change.
std::vector<RuleEvent> EventsAround(const PosixRule& rule, Instant t) {
  std::vector<RuleEvent> events;
  const int year = YearOf(t + rule.std_offset);
  for (int y = year - 1; y <= year + 2; ++y) {
    events.push_back({RuleInstant(rule.end, y, *rule.dst_offset), false});
    events.push_back({RuleInstant(rule.start, y, rule.std_offset), true});
  }
  // Stable, so that a start equal to the previous end (all-year DST) counts as later.
  std::stable_sort(events.begin(), events.end(),
                   [](const RuleEvent& a, const RuleEvent& b) { return a.at < b.at; });
  return events;
}

seconds RuleOffsetAt(const PosixRule& rule, Instant t) {
  if (!rule.dst_offset) return rule.std_offset;
  bool in_dst = false;
  for (const RuleEvent& e : EventsAround(rule, t)) {
    if (e.at > t) break;
    in_dst = e.starts_dst;
  }
  return in_dst ? *rule.dst_offset : rule.std_offset;
}

std::optional<Instant> RuleNextChange(const PosixRule& rule, Instant t) {
  if (!rule.dst_offset) return std::nullopt;
  for (const RuleEvent& e : EventsAround(rule, t)) {
    if (e.at > t) return e.at;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------
// TZif files (RFC 8536), versions 1 to 4.

// What a zone knows: its transitions, the offset after each, and the rule for later.
struct ZoneRules {
  std::vector<Instant> transitions;   // ascending
  std::vector<seconds> offset_after;  // one per transition
  seconds initial_offset{0};          // local time type 0, used before the first transition
  std::optional<PosixRule> footer;    // governs instants at or after the last transition
};

// Reads big-endian fields; a read past the end sets a flag instead of throwing.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}

  bool ok() const { return ok_; }
  std::string_view Rest() const { return bytes_.substr(pos_); }

  std::string_view Take(size_t n) {
    if (!ok_ || bytes_.size() - pos_ < n) {
      ok_ = false;
      return {};
    }
    pos_ += n;
    return bytes_.substr(pos_ - n, n);
  }

  // A two's-complement integer of 4 or 8 bytes.
  int64_t Int(size_t width) {
    uint64_t value = Unsigned(width);
    if (width < 8 && (value >> (8 * width - 1)) != 0) value -= uint64_t{1} << (8 * width);
    return static_cast<int64_t>(value);
  }
  uint64_t Unsigned(size_t width) {
    uint64_t value = 0;
    for (char c : Take(width)) value = value << 8 | static_cast<unsigned char>(c);
    return value;
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
  bool ok_ = true;
};

struct TzifHeader {
  char version = 0;
  uint64_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;

  // The size of the data block that follows, with `time_size`-byte timestamps.
  uint64_t BlockSize(uint64_t time_size) const {
    return timecnt * (time_size + 1) + typecnt * 6 + charcnt + leapcnt * (time_size + 4) +
           isstdcnt + isutcnt;
  }
};

std::optional<TzifHeader> ReadHeader(ByteReader& in) {
  if (in.Take(4) != "TZif") return std::nullopt;
  TzifHeader h;
  std::string_view version = in.Take(1);
  h.version = version.empty() ? 0 : version[0];
  in.Take(15);
  for (uint64_t* count :
       {&h.isutcnt, &h.isstdcnt, &h.leapcnt, &h.timecnt, &h.typecnt, &h.charcnt}) {
    *count = in.Unsigned(4);
  }
  if (!in.ok() || h.typecnt == 0) return std::nullopt;
  return h;
}

// Reads transitions and local time types; skips abbreviations, leap seconds and the
// std/wall and UT/local indicators, which only matter for rules in old TZ strings.
std::optional<ZoneRules> ReadBlock(ByteReader& in, const TzifHeader& h, size_t time_size) {
  if (in.Rest().size() < h.BlockSize(time_size)) return std::nullopt;
  ZoneRules rules;
  for (uint64_t i = 0; i < h.timecnt; ++i) {
    rules.transitions.emplace_back(seconds(in.Int(time_size)));
  }
  std::vector<uint64_t> type_index(h.timecnt);
  for (uint64_t& index : type_index) index = in.Unsigned(1);
  std::vector<seconds> type_offset(h.typecnt);
  for (seconds& offset : type_offset) {
    offset = seconds(in.Int(4));
    in.Take(2);  // isdst and abbreviation index
  }
  in.Take(h.charcnt + h.leapcnt * (time_size + 4) + h.isstdcnt + h.isutcnt);
  for (uint64_t index : type_index) {
    if (index >= h.typecnt) return std::nullopt;
    rules.offset_after.push_back(type_offset[index]);
  }
  rules.initial_offset = type_offset[0];
  if (!std::is_sorted(rules.transitions.begin(), rules.transitions.end())) return std::nullopt;
  return rules;
}

tl::expected<ZoneRules, std::string> ParseTzif(std::string_view bytes) {
  ByteReader in(bytes);
  std::optional<TzifHeader> header = ReadHeader(in);
  if (!header) return tl::unexpected<std::string>("not a TZif file");
  if (header->version == 0) {
    std::optional<ZoneRules> rules = ReadBlock(in, *header, 4);
    if (!rules) return tl::unexpected<std::string>("truncated or inconsistent TZif data");
    return *rules;
  }
  // Version 2 and later repeat the data with 64-bit times, then add a TZ string.
  in.Take(header->BlockSize(4));
  header = ReadHeader(in);
  std::optional<ZoneRules> rules = header ? ReadBlock(in, *header, 8) : std::nullopt;
  if (!rules) return tl::unexpected<std::string>("truncated or inconsistent TZif data");
  std::string_view footer = in.Rest();
  size_t close = footer.find('\n', 1);
  if (footer.empty() || footer[0] != '\n' || close == std::string_view::npos) {
    return tl::unexpected<std::string>("TZif footer missing");
  }
  footer = footer.substr(1, close - 1);
  if (footer.empty()) return *rules;
  rules->footer = ParsePosixRule(footer);
  if (!rules->footer) {
    return tl::unexpected<std::string>("unsupported TZ rule \"" + std::string(footer) + "\"");
  }
  return *rules;
}

seconds OffsetIn(const ZoneRules& z, Instant t) {
  auto after = std::upper_bound(z.transitions.begin(), z.transitions.end(), t);
  if (after == z.transitions.end() && z.footer) return RuleOffsetAt(*z.footer, t);
  if (after == z.transitions.begin()) return z.initial_offset;
  return z.offset_after[after - z.transitions.begin() - 1];
}

// The first transition strictly after t, from the table or, past it, from the rule.
std::optional<Instant> NextChange(const ZoneRules& z, Instant t) {
  auto after = std::upper_bound(z.transitions.begin(), z.transitions.end(), t);
  if (after != z.transitions.end()) return *after;
  return z.footer ? RuleNextChange(*z.footer, t) : std::nullopt;
}

// ---------------------------------------------------------------------------------
// Finding and reading the file.

const char* const kNameHint = "use an IANA name such as \"Europe/Berlin\" or \"UTC\"";

// Built in, so that UTC works on hosts without tzdata.
bool IsUtcName(std::string_view name) { return name == "UTC" || name == "Etc/UTC"; }

// Keeps the name inside the zone directory: no absolute paths, no "..", no odd bytes.
bool IsSafeName(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.find("..") != std::string_view::npos) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
           c == '_' || c == '-' || c == '+' || c == '.';
  });
}

std::filesystem::path ZoneDirectory() {
  const char* dir = std::getenv("TZDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo";
}

std::optional<std::string> ReadSmallFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  if (std::filesystem::file_size(path, ec) > kMaxFileSize || ec) return std::nullopt;
  std::ifstream file(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  if (!file) return std::nullopt;
  return std::move(bytes).str();
}

}  // namespace

struct TimeZone::Data {
  std::string name;
  ZoneRules rules;
};

Result<TimeZone> TimeZone::Load(std::string_view name) {
  const std::string quoted = "\"" + std::string(name) + "\"";
  if (IsUtcName(name)) {
    return TimeZone(std::make_shared<const Data>(Data{std::string(name), ZoneRules{}}));
  }
  if (!IsSafeName(name)) {
    return ConfigError("invalid time zone name " + quoted + "; " + kNameHint);
  }
  const std::filesystem::path dir = ZoneDirectory();
  const std::filesystem::path path = dir / std::string(name);
  std::optional<std::string> bytes = ReadSmallFile(path);
  if (!bytes) {
    return ConfigError("unknown time zone " + quoted + " (looked in " + dir.string() + "); " +
                       kNameHint);
  }
  tl::expected<ZoneRules, std::string> rules = ParseTzif(*bytes);
  if (!rules) {
    return ConfigError("time zone " + quoted + ": cannot use " + path.string() + ": " +
                       rules.error() + "; reinstall tzdata or " + kNameHint);
  }
  return TimeZone(std::make_shared<const Data>(Data{std::string(name), std::move(*rules)}));
}

TimeZone TimeZone::Utc() { return TimeZone(std::make_shared<const Data>(Data{"UTC", {}})); }

const std::string& TimeZone::name() const { return data_->name; }

seconds TimeZone::OffsetAt(Instant t) const { return OffsetIn(data_->rules, t); }

LocalTime TimeZone::ToLocal(Instant t) const {
  return LocalTime(t.time_since_epoch() + OffsetAt(t));
}

// Walks the periods of constant offset near the civil time and keeps the first one that
// contains the civil time read at its offset. When none does, the time fell into a gap,
// and the offset before the gap places it as far past the change as it was past the gap.
Instant TimeZone::FromLocal(LocalTime t) const {
  const Instant as_utc(t.time_since_epoch());
  const Instant window_end = as_utc + kMaxOffset;
  Instant period_start = as_utc - kMaxOffset;
  seconds offset = OffsetAt(period_start);
  std::optional<Instant> in_gap;
  while (true) {
    const std::optional<Instant> change = NextChange(data_->rules, period_start);
    const bool last = !change || *change > window_end;
    const Instant candidate = as_utc - offset;
    if (candidate >= period_start && (last || candidate < *change)) return candidate;
    if (last) return in_gap.value_or(candidate);
    const seconds next_offset = OffsetAt(*change);
    if (!in_gap && candidate >= *change && as_utc - next_offset < *change) in_gap = candidate;
    period_start = *change;
    offset = next_offset;
  }
}

}  // namespace tidemark::util
