#include "tidemark/config/fields.h"

#include <cctype>
#include <charconv>
#include <climits>

#include "tidemark/util/strings.h"
#include "tidemark/util/time.h"

namespace tidemark::config {

namespace {

std::string Quote(std::string_view text) { return "\"" + std::string(text) + "\""; }

// "a, b, c"
std::string KnownKeys(Section section) {
  std::vector<std::string> names;
  for (const KeyInfo& key : SectionOf(section).keys) names.emplace_back(key.name);
  return util::Join(names, ", ");
}

// The other section that knows `name`, to tell the user where the key belongs.
const SectionInfo* SectionWithKey(std::string_view name, Section except) {
  for (const SectionInfo& info : AllSections()) {
    if (info.section != except && FindKey(info.section, name) != nullptr) return &info;
  }
  return nullptr;
}

}  // namespace

std::string KeyText(const YamlNode& key) { return key.IsScalar() ? key.scalar : ""; }

Fields::Fields(const YamlNode& node, Section section, std::string what, std::string path,
               ParseContext& context, bool check_required)
    : section_(section),
      what_(std::move(what)),
      path_(std::move(path)),
      position_(node.position),
      context_(&context) {
  for (const YamlEntry& entry : node.entries) CheckEntry(entry);
  for (const KeyInfo& key : SectionOf(section).keys) {
    if (check_required && key.required && !Has(key.name)) {
      context.problems.Add(
          position_, what_ + " has no '" + std::string(key.name) + "', which is required; add it");
    }
  }
}

void Fields::CheckEntry(const YamlEntry& entry) {
  const KeyInfo* key = FindKey(section_, KeyText(entry.key));
  if (key == nullptr) return ReportUnknown(entry);
  if (const YamlNode* first = Get(key->name)) {
    // The first value stays in effect; the user decides which one was meant.
    context_->problems.Add(entry.key.position, "duplicate key '" + std::string(key->name) +
                                                   "' in " + what_ + ", first given at line " +
                                                   std::to_string(first->position.line) +
                                                   "; remove one of them");
    return;
  }
  values_.emplace_back(key->name, &entry.value);
  context_->sources.Record(KeyPath(key->name), entry.value.position);
}

void Fields::ReportUnknown(const YamlEntry& entry) {
  if (!entry.key.IsScalar()) {
    context_->problems.Add(entry.key.position, std::string("a key in ") + what_ + " is " +
                                                   KindName(entry.key.kind) +
                                                   "; keys are plain names");
    return;
  }
  const std::string& name = entry.key.scalar;
  std::string message = "unknown key '" + name + "' in " + what_;
  if (std::optional<std::string> hint = SecretKeyHint(name)) {
    message += ": " + *hint;
  } else if (std::optional<std::string_view> suggestion = SuggestKey(section_, name)) {
    message += "; did you mean '" + std::string(*suggestion) + "'?";
  } else if (const SectionInfo* other = SectionWithKey(name, section_)) {
    message += "; '" + name + "' is a key of " + std::string(other->title) + ", written " +
               std::string(other->where);
  } else {
    message += "; known keys: " + KnownKeys(section_);
  }
  context_->problems.Add(entry.key.position, message);
}

const YamlNode* Fields::Get(std::string_view key) const {
  for (const auto& [name, value] : values_) {
    if (name == key) return value;
  }
  return nullptr;
}

std::string Fields::KeyPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void Fields::ReportItem(std::string_view key, const YamlNode& item, std::string message) const {
  context_->invalid_keys.insert(KeyPath(key));
  context_->problems.Add(item.position, std::move(message));
}

void Fields::Report(std::string_view key, std::string message) const {
  context_->invalid_keys.insert(KeyPath(key));
  const YamlNode* value = Get(key);
  context_->problems.Add(value != nullptr ? value->position : position_, std::move(message));
}

void Fields::ReportWrongKind(std::string_view key, const YamlNode& value,
                             std::string_view expected) const {
  if (value.IsNull()) {
    Report(key, std::string(key) + " has no value; give " + std::string(expected) +
                    " or remove the key");
  } else {
    Report(key, std::string(key) + " must be " + std::string(expected) + ", not " +
                    KindName(value.kind));
  }
}

std::optional<std::string> Fields::Scalar(std::string_view key, std::string_view expected) const {
  const YamlNode* value = Get(key);
  if (value == nullptr) return std::nullopt;
  if (!value->IsScalar()) {
    ReportWrongKind(key, *value, expected);
    return std::nullopt;
  }
  auto expanded = ExpandEnvironment(value->scalar, context_->environment);
  if (!expanded) {
    Report(key, expanded.error());
    return std::nullopt;
  }
  return *expanded;
}

std::optional<std::string> Fields::String(std::string_view key) const {
  return Scalar(key, "a string");
}

std::optional<int> Fields::Integer(std::string_view key, int minimum, int maximum) const {
  const bool bounded = minimum > 1 || maximum < INT_MAX;
  const std::string expected =
      bounded        ? "an integer from " + std::to_string(minimum) + " to " + std::to_string(maximum)
      : minimum > 0  ? "a positive integer"
                     : "a non-negative integer";
  std::optional<std::string> text = Scalar(key, expected);
  if (!text) return std::nullopt;
  long long number = 0;
  const char* end = text->data() + text->size();
  auto [stop, error] = std::from_chars(text->data(), end, number);
  const bool whole = error == std::errc() && stop == end;
  if (!bounded && (error == std::errc::result_out_of_range || (whole && number > INT_MAX))) {
    Report(key,
           std::string(key) + " is too large; the most it takes is " + std::to_string(INT_MAX));
  } else if (whole && number < 0 && minimum == 0) {
    Report(key, std::string(key) + " must not be negative (got " + *text + "); use 0 for none");
  } else if (!whole || number < minimum || number > maximum) {
    Report(key, std::string(key) + " must be " + expected + ", not " + Quote(*text));
  } else {
    return static_cast<int>(number);
  }
  return std::nullopt;
}

std::optional<core::Span> Fields::Duration(std::string_view key, bool allow_number) const {
  std::optional<std::string> text =
      Scalar(key, allow_number ? "a duration or an integer" : "a duration such as \"90 days\"");
  if (!text) return std::nullopt;
  auto span = core::ParseSpan(*text, allow_number);
  if (!span) {
    Report(key, std::string(key) + ": " + span.error());
    return std::nullopt;
  }
  return *span;
}

std::optional<std::chrono::year_month_day> Fields::Date(std::string_view key) const {
  std::optional<std::string> text = Scalar(key, "a date YYYY-MM-DD");
  if (!text) return std::nullopt;
  std::optional<std::chrono::year_month_day> date = util::ParseDate(*text);
  if (!date) {
    Report(key, std::string(key) + " must be a date YYYY-MM-DD, not " + Quote(*text));
  }
  return date;
}

std::optional<std::string> Fields::Choice(std::string_view key) const {
  const KeyInfo* info = FindKey(section_, key);
  const std::string choices(info != nullptr ? info->choices : "");
  std::optional<std::string> text = Scalar(key, "one of " + choices);
  if (!text) return std::nullopt;
  std::optional<std::string> close;
  for (std::string choice : util::Split(choices, ',')) {
    if (!choice.empty() && choice.front() == ' ') choice.erase(0, 1);
    if (choice == *text) return text;
    if (!close && EditDistance(choice, *text) <= 2) close = choice;
  }
  std::string message = std::string(key) + " must be one of " + choices + ", not " + Quote(*text);
  if (close) message += "; did you mean '" + *close + "'?";
  Report(key, message);
  return std::nullopt;
}

std::optional<std::vector<std::string>> Fields::StringList(std::string_view key,
                                                           bool allow_single) const {
  const std::string expected = allow_single ? "a string or a list of strings" : "a list of strings";
  const YamlNode* value = Get(key);
  if (value == nullptr) return std::nullopt;
  if (allow_single && value->IsScalar()) {
    std::optional<std::string> single = Scalar(key, expected);
    if (!single) return std::nullopt;
    return std::vector<std::string>{*single};
  }
  if (!value->IsSequence() || value->items.empty()) {
    if (value->IsSequence()) {
      Report(key, std::string(key) + " is an empty list; give at least one name");
    } else {
      ReportWrongKind(key, *value, expected);
    }
    return std::nullopt;
  }
  std::vector<std::string> list;
  for (const YamlNode& item : value->items) {
    if (!item.IsScalar()) {
      ReportItem(
          key, item,
          std::string(key) + " must be " + expected + ", and this item is " + KindName(item.kind));
      return std::nullopt;
    }
    auto expanded = ExpandEnvironment(item.scalar, context_->environment);
    if (!expanded) {
      ReportItem(key, item, expanded.error());
      return std::nullopt;
    }
    list.push_back(*expanded);
  }
  return list;
}

const YamlNode* Fields::Mapping(std::string_view key, bool allow_empty) const {
  const YamlNode* value = Get(key);
  if (value == nullptr) return nullptr;
  if (value->IsMapping() && !value->entries.empty()) return value;
  if (allow_empty && (value->IsNull() || value->IsMapping())) return nullptr;
  if (value->IsMapping() || value->IsNull()) {
    Report(key, std::string(key) + " is empty; give at least one entry");
  } else {
    ReportWrongKind(key, *value, "a mapping");
  }
  return nullptr;
}

namespace {

bool IsName(const std::string& name) {
  bool ok = !name.empty();
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
  }
  return ok;
}

// Whether `entry` is usable as a named mapping; reports why not.
bool CheckNamedEntry(const YamlEntry& entry, std::string_view kind, bool check_names,
                     ParseContext& context) {
  const std::string& name = entry.key.scalar;
  if (!entry.key.IsScalar()) {
    context.problems.Add(entry.key.position, std::string("a ") + std::string(kind) + " name is " +
                                                 KindName(entry.key.kind) +
                                                 "; names are plain words");
    return false;
  }
  if (check_names && !IsName(name)) {
    context.problems.Add(entry.key.position, std::string(kind) + " name " + Quote(name) +
                                                 " may use only letters, digits, '_' and "
                                                 "'-'; rename it");
  }
  if (!entry.value.IsMapping()) {
    context.problems.Add(entry.value.position, std::string(kind) + " '" + name +
                                                   "' must be a mapping of keys, not " +
                                                   KindName(entry.value.kind));
    return false;
  }
  return true;
}

}  // namespace

std::vector<const YamlEntry*> NamedEntries(const YamlNode& mapping, std::string_view kind,
                                           std::string_view section_key, bool check_names,
                                           ParseContext& context) {
  std::vector<const YamlEntry*> entries;
  std::vector<const YamlEntry*> seen;
  for (const YamlEntry& entry : mapping.entries) {
    const YamlEntry* first = nullptr;
    for (const YamlEntry* other : seen) {
      if (entry.key.IsScalar() && other->key.scalar == entry.key.scalar) first = other;
    }
    if (first != nullptr) {
      context.problems.Add(entry.key.position, "duplicate key '" + entry.key.scalar + "' in " +
                                                   std::string(section_key) +
                                                   ", first given at line " +
                                                   std::to_string(first->key.position.line) +
                                                   "; remove or rename one of them");
      continue;
    }
    seen.push_back(&entry);
    if (CheckNamedEntry(entry, kind, check_names, context)) entries.push_back(&entry);
  }
  return entries;
}

}  // namespace tidemark::config
