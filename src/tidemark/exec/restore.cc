#include "tidemark/exec/restore.h"

#include <dirent.h>

#include "tidemark/archive/tree_copy.h"
#include "tidemark/exec/run_files.h"
#include "tidemark/store/object_store.h"

namespace tidemark::exec {

namespace {

// A restore from the archive needs a manifest there; say so before starting.
util::Status CheckArchiveExists(const config::Config& config, const core::Step& step,
                                const std::string& dataset) {
  if (step.action != core::action::kRestoreFromArchive) return {};
  const std::string url = step.params.at("archive");
  TM_TRY_ASSIGN(auto store, store::OpenStore(url, &config));
  archive::TreeLocation at{store.get(), ""};
  if (archive::ReadManifest(at)) return {};
  return util::ConfigError("no copy of partition " + step.partition + " of dataset " + dataset +
                           ": it is not in the recycle bin and there is no archive at " + url);
}

// The newest restore of this partition (to the same place) whose step never finished:
// one interrupted after it had begun to change the table. Its partition may look live
// already (a MariaDB restore in place adds the partition before it swaps the rows in),
// so it is resumed rather than planned anew.
std::optional<ReusableRun> UnfinishedRestore(const config::Config& config,
                                             const RestoreOptions& options,
                                             state::StateStore& state) {
  const std::string directory = RunsDirectory(config);
  DIR* dir = opendir(directory.c_str());
  if (dir == nullptr) return std::nullopt;
  std::optional<ReusableRun> newest;
  const std::string marker = "_restore_" + options.dataset + "_";
  while (struct dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name.find(marker) == std::string::npos) continue;
    auto run = ReadRunFile(directory + "/" + name);
    if (!run || run->kind != "restore" || run->dataset != options.dataset) continue;
    if (run->steps.size() != 1) continue;
    const core::Step& step = run->steps.front();
    if (step.partition != options.partition || step.Param("to_table") != options.to) continue;
    if (!options.lifecycle.empty() && step.lifecycle != options.lifecycle) continue;
    auto done = state.DoneSteps(run->run_id);
    if (!done || done->count(step.id) > 0) continue;
    if (!newest || run->created_at > newest->run.created_at) {
      newest = ReusableRun{directory + "/" + name, std::move(*run)};
    }
  }
  closedir(dir);
  return newest;
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
  auto planned = plan::PlanRestore(request);
  if (!planned) {
    auto unfinished = UnfinishedRestore(config, options, *state);
    if (!unfinished) return tl::unexpected(planned.error());
    reporter.Note(dataset->name, "resuming the interrupted restore " + unfinished->path);
    outcome.run = std::move(unfinished->run);
    outcome.run_file = unfinished->path;
    Executor executor(config, *state, backends, reporter, 1);
    outcome.tally = executor.Execute(outcome.run, outcome.run_file, &outcome.error);
    return {};
  }
  plan::Plan plan = std::move(*planned);
  for (core::Step& step : plan.steps) {
    if (options.to.empty()) {
      step.params["hold_until"] = util::FormatInstant(core::AddSpan(now, options.hold, 1, zone));
    }
  }
  TM_TRY(CheckArchiveExists(config, plan.steps.front(), dataset->name));
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
  // Held before anything changes: a restore interrupted after the partition reappeared
  // must not have it expired (and its archive rewritten) by an apply meanwhile.
  const core::Step& step = run.steps.front();
  if (!step.Param("hold_until").empty()) {
    auto until = util::ParseInstant(step.Param("hold_until"));
    if (until)
      TM_TRY(state->AddHold(dataset->name, {step.lifecycle, step.storage, step.partition, *until}));
  }
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
