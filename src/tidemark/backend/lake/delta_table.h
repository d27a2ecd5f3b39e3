// A Delta table as the lake backend changes it: partitions are removed from the table
// by one commit of `remove` actions and restored by one commit of `add` actions; the
// files themselves stay where they are until they are purged.
//
// The recycle bin of a Delta table is a record per removal, written before the commit:
//   _tidemark/recycle/<YYYYMMDDTHHMMSSZ>/<partition>/removed.json
// holding the `add` actions of the removed files (so a restore commits exactly what
// was there) and the transaction id of the removing commit. The files stay at their
// paths in the table (Delta readers may still time-travel to them), are archived from
// there with the record, and are deleted by the purge once both recycle_days and the
// table's delta.deletedFileRetentionDuration have passed.
//
// Every commit is written only if its version is still free (store PutIfAbsent:
// link() locally, If-None-Match on S3) and carries a `txn` action whose appId names
// the run and the step, so a step run again after a crash knows whether its commit
// happened. A commit that lost the race to another writer is planned again on the
// newer version.
//
// Thread-safety: functions; the store must allow use from the calling thread.

#ifndef TIDEMARK_BACKEND_LAKE_DELTA_TABLE_H_
#define TIDEMARK_BACKEND_LAKE_DELTA_TABLE_H_

#include <string>

#include "tidemark/archive/manifest.h"
#include "tidemark/backend/lake/hive_layout.h"
#include "tidemark/core/partition.h"
#include "tidemark/core/step.h"
#include "tidemark/store/object_store.h"
#include "tidemark/util/progress.h"
#include "tidemark/util/timezone.h"

namespace tidemark::backend::lake {

inline constexpr char kDeltaRecordName[] = "removed.json";

// Fills `observed` (lifecycle, storage and location set) from the table at the root
// of `store`: partitions, bin entries, the retention of removed files.
util::Status ObserveDeltaTable(store::ObjectStore& store, const HiveKeys& keys,
                               const util::TimeZone& zone, core::ObservedStorage& observed);

// Steps on a Delta table. `table` is the store at the step's location, `archive` that
// of its archive; `run_id` names the run in the commits' transaction ids.
util::Status HideDeltaPartition(store::ObjectStore& table, const core::Step& step,
                                const std::string& run_id);
util::Status CopyDeltaToArchive(store::ObjectStore& table, store::ObjectStore& archive,
                                const core::Step& step, const archive::Manifest& header,
                                util::Progress& progress);
util::Status VerifyDeltaArchive(store::ObjectStore& table, store::ObjectStore& archive,
                                const core::Step& step, util::Progress& progress);
// REQUIRES: the archive, when the step names one, was checked by the caller.
util::Status PurgeDeltaFiles(store::ObjectStore& table, const core::Step& step);
util::Status RestoreDeltaFromBin(store::ObjectStore& table, const core::Step& step,
                                 const std::string& run_id);
util::Status RestoreDeltaFromArchive(store::ObjectStore& table, store::ObjectStore& archive,
                                     const core::Step& step, const std::string& run_id,
                                     util::Progress& progress);

// Whether the step's postcondition holds (as Backend::Holds).
util::Status DeltaStepHolds(store::ObjectStore& table, const core::Step& step);

}  // namespace tidemark::backend::lake

#endif  // TIDEMARK_BACKEND_LAKE_DELTA_TABLE_H_
