// tidemark verify RUNFILE: says, step by step, whether the effect of each step holds now.

#include <cstdio>
#include <map>

#include "tidemark/cli/command.h"
#include "tidemark/exec/executor.h"
#include "tidemark/exec/run_files.h"
#include "tidemark/state/state_store.h"

namespace tidemark::cli {

namespace {

struct VerifyOptions {
  std::string run_file;
  bool brief = false;  // only the steps that do not hold
};

int RunVerify(const GlobalOptions& global, const VerifyOptions& options) {
  auto config = Load(global);
  if (!config) return Report(config.error());
  auto run = exec::ReadRunFile(options.run_file);
  if (!run) return Report(run.error());
  auto state = state::OpenStateStore(config->state, config->base_dir);
  if (!state) return Report(state.error());
  std::map<std::string, std::string> journal;
  auto steps = (*state)->Steps(run->run_id);
  if (steps) {
    for (const state::StepRecord& record : *steps) journal[record.step_id] = record.status;
  }
  exec::BackendPool backends(*config);
  int holding = 0;
  for (const core::Step& step : run->steps) {
    std::string journaled = journal.count(step.id) ? journal[step.id] : "not run";
    auto backend = backends.ForStep(step);
    util::Status holds =
        backend ? (*backend)->Holds(step) : util::Status(tl::unexpected(backend.error()));
    if (holds) ++holding;
    if (holds && options.brief) continue;
    std::printf("%-6s %s (journal: %s)%s%s\n", holds ? "holds" : "NO", step.id.c_str(),
                journaled.c_str(), holds ? "" : ": ", holds ? "" : holds.error().message().c_str());
  }
  std::printf("%d of %zu steps hold\n", holding, run->steps.size());
  return holding == static_cast<int>(run->steps.size())
             ? kExitOk
             : util::ExitCodeFor(util::ErrorCategory::kVerify);
}

}  // namespace

void AddVerifyCommand(CLI::App& app, GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<VerifyOptions>();
  CLI::App* sub = app.add_subcommand("verify", "whether each step of a run file holds now");
  sub->add_option("runfile", options->run_file, "the run file")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_flag("--brief", options->brief, "list only the steps that do not hold");
  commands.push_back({sub, [&global, options] { return RunVerify(global, *options); }});
}

}  // namespace tidemark::cli
