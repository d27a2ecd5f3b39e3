#include "tidemark/backend/mariadb/md_bounds.h"

#include <cctype>
#include <charconv>

namespace tidemark::backend::mariadb {

namespace {

// TO_DAYS('1970-01-01'): MariaDB counts days from year 0.
constexpr int64_t kToDaysOfEpoch = 719528;

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// "`name`" (backticks doubled inside) or a bare name; nullopt for anything more.
std::optional<std::string> Column(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return std::nullopt;
  if (text.front() != '`') {
    for (char c : text) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '$') return std::nullopt;
    }
    return std::string(text);
  }
  std::string name;
  size_t i = 1;
  for (; i < text.size(); ++i) {
    if (text[i] == '`') {
      if (i + 1 < text.size() && text[i + 1] == '`') {
        name += '`';
        ++i;
        continue;
      }
      break;
    }
    name += text[i];
  }
  if (i != text.size() - 1 || name.empty()) return std::nullopt;
  return name;
}

// "function(`col`)" → col when the function is `function`.
std::optional<std::string> Call(std::string_view text, std::string_view function) {
  text = Trim(text);
  if (text.size() < function.size() + 2 ||
      !EqualsIgnoringCase(text.substr(0, function.size()), function))
    return std::nullopt;
  std::string_view rest = Trim(text.substr(function.size()));
  if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') return std::nullopt;
  return Column(rest.substr(1, rest.size() - 2));
}

std::optional<int64_t> Integer(std::string_view text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

PartitionKey ParseKey(std::string_view method, std::string_view expression) {
  PartitionKey key;
  method = Trim(method);
  if (EqualsIgnoringCase(method, "RANGE COLUMNS")) {
    if (auto column = Column(expression)) {
      key.form = KeyForm::kColumns;
      key.column = *column;
    }
    return key;
  }
  if (!EqualsIgnoringCase(method, "RANGE")) return key;
  if (auto column = Call(expression, "to_days")) {
    key.form = KeyForm::kToDays;
    key.column = *column;
  } else if (auto column = Call(expression, "unix_timestamp")) {
    key.form = KeyForm::kUnixTimestamp;
    key.column = *column;
  } else if (auto column = Column(expression)) {
    key.form = KeyForm::kInteger;
    key.column = *column;
  }
  return key;
}

std::optional<LessThan> ParseLessThan(std::string_view description) {
  description = Trim(description);
  LessThan bound;
  if (EqualsIgnoringCase(description, "MAXVALUE")) {
    bound.maxvalue = true;
    return bound;
  }
  if (auto n = Integer(description)) {
    bound.integer = *n;
    return bound;
  }
  if (description.size() < 2 || description.front() != '\'' || description.back() != '\'')
    return std::nullopt;
  for (size_t i = 1; i + 1 < description.size(); ++i) {
    const char c = description[i];
    if (c == '\'' && (i + 2 >= description.size() || description[i + 1] != '\'')) {
      return std::nullopt;  // the literal ends before the text does
    }
    if (c == '\'' || c == '\\') {
      if (i + 2 >= description.size()) return std::nullopt;
      bound.literal += description[++i];
      continue;
    }
    bound.literal += c;
  }
  return bound;
}

std::optional<util::Instant> BoundInstant(const LessThan& bound, KeyForm form,
                                          const util::TimeZone& zone) {
  if (bound.maxvalue) return std::nullopt;
  switch (form) {
    case KeyForm::kToDays:
      if (!bound.integer) return std::nullopt;
      return zone.FromLocal(util::LocalTime(
          std::chrono::local_days(std::chrono::days(*bound.integer - kToDaysOfEpoch))));
    case KeyForm::kUnixTimestamp:
      if (!bound.integer) return std::nullopt;
      return util::Instant(std::chrono::seconds(*bound.integer));
    case KeyForm::kColumns: {
      if (bound.literal.empty()) return std::nullopt;
      auto parsed = util::ParseTimestamp(bound.literal);
      if (!parsed || parsed->offset) return std::nullopt;
      return zone.FromLocal(parsed->local);
    }
    default: return std::nullopt;
  }
}

std::string LessThanFor(util::Instant t, KeyForm form, const util::TimeZone& zone) {
  const util::LocalTime local = zone.ToLocal(t);
  switch (form) {
    case KeyForm::kToDays: {
      const auto days = std::chrono::floor<std::chrono::days>(local.time_since_epoch());
      return std::to_string(days.count() + kToDaysOfEpoch);
    }
    case KeyForm::kUnixTimestamp: return std::to_string(t.time_since_epoch().count());
    default: {
      const util::Instant as_utc(local.time_since_epoch());
      const bool midnight = std::chrono::floor<std::chrono::days>(local) == local;
      return "'" + util::FormatCompactUtc(as_utc, midnight ? "%Y-%m-%d" : "%Y-%m-%d %H:%M:%S") +
             "'";
    }
  }
}

}  // namespace tidemark::backend::mariadb
