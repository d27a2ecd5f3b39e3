// Observing datasets. Database connections are read in one catalog query for all the
// datasets of a run, and the state store's holds and archive records in one read each
// (a Snapshot, taken before any dataset lock), so that thousands of tables with nothing
// to do cost a few queries, not thousands. The connections are read at once, one
// thread each, while the state store is read. A dataset whose snapshot shows work is
// observed again under its lock before it is planned for real, so the plan never rests
// on a stale view.
//
// Thread-safety: a Snapshot is immutable once taken and may be read from any thread.

#ifndef TIDEMARK_EXEC_OBSERVE_H_
#define TIDEMARK_EXEC_OBSERVE_H_

#include <map>
#include <string>
#include <vector>

#include "tidemark/config/config.h"
#include "tidemark/core/partition.h"
#include "tidemark/exec/executor.h"
#include "tidemark/state/state_store.h"
#include "tidemark/util/timezone.h"

namespace tidemark::exec {

class Snapshot {
 public:
  // The observation of one storage, or null when the snapshot does not have it.
  const util::Result<core::ObservedStorage>* Find(const std::string& dataset,
                                                  const std::string& lifecycle,
                                                  const std::string& storage) const;
  void Add(const std::string& dataset, const std::string& lifecycle, const std::string& storage,
           util::Result<core::ObservedStorage> observed);
  size_t size() const { return entries_.size(); }

  // Whether the snapshot holds the state store's records (it does unless that read
  // failed, or no store was given).
  bool has_state() const { return has_state_; }
  // A dataset's holds and archive records; empty when it has none.
  const std::vector<core::Hold>& Holds(const std::string& dataset) const;
  const std::vector<core::ArchivedPartition>& Archives(const std::string& dataset) const;
  void SetState(std::map<std::string, std::vector<core::Hold>> holds,
                std::map<std::string, std::vector<core::ArchivedPartition>> archives);

 private:
  std::map<std::string, util::Result<core::ObservedStorage>> entries_;
  bool has_state_ = false;
  std::map<std::string, std::vector<core::Hold>> holds_;
  std::map<std::string, std::vector<core::ArchivedPartition>> archives_;
};

// Reads, for every connection whose backend observes in batches (databases), all the
// storages of `datasets` on it at once, and with `state` the records of every dataset.
Snapshot TakeSnapshot(const config::Config& config,
                      const std::vector<const config::Dataset*>& datasets,
                      const util::TimeZone& zone, state::StateStore* state);

// Observes every storage of a dataset (from `snapshot` where it has the storage), and
// adds its holds and archive records (from `snapshot` when it has them, else from
// `state`, which may then not be null).
util::Result<core::ObservedDataset> ObserveDataset(const config::Config& config,
                                                   const config::Dataset& dataset,
                                                   BackendPool& backends, state::StateStore* state,
                                                   const util::TimeZone& zone,
                                                   const Snapshot* snapshot = nullptr);

}  // namespace tidemark::exec

#endif  // TIDEMARK_EXEC_OBSERVE_H_
