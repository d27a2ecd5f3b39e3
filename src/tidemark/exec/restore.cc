#include "tidemark/exec/restore.h"

#include "tidemark/archive/tree_copy.h"
#include "tidemark/exec/run_files.h"
#include "tidemark/store/object_store.h"

namespace tidemark::exec {

namespace {

// A restore from the archive needs a manifest there; say so before starting.
util::Status CheckArchiveExists(const core::Step& step, const std::string& dataset) {
  if (step.action != core::action::kRestoreFromArchive) return {};
  const std::string url = step.params.at("archive");
  TM_TRY_ASSIGN(auto store, store::OpenStore(url));
  archive::TreeLocation at{store.get(), ""};
  if (archive::ReadManifest(at)) return {};
  return util::ConfigError("no copy of partition " + step.partition + " of dataset " + dataset +
                           ": it is not in the recycle bin and there is no archive at " + url);
}

util::Status Restore(const config::Config& config, const RestoreOptions& options,
                     Reporter& reporter, DatasetOutcome& outcome) {
  const config::Dataset* dataset = config.FindDataset(options.dataset);
  if (dataset == nullptr)
    return util::ConfigError("no dataset \"" + options.dataset + "\" in " + config.path);
  TM_TRY_ASSIGN(auto zone, util::TimeZone::Load(config.timezone));
  TM_TRY_ASSIGN(auto state, state::OpenStateStore(config.state, config.base_dir));
  const util::Instant now = util::Now();
  const state::LockHolder holder = state::ThisProcess(NewRunId(now));
  TM_TRY(state->AcquireLock(dataset->name, holder));
  struct Release {
    state::StateStore& state;
    const std::string& dataset;
    const std::string& id;
    ~Release() { (void)state.ReleaseLock(dataset, id); }
  } release{*state, dataset->name, holder.run_id};

  BackendPool backends(config);
  TM_TRY_ASSIGN(auto observed, ObserveDataset(config, *dataset, backends, state.get(), zone));
  plan::RestoreRequest request{&config,           dataset,    &observed,     options.partition,
                               options.lifecycle, options.to, options.source};
  TM_TRY_ASSIGN(plan::Plan plan, plan::PlanRestore(request));
  for (core::Step& step : plan.steps) {
    if (options.to.empty()) {
      step.params["hold_until"] = util::FormatInstant(core::AddSpan(now, options.hold, 1, zone));
    }
  }
  TM_TRY(CheckArchiveExists(plan.steps.front(), dataset->name));
  TM_TRY(RenderSteps(backends, plan.steps));
  core::RunFile& run = outcome.run;
  run.kind = "restore";
  run.created_at = now;
  run.now = now;
  run.run_id = NewRunId(now);
  run.dataset = dataset->name;
  run.system = plan.steps.front().system;
  run.config_sha256 = config.sha256;
  run.steps = std::move(plan.steps);
  TM_TRY_ASSIGN(outcome.run_file, WriteRunFile(RunsDirectory(config), run));
  Executor executor(config, *state, backends, reporter, 1);
  outcome.tally = executor.Execute(run, outcome.run_file, &outcome.error);
  return {};
}

}  // namespace

DatasetOutcome RestorePartition(const config::Config& config, const RestoreOptions& options,
                                Reporter& reporter) {
  DatasetOutcome outcome;
  outcome.dataset = options.dataset;
  auto status = Restore(config, options, reporter, outcome);
  if (!status && !outcome.error) outcome.error = status.error();
  return outcome;
}

}  // namespace tidemark::exec
