// The one table of configuration keys: for every section of tidemark.yaml, its keys,
// their types, defaults and one line of documentation. The parser checks mappings
// against it (unknown keys, with the closest known key suggested; required keys), and
// RenderConfigurationReference turns it into docs/configuration.md, which a unit test
// keeps equal to the rendered text.
//
// Thread-safety: constant data and pure functions.

#ifndef TIDEMARK_CONFIG_KEYS_H_
#define TIDEMARK_CONFIG_KEYS_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tidemark::config {

enum class Section {
  kTop,
  kConnection,
  kArchive,
  kDatasetShort,
  kDatasetFull,
  kLifecycle,
  kStorage,
  kLateData,
};

// What kind of value a key takes; each renders as one phrase in the docs.
enum class KeyType {
  kString,
  kInteger,        // a non-negative whole number
  kDuration,       // "N unit": hour, day, week, month, year
  kInterval,       // a duration, or a bare integer for strategy id
  kDate,           // YYYY-MM-DD
  kChoice,         // one of KeyInfo::choices
  kStringOrList,   // a string or a list of strings
  kStringList,     // a list of strings
  kMapping,        // a mapping of fixed keys (another section)
  kNamedMappings,  // a mapping of name -> mapping (another section per name)
};

struct KeyInfo {
  std::string_view name;
  KeyType type;
  bool required;
  std::string_view default_text;  // as rendered in the docs; empty when none
  std::string_view doc;           // one line
  std::string_view choices = {};  // kChoice: "archive, drop, detach, keep"
};

struct SectionInfo {
  Section section;
  std::string_view title;  // "Dataset (short form)"
  std::string_view where;  // "under `datasets: NAME:` with `storage:`"
  std::string_view about;  // a paragraph for the docs
  std::span<const KeyInfo> keys;
};

// Every section, in the order the docs present them.
std::span<const SectionInfo> AllSections();
const SectionInfo& SectionOf(Section section);
// The key's entry, or nullptr when `section` has no such key.
const KeyInfo* FindKey(Section section, std::string_view name);

// The distance between two keys: insertions, deletions, substitutions and swaps of
// neighbours each count one ("retnetion" is one from "retention").
size_t EditDistance(std::string_view a, std::string_view b);

// The known key of `section` closest to `name`, if close enough to be a likely typo.
std::optional<std::string_view> SuggestKey(Section section, std::string_view name);

// "secrets never go in the file; use password_env or password_file" for keys that would
// hold a secret (password, secret_key, access_key, session_token), else nullopt.
std::optional<std::string> SecretKeyHint(std::string_view name);

// The text of docs/configuration.md.
std::string RenderConfigurationReference();

// The example config shown in docs/configuration.md (DESIGN.md's); the tests parse it.
std::string_view ExampleConfig();

}  // namespace tidemark::config

#endif  // TIDEMARK_CONFIG_KEYS_H_
