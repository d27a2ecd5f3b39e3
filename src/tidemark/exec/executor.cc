#include "tidemark/exec/executor.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "tidemark/util/failpoint.h"

namespace tidemark::exec {

namespace {

constexpr int kAttempts = 3;
constexpr size_t kJournalBatch = 256;

// The unit a failure blocks: the partition, or the whole storage for storage-wide steps.
std::string BlockKey(const core::Step& step) {
  return step.lifecycle + "/" + step.storage + "/" + step.partition;
}

bool IsBlocked(const std::set<std::string>& blocked, const core::Step& step) {
  return blocked.count(BlockKey(step)) > 0 ||
         blocked.count(step.lifecycle + "/" + step.storage + "/") > 0;
}

std::optional<core::TimeRange> RangeOf(const core::Step& step) {
  auto start = util::ParseInstant(step.Param("range_start"));
  auto end = util::ParseInstant(step.Param("range_end"));
  if (!start || !end) return std::nullopt;
  return core::TimeRange{*start, *end};
}

}  // namespace

Reporter& SilentReporter() {
  static Reporter silent;
  return silent;
}

util::Result<backend::Backend*> BackendPool::For(const std::string& connection) {
  auto it = backends_.find(connection);
  if (it != backends_.end()) return it->second.get();
  const config::Connection* found = config_.FindConnection(connection);
  if (found == nullptr) {
    return util::ConfigError("connection \"" + connection + "\" is not in the configuration");
  }
  TM_TRY_ASSIGN(auto opened, backend::OpenBackend(config_, *found));
  backend::Backend* raw = opened.get();
  backends_[connection] = std::move(opened);
  return raw;
}

util::Result<backend::Backend*> BackendPool::ForStep(const core::Step& step) {
  std::string connection = step.Param("connection");
  if (connection.empty()) return util::ConfigError("step " + step.id + " names no connection");
  return For(connection);
}

Executor::Executor(const config::Config& config, state::StateStore& state, BackendPool& backends,
                   Reporter& reporter, int step_jobs)
    : config_(config),
      state_(state),
      backends_(backends),
      reporter_(reporter),
      step_jobs_(step_jobs) {
  if (step_jobs_ <= 0)
    step_jobs_ = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

RunTally Executor::Execute(const core::RunFile& run, const std::string& path,
                           std::optional<util::Error>* first_error) {
  RunTally tally;
  tally.total = static_cast<int>(run.steps.size());
  auto record_error = [&](const util::Error& error) {
    if (!*first_error) *first_error = error;
  };
  auto began = state_.BeginRun({run.run_id, run.dataset, run.kind, path, util::Now(), "running"});
  auto done = began ? state_.DoneSteps(run.run_id) : tl::unexpected(began.error());
  if (!done) {
    record_error(done.error());
    tally.failed = tally.total;
    return tally;
  }
  reporter_.RunStarted(run, path, !done->empty());
  std::set<std::string> blocked;
  for (size_t begin = 0, end = 0; begin < run.steps.size(); begin = end) {
    std::vector<const core::Step*> group;
    for (end = begin; end < run.steps.size() && run.steps[end].seq == run.steps[begin].seq; ++end) {
      const core::Step& step = run.steps[end];
      if (done->count(step.id) > 0) {
        ++tally.done_before;
        reporter_.StepSkipped(run, step, "done before");
      } else if (IsBlocked(blocked, step)) {
        ++tally.blocked;
        reporter_.StepSkipped(run, step, "blocked by an earlier failure");
      } else {
        group.push_back(&step);
      }
    }
    std::vector<double> seconds;
    std::vector<util::Status> results = ExecuteGroup(run, group, seconds);
    if (auto flushed = FlushJournal(); !flushed) record_error(flushed.error());
    for (size_t i = 0; i < group.size(); ++i) {
      ++tally.executed;
      ActionTally& action = tally.actions[group[i]->action];
      ++action.executed;
      action.seconds += seconds[i];
      if (results[i]) continue;
      ++tally.failed;
      ++action.failed;
      blocked.insert(BlockKey(*group[i]));
      record_error(results[i].error().WithContext("step " + group[i]->id));
    }
  }
  (void)state_.FinishRun(run.run_id, tally.failed + tally.blocked == 0 ? "done" : "failed");
  return tally;
}

util::Status Executor::Journal(Record record) {
  std::lock_guard<std::mutex> lock(state_mutex_);
  pending_.push_back(std::move(record));
  if (pending_.size() < kJournalBatch) return {};
  std::vector<Record> batch;
  batch.swap(pending_);
  return state_.InTransaction([&]() -> util::Status {
    for (Record& r : batch) TM_TRY(r(state_));
    return {};
  });
}

util::Status Executor::FlushJournal() {
  std::lock_guard<std::mutex> lock(state_mutex_);
  if (pending_.empty()) return {};
  std::vector<Record> batch;
  batch.swap(pending_);
  return state_.InTransaction([&]() -> util::Status {
    for (Record& r : batch) TM_TRY(r(state_));
    return {};
  });
}

std::vector<util::Status> Executor::ExecuteGroup(const core::RunFile& run,
                                                 const std::vector<const core::Step*>& steps,
                                                 std::vector<double>& seconds) {
  std::vector<util::Status> results(steps.size());
  seconds.assign(steps.size(), 0);
  std::atomic<size_t> next{0};
  auto work = [&](BackendPool& backends, int worker) {
    for (size_t i = next++; i < steps.size(); i = next++) {
      const auto started = std::chrono::steady_clock::now();
      results[i] = ExecuteStep(run, *steps[i], backends, worker);
      seconds[i] =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    }
  };
  const size_t threads = std::min(steps.size(), static_cast<size_t>(step_jobs_));
  std::vector<std::unique_ptr<BackendPool>> pools;
  std::vector<std::thread> workers;
  for (size_t t = 1; t < threads; ++t) {
    pools.push_back(std::make_unique<BackendPool>(config_));
    workers.emplace_back(work, std::ref(*pools.back()), static_cast<int>(t));
  }
  work(backends_, 0);
  for (std::thread& worker : workers) worker.join();
  return results;
}

util::Status Executor::ExecuteStep(const core::RunFile& run, const core::Step& step,
                                   BackendPool& backends, int worker) {
  util::Failpoint("step.before");
  reporter_.StepStarted(run, step);
  auto started = std::chrono::steady_clock::now();
  const std::string progress_key =
      worker == 0 ? run.dataset : run.dataset + "#" + std::to_string(worker);
  backend::StepContext context{&reporter_.ProgressFor(progress_key), run.run_id};
  util::Status status;
  auto found = backends.ForStep(step);
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    status = found ? (*found)->Execute(step, context) : util::Status(tl::unexpected(found.error()));
    if (status || !status.error().retryable() || attempt == kAttempts) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250 << attempt));
  }
  if (status) status = RecordEffects(run, step);
  util::Failpoint("step.executed");
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  reporter_.StepFinished(run, step, status, seconds);
  if (!status) {
    (void)Journal([run_id = run.run_id, id = step.id,
                   message = status.error().message()](state::StateStore& s) {
      return s.RecordStep(run_id, id, "failed", message);
    });
    return status;
  }
  TM_TRY(Journal([run_id = run.run_id, id = step.id](state::StateStore& s) {
    return s.RecordStep(run_id, id, "done", "");
  }));
  util::Failpoint("step.after");
  return {};
}

// What the state store must remember once a step succeeded.
util::Status Executor::RecordEffects(const core::RunFile& run, const core::Step& step) {
  if (step.action == core::action::kVerifyArchive) {
    core::ArchivedPartition archived{step.lifecycle, step.storage, step.partition,
                                     step.Param("archive")};
    archived.range = RangeOf(step);
    archived.bytes = step.IntParam("bytes");
    archived.files = step.IntParam("files");
    archived.archived_at = util::Now();
    archived.source_entry = step.Param("bin");
    return Journal([dataset = run.dataset, archived](state::StateStore& s) {
      return s.RecordArchive(dataset, archived);
    });
  }
  const bool restore = step.action == core::action::kRestoreFromBin ||
                       step.action == core::action::kRestoreFromArchive;
  if (restore && !step.Param("hold_until").empty()) {
    auto until = util::ParseInstant(step.Param("hold_until"));
    if (!until) return util::StepError("step " + step.id + ": unreadable hold_until");
    core::Hold hold{step.lifecycle, step.storage, step.partition, *until};
    return Journal(
        [dataset = run.dataset, hold](state::StateStore& s) { return s.AddHold(dataset, hold); });
  }
  return {};
}

}  // namespace tidemark::exec
