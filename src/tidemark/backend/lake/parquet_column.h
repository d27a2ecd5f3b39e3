// Decoding one column chunk: its pages, their decompression, levels and values.
// Internal to the Parquet reader (parquet.cc); the file's footer has been checked.
//
// Thread-safety: a free function over immutable inputs.

#ifndef TIDEMARK_BACKEND_LAKE_PARQUET_COLUMN_H_
#define TIDEMARK_BACKEND_LAKE_PARQUET_COLUMN_H_

#include <memory>
#include <string>
#include <vector>

#include "tidemark/backend/lake/parquet.h"
#include "tidemark/util/error.h"

namespace tidemark::backend::lake::parquet {

// What the decoder needs to know of a leaf besides its chunk.
struct LeafInfo {
  const SchemaNode* node = nullptr;
  // repeated_def[r - 1]: the definition level of the leaf's r-th repeated ancestor (or
  // itself), which every entry at repetition level r reaches.
  std::vector<int16_t> repeated_def;
};

// Decodes `chunk` of `file`. `rows` is the row
// group's row count, which the chunk must match; `where` names the file, row group and
// column in errors. REQUIRES: the chunk's range lies inside the file.
util::Result<Column> DecodeColumnChunk(const std::shared_ptr<const std::string>& file,
                                       const ColumnChunk& chunk, const LeafInfo& leaf, int64_t rows,
                                       const std::string& where);

}  // namespace tidemark::backend::lake::parquet

#endif  // TIDEMARK_BACKEND_LAKE_PARQUET_COLUMN_H_
