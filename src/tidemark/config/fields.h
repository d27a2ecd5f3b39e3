// One mapping of the file checked against its section of the key table, and its values
// read as typed values. Every problem goes to the context's Problems and the reading
// goes on, so that one run reports everything wrong with the file.
//
// Thread-safety: used by one thread at a time.

#ifndef TIDEMARK_CONFIG_FIELDS_H_
#define TIDEMARK_CONFIG_FIELDS_H_

#include <chrono>
#include <climits>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tidemark/config/diagnostics.h"
#include "tidemark/config/expand.h"
#include "tidemark/config/keys.h"
#include "tidemark/config/yaml_tree.h"
#include "tidemark/core/span.h"

namespace tidemark::config {

// What a parse of one file shares.
struct ParseContext {
  Problems problems;
  SourceMap sources;
  EnvironmentLookup environment = ProcessEnvironment();
  // Key paths whose values were reported as wrong. Checks across objects skip what
  // depends on them, so that one mistake is not reported again as a second one (an
  // unset ${VAR} in `table:` is not also "needs table:").
  std::set<std::string> invalid_keys;

  bool IsValid(const std::string& key_path) const { return !invalid_keys.contains(key_path); }
};

class Fields {
 public:
  // Checks the mapping `node` against `section`: reports keys that are unknown (with the
  // closest known key, or where the key belongs, or the secrets hint), given twice, or
  // required and absent. `what` names the mapping in messages ("dataset 'orders'");
  // `path` is its key path, under which every value's position is recorded.
  // `check_required` false leaves the required keys to the caller's own message.
  // REQUIRES: node.IsMapping().
  Fields(const YamlNode& node, Section section, std::string what, std::string path,
         ParseContext& context, bool check_required = true);

  const std::string& what() const { return what_; }
  const std::string& path() const { return path_; }
  // The value of a known key, or nullptr when absent.
  const YamlNode* Get(std::string_view key) const;
  bool Has(std::string_view key) const { return Get(key) != nullptr; }

  // Typed readers: nullopt when the key is absent or its value is wrong (then reported).
  // Scalars are expanded (${VAR}) first.
  std::optional<std::string> String(std::string_view key) const;
  std::optional<int> Integer(std::string_view key, int minimum, int maximum = INT_MAX) const;
  std::optional<core::Span> Duration(std::string_view key, bool allow_number) const;
  std::optional<std::chrono::year_month_day> Date(std::string_view key) const;
  std::optional<std::string> Choice(std::string_view key) const;  // one of KeyInfo::choices
  // A list of strings; `allow_single` also takes one string as a list of one.
  std::optional<std::vector<std::string>> StringList(std::string_view key, bool allow_single) const;
  // The mapping under `key`; nullptr when absent or not a mapping (then reported), or when
  // empty and `allow_empty`.
  const YamlNode* Mapping(std::string_view key, bool allow_empty) const;

  // Reports a problem at the value of `key` (or at the mapping when absent), and marks
  // the key invalid.
  void Report(std::string_view key, std::string message) const;

 private:
  std::string KeyPath(std::string_view key) const;
  void ReportItem(std::string_view key, const YamlNode& item, std::string message) const;
  void CheckEntry(const YamlEntry& entry);
  void ReportUnknown(const YamlEntry& entry);
  std::optional<std::string> Scalar(std::string_view key, std::string_view expected) const;
  void ReportWrongKind(std::string_view key, const YamlNode& value,
                       std::string_view expected) const;

  Section section_;
  std::string what_;
  std::string path_;
  Position position_;
  ParseContext* context_;
  std::vector<std::pair<std::string_view, const YamlNode*>> values_;  // known keys
};

// The entries of a mapping of names (`datasets:`, `storages:`...) whose values are
// mappings, in file order. Reports and skips keys given twice and values that are not
// mappings; with `check_names`, reports names other than [A-Za-z0-9_-]+.
// `kind` names an entry in messages ("dataset"); `section_key` the mapping ("datasets").
std::vector<const YamlEntry*> NamedEntries(const YamlNode& mapping, std::string_view kind,
                                           std::string_view section_key, bool check_names,
                                           ParseContext& context);

// The key's text ("" unless a scalar); keys are never expanded.
std::string KeyText(const YamlNode& key);

}  // namespace tidemark::config

#endif  // TIDEMARK_CONFIG_FIELDS_H_
