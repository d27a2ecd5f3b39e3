// Fuzz target: the Parquet reader opening arbitrary bytes as a file and decoding every
// leaf of every row group, then touching every value it returned (so that a view past
// its arena is caught by AddressSanitizer).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "tidemark/backend/lake/parquet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tidemark::backend::lake::parquet::File;
  auto bytes = std::make_shared<const std::string>(reinterpret_cast<const char*>(data), size);
  auto file = File::Open(bytes, "input.parquet");
  if (!file) return 0;
  volatile size_t sink = 0;
  for (size_t group = 0; group < file->row_groups(); ++group) {
    for (const auto& path : file->leaf_paths()) {
      auto column = file->ReadColumn(group, path);
      if (!column) continue;
      for (std::string_view value : column->bytes) {
        if (!value.empty())
          sink = sink + static_cast<uint8_t>(value.front()) + static_cast<uint8_t>(value.back());
      }
      for (int64_t value : column->ints) sink = sink + static_cast<size_t>(value);
      sink = sink + column->RowStarts().size() + column->doubles.size();
    }
  }
  return 0;
}
