// The state store: the journal of runs and steps, per-dataset locks, restore holds and
// the record of verified archives. SQLite by default ("sqlite:PATH"), or a PostgreSQL
// database shared by many workers ("postgres://…", postgres_state_store.h).
//
// The schema is versioned; opening a store applies the migrations it lacks, and
// refuses a store written by a newer tidemark.
//
// Thread-safety: a StateStore is used by one thread at a time; open one per worker
// (the database serialises writers across connections and processes).

#ifndef TIDEMARK_STATE_STATE_STORE_H_
#define TIDEMARK_STATE_STATE_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tidemark/core/partition.h"
#include "tidemark/util/error.h"
#include "tidemark/util/time.h"

namespace tidemark::state {

struct RunRecord {
  std::string run_id;
  std::string dataset;
  std::string kind;      // "archival", "restore"
  std::string run_file;  // path of the run file
  util::Instant started_at{};
  std::string status;  // "running", "done", "failed"
};

struct StepRecord {
  std::string run_id;
  std::string step_id;
  std::string status;   // "done" or "failed" (a step being run has no record yet)
  std::string message;  // the error of a failed step
  util::Instant at{};
  int64_t attempts = 0;  // how many times it finished, failing or not
};

// Who holds a dataset's lock: enough to tell whether that process is still alive.
struct LockHolder {
  std::string run_id;
  std::string host;
  int64_t pid = 0;
  int64_t pid_start = 0;  // the process's start time, so a reused pid is not mistaken
  util::Instant acquired_at{};
};

class StateStore {
 public:
  virtual ~StateStore() = default;

  // The schema version this store is at.
  virtual int SchemaVersion() = 0;

  // Runs `work` (calls on this store) in one transaction: all of it or none.
  virtual util::Status InTransaction(const std::function<util::Status()>& work) = 0;

  // Records a run, or marks an existing one running again (a resumed run).
  virtual util::Status BeginRun(const RunRecord& run) = 0;
  virtual util::Status FinishRun(const std::string& run_id, const std::string& status) = 0;
  virtual util::Result<std::vector<RunRecord>> Runs(const std::string& dataset, int limit) = 0;

  virtual util::Status RecordStep(const std::string& run_id, const std::string& step_id,
                                  const std::string& status, const std::string& message) = 0;
  virtual util::Result<std::vector<StepRecord>> Steps(const std::string& run_id) = 0;
  // Ids of the steps of a run that finished successfully.
  virtual util::Result<std::set<std::string>> DoneSteps(const std::string& run_id) = 0;

  // Takes the dataset's lock for `holder`. If another live process holds it, fails at
  // once with a kConflict error naming the holder; a dead holder's lock is taken over.
  virtual util::Status AcquireLock(const std::string& dataset, const LockHolder& holder) = 0;
  virtual util::Status ReleaseLock(const std::string& dataset, const std::string& run_id) = 0;

  virtual util::Status AddHold(const std::string& dataset, const core::Hold& hold) = 0;
  virtual util::Result<std::vector<core::Hold>> Holds(const std::string& dataset) = 0;

  virtual util::Status RecordArchive(const std::string& dataset,
                                     const core::ArchivedPartition& archived) = 0;
  virtual util::Result<std::vector<core::ArchivedPartition>> Archives(
      const std::string& dataset) = 0;

  // The holds and archive records of every dataset, by dataset, in the order Holds and
  // Archives give them: one read for a run over thousands of datasets, not one each.
  virtual util::Result<std::map<std::string, std::vector<core::Hold>>> AllHolds() = 0;
  virtual util::Result<std::map<std::string, std::vector<core::ArchivedPartition>>>
  AllArchives() = 0;
};

// Opens the store named by the config's `state` URL; relative paths resolve against
// `base_dir`. Creates the file and its directory when absent.
util::Result<std::unique_ptr<StateStore>> OpenStateStore(const std::string& url,
                                                         const std::string& base_dir);

// This process as a lock holder.
LockHolder ThisProcess(const std::string& run_id);

// Whether the process a holder names is still running on this host.
bool HolderAlive(const LockHolder& holder);

}  // namespace tidemark::state

#endif  // TIDEMARK_STATE_STATE_STORE_H_
