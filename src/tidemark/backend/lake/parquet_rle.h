// The RLE/bit-packed hybrid encoding of Parquet: definition and repetition levels,
// dictionary indices and RLE booleans. A run header (a varint) says either "the next
// value, repeated n times" or "n groups of 8 values, bit-packed, least significant bit
// first". Internal to the Parquet reader and writer.
//
// Thread-safety: a decoder or encoder is used by one thread.

#ifndef TIDEMARK_BACKEND_LAKE_PARQUET_RLE_H_
#define TIDEMARK_BACKEND_LAKE_PARQUET_RLE_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "tidemark/util/error.h"

namespace tidemark::backend::lake::parquet {

// The bits needed for values up to `max_value` (0 for 0).
inline int BitWidth(uint32_t max_value) {
  int width = 0;
  while (width < 32 && (max_value >> width) != 0) ++width;
  return width;
}

class HybridDecoder {
 public:
  // REQUIRES: 0 <= bit_width <= 32.
  HybridDecoder(std::string_view data, int bit_width)
      : data_(data),
        width_(bit_width),
        mask_(bit_width == 32 ? 0xFFFFFFFFu : (1u << bit_width) - 1) {}

  // Decodes the next `count` values into `out`. Bytes ending first, or a value above
  // `limit`, is an error (kVerify, a message without context).
  template <typename T>
  util::Status Decode(T* out, size_t count, uint32_t limit) {
    while (count > 0) {
      if (left_ == 0) TM_TRY(NextRun());
      const size_t n = static_cast<size_t>(std::min<uint64_t>(left_, count));
      if (packed_ == nullptr) {
        if (value_ > limit) return OutOfRange(value_, limit);
        std::fill_n(out, n, static_cast<T>(value_));
      } else {
        for (size_t i = 0; i < n; ++i) {
          const uint32_t v = Unpack(packed_index_ + i);
          if (v > limit) return OutOfRange(v, limit);
          out[i] = static_cast<T>(v);
        }
        packed_index_ += n;
      }
      out += n;
      count -= n;
      left_ -= n;
    }
    return {};
  }

 private:
  util::Status NextRun();
  static util::Status OutOfRange(uint32_t value, uint32_t limit);

  uint32_t Unpack(uint64_t index) const {
    const uint64_t bit = index * static_cast<uint64_t>(width_);
    const size_t byte = static_cast<size_t>(bit >> 3);
    uint64_t word = 0;
    if (byte + 8 <= packed_size_) {
      std::memcpy(&word, packed_ + byte, 8);
    } else if (byte < packed_size_) {
      std::memcpy(&word, packed_ + byte, packed_size_ - byte);
    }
    return static_cast<uint32_t>(word >> (bit & 7)) & mask_;
  }

  std::string_view data_;
  size_t pos_ = 0;
  int width_;
  uint32_t mask_;
  uint64_t left_ = 0;             // values left in the current run
  uint32_t value_ = 0;            // of an RLE run
  const char* packed_ = nullptr;  // of a bit-packed run; nullptr in an RLE run
  size_t packed_size_ = 0;
  uint64_t packed_index_ = 0;
};

// Appends `values` (each < 2^bit_width) to `out`: runs of 8 or more equal values as RLE
// runs, the others bit-packed, as parquet-mr does.
void EncodeHybrid(const uint32_t* values, size_t count, int bit_width, std::string* out);

}  // namespace tidemark::backend::lake::parquet

#endif  // TIDEMARK_BACKEND_LAKE_PARQUET_RLE_H_
