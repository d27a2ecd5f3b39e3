// tidemark apply: executes run files, planning first when given none. A run file of the
// same dataset written within the hour is picked up again unless --force-run.

#include "tidemark/exec/apply.h"

#include <cstdio>

#include "tidemark/cli/command.h"
#include "tidemark/cli/console.h"
#include "tidemark/exec/metrics.h"

namespace tidemark::cli {

namespace {

struct ApplyCommandOptions {
  std::vector<std::string> run_files;
  std::vector<std::string> datasets;
  std::string now;
  bool force_run = false;
  bool verbose = false;
  int jobs = 1;
  int step_jobs = 0;
};

int RunApply(const GlobalOptions& global, const ApplyCommandOptions& options) {
  if (!options.run_files.empty() && !options.datasets.empty()) {
    return Report(
        util::Error(util::ErrorCategory::kConfig, "give run files or --dataset, not both"));
  }
  auto session = StartSession(global, options.datasets, options.now);
  if (!session) return Report(session.error());
  exec::ApplyOptions apply;
  apply.datasets = options.datasets;
  apply.run_files = options.run_files;
  apply.now = session->now;
  apply.now_given = session->now_given;
  apply.force_run = options.force_run;
  apply.jobs = options.jobs;
  apply.step_jobs = options.step_jobs;
  apply.observe_after = !session->config.metrics_dir.empty();
  ConsoleReporter reporter(options.verbose);
  auto outcomes = exec::ApplyDatasets(session->config, apply, reporter);
  const int code = PrintOutcomes(outcomes, true);
  const config::Config& config = session->config;
  if (!config.metrics_dir.empty()) {
    auto written =
        exec::WriteMetrics(config.ResolvePath(config.metrics_dir), outcomes, session->now);
    if (!written) {
      const int failed = Report(written.error().WithContext("metrics"));
      return code == 0 ? failed : code;
    }
  }
  return code;
}

}  // namespace

void AddApplyCommand(CLI::App& app, GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<ApplyCommandOptions>();
  CLI::App* sub = app.add_subcommand("apply", "execute run files (planning first when given none)");
  sub->add_option("runfiles", options->run_files, "run files to execute")->check(CLI::ExistingFile);
  sub->add_option("--dataset", options->datasets, "only these datasets (repeatable)");
  sub->add_option("--now", options->now, "plan as if it were this time (YYYY-MM-DDTHH:MM:SSZ)");
  sub->add_flag("--force-run", options->force_run,
                "plan anew even if a run file of the last hour exists");
  sub->add_option("--jobs", options->jobs, "datasets applied in parallel")
      ->check(CLI::PositiveNumber);
  sub->add_option("--step-jobs", options->step_jobs,
                  "independent steps of one dataset run at once (default: one per core)")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("-v,--verbose", options->verbose, "a line for every step");
  commands.push_back({sub, [&global, options] { return RunApply(global, *options); }});
}

}  // namespace tidemark::cli
