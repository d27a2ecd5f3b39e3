// A small Parquet writer for tests, benchmarks and fuzz seeds; tidemark itself writes no
// Parquet. It writes what the reader reads: a schema of struct, map, list and leaf nodes;
// rows given column by column as levels and values (the Column the reader returns);
// PLAIN or dictionary encoding; data pages v1 or v2; uncompressed, snappy, gzip or zstd;
// and pages and row groups as small as asked, so that tests cross their boundaries.
// No statistics, indexes or bloom filters.
//
// Thread-safety: a free function.

#ifndef TIDEMARK_BACKEND_LAKE_PARQUET_WRITER_H_
#define TIDEMARK_BACKEND_LAKE_PARQUET_WRITER_H_

#include <functional>
#include <string>
#include <vector>

#include "tidemark/backend/lake/parquet.h"
#include "tidemark/util/error.h"

namespace tidemark::backend::lake::parquet {

// Schema nodes. A UTF8 leaf gets the logical type STRING; maps and lists are written in
// the three-level form Spark writes.
SchemaNode LeafNode(std::string name, PhysicalType type, Repetition repetition,
                    std::string converted_type = "", int32_t type_length = 0);
SchemaNode GroupNode(std::string name, Repetition repetition, std::vector<SchemaNode> children,
                     std::string converted_type = "");
// `name` (MAP) { repeated key_value { key; value } }; key is renamed "key", value "value".
SchemaNode MapNode(std::string name, Repetition repetition, SchemaNode key, SchemaNode value);
// `name` (LIST) { repeated list { element } }; element is renamed "element".
SchemaNode ListNode(std::string name, Repetition repetition, SchemaNode element);

// A page header as the writer is about to write it (see WriterOptions::edit_page).
struct PageHeaderFields {
  int32_t type = 0;  // 0 DATA_PAGE, 2 DICTIONARY_PAGE, 3 DATA_PAGE_V2
  int32_t uncompressed_size = 0;
  int32_t num_values = 0;
  Encoding encoding = Encoding::kPlain;
  int32_t num_nulls = 0;      // v2
  int32_t num_rows = 0;       // v2
  int32_t def_bytes = 0;      // v2
  int32_t rep_bytes = 0;      // v2
  bool is_compressed = true;  // v2
};

struct WriterOptions {
  Codec codec = Codec::kUncompressed;  // kUncompressed, kSnappy, kGzip or kZstd
  int page_version = 1;                // 1: DATA_PAGE; 2: DATA_PAGE_V2
  bool dictionary = false;             // dictionary-encode every column but booleans
  // A data page ends at the first row boundary after this many bytes of values.
  size_t page_bytes = size_t{1} << 20;
  size_t row_group_rows = size_t{1} << 20;  // rows per row group
  // Tests that damage files on purpose change a page here: its header and its bytes
  // before compression. A changed uncompressed_size is written as it is; otherwise it
  // follows the bytes.
  std::function<void(PageHeaderFields& header, std::string& page)> edit_page;
};

// A Parquet file of `schema` (the root group) holding `columns`, one per leaf in schema
// order, each with every row: levels and values as Column holds them (entries, levels,
// the vector of the leaf's type; max_def and max_rep are taken from the schema).
// Inconsistent columns are a kConfig error.
util::Result<std::string> WriteParquet(const SchemaNode& schema, const std::vector<Column>& columns,
                                       const WriterOptions& options = {});

}  // namespace tidemark::backend::lake::parquet

#endif  // TIDEMARK_BACKEND_LAKE_PARQUET_WRITER_H_
