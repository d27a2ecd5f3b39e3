// Reading a classic (V1) Delta checkpoint: one Parquet file, or one part of a
// multi-part checkpoint, whose rows each hold one action in one of the top-level
// columns add, remove, metaData, protocol, txn (and domainMetadata).
//
// Only the leaf columns tidemark uses are decoded (add: path, partitionValues, size,
// modificationTime, dataChange, stats, tags, deletionVector.*, baseRowId,
// defaultRowCommitVersion; remove: path, deletionTimestamp, dataChange, size,
// deletionVector.*; metaData.*; protocol.*; txn.*), and rows are assembled from their
// definition and repetition levels. Row order carries no meaning. A checkpoint that
// holds V2 checkpoint columns (checkpointMetadata, sidecar) is refused: tidemark does
// not read sidecars. Damage is a kVerify error naming the file.
//
// Thread-safety: a pure function of its input.

#ifndef TIDEMARK_BACKEND_LAKE_DELTA_CHECKPOINT_H_
#define TIDEMARK_BACKEND_LAKE_DELTA_CHECKPOINT_H_

#include <memory>
#include <string>

#include "tidemark/backend/lake/delta_log.h"
#include "tidemark/util/error.h"

namespace tidemark::backend::lake::delta {

// Appends the actions of one checkpoint file (`bytes`, named `what` in errors) to
// `into`: adds and removes (tombstones) to their lists, txns and domains likewise, and
// the protocol and metadata (an error when a second one appears across the parts).
util::Status ReadCheckpointPart(std::shared_ptr<const std::string> bytes, const std::string& what,
                                CommitActions* into);

}  // namespace tidemark::backend::lake::delta

#endif  // TIDEMARK_BACKEND_LAKE_DELTA_CHECKPOINT_H_
