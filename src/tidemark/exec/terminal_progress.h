// Progress shown on a terminal: one line on stderr, redrawn at most five times a
// second, with bytes done, rate and time left.
//
// Thread-safety: safe to use from several workers; lines of different workers take
// turns.

#ifndef TIDEMARK_EXEC_TERMINAL_PROGRESS_H_
#define TIDEMARK_EXEC_TERMINAL_PROGRESS_H_

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

#include "tidemark/util/progress.h"

namespace tidemark::exec {

class TerminalProgress : public util::Progress {
 public:
  // Writes to `out` (stderr), prefixing lines with `prefix` (the dataset).
  TerminalProgress(std::FILE* out, std::string prefix, std::mutex& output_mutex)
      : out_(out), prefix_(std::move(prefix)), mutex_(output_mutex) {}

  void Begin(const std::string& label, int64_t total_bytes) override;
  void Advance(int64_t bytes) override;
  void End() override;

 private:
  void Draw(bool force);

  std::FILE* out_;
  std::string prefix_;
  std::mutex& mutex_;
  std::string label_;
  int64_t total_ = 0;
  int64_t done_ = 0;
  std::chrono::steady_clock::time_point started_{};
  std::chrono::steady_clock::time_point drawn_{};
  bool visible_ = false;
};

// "12 MiB / 40 MiB  85 MiB/s  ETA 3s"
std::string DescribeProgress(int64_t done, int64_t total, double seconds);

}  // namespace tidemark::exec

#endif  // TIDEMARK_EXEC_TERMINAL_PROGRESS_H_
