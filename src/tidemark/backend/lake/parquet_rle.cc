#include "tidemark/backend/lake/parquet_rle.h"

#include <vector>

namespace tidemark::backend::lake::parquet {

namespace {

tl::unexpected<util::Error> Damage(const std::string& what) {
  return util::Fail(util::ErrorCategory::kVerify, what);
}

void PutVarint(uint64_t n, std::string* out) {
  while (n >= 0x80) {
    out->push_back(static_cast<char>(n | 0x80));
    n >>= 7;
  }
  out->push_back(static_cast<char>(n));
}

// Bit-packs `values` (a multiple of 8 of them) as one run.
void PutPacked(const std::vector<uint32_t>& values, int bit_width, std::string* out) {
  if (values.empty()) return;
  PutVarint((values.size() / 8) << 1 | 1, out);
  const size_t start = out->size();
  out->resize(start + values.size() / 8 * bit_width, '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    for (int b = 0; b < bit_width; ++b) {
      if ((values[i] >> b) & 1) {
        const size_t bit = i * bit_width + b;
        (*out)[start + bit / 8] = static_cast<char>((*out)[start + bit / 8] | (1 << (bit % 8)));
      }
    }
  }
}

void PutRun(uint32_t value, size_t count, int bit_width, std::string* out) {
  PutVarint(uint64_t{count} << 1, out);
  for (int byte = 0; byte < (bit_width + 7) / 8; ++byte) {
    out->push_back(static_cast<char>(value >> (8 * byte)));
  }
}

}  // namespace

util::Status HybridDecoder::OutOfRange(uint32_t value, uint32_t limit) {
  return Damage("a value of " + std::to_string(value) + " where at most " + std::to_string(limit) +
                " is possible");
}

util::Status HybridDecoder::NextRun() {
  uint64_t header = 0;
  for (int shift = 0;; shift += 7) {
    if (pos_ >= data_.size()) return Damage("the encoded values end early");
    if (shift > 63) return Damage("a run header over 64 bits");
    const uint8_t b = static_cast<uint8_t>(data_[pos_++]);
    header |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) break;
  }
  const size_t remaining = data_.size() - pos_;
  if ((header & 1) == 0) {
    const size_t value_bytes = static_cast<size_t>(width_ + 7) / 8;
    if (remaining < value_bytes) return Damage("the encoded values end inside a run");
    uint32_t value = 0;
    for (size_t i = 0; i < value_bytes; ++i) {
      value |= static_cast<uint32_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    }
    pos_ += value_bytes;
    value_ = value;
    packed_ = nullptr;
    left_ = header >> 1;
    return {};
  }
  // Bit-packed: groups of 8 values. A last run cut short (some writers do not pad it) is
  // read as far as its bytes go.
  const uint64_t groups = std::min<uint64_t>(header >> 1, uint64_t{1} << 56);
  uint64_t bytes = groups * static_cast<uint64_t>(width_);
  if (width_ != 0 && groups > remaining / static_cast<size_t>(width_)) bytes = remaining;
  packed_ = data_.data() + pos_;
  packed_size_ = static_cast<size_t>(bytes);
  packed_index_ = 0;
  pos_ += packed_size_;
  left_ = width_ == 0 ? groups * 8 : std::min<uint64_t>(groups * 8, bytes * 8 / width_);
  return {};
}

void EncodeHybrid(const uint32_t* values, size_t count, int bit_width, std::string* out) {
  std::vector<uint32_t> literals;
  size_t i = 0;
  while (i < count) {
    size_t run = 1;
    while (i + run < count && values[i + run] == values[i]) ++run;
    if (run >= 8 && literals.size() % 8 == 0) {
      PutPacked(literals, bit_width, out);
      literals.clear();
      PutRun(values[i], run, bit_width, out);
      i += run;
    } else if (run >= 8) {  // complete the group of literals from the run first
      const size_t take = 8 - literals.size() % 8;
      literals.insert(literals.end(), take, values[i]);
      i += take;
    } else {
      literals.insert(literals.end(), run, values[i]);
      i += run;
    }
  }
  if (!literals.empty()) {
    literals.resize((literals.size() + 7) / 8 * 8, 0);
    PutPacked(literals, bit_width, out);
  }
}

}  // namespace tidemark::backend::lake::parquet
