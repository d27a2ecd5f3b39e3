// The executor: runs the steps of a run file in seq order, journaling each in the state
// store, so that applying the same run file again after a crash skips what is done and
// lets each unfinished step check its postcondition and redo what is missing.
//
// A failed step blocks the later steps of its partition (and a failed storage-wide step
// those of its storage); the other partitions go on. Retryable errors are retried with
// backoff. Failpoints: "step.before", "step.executed" (done, not yet journaled) and
// "step.after", each counted over the steps actually executed.
//
// Thread-safety: an Executor is used by one thread; create one per worker.

#ifndef TIDEMARK_EXEC_EXECUTOR_H_
#define TIDEMARK_EXEC_EXECUTOR_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "tidemark/backend/backend.h"
#include "tidemark/config/config.h"
#include "tidemark/core/step.h"
#include "tidemark/exec/reporter.h"
#include "tidemark/state/state_store.h"

namespace tidemark::exec {

struct RunTally {
  int total = 0;
  int done_before = 0;  // skipped: journaled as done by an earlier attempt
  int executed = 0;
  int failed = 0;
  int blocked = 0;      // skipped because an earlier step of their partition failed
};

// Backends by connection name, opened on first use.
class BackendPool {
 public:
  explicit BackendPool(const config::Config& config) : config_(config) {}
  util::Result<backend::Backend*> For(const std::string& connection);
  // The backend that runs a step, by its "connection" param.
  util::Result<backend::Backend*> ForStep(const core::Step& step);

 private:
  const config::Config& config_;
  std::map<std::string, std::unique_ptr<backend::Backend>> backends_;
};

class Executor {
 public:
  Executor(const config::Config& config, state::StateStore& state, BackendPool& backends,
           Reporter& reporter)
      : config_(config), state_(state), backends_(backends), reporter_(reporter) {}

  // Executes `run` (read from `path`). Returns the tally; the error is that of the
  // first failed step, if any.
  RunTally Execute(const core::RunFile& run, const std::string& path,
                   std::optional<util::Error>* first_error);

 private:
  util::Status ExecuteStep(const core::RunFile& run, const core::Step& step);
  util::Status RecordEffects(const core::RunFile& run, const core::Step& step);

  const config::Config& config_;
  state::StateStore& state_;
  BackendPool& backends_;
  Reporter& reporter_;
};

}  // namespace tidemark::exec

#endif  // TIDEMARK_EXEC_EXECUTOR_H_
