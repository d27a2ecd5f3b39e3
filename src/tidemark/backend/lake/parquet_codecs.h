// The compression codecs of Parquet column chunks: snappy and gzip (zlib) here, zstd
// through archive/zstd_stream.h. The only file that speaks to libsnappy and zlib is
// parquet_codecs.cc.
//
// Decompression appends to a caller's buffer and must produce exactly the size the page
// header claims: more or less is damage. It never allocates much more than the
// compressed input can produce, so a page header claiming a gigabyte over a few bytes
// costs nothing.
//
// Thread-safety: free functions, safe from any thread.

#ifndef TIDEMARK_BACKEND_LAKE_PARQUET_CODECS_H_
#define TIDEMARK_BACKEND_LAKE_PARQUET_CODECS_H_

#include <string>
#include <string_view>

#include "tidemark/backend/lake/parquet.h"
#include "tidemark/util/error.h"

namespace tidemark::backend::lake::parquet {

// Whether Decompress knows `codec`.
bool CodecSupported(Codec codec);

// Appends the decompressed `compressed` to `out`, which must be exactly `size` bytes.
// Errors are kVerify with a message that says what was wrong, without naming the page
// (the caller adds where). REQUIRES: CodecSupported(codec).
util::Status Decompress(Codec codec, std::string_view compressed, size_t size, std::string* out);

// Compresses `data` with `codec` (for the test writer). REQUIRES: CodecSupported(codec).
util::Result<std::string> Compress(Codec codec, std::string_view data);

}  // namespace tidemark::backend::lake::parquet

#endif  // TIDEMARK_BACKEND_LAKE_PARQUET_CODECS_H_
