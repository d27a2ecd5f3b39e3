// Streaming zstd compression and decompression; the only code that speaks to libzstd.
//
// ZstdCompressor takes bytes in pieces of any size and hands its output to a sink in
// blocks of kZstdBlockSize (the last one shorter). Its output is one zstd frame with a
// content checksum, readable by `zstd -d`. ZstdDecompressor pulls compressed bytes from
// a source and returns decompressed pieces; like `zstd -dc`, it accepts any number of
// concatenated frames (and skippable frames). Memory is bounded by the compression
// level's window whatever the stream's length.
//
// Thread-safety: an object is used by one thread at a time. A compressor with workers
// runs libzstd's own threads inside; the sink is still called on the caller's thread.

#ifndef TIDEMARK_ARCHIVE_ZSTD_STREAM_H_
#define TIDEMARK_ARCHIVE_ZSTD_STREAM_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "tidemark/util/error.h"

namespace tidemark::archive {

// The size of the blocks a compressor hands to its sink and a decompressor reads.
inline constexpr size_t kZstdBlockSize = 1 << 20;

// Receives the next block of compressed bytes. An error stops the compression.
using CompressedSink = std::function<util::Status(std::string_view block)>;

// Reads up to `size` bytes of compressed input into `buffer`; 0 at the end.
using CompressedSource = std::function<util::Result<size_t>(char* buffer, size_t size)>;

// The most worker threads this libzstd accepts (ZSTD_c_nbWorkers); 0 when it was built
// without multithreading.
int ZstdMaxWorkers();

struct ZstdCompressOptions {
  int level = 1;  // zstd's levels, 1 (fastest) to 19; clamped to what the library accepts
  // Threads that compress while the caller goes on (0: compress on the caller's thread).
  // Clamped to ZstdMaxWorkers(), so asking for workers is always safe.
  int workers = 0;
};

class ZstdCompressor {
 public:
  // Fails (kStep) only when libzstd cannot allocate its context.
  static util::Result<std::unique_ptr<ZstdCompressor>> Create(const ZstdCompressOptions& options,
                                                              CompressedSink sink);
  ~ZstdCompressor();
  ZstdCompressor(const ZstdCompressor&) = delete;
  ZstdCompressor& operator=(const ZstdCompressor&) = delete;

  // Compresses `data`, handing each full block to the sink. REQUIRES: Finish not called.
  util::Status Write(std::string_view data);

  // Ends the frame and hands the rest of the output to the sink. REQUIRES: called once.
  util::Status Finish();

  // The worker threads in use after clamping.
  int workers() const;

 private:
  struct State;
  explicit ZstdCompressor(std::unique_ptr<State> state);
  util::Status Drive(std::string_view data, bool end);
  std::unique_ptr<State> state_;
};

class ZstdDecompressor {
 public:
  // `name` names the compressed stream in errors, e.g. the object's URL.
  static util::Result<std::unique_ptr<ZstdDecompressor>> Create(CompressedSource source,
                                                                std::string name);
  ~ZstdDecompressor();
  ZstdDecompressor(const ZstdDecompressor&) = delete;
  ZstdDecompressor& operator=(const ZstdDecompressor&) = delete;

  // The next piece of decompressed bytes, valid until the next call; empty at the end.
  // Input that is corrupt, truncated (ends inside a frame) or empty (no frame at all) is
  // a kVerify error naming the stream and the compressed byte offset where it was found.
  // Errors of the source are returned as they are.
  util::Result<std::string_view> Next();

  // Compressed bytes consumed so far.
  int64_t compressed_offset() const;

 private:
  struct State;
  explicit ZstdDecompressor(std::unique_ptr<State> state);
  util::Status Refill();
  std::unique_ptr<State> state_;
};

// One-shot decompression of a buffer holding one or more whole frames (a Parquet page),
// appended to `out`. The output must be exactly `expected_size` bytes; more, fewer, or
// damaged input is a kVerify error whose message says which (the caller names the
// input). `out` grows with the output actually produced, never to an untrusted
// expected_size up front.
util::Status DecompressZstd(std::string_view compressed, size_t expected_size, std::string* out);

// One-shot compression into one frame with the content size recorded (for writers of
// test files).
util::Result<std::string> CompressZstd(std::string_view data, int level = 3);

}  // namespace tidemark::archive

#endif  // TIDEMARK_ARCHIVE_ZSTD_STREAM_H_
