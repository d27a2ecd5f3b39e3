// Progress of long work (copies, exports), reported by the code doing the work and
// shown by whoever owns the terminal. The default does nothing.
//
// Thread-safety: implementations must accept calls from the thread doing the work.

#ifndef TIDEMARK_UTIL_PROGRESS_H_
#define TIDEMARK_UTIL_PROGRESS_H_

#include <cstdint>
#include <string>

namespace tidemark::util {

class Progress {
 public:
  virtual ~Progress() = default;
  // A new piece of work of `total_bytes` (0 when unknown) begins.
  virtual void Begin(const std::string& label, int64_t total_bytes) {
    (void)label, (void)total_bytes;
  }
  // `bytes` more are done.
  virtual void Advance(int64_t bytes) { (void)bytes; }
  // The piece of work is over.
  virtual void End() {}
};

// A Progress that shows nothing.
Progress& NoProgress();

}  // namespace tidemark::util

#endif  // TIDEMARK_UTIL_PROGRESS_H_
