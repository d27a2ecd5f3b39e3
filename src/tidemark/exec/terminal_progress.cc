#include "tidemark/exec/terminal_progress.h"

#include "tidemark/util/strings.h"

namespace tidemark::exec {

namespace {
constexpr auto kRedrawEvery = std::chrono::milliseconds(200);
// Work shorter than this shows no progress line at all.
constexpr auto kQuietFor = std::chrono::milliseconds(500);
}  // namespace

std::string DescribeProgress(int64_t done, int64_t total, double seconds) {
  std::string text = util::HumanBytes(done);
  if (total > 0) text += " / " + util::HumanBytes(total);
  if (seconds <= 0) return text;
  double rate = static_cast<double>(done) / seconds;
  text += "  " + util::HumanBytes(static_cast<int64_t>(rate)) + "/s";
  if (total > 0 && rate > 0 && done < total) {
    text += "  ETA " + util::HumanSeconds(static_cast<double>(total - done) / rate);
  }
  return text;
}

void TerminalProgress::Begin(const std::string& label, int64_t total_bytes) {
  label_ = label;
  total_ = total_bytes;
  done_ = 0;
  started_ = std::chrono::steady_clock::now();
  drawn_ = started_;
}

void TerminalProgress::Advance(int64_t bytes) {
  done_ += bytes;
  Draw(false);
}

void TerminalProgress::End() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (visible_) std::fprintf(out_, "\r\033[K");
  std::fflush(out_);
  visible_ = false;
}

void TerminalProgress::Draw(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && (now - drawn_ < kRedrawEvery || now - started_ < kQuietFor)) return;
  drawn_ = now;
  double seconds = std::chrono::duration<double>(now - started_).count();
  std::lock_guard<std::mutex> lock(mutex_);
  std::fprintf(out_, "\r\033[K%s: %s  %s", prefix_.c_str(), label_.c_str(),
               DescribeProgress(done_, total_, seconds).c_str());
  std::fflush(out_);
  visible_ = true;
}

}  // namespace tidemark::exec
