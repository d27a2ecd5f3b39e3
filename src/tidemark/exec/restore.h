// Restoring one partition: under the dataset's lock, observe, choose the copy (recycle
// bin or archive), write a restore run file, execute it, and hold the partition so that
// retention does not take it again at once.
//
// Thread-safety: runs on the calling thread.

#ifndef TIDEMARK_EXEC_RESTORE_H_
#define TIDEMARK_EXEC_RESTORE_H_

#include <string>

#include "tidemark/core/span.h"
#include "tidemark/exec/apply.h"

namespace tidemark::exec {

struct RestoreOptions {
  std::string dataset;
  std::string partition;
  std::string lifecycle;  // empty: the one that has a copy
  std::string to;         // empty: back in place; else a location URL
  plan::RestoreSource source = plan::RestoreSource::kAuto;
  core::Span hold{7, core::SpanUnit::kDay};  // retention leaves it alone this long
};

DatasetOutcome RestorePartition(const config::Config& config, const RestoreOptions& options,
                                Reporter& reporter);

}  // namespace tidemark::exec

#endif  // TIDEMARK_EXEC_RESTORE_H_
