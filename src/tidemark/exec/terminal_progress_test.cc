#include "tidemark/exec/terminal_progress.h"

#include <thread>

#include <gtest/gtest.h>

namespace tidemark::exec {
namespace {

TEST(DescribeProgress, SaysDoneTotalRateAndTimeLeft) {
  EXPECT_EQ(DescribeProgress(int64_t{10} << 20, int64_t{40} << 20, 2.0),
            "10 MiB / 40 MiB  5.0 MiB/s  ETA 6s");
  EXPECT_EQ(DescribeProgress(int64_t{40} << 20, int64_t{40} << 20, 2.0),
            "40 MiB / 40 MiB  20 MiB/s");
  EXPECT_EQ(DescribeProgress(512, 0, 0), "512 B");
}

TEST(TerminalProgress, DrawsOneLineForLongWorkAndClearsItAtTheEnd) {
  char buffer[4096] = {0};
  std::FILE* out = fmemopen(buffer, sizeof buffer - 1, "w");
  ASSERT_NE(out, nullptr);
  std::mutex mutex;
  TerminalProgress progress(out, "events", mutex);
  progress.Begin("archive dt=2024-01-05", 1000);
  progress.Advance(100);  // too early to draw: short work shows nothing
  EXPECT_EQ(std::string(buffer).find("events:"), std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  progress.Advance(400);
  progress.End();
  std::fclose(out);
  std::string text(buffer);
  EXPECT_NE(text.find("events: archive dt=2024-01-05  500 B / 1000 B"), std::string::npos) << text;
  EXPECT_NE(text.find("ETA"), std::string::npos) << text;
  EXPECT_NE(text.rfind("\r\033[K"), std::string::npos) << "the line is cleared at the end";
}

}  // namespace
}  // namespace tidemark::exec
