#include "tidemark/backend/lake/parquet.h"

#include <cstring>
#include <unordered_map>

#include "tidemark/backend/lake/parquet_column.h"
#include "tidemark/backend/lake/thrift_compact.h"

namespace tidemark::backend::lake::parquet {

// A row group as the footer gives it.
struct RowGroupMeta {
  int64_t num_rows = 0;
  std::vector<ColumnChunk> columns;
};

namespace {

constexpr int kMaxSchemaDepth = 64;

const char* const kConvertedTypes[] = {"UTF8",
                                       "MAP",
                                       "MAP_KEY_VALUE",
                                       "LIST",
                                       "ENUM",
                                       "DECIMAL",
                                       "DATE",
                                       "TIME_MILLIS",
                                       "TIME_MICROS",
                                       "TIMESTAMP_MILLIS",
                                       "TIMESTAMP_MICROS",
                                       "UINT_8",
                                       "UINT_16",
                                       "UINT_32",
                                       "UINT_64",
                                       "INT_8",
                                       "INT_16",
                                       "INT_32",
                                       "INT_64",
                                       "JSON",
                                       "BSON",
                                       "INTERVAL"};

// LogicalType is a union: the field id says which.
const char* LogicalTypeName(int16_t id) {
  static const char* const kNames[] = {"",        "STRING",  "MAP",      "LIST",      "ENUM",
                                       "DECIMAL", "DATE",    "TIME",     "TIMESTAMP", "",
                                       "INTEGER", "UNKNOWN", "JSON",     "BSON",      "UUID",
                                       "FLOAT16", "VARIANT", "GEOMETRY", "GEOGRAPHY"};
  if (id < 0 || static_cast<size_t>(id) >= std::size(kNames)) return "";
  return kNames[id];
}

// A SchemaElement as the footer lists it, depth first.
struct Element {
  std::optional<int32_t> type;
  int32_t type_length = 0;
  std::optional<int32_t> repetition;
  std::string name;
  std::optional<int32_t> num_children;
  std::string converted_type;
  std::string logical_type;
};

std::string JoinPath(const std::vector<std::string>& path) {
  std::string out;
  for (const std::string& part : path) {
    if (!out.empty()) out += '.';
    out += part;
  }
  return out;
}

util::Result<int32_t> ReadI32(ThriftReader& r, const ThriftField& f) {
  TM_TRY(r.Expect(f, ThriftType::kI32));
  return r.I32();
}

util::Result<int64_t> ReadI64(ThriftReader& r, const ThriftField& f) {
  TM_TRY(r.Expect(f, ThriftType::kI64));
  return r.I64();
}

util::Result<std::string> ReadString(ThriftReader& r, const ThriftField& f) {
  TM_TRY(r.Expect(f, ThriftType::kBinary));
  TM_TRY_ASSIGN(std::string_view s, r.Binary());
  return std::string(s);
}

// A list of structs, each read by `read_one`.
template <typename ReadOne>
util::Status ReadStructList(ThriftReader& r, const ThriftField& f, ReadOne&& read_one) {
  TM_TRY(r.Expect(f, ThriftType::kList));
  TM_TRY_ASSIGN(ThriftList list, r.ListBegin());
  if (list.element != ThriftType::kStruct)
    return r.Expect({f.id, list.element}, ThriftType::kStruct);
  for (uint32_t i = 0; i < list.size; ++i) TM_TRY(read_one());
  return {};
}

util::Result<Element> ReadElement(ThriftReader& r) {
  Element e;
  TM_TRY(r.ReadStruct([&](const ThriftField& f) -> util::Result<bool> {
    switch (f.id) {
      case 1: {
        TM_TRY_ASSIGN(e.type, ReadI32(r, f));
        return true;
      }
      case 2: {
        TM_TRY_ASSIGN(e.type_length, ReadI32(r, f));
        return true;
      }
      case 3: {
        TM_TRY_ASSIGN(e.repetition, ReadI32(r, f));
        return true;
      }
      case 4: {
        TM_TRY_ASSIGN(e.name, ReadString(r, f));
        return true;
      }
      case 5: {
        TM_TRY_ASSIGN(e.num_children, ReadI32(r, f));
        return true;
      }
      case 6: {
        TM_TRY_ASSIGN(int32_t converted, ReadI32(r, f));
        e.converted_type = ConvertedTypeName(converted);
        return true;
      }
      case 10: {
        TM_TRY(r.Expect(f, ThriftType::kStruct));
        TM_TRY(r.ReadStruct([&](const ThriftField& member) -> util::Result<bool> {
          e.logical_type = LogicalTypeName(member.id);
          return false;
        }));
        return true;
      }
      default: return false;
    }
  }));
  return e;
}

util::Result<ColumnChunk> ReadColumnMetaData(ThriftReader& r) {
  ColumnChunk c;
  TM_TRY(r.ReadStruct([&](const ThriftField& f) -> util::Result<bool> {
    switch (f.id) {
      case 1: {
        TM_TRY_ASSIGN(int32_t type, ReadI32(r, f));
        c.type = static_cast<PhysicalType>(type);  // checked against the schema's
        return true;
      }
      case 2: {
        TM_TRY(r.Expect(f, ThriftType::kList));
        TM_TRY_ASSIGN(ThriftList list, r.ListBegin());
        TM_TRY(r.Expect({f.id, list.element}, ThriftType::kI32));
        for (uint32_t i = 0; i < list.size; ++i) {
          TM_TRY_ASSIGN(int32_t encoding, r.I32());
          c.encodings.push_back(static_cast<Encoding>(encoding));
        }
        return true;
      }
      case 3: {
        TM_TRY(r.Expect(f, ThriftType::kList));
        TM_TRY_ASSIGN(ThriftList list, r.ListBegin());
        TM_TRY(r.Expect({f.id, list.element}, ThriftType::kBinary));
        for (uint32_t i = 0; i < list.size; ++i) {
          TM_TRY_ASSIGN(std::string_view part, r.Binary());
          c.path.emplace_back(part);
        }
        return true;
      }
      case 4: {
        TM_TRY_ASSIGN(int32_t codec, ReadI32(r, f));
        c.codec = static_cast<Codec>(codec);
        return true;
      }
      case 5: {
        TM_TRY_ASSIGN(c.num_values, ReadI64(r, f));
        return true;
      }
      case 6: {
        TM_TRY_ASSIGN(c.total_uncompressed_size, ReadI64(r, f));
        return true;
      }
      case 7: {
        TM_TRY_ASSIGN(c.total_compressed_size, ReadI64(r, f));
        return true;
      }
      case 9: {
        TM_TRY_ASSIGN(c.data_page_offset, ReadI64(r, f));
        return true;
      }
      case 11: {
        TM_TRY_ASSIGN(c.dictionary_page_offset, ReadI64(r, f));
        return true;
      }
      default: return false;
    }
  }));
  return c;
}

// A ColumnChunk: where its data is and its ColumnMetaData.
util::Result<ColumnChunk> ReadColumnChunk(ThriftReader& r, const std::string& what) {
  std::optional<ColumnChunk> chunk;
  bool elsewhere = false, encrypted = false;
  TM_TRY(r.ReadStruct([&](const ThriftField& f) -> util::Result<bool> {
    switch (f.id) {
      case 1: {
        TM_TRY_ASSIGN(std::string path, ReadString(r, f));
        elsewhere = !path.empty();
        return true;
      }
      case 3: {
        TM_TRY(r.Expect(f, ThriftType::kStruct));
        TM_TRY_ASSIGN(chunk, ReadColumnMetaData(r));
        return true;
      }
      case 8:
      case 9: encrypted = true; return false;
      default: return false;
    }
  }));
  auto refuse = [&](const std::string& why) {
    return util::Fail(util::ErrorCategory::kVerify, what + ": " + why);
  };
  if (elsewhere) return refuse("a column chunk lies in another file, which is not supported");
  if (!chunk) {
    return refuse(encrypted ? "encrypted columns are not supported"
                            : "a column chunk has no metadata");
  }
  return std::move(*chunk);
}

util::Result<RowGroupMeta> ReadRowGroup(ThriftReader& r, const std::string& what) {
  RowGroupMeta g;
  TM_TRY(r.ReadStruct([&](const ThriftField& f) -> util::Result<bool> {
    switch (f.id) {
      case 1:
        TM_TRY(ReadStructList(r, f, [&]() -> util::Status {
          TM_TRY_ASSIGN(ColumnChunk c, ReadColumnChunk(r, what));
          g.columns.push_back(std::move(c));
          return {};
        }));
        return true;
      case 3: {
        TM_TRY_ASSIGN(g.num_rows, ReadI64(r, f));
        return true;
      }
      default: return false;
    }
  }));
  return g;
}

}  // namespace

struct File::Footer {
  int64_t num_rows = 0;
  std::vector<RowGroupMeta> row_groups;
  std::vector<const SchemaNode*> leaves;
  std::vector<std::vector<std::string>> leaf_paths;
  std::vector<LeafInfo> leaf_infos;
  std::unordered_map<const SchemaNode*, size_t> leaf_index;
};

const char* ConvertedTypeName(int32_t code) {
  if (code < 0 || static_cast<size_t>(code) >= std::size(kConvertedTypes)) return "";
  return kConvertedTypes[code];
}

const char* CodecName(Codec codec) {
  switch (codec) {
    case Codec::kUncompressed: return "UNCOMPRESSED";
    case Codec::kSnappy: return "SNAPPY";
    case Codec::kGzip: return "GZIP";
    case Codec::kLzo: return "LZO";
    case Codec::kBrotli: return "BROTLI";
    case Codec::kLz4: return "LZ4";
    case Codec::kZstd: return "ZSTD";
    case Codec::kLz4Raw: return "LZ4_RAW";
  }
  return "unknown";
}

const char* EncodingName(Encoding encoding) {
  switch (encoding) {
    case Encoding::kPlain: return "PLAIN";
    case Encoding::kPlainDictionary: return "PLAIN_DICTIONARY";
    case Encoding::kRle: return "RLE";
    case Encoding::kBitPacked: return "BIT_PACKED";
    case Encoding::kDeltaBinaryPacked: return "DELTA_BINARY_PACKED";
    case Encoding::kDeltaLengthByteArray: return "DELTA_LENGTH_BYTE_ARRAY";
    case Encoding::kDeltaByteArray: return "DELTA_BYTE_ARRAY";
    case Encoding::kRleDictionary: return "RLE_DICTIONARY";
    case Encoding::kByteStreamSplit: return "BYTE_STREAM_SPLIT";
  }
  return "unknown";
}

int64_t ColumnChunk::start() const {
  if (dictionary_page_offset && *dictionary_page_offset > 0 &&
      *dictionary_page_offset < data_page_offset) {
    return *dictionary_page_offset;
  }
  return data_page_offset;
}

const SchemaNode* SchemaNode::Child(std::string_view child_name) const {
  for (const SchemaNode& child : children) {
    if (child.name == child_name) return &child;
  }
  return nullptr;
}

std::vector<size_t> Column::RowStarts() const {
  std::vector<size_t> starts;
  if (rep_levels.empty()) {
    starts.resize(entries + 1);
    for (size_t i = 0; i <= entries; ++i) starts[i] = i;
    return starts;
  }
  for (size_t i = 0; i < entries; ++i) {
    if (rep_levels[i] == 0) starts.push_back(i);
  }
  starts.push_back(entries);
  return starts;
}

File::File() = default;
File::File(File&&) noexcept = default;
File& File::operator=(File&&) noexcept = default;
File::~File() = default;

namespace {

// Builds the tree below `node` from elements[*next…], depth first, with the levels of
// each leaf; records the leaves in `footer`.
struct SchemaBuilder {
  const std::vector<Element>& elements;
  const std::string& what;
  std::vector<const SchemaNode*>* leaves;
  std::vector<std::vector<std::string>>* paths;
  std::vector<LeafInfo>* infos;
  size_t next = 1;

  tl::unexpected<util::Error> Damage(const std::string& why) const {
    return util::Fail(util::ErrorCategory::kVerify, what + " is damaged: the schema " + why);
  }

  util::Status Build(SchemaNode* node, int32_t children, int depth, std::vector<std::string>* path,
                     std::vector<int16_t>* repeated_def) {
    if (depth > kMaxSchemaDepth) return Damage("nests deeper than 64");
    if (children < 0 || static_cast<size_t>(children) > elements.size() - next) {
      return Damage("lists " + std::to_string(children) + " children of " +
                    (node->name.empty() ? "the root" : node->name) + " past its end");
    }
    node->children.resize(children);
    for (SchemaNode& child : node->children) {
      // Checked again for each child: its elder siblings' subtrees took elements too.
      if (next >= elements.size()) return Damage("ends inside the children of " + node->name);
      const Element& e = elements[next++];
      child.name = e.name;
      child.converted_type = e.converted_type;
      child.logical_type = e.logical_type;
      const int32_t repetition = e.repetition.value_or(0);
      if (repetition < 0 || repetition > 2)
        return Damage("has a repetition of " + e.name + " of " + std::to_string(repetition));
      child.repetition = static_cast<Repetition>(repetition);
      child.max_def = static_cast<int16_t>(node->max_def + (repetition != 0));
      child.max_rep = static_cast<int16_t>(node->max_rep + (repetition == 2));
      path->push_back(e.name);
      if (repetition == 2) repeated_def->push_back(child.max_def);
      if (e.num_children.value_or(0) > 0 || !e.type) {
        TM_TRY(Build(&child, e.num_children.value_or(0), depth + 1, path, repeated_def));
      } else {
        TM_TRY(MakeLeaf(e, &child, *path, *repeated_def));
      }
      if (repetition == 2) repeated_def->pop_back();
      path->pop_back();
    }
    return {};
  }

  util::Status BuildRoot(SchemaNode* root) {
    root->name = elements[0].name;
    root->converted_type = elements[0].converted_type;
    root->logical_type = elements[0].logical_type;
    std::vector<std::string> path;
    std::vector<int16_t> repeated_def;
    TM_TRY(Build(root, elements[0].num_children.value_or(0), 0, &path, &repeated_def));
    if (next != elements.size()) {
      return Damage("has " + std::to_string(elements.size() - next) + " elements outside its tree");
    }
    return {};
  }

  util::Status MakeLeaf(const Element& e, SchemaNode* leaf, const std::vector<std::string>& path,
                        const std::vector<int16_t>& repeated_def) {
    if (*e.type < 0 || *e.type > 7)
      return Damage("gives " + e.name + " a type of " + std::to_string(*e.type));
    leaf->type = static_cast<PhysicalType>(*e.type);
    leaf->type_length = e.type_length;
    if (leaf->type == PhysicalType::kFixed && (e.type_length <= 0 || e.type_length > (1 << 24))) {
      return Damage("gives " + e.name + " a fixed length of " + std::to_string(e.type_length));
    }
    leaves->push_back(leaf);
    paths->push_back(path);
    infos->push_back(LeafInfo{leaf, repeated_def});
    return {};
  }
};

}  // namespace

util::Result<File> File::Open(std::shared_ptr<const std::string> bytes, std::string what) {
  File file;
  file.bytes_ = std::move(bytes);
  file.what_ = std::move(what);
  file.schema_ = std::make_unique<SchemaNode>();
  file.footer_ = std::make_unique<Footer>();
  TM_TRY(file.ReadFooter());
  return file;
}

util::Status File::ReadFooter() {
  const std::string& bytes = *bytes_;
  auto damage = [&](const std::string& why) {
    return util::Fail(util::ErrorCategory::kVerify, what_ + " is damaged: " + why);
  };
  if (bytes.size() < 12) {
    return damage("it has " + std::to_string(bytes.size()) + " bytes, too few for a Parquet file");
  }
  const std::string_view tail = std::string_view(bytes).substr(bytes.size() - 4);
  if (tail == "PARE") {
    return util::Fail(util::ErrorCategory::kVerify,
                      what_ + " is an encrypted Parquet file, which is not supported");
  }
  if (bytes.compare(0, 4, "PAR1") != 0 || tail != "PAR1") {
    return damage("it does not begin and end with PAR1, so it is not a Parquet file");
  }
  uint32_t footer_size = 0;
  std::memcpy(&footer_size, bytes.data() + bytes.size() - 8, 4);  // little-endian, as the host
  if (footer_size > bytes.size() - 12) {
    return damage("its footer of " + std::to_string(footer_size) +
                  " bytes is longer than the file");
  }
  const size_t footer_start = bytes.size() - 8 - footer_size;
  ThriftReader r(std::string_view(bytes).substr(footer_start, footer_size),
                 "the footer of " + what_);
  std::vector<Element> elements;
  bool has_rows = false;
  TM_TRY(r.ReadStruct([&](const ThriftField& f) -> util::Result<bool> {
    switch (f.id) {
      case 2:
        TM_TRY(ReadStructList(r, f, [&]() -> util::Status {
          TM_TRY_ASSIGN(Element e, ReadElement(r));
          elements.push_back(std::move(e));
          return {};
        }));
        return true;
      case 3: {
        TM_TRY_ASSIGN(footer_->num_rows, ReadI64(r, f));
        has_rows = true;
        return true;
      }
      case 4:
        TM_TRY(ReadStructList(r, f, [&]() -> util::Status {
          TM_TRY_ASSIGN(RowGroupMeta g, ReadRowGroup(r, what_));
          footer_->row_groups.push_back(std::move(g));
          return {};
        }));
        return true;
      default: return false;
    }
  }));
  if (elements.empty()) return damage("its footer has no schema");
  if (!has_rows) return damage("its footer has no row count");
  SchemaBuilder builder{elements, what_, &footer_->leaves, &footer_->leaf_paths,
                        &footer_->leaf_infos};
  TM_TRY(builder.BuildRoot(schema_.get()));
  for (size_t i = 0; i < footer_->leaves.size(); ++i) footer_->leaf_index[footer_->leaves[i]] = i;
  return CheckRowGroups(footer_start);
}

util::Status File::CheckRowGroups(size_t footer_start) const {
  int64_t rows = 0;
  for (size_t g = 0; g < footer_->row_groups.size(); ++g) {
    const RowGroupMeta& group = footer_->row_groups[g];
    auto damage = [&](const std::string& why) {
      return util::Fail(util::ErrorCategory::kVerify,
                        what_ + " is damaged: row group " + std::to_string(g) + " " + why);
    };
    if (group.num_rows < 0 || group.num_rows > kMaxChunkEntries) {
      return damage("has " + std::to_string(group.num_rows) + " rows");
    }
    rows += group.num_rows;
    if (group.columns.size() != footer_->leaves.size()) {
      return damage("has " + std::to_string(group.columns.size()) +
                    " columns where the schema has " + std::to_string(footer_->leaves.size()));
    }
    for (size_t i = 0; i < group.columns.size(); ++i) {
      const ColumnChunk& c = group.columns[i];
      auto column = [&] { return "column " + JoinPath(footer_->leaf_paths[i]) + " "; };
      if (c.path != footer_->leaf_paths[i]) {
        return damage(column() + "is named " + JoinPath(c.path) + " in its metadata");
      }
      if (c.type != footer_->leaves[i]->type) {
        return damage(column() + "has another type than in the schema");
      }
      if (c.num_values < 0 || c.num_values > kMaxChunkEntries) {
        return damage(column() + "has " + std::to_string(c.num_values) + " values");
      }
      const int64_t start = c.start();
      if (start < 4 || start > static_cast<int64_t>(footer_start) || c.total_compressed_size < 0 ||
          c.total_compressed_size > static_cast<int64_t>(footer_start) - start) {
        return damage(column() + "lies outside the file's pages (" +
                      std::to_string(c.total_compressed_size) + " bytes at " +
                      std::to_string(start) + ")");
      }
    }
  }
  if (rows != footer_->num_rows) {
    return util::Fail(util::ErrorCategory::kVerify,
                      what_ + " is damaged: its row groups hold " + std::to_string(rows) +
                          " rows, its footer says " + std::to_string(footer_->num_rows));
  }
  return {};
}

int64_t File::num_rows() const { return footer_->num_rows; }
size_t File::row_groups() const { return footer_->row_groups.size(); }
int64_t File::RowGroupRows(size_t row_group) const {
  return row_group < footer_->row_groups.size() ? footer_->row_groups[row_group].num_rows : 0;
}
const std::vector<const SchemaNode*>& File::leaves() const { return footer_->leaves; }
const std::vector<std::vector<std::string>>& File::leaf_paths() const {
  return footer_->leaf_paths;
}

const SchemaNode* File::Leaf(const std::vector<std::string>& path) const {
  const SchemaNode* node = schema_.get();
  for (const std::string& name : path) {
    node = node->Child(name);
    if (node == nullptr) return nullptr;
  }
  return node != schema_.get() && node->is_leaf() ? node : nullptr;
}

const ColumnChunk* File::Chunk(size_t row_group, const std::vector<std::string>& path) const {
  const SchemaNode* leaf = Leaf(path);
  if (leaf == nullptr || row_group >= footer_->row_groups.size()) return nullptr;
  return &footer_->row_groups[row_group].columns[footer_->leaf_index.at(leaf)];
}

util::Result<Column> File::ReadColumn(size_t row_group,
                                      const std::vector<std::string>& path) const {
  const SchemaNode* leaf = Leaf(path);
  if (leaf == nullptr) {
    return util::Fail(util::ErrorCategory::kVerify, what_ + " has no column " + JoinPath(path));
  }
  if (row_group >= footer_->row_groups.size()) {
    return util::Fail(util::ErrorCategory::kVerify,
                      what_ + " has no row group " + std::to_string(row_group) + " (it has " +
                          std::to_string(footer_->row_groups.size()) + ")");
  }
  const size_t index = footer_->leaf_index.at(leaf);
  const RowGroupMeta& group = footer_->row_groups[row_group];
  return DecodeColumnChunk(
      bytes_, group.columns[index], footer_->leaf_infos[index], group.num_rows,
      what_ + ", row group " + std::to_string(row_group) + ", column " + JoinPath(path));
}

}  // namespace tidemark::backend::lake::parquet
