#include "tidemark/backend/lake/delta_checkpoint.h"

#include <limits>
#include <utility>
#include <vector>

#include "tidemark/backend/lake/parquet.h"

namespace tidemark::backend::lake::delta {

namespace {

using parquet::Column;
using parquet::File;
using parquet::PhysicalType;
using parquet::Repetition;
using parquet::SchemaNode;
using Path = std::vector<std::string>;

enum class Kind { kString, kInt, kBool };

tl::unexpected<util::Error> Damaged(const std::string& what, const std::string& problem) {
  return util::Fail(util::ErrorCategory::kVerify, what + " is damaged: " + problem);
}

std::string Dotted(const Path& path) {
  std::string out;
  for (const std::string& part : path) out += (out.empty() ? "" : ".") + part;
  return out;
}

bool TypeFits(PhysicalType type, Kind kind) {
  switch (kind) {
    case Kind::kString: return type == PhysicalType::kByteArray;
    case Kind::kInt: return type == PhysicalType::kInt32 || type == PhysicalType::kInt64;
    case Kind::kBool: return type == PhysicalType::kBoolean;
  }
  return false;
}

// Per entry, the index of its value in the column's values, or -1 for a null.
util::Result<std::vector<int32_t>> ValueIndex(const Column& column, Kind kind,
                                              const std::string& what, const Path& path) {
  std::vector<int32_t> index(column.entries, -1);
  int32_t next = 0;
  for (size_t e = 0; e < column.entries; ++e) {
    if (column.Def(e) == column.max_def) index[e] = next++;
  }
  const size_t values = kind == Kind::kString ? column.bytes.size() : column.ints.size();
  if (static_cast<size_t>(next) != values) {
    return Damaged(what, Dotted(path) + " has " + std::to_string(values) + " values for " +
                             std::to_string(next) + " defined entries");
  }
  return index;
}

// One leaf column of a row group, its entries grouped by row. A leaf the schema lacks
// reads as null in every row.
class Leaf {
 public:
  static util::Result<Leaf> Load(const File& file, size_t group, const Path& path, Kind kind,
                                 const std::string& what) {
    Leaf leaf;
    const size_t rows = static_cast<size_t>(file.RowGroupRows(group));
    const SchemaNode* node = file.Leaf(path);
    if (node == nullptr) {
      leaf.starts_.resize(rows + 1);
      for (size_t r = 0; r <= rows; ++r) leaf.starts_[r] = r;
      return leaf;
    }
    if (!node->type || !TypeFits(*node->type, kind)) {
      return Damaged(what, Dotted(path) + " has an unexpected Parquet type");
    }
    TM_TRY_ASSIGN(leaf.column_, file.ReadColumn(group, path));
    leaf.present_ = true;
    leaf.starts_ = leaf.column_.RowStarts();
    if (leaf.starts_.size() != rows + 1 || (rows > 0 && leaf.starts_[0] != 0)) {
      return Damaged(what, Dotted(path) + " does not hold one value per row");
    }
    TM_TRY_ASSIGN(leaf.index_, ValueIndex(leaf.column_, kind, what, path));
    return leaf;
  }

  size_t begin(size_t row) const { return starts_[row]; }
  size_t end(size_t row) const { return starts_[row + 1]; }
  int16_t Def(size_t entry) const { return present_ ? column_.Def(entry) : 0; }
  bool Has(size_t entry) const { return present_ && index_[entry] >= 0; }
  std::string_view Bytes(size_t entry) const { return column_.bytes[index_[entry]]; }
  int64_t Int(size_t entry) const { return column_.ints[index_[entry]]; }
  // For columns without repetition, where entry == row.
  std::optional<std::string> String(size_t row) const {
    return Has(row) ? std::optional<std::string>(Bytes(row)) : std::nullopt;
  }
  std::optional<int64_t> Optional(size_t row) const {
    return Has(row) ? std::optional<int64_t>(Int(row)) : std::nullopt;
  }

 private:
  Column column_;
  bool present_ = false;
  std::vector<size_t> starts_;
  std::vector<int32_t> index_;
};

// A map or list under `container`: the leaf (`child` 0 for keys and elements, 1 for
// values), the level at which the container is not null, and the level at which an
// entry exists. nullopt when the schema lacks the container.
struct Nested {
  Path leaf;
  int16_t container_level = 0;
  int16_t entry_level = 0;
};

std::optional<Nested> FindNested(const SchemaNode& root, const Path& container, size_t child) {
  Nested nested;
  const SchemaNode* node = &root;
  int16_t level = 0;
  for (const std::string& name : container) {
    node = node->Child(name);
    if (node == nullptr) return std::nullopt;
    if (node->repetition != Repetition::kRequired) ++level;
  }
  nested.container_level = level;
  nested.leaf = container;
  bool repeated = false;
  while (!node->is_leaf()) {
    if (node->children.empty()) return std::nullopt;
    const size_t pick = repeated && node->children.size() > child ? child : 0;
    node = &node->children[pick];
    nested.leaf.push_back(node->name);
    if (node->repetition != Repetition::kRequired) ++level;
    if (!repeated && node->repetition == Repetition::kRepeated) {
      repeated = true;
      nested.entry_level = level;
    }
  }
  if (!repeated) return std::nullopt;
  return nested;
}

// The maps (partitionValues, tags, configuration) and lists (partitionColumns,
// features) of one row group, by row.
class NestedReader {
 public:
  NestedReader(const File& file, size_t group, const std::string& what)
      : file_(file), group_(group), what_(what) {}

  util::Result<std::vector<std::optional<PartitionValues>>> Maps(const Path& container) {
    const size_t rows = static_cast<size_t>(file_.RowGroupRows(group_));
    std::vector<std::optional<PartitionValues>> maps(rows);
    const auto keys_at = FindNested(file_.schema(), container, 0);
    const auto values_at = FindNested(file_.schema(), container, 1);
    if (!keys_at || !values_at) return maps;
    TM_TRY_ASSIGN(Leaf keys, Leaf::Load(file_, group_, keys_at->leaf, Kind::kString, what_));
    TM_TRY_ASSIGN(Leaf values, Leaf::Load(file_, group_, values_at->leaf, Kind::kString, what_));
    for (size_t row = 0; row < rows; ++row) {
      if (keys.end(row) != values.end(row)) {
        return Damaged(what_, Dotted(container) + " has keys and values that do not pair up");
      }
      if (keys.Def(keys.begin(row)) < keys_at->container_level) continue;  // a null map
      PartitionValues& map = maps[row].emplace();
      for (size_t e = keys.begin(row); e < keys.end(row); ++e) {
        if (keys.Def(e) < keys_at->entry_level) continue;  // the empty map's one entry
        if (!keys.Has(e)) return Damaged(what_, Dotted(container) + " has a null key");
        map.emplace(std::string(keys.Bytes(e)),
                    values.Has(e) ? std::optional<std::string>(values.Bytes(e)) : std::nullopt);
      }
    }
    return maps;
  }

  util::Result<std::vector<std::optional<std::vector<std::string>>>> Lists(const Path& container) {
    const size_t rows = static_cast<size_t>(file_.RowGroupRows(group_));
    std::vector<std::optional<std::vector<std::string>>> lists(rows);
    const auto at = FindNested(file_.schema(), container, 0);
    if (!at) return lists;
    TM_TRY_ASSIGN(Leaf items, Leaf::Load(file_, group_, at->leaf, Kind::kString, what_));
    for (size_t row = 0; row < rows; ++row) {
      if (items.Def(items.begin(row)) < at->container_level) continue;
      std::vector<std::string>& list = lists[row].emplace();
      for (size_t e = items.begin(row); e < items.end(row); ++e) {
        if (items.Def(e) < at->entry_level) continue;
        if (!items.Has(e)) return Damaged(what_, Dotted(container) + " holds a null");
        list.emplace_back(items.Bytes(e));
      }
    }
    return lists;
  }

 private:
  const File& file_;
  size_t group_;
  const std::string& what_;
};

// The leaves of one action's struct in one row group.
class Action {
 public:
  Action(const File& file, size_t group, std::string name, const std::string& what)
      : file_(file), group_(group), name_(std::move(name)), what_(what) {}

  util::Result<Leaf> Load(const Path& path, Kind kind) const {
    Path full{name_};
    full.insert(full.end(), path.begin(), path.end());
    return Leaf::Load(file_, group_, full, kind, what_);
  }
  // The rows that hold this action, told by its required `key` leaf; a row with the
  // action but without its key is damage.
  util::Result<std::vector<size_t>> Rows(const Leaf& key, const std::string& key_name) const {
    std::vector<size_t> rows;
    const SchemaNode* node = file_.schema().Child(name_);
    if (node == nullptr) return rows;
    const int16_t present = node->repetition == Repetition::kRequired ? 0 : 1;
    const size_t count = static_cast<size_t>(file_.RowGroupRows(group_));
    for (size_t row = 0; row < count; ++row) {
      if (key.Has(row)) {
        rows.push_back(row);
      } else if (present > 0 && key.Def(row) >= present) {
        return Damaged(what_, "a " + name_ + " action without " + key_name);
      }
    }
    return rows;
  }
  const std::string& what() const { return what_; }

 private:
  const File& file_;
  size_t group_;
  std::string name_;
  const std::string& what_;
};

util::Result<std::vector<std::optional<DeletionVector>>> ReadDeletionVectors(const Action& action,
                                                                             size_t rows) {
  std::vector<std::optional<DeletionVector>> vectors(rows);
  TM_TRY_ASSIGN(Leaf storage, action.Load({"deletionVector", "storageType"}, Kind::kString));
  TM_TRY_ASSIGN(Leaf where, action.Load({"deletionVector", "pathOrInlineDv"}, Kind::kString));
  TM_TRY_ASSIGN(Leaf offset, action.Load({"deletionVector", "offset"}, Kind::kInt));
  TM_TRY_ASSIGN(Leaf size, action.Load({"deletionVector", "sizeInBytes"}, Kind::kInt));
  TM_TRY_ASSIGN(Leaf cardinality, action.Load({"deletionVector", "cardinality"}, Kind::kInt));
  TM_TRY_ASSIGN(Leaf max_row, action.Load({"deletionVector", "maxRowIndex"}, Kind::kInt));
  for (size_t row = 0; row < rows; ++row) {
    if (!storage.Has(row)) continue;
    if (!where.Has(row) || !size.Has(row) || !cardinality.Has(row)) {
      return Damaged(action.what(), "a deletion vector without its path, size or cardinality");
    }
    DeletionVector& dv = vectors[row].emplace();
    dv.storage_type = storage.Bytes(row);
    dv.path_or_inline_dv = where.Bytes(row);
    if (offset.Has(row)) dv.offset = static_cast<int32_t>(offset.Int(row));
    dv.size_in_bytes = static_cast<int32_t>(size.Int(row));
    dv.cardinality = cardinality.Int(row);
    dv.max_row_index = max_row.Optional(row);
  }
  return vectors;
}

util::Status ReadAdds(const File& file, size_t group, const std::string& what,
                      CommitActions* into) {
  const Action action(file, group, "add", what);
  TM_TRY_ASSIGN(Leaf path, action.Load({"path"}, Kind::kString));
  TM_TRY_ASSIGN(std::vector<size_t> rows, action.Rows(path, "path"));
  if (rows.empty()) return {};
  TM_TRY_ASSIGN(Leaf size, action.Load({"size"}, Kind::kInt));
  TM_TRY_ASSIGN(Leaf time, action.Load({"modificationTime"}, Kind::kInt));
  TM_TRY_ASSIGN(Leaf data_change, action.Load({"dataChange"}, Kind::kBool));
  TM_TRY_ASSIGN(Leaf stats, action.Load({"stats"}, Kind::kString));
  TM_TRY_ASSIGN(Leaf base_row_id, action.Load({"baseRowId"}, Kind::kInt));
  TM_TRY_ASSIGN(Leaf commit_version, action.Load({"defaultRowCommitVersion"}, Kind::kInt));
  TM_TRY_ASSIGN(Leaf clustering, action.Load({"clusteringProvider"}, Kind::kString));
  NestedReader nested(file, group, what);
  TM_TRY_ASSIGN(auto partition_values, nested.Maps({"add", "partitionValues"}));
  TM_TRY_ASSIGN(auto tags, nested.Maps({"add", "tags"}));
  TM_TRY_ASSIGN(auto vectors,
                ReadDeletionVectors(action, static_cast<size_t>(file.RowGroupRows(group))));
  into->adds.reserve(into->adds.size() + rows.size());
  for (size_t row : rows) {
    if (!size.Has(row) || !time.Has(row)) {
      return Damaged(what, "an add action without size or modificationTime");
    }
    AddFile& add = into->adds.emplace_back();
    add.path = path.Bytes(row);
    if (partition_values[row]) add.partition_values = std::move(*partition_values[row]);
    add.size = size.Int(row);
    add.modification_time = time.Int(row);
    add.data_change = data_change.Has(row) && data_change.Int(row) != 0;
    add.stats = stats.String(row);
    add.tags = std::move(tags[row]);
    add.deletion_vector = std::move(vectors[row]);
    add.base_row_id = base_row_id.Optional(row);
    add.default_row_commit_version = commit_version.Optional(row);
    add.clustering_provider = clustering.String(row);
  }
  return {};
}

util::Status ReadRemoves(const File& file, size_t group, const std::string& what,
                         CommitActions* into) {
  const Action action(file, group, "remove", what);
  TM_TRY_ASSIGN(Leaf path, action.Load({"path"}, Kind::kString));
  TM_TRY_ASSIGN(std::vector<size_t> rows, action.Rows(path, "path"));
  if (rows.empty()) return {};
  TM_TRY_ASSIGN(Leaf timestamp, action.Load({"deletionTimestamp"}, Kind::kInt));
  TM_TRY_ASSIGN(Leaf data_change, action.Load({"dataChange"}, Kind::kBool));
  TM_TRY_ASSIGN(Leaf size, action.Load({"size"}, Kind::kInt));
  TM_TRY_ASSIGN(auto vectors,
                ReadDeletionVectors(action, static_cast<size_t>(file.RowGroupRows(group))));
  for (size_t row : rows) {
    RemoveFile& remove = into->removes.emplace_back();
    remove.path = path.Bytes(row);
    remove.deletion_timestamp = timestamp.Optional(row);
    remove.data_change = data_change.Has(row) && data_change.Int(row) != 0;
    remove.size = size.Optional(row);
    remove.deletion_vector = std::move(vectors[row]);
  }
  return {};
}

util::Status ReadMetadata(const File& file, size_t group, const std::string& what,
                          CommitActions* into) {
  const Action action(file, group, "metaData", what);
  TM_TRY_ASSIGN(Leaf id, action.Load({"id"}, Kind::kString));
  TM_TRY_ASSIGN(std::vector<size_t> rows, action.Rows(id, "id"));
  if (rows.empty()) return {};
  if (rows.size() > 1 || into->metadata) return Damaged(what, "more than one metaData action");
  const size_t row = rows.front();
  TM_TRY_ASSIGN(Leaf schema, action.Load({"schemaString"}, Kind::kString));
  TM_TRY_ASSIGN(Leaf created, action.Load({"createdTime"}, Kind::kInt));
  NestedReader nested(file, group, what);
  TM_TRY_ASSIGN(auto columns, nested.Lists({"metaData", "partitionColumns"}));
  TM_TRY_ASSIGN(auto configuration, nested.Maps({"metaData", "configuration"}));
  Metadata& metadata = into->metadata.emplace();
  metadata.id = id.Bytes(row);
  metadata.schema_string = schema.String(row).value_or("");
  if (!columns[row]) return Damaged(what, "a metaData action without partitionColumns");
  metadata.partition_columns = std::move(*columns[row]);
  for (auto& [key, value] : configuration[row].value_or(PartitionValues())) {
    if (value) metadata.configuration.emplace(key, std::move(*value));
  }
  metadata.created_time = created.Optional(row);
  return {};
}

util::Status ReadProtocol(const File& file, size_t group, const std::string& what,
                          CommitActions* into) {
  const Action action(file, group, "protocol", what);
  TM_TRY_ASSIGN(Leaf reader, action.Load({"minReaderVersion"}, Kind::kInt));
  TM_TRY_ASSIGN(std::vector<size_t> rows, action.Rows(reader, "minReaderVersion"));
  if (rows.empty()) return {};
  if (rows.size() > 1 || into->protocol) return Damaged(what, "more than one protocol action");
  const size_t row = rows.front();
  TM_TRY_ASSIGN(Leaf writer, action.Load({"minWriterVersion"}, Kind::kInt));
  NestedReader nested(file, group, what);
  TM_TRY_ASSIGN(auto reader_features, nested.Lists({"protocol", "readerFeatures"}));
  TM_TRY_ASSIGN(auto writer_features, nested.Lists({"protocol", "writerFeatures"}));
  const auto in_range = [](int64_t v) {
    return v >= 1 && v <= std::numeric_limits<int32_t>::max();
  };
  if (!writer.Has(row) || !in_range(reader.Int(row)) || !in_range(writer.Int(row))) {
    return Damaged(what, "a protocol action without valid versions");
  }
  Protocol& protocol = into->protocol.emplace();
  protocol.min_reader_version = static_cast<int32_t>(reader.Int(row));
  protocol.min_writer_version = static_cast<int32_t>(writer.Int(row));
  protocol.reader_features = std::move(reader_features[row]);
  protocol.writer_features = std::move(writer_features[row]);
  return {};
}

util::Status ReadTxns(const File& file, size_t group, const std::string& what,
                      CommitActions* into) {
  const Action action(file, group, "txn", what);
  TM_TRY_ASSIGN(Leaf app_id, action.Load({"appId"}, Kind::kString));
  TM_TRY_ASSIGN(std::vector<size_t> rows, action.Rows(app_id, "appId"));
  if (rows.empty()) return {};
  TM_TRY_ASSIGN(Leaf version, action.Load({"version"}, Kind::kInt));
  TM_TRY_ASSIGN(Leaf last_updated, action.Load({"lastUpdated"}, Kind::kInt));
  for (size_t row : rows) {
    if (!version.Has(row)) return Damaged(what, "a txn action without version");
    into->txns.push_back(
        {std::string(app_id.Bytes(row)), version.Int(row), last_updated.Optional(row)});
  }
  return {};
}

util::Status ReadDomains(const File& file, size_t group, const std::string& what,
                         CommitActions* into) {
  const Action action(file, group, "domainMetadata", what);
  TM_TRY_ASSIGN(Leaf domain, action.Load({"domain"}, Kind::kString));
  TM_TRY_ASSIGN(std::vector<size_t> rows, action.Rows(domain, "domain"));
  if (rows.empty()) return {};
  TM_TRY_ASSIGN(Leaf configuration, action.Load({"configuration"}, Kind::kString));
  TM_TRY_ASSIGN(Leaf removed, action.Load({"removed"}, Kind::kBool));
  for (size_t row : rows) {
    into->domains.push_back({std::string(domain.Bytes(row)), configuration.String(row).value_or(""),
                             removed.Has(row) && removed.Int(row) != 0});
  }
  return {};
}

}  // namespace

util::Status ReadCheckpointPart(std::shared_ptr<const std::string> bytes, const std::string& what,
                                CommitActions* into) {
  TM_TRY_ASSIGN(const File file, File::Open(std::move(bytes), what));
  for (const char* v2 : {"checkpointMetadata", "sidecar"}) {
    if (file.schema().Child(v2) != nullptr) {
      return util::ConfigError(what + " is a V2 checkpoint (it has " + v2 +
                               " actions), which tidemark cannot read");
    }
  }
  for (size_t group = 0; group < file.row_groups(); ++group) {
    TM_TRY(ReadProtocol(file, group, what, into));
    TM_TRY(ReadMetadata(file, group, what, into));
    TM_TRY(ReadTxns(file, group, what, into));
    TM_TRY(ReadDomains(file, group, what, into));
    TM_TRY(ReadRemoves(file, group, what, into));
    TM_TRY(ReadAdds(file, group, what, into));
  }
  return {};
}

}  // namespace tidemark::backend::lake::delta
