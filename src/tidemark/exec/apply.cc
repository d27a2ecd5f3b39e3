#include "tidemark/exec/apply.h"

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "tidemark/exec/observe.h"
#include "tidemark/exec/run_files.h"
#include "tidemark/util/strings.h"

namespace tidemark::exec {

namespace {

std::string SystemOfDataset(const config::Config& config, const config::Dataset& dataset) {
  std::set<std::string> systems;
  for (const config::Lifecycle& lifecycle : dataset.lifecycles) {
    for (const config::Storage& storage : lifecycle.storages) {
      const config::Connection* connection = config.FindConnection(storage.connection);
      if (connection != nullptr) systems.insert(backend::SystemOf(connection->url));
    }
  }
  return systems.size() == 1 ? *systems.begin() : "mixed";
}

// The work of one worker thread: its own state store connection and backends.
class Worker {
 public:
  Worker(const config::Config& config, const ApplyOptions& options, Reporter& reporter,
         const util::TimeZone& zone, const Snapshot& snapshot)
      : config_(config),
        options_(options),
        reporter_(reporter),
        zone_(zone),
        snapshot_(snapshot),
        backends_(config) {}

  void ApplyDataset(const config::Dataset& dataset, DatasetOutcome& outcome);
  void ApplyRunFiles(const std::string& dataset, const std::vector<std::string>& paths,
                     DatasetOutcome& outcome);

 private:
  util::Status Open() {
    if (state_) return {};
    TM_TRY_ASSIGN(state_, state::OpenStateStore(config_.state, config_.base_dir));
    return {};
  }
  // Whether the snapshot shows the dataset has nothing to do and no run file to resume.
  // Then nothing changes, so no lock is taken: a read needs none, and thousands of idle
  // datasets cost no write to the state store.
  util::Result<bool> NothingToDo(const config::Dataset& dataset, DatasetOutcome& outcome);
  util::Status PlanAndExecute(const config::Dataset& dataset, DatasetOutcome& outcome);
  void Execute(const core::RunFile& run, const std::string& path, DatasetOutcome& outcome);

  const config::Config& config_;
  const ApplyOptions& options_;
  Reporter& reporter_;
  const util::TimeZone& zone_;
  const Snapshot& snapshot_;
  BackendPool backends_;
  std::unique_ptr<state::StateStore> state_;
};

// Holds a dataset's lock for a scope.
class DatasetLock {
 public:
  DatasetLock(state::StateStore& state, std::string dataset)
      : state_(state),
        dataset_(std::move(dataset)),
        holder_(state::ThisProcess(NewRunId(util::Now()))) {}
  ~DatasetLock() {
    if (held_) (void)state_.ReleaseLock(dataset_, holder_.run_id);
  }
  util::Status Acquire() {
    TM_TRY(state_.AcquireLock(dataset_, holder_));
    held_ = true;
    return {};
  }

 private:
  state::StateStore& state_;
  std::string dataset_;
  state::LockHolder holder_;
  bool held_ = false;
};

void Worker::ApplyDataset(const config::Dataset& dataset, DatasetOutcome& outcome) {
  outcome.dataset = dataset.name;
  auto idle = NothingToDo(dataset, outcome);
  if (!idle || *idle) {
    if (!idle) outcome.error = idle.error();
    return;
  }
  auto opened = Open();
  if (!opened) {
    outcome.error = opened.error();
    return;
  }
  DatasetLock lock(*state_, dataset.name);
  auto locked = lock.Acquire();
  if (!locked) {
    outcome.error = locked.error();
    return;
  }
  auto status = PlanAndExecute(dataset, outcome);
  if (!status && !outcome.error) outcome.error = status.error();
}

util::Result<bool> Worker::NothingToDo(const config::Dataset& dataset, DatasetOutcome& outcome) {
  for (const config::Lifecycle& lifecycle : dataset.lifecycles) {
    for (const config::Storage& storage : lifecycle.storages) {
      if (snapshot_.Find(dataset.name, lifecycle.name, storage.name) == nullptr) return false;
    }
  }
  if (!options_.force_run && !options_.plan_only) {
    auto planned_for =
        options_.now_given ? std::optional<util::Instant>(options_.now) : std::nullopt;
    if (FindReusableRun(RunsDirectory(config_), dataset.name, "archival", util::Now(),
                        planned_for)) {
      return false;
    }
  }
  if (!snapshot_.has_state()) TM_TRY(Open());
  TM_TRY_ASSIGN(auto observed,
                ObserveDataset(config_, dataset, backends_, state_.get(), zone_, &snapshot_));
  plan::PlanRequest request{&config_, &dataset, &observed, options_.now, &zone_};
  plan::Plan plan = plan::PlanDataset(request);
  if (!plan.steps.empty() || !plan.failures.empty()) return false;
  outcome.ahead_until = plan.ahead_until;
  outcome.observed = std::move(observed);
  for (const std::string& note : plan.notes) reporter_.Note(dataset.name, note);
  outcome.notes = plan.notes;
  return true;
}

util::Status Worker::PlanAndExecute(const config::Dataset& dataset, DatasetOutcome& outcome) {
  const std::string runs = RunsDirectory(config_);
  if (!options_.force_run && !options_.plan_only) {
    auto planned_for =
        options_.now_given ? std::optional<util::Instant>(options_.now) : std::nullopt;
    if (auto reusable = FindReusableRun(runs, dataset.name, "archival", util::Now(), planned_for)) {
      outcome.reused = true;
      outcome.run_file = reusable->path;
      outcome.run = std::move(reusable->run);
      reporter_.Note(dataset.name, "reusing " + reusable->path +
                                       " written within the hour (--force-run plans anew)");
      Execute(outcome.run, outcome.run_file, outcome);
      return {};
    }
  }
  // NothingToDo planned from the snapshot, read before this dataset's lock was taken;
  // the plan that is written rests on a fresh view.
  TM_TRY_ASSIGN(auto observed, ObserveDataset(config_, dataset, backends_, state_.get(), zone_));
  plan::PlanRequest request{&config_, &dataset, &observed, options_.now, &zone_};
  plan::Plan plan = plan::PlanDataset(request);
  for (const std::string& note : plan.notes) reporter_.Note(dataset.name, note);
  outcome.notes = plan.notes;
  outcome.ahead_until = plan.ahead_until;
  outcome.observed = observed;
  // What could not be planned fails the dataset, after what could be planned has run.
  std::optional<util::Error> failure;
  if (!plan.failures.empty()) {
    failure = util::Error(util::ErrorCategory::kStep, util::Join(plan.failures, "; "), false);
  }
  if (plan.steps.empty()) {
    if (failure) return tl::unexpected(*failure);
    return {};
  }
  TM_TRY(RenderSteps(backends_, plan.steps));
  core::RunFile& run = outcome.run;
  run.created_at = util::Now();
  run.run_id = NewRunId(run.created_at);
  run.dataset = dataset.name;
  run.system = SystemOfDataset(config_, dataset);
  run.now = options_.now;
  run.config_sha256 = config_.sha256;
  run.notes = std::move(plan.notes);
  run.steps = std::move(plan.steps);
  TM_TRY_ASSIGN(outcome.run_file, WriteRunFile(runs, run));
  if (!options_.plan_only) Execute(run, outcome.run_file, outcome);
  if (failure && !outcome.error) outcome.error = *failure;
  return {};
}

void Worker::Execute(const core::RunFile& run, const std::string& path, DatasetOutcome& outcome) {
  Executor executor(config_, *state_, backends_, reporter_, options_.step_jobs);
  outcome.tally = executor.Execute(run, path, &outcome.error);
  if (!options_.observe_after || outcome.tally.executed == 0) return;
  const config::Dataset* dataset = config_.FindDataset(run.dataset);
  if (dataset == nullptr) return;
  auto observed = ObserveDataset(config_, *dataset, backends_, state_.get(), zone_);
  if (!observed) return;  // the run's own outcome says what went wrong
  plan::PlanRequest request{&config_, dataset, &*observed, options_.now, &zone_};
  outcome.ahead_until = plan::PlanDataset(request).ahead_until;
  outcome.observed = std::move(*observed);
}

void Worker::ApplyRunFiles(const std::string& dataset, const std::vector<std::string>& paths,
                           DatasetOutcome& outcome) {
  outcome.dataset = dataset;
  auto opened = Open();
  if (!opened) {
    outcome.error = opened.error();
    return;
  }
  DatasetLock lock(*state_, dataset);
  auto locked = lock.Acquire();
  if (!locked) {
    outcome.error = locked.error();
    return;
  }
  for (const std::string& path : paths) {
    auto run = ReadRunFile(path);
    if (!run) {
      outcome.error = run.error();
      return;
    }
    outcome.run_file = path;
    Execute(*run, path, outcome);
    if (outcome.error) return;
  }
}

// Runs `count` tasks on `jobs` threads; each thread makes one context with
// `make_context()` and passes it to every task it runs.
template <typename MakeContext, typename Task>
void RunParallel(size_t count, int jobs, MakeContext make_context, Task task) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    size_t i = next++;
    if (i >= count) return;
    auto context = make_context();
    for (; i < count; i = next++) task(*context, i);
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < std::max(1, jobs) && static_cast<size_t>(j) < count; ++j)
    threads.emplace_back(work);
  work();
  for (std::thread& thread : threads) thread.join();
}

}  // namespace

std::string RunsDirectory(const config::Config& config) {
  return config.ResolvePath(config.runs_dir);
}

util::Status RenderSteps(BackendPool& backends, std::vector<core::Step>& steps) {
  for (core::Step& step : steps) {
    TM_TRY_ASSIGN(backend::Backend * backend, backends.ForStep(step));
    step.command = backend->Render(step);
  }
  return {};
}

std::vector<DatasetOutcome> ApplyDatasets(const config::Config& config, const ApplyOptions& options,
                                          Reporter& reporter) {
  std::vector<DatasetOutcome> outcomes;
  auto zone = util::TimeZone::Load(config.timezone);
  // Opening the store once here creates and migrates it before the workers open theirs.
  auto state =
      zone ? state::OpenStateStore(config.state, config.base_dir) : tl::unexpected(zone.error());
  if (!state) {
    DatasetOutcome failed;
    failed.error = state.error();
    outcomes.push_back(std::move(failed));
    return outcomes;
  }
  // Group given run files by dataset; otherwise one task per dataset.
  std::vector<std::pair<std::string, std::vector<std::string>>> run_groups;
  for (const std::string& path : options.run_files) {
    auto run = ReadRunFile(path);
    std::string dataset = run ? run->dataset : path;
    auto it = std::find_if(run_groups.begin(), run_groups.end(),
                           [&](auto& g) { return g.first == dataset; });
    if (it == run_groups.end())
      run_groups.push_back({dataset, {path}});
    else
      it->second.push_back(path);
  }
  std::vector<const config::Dataset*> datasets;
  if (options.run_files.empty()) {
    for (const config::Dataset& dataset : config.datasets) {
      bool wanted = options.datasets.empty() ||
                    std::find(options.datasets.begin(), options.datasets.end(), dataset.name) !=
                        options.datasets.end();
      if (wanted) datasets.push_back(&dataset);
    }
  }
  size_t count = options.run_files.empty() ? datasets.size() : run_groups.size();
  outcomes.resize(count);
  // Databases are read once for all datasets (when planning); see observe.h.
  const Snapshot snapshot =
      options.run_files.empty() ? TakeSnapshot(config, datasets, *zone, state->get()) : Snapshot();
  auto make_worker = [&] {
    return std::make_unique<Worker>(config, options, reporter, *zone, snapshot);
  };
  RunParallel(count, options.jobs, make_worker, [&](Worker& worker, size_t i) {
    if (options.run_files.empty())
      worker.ApplyDataset(*datasets[i], outcomes[i]);
    else
      worker.ApplyRunFiles(run_groups[i].first, run_groups[i].second, outcomes[i]);
  });
  return outcomes;
}

int ExitCodeFor(const std::vector<DatasetOutcome>& outcomes) {
  int code = 0;
  for (const DatasetOutcome& outcome : outcomes) {
    if (!outcome.error) continue;
    int this_code = util::ExitCodeFor(outcome.error->category());
    if (code == 0 || code == 4) code = this_code;
  }
  return code;
}

}  // namespace tidemark::exec
