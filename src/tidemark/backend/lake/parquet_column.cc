#include "tidemark/backend/lake/parquet_column.h"

#include <algorithm>
#include <cstring>

#include "tidemark/backend/lake/parquet_codecs.h"
#include "tidemark/backend/lake/parquet_rle.h"
#include "tidemark/backend/lake/thrift_compact.h"

namespace tidemark::backend::lake::parquet {

namespace {

enum PageType : int32_t { kDataPage = 0, kIndexPage = 1, kDictionaryPage = 2, kDataPageV2 = 3 };

// The fields of a PageHeader and of the header of its kind that the reader uses.
struct PageHeader {
  int32_t type = -1;
  int32_t uncompressed_size = -1;
  int32_t compressed_size = -1;
  int16_t kind = 0;  // the field of the kind's header that was there: 5, 7 or 8
  int32_t num_values = 0;
  Encoding encoding = Encoding::kPlain;
  Encoding def_encoding = Encoding::kRle;  // v1
  Encoding rep_encoding = Encoding::kRle;
  int32_t def_bytes = 0;  // v2: the levels' lengths, uncompressed before the values
  int32_t rep_bytes = 0;
  bool is_compressed = true;
};

// A page whose header has been read and whose bytes have been made plain.
struct Page {
  PageHeader header;
  size_t offset = 0;  // of the uncompressed page, in the arena
  size_t size = 0;
};

util::Result<int32_t> ReadI32(ThriftReader& r, const ThriftField& f) {
  TM_TRY(r.Expect(f, ThriftType::kI32));
  return r.I32();
}

util::Result<Encoding> ReadEncoding(ThriftReader& r, const ThriftField& f) {
  TM_TRY_ASSIGN(int32_t value, ReadI32(r, f));
  return static_cast<Encoding>(value);
}

// DataPageHeader (v1), DictionaryPageHeader and DataPageHeaderV2 into `h`.
util::Status ReadKindHeader(ThriftReader& r, int16_t kind, PageHeader* h) {
  h->kind = kind;
  return r.ReadStruct([&](const ThriftField& f) -> util::Result<bool> {
    if (f.id == 1) {
      TM_TRY_ASSIGN(h->num_values, ReadI32(r, f));
      return true;
    }
    if (kind == 7) {  // dictionary
      if (f.id != 2) return false;
      TM_TRY_ASSIGN(h->encoding, ReadEncoding(r, f));
      return true;
    }
    if (kind == 5) {  // v1
      switch (f.id) {
        case 2: {
          TM_TRY_ASSIGN(h->encoding, ReadEncoding(r, f));
          return true;
        }
        case 3: {
          TM_TRY_ASSIGN(h->def_encoding, ReadEncoding(r, f));
          return true;
        }
        case 4: {
          TM_TRY_ASSIGN(h->rep_encoding, ReadEncoding(r, f));
          return true;
        }
        default: return false;
      }
    }
    switch (f.id) {  // v2
      case 4: {
        TM_TRY_ASSIGN(h->encoding, ReadEncoding(r, f));
        return true;
      }
      case 5: {
        TM_TRY_ASSIGN(h->def_bytes, ReadI32(r, f));
        return true;
      }
      case 6: {
        TM_TRY_ASSIGN(h->rep_bytes, ReadI32(r, f));
        return true;
      }
      case 7:
        TM_TRY(r.Expect(f, ThriftType::kTrue));
        h->is_compressed = ThriftReader::BoolOf(f);
        return true;
      default: return false;
    }
  });
}

util::Result<PageHeader> ReadPageHeader(ThriftReader& r) {
  PageHeader h;
  TM_TRY(r.ReadStruct([&](const ThriftField& f) -> util::Result<bool> {
    switch (f.id) {
      case 1: {
        TM_TRY_ASSIGN(h.type, ReadI32(r, f));
        return true;
      }
      case 2: {
        TM_TRY_ASSIGN(h.uncompressed_size, ReadI32(r, f));
        return true;
      }
      case 3: {
        TM_TRY_ASSIGN(h.compressed_size, ReadI32(r, f));
        return true;
      }
      case 5:
      case 7:
      case 8:
        TM_TRY(r.Expect(f, ThriftType::kStruct));
        TM_TRY(ReadKindHeader(r, f.id, &h));
        return true;
      default: return false;
    }
  }));
  return h;
}

uint32_t LoadU32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);  // little-endian, as the host
  return v;
}

// PLAIN values of `type`, appended to `out`'s vector of that type; views into `data`.
util::Status DecodePlain(std::string_view data, size_t n, PhysicalType type, int32_t type_length,
                         Column* out) {
  auto short_of = [&](size_t need) {
    return util::Fail(util::ErrorCategory::kVerify,
                      std::to_string(n) + " PLAIN values need " + std::to_string(need) +
                          " bytes, the page has " + std::to_string(data.size()));
  };
  const char* p = data.data();
  switch (type) {
    case PhysicalType::kBoolean: {
      if (data.size() < (n + 7) / 8) return short_of((n + 7) / 8);
      const size_t old = out->ints.size();
      out->ints.resize(old + n);
      for (size_t i = 0; i < n; ++i)
        out->ints[old + i] = (static_cast<uint8_t>(p[i >> 3]) >> (i & 7)) & 1;
      return {};
    }
    case PhysicalType::kInt32: {
      if (data.size() / 4 < n) return short_of(n * 4);
      const size_t old = out->ints.size();
      out->ints.resize(old + n);
      for (size_t i = 0; i < n; ++i) out->ints[old + i] = static_cast<int32_t>(LoadU32(p + 4 * i));
      return {};
    }
    case PhysicalType::kInt64: {
      if (data.size() / 8 < n) return short_of(n * 8);
      const size_t old = out->ints.size();
      out->ints.resize(old + n);
      if (n > 0) std::memcpy(out->ints.data() + old, p, n * 8);
      return {};
    }
    case PhysicalType::kFloat: {
      if (data.size() / 4 < n) return short_of(n * 4);
      const size_t old = out->doubles.size();
      out->doubles.resize(old + n);
      for (size_t i = 0; i < n; ++i) {
        float f;
        std::memcpy(&f, p + 4 * i, 4);
        out->doubles[old + i] = f;
      }
      return {};
    }
    case PhysicalType::kDouble: {
      if (data.size() / 8 < n) return short_of(n * 8);
      const size_t old = out->doubles.size();
      out->doubles.resize(old + n);
      if (n > 0) std::memcpy(out->doubles.data() + old, p, n * 8);
      return {};
    }
    case PhysicalType::kInt96:
    case PhysicalType::kFixed: {
      const size_t width = type == PhysicalType::kInt96 ? 12 : static_cast<size_t>(type_length);
      if (data.size() / width < n) return short_of(n * width);
      const size_t old = out->bytes.size();
      out->bytes.resize(old + n);
      for (size_t i = 0; i < n; ++i) out->bytes[old + i] = data.substr(i * width, width);
      return {};
    }
    case PhysicalType::kByteArray: {
      if (data.size() / 4 < n) return short_of(n * 4);
      const size_t old = out->bytes.size();
      out->bytes.resize(old + n);
      size_t pos = 0;
      for (size_t i = 0; i < n; ++i) {
        if (data.size() - pos < 4) return short_of(pos + 4);
        const uint32_t length = LoadU32(p + pos);
        pos += 4;
        if (data.size() - pos < length) return short_of(pos + length);
        out->bytes[old + i] = data.substr(pos, length);
        pos += length;
      }
      return {};
    }
  }
  return {};
}

class ChunkDecoder {
 public:
  ChunkDecoder(const ColumnChunk& chunk, const LeafInfo& leaf, const std::string& where)
      : chunk_(chunk), leaf_(leaf), where_(where) {
    const SchemaNode& node = *leaf.node;
    column_.type = *node.type;
    column_.max_def = node.max_def;
    column_.max_rep = node.max_rep;
    dictionary_.type = column_.type;
  }

  util::Result<Column> Run(const std::shared_ptr<const std::string>& file, int64_t rows);

 private:
  tl::unexpected<util::Error> Damage(const std::string& why) const {
    return util::Fail(util::ErrorCategory::kVerify, where_ + " is damaged: " + why);
  }
  tl::unexpected<util::Error> Unsupported(const std::string& what) const {
    return util::Fail(util::ErrorCategory::kVerify,
                      where_ + ": " + what + " is not supported by tidemark's Parquet reader");
  }
  // Prefixes an error of page `index` with where it happened.
  util::Status InPage(util::Status status, size_t index, const char* part) const {
    if (status) return status;
    return Damage("page " + std::to_string(index) + ", " + part + ": " + status.error().message());
  }

  util::Status ReadPages(std::string_view file, std::string* arena);
  util::Status PlacePage(const PageHeader& h, std::string_view bytes, size_t file_offset,
                         std::string* arena);
  util::Status DecodeDictionary(const Page& page, std::string_view bytes, size_t index);
  util::Status DecodeDataPage(const Page& page, std::string_view bytes, size_t index);
  util::Status ReadPrefixedLevels(const PageHeader& h, size_t n, size_t index,
                                  std::string_view* data);
  util::Status ReadLevelsV2(const PageHeader& h, size_t n, size_t index, std::string_view* data);
  util::Status ReadLevels(std::string_view data, size_t n, int16_t max_level,
                          std::vector<int16_t>* levels, size_t index, const char* part);
  util::Status CheckLevels(size_t first, size_t n, size_t index) const;
  util::Status DecodeValues(const PageHeader& h, std::string_view data, size_t n, size_t index);
  util::Status DecodeIndices(std::string_view data, size_t n, size_t index);
  util::Status CheckRows(int64_t rows) const;

  const ColumnChunk& chunk_;
  const LeafInfo& leaf_;
  const std::string& where_;
  Column column_;
  std::vector<Page> pages_;
  bool has_dictionary_ = false;
  Column dictionary_;  // the dictionary's values, in the vector of the column's type
  size_t dictionary_size_ = 0;
};

util::Result<Column> ChunkDecoder::Run(const std::shared_ptr<const std::string>& file,
                                       int64_t rows) {
  if (!CodecSupported(chunk_.codec)) {
    return Unsupported(std::string("the compression codec ") + CodecName(chunk_.codec));
  }
  std::shared_ptr<std::string> arena;
  if (chunk_.codec != Codec::kUncompressed) {
    arena = std::make_shared<std::string>();
    arena->reserve(static_cast<size_t>(std::clamp<int64_t>(
        chunk_.total_uncompressed_size, 0,
        std::min<int64_t>(kMaxChunkBytes, 32 * chunk_.total_compressed_size + 4096))));
  }
  TM_TRY(ReadPages(*file, arena.get()));
  const std::string& plain = arena ? *arena : *file;
  // Only a hint: the count is the file's word, and vectors grow past it anyway.
  const size_t reserve = static_cast<size_t>(std::min<int64_t>(chunk_.num_values, 1 << 20));
  if (column_.max_def > 0) column_.def_levels.reserve(reserve);
  if (column_.max_rep > 0) column_.rep_levels.reserve(reserve);
  for (size_t i = 0; i < pages_.size(); ++i) {
    const Page& page = pages_[i];
    const std::string_view bytes(plain.data() + page.offset, page.size);
    if (page.header.type == kDictionaryPage) {
      TM_TRY(DecodeDictionary(page, bytes, i));
    } else {
      TM_TRY(DecodeDataPage(page, bytes, i));
    }
  }
  TM_TRY(CheckRows(rows));
  if (arena) {
    column_.arena = std::move(arena);
  } else {
    column_.arena = file;
  }
  return std::move(column_);
}

// Reads the page headers of the chunk and places each page's uncompressed bytes: in the
// file itself when the chunk is uncompressed (arena is nullptr), else in the arena.
util::Status ChunkDecoder::ReadPages(std::string_view file, std::string* arena) {
  size_t pos = static_cast<size_t>(chunk_.start());
  const size_t end = pos + static_cast<size_t>(chunk_.total_compressed_size);
  int64_t values = 0;
  while (values < chunk_.num_values) {
    const std::string page_name = "page " + std::to_string(pages_.size());
    if (pos >= end) {
      return Damage("its pages end after " + std::to_string(values) + " of the " +
                    std::to_string(chunk_.num_values) + " values its metadata gives");
    }
    ThriftReader r(file.substr(pos, end - pos), where_ + ", " + page_name);
    TM_TRY_ASSIGN(PageHeader h, ReadPageHeader(r));
    pos += r.position();
    if (h.compressed_size < 0 || static_cast<size_t>(h.compressed_size) > end - pos) {
      return Damage(page_name + " has " + std::to_string(h.compressed_size) +
                    " bytes where the chunk has " + std::to_string(end - pos) + " left");
    }
    if (h.uncompressed_size < 0 || h.uncompressed_size > kMaxPageBytes) {
      return Damage(page_name + " claims " + std::to_string(h.uncompressed_size) +
                    " uncompressed bytes (at most " + std::to_string(kMaxPageBytes) + ")");
    }
    const std::string_view bytes = file.substr(pos, static_cast<size_t>(h.compressed_size));
    const size_t offset = pos;
    pos += bytes.size();
    if (h.type != kDataPage && h.type != kDataPageV2 && h.type != kDictionaryPage) continue;
    const int16_t kind = h.type == kDataPage ? 5 : h.type == kDictionaryPage ? 7 : 8;
    if (h.kind != kind) return Damage(page_name + " lacks the header of its kind");
    if (h.type == kDictionaryPage) {
      if (!pages_.empty()) return Damage(page_name + " is a dictionary page after other pages");
    } else {
      if (h.num_values < 0 || h.num_values > chunk_.num_values - values) {
        return Damage(page_name + " has " + std::to_string(h.num_values) + " values, past the " +
                      std::to_string(chunk_.num_values) + " of the chunk");
      }
      values += h.num_values;
    }
    TM_TRY(PlacePage(h, bytes, offset, arena));
  }
  return {};
}

util::Status ChunkDecoder::PlacePage(const PageHeader& h, std::string_view bytes,
                                     size_t file_offset, std::string* arena) {
  const std::string page_name = "page " + std::to_string(pages_.size());
  const size_t size = static_cast<size_t>(h.uncompressed_size);
  size_t levels = 0;
  if (h.type == kDataPageV2) {
    if (h.def_bytes < 0 || h.rep_bytes < 0 ||
        static_cast<int64_t>(h.def_bytes) + h.rep_bytes >
            std::min(h.compressed_size, h.uncompressed_size)) {
      return Damage(page_name + " has levels of " + std::to_string(h.rep_bytes) + " + " +
                    std::to_string(h.def_bytes) + " bytes, more than the page");
    }
    levels = static_cast<size_t>(h.def_bytes) + static_cast<size_t>(h.rep_bytes);
  }
  const bool compressed =
      chunk_.codec != Codec::kUncompressed && (h.type != kDataPageV2 || h.is_compressed);
  if (!compressed && bytes.size() != size) {
    return Damage(page_name + " is " + std::to_string(bytes.size()) +
                  " bytes uncompressed, its header says " + std::to_string(size));
  }
  if (arena == nullptr) {
    pages_.push_back(Page{h, file_offset, size});
    return {};
  }
  if (arena->size() + size > static_cast<size_t>(kMaxChunkBytes)) {
    return Damage("its pages hold more than " + std::to_string(kMaxChunkBytes) +
                  " bytes uncompressed");
  }
  const size_t offset = arena->size();
  arena->append(bytes.substr(0, levels));
  if (compressed && !(size == levels && bytes.size() == levels)) {
    util::Status status = Decompress(chunk_.codec, bytes.substr(levels), size - levels, arena);
    if (!status) return Damage(page_name + ": " + status.error().message());
  } else {
    arena->append(bytes.substr(levels));
  }
  pages_.push_back(Page{h, offset, size});
  return {};
}

util::Status ChunkDecoder::DecodeDictionary(const Page& page, std::string_view bytes,
                                            size_t index) {
  const PageHeader& h = page.header;
  if (h.encoding != Encoding::kPlain && h.encoding != Encoding::kPlainDictionary) {
    return Unsupported(std::string("a dictionary page encoded ") + EncodingName(h.encoding));
  }
  if (h.num_values < 0) return Damage("page " + std::to_string(index) + " has a negative count");
  TM_TRY(InPage(DecodePlain(bytes, static_cast<size_t>(h.num_values), column_.type,
                            leaf_.node->type_length, &dictionary_),
                index, "the dictionary"));
  has_dictionary_ = true;
  dictionary_size_ = static_cast<size_t>(h.num_values);
  return {};
}

util::Status ChunkDecoder::DecodeDataPage(const Page& page, std::string_view bytes, size_t index) {
  const PageHeader& h = page.header;
  const size_t n = static_cast<size_t>(h.num_values);
  const size_t first = column_.entries;
  std::string_view values = bytes;
  if (h.type == kDataPage) {
    TM_TRY(ReadPrefixedLevels(h, n, index, &values));
  } else {
    TM_TRY(ReadLevelsV2(h, n, index, &values));
  }
  TM_TRY(CheckLevels(first, n, index));
  size_t present = n;
  if (column_.max_def > 0) {
    present = static_cast<size_t>(
        std::count(column_.def_levels.begin() + first, column_.def_levels.end(), column_.max_def));
  }
  column_.entries += n;
  if (present == 0) return {};
  return DecodeValues(h, values, present, index);
}

// v1: repetition, then definition levels, each after its length in 4 bytes; `data` is
// left at the values.
util::Status ChunkDecoder::ReadPrefixedLevels(const PageHeader& h, size_t n, size_t index,
                                              std::string_view* data) {
  const std::string page_name = "page " + std::to_string(index);
  for (bool repetition : {true, false}) {
    const int16_t max = repetition ? column_.max_rep : column_.max_def;
    const Encoding encoding = repetition ? h.rep_encoding : h.def_encoding;
    if (max == 0) continue;
    if (encoding != Encoding::kRle) {
      return Unsupported(std::string("levels encoded ") + EncodingName(encoding));
    }
    if (data->size() < 4) return Damage(page_name + " ends before its levels");
    const uint32_t length = LoadU32(data->data());
    if (length > data->size() - 4) {
      return Damage(page_name + " has levels of " + std::to_string(length) +
                    " bytes, past its end");
    }
    TM_TRY(ReadLevels(data->substr(4, length), n, max,
                      repetition ? &column_.rep_levels : &column_.def_levels, index,
                      repetition ? "the repetition levels" : "the definition levels"));
    data->remove_prefix(4 + length);
  }
  return {};
}

// v2: repetition, then definition levels, of the lengths the header gives.
util::Status ChunkDecoder::ReadLevelsV2(const PageHeader& h, size_t n, size_t index,
                                        std::string_view* data) {
  const size_t rep = static_cast<size_t>(h.rep_bytes), def = static_cast<size_t>(h.def_bytes);
  if (column_.max_rep > 0) {
    TM_TRY(ReadLevels(data->substr(0, rep), n, column_.max_rep, &column_.rep_levels, index,
                      "the repetition levels"));
  }
  if (column_.max_def > 0) {
    TM_TRY(ReadLevels(data->substr(rep, def), n, column_.max_def, &column_.def_levels, index,
                      "the definition levels"));
  }
  data->remove_prefix(rep + def);
  return {};
}

util::Status ChunkDecoder::ReadLevels(std::string_view data, size_t n, int16_t max_level,
                                      std::vector<int16_t>* levels, size_t index,
                                      const char* part) {
  const size_t old = levels->size();
  levels->resize(old + n);
  HybridDecoder decoder(data, BitWidth(static_cast<uint32_t>(max_level)));
  return InPage(decoder.Decode(levels->data() + old, n, static_cast<uint32_t>(max_level)), index,
                part);
}

// Levels that no writer could have written: a row not starting the chunk, or a repeated
// field repeated below the level at which it is defined.
util::Status ChunkDecoder::CheckLevels(size_t first, size_t n, size_t index) const {
  if (column_.max_rep == 0 || n == 0) return {};
  if (first == 0 && column_.rep_levels[0] != 0) {
    return Damage("page " + std::to_string(index) + " does not start with a row");
  }
  for (size_t i = first; i < first + n; ++i) {
    const int16_t rep = column_.rep_levels[i];
    if (rep > 0 && column_.Def(i) < leaf_.repeated_def[rep - 1]) {
      return Damage("page " + std::to_string(index) + ", entry " + std::to_string(i - first) +
                    ": a repetition level of " + std::to_string(rep) +
                    " at a definition level of " + std::to_string(column_.Def(i)));
    }
  }
  return {};
}

util::Status ChunkDecoder::DecodeValues(const PageHeader& h, std::string_view data, size_t n,
                                        size_t index) {
  switch (h.encoding) {
    case Encoding::kPlain:
      return InPage(DecodePlain(data, n, column_.type, leaf_.node->type_length, &column_), index,
                    "the values");
    case Encoding::kPlainDictionary:
    case Encoding::kRleDictionary: return DecodeIndices(data, n, index);
    case Encoding::kRle: {
      if (column_.type != PhysicalType::kBoolean)
        return Unsupported("RLE values other than booleans");
      if (data.size() < 4 || LoadU32(data.data()) > data.size() - 4) {
        return Damage("page " + std::to_string(index) +
                      ": the RLE booleans' length is past its end");
      }
      const size_t old = column_.ints.size();
      column_.ints.resize(old + n);
      HybridDecoder decoder(data.substr(4, LoadU32(data.data())), 1);
      return InPage(decoder.Decode(column_.ints.data() + old, n, 1), index, "the values");
    }
    default:
      return Unsupported(std::string("the encoding ") + EncodingName(h.encoding) + " (" +
                         std::to_string(static_cast<int>(h.encoding)) + ")");
  }
}

util::Status ChunkDecoder::DecodeIndices(std::string_view data, size_t n, size_t index) {
  const std::string page_name = "page " + std::to_string(index);
  if (!has_dictionary_)
    return Damage(page_name + " is dictionary-encoded, but the chunk has no dictionary");
  if (data.empty()) return Damage(page_name + " ends before its dictionary indices");
  const int width = static_cast<uint8_t>(data[0]);
  if (width > 32)
    return Damage(page_name + " has dictionary indices of " + std::to_string(width) + " bits");
  HybridDecoder decoder(data.substr(1), width);
  uint32_t batch[1024];
  const size_t old_ints = column_.ints.size(), old_doubles = column_.doubles.size(),
               old_bytes = column_.bytes.size();
  switch (column_.type) {
    case PhysicalType::kBoolean:
    case PhysicalType::kInt32:
    case PhysicalType::kInt64: column_.ints.resize(old_ints + n); break;
    case PhysicalType::kFloat:
    case PhysicalType::kDouble: column_.doubles.resize(old_doubles + n); break;
    default: column_.bytes.resize(old_bytes + n); break;
  }
  for (size_t done = 0; done < n;) {
    const size_t count = std::min(n - done, std::size(batch));
    TM_TRY(InPage(decoder.Decode(batch, count, UINT32_MAX), index, "the dictionary indices"));
    for (size_t i = 0; i < count; ++i) {
      if (batch[i] >= dictionary_size_) {
        return Damage(page_name + ": dictionary index " + std::to_string(batch[i]) +
                      " is out of range; the dictionary has " + std::to_string(dictionary_size_) +
                      " values");
      }
    }
    switch (column_.type) {
      case PhysicalType::kBoolean:
      case PhysicalType::kInt32:
      case PhysicalType::kInt64:
        for (size_t i = 0; i < count; ++i)
          column_.ints[old_ints + done + i] = dictionary_.ints[batch[i]];
        break;
      case PhysicalType::kFloat:
      case PhysicalType::kDouble:
        for (size_t i = 0; i < count; ++i) {
          column_.doubles[old_doubles + done + i] = dictionary_.doubles[batch[i]];
        }
        break;
      default:
        for (size_t i = 0; i < count; ++i)
          column_.bytes[old_bytes + done + i] = dictionary_.bytes[batch[i]];
        break;
    }
    done += count;
  }
  return {};
}

util::Status ChunkDecoder::CheckRows(int64_t rows) const {
  if (column_.entries != static_cast<size_t>(chunk_.num_values)) {
    return Damage("it has " + std::to_string(column_.entries) + " values, its metadata says " +
                  std::to_string(chunk_.num_values));
  }
  const size_t found = column_.max_rep == 0
                           ? column_.entries
                           : static_cast<size_t>(std::count(column_.rep_levels.begin(),
                                                            column_.rep_levels.end(), 0));
  if (found != static_cast<size_t>(rows)) {
    return Damage("it has " + std::to_string(found) + " rows, its row group " +
                  std::to_string(rows));
  }
  return {};
}

}  // namespace

util::Result<Column> DecodeColumnChunk(const std::shared_ptr<const std::string>& file,
                                       const ColumnChunk& chunk, const LeafInfo& leaf, int64_t rows,
                                       const std::string& where) {
  ChunkDecoder decoder(chunk, leaf, where);
  return decoder.Run(file, rows);
}

}  // namespace tidemark::backend::lake::parquet
