// Thrift's compact protocol: what Parquet footers and page headers are written in
// (https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md).
// ThriftReader is a pull reader over a byte range: the caller walks a struct field by field, reads
// the fields it knows and skips the others. Every read checks the bytes left, lengths and counts
// are checked against them before anything is allocated, and nesting is limited, so a damaged or
// hostile file is an error, never a crash (the Parquet fuzz target drives this).
//
// ThriftWriter writes the same encoding (for the Parquet test writer).
//
// Thread-safety: a reader or writer is used by one thread.

#ifndef TIDEMARK_BACKEND_LAKE_THRIFT_COMPACT_H_
#define TIDEMARK_BACKEND_LAKE_THRIFT_COMPACT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "tidemark/util/error.h"

namespace tidemark::backend::lake {

// Compact protocol type codes, as they appear in field and element headers.
enum class ThriftType : uint8_t {
  kStop = 0,
  kTrue = 1,  // a bool field's value lives in its header
  kFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

struct ThriftField {
  int16_t id = 0;
  ThriftType type = ThriftType::kStop;  // kStop: the struct has ended
};

struct ThriftList {
  ThriftType element = ThriftType::kStop;
  uint32_t size = 0;
};

class ThriftReader {
 public:
  // `what` names the bytes in messages ("the footer of part-0.parquet").
  ThriftReader(std::string_view bytes, std::string what) : bytes_(bytes), what_(std::move(what)) {}

  // Struct walking: StructBegin, then Field until its type is kStop (each field's value
  // read or skipped in between), then StructEnd.
  util::Status StructBegin();
  util::Result<ThriftField> Field();
  util::Status StructEnd();

  // A bool field's value, from its header (kTrue or kFalse).
  static bool BoolOf(const ThriftField& field) { return field.type == ThriftType::kTrue; }
  // A bool as a list element (one byte).
  util::Result<bool> Bool();
  util::Result<int8_t> Byte();
  util::Result<int16_t> I16();
  util::Result<int32_t> I32();
  util::Result<int64_t> I64();
  util::Result<double> Double();
  // Binary and string values: a view into the bytes, valid while they are.
  util::Result<std::string_view> Binary();
  util::Result<ThriftList> ListBegin();  // lists and sets
  // Skips a value of `type` (nested ones included).
  util::Status Skip(ThriftType type);

  // Walks a whole struct: `on_field(field)` reads the field's value and returns true, or
  // returns false to have it skipped; it returns a util::Result<bool>.
  template <typename OnField>
  util::Status ReadStruct(OnField&& on_field) {
    TM_TRY(StructBegin());
    for (;;) {
      TM_TRY_ASSIGN(ThriftField field, Field());
      if (field.type == ThriftType::kStop) break;
      TM_TRY_ASSIGN(bool used, on_field(field));
      if (!used) TM_TRY(Skip(field.type));
    }
    return StructEnd();
  }
  // An error unless `field` has type `type` (bool fields: kTrue or kFalse, either).
  util::Status Expect(const ThriftField& field, ThriftType type) const;

  size_t position() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }

 private:
  tl::unexpected<util::Error> Fail(const std::string& what) const;
  util::Result<uint64_t> Varint();
  util::Result<ThriftType> TypeOf(uint8_t code) const;
  util::Status SkipDepth(ThriftType type, int depth);

  std::string_view bytes_;
  std::string what_;
  size_t pos_ = 0;
  int depth_ = 0;           // structs open
  int16_t last_field_ = 0;  // of the innermost open struct
  int16_t saved_[64] = {};  // last field ids of the outer structs
};

class ThriftWriter {
 public:
  // Structs: StructBegin, fields (a header, then the value), StructEnd (writes the stop).
  void StructBegin();
  void StructEnd();
  void FieldBegin(int16_t id, ThriftType type);
  void BoolField(int16_t id, bool value);  // the value lives in the header
  void I32Field(int16_t id, int32_t value);
  void I64Field(int16_t id, int64_t value);
  void BinaryField(int16_t id, std::string_view value);

  void I32(int32_t value);
  void I64(int64_t value);
  void Binary(std::string_view value);
  void ListBegin(ThriftType element, uint32_t size);

  const std::string& bytes() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Varint(uint64_t n);
  std::string out_;
  int depth_ = 0;
  int16_t last_field_ = 0;
  int16_t saved_[64] = {};
};

}  // namespace tidemark::backend::lake

#endif  // TIDEMARK_BACKEND_LAKE_THRIFT_COMPACT_H_
