#include "tidemark/backend/lake/parquet_writer.h"

#include <cstring>
#include <unordered_map>

#include "tidemark/backend/lake/parquet_codecs.h"
#include "tidemark/backend/lake/parquet_rle.h"
#include "tidemark/backend/lake/thrift_compact.h"

namespace tidemark::backend::lake::parquet {

namespace {

constexpr int32_t kDataPage = 0, kDictionaryPage = 2, kDataPageV2 = 3;

struct Leaf {
  const SchemaNode* node;
  std::vector<std::string> path;
  int16_t max_def;
  int16_t max_rep;
};

void CollectLeaves(const SchemaNode& node, int16_t def, int16_t rep, std::vector<std::string>* path,
                   std::vector<Leaf>* out) {
  for (const SchemaNode& child : node.children) {
    const int16_t d = static_cast<int16_t>(def + (child.repetition != Repetition::kRequired));
    const int16_t r = static_cast<int16_t>(rep + (child.repetition == Repetition::kRepeated));
    path->push_back(child.name);
    if (child.is_leaf()) {
      out->push_back(Leaf{&child, *path, d, r});
    } else {
      CollectLeaves(child, d, r, path, out);
    }
    path->pop_back();
  }
}

int32_t ConvertedTypeCode(const std::string& name) {
  for (int32_t code = 0; *ConvertedTypeName(code) != '\0'; ++code) {
    if (name == ConvertedTypeName(code)) return code;
  }
  return -1;
}

void WriteSchema(const SchemaNode& node, bool root, ThriftWriter* w) {
  w->StructBegin();
  if (node.is_leaf()) {
    w->I32Field(1, static_cast<int32_t>(*node.type));
    if (node.type == PhysicalType::kFixed) w->I32Field(2, node.type_length);
  }
  if (!root) w->I32Field(3, static_cast<int32_t>(node.repetition));
  w->BinaryField(4, node.name);
  if (!node.is_leaf()) w->I32Field(5, static_cast<int32_t>(node.children.size()));
  if (const int32_t code = ConvertedTypeCode(node.converted_type); code >= 0) w->I32Field(6, code);
  const int16_t logical = node.logical_type == "STRING" ? 1
                          : node.logical_type == "MAP"  ? 2
                          : node.logical_type == "LIST" ? 3
                                                        : 0;
  if (logical != 0) {
    w->FieldBegin(10, ThriftType::kStruct);
    w->StructBegin();
    w->FieldBegin(logical, ThriftType::kStruct);
    w->StructBegin();
    w->StructEnd();
    w->StructEnd();
  }
  w->StructEnd();
  for (const SchemaNode& child : node.children) WriteSchema(child, false, w);
}

size_t CountNodes(const SchemaNode& node) {
  size_t n = 1;
  for (const SchemaNode& child : node.children) n += CountNodes(child);
  return n;
}

// The bytes of one value, as PLAIN writes it and as the dictionary tells values apart.
void AppendPlain(const Column& c, PhysicalType type, size_t v, std::string* out) {
  char buffer[8];
  switch (type) {
    case PhysicalType::kBoolean: out->push_back(static_cast<char>(c.ints[v] != 0)); return;
    case PhysicalType::kInt32: {
      const int32_t x = static_cast<int32_t>(c.ints[v]);
      std::memcpy(buffer, &x, 4);
      out->append(buffer, 4);
      return;
    }
    case PhysicalType::kInt64:
      std::memcpy(buffer, &c.ints[v], 8);
      out->append(buffer, 8);
      return;
    case PhysicalType::kFloat: {
      const float x = static_cast<float>(c.doubles[v]);
      std::memcpy(buffer, &x, 4);
      out->append(buffer, 4);
      return;
    }
    case PhysicalType::kDouble:
      std::memcpy(buffer, &c.doubles[v], 8);
      out->append(buffer, 8);
      return;
    case PhysicalType::kByteArray: {
      const uint32_t n = static_cast<uint32_t>(c.bytes[v].size());
      std::memcpy(buffer, &n, 4);
      out->append(buffer, 4);
      out->append(c.bytes[v]);
      return;
    }
    case PhysicalType::kInt96:
    case PhysicalType::kFixed: out->append(c.bytes[v]); return;
  }
}

// PLAIN values [first, last) of `c`; booleans bit-packed.
std::string EncodePlain(const Column& c, PhysicalType type, size_t first, size_t last) {
  std::string out;
  if (type == PhysicalType::kBoolean) {
    out.assign((last - first + 7) / 8, '\0');
    for (size_t v = first; v < last; ++v) {
      if (c.ints[v] != 0)
        out[(v - first) / 8] = static_cast<char>(out[(v - first) / 8] | 1 << ((v - first) % 8));
    }
    return out;
  }
  for (size_t v = first; v < last; ++v) AppendPlain(c, type, v, &out);
  return out;
}

void PutU32(uint32_t n, std::string* out) {
  char buffer[4];
  std::memcpy(buffer, &n, 4);
  out->append(buffer, 4);
}

std::string EncodeLevels(const std::vector<int16_t>& levels, size_t first, size_t last,
                         int16_t max) {
  std::vector<uint32_t> values(levels.begin() + first, levels.begin() + last);
  std::string out;
  EncodeHybrid(values.data(), values.size(), BitWidth(static_cast<uint32_t>(max)), &out);
  return out;
}

class FileWriter {
 public:
  explicit FileWriter(const WriterOptions& options) : options_(options) { out_ = "PAR1"; }

  util::Status WriteChunk(const Leaf& leaf, const Column& c, size_t first_entry, size_t last_entry,
                          size_t first_value, ColumnChunk* meta);
  std::string& out() { return out_; }

 private:
  util::Status WriteDictionary(PhysicalType type, const Column& c, size_t first_value,
                               size_t last_value, ColumnChunk* meta);
  util::Status WriteDataPage(const Leaf& leaf, const Column& c, Encoding encoding,
                             std::pair<size_t, size_t> entries, std::pair<size_t, size_t> values,
                             ColumnChunk* meta);
  util::Status WritePage(PageHeaderFields header, std::string page, ColumnChunk* meta);
  std::string ValuesOf(const Leaf& leaf, const Column& c, size_t first, size_t last);

  const WriterOptions& options_;
  std::string out_;
  // The chunk being written: its dictionary (value bytes → index), when dictionary-encoded.
  bool use_dictionary_ = false;
  std::unordered_map<std::string, uint32_t> dictionary_;
  std::vector<uint32_t> indices_;  // of the chunk's values, in order
  size_t chunk_first_value_ = 0;
};

util::Status FileWriter::WritePage(PageHeaderFields h, std::string page, ColumnChunk* meta) {
  h.uncompressed_size = static_cast<int32_t>(page.size());
  const int32_t computed = h.uncompressed_size;
  if (options_.edit_page) options_.edit_page(h, page);
  if (h.uncompressed_size == computed) h.uncompressed_size = static_cast<int32_t>(page.size());
  std::string body;
  if (h.type == kDataPageV2) {
    const size_t levels = std::min(page.size(), static_cast<size_t>(h.def_bytes + h.rep_bytes));
    body = page.substr(0, levels);
    if (h.is_compressed) {
      TM_TRY_ASSIGN(std::string values,
                    Compress(options_.codec, std::string_view(page).substr(levels)));
      body += values;
    } else {
      body.append(page, levels);
    }
  } else {
    TM_TRY_ASSIGN(body, Compress(options_.codec, page));
  }
  ThriftWriter w;
  w.StructBegin();
  w.I32Field(1, h.type);
  w.I32Field(2, h.uncompressed_size);
  w.I32Field(3, static_cast<int32_t>(body.size()));
  const int16_t kind = h.type == kDataPage ? 5 : h.type == kDictionaryPage ? 7 : 8;
  w.FieldBegin(kind, ThriftType::kStruct);
  w.StructBegin();
  w.I32Field(1, h.num_values);
  if (h.type == kDataPageV2) {
    w.I32Field(2, h.num_nulls);
    w.I32Field(3, h.num_rows);
    w.I32Field(4, static_cast<int32_t>(h.encoding));
    w.I32Field(5, h.def_bytes);
    w.I32Field(6, h.rep_bytes);
    if (!h.is_compressed) w.BoolField(7, false);
  } else {
    w.I32Field(2, static_cast<int32_t>(h.encoding));
    if (h.type == kDataPage) {
      w.I32Field(3, static_cast<int32_t>(Encoding::kRle));
      w.I32Field(4, static_cast<int32_t>(Encoding::kRle));
    }
  }
  w.StructEnd();
  w.StructEnd();
  meta->total_compressed_size += static_cast<int64_t>(w.bytes().size() + body.size());
  meta->total_uncompressed_size += static_cast<int64_t>(w.bytes().size() + page.size());
  out_ += w.bytes();
  out_ += body;
  return {};
}

// The values [first, last) of a data page: PLAIN, RLE booleans (v2) or dictionary indices.
std::string FileWriter::ValuesOf(const Leaf& leaf, const Column& c, size_t first, size_t last) {
  const PhysicalType type = *leaf.node->type;
  std::string out;
  if (use_dictionary_) {
    const int width =
        BitWidth(static_cast<uint32_t>(dictionary_.size() - (dictionary_.empty() ? 0 : 1)));
    out.push_back(static_cast<char>(width));
    EncodeHybrid(indices_.data() + (first - chunk_first_value_), last - first, width, &out);
    return out;
  }
  if (type == PhysicalType::kBoolean && options_.page_version == 2) {
    std::vector<uint32_t> bits(c.ints.begin() + first, c.ints.begin() + last);
    std::string runs;
    EncodeHybrid(bits.data(), bits.size(), 1, &runs);
    PutU32(static_cast<uint32_t>(runs.size()), &out);
    return out + runs;
  }
  return EncodePlain(c, type, first, last);
}

util::Status FileWriter::WriteChunk(const Leaf& leaf, const Column& c, size_t first_entry,
                                    size_t last_entry, size_t first_value, ColumnChunk* meta) {
  const PhysicalType type = *leaf.node->type;
  meta->type = type;
  meta->path = leaf.path;
  meta->codec = options_.codec;
  meta->num_values = static_cast<int64_t>(last_entry - first_entry);
  auto present = [&](size_t e) { return c.def_levels.empty() || c.def_levels[e] == leaf.max_def; };
  size_t last_value = first_value;
  for (size_t e = first_entry; e < last_entry; ++e) last_value += present(e);

  use_dictionary_ = options_.dictionary && type != PhysicalType::kBoolean;
  if (use_dictionary_) TM_TRY(WriteDictionary(type, c, first_value, last_value, meta));
  meta->data_page_offset = static_cast<int64_t>(out_.size());
  const bool v1 = options_.page_version == 1;
  const Encoding encoding = use_dictionary_
                                ? (v1 ? Encoding::kPlainDictionary : Encoding::kRleDictionary)
                            : type == PhysicalType::kBoolean && !v1 ? Encoding::kRle
                                                                    : Encoding::kPlain;
  meta->encodings = {encoding, Encoding::kRle};
  if (use_dictionary_) meta->encodings.push_back(Encoding::kPlain);

  // Pages end at the first row boundary after page_bytes of values.
  size_t page_entry = first_entry, page_value = first_value, value = first_value, bytes = 0;
  for (size_t e = first_entry; e < last_entry; ++e) {
    if (present(e)) {
      std::string one;
      AppendPlain(c, type, value++, &one);
      bytes += one.size();
    }
    const bool row_ends = e + 1 == last_entry || c.rep_levels.empty() || c.rep_levels[e + 1] == 0;
    if (!row_ends || (bytes < options_.page_bytes && e + 1 != last_entry)) continue;
    TM_TRY(WriteDataPage(leaf, c, encoding, {page_entry, e + 1}, {page_value, value}, meta));
    page_entry = e + 1;
    page_value = value;
    bytes = 0;
  }
  return {};
}

// The chunk's dictionary page, and the index of each of its values for the data pages.
util::Status FileWriter::WriteDictionary(PhysicalType type, const Column& c, size_t first_value,
                                         size_t last_value, ColumnChunk* meta) {
  dictionary_.clear();
  indices_.clear();
  chunk_first_value_ = first_value;
  std::vector<size_t> order;  // the value index of each dictionary entry
  for (size_t v = first_value; v < last_value; ++v) {
    std::string key;
    AppendPlain(c, type, v, &key);
    auto [it, added] = dictionary_.emplace(std::move(key), static_cast<uint32_t>(order.size()));
    if (added) order.push_back(v);
    indices_.push_back(it->second);
  }
  std::string page;
  for (size_t v : order) AppendPlain(c, type, v, &page);
  meta->dictionary_page_offset = static_cast<int64_t>(out_.size());
  PageHeaderFields h;
  h.type = kDictionaryPage;
  h.num_values = static_cast<int32_t>(order.size());
  h.encoding = options_.page_version == 1 ? Encoding::kPlainDictionary : Encoding::kPlain;
  return WritePage(h, std::move(page), meta);
}

// The data page of entries [entries.first, entries.second), whose values are [values…).
util::Status FileWriter::WriteDataPage(const Leaf& leaf, const Column& c, Encoding encoding,
                                       std::pair<size_t, size_t> entries,
                                       std::pair<size_t, size_t> values, ColumnChunk* meta) {
  const auto [first, last] = entries;
  PageHeaderFields h;
  h.type = options_.page_version == 1 ? kDataPage : kDataPageV2;
  h.num_values = static_cast<int32_t>(last - first);
  h.encoding = encoding;
  const std::string rep =
      leaf.max_rep > 0 ? EncodeLevels(c.rep_levels, first, last, leaf.max_rep) : "";
  const std::string def =
      leaf.max_def > 0 ? EncodeLevels(c.def_levels, first, last, leaf.max_def) : "";
  std::string page;
  if (h.type == kDataPage) {
    if (leaf.max_rep > 0) PutU32(static_cast<uint32_t>(rep.size()), &page);
    page += rep;
    if (leaf.max_def > 0) PutU32(static_cast<uint32_t>(def.size()), &page);
    page += def;
  } else {
    h.rep_bytes = static_cast<int32_t>(rep.size());
    h.def_bytes = static_cast<int32_t>(def.size());
    h.num_nulls = h.num_values - static_cast<int32_t>(values.second - values.first);
    for (size_t i = first; i < last; ++i)
      h.num_rows += c.rep_levels.empty() || c.rep_levels[i] == 0;
    h.is_compressed = options_.codec != Codec::kUncompressed;
    page = rep + def;
  }
  page += ValuesOf(leaf, c, values.first, values.second);
  return WritePage(h, std::move(page), meta);
}

void WriteFooter(const SchemaNode& schema, int64_t num_rows,
                 const std::vector<std::pair<int64_t, std::vector<ColumnChunk>>>& groups,
                 std::string* out) {
  ThriftWriter w;
  w.StructBegin();
  w.I32Field(1, 1);
  w.FieldBegin(2, ThriftType::kList);
  w.ListBegin(ThriftType::kStruct, static_cast<uint32_t>(CountNodes(schema)));
  WriteSchema(schema, true, &w);
  w.I64Field(3, num_rows);
  w.FieldBegin(4, ThriftType::kList);
  w.ListBegin(ThriftType::kStruct, static_cast<uint32_t>(groups.size()));
  for (const auto& [rows, chunks] : groups) {
    w.StructBegin();
    w.FieldBegin(1, ThriftType::kList);
    w.ListBegin(ThriftType::kStruct, static_cast<uint32_t>(chunks.size()));
    int64_t bytes = 0;
    for (const ColumnChunk& c : chunks) {
      bytes += c.total_uncompressed_size;
      w.StructBegin();
      w.I64Field(2, c.start());
      w.FieldBegin(3, ThriftType::kStruct);
      w.StructBegin();
      w.I32Field(1, static_cast<int32_t>(c.type));
      w.FieldBegin(2, ThriftType::kList);
      w.ListBegin(ThriftType::kI32, static_cast<uint32_t>(c.encodings.size()));
      for (Encoding e : c.encodings) w.I32(static_cast<int32_t>(e));
      w.FieldBegin(3, ThriftType::kList);
      w.ListBegin(ThriftType::kBinary, static_cast<uint32_t>(c.path.size()));
      for (const std::string& part : c.path) w.Binary(part);
      w.I32Field(4, static_cast<int32_t>(c.codec));
      w.I64Field(5, c.num_values);
      w.I64Field(6, c.total_uncompressed_size);
      w.I64Field(7, c.total_compressed_size);
      w.I64Field(9, c.data_page_offset);
      if (c.dictionary_page_offset) w.I64Field(11, *c.dictionary_page_offset);
      w.StructEnd();
      w.StructEnd();
    }
    w.I64Field(2, bytes);
    w.I64Field(3, rows);
    w.StructEnd();
  }
  w.BinaryField(6, "tidemark test writer");
  w.StructEnd();
  out->append(w.bytes());
  PutU32(static_cast<uint32_t>(w.bytes().size()), out);
  out->append("PAR1");
}

// The input's row count, after checking each column against its leaf.
util::Result<size_t> CheckColumns(const std::vector<Leaf>& leaves,
                                  const std::vector<Column>& columns) {
  if (columns.size() != leaves.size()) {
    return util::ConfigError("the schema has " + std::to_string(leaves.size()) + " leaves, " +
                             std::to_string(columns.size()) + " columns were given");
  }
  std::optional<size_t> rows;
  for (size_t i = 0; i < leaves.size(); ++i) {
    const Leaf& leaf = leaves[i];
    const Column& c = columns[i];
    auto bad = [&](const std::string& why) {
      return util::ConfigError("column " + leaf.path.back() + ": " + why);
    };
    if ((leaf.max_def > 0 && c.def_levels.size() != c.entries) ||
        (leaf.max_def == 0 && !c.def_levels.empty())) {
      return bad("definition levels do not match the entries");
    }
    if ((leaf.max_rep > 0 && c.rep_levels.size() != c.entries) ||
        (leaf.max_rep == 0 && !c.rep_levels.empty())) {
      return bad("repetition levels do not match the entries");
    }
    if (leaf.max_rep > 0 && c.entries > 0 && c.rep_levels[0] != 0)
      return bad("the first entry does not start a row");
    size_t present = 0;
    for (size_t e = 0; e < c.entries; ++e) {
      if (c.Def(e) > leaf.max_def || c.Def(e) < 0 || c.Rep(e) > leaf.max_rep || c.Rep(e) < 0)
        return bad("a level out of range");
      present += c.def_levels.empty() || c.def_levels[e] == leaf.max_def;
    }
    const PhysicalType type = *leaf.node->type;
    const size_t values = type == PhysicalType::kBoolean || type == PhysicalType::kInt32 ||
                                  type == PhysicalType::kInt64
                              ? c.ints.size()
                          : type == PhysicalType::kFloat || type == PhysicalType::kDouble
                              ? c.doubles.size()
                              : c.bytes.size();
    if (values != present)
      return bad(std::to_string(values) + " values for " + std::to_string(present) +
                 " defined entries");
    for (std::string_view b : c.bytes) {
      const size_t width =
          type == PhysicalType::kInt96 ? 12 : static_cast<size_t>(leaf.node->type_length);
      if (type != PhysicalType::kByteArray && b.size() != width)
        return bad("a value of the wrong width");
    }
    size_t n = c.rep_levels.empty()
                   ? c.entries
                   : static_cast<size_t>(std::count(c.rep_levels.begin(), c.rep_levels.end(), 0));
    if (rows && *rows != n) return bad("its row count differs from the other columns'");
    rows = n;
  }
  return rows.value_or(0);
}

}  // namespace

SchemaNode LeafNode(std::string name, PhysicalType type, Repetition repetition,
                    std::string converted_type, int32_t type_length) {
  SchemaNode node;
  node.name = std::move(name);
  node.type = type;
  node.repetition = repetition;
  node.logical_type = converted_type == "UTF8" ? "STRING" : "";
  node.converted_type = std::move(converted_type);
  node.type_length = type == PhysicalType::kFixed ? type_length : 0;
  return node;
}

SchemaNode GroupNode(std::string name, Repetition repetition, std::vector<SchemaNode> children,
                     std::string converted_type) {
  SchemaNode node;
  node.name = std::move(name);
  node.repetition = repetition;
  node.logical_type = converted_type == "MAP" || converted_type == "LIST" ? converted_type : "";
  node.converted_type = std::move(converted_type);
  node.children = std::move(children);
  return node;
}

SchemaNode MapNode(std::string name, Repetition repetition, SchemaNode key, SchemaNode value) {
  key.name = "key";
  value.name = "value";
  return GroupNode(
      std::move(name), repetition,
      {GroupNode("key_value", Repetition::kRepeated, {std::move(key), std::move(value)})}, "MAP");
}

SchemaNode ListNode(std::string name, Repetition repetition, SchemaNode element) {
  element.name = "element";
  return GroupNode(std::move(name), repetition,
                   {GroupNode("list", Repetition::kRepeated, {std::move(element)})}, "LIST");
}

util::Result<std::string> WriteParquet(const SchemaNode& schema, const std::vector<Column>& columns,
                                       const WriterOptions& options) {
  if (!CodecSupported(options.codec)) return util::ConfigError("the writer has no such codec");
  std::vector<Leaf> leaves;
  std::vector<std::string> path;
  CollectLeaves(schema, 0, 0, &path, &leaves);
  TM_TRY_ASSIGN(const size_t rows, CheckColumns(leaves, columns));
  const size_t group_rows = std::max<size_t>(options.row_group_rows, 1);
  // Where each column's entries and values stand at the start of the next row group.
  std::vector<size_t> entry(leaves.size(), 0), value(leaves.size(), 0);
  std::vector<std::pair<int64_t, std::vector<ColumnChunk>>> groups;
  FileWriter writer(options);
  for (size_t first_row = 0; first_row < rows || (rows == 0 && groups.empty());
       first_row += group_rows) {
    const size_t n = std::min(group_rows, rows - first_row);
    std::vector<ColumnChunk> chunks(leaves.size());
    for (size_t i = 0; i < leaves.size(); ++i) {
      const Column& c = columns[i];
      size_t end = entry[i], seen = 0;
      while (end < c.entries && (seen < n || c.Rep(end) != 0)) {
        seen += c.Rep(end) == 0;
        if (seen > n) break;
        ++end;
      }
      TM_TRY(writer.WriteChunk(leaves[i], c, entry[i], end, value[i], &chunks[i]));
      for (size_t e = entry[i]; e < end; ++e) {
        value[i] += c.def_levels.empty() || c.def_levels[e] == leaves[i].max_def;
      }
      entry[i] = end;
    }
    groups.emplace_back(static_cast<int64_t>(n), std::move(chunks));
    if (rows == 0) break;
  }
  WriteFooter(schema, static_cast<int64_t>(rows), groups, &writer.out());
  return std::move(writer.out());
}

}  // namespace tidemark::backend::lake::parquet
