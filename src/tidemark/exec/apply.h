// Applying datasets: for each, take its lock, reuse a run file from the last hour or
// observe and plan a new one, write it, execute it, release the lock. Datasets run in
// parallel with --jobs; a failing dataset never stops the others.
//
// Thread-safety: ApplyDatasets starts and joins its own workers.

#ifndef TIDEMARK_EXEC_APPLY_H_
#define TIDEMARK_EXEC_APPLY_H_

#include <optional>
#include <string>
#include <vector>

#include "tidemark/config/config.h"
#include "tidemark/core/partition.h"
#include "tidemark/exec/executor.h"
#include "tidemark/exec/observe.h"
#include "tidemark/exec/reporter.h"
#include "tidemark/plan/planner.h"

namespace tidemark::exec {

struct ApplyOptions {
  std::vector<std::string> datasets;   // empty: every dataset of the config
  std::vector<std::string> run_files;  // given run files instead of planning
  util::Instant now{};                 // planning time
  bool now_given = false;              // --now was given (reuse only runs planned for it)
  bool force_run = false;              // ignore run files from the last hour
  bool plan_only = false;              // write run files, execute nothing (plan)
  int jobs = 1;                        // datasets at once
  int step_jobs = 0;                   // steps of one seq at once; 0: one per core
  // Observe a dataset again after its steps ran, so that DatasetOutcome::observed shows
  // the result (for metrics).
  bool observe_after = false;
};

struct DatasetOutcome {
  std::string dataset;
  std::string run_file;            // empty when there was nothing to do
  bool reused = false;             // an existing run file was picked up
  core::RunFile run;               // what was planned or picked up
  std::vector<std::string> notes;  // the planner's notes
  // What the dataset was last seen to hold (absent when it could not be observed: also
  // after a run file was picked up, unless observe_after), and the planner's view of how
  // far ahead it is (plan::Plan::ahead_until).
  std::optional<core::ObservedDataset> observed;
  std::map<std::string, util::Instant> ahead_until;
  RunTally tally;
  std::optional<util::Error> error;
};

std::vector<DatasetOutcome> ApplyDatasets(const config::Config& config, const ApplyOptions& options,
                                          Reporter& reporter);

// The process exit code for a set of outcomes: 0 when all succeeded; else 4 when every
// failure was a lock conflict, else the code of the most telling failure.
int ExitCodeFor(const std::vector<DatasetOutcome>& outcomes);

// The runs directory of a config, absolute.
std::string RunsDirectory(const config::Config& config);

// Fills in each step's rendered command.
util::Status RenderSteps(BackendPool& backends, std::vector<core::Step>& steps);

}  // namespace tidemark::exec

#endif  // TIDEMARK_EXEC_APPLY_H_
