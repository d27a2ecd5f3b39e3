// tidemark plan: observes, plans and writes run files without executing anything (the
// dry run), then prints what will happen to which partitions.

#include <cstdio>

#include "tidemark/cli/command.h"
#include "tidemark/cli/console.h"
#include "tidemark/exec/apply.h"

namespace tidemark::cli {

namespace {

struct PlanOptions {
  std::vector<std::string> datasets;
  std::string now;
  int jobs = 1;
};

void PrintPlan(const exec::DatasetOutcome& outcome) {
  if (outcome.error || outcome.run_file.empty()) return;
  std::printf("%s: %zu steps in %s\n", outcome.dataset.c_str(), outcome.run.steps.size(),
              outcome.run_file.c_str());
  for (const std::string& line : SummarizeSteps(outcome.run.steps)) {
    std::printf("%s:   %s\n", outcome.dataset.c_str(), line.c_str());
  }
}

int RunPlan(const GlobalOptions& global, const PlanOptions& options) {
  auto session = StartSession(global, options.datasets, options.now);
  if (!session) return Report(session.error());
  exec::ApplyOptions apply;
  apply.datasets = options.datasets;
  apply.now = session->now;
  apply.now_given = session->now_given;
  apply.plan_only = true;
  apply.jobs = options.jobs;
  ConsoleReporter reporter(false);
  auto outcomes = exec::ApplyDatasets(session->config, apply, reporter);
  for (const exec::DatasetOutcome& outcome : outcomes) PrintPlan(outcome);
  return PrintOutcomes(outcomes, false);
}

}  // namespace

void AddPlanCommand(CLI::App& app, GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<PlanOptions>();
  CLI::App* sub = app.add_subcommand("plan", "write run files and print what they will do");
  sub->add_option("--dataset", options->datasets, "only these datasets (repeatable)");
  sub->add_option("--now", options->now, "plan as if it were this time (YYYY-MM-DDTHH:MM:SSZ)");
  sub->add_option("--jobs", options->jobs, "datasets observed in parallel")
      ->check(CLI::PositiveNumber);
  commands.push_back({sub, [&global, options] { return RunPlan(global, *options); }});
}

}  // namespace tidemark::cli
