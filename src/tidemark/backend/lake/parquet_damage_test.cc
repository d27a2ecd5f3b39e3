// The Parquet reader on damaged files: each one is a kVerify error naming the file (and
// the row group and column, where one is at fault) or, when the damage happens to leave
// a valid file, a read; never a crash. The fuzz target (fuzz/parquet_fuzz.cc) goes on
// from here.

#include <cstring>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tidemark/backend/lake/parquet.h"
#include "tidemark/backend/lake/parquet_writer.h"
#include "tidemark/backend/lake/thrift_compact.h"

namespace tidemark::backend::lake::parquet {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

const std::string kCheckpoint = TIDEMARK_TESTDATA_DIR
    "/delta-golden/checkpoint/_delta_log/"
    "00000000000000000010.checkpoint.parquet";

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Opens `bytes` and reads every leaf of every row group; the first error, if any.
std::optional<util::Error> ReadEverything(std::string bytes) {
  auto file = File::Open(std::make_shared<const std::string>(std::move(bytes)), "damaged.parquet");
  if (!file) return file.error();
  for (size_t g = 0; g < file->row_groups(); ++g) {
    for (const auto& path : file->leaf_paths()) {
      auto column = file->ReadColumn(g, path);
      if (!column) return column.error();
      // What came back is consistent, whatever the bytes were.
      const size_t present =
          column->max_def == 0
              ? column->entries
              : static_cast<size_t>(std::count(column->def_levels.begin(), column->def_levels.end(),
                                               column->max_def));
      EXPECT_EQ(column->ints.size() + column->doubles.size() + column->bytes.size(), present);
      EXPECT_EQ(column->RowStarts().size(), static_cast<size_t>(file->RowGroupRows(g)) + 1);
    }
  }
  return std::nullopt;
}

void ExpectVerifyError(const std::string& bytes, const std::string& message_part) {
  const std::optional<util::Error> error = ReadEverything(bytes);
  ASSERT_TRUE(error.has_value()) << "no error; expected one with: " << message_part;
  EXPECT_EQ(error->category(), util::ErrorCategory::kVerify);
  EXPECT_THAT(error->message(), AllOf(HasSubstr("damaged.parquet"), HasSubstr(message_part)));
}

// One required INT64 column "values" and one optional UTF8 column "labels", 64 rows.
std::string SmallFile(const WriterOptions& options) {
  static const std::vector<std::string> labels = {"a", "bb", "ccc"};
  SchemaNode schema =
      GroupNode("schema", Repetition::kRequired,
                {LeafNode("values", PhysicalType::kInt64, Repetition::kRequired),
                 LeafNode("labels", PhysicalType::kByteArray, Repetition::kOptional, "UTF8")});
  Column values, strings;
  values.type = PhysicalType::kInt64;
  strings.type = PhysicalType::kByteArray;
  strings.max_def = 1;
  for (int i = 0; i < 64; ++i) {
    values.ints.push_back(i % 2 == 0 ? 111 : 222);
    strings.def_levels.push_back(i % 5 == 0 ? 0 : 1);
    if (i % 5 != 0) strings.bytes.push_back(labels[i % 3]);
  }
  values.entries = strings.entries = 64;
  auto bytes = WriteParquet(schema, {values, strings}, options);
  EXPECT_TRUE(bytes) << bytes.error().message();
  return *bytes;
}

// Options whose edit_page changes the data pages of the column "values" (its first).
WriterOptions EditingDataPages(std::function<void(PageHeaderFields&, std::string&)> edit) {
  WriterOptions options;
  options.dictionary = true;
  auto in_values = std::make_shared<bool>(false);
  options.edit_page = [edit, in_values](PageHeaderFields& h, std::string& page) {
    if (h.type == 2) *in_values = h.num_values == 2;  // a dictionary: of 111 and 222?
    if (h.type != 2 && *in_values) edit(h, page);
  };
  return options;
}

TEST(ParquetDamage, TruncatedFiles) {
  const std::string file = Slurp(kCheckpoint);
  ASSERT_GT(file.size(), 1000u);
  for (size_t size = 0; size < file.size(); size += size < 64 ? 1 : 97) {
    ExpectVerifyError(file.substr(0, size), "damaged.parquet");
  }
  // Cut in the middle but still ending with the footer: the offsets point past the pages.
  uint32_t footer = 0;
  std::memcpy(&footer, file.data() + file.size() - 8, 4);
  const std::string cut = file.substr(0, 200) + file.substr(file.size() - 8 - footer);
  ExpectVerifyError(cut, "row group 0");
}

TEST(ParquetDamage, BadMagic) {
  std::string file = Slurp(kCheckpoint);
  file[0] = 'Q';
  ExpectVerifyError(file, "not a Parquet file");
  file = Slurp(kCheckpoint);
  file[file.size() - 1] = '2';
  ExpectVerifyError(file, "not a Parquet file");
  ExpectVerifyError("PAR1", "too few");
  file = Slurp(kCheckpoint);
  file.replace(file.size() - 4, 4, "PARE");
  ExpectVerifyError(file, "encrypted");
}

TEST(ParquetDamage, FooterLengthBeyondTheFile) {
  std::string file = Slurp(kCheckpoint);
  const uint32_t length = static_cast<uint32_t>(file.size());
  std::memcpy(file.data() + file.size() - 8, &length, 4);
  ExpectVerifyError(file, "longer than the file");
}

// Bytes all over a real checkpoint flipped in turn: an error or a read, never a crash.
TEST(ParquetDamage, FlippedBytesOfACheckpoint) {
  const std::string original = Slurp(kCheckpoint);
  int errors = 0, reads = 0;
  for (size_t offset = 0; offset < original.size(); ++offset) {
    for (uint8_t mask : {uint8_t{0xFF}, uint8_t{0x01}}) {
      if (offset % (mask == 0xFF ? 3 : 7) != 0) continue;
      std::string file = original;
      file[offset] = static_cast<char>(file[offset] ^ mask);
      const std::optional<util::Error> error = ReadEverything(std::move(file));
      if (error) {
        EXPECT_EQ(error->category(), util::ErrorCategory::kVerify) << error->message();
        ++errors;
      } else {
        ++reads;
      }
    }
  }
  EXPECT_GT(errors, 1000);
  EXPECT_GT(reads, 10);  // bytes of values, statistics or padding
}

// The same on small files of every codec and page version.
TEST(ParquetDamage, FlippedBytesOfEveryCodec) {
  for (Codec codec : {Codec::kUncompressed, Codec::kSnappy, Codec::kGzip, Codec::kZstd}) {
    for (int version : {1, 2}) {
      WriterOptions options;
      options.codec = codec;
      options.page_version = version;
      options.dictionary = version == 1;
      options.page_bytes = 100;
      const std::string original = SmallFile(options);
      ASSERT_FALSE(ReadEverything(original).has_value());
      for (size_t offset = 0; offset < original.size(); ++offset) {
        std::string file = original;
        file[offset] = static_cast<char>(file[offset] ^ (1 << (offset % 8)));
        const std::optional<util::Error> error = ReadEverything(std::move(file));
        if (error) {
          EXPECT_EQ(error->category(), util::ErrorCategory::kVerify) << error->message();
        }
      }
    }
  }
}

TEST(ParquetDamage, PageClaimingAHugeSize) {
  for (Codec codec : {Codec::kUncompressed, Codec::kSnappy, Codec::kGzip, Codec::kZstd}) {
    WriterOptions options;
    options.codec = codec;
    options.edit_page = [](PageHeaderFields& h, std::string&) { h.uncompressed_size = INT32_MAX; };
    ExpectVerifyError(SmallFile(options), "claims 2147483647 uncompressed bytes");
    // Under the limit but far more than the bytes hold: refused without allocating it.
    options.edit_page = [](PageHeaderFields& h, std::string&) { h.uncompressed_size = 1 << 30; };
    ExpectVerifyError(SmallFile(options), "row group 0, column values");
  }
}

TEST(ParquetDamage, DictionaryIndexOutOfRange) {
  // Bit width 3, then one RLE run of 64 copies of index 5 (a header of 64 << 1 as a
  // varint); the dictionary has 2 values.
  const std::string indices = std::string("\x03\x80\x01\x05");
  const WriterOptions options =
      EditingDataPages([&](PageHeaderFields&, std::string& page) { page = indices; });
  ExpectVerifyError(SmallFile(options), "dictionary index 5 is out of range");
  ExpectVerifyError(SmallFile(options), "row group 0, column values");
}

TEST(ParquetDamage, BitWidthOf40) {
  const WriterOptions options =
      EditingDataPages([](PageHeaderFields&, std::string& page) { page[0] = 40; });
  ExpectVerifyError(SmallFile(options), "dictionary indices of 40 bits");
}

TEST(ParquetDamage, LevelAboveItsMaximum) {
  WriterOptions options;
  options.page_version = 2;
  options.edit_page = [](PageHeaderFields& h, std::string& page) {
    // The labels' definition levels (max 1): one RLE run of 64 threes.
    if (h.def_bytes > 0) {
      page.replace(0, h.def_bytes, std::string("\x80\x01\x03"));
      h.def_bytes = 3;
    }
  };
  ExpectVerifyError(SmallFile(options), "a value of 3 where at most 1 is possible");
  ExpectVerifyError(SmallFile(options), "column labels");
}

TEST(ParquetDamage, LevelsPastTheirPage) {
  WriterOptions options;
  options.edit_page = [](PageHeaderFields& h, std::string& page) {
    if (h.type == 0 && page.size() > 4 && h.encoding == Encoding::kPlain && page[0] != 0) {
      const uint32_t length = 1 << 20;
      std::memcpy(page.data(), &length, 4);
    }
  };
  ExpectVerifyError(SmallFile(options), "past its end");
}

TEST(ParquetDamage, UnsupportedEncodingIsNamed) {
  for (Encoding encoding :
       {Encoding::kDeltaBinaryPacked, Encoding::kDeltaByteArray, Encoding::kByteStreamSplit}) {
    const WriterOptions options =
        EditingDataPages([&](PageHeaderFields& h, std::string&) { h.encoding = encoding; });
    ExpectVerifyError(SmallFile(options), std::string(EncodingName(encoding)) + " (" +
                                              std::to_string(static_cast<int>(encoding)) +
                                              ") is not supported");
    ExpectVerifyError(SmallFile(options), "column values");
  }
}

TEST(ParquetDamage, UnsupportedCodecIsNamed) {
  std::string file = SmallFile({});
  // The codec field (id 4, i32 0) of the second column's metadata, after its path.
  const size_t path = file.rfind("labels");
  const size_t codec = file.find(std::string("\x15\x00", 2), path);
  ASSERT_NE(codec, std::string::npos);
  file[codec + 1] = 2 * static_cast<char>(Codec::kLz4);  // zigzag
  ExpectVerifyError(file, "the compression codec LZ4 is not supported");
  ExpectVerifyError(file, "row group 0, column labels");
}

TEST(ParquetDamage, PagesEndingBeforeTheirValues) {
  WriterOptions options;
  options.edit_page = [](PageHeaderFields& h, std::string&) {
    if (h.type == 0) h.num_values -= 1;
  };
  ExpectVerifyError(SmallFile(options), "its pages end after");
}

// A file of nothing but a footer whose schema is `elements` (name, num_children or -1
// for a leaf of INT32).
std::string FooterOnly(const std::vector<std::pair<std::string, int>>& elements) {
  ThriftWriter w;
  w.StructBegin();
  w.FieldBegin(2, ThriftType::kList);
  w.ListBegin(ThriftType::kStruct, static_cast<uint32_t>(elements.size()));
  for (const auto& [name, children] : elements) {
    w.StructBegin();
    if (children < 0) w.I32Field(1, 1);
    w.I32Field(3, 1);
    w.BinaryField(4, name);
    if (children >= 0) w.I32Field(5, children);
    w.StructEnd();
  }
  w.I64Field(3, 0);
  w.FieldBegin(4, ThriftType::kList);
  w.ListBegin(ThriftType::kStruct, 0);
  w.StructEnd();
  std::string file = "PAR1" + w.bytes();
  const uint32_t length = static_cast<uint32_t>(w.bytes().size());
  file.append(reinterpret_cast<const char*>(&length), 4);
  return file + "PAR1";
}

// Found by the fuzz target: a group's subtree used up the elements its parent's later
// children needed.
TEST(ParquetDamage, SchemaEndingInsideAGroup) {
  EXPECT_FALSE(ReadEverything(FooterOnly({{"root", 2}, {"g", 1}, {"x", -1}, {"y", -1}})));
  ExpectVerifyError(FooterOnly({{"root", 2}, {"g", 1}, {"x", -1}}),
                    "the schema ends inside the children of root");
  ExpectVerifyError(FooterOnly({{"root", 5}, {"x", -1}}),
                    "lists 5 children of root past its end");
  ExpectVerifyError(FooterOnly({{"root", 1}, {"x", -1}, {"y", -1}}), "1 elements outside its tree");
  std::vector<std::pair<std::string, int>> deep = {{"root", 1}};
  for (int i = 0; i < 70; ++i) deep.emplace_back("g", 1);
  deep.emplace_back("x", -1);
  ExpectVerifyError(FooterOnly(deep), "nests deeper than 64");
}

}  // namespace
}  // namespace tidemark::backend::lake::parquet
