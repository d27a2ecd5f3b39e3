// Failpoints for crash tests. When the environment variable TIDEMARK_FAILPOINT names a
// point, the process exits at once (as a crash would: no destructors, no flushing) the
// Nth time execution reaches it. The syntax is NAME, NAME:N (N counts from 1) or
// NAME:N:hang, which stops there until the process is killed (for lock tests).
// Several points may be given separated by commas; the first to trigger wins.
//
// Production code calls Failpoint("copy.mid_file") at every place a crash test
// needs; with the variable unset the call is one relaxed atomic load.
//
// Thread-safety: safe to call from any thread.

#ifndef TIDEMARK_UTIL_FAILPOINT_H_
#define TIDEMARK_UTIL_FAILPOINT_H_

#include <string_view>

namespace tidemark::util {

// The exit code of a process stopped by a failpoint.
inline constexpr int kFailpointExitCode = 86;

void Failpoint(std::string_view name);

// Re-reads TIDEMARK_FAILPOINT; for tests that set it in-process.
void ReloadFailpoints();

}  // namespace tidemark::util

#endif  // TIDEMARK_UTIL_FAILPOINT_H_
