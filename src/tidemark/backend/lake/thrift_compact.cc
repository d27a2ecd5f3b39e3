#include "tidemark/backend/lake/thrift_compact.h"

#include <cstring>

namespace tidemark::backend::lake {

namespace {

constexpr int kMaxDepth = 64;

int64_t Unzigzag(uint64_t n) { return static_cast<int64_t>(n >> 1) ^ -static_cast<int64_t>(n & 1); }

}  // namespace

tl::unexpected<util::Error> ThriftReader::Fail(const std::string& what) const {
  return util::Fail(
      util::ErrorCategory::kVerify,
      what_ + " is damaged: " + what + " (Thrift, at byte " + std::to_string(pos_) + ")");
}

util::Result<uint64_t> ThriftReader::Varint() {
  uint64_t value = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos_ >= bytes_.size()) return Fail("it ends inside a number");
    const uint8_t b = static_cast<uint8_t>(bytes_[pos_++]);
    if (shift == 63 && (b & 0x7E) != 0) return Fail("a number over 64 bits");
    value |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return value;
  }
  return Fail("a number over 10 bytes");
}

util::Result<ThriftType> ThriftReader::TypeOf(uint8_t code) const {
  if (code > static_cast<uint8_t>(ThriftType::kStruct)) {
    return Fail("an unknown type code " + std::to_string(code));
  }
  return static_cast<ThriftType>(code);
}

util::Status ThriftReader::StructBegin() {
  if (depth_ >= kMaxDepth) return Fail("structs nested deeper than 64");
  saved_[depth_++] = last_field_;
  last_field_ = 0;
  return {};
}

util::Status ThriftReader::StructEnd() {
  if (depth_ == 0) return Fail("a struct ended that never began");
  last_field_ = saved_[--depth_];
  return {};
}

util::Result<ThriftField> ThriftReader::Field() {
  if (pos_ >= bytes_.size()) return Fail("it ends inside a struct");
  const uint8_t header = static_cast<uint8_t>(bytes_[pos_++]);
  ThriftField field;
  TM_TRY_ASSIGN(field.type, TypeOf(header & 0x0F));
  if (field.type == ThriftType::kStop) return field;
  const int delta = header >> 4;
  if (delta != 0) {
    field.id = static_cast<int16_t>(last_field_ + delta);
  } else {
    TM_TRY_ASSIGN(int16_t id, I16());
    field.id = id;
  }
  last_field_ = field.id;
  return field;
}

util::Result<bool> ThriftReader::Bool() {
  TM_TRY_ASSIGN(int8_t b, Byte());
  if (b != 1 && b != 2 && b != 0) return Fail("a bool that is " + std::to_string(b));
  return b == 1;
}

util::Result<int8_t> ThriftReader::Byte() {
  if (pos_ >= bytes_.size()) return Fail("it ends inside a byte");
  return static_cast<int8_t>(bytes_[pos_++]);
}

util::Result<int16_t> ThriftReader::I16() {
  TM_TRY_ASSIGN(uint64_t n, Varint());
  const int64_t v = Unzigzag(n);
  if (v < INT16_MIN || v > INT16_MAX) return Fail("an i16 out of range");
  return static_cast<int16_t>(v);
}

util::Result<int32_t> ThriftReader::I32() {
  TM_TRY_ASSIGN(uint64_t n, Varint());
  const int64_t v = Unzigzag(n);
  if (v < INT32_MIN || v > INT32_MAX) return Fail("an i32 out of range");
  return static_cast<int32_t>(v);
}

util::Result<int64_t> ThriftReader::I64() {
  TM_TRY_ASSIGN(uint64_t n, Varint());
  return Unzigzag(n);
}

util::Result<double> ThriftReader::Double() {
  if (remaining() < 8) return Fail("it ends inside a double");
  double value;
  std::memcpy(&value, bytes_.data() + pos_, 8);  // little-endian, as the host
  pos_ += 8;
  return value;
}

util::Result<std::string_view> ThriftReader::Binary() {
  TM_TRY_ASSIGN(uint64_t size, Varint());
  if (size > remaining())
    return Fail("a string of " + std::to_string(size) + " bytes past its end");
  std::string_view value = bytes_.substr(pos_, size);
  pos_ += size;
  return value;
}

util::Result<ThriftList> ThriftReader::ListBegin() {
  TM_TRY_ASSIGN(int8_t header, Byte());
  ThriftList list;
  TM_TRY_ASSIGN(list.element, TypeOf(static_cast<uint8_t>(header) & 0x0F));
  uint64_t size = static_cast<uint8_t>(header) >> 4;
  if (size == 15) {
    TM_TRY_ASSIGN(size, Varint());
  }
  // Every element takes at least one byte: a count beyond the bytes left is damage, found
  // before anyone reserves memory for it.
  if (size > remaining())
    return Fail("a list of " + std::to_string(size) + " elements past its end");
  list.size = static_cast<uint32_t>(size);
  return list;
}

util::Status ThriftReader::Skip(ThriftType type) { return SkipDepth(type, 0); }

util::Status ThriftReader::SkipDepth(ThriftType type, int depth) {
  if (depth >= kMaxDepth) return Fail("values nested deeper than 64");
  switch (type) {
    case ThriftType::kTrue:
    case ThriftType::kFalse: return {};  // a field's bool lives in its header
    case ThriftType::kByte: return Byte().map([](int8_t) {});
    case ThriftType::kI16:
    case ThriftType::kI32:
    case ThriftType::kI64: return Varint().map([](uint64_t) {});
    case ThriftType::kDouble: return Double().map([](double) {});
    case ThriftType::kBinary: return Binary().map([](std::string_view) {});
    case ThriftType::kList:
    case ThriftType::kSet: {
      TM_TRY_ASSIGN(ThriftList list, ListBegin());
      for (uint32_t i = 0; i < list.size; ++i) {
        // Bool elements are a byte each, unlike bool fields.
        if (list.element == ThriftType::kTrue || list.element == ThriftType::kFalse) {
          TM_TRY(Byte().map([](int8_t) {}));
        } else {
          TM_TRY(SkipDepth(list.element, depth + 1));
        }
      }
      return {};
    }
    case ThriftType::kMap: {
      TM_TRY_ASSIGN(uint64_t size, Varint());
      if (size == 0) return {};
      if (size > remaining())
        return Fail("a map of " + std::to_string(size) + " entries past its end");
      TM_TRY_ASSIGN(int8_t types, Byte());
      TM_TRY_ASSIGN(ThriftType key, TypeOf(static_cast<uint8_t>(types) >> 4));
      TM_TRY_ASSIGN(ThriftType value, TypeOf(static_cast<uint8_t>(types) & 0x0F));
      for (uint64_t i = 0; i < size; ++i) {
        for (ThriftType t : {key, value}) {
          if (t == ThriftType::kTrue || t == ThriftType::kFalse) {
            TM_TRY(Byte().map([](int8_t) {}));
          } else {
            TM_TRY(SkipDepth(t, depth + 1));
          }
        }
      }
      return {};
    }
    case ThriftType::kStruct: {
      TM_TRY(StructBegin());
      for (;;) {
        TM_TRY_ASSIGN(ThriftField field, Field());
        if (field.type == ThriftType::kStop) break;
        TM_TRY(SkipDepth(field.type, depth + 1));
      }
      return StructEnd();
    }
    case ThriftType::kStop: return Fail("a value of type stop");
  }
  return Fail("an unknown type");
}

util::Status ThriftReader::Expect(const ThriftField& field, ThriftType type) const {
  const bool is_bool = [](ThriftType t) {
    return t == ThriftType::kTrue || t == ThriftType::kFalse;
  }(field.type);
  if (field.type == type ||
      (is_bool && (type == ThriftType::kTrue || type == ThriftType::kFalse))) {
    return {};
  }
  return Fail("field " + std::to_string(field.id) + " has type " +
              std::to_string(static_cast<int>(field.type)) + ", not " +
              std::to_string(static_cast<int>(type)));
}

// ----- writing -----

void ThriftWriter::Varint(uint64_t n) {
  while (n >= 0x80) {
    out_.push_back(static_cast<char>(n | 0x80));
    n >>= 7;
  }
  out_.push_back(static_cast<char>(n));
}

void ThriftWriter::StructBegin() {
  if (depth_ < kMaxDepth) saved_[depth_] = last_field_;
  ++depth_;
  last_field_ = 0;
}

void ThriftWriter::StructEnd() {
  out_.push_back(0);
  --depth_;
  if (depth_ >= 0 && depth_ < kMaxDepth) last_field_ = saved_[depth_];
}

void ThriftWriter::FieldBegin(int16_t id, ThriftType type) {
  const int delta = id - last_field_;
  if (delta > 0 && delta <= 15) {
    out_.push_back(static_cast<char>(delta << 4 | static_cast<int>(type)));
  } else {
    out_.push_back(static_cast<char>(type));
    I32(id);
  }
  last_field_ = id;
}

void ThriftWriter::BoolField(int16_t id, bool value) {
  FieldBegin(id, value ? ThriftType::kTrue : ThriftType::kFalse);
}

void ThriftWriter::I32Field(int16_t id, int32_t value) {
  FieldBegin(id, ThriftType::kI32);
  I32(value);
}

void ThriftWriter::I64Field(int16_t id, int64_t value) {
  FieldBegin(id, ThriftType::kI64);
  I64(value);
}

void ThriftWriter::BinaryField(int16_t id, std::string_view value) {
  FieldBegin(id, ThriftType::kBinary);
  Binary(value);
}

void ThriftWriter::I32(int32_t value) { I64(value); }

void ThriftWriter::I64(int64_t value) {
  Varint((static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63));
}

void ThriftWriter::Binary(std::string_view value) {
  Varint(value.size());
  out_.append(value);
}

void ThriftWriter::ListBegin(ThriftType element, uint32_t size) {
  if (size < 15) {
    out_.push_back(static_cast<char>(size << 4 | static_cast<int>(element)));
  } else {
    out_.push_back(static_cast<char>(0xF0 | static_cast<int>(element)));
    Varint(size);
  }
}

}  // namespace tidemark::backend::lake
