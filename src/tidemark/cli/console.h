// The human side of the executor's reports: step lines on stdout, notes, and progress
// on stderr when it is a terminal.
//
// Thread-safety: safe for concurrent workers.

#ifndef TIDEMARK_CLI_CONSOLE_H_
#define TIDEMARK_CLI_CONSOLE_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tidemark/exec/apply.h"
#include "tidemark/exec/reporter.h"
#include "tidemark/exec/terminal_progress.h"

namespace tidemark::cli {

class ConsoleReporter : public exec::Reporter {
 public:
  // `verbose`: a line per step; otherwise only failures and a closing tally.
  explicit ConsoleReporter(bool verbose);

  void RunStarted(const core::RunFile& run, const std::string& path, bool resumed) override;
  void StepSkipped(const core::RunFile& run, const core::Step& step,
                   const std::string& why) override;
  void StepFinished(const core::RunFile& run, const core::Step& step, const util::Status& status,
                    double seconds) override;
  void Note(const std::string& dataset, const std::string& text) override;
  util::Progress& ProgressFor(const std::string& dataset) override;

 private:
  bool verbose_;
  bool progress_;
  std::mutex mutex_;
  std::mutex progress_mutex_;
  std::map<std::string, std::unique_ptr<exec::TerminalProgress>> bars_;
};

// "archive 4 partitions (dt=2024-01-01 … dt=2024-01-04; 1.2 MiB in 40 files)" lines.
std::vector<std::string> SummarizeSteps(const std::vector<core::Step>& steps);

// Prints each outcome's closing line; returns the exit code.
int PrintOutcomes(const std::vector<exec::DatasetOutcome>& outcomes, bool executed);

}  // namespace tidemark::cli

#endif  // TIDEMARK_CLI_CONSOLE_H_
