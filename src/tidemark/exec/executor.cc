#include "tidemark/exec/executor.h"

#include <chrono>
#include <set>
#include <thread>

#include "tidemark/util/failpoint.h"

namespace tidemark::exec {

namespace {

constexpr int kAttempts = 3;

std::string Param(const core::Step& step, const char* name) {
  auto it = step.params.find(name);
  return it == step.params.end() ? "" : it->second;
}

// The unit a failure blocks: the partition, or the whole storage for storage-wide steps.
std::string BlockKey(const core::Step& step) {
  return step.lifecycle + "/" + step.storage + "/" + step.partition;
}

bool IsBlocked(const std::set<std::string>& blocked, const core::Step& step) {
  return blocked.count(BlockKey(step)) > 0 || blocked.count(step.lifecycle + "/" + step.storage + "/") > 0;
}

std::optional<core::TimeRange> RangeOf(const core::Step& step) {
  auto start = util::ParseTimestamp(Param(step, "range_start"));
  auto end = util::ParseTimestamp(Param(step, "range_end"));
  if (!start || !end || !start->offset || !end->offset) return std::nullopt;
  return core::TimeRange{util::Instant(start->local.time_since_epoch()) - *start->offset,
                         util::Instant(end->local.time_since_epoch()) - *end->offset};
}

int64_t IntParam(const core::Step& step, const char* name) {
  std::string text = Param(step, name);
  return text.empty() ? 0 : std::stoll(text);
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
  std::string connection = Param(step, "connection");
  if (connection.empty()) return util::ConfigError("step " + step.id + " names no connection");
  return For(connection);
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
  for (const core::Step& step : run.steps) {
    if (done->count(step.id) > 0) {
      ++tally.done_before;
      reporter_.StepSkipped(run, step, "done before");
      continue;
    }
    if (IsBlocked(blocked, step)) {
      ++tally.blocked;
      reporter_.StepSkipped(run, step, "blocked by an earlier failure");
      continue;
    }
    auto status = ExecuteStep(run, step);
    ++tally.executed;
    if (!status) {
      ++tally.failed;
      blocked.insert(BlockKey(step));
      record_error(status.error().WithContext(run.dataset + ": step " + step.id));
    }
  }
  (void)state_.FinishRun(run.run_id, tally.failed + tally.blocked == 0 ? "done" : "failed");
  return tally;
}

util::Status Executor::ExecuteStep(const core::RunFile& run, const core::Step& step) {
  util::Failpoint("step.before");
  TM_TRY(state_.RecordStep(run.run_id, step.id, "started", ""));
  reporter_.StepStarted(run, step);
  auto started = std::chrono::steady_clock::now();
  backend::StepContext context{&reporter_.ProgressFor(run.dataset), run.run_id};
  util::Status status;
  auto found = backends_.ForStep(step);
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    status = found ? (*found)->Execute(step, context) : util::Status(tl::unexpected(found.error()));
    if (status || !status.error().retryable() || attempt == kAttempts) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250 << attempt));
  }
  if (status) status = RecordEffects(run, step);
  util::Failpoint("step.executed");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  reporter_.StepFinished(run, step, status, seconds);
  if (!status) {
    (void)state_.RecordStep(run.run_id, step.id, "failed", status.error().message());
    return status;
  }
  TM_TRY(state_.RecordStep(run.run_id, step.id, "done", ""));
  util::Failpoint("step.after");
  return {};
}

// What the state store must remember once a step succeeded.
util::Status Executor::RecordEffects(const core::RunFile& run, const core::Step& step) {
  if (step.action == core::action::kVerifyArchive) {
    core::ArchivedPartition archived{step.lifecycle, step.storage, step.partition, Param(step, "archive")};
    archived.range = RangeOf(step);
    archived.bytes = IntParam(step, "bytes");
    archived.files = IntParam(step, "files");
    archived.archived_at = util::Now();
    archived.source_entry = Param(step, "bin");
    return state_.RecordArchive(run.dataset, archived);
  }
  const bool restore = step.action == core::action::kRestoreFromBin ||
                       step.action == core::action::kRestoreFromArchive;
  if (restore && !Param(step, "hold_until").empty()) {
    auto until = util::ParseTimestamp(Param(step, "hold_until"));
    if (!until || !until->offset) return util::StepError("step " + step.id + ": unreadable hold_until");
    core::Hold hold{step.lifecycle, step.storage, step.partition,
                    util::Instant(until->local.time_since_epoch()) - *until->offset};
    return state_.AddHold(run.dataset, hold);
  }
  return {};
}

}  // namespace tidemark::exec
