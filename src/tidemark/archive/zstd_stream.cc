#include "tidemark/archive/zstd_stream.h"

#include <algorithm>

#include <zstd.h>

namespace tidemark::archive {

namespace {

util::Error LibraryError(const std::string& what, size_t code) {
  return util::Error(util::ErrorCategory::kStep,
                     "zstd " + what + " failed: " + ZSTD_getErrorName(code));
}

int Clamp(ZSTD_cParameter parameter, int value) {
  ZSTD_bounds bounds = ZSTD_cParam_getBounds(parameter);
  if (ZSTD_isError(bounds.error)) return 0;
  return std::clamp(value, bounds.lowerBound, bounds.upperBound);
}

}  // namespace

int ZstdMaxWorkers() {
  ZSTD_bounds bounds = ZSTD_cParam_getBounds(ZSTD_c_nbWorkers);
  return ZSTD_isError(bounds.error) ? 0 : std::max(bounds.upperBound, 0);
}

// ----- compression -----

struct ZstdCompressor::State {
  ZSTD_CCtx* context = nullptr;
  CompressedSink sink;
  std::unique_ptr<char[]> block{new char[kZstdBlockSize]};
  size_t used = 0;  // bytes of `block` holding output not yet handed to the sink
  int workers = 0;

  ~State() { ZSTD_freeCCtx(context); }
};

ZstdCompressor::ZstdCompressor(std::unique_ptr<State> state) : state_(std::move(state)) {}
ZstdCompressor::~ZstdCompressor() = default;

util::Result<std::unique_ptr<ZstdCompressor>> ZstdCompressor::Create(
    const ZstdCompressOptions& options, CompressedSink sink) {
  auto state = std::make_unique<State>();
  state->context = ZSTD_createCCtx();
  if (state->context == nullptr) {
    return util::StepError("zstd could not allocate a compression context");
  }
  state->sink = std::move(sink);
  state->workers = std::min(std::max(options.workers, 0), ZstdMaxWorkers());
  const std::pair<ZSTD_cParameter, int> parameters[] = {
      {ZSTD_c_compressionLevel, Clamp(ZSTD_c_compressionLevel, options.level)},
      {ZSTD_c_checksumFlag, 1},
      {ZSTD_c_nbWorkers, state->workers},
  };
  for (const auto& [parameter, value] : parameters) {
    size_t rc = ZSTD_CCtx_setParameter(state->context, parameter, value);
    if (ZSTD_isError(rc)) return tl::unexpected(LibraryError("setting a parameter", rc));
  }
  return std::unique_ptr<ZstdCompressor>(new ZstdCompressor(std::move(state)));
}

int ZstdCompressor::workers() const { return state_->workers; }

util::Status ZstdCompressor::Write(std::string_view data) { return Drive(data, false); }

util::Status ZstdCompressor::Finish() { return Drive({}, true); }

// Feeds `data` to libzstd, handing every filled block to the sink; with `end`, until the
// frame is complete and the last, partial block is handed over too.
util::Status ZstdCompressor::Drive(std::string_view data, bool end) {
  State& s = *state_;
  if (data.empty() && !end) return {};
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  const ZSTD_EndDirective directive = end ? ZSTD_e_end : ZSTD_e_continue;
  while (true) {
    ZSTD_outBuffer out{s.block.get(), kZstdBlockSize, s.used};
    size_t remaining = ZSTD_compressStream2(s.context, &out, &in, directive);
    if (ZSTD_isError(remaining)) return tl::unexpected(LibraryError("compression", remaining));
    s.used = out.pos;
    bool done = end ? remaining == 0 : in.pos == in.size;
    if (s.used == kZstdBlockSize || (done && end && s.used > 0)) {
      TM_TRY(s.sink(std::string_view(s.block.get(), s.used)));
      s.used = 0;
    }
    if (done) return {};
  }
}

// ----- decompression -----

struct ZstdDecompressor::State {
  ZSTD_DCtx* context = nullptr;
  CompressedSource source;
  std::string name;
  std::unique_ptr<char[]> input{new char[kZstdBlockSize]};
  std::unique_ptr<char[]> output{new char[kZstdBlockSize]};
  ZSTD_inBuffer in{nullptr, 0, 0};
  bool source_ended = false;
  // Whether the last step that made progress left a frame unfinished.
  bool inside_frame = false;
  int64_t consumed = 0;  // compressed bytes libzstd has taken

  ~State() { ZSTD_freeDCtx(context); }
};

ZstdDecompressor::ZstdDecompressor(std::unique_ptr<State> state) : state_(std::move(state)) {}
ZstdDecompressor::~ZstdDecompressor() = default;

util::Result<std::unique_ptr<ZstdDecompressor>> ZstdDecompressor::Create(CompressedSource source,
                                                                         std::string name) {
  auto state = std::make_unique<State>();
  state->context = ZSTD_createDCtx();
  if (state->context == nullptr) {
    return util::StepError("zstd could not allocate a decompression context");
  }
  state->source = std::move(source);
  state->name = std::move(name);
  return std::unique_ptr<ZstdDecompressor>(new ZstdDecompressor(std::move(state)));
}

int64_t ZstdDecompressor::compressed_offset() const { return state_->consumed; }

util::Status ZstdDecompressor::Refill() {
  State& s = *state_;
  if (s.in.pos < s.in.size || s.source_ended) return {};
  TM_TRY_ASSIGN(size_t n, s.source(s.input.get(), kZstdBlockSize));
  s.in = {s.input.get(), n, 0};
  s.source_ended = n == 0;
  return {};
}

util::Result<std::string_view> ZstdDecompressor::Next() {
  State& s = *state_;
  while (true) {
    TM_TRY(Refill());
    ZSTD_outBuffer out{s.output.get(), kZstdBlockSize, 0};
    const size_t before = s.in.pos;
    size_t hint = ZSTD_decompressStream(s.context, &out, &s.in);
    if (ZSTD_isError(hint)) {
      return util::Fail(util::ErrorCategory::kVerify,
                        s.name + ": corrupt zstd data at or after compressed byte " +
                            std::to_string(s.consumed) + " (" + ZSTD_getErrorName(hint) + ")");
    }
    s.consumed += static_cast<int64_t>(s.in.pos - before);
    // A call without progress (no input left) says nothing about the frame: after a
    // finished frame it asks for the next frame's header.
    if (s.in.pos != before || out.pos > 0) s.inside_frame = hint != 0;
    if (out.pos > 0) return std::string_view(s.output.get(), out.pos);
    if (s.in.pos < s.in.size || !s.source_ended) continue;
    if (s.inside_frame) {
      return util::Fail(util::ErrorCategory::kVerify,
                        s.name + ": truncated zstd data: the input ends inside a frame after " +
                            std::to_string(s.consumed) + " compressed bytes");
    }
    if (s.consumed == 0) {
      return util::Fail(util::ErrorCategory::kVerify,
                        s.name + ": no zstd data: the compressed stream is empty");
    }
    return std::string_view();
  }
}

// ----- one-shot -----

namespace {

util::Error Corrupt(const std::string& what) {
  return util::Error(util::ErrorCategory::kVerify, what);
}

struct DContextDeleter {
  void operator()(ZSTD_DCtx* context) const { ZSTD_freeDCtx(context); }
};

// Each thread keeps one context: creating one costs more than decompressing a small page.
ZSTD_DCtx* ThreadDecompressionContext() {
  thread_local std::unique_ptr<ZSTD_DCtx, DContextDeleter> context(ZSTD_createDCtx());
  return context.get();
}

}  // namespace

util::Status DecompressZstd(std::string_view compressed, size_t expected_size, std::string* out) {
  ZSTD_DCtx* context = ThreadDecompressionContext();
  if (context == nullptr) return util::StepError("zstd could not allocate a decompression context");
  ZSTD_DCtx_reset(context, ZSTD_reset_session_only);
  // A frame that states its size must state the expected one; checked before allocating.
  const unsigned long long stated = ZSTD_getFrameContentSize(compressed.data(), compressed.size());
  if (stated == ZSTD_CONTENTSIZE_ERROR) return tl::unexpected(Corrupt("not zstd data"));
  if (stated != ZSTD_CONTENTSIZE_UNKNOWN && stated > expected_size) {
    return tl::unexpected(Corrupt("zstd data of " + std::to_string(stated) + " bytes where " +
                                  std::to_string(expected_size) + " were expected"));
  }
  const size_t start = out->size();
  // One byte of room beyond the expected size, so that too much output is seen.
  const size_t limit = expected_size + 1;
  size_t room = std::min(limit, std::max<size_t>(compressed.size() * 8, 1 << 16));
  out->resize(start + room);
  ZSTD_inBuffer in{compressed.data(), compressed.size(), 0};
  size_t produced = 0;
  size_t hint = 1;
  while (in.pos < in.size || hint != 0) {
    if (produced == room) {
      if (room == limit) break;
      room = std::min(limit, room * 2);
      out->resize(start + room);
    }
    ZSTD_outBuffer output{out->data() + start, room, produced};
    const size_t before_in = in.pos;
    hint = ZSTD_decompressStream(context, &output, &in);
    if (ZSTD_isError(hint)) {
      out->resize(start);
      return tl::unexpected(
          Corrupt(std::string("corrupt zstd data (") + ZSTD_getErrorName(hint) + ")"));
    }
    const bool progress = in.pos != before_in || output.pos != produced;
    produced = output.pos;
    if (!progress && produced < room) break;  // input ended inside a frame
  }
  out->resize(start + std::min(produced, expected_size));
  if (produced > expected_size) {
    return tl::unexpected(
        Corrupt("zstd data longer than the " + std::to_string(expected_size) + " bytes expected"));
  }
  if (hint != 0) return tl::unexpected(Corrupt("truncated zstd data"));
  if (produced != expected_size) {
    return tl::unexpected(Corrupt("zstd data of " + std::to_string(produced) + " bytes where " +
                                  std::to_string(expected_size) + " were expected"));
  }
  return {};
}

util::Result<std::string> CompressZstd(std::string_view data, int level) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const size_t size = ZSTD_compress(out.data(), out.size(), data.data(), data.size(),
                                    Clamp(ZSTD_c_compressionLevel, level));
  if (ZSTD_isError(size)) return tl::unexpected(LibraryError("compression", size));
  out.resize(size);
  return out;
}

}  // namespace tidemark::archive
