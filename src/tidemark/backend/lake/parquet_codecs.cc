#include "tidemark/backend/lake/parquet_codecs.h"

#include <algorithm>

#include <snappy.h>
#include <zlib.h>

#include "tidemark/archive/zstd_stream.h"

namespace tidemark::backend::lake::parquet {

namespace {

tl::unexpected<util::Error> Corrupt(const std::string& what) {
  return util::Fail(util::ErrorCategory::kVerify, what);
}

std::string SizeMismatch(const char* codec, size_t got, size_t expected) {
  return std::string(codec) + " data of " + std::to_string(got) + " bytes where " +
         std::to_string(expected) + " were expected";
}

util::Status DecompressSnappy(std::string_view compressed, size_t size, std::string* out) {
  size_t stated = 0;
  if (!snappy::GetUncompressedLength(compressed.data(), compressed.size(), &stated)) {
    return Corrupt("corrupt snappy data (no length)");
  }
  if (stated != size) return Corrupt(SizeMismatch("snappy", stated, size));
  // A snappy element of 3 bytes yields at most 64: a larger claim is damage, refused
  // before allocating for it.
  if (size / 22 > compressed.size()) return Corrupt("snappy data too short for its length");
  const size_t start = out->size();
  out->resize(start + size);
  if (!snappy::RawUncompress(compressed.data(), compressed.size(), out->data() + start)) {
    out->resize(start);
    return Corrupt("corrupt snappy data");
  }
  return {};
}

struct InflateStream {
  z_stream z{};
  bool open = false;
  ~InflateStream() {
    if (open) inflateEnd(&z);
  }
};

// Gzip (or zlib) members, one after another, into `out`; it grows with the output.
util::Status DecompressGzip(std::string_view compressed, size_t size, std::string* out) {
  InflateStream stream;
  // 15 bits of window, +32: gzip or zlib headers, detected.
  if (inflateInit2(&stream.z, 15 + 32) != Z_OK) return util::StepError("zlib could not start");
  stream.open = true;
  const size_t start = out->size();
  const size_t limit = size + 1;  // room for one byte too many, to see it
  size_t room = std::min(limit, std::max<size_t>(compressed.size() * 8, 1 << 16));
  out->resize(start + room);
  stream.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.z.avail_in = static_cast<uInt>(compressed.size());
  size_t produced = 0;
  int rc = Z_OK;
  while (true) {
    if (produced == room) {
      if (room == limit) break;
      room = std::min(limit, room * 2);
      out->resize(start + room);
    }
    const size_t chunk = std::min<size_t>(room - produced, 1u << 30);
    stream.z.next_out = reinterpret_cast<Bytef*>(out->data() + start + produced);
    stream.z.avail_out = static_cast<uInt>(chunk);
    rc = inflate(&stream.z, Z_NO_FLUSH);
    produced += chunk - stream.z.avail_out;
    if (rc == Z_STREAM_END) {
      if (stream.z.avail_in == 0) break;
      if (inflateReset(&stream.z) != Z_OK) break;  // another member follows
      continue;
    }
    if (rc == Z_BUF_ERROR && stream.z.avail_out != 0) break;  // input ended
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
  }
  out->resize(start + std::min(produced, size));
  if (rc != Z_STREAM_END && !(rc == Z_OK && produced > size)) {
    if (rc == Z_OK || rc == Z_BUF_ERROR) return Corrupt("truncated gzip data");
    return Corrupt(std::string("corrupt gzip data (") +
                   (stream.z.msg != nullptr ? stream.z.msg : "zlib error " + std::to_string(rc)) +
                   ")");
  }
  if (produced != size) return Corrupt(SizeMismatch("gzip", produced, size));
  return {};
}

util::Result<std::string> CompressGzip(std::string_view data) {
  z_stream z{};
  // 15 bits of window, +16: a gzip header, as Parquet's GZIP codec writes.
  if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return util::StepError("zlib could not start");
  }
  std::string out(deflateBound(&z, data.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return util::StepError("gzip compression failed");
  return out;
}

}  // namespace

bool CodecSupported(Codec codec) {
  return codec == Codec::kUncompressed || codec == Codec::kSnappy || codec == Codec::kGzip ||
         codec == Codec::kZstd;
}

util::Status Decompress(Codec codec, std::string_view compressed, size_t size, std::string* out) {
  switch (codec) {
    case Codec::kUncompressed:
      if (compressed.size() != size)
        return Corrupt(SizeMismatch("uncompressed", compressed.size(), size));
      out->append(compressed);
      return {};
    case Codec::kSnappy: return DecompressSnappy(compressed, size, out);
    case Codec::kGzip: return DecompressGzip(compressed, size, out);
    case Codec::kZstd: return archive::DecompressZstd(compressed, size, out);
    default: return Corrupt(std::string("codec ") + CodecName(codec) + " is not supported");
  }
}

util::Result<std::string> Compress(Codec codec, std::string_view data) {
  switch (codec) {
    case Codec::kUncompressed: return std::string(data);
    case Codec::kSnappy: {
      std::string out;
      snappy::Compress(data.data(), data.size(), &out);
      return out;
    }
    case Codec::kGzip: return CompressGzip(data);
    case Codec::kZstd: return archive::CompressZstd(data);
    default: return util::StepError(std::string("cannot compress with ") + CodecName(codec));
  }
}

}  // namespace tidemark::backend::lake::parquet
