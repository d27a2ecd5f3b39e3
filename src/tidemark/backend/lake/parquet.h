// A Parquet reader sufficient for Delta checkpoints: the Thrift compact footer,
// PLAIN, dictionary (PLAIN_DICTIONARY, RLE_DICTIONARY) and RLE/bit-packed encodings,
// data pages v1 and v2, uncompressed, snappy, gzip and zstd column chunks, and nested
// struct, list and map columns with their definition and repetition levels.
//
// The reader is column-oriented: a caller reads the leaf columns it needs from one row
// group and assembles rows from the levels (Column::RowStarts). Everything read from
// the file is checked against the file's size before use; damage is a kVerify error
// naming the file and what was wrong, never a crash.
//
// Thread-safety: a File is immutable after Open; ReadColumn may be called from several
// threads.

#ifndef TIDEMARK_BACKEND_LAKE_PARQUET_H_
#define TIDEMARK_BACKEND_LAKE_PARQUET_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tidemark/util/error.h"

namespace tidemark::backend::lake::parquet {

// The numbers are those of the Thrift definitions in parquet-format.
enum class PhysicalType { kBoolean, kInt32, kInt64, kInt96, kFloat, kDouble, kByteArray, kFixed };
enum class Repetition { kRequired, kOptional, kRepeated };
enum class Codec : int32_t {
  kUncompressed = 0,
  kSnappy = 1,
  kGzip = 2,
  kLzo = 3,
  kBrotli = 4,
  kLz4 = 5,
  kZstd = 6,
  kLz4Raw = 7,
};
enum class Encoding : int32_t {
  kPlain = 0,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kDeltaBinaryPacked = 5,
  kDeltaLengthByteArray = 6,
  kDeltaByteArray = 7,
  kRleDictionary = 8,
  kByteStreamSplit = 9,
};
const char* CodecName(Codec codec);           // "SNAPPY", or "unknown"
const char* EncodingName(Encoding encoding);  // "RLE_DICTIONARY", or "unknown"
// The name of a ConvertedType code ("UTF8" for 0), or "" for an unknown code.
const char* ConvertedTypeName(int32_t code);

// Refusals of absurd sizes, so that a damaged file cannot make the reader allocate
// without bound: one page's uncompressed bytes, one column chunk's uncompressed bytes,
// and one column chunk's entries (a checkpoint of 100,000 files has about a million).
inline constexpr int64_t kMaxPageBytes = int64_t{1} << 30;
inline constexpr int64_t kMaxChunkBytes = int64_t{1} << 30;
inline constexpr int64_t kMaxChunkEntries = int64_t{1} << 26;

struct SchemaNode {
  std::string name;
  Repetition repetition = Repetition::kRequired;
  std::optional<PhysicalType> type;  // leaves only
  int32_t type_length = 0;           // kFixed
  std::string converted_type;        // "UTF8", "MAP", "LIST", "MAP_KEY_VALUE", … or ""
  std::string logical_type;          // "STRING", "MAP", "LIST", "TIMESTAMP", … or ""
  std::vector<SchemaNode> children;  // groups only
  // Leaves: the largest definition and repetition levels of the column.
  int16_t max_def = 0;
  int16_t max_rep = 0;
  bool is_leaf() const { return type.has_value(); }
  const SchemaNode* Child(std::string_view child_name) const;
};

// One leaf column of one row group, decoded.
struct Column {
  PhysicalType type = PhysicalType::kInt32;
  int16_t max_def = 0;
  int16_t max_rep = 0;
  // One level per entry; empty when max_def (max_rep) is 0, meaning every entry is
  // at level max_def (0).
  std::vector<int16_t> def_levels;
  std::vector<int16_t> rep_levels;
  size_t entries = 0;  // number of entries (>= rows; more for repeated columns)
  // The values of the entries whose definition level is max_def, in order; only the
  // vector of the column's type is filled. kBoolean, kInt32 and kInt64 go to `ints`;
  // kFloat and kDouble to `doubles`; kByteArray, kFixed and kInt96 to `bytes`, views
  // into `arena`.
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string_view> bytes;
  std::shared_ptr<const std::string> arena;

  int16_t Def(size_t entry) const { return def_levels.empty() ? max_def : def_levels[entry]; }
  int16_t Rep(size_t entry) const { return rep_levels.empty() ? 0 : rep_levels[entry]; }
  // The first entry of each row (entries whose repetition level is 0), then `entries`
  // as a sentinel: row r is the entries [starts[r], starts[r + 1]).
  std::vector<size_t> RowStarts() const;
};

// The metadata of one column chunk, as the footer gives it (checked against the file).
struct ColumnChunk {
  PhysicalType type = PhysicalType::kInt32;
  std::vector<Encoding> encodings;
  std::vector<std::string> path;  // path_in_schema
  Codec codec = Codec::kUncompressed;
  int64_t num_values = 0;  // entries, nulls included
  int64_t total_uncompressed_size = 0;
  int64_t total_compressed_size = 0;  // page headers included
  int64_t data_page_offset = 0;
  std::optional<int64_t> dictionary_page_offset;
  // Where the chunk's pages lie in the file: [start, start + total_compressed_size).
  int64_t start() const;
};

class File {
 public:
  // Parses the footer of a whole Parquet file held in memory; `what` names it in errors
  // ("…/_delta_log/00000000000000000010.checkpoint.parquet").
  static util::Result<File> Open(std::shared_ptr<const std::string> bytes, std::string what);

  const SchemaNode& schema() const { return *schema_; }  // the root group
  int64_t num_rows() const;
  size_t row_groups() const;
  int64_t RowGroupRows(size_t row_group) const;
  // The leaf at `path` from the root ({"add", "partitionValues", "key_value", "key"}),
  // or nullptr when the schema has no such leaf.
  const SchemaNode* Leaf(const std::vector<std::string>& path) const;
  // Decodes the leaf at `path` of one row group. Damage, and encodings or codecs the
  // reader does not know (DELTA_*, BYTE_STREAM_SPLIT, LZO, BROTLI, LZ4), are kVerify
  // errors naming the file, the row group and the column. The column's `arena` is the
  // file itself when the chunk is uncompressed, else its decompressed pages.
  // REQUIRES: Leaf(path) != nullptr.
  util::Result<Column> ReadColumn(size_t row_group, const std::vector<std::string>& path) const;
  // The footer's metadata of the leaf at `path` in one row group, or nullptr when the
  // schema has no such leaf or row_group >= row_groups().
  const ColumnChunk* Chunk(size_t row_group, const std::vector<std::string>& path) const;
  // The leaves in schema order, with their paths; column chunks follow this order.
  const std::vector<const SchemaNode*>& leaves() const;
  const std::vector<std::vector<std::string>>& leaf_paths() const;

  File(File&&) noexcept;
  File& operator=(File&&) noexcept;
  ~File();

 private:
  struct Footer;
  File();
  util::Status ReadFooter();
  util::Status CheckRowGroups(size_t footer_start) const;
  std::shared_ptr<const std::string> bytes_;
  std::string what_;
  std::unique_ptr<SchemaNode> schema_;
  std::unique_ptr<Footer> footer_;
};

}  // namespace tidemark::backend::lake::parquet

#endif  // TIDEMARK_BACKEND_LAKE_PARQUET_H_
