#include "tidemark/backend/lake/delta_log.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <utility>

#include <nlohmann/json.hpp>

#include "tidemark/util/strings.h"

namespace tidemark::backend::lake::delta {

namespace {

using json = nlohmann::json;

constexpr size_t kMaxLastCheckpointBytes = size_t{16} << 20;
constexpr size_t kMaxNameBytes = 100;    // of an action kind quoted in a message
constexpr size_t kMaxUnknownKinds = 32;  // listed per commit; more are ignored unlisted

// Where a value was read, for error messages.
struct Place {
  std::string_view what;
  size_t line = 0;
};

// "<what> line <n>: <field> <problem>" for a field, "<what> line <n> <problem>" for
// the line as a whole.
tl::unexpected<util::Error> Damaged(const Place& place, const std::string& problem) {
  return util::Fail(util::ErrorCategory::kVerify, std::string(place.what) + " line " +
                                                      std::to_string(place.line) + ": " + problem);
}
tl::unexpected<util::Error> BadLine(const Place& place, const std::string& problem) {
  return util::Fail(util::ErrorCategory::kVerify, std::string(place.what) + " line " +
                                                      std::to_string(place.line) + " " + problem);
}

// Whether objects and arrays nest at most `limit` deep. A scan, so that the parser
// never recurses over a hostile line; malformed text is left for the parser to refuse.
bool NestingWithin(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

util::Result<json> ParseJson(std::string_view text, const Place& place, int nesting = kMaxNesting) {
  if (!NestingWithin(text, nesting)) {
    return BadLine(place, "nests deeper than " + std::to_string(nesting) + " levels");
  }
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    std::string why = e.what();
    if (const size_t bracket = why.find("] "); bracket != std::string::npos)
      why.erase(0, bracket + 2);
    if (why.size() > 200) why.resize(200);
    return BadLine(place, "is not valid JSON (" + why + ")");
  }
}

std::string_view Trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// The members of one action object, read with messages that name the field.
class Fields {
 public:
  Fields(json& object, std::string action, const Place& place)
      : object_(object), action_(std::move(action)), place_(place) {}

  tl::unexpected<util::Error> Fail(std::string_view field, const std::string& problem) const {
    return Damaged(place_, action_ + "." + std::string(field) + " " + problem);
  }
  tl::unexpected<util::Error> WrongType(std::string_view field, const json& v,
                                        const char* expected) const {
    return Fail(field, std::string("is ") + v.type_name() + ", expected " + expected);
  }

  // The member, or nullptr when it is absent or null.
  json* Find(const char* field) {
    auto it = object_.find(field);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }
  util::Result<json*> Require(const char* field) {
    auto it = object_.find(field);
    if (it == object_.end()) return Fail(field, "is missing");
    if (it->is_null()) return Fail(field, "is null");
    return &*it;
  }

  util::Result<std::string> String(const char* field) {
    TM_TRY_ASSIGN(json * v, Require(field));
    return TakeString(field, *v);
  }
  util::Result<std::optional<std::string>> OptionalString(const char* field) {
    json* v = Find(field);
    if (v == nullptr) return std::nullopt;
    TM_TRY_ASSIGN(std::string s, TakeString(field, *v));
    return s;
  }
  util::Result<int64_t> Int(const char* field, int64_t min = std::numeric_limits<int64_t>::min(),
                            int64_t max = std::numeric_limits<int64_t>::max()) {
    TM_TRY_ASSIGN(json * v, Require(field));
    return ToInt(field, *v, min, max);
  }
  util::Result<std::optional<int64_t>> OptionalInt(
      const char* field, int64_t min = std::numeric_limits<int64_t>::min(),
      int64_t max = std::numeric_limits<int64_t>::max()) {
    json* v = Find(field);
    if (v == nullptr) return std::nullopt;
    TM_TRY_ASSIGN(int64_t n, ToInt(field, *v, min, max));
    return n;
  }
  util::Result<bool> Bool(const char* field) {
    TM_TRY_ASSIGN(json * v, Require(field));
    if (!v->is_boolean()) return WrongType(field, *v, "a boolean");
    return v->get<bool>();
  }
  util::Result<std::optional<bool>> OptionalBool(const char* field) {
    json* v = Find(field);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) return WrongType(field, *v, "a boolean");
    return v->get<bool>();
  }
  // An object of strings or nulls.
  util::Result<PartitionValues> StringMap(const char* field) {
    TM_TRY_ASSIGN(json * v, Require(field));
    return ToStringMap(field, *v);
  }
  util::Result<std::optional<PartitionValues>> OptionalStringMap(const char* field) {
    json* v = Find(field);
    if (v == nullptr) return std::nullopt;
    TM_TRY_ASSIGN(PartitionValues map, ToStringMap(field, *v));
    return map;
  }
  util::Result<std::vector<std::string>> StringArray(const char* field) {
    TM_TRY_ASSIGN(json * v, Require(field));
    return ToStringArray(field, *v);
  }
  util::Result<std::optional<std::vector<std::string>>> OptionalStringArray(const char* field) {
    json* v = Find(field);
    if (v == nullptr) return std::nullopt;
    TM_TRY_ASSIGN(std::vector<std::string> array, ToStringArray(field, *v));
    return array;
  }
  const std::string& action() const { return action_; }
  const Place& place() const { return place_; }

 private:
  util::Result<std::string> TakeString(std::string_view field, json& v) const {
    if (!v.is_string()) return WrongType(field, v, "a string");
    return std::move(v.get_ref<std::string&>());
  }
  util::Result<int64_t> ToInt(std::string_view field, const json& v, int64_t min,
                              int64_t max) const {
    if (!v.is_number_integer()) return WrongType(field, v, "an integer");
    if (v.is_number_unsigned() &&
        v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Fail(field, "is out of range");
    }
    const int64_t n = v.get<int64_t>();
    if (n < min || n > max) return Fail(field, "is out of range (" + std::to_string(n) + ")");
    return n;
  }
  util::Result<PartitionValues> ToStringMap(std::string_view field, json& v) const {
    if (!v.is_object()) return WrongType(field, v, "an object");
    PartitionValues out;
    for (auto& [key, value] : v.get_ref<json::object_t&>()) {
      if (value.is_null()) {
        out.emplace_hint(out.end(), key, std::nullopt);
      } else if (value.is_string()) {
        out.emplace_hint(out.end(), key, std::move(value.get_ref<std::string&>()));
      } else {
        return WrongType(std::string(field) + "." + key, value, "a string or null");
      }
    }
    return out;
  }
  util::Result<std::vector<std::string>> ToStringArray(std::string_view field, json& v) const {
    if (!v.is_array()) return WrongType(field, v, "an array");
    std::vector<std::string> out;
    out.reserve(v.size());
    for (json& item : v) {
      if (!item.is_string()) return WrongType(std::string(field) + "[]", item, "a string");
      out.push_back(std::move(item.get_ref<std::string&>()));
    }
    return out;
  }

  json& object_;
  std::string action_;
  const Place& place_;
};

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

util::Result<std::optional<DeletionVector>> ParseDeletionVector(Fields& parent) {
  json* v = parent.Find("deletionVector");
  if (v == nullptr) return std::nullopt;
  if (!v->is_object()) return parent.WrongType("deletionVector", *v, "an object");
  Fields f(*v, parent.action() + ".deletionVector", parent.place());
  DeletionVector dv;
  TM_TRY_ASSIGN(dv.storage_type, f.String("storageType"));
  TM_TRY_ASSIGN(dv.path_or_inline_dv, f.String("pathOrInlineDv"));
  TM_TRY_ASSIGN(std::optional<int64_t> offset, f.OptionalInt("offset", 0, kInt32Max));
  if (offset) dv.offset = static_cast<int32_t>(*offset);
  TM_TRY_ASSIGN(int64_t size, f.Int("sizeInBytes", 0, kInt32Max));
  dv.size_in_bytes = static_cast<int32_t>(size);
  TM_TRY_ASSIGN(dv.cardinality, f.Int("cardinality", 0));
  TM_TRY_ASSIGN(dv.max_row_index, f.OptionalInt("maxRowIndex"));
  return dv;
}

// Stats are a JSON string in the log; a writer that put an object there is tolerated,
// since tidemark only carries stats along.
util::Result<std::optional<std::string>> ParseStats(Fields& f) {
  json* v = f.Find("stats");
  if (v != nullptr && v->is_object()) return v->dump();
  return f.OptionalString("stats");
}

util::Result<AddFile> ParseAdd(json& object, const Place& place) {
  Fields f(object, "add", place);
  AddFile add;
  TM_TRY_ASSIGN(add.path, f.String("path"));
  if (add.path.empty()) return f.Fail("path", "is empty");
  TM_TRY_ASSIGN(add.partition_values, f.StringMap("partitionValues"));
  TM_TRY_ASSIGN(add.size, f.Int("size", 0));
  TM_TRY_ASSIGN(add.modification_time, f.Int("modificationTime"));
  TM_TRY_ASSIGN(add.data_change, f.Bool("dataChange"));
  TM_TRY_ASSIGN(add.stats, ParseStats(f));
  TM_TRY_ASSIGN(add.tags, f.OptionalStringMap("tags"));
  TM_TRY_ASSIGN(add.deletion_vector, ParseDeletionVector(f));
  TM_TRY_ASSIGN(add.base_row_id, f.OptionalInt("baseRowId"));
  TM_TRY_ASSIGN(add.default_row_commit_version, f.OptionalInt("defaultRowCommitVersion"));
  TM_TRY_ASSIGN(add.clustering_provider, f.OptionalString("clusteringProvider"));
  return add;
}

util::Result<RemoveFile> ParseRemove(json& object, const Place& place) {
  Fields f(object, "remove", place);
  RemoveFile remove;
  TM_TRY_ASSIGN(remove.path, f.String("path"));
  if (remove.path.empty()) return f.Fail("path", "is empty");
  TM_TRY_ASSIGN(remove.deletion_timestamp, f.OptionalInt("deletionTimestamp"));
  TM_TRY_ASSIGN(remove.data_change, f.Bool("dataChange"));
  TM_TRY_ASSIGN(remove.extended_file_metadata, f.OptionalBool("extendedFileMetadata"));
  TM_TRY_ASSIGN(remove.partition_values, f.OptionalStringMap("partitionValues"));
  TM_TRY_ASSIGN(remove.size, f.OptionalInt("size", 0));
  TM_TRY_ASSIGN(remove.tags, f.OptionalStringMap("tags"));
  TM_TRY_ASSIGN(remove.deletion_vector, ParseDeletionVector(f));
  TM_TRY_ASSIGN(remove.base_row_id, f.OptionalInt("baseRowId"));
  TM_TRY_ASSIGN(remove.default_row_commit_version, f.OptionalInt("defaultRowCommitVersion"));
  return remove;
}

util::Result<Metadata> ParseMetadata(json& object, const Place& place) {
  Fields f(object, "metaData", place);
  Metadata metadata;
  TM_TRY_ASSIGN(metadata.id, f.String("id"));
  // Required by the protocol, yet Spark's own test tables omit it: read as no schema.
  TM_TRY_ASSIGN(std::optional<std::string> schema, f.OptionalString("schemaString"));
  metadata.schema_string = schema.value_or("");
  TM_TRY_ASSIGN(metadata.partition_columns, f.StringArray("partitionColumns"));
  TM_TRY_ASSIGN(std::optional<PartitionValues> configuration, f.OptionalStringMap("configuration"));
  for (auto& [key, value] : configuration.value_or(PartitionValues())) {
    if (value) metadata.configuration.emplace(key, std::move(*value));
  }
  TM_TRY_ASSIGN(metadata.created_time, f.OptionalInt("createdTime"));
  return metadata;
}

util::Result<Protocol> ParseProtocol(json& object, const Place& place) {
  Fields f(object, "protocol", place);
  Protocol protocol;
  TM_TRY_ASSIGN(int64_t reader, f.Int("minReaderVersion", 1, kInt32Max));
  TM_TRY_ASSIGN(int64_t writer, f.Int("minWriterVersion", 1, kInt32Max));
  protocol.min_reader_version = static_cast<int32_t>(reader);
  protocol.min_writer_version = static_cast<int32_t>(writer);
  TM_TRY_ASSIGN(protocol.reader_features, f.OptionalStringArray("readerFeatures"));
  TM_TRY_ASSIGN(protocol.writer_features, f.OptionalStringArray("writerFeatures"));
  return protocol;
}

util::Result<Transaction> ParseTxn(json& object, const Place& place) {
  Fields f(object, "txn", place);
  Transaction txn;
  TM_TRY_ASSIGN(txn.app_id, f.String("appId"));
  TM_TRY_ASSIGN(txn.version, f.Int("version"));
  TM_TRY_ASSIGN(txn.last_updated, f.OptionalInt("lastUpdated"));
  return txn;
}

util::Result<DomainMetadata> ParseDomain(json& object, const Place& place) {
  Fields f(object, "domainMetadata", place);
  DomainMetadata domain;
  TM_TRY_ASSIGN(domain.domain, f.String("domain"));
  TM_TRY_ASSIGN(std::optional<std::string> configuration, f.OptionalString("configuration"));
  domain.configuration = configuration.value_or("");
  TM_TRY_ASSIGN(std::optional<bool> removed, f.OptionalBool("removed"));
  domain.removed = removed.value_or(false);
  return domain;
}

// The raw text of the value of a line holding one object member: what follows the
// member's name and colon, up to the closing brace. REQUIRES: the line parsed as a
// JSON object of exactly one member.
std::string_view SoleMemberText(std::string_view line) {
  size_t i = line.find('"') + 1;
  while (i < line.size() && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
  i = line.find(':', i) + 1;
  return Trim(line.substr(i, line.rfind('}') - i));
}

util::Status ParseAction(std::string_view kind, json& value, std::string_view line, size_t members,
                         const Place& place, CommitActions* out) {
  const auto needs_object = [&]() -> util::Status {
    if (value.is_object()) return {};
    return Damaged(place, std::string(kind) + " is " + value.type_name() + ", expected an object");
  };
  if (kind == "add") {
    TM_TRY(needs_object());
    TM_TRY_ASSIGN(AddFile add, ParseAdd(value, place));
    out->adds.push_back(std::move(add));
  } else if (kind == "remove") {
    TM_TRY(needs_object());
    TM_TRY_ASSIGN(RemoveFile remove, ParseRemove(value, place));
    out->removes.push_back(std::move(remove));
  } else if (kind == "metaData") {
    TM_TRY(needs_object());
    if (out->metadata) return Damaged(place, "a second metaData action in one commit");
    TM_TRY_ASSIGN(out->metadata, ParseMetadata(value, place));
  } else if (kind == "protocol") {
    TM_TRY(needs_object());
    if (out->protocol) return Damaged(place, "a second protocol action in one commit");
    TM_TRY_ASSIGN(out->protocol, ParseProtocol(value, place));
  } else if (kind == "txn") {
    TM_TRY(needs_object());
    TM_TRY_ASSIGN(Transaction txn, ParseTxn(value, place));
    out->txns.push_back(std::move(txn));
  } else if (kind == "domainMetadata") {
    TM_TRY(needs_object());
    TM_TRY_ASSIGN(DomainMetadata domain, ParseDomain(value, place));
    out->domains.push_back(std::move(domain));
  } else if (kind == "commitInfo") {
    out->commit_info = members == 1 ? std::string(SoleMemberText(line)) : value.dump();
  } else if (kind == "cdc") {
    ++out->cdc_files;
  } else if (kind != "checkpointMetadata" && kind != "sidecar") {
    const std::string name(kind.substr(0, kMaxNameBytes));
    auto& unknown = out->unknown_kinds;
    if (unknown.size() < kMaxUnknownKinds &&
        std::find(unknown.begin(), unknown.end(), name) == unknown.end()) {
      unknown.push_back(name);
    }
  }
  return {};
}

util::Status ParseLine(std::string_view line, const Place& place, CommitActions* out) {
  line = Trim(line);
  if (line.empty()) return {};
  if (line.size() > kMaxLineBytes) {
    return BadLine(place, "is longer than " + std::to_string(kMaxLineBytes) + " bytes");
  }
  TM_TRY_ASSIGN(json j, ParseJson(line, place));
  if (!j.is_object()) return BadLine(place, std::string("is ") + j.type_name() + ", not an action");
  json* action = nullptr;
  std::string_view kind;
  for (auto& [key, value] : j.get_ref<json::object_t&>()) {
    if (value.is_null()) continue;
    if (action != nullptr) {
      return BadLine(place, "holds two actions (" + std::string(kind.substr(0, kMaxNameBytes)) +
                                " and " + key.substr(0, kMaxNameBytes) + ")");
    }
    action = &value;
    kind = key;
  }
  if (action == nullptr) return BadLine(place, "holds no action");
  return ParseAction(kind, *action, line, j.size(), place, out);
}

}  // namespace

std::string DeletionVector::UniqueId() const {
  std::string id = storage_type + path_or_inline_dv;
  if (offset) id += "@" + std::to_string(*offset);
  return id;
}

util::Result<CommitActions> ParseCommit(std::string_view text, std::string_view what) {
  CommitActions out;
  Place place{what, 0};
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    ++place.line;
    TM_TRY(ParseLine(text.substr(start, end - start), place, &out));
    start = end + 1;
  }
  return out;
}

util::Result<LastCheckpoint> ParseLastCheckpoint(std::string_view text, std::string_view what) {
  const Place place{what, 1};
  if (text.size() > kMaxLastCheckpointBytes) return BadLine(place, "is too long");
  TM_TRY_ASSIGN(json j, ParseJson(Trim(text), place));
  if (!j.is_object()) return BadLine(place, std::string("is ") + j.type_name() + ", not an object");
  Fields f(j, "_last_checkpoint", place);
  LastCheckpoint last;
  TM_TRY_ASSIGN(last.version, f.Int("version", 0));
  TM_TRY_ASSIGN(last.size, f.OptionalInt("size", 0));
  TM_TRY_ASSIGN(last.parts, f.OptionalInt("parts", 1, kInt32Max));
  last.v2 = f.Find("v2Checkpoint") != nullptr;
  return last;
}

util::Result<std::vector<SchemaColumn>> ParseSchemaColumns(std::string_view schema_string,
                                                           std::string_view what) {
  // Schemas of nested columns nest deeper than actions; the parser itself is iterative.
  constexpr int kMaxSchemaNesting = 1000;
  const Place place{what, 1};
  TM_TRY_ASSIGN(json schema, ParseJson(schema_string, place, kMaxSchemaNesting));
  if (!schema.is_object()) return Damaged(place, "metaData.schemaString is not a JSON object");
  Fields root(schema, "metaData.schemaString", place);
  TM_TRY_ASSIGN(json * fields, root.Require("fields"));
  if (!fields->is_array()) return root.WrongType("fields", *fields, "an array");
  std::vector<SchemaColumn> columns;
  for (json& field : *fields) {
    if (!field.is_object()) return root.WrongType("fields[]", field, "an object");
    Fields f(field, "metaData.schemaString.fields[]", place);
    SchemaColumn column;
    TM_TRY_ASSIGN(column.name, f.String("name"));
    if (json* metadata = f.Find("metadata"); metadata != nullptr && metadata->is_object()) {
      Fields m(*metadata, "metaData.schemaString.fields[" + column.name + "].metadata", place);
      TM_TRY_ASSIGN(column.physical_name, m.OptionalString("delta.columnMapping.physicalName"));
    }
    columns.push_back(std::move(column));
  }
  return columns;
}

// --- Paths ---

namespace {

// An absolute URI or path split into its parts; the path stays encoded.
struct Uri {
  std::string scheme;  // lower case; s3a and s3n read as s3; empty for "/path"
  std::string authority;
  std::string_view path;
};

bool IsSchemeChar(char c, bool first) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  return alpha || (!first && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
}

// The URI's parts, or nullopt for a relative path.
std::optional<Uri> SplitAbsolute(std::string_view text) {
  Uri uri;
  size_t i = 0;
  while (i < text.size() && IsSchemeChar(text[i], i == 0)) ++i;
  if (i > 0 && i < text.size() && text[i] == ':') {
    for (char c : text.substr(0, i)) uri.scheme += static_cast<char>(std::tolower(c));
    if (uri.scheme == "s3a" || uri.scheme == "s3n") uri.scheme = "s3";
    text.remove_prefix(i + 1);
    if (text.substr(0, 2) == "//") {
      const size_t slash = std::min(text.find('/', 2), text.size());
      uri.authority = std::string(text.substr(2, slash - 2));
      text.remove_prefix(slash);
    }
    if (uri.scheme == "file" && uri.authority == "localhost") uri.authority.clear();
    uri.path = text;
    return uri;
  }
  if (!text.empty() && text.front() == '/') {
    uri.path = text;
    return uri;
  }
  return std::nullopt;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

util::Result<std::string> PercentDecodeStrict(std::string_view text, std::string_view whole) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int high = i + 2 < text.size() ? HexValue(text[i + 1]) : -1;
    const int low = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
    if (high < 0 || low < 0) {
      return util::Fail(util::ErrorCategory::kVerify,
                        "path \"" + std::string(whole) + "\" in the Delta log has a bad % escape");
    }
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

util::Status CheckKey(const std::string& key, std::string_view whole) {
  const auto bad = [&](const char* why) {
    return util::Fail(util::ErrorCategory::kVerify,
                      "path \"" + std::string(whole) + "\" in the Delta log " + why);
  };
  if (key.empty()) return bad("names no file");
  if (key.find('\0') != std::string::npos) return bad("holds a NUL byte");
  if (key.front() == '/') return bad("decodes to an absolute path");
  size_t start = 0;
  while (start <= key.size()) {
    const size_t end = std::min(key.find('/', start), key.size());
    const std::string_view segment(key.data() + start, end - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return bad("holds an empty, \".\" or \"..\" segment");
    }
    start = end + 1;
  }
  return {};
}

}  // namespace

util::Result<ResolvedPath> ResolveLogPath(std::string_view path, std::string_view table_root_url) {
  const std::optional<Uri> absolute = SplitAbsolute(path);
  if (!absolute) {
    ResolvedPath resolved;
    if (path.find('%') == std::string_view::npos) {
      resolved.key = path;
    } else {
      TM_TRY_ASSIGN(resolved.key, PercentDecodeStrict(path, path));
    }
    TM_TRY(CheckKey(resolved.key, path));
    return resolved;
  }
  const std::optional<Uri> root = SplitAbsolute(table_root_url);
  if (!root) {
    return util::ConfigError("table root \"" + std::string(table_root_url) + "\" is not a URL");
  }
  Uri uri = *absolute;
  if (uri.scheme.empty()) {  // "/x": on the table's own filesystem, as Spark qualifies it
    uri.scheme = root->scheme;
    uri.authority = root->authority;
  }
  TM_TRY_ASSIGN(std::string decoded, PercentDecodeStrict(uri.path, path));
  std::string_view root_path = root->path;
  while (!root_path.empty() && root_path.back() == '/') root_path.remove_suffix(1);
  const bool inside = uri.scheme == root->scheme && uri.authority == root->authority &&
                      decoded.size() > root_path.size() + 1 &&
                      std::string_view(decoded).substr(0, root_path.size()) == root_path &&
                      decoded[root_path.size()] == '/';
  if (!inside) {
    std::string canonical = uri.scheme + ":";
    if (!uri.authority.empty() || uri.scheme != "file") canonical += "//" + uri.authority;
    return ResolvedPath{canonical + decoded, true};
  }
  ResolvedPath resolved{decoded.substr(root_path.size() + 1), false};
  TM_TRY(CheckKey(resolved.key, path));
  return resolved;
}

util::Result<std::string> DecodeLogPath(std::string_view path, std::string_view table_root_url) {
  TM_TRY_ASSIGN(ResolvedPath resolved, ResolveLogPath(path, table_root_url));
  if (resolved.outside_root) {
    return util::Fail(util::ErrorCategory::kVerify,
                      "path \"" + std::string(path) +
                          "\" in the Delta log lies outside the table "
                          "root " +
                          std::string(table_root_url) +
                          "; tidemark manages only files "
                          "under the table");
  }
  return std::move(resolved.key);
}

std::string EncodeLogPath(std::string_view key) {
  return util::PercentEncode(key, [](unsigned char byte) {
    static constexpr std::string_view kEscaped = " \"#%:<>?[\\]^`{|}";
    return byte < 0x20 || byte == 0x7F || kEscaped.find(static_cast<char>(byte)) != kEscaped.npos;
  });
}

// --- Writing ---

namespace {

void AppendQuoted(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  *out += '"';
  for (char c : s) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          *out += "\\u00";
          *out += kHex[(c >> 4) & 0xF];
          *out += kHex[c & 0xF];
        } else {
          *out += c;
        }
    }
  }
  *out += '"';
}

// Writes one JSON object member by member, in the order given (Spark's order).
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string* out) : out_(out) { *out_ += '{'; }
  ObjectWriter& Key(std::string_view key) {
    if (!first_) *out_ += ',';
    first_ = false;
    AppendQuoted(out_, key);
    *out_ += ':';
    return *this;
  }
  ObjectWriter& String(std::string_view key, std::string_view value) {
    Key(key);
    AppendQuoted(out_, value);
    return *this;
  }
  ObjectWriter& Int(std::string_view key, int64_t value) {
    Key(key);
    *out_ += std::to_string(value);
    return *this;
  }
  ObjectWriter& Bool(std::string_view key, bool value) {
    Key(key);
    *out_ += value ? "true" : "false";
    return *this;
  }
  // A nested object under `key`; close it before writing the next member here.
  ObjectWriter Object(std::string_view key) {
    Key(key);
    return ObjectWriter(out_);
  }
  ObjectWriter& Map(std::string_view key, const PartitionValues& map) {
    ObjectWriter inner = Object(key);
    for (const auto& [name, value] : map) {
      if (value) {
        inner.String(name, *value);
      } else {
        inner.Key(name);
        *out_ += "null";
      }
    }
    inner.Close();
    return *this;
  }
  ObjectWriter& Vector(std::string_view key, const DeletionVector& dv) {
    ObjectWriter inner = Object(key);
    inner.String("storageType", dv.storage_type).String("pathOrInlineDv", dv.path_or_inline_dv);
    if (dv.offset) inner.Int("offset", *dv.offset);
    inner.Int("sizeInBytes", dv.size_in_bytes).Int("cardinality", dv.cardinality);
    if (dv.max_row_index) inner.Int("maxRowIndex", *dv.max_row_index);
    inner.Close();
    return *this;
  }
  void Close() { *out_ += '}'; }

 private:
  std::string* out_;
  bool first_ = true;
};

// `{"<action>":{…}}`, the members written by `members`.
template <typename WriteMembers>
std::string Line(std::string_view action, WriteMembers members) {
  std::string out;
  ObjectWriter outer(&out);
  ObjectWriter inner = outer.Object(action);
  members(inner);
  inner.Close();
  outer.Close();
  return out;
}

// A JSON array of strings as text, as Spark writes predicates and partitionBy.
std::string JsonArrayText(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    AppendQuoted(&out, items[i]);
  }
  return out + "]";
}

std::string SerializeCommitInfo(const CommitInfoToWrite& info) {
  return Line("commitInfo", [&](ObjectWriter& w) {
    w.Int("timestamp", info.timestamp_ms).String("operation", info.operation);
    ObjectWriter parameters = w.Object("operationParameters");
    if (info.operation == "WRITE") {
      parameters.String("mode", "Append").String("partitionBy", JsonArrayText(info.partition_by));
    }
    if (!info.predicates.empty()) parameters.String("predicate", JsonArrayText(info.predicates));
    parameters.Close();
    if (info.read_version) w.Int("readVersion", *info.read_version);
    w.Bool("isBlindAppend", false).String("engineInfo", info.engine_info);
  });
}

bool IsUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t extra = 0;
    uint32_t min = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, min = 0x10000;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    uint32_t code = c & (0x3F >> extra);
    for (size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = code << 6 | (next & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace

std::string CommitInfoToWrite::EngineInfo() {
#ifdef TIDEMARK_VERSION
  return std::string("tidemark ") + TIDEMARK_VERSION;
#else
  return "tidemark";
#endif
}

RemoveFile RemoveForDelete(const AddFile& add, int64_t deletion_timestamp_ms) {
  RemoveFile remove;
  remove.path = add.path;
  remove.deletion_timestamp = deletion_timestamp_ms;
  remove.data_change = true;
  remove.extended_file_metadata = true;
  remove.partition_values = add.partition_values;
  remove.size = add.size;
  remove.tags = add.tags;
  remove.deletion_vector = add.deletion_vector;
  remove.base_row_id = add.base_row_id;
  remove.default_row_commit_version = add.default_row_commit_version;
  return remove;
}

AddFile AddForRestore(const AddFile& remembered) {
  AddFile add = remembered;
  add.data_change = true;
  return add;
}

std::string SerializeAction(const AddFile& add) {
  return Line("add", [&](ObjectWriter& w) {
    w.String("path", add.path).Map("partitionValues", add.partition_values);
    w.Int("size", add.size).Int("modificationTime", add.modification_time);
    w.Bool("dataChange", add.data_change);
    if (add.stats) w.String("stats", *add.stats);
    if (add.tags) w.Map("tags", *add.tags);
    if (add.deletion_vector) w.Vector("deletionVector", *add.deletion_vector);
    if (add.base_row_id) w.Int("baseRowId", *add.base_row_id);
    if (add.default_row_commit_version) {
      w.Int("defaultRowCommitVersion", *add.default_row_commit_version);
    }
    if (add.clustering_provider) w.String("clusteringProvider", *add.clustering_provider);
  });
}

std::string SerializeAction(const RemoveFile& remove) {
  return Line("remove", [&](ObjectWriter& w) {
    w.String("path", remove.path);
    if (remove.deletion_timestamp) w.Int("deletionTimestamp", *remove.deletion_timestamp);
    w.Bool("dataChange", remove.data_change);
    if (remove.extended_file_metadata) {
      w.Bool("extendedFileMetadata", *remove.extended_file_metadata);
    }
    if (remove.partition_values) w.Map("partitionValues", *remove.partition_values);
    if (remove.size) w.Int("size", *remove.size);
    if (remove.tags) w.Map("tags", *remove.tags);
    if (remove.deletion_vector) w.Vector("deletionVector", *remove.deletion_vector);
    if (remove.base_row_id) w.Int("baseRowId", *remove.base_row_id);
    if (remove.default_row_commit_version) {
      w.Int("defaultRowCommitVersion", *remove.default_row_commit_version);
    }
  });
}

std::string SerializeAction(const Transaction& txn) {
  return Line("txn", [&](ObjectWriter& w) {
    w.String("appId", txn.app_id).Int("version", txn.version);
    if (txn.last_updated) w.Int("lastUpdated", *txn.last_updated);
  });
}

util::Result<std::string> SerializeActions(const CommitToWrite& commit) {
  std::string out = SerializeCommitInfo(commit.commit_info) + "\n";
  if (commit.txn) out += SerializeAction(*commit.txn) + "\n";
  for (const RemoveFile& remove : commit.removes) out += SerializeAction(remove) + "\n";
  for (const AddFile& add : commit.adds) out += SerializeAction(add) + "\n";
  if (!IsUtf8(out)) {
    return util::StepError(
        "the Delta commit tidemark was to write holds text that is not UTF-8 "
        "(a path or partition value); nothing was written");
  }
  return out;
}

}  // namespace tidemark::backend::lake::delta
