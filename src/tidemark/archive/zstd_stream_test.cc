// Streaming zstd: what goes in comes out, in any piece sizes and across frames, and
// damaged input is refused with the place where the damage was found.

#include "tidemark/archive/zstd_stream.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace tidemark::archive {
namespace {

using ::testing::HasSubstr;

// Rows shaped like PostgreSQL COPY text, different enough not to compress to nothing.
std::string Rows(int count) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    text += std::to_string(i) + "\t2024-01-05 10:" + std::to_string(i % 60) + ":00+00\tuser " +
            std::to_string((int64_t{i} * 7919) % 10007) + " clicked\t\\N\n";
  }
  return text;
}

// Compresses `input` in pieces of `piece` bytes; the blocks the sink received, joined.
std::string Compress(const std::string& input, size_t piece, int workers = 0,
                     size_t* blocks = nullptr) {
  std::string output;
  size_t count = 0;
  auto compressor = ZstdCompressor::Create({1, workers}, [&](std::string_view block) {
    EXPECT_LE(block.size(), kZstdBlockSize);
    output.append(block);
    ++count;
    return util::Status();
  });
  EXPECT_TRUE(compressor);
  for (size_t at = 0; at < input.size(); at += piece) {
    EXPECT_TRUE((*compressor)->Write(std::string_view(input).substr(at, piece)));
  }
  EXPECT_TRUE((*compressor)->Finish());
  if (blocks != nullptr) *blocks = count;
  return output;
}

// A source handing out `data` in pieces of at most `piece` bytes.
CompressedSource SourceOf(const std::string& data, size_t piece = kZstdBlockSize) {
  auto at = std::make_shared<size_t>(0);
  return [&data, piece, at](char* buffer, size_t size) -> util::Result<size_t> {
    size_t n = std::min({size, piece, data.size() - *at});
    std::copy_n(data.data() + *at, n, buffer);
    *at += n;
    return n;
  };
}

util::Result<std::string> Decompress(const std::string& compressed, size_t piece = kZstdBlockSize) {
  TM_TRY_ASSIGN(auto decompressor, ZstdDecompressor::Create(SourceOf(compressed, piece), "test"));
  std::string output;
  while (true) {
    TM_TRY_ASSIGN(std::string_view chunk, decompressor->Next());
    if (chunk.empty()) return output;
    EXPECT_LE(chunk.size(), kZstdBlockSize);
    output.append(chunk);
  }
}

std::string VerifyFailure(const util::Result<std::string>& result) {
  EXPECT_FALSE(result);
  if (result) return "";
  EXPECT_EQ(result.error().category(), util::ErrorCategory::kVerify) << result.error().message();
  return result.error().message();
}

TEST(ZstdStreamTest, RoundTripOfOneByteWrites) {
  const std::string input = Rows(20000);
  auto output = Decompress(Compress(input, 1));
  ASSERT_TRUE(output) << output.error().message();
  EXPECT_EQ(*output, input);
}

TEST(ZstdStreamTest, RoundTripOfOneHugeWriteHandsTheSinkFullBlocks) {
  std::string input;
  for (int i = 0; i < 4; ++i) input += Rows(100000);  // ~20 MiB
  size_t blocks = 0;
  const std::string compressed = Compress(input, input.size(), 0, &blocks);
  EXPECT_EQ(blocks, (compressed.size() + kZstdBlockSize - 1) / kZstdBlockSize);
  EXPECT_LT(compressed.size(), input.size() / 3);
  auto output = Decompress(compressed, 777);  // the source's pieces need not align
  ASSERT_TRUE(output) << output.error().message();
  EXPECT_EQ(*output, input);
}

TEST(ZstdStreamTest, AnEmptyStreamIsOneFrameThatDecompressesToNothing) {
  const std::string compressed = Compress("", 1);
  EXPECT_FALSE(compressed.empty());
  auto output = Decompress(compressed);
  ASSERT_TRUE(output) << output.error().message();
  EXPECT_EQ(*output, "");
}

TEST(ZstdStreamTest, ConcatenatedFramesDecompressAsOneStream) {
  const std::string a = Rows(3000), b = Rows(10);
  auto output = Decompress(Compress(a, 4096) + Compress("", 1) + Compress(b, 100));
  ASSERT_TRUE(output) << output.error().message();
  EXPECT_EQ(*output, a + b);
}

TEST(ZstdStreamTest, WorkersAreClampedToWhatTheLibraryAcceptsAndRoundTrip) {
  auto compressor =
      ZstdCompressor::Create({1, 1000}, [](std::string_view) { return util::Status(); });
  ASSERT_TRUE(compressor);
  EXPECT_EQ((*compressor)->workers(), std::min(1000, ZstdMaxWorkers()));
  const std::string input = Rows(200000);
  auto output = Decompress(Compress(input, 65536, 2));
  ASSERT_TRUE(output) << output.error().message();
  EXPECT_EQ(*output, input);
}

TEST(ZstdStreamTest, AFlippedByteIsAVerifyErrorNamingTheStreamAndOffset) {
  const std::string input = Rows(50000);
  std::string compressed = Compress(input, 1000);
  compressed[compressed.size() / 2] ^= 0x20;
  EXPECT_THAT(VerifyFailure(Decompress(compressed)),
              testing::AllOf(HasSubstr("test: corrupt zstd data at or after compressed byte"),
                             testing::ContainsRegex("byte [0-9]+ ")));
}

TEST(ZstdStreamTest, TruncatedInputIsAVerifyError) {
  const std::string compressed = Compress(Rows(50000), 1000);
  for (size_t keep : {size_t{5}, compressed.size() / 2, compressed.size() - 1}) {
    EXPECT_THAT(VerifyFailure(Decompress(compressed.substr(0, keep))),
                HasSubstr("test: truncated zstd data: the input ends inside a frame after " +
                          std::to_string(keep) + " compressed bytes"))
        << keep;
  }
}

TEST(ZstdStreamTest, GarbageAfterTheLastFrameIsAVerifyError) {
  const std::string compressed = Compress(Rows(100), 10);
  EXPECT_THAT(VerifyFailure(Decompress(compressed + "not zstd")),
              HasSubstr("corrupt zstd data at or after compressed byte " +
                        std::to_string(compressed.size())));
}

TEST(ZstdStreamTest, EmptyInputIsAVerifyError) {
  EXPECT_THAT(VerifyFailure(Decompress("")), HasSubstr("test: no zstd data"));
}

TEST(ZstdStreamTest, AnErrorOfTheSinkStopsTheCompressor) {
  auto compressor = ZstdCompressor::Create(
      {1, 0}, [](std::string_view) -> util::Status { return util::StepError("disk full"); });
  ASSERT_TRUE(compressor);
  const std::string input = Rows(300000);  // more than one block of output
  util::Status status = (*compressor)->Write(input);
  if (status) status = (*compressor)->Finish();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message(), "disk full");
}

TEST(ZstdStreamTest, TheCommandLineToolReadsOurFramesAndWeReadItsOutput) {
  if (std::system("zstd --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no zstd command";
  char dir[] = "/tmp/tidemark-zstd-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string base = dir;
  const std::string input = Rows(30000);
  const std::string ours = Compress(input, 333);
  std::FILE* f = std::fopen((base + "/ours.zst").c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(ours.data(), 1, ours.size(), f);
  std::fclose(f);
  // Two frames of the tool's own: ours decompressed, then compressed again twice.
  const std::string command = "cd " + base +
                              " && zstd -q -dc ours.zst > plain && zstd -q -1 -c plain > theirs.zst"
                              " && zstd -q -5 -c plain >> theirs.zst";
  ASSERT_EQ(std::system(command.c_str()), 0);
  std::string theirs;
  f = std::fopen((base + "/theirs.zst").c_str(), "rb");
  ASSERT_NE(f, nullptr);
  char block[65536];
  while (size_t n = std::fread(block, 1, sizeof block, f)) theirs.append(block, n);
  std::fclose(f);
  std::filesystem::remove_all(base);
  auto output = Decompress(theirs);
  ASSERT_TRUE(output) << output.error().message();
  EXPECT_EQ(*output, input + input);
}

}  // namespace
}  // namespace tidemark::archive
