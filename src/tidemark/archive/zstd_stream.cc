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

}  // namespace tidemark::archive
