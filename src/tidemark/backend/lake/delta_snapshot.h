// The state of a Delta Lake table at one version, rebuilt from its transaction log:
// protocol, metadata, the live data files, application transactions, tombstones; and
// the table's partitions as tidemark names them.
//
// Finding the log. `_delta_log/` is listed once. Commits are `%020d.json`; checkpoints
// are classic (`%020d.checkpoint.parquet`) or multi-part
// (`%020d.checkpoint.%010d.%010d.parquet`, used only when every part is there). Other
// files (`.crc`, log compactions, temporary files) are ignored. UUID-named V2
// checkpoints are refused. `_last_checkpoint` is only a hint: the newest complete
// checkpoint found by listing is used, and a hint that is unreadable or points at a
// missing or incomplete checkpoint becomes a note. A checkpoint that cannot be read
// (damaged Parquet) becomes a note too, and the replay falls back to the next older
// checkpoint, or to the JSON commits from version 0, when the commits it needs are
// all there; otherwise reading fails. The commits after the checkpoint must be
// contiguous: a gap is an error naming the missing version. Without a checkpoint,
// the replay starts at version 0, which must be present.
//
// Replay follows the protocol's action reconciliation: the newest protocol and
// metadata win, the newest txn per appId wins, and a logical file is the pair (path,
// deletion vector): a `remove` drops a live file only when its deletion vector matches.
// Paths are compared decoded (so "a%20b", "file:/root/a b" and "/root/a b" are one file).
//
// Reading. tidemark lists files and partitions; it never reads rows. Reader versions
// 1 to 3:
//
//   reader feature                 reads?  why
//   columnMapping (or reader v2)   yes     partition values are found by physical name
//   deletionVectors                yes     files are listed whole; a note counts them
//   timestampNtz                   yes     partition values are kept as text
//   typeWidening(-preview)         yes     values change type, files stay
//   vacuumProtocolCheck            yes     tidemark checks the write protocol first
//   variantType(-preview),         yes     row contents only
//     variantShredding-preview
//   v2Checkpoint                   no      sidecars and UUID-named checkpoints are not read
//   catalogManaged,                no      the catalog, not the log, holds the newest commits
//     catalogOwned-preview
//   any other; reader version > 3  no      unknown to tidemark
//
// Writing. tidemark commits only `remove` actions of whole files (a metadata-only
// delete of partitions, as Spark writes it) and `add` actions putting back files it
// removed (restore). CanWrite decides per writer feature; writer versions 2 to 6
// imply their legacy features (2: appendOnly, invariants; 3: checkConstraints;
// 4: changeDataFeed, generatedColumns; 5: columnMapping; 6: identityColumns):
//
//   writer feature          remove  restore  why
//   appendOnly              no*     no*      *when delta.appendOnly=true: data may not go
//   invariants              yes     no*      *when a column has delta.invariants: files
//                                            removed earlier may break a newer rule
//   checkConstraints        yes     no*      *when a delta.constraints.* is set: likewise
//   generatedColumns,       yes     yes      no new row is written
//     allowColumnDefaults,
//     identityColumns
//   changeDataFeed          yes     yes      commits without cdc files are read as
//                                            whole-file deletes and inserts, which they are
//   columnMapping           yes     yes      partition values keep their physical names
//   deletionVectors         yes     yes      a remove carries its add's DV, a restore too
//   rowTracking,            yes     yes      baseRowId and defaultRowCommitVersion are
//     domainMetadata                         copied from the add (as Delta's RESTORE
//                                            does); no domain is touched
//   icebergCompatV1/V2      yes     no*      *when enabled: adds need numRecords stats
//   inCommitTimestamp       no*     no*      *when enabled: tidemark writes no
//                                            in-commit timestamp
//   clustering, timestampNtz, typeWidening(-preview), variantType(-preview),
//     variantShredding-preview, vacuumProtocolCheck,
//     checkpointProtection  yes     yes      nothing they govern changes
//   v2Checkpoint, catalogManaged, catalogOwned-preview, any other feature,
//     writer version > 7    no      no
//
// Thread-safety: ReadSnapshot uses the store from several threads (which the store
// allows); a Snapshot is a value.

#ifndef TIDEMARK_BACKEND_LAKE_DELTA_SNAPSHOT_H_
#define TIDEMARK_BACKEND_LAKE_DELTA_SNAPSHOT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tidemark/backend/lake/delta_log.h"
#include "tidemark/store/object_store.h"
#include "tidemark/util/error.h"

namespace tidemark::backend::lake::delta {

struct SnapshotOptions {
  // Replay every JSON commit from version 0 and ignore checkpoints and
  // `_last_checkpoint` (checks a checkpoint against the commits it summarises).
  bool json_only = false;
  // Read the table as of this version instead of the newest.
  std::optional<int64_t> max_version;
};

struct LiveFile {
  // The store key relative to the table root; for a file outside the root (allowed by
  // the protocol, never written by Spark itself), its canonical URI.
  std::string key;
  bool outside_root = false;
  AddFile add;  // the newest add of the file, as in the log
};

struct Tombstone {
  std::string key;
  RemoveFile remove;
};

struct PartitionColumn {
  std::string logical;   // the name in the schema and in metaData.partitionColumns
  std::string physical;  // the key of partitionValues (differs under column mapping)
};

struct Snapshot {
  std::string table;     // the table's prefix in the store, for messages
  std::string root_url;  // the table root's URL
  int64_t version = -1;
  Protocol protocol;
  Metadata metadata;
  std::string column_mapping_mode = "none";  // "none", "name" or "id", as honoured
  std::vector<PartitionColumn> partition_columns;
  std::vector<LiveFile> files;                    // sorted by key
  std::map<std::string, Transaction> txns;        // newest per appId
  std::map<std::string, DomainMetadata> domains;  // live (not removed) domains
  std::vector<Tombstone> tombstones;              // removed files not added again, by key
  std::optional<int64_t> checkpoint_version;      // the checkpoint the replay started from
  std::optional<std::string> commit_info;         // raw commitInfo of the snapshot's commit
  size_t files_with_deletion_vectors = 0;
  std::vector<std::string> unknown_action_kinds;  // seen in the replayed commits
  std::vector<std::string> notes;                 // what was odd but did not stop the reading
};

// Rebuilds the table under `table_prefix` (a key prefix in `store`, such as
// "lake/events"). Fails when the log is missing, damaged or incomplete, and when the
// protocol asks for something tidemark cannot read (kConfig, naming the table and the
// version or feature).
util::Result<Snapshot> ReadSnapshot(store::ObjectStore& store, const std::string& table_prefix,
                                    const SnapshotOptions& options = {});

enum class WriteKind {
  kRemove,            // commit `remove` actions of whole files
  kRestore,           // commit `add` actions of files removed before
  kRemoveAndRestore,  // both: what tidemark needs to hide a partition it may put back
};

// Whether tidemark may commit to the table; the error says why not.
util::Status CanWrite(const Snapshot& snapshot, WriteKind kind = WriteKind::kRemoveAndRestore);

struct Partition {
  // "event_date=2024-01-02", or "a=1/b=x" for several columns, in partitionColumns
  // order, escaped like Hive and Spark; "" for an unpartitioned table.
  std::string name;
  std::vector<std::pair<std::string, std::optional<std::string>>> values;  // logical → value
  std::vector<std::string> files;                                          // store keys, sorted
  int64_t total_bytes = 0;
  int64_t newest_modification_time = 0;  // ms since the epoch
};

// The live files grouped by their partition values (absent, null and empty values are
// null), sorted by name. Fails when a live file lies outside the table root.
util::Result<std::vector<Partition>> Partitions(const Snapshot& snapshot);

// "col=value/…" with Hive's escaping (%XX for control characters and "#%'*/:=?\{[]^),
// and __HIVE_DEFAULT_PARTITION__ for null.
std::string PartitionName(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& values);
std::string EscapePartitionPathPart(std::string_view text);

}  // namespace tidemark::backend::lake::delta

#endif  // TIDEMARK_BACKEND_LAKE_DELTA_SNAPSHOT_H_
