#include "tidemark/cli/console.h"

#include <cstdio>
#include <set>

#include "tidemark/cli/command.h"
#include "tidemark/util/strings.h"

namespace tidemark::cli {

namespace {

struct ActionTally {
  std::vector<std::string> partitions;
  int64_t bytes = 0;
  int64_t files = 0;
};

// What a person calls each action, in the order the summary lists them.
constexpr std::pair<const char*, const char*> kVerbs[] = {
    {core::action::kCreatePartition, "create ahead"},
    {core::action::kReorganizeAhead, "lay out ahead"},
    {core::action::kFinalizeDetach, "finish the detach of"},
    {core::action::kHidePartition, "hide"},
    {core::action::kCopyToArchive, "archive"},
    {core::action::kVerifyArchive, "verify"},
    {core::action::kPurgeRecycled, "purge from the recycle bin"},
    {core::action::kRestoreFromBin, "restore from the recycle bin"},
    {core::action::kRestoreFromArchive, "restore from the archive"},
};

}  // namespace

ConsoleReporter::ConsoleReporter(bool verbose) : verbose_(verbose), progress_(StderrIsTerminal()) {}

void ConsoleReporter::RunStarted(const core::RunFile& run, const std::string& path, bool resumed) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::printf("%s: %s %s (%zu steps)\n", run.dataset.c_str(), resumed ? "resuming" : "applying",
              path.c_str(), run.steps.size());
  for (const std::string& line : SummarizeSteps(run.steps)) {
    std::printf("%s:   %s\n", run.dataset.c_str(), line.c_str());
  }
  std::fflush(stdout);
}

void ConsoleReporter::StepSkipped(const core::RunFile& run, const core::Step& step,
                                  const std::string& why) {
  if (!verbose_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  std::printf("%s:   skip %s (%s)\n", run.dataset.c_str(), step.id.c_str(), why.c_str());
}

void ConsoleReporter::StepFinished(const core::RunFile& run, const core::Step& step,
                                   const util::Status& status, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (status) {
    if (verbose_)
      std::printf("%s:   ok   %s (%.2fs)\n", run.dataset.c_str(), step.id.c_str(), seconds);
  } else {
    std::printf("%s:   FAILED %s: %s\n", run.dataset.c_str(), step.id.c_str(),
                status.error().message().c_str());
  }
  std::fflush(stdout);
}

void ConsoleReporter::Note(const std::string& dataset, const std::string& text) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::printf("%s: note: %s\n", dataset.c_str(), text.c_str());
}

util::Progress& ConsoleReporter::ProgressFor(const std::string& dataset) {
  if (!progress_) return util::NoProgress();
  std::lock_guard<std::mutex> lock(mutex_);
  auto& bar = bars_[dataset];
  if (!bar) bar = std::make_unique<exec::TerminalProgress>(stderr, dataset, progress_mutex_);
  return *bar;
}

std::vector<std::string> SummarizeSteps(const std::vector<core::Step>& steps) {
  std::map<std::string, ActionTally> tallies;
  for (const core::Step& step : steps) {
    if (step.partition.empty()) continue;
    ActionTally& tally = tallies[step.action];
    tally.partitions.push_back(step.partition);
    tally.bytes += step.IntParam("bytes");
    tally.files += step.IntParam("files");
  }
  std::vector<std::string> lines;
  for (const auto& [action, verb] : kVerbs) {
    auto it = tallies.find(action);
    if (it == tallies.end()) continue;
    const ActionTally& t = it->second;
    std::string range = t.partitions.front();
    if (t.partitions.size() > 1) range += " … " + t.partitions.back();
    std::string line = std::string(verb) + " " + std::to_string(t.partitions.size()) +
                       (t.partitions.size() == 1 ? " partition" : " partitions") + " (" + range;
    if (t.files > 0)
      line += "; " + util::HumanBytes(t.bytes) + " in " + std::to_string(t.files) + " files";
    lines.push_back(line + ")");
  }
  return lines;
}

int PrintOutcomes(const std::vector<exec::DatasetOutcome>& outcomes, bool executed) {
  for (const exec::DatasetOutcome& o : outcomes) {
    if (o.error) {
      std::fflush(stdout);
      std::fprintf(stderr, "tidemark: %s%s%s\n", o.dataset.c_str(), o.dataset.empty() ? "" : ": ",
                   o.error->message().c_str());
      continue;
    }
    if (o.run_file.empty()) {
      std::printf("%s: nothing to do\n", o.dataset.c_str());
      continue;
    }
    if (!executed) continue;
    const exec::RunTally& t = o.tally;
    std::printf("%s: done: %d steps run, %d done before, in %s\n", o.dataset.c_str(), t.executed,
                t.done_before, o.run_file.c_str());
  }
  std::fflush(stdout);
  return exec::ExitCodeFor(outcomes);
}

}  // namespace tidemark::cli
