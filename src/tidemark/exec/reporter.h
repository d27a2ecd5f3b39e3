// What the executor tells its user as it works. The command line prints it; tests
// collect it. Implementations must be thread-safe: with --jobs, workers report at once.

#ifndef TIDEMARK_EXEC_REPORTER_H_
#define TIDEMARK_EXEC_REPORTER_H_

#include <string>

#include "tidemark/core/step.h"
#include "tidemark/util/error.h"
#include "tidemark/util/progress.h"

namespace tidemark::exec {

class Reporter {
 public:
  virtual ~Reporter() = default;
  // A run file is about to be executed; `resumed` when some of its steps were done before.
  virtual void RunStarted(const core::RunFile& run, const std::string& path, bool resumed) {
    (void)run, (void)path, (void)resumed;
  }
  virtual void StepSkipped(const core::RunFile& run, const core::Step& step,
                           const std::string& why) {
    (void)run, (void)step, (void)why;
  }
  virtual void StepStarted(const core::RunFile& run, const core::Step& step) {
    (void)run, (void)step;
  }
  virtual void StepFinished(const core::RunFile& run, const core::Step& step,
                            const util::Status& status, double seconds) {
    (void)run, (void)step, (void)status, (void)seconds;
  }
  // Something the user should know about a dataset.
  virtual void Note(const std::string& dataset, const std::string& text) {
    (void)dataset, (void)text;
  }
  // Where long steps report progress. Called from the worker doing the step.
  virtual util::Progress& ProgressFor(const std::string& dataset) {
    (void)dataset;
    return util::NoProgress();
  }
};

// A Reporter that says nothing.
Reporter& SilentReporter();

}  // namespace tidemark::exec

#endif  // TIDEMARK_EXEC_REPORTER_H_
