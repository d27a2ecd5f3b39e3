// The executor: runs the steps of a run file in seq order, journaling each outcome in
// the state store (one short transaction per step), so that applying the same run file again after
// a crash skips what is done and lets each unfinished step check its postcondition and redo what is
// missing.
//
// Steps with the same seq are independent (DESIGN.md): they run on up to `step_jobs`
// threads at once, each with its own backends. A failed step blocks the later steps of
// its partition (and a failed storage-wide step those of its storage); the other
// partitions go on. Retryable errors are retried with backoff. Failpoints:
// "step.before", "step.executed" (done, not yet journaled) and "step.after", each
// counted over the steps actually executed, in whatever thread.
//
// Thread-safety: an Executor is used by one thread; it starts and joins its own.

#ifndef TIDEMARK_EXEC_EXECUTOR_H_
#define TIDEMARK_EXEC_EXECUTOR_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tidemark/backend/backend.h"
#include "tidemark/config/config.h"
#include "tidemark/core/step.h"
#include "tidemark/exec/reporter.h"
#include "tidemark/state/state_store.h"

namespace tidemark::exec {

// The steps of one action that ran: how many, how many failed, and their time.
struct ActionTally {
  int executed = 0;
  int failed = 0;
  double seconds = 0;
};

struct RunTally {
  int total = 0;
  int done_before = 0;  // skipped: journaled as done by an earlier attempt
  int executed = 0;
  int failed = 0;
  int blocked = 0;                              // skipped because an earlier step of their
                                                // partition failed
  std::map<std::string, ActionTally> actions;  // of the steps executed, by action
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
  // `step_jobs` 0 means one thread per core.
  Executor(const config::Config& config, state::StateStore& state, BackendPool& backends,
           Reporter& reporter, int step_jobs);

  // Executes `run` (read from `path`). Returns the tally; the error is that of the
  // first failed step, if any.
  RunTally Execute(const core::RunFile& run, const std::string& path,
                   std::optional<util::Error>* first_error);

 private:
  // Runs the steps of one seq; returns each one's status, in order, and in `seconds`
  // each one's time.
  std::vector<util::Status> ExecuteGroup(const core::RunFile& run,
                                         const std::vector<const core::Step*>& steps,
                                         std::vector<double>& seconds);
  util::Status ExecuteStep(const core::RunFile& run, const core::Step& step, BackendPool& backends,
                           int worker);
  util::Status RecordEffects(const core::RunFile& run, const core::Step& step);
  // Journal records wait in `pending_` and are written in one transaction every few
  // hundred steps, at the end of each seq, and at the end of the run. Losing them in a
  // crash only means those steps run again, and every step checks its postcondition
  // first, so nothing is done twice.
  using Record = std::function<util::Status(state::StateStore&)>;
  util::Status Journal(Record record);
  util::Status FlushJournal();

  const config::Config& config_;
  state::StateStore& state_;
  std::mutex state_mutex_;  // guards state_ and pending_
  std::vector<Record> pending_;
  BackendPool& backends_;
  Reporter& reporter_;
  int step_jobs_;
};

}  // namespace tidemark::exec

#endif  // TIDEMARK_EXEC_EXECUTOR_H_
