// Delta Lake transaction log actions: parsing the newline-delimited JSON of one commit
// (`_delta_log/%020d.json`), the `_last_checkpoint` hint, and writing the actions
// tidemark commits (metadata-only deletes, restores of remembered files).
//
// Parsing is strict about the fields tidemark uses: a required field that is missing
// or of the wrong type is a kVerify error naming the commit file, the line and the
// field. It is tolerant where the protocol asks readers to be: unknown fields are
// ignored, and so are unknown action kinds (they are listed in
// CommitActions::unknown_kinds). The protocol guarantees that anything a reader must
// understand arrives with a reader or writer table feature, and delta_snapshot.h
// refuses tables with features tidemark does not know; so an unknown action kind is
// never one tidemark needed. `checkpointMetadata` and `sidecar` belong to V2
// checkpoints only and are ignored in commits, as the protocol says.
//
// Limits, so that a hostile file cannot exhaust memory or the stack: a line holds at
// most kMaxLineBytes and nests at most kMaxNesting objects and arrays (checked by a
// scan before the recursive JSON parser sees the line).
//
// Paths in the log are URI-encoded, relative to the table root or absolute URIs.
// DecodeLogPath turns them into store keys relative to the table root.
//
// Thread-safety: pure functions on values.

#ifndef TIDEMARK_BACKEND_LAKE_DELTA_LOG_H_
#define TIDEMARK_BACKEND_LAKE_DELTA_LOG_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tidemark/util/error.h"

namespace tidemark::backend::lake::delta {

inline constexpr size_t kMaxLineBytes = size_t{64} << 20;
inline constexpr int kMaxNesting = 64;

// Partition values by (physical) column name; nullopt for a JSON null.
using PartitionValues = std::map<std::string, std::optional<std::string>>;
using Tags = std::map<std::string, std::optional<std::string>>;

struct Protocol {
  int32_t min_reader_version = 1;
  int32_t min_writer_version = 2;
  // Present from reader version 3 and writer version 7 on.
  std::optional<std::vector<std::string>> reader_features;
  std::optional<std::vector<std::string>> writer_features;
};

struct Metadata {
  std::string id;
  std::string schema_string;  // the table schema as JSON text; empty when absent
  std::vector<std::string> partition_columns;
  std::map<std::string, std::string> configuration;  // table properties
  std::optional<int64_t> created_time;               // ms since the epoch
};

struct DeletionVector {
  std::string storage_type;  // "u", "i" or "p"
  std::string path_or_inline_dv;
  std::optional<int32_t> offset;
  int32_t size_in_bytes = 0;
  int64_t cardinality = 0;
  std::optional<int64_t> max_row_index;
  // The protocol's uniqueId: with the path, it identifies a logical file.
  std::string UniqueId() const;
};

struct AddFile {
  std::string path;  // as in the log: URI-encoded, relative or absolute
  PartitionValues partition_values;
  int64_t size = 0;
  int64_t modification_time = 0;  // ms since the epoch
  bool data_change = true;
  std::optional<std::string> stats;  // raw JSON text, never parsed
  std::optional<Tags> tags;
  std::optional<DeletionVector> deletion_vector;
  std::optional<int64_t> base_row_id;
  std::optional<int64_t> default_row_commit_version;
  std::optional<std::string> clustering_provider;
};

struct RemoveFile {
  std::string path;
  std::optional<int64_t> deletion_timestamp;  // ms since the epoch
  bool data_change = true;
  std::optional<bool> extended_file_metadata;
  std::optional<PartitionValues> partition_values;
  std::optional<int64_t> size;
  std::optional<Tags> tags;
  std::optional<DeletionVector> deletion_vector;
  std::optional<int64_t> base_row_id;
  std::optional<int64_t> default_row_commit_version;
};

struct Transaction {
  std::string app_id;
  int64_t version = 0;
  std::optional<int64_t> last_updated;  // ms since the epoch
};

struct DomainMetadata {
  std::string domain;
  std::string configuration;
  bool removed = false;
};

// The actions of one commit, by kind; the protocol leaves their order within a commit
// without meaning.
struct CommitActions {
  std::optional<Protocol> protocol;
  std::optional<Metadata> metadata;
  std::vector<AddFile> adds;
  std::vector<RemoveFile> removes;
  std::vector<Transaction> txns;
  std::vector<DomainMetadata> domains;
  std::optional<std::string> commit_info;  // the commitInfo object's raw JSON text
  size_t cdc_files = 0;                    // `cdc` actions (change data; not table files)
  std::vector<std::string> unknown_kinds;  // action kinds ignored, each once (32 at most)
};

// Parses one commit. `what` names it in errors ("events/_delta_log/000…03.json").
util::Result<CommitActions> ParseCommit(std::string_view text, std::string_view what);

// The `_last_checkpoint` hint.
struct LastCheckpoint {
  int64_t version = 0;
  std::optional<int64_t> size;   // actions in the checkpoint
  std::optional<int64_t> parts;  // multi-part checkpoints
  bool v2 = false;               // carries a "v2Checkpoint" object
};
util::Result<LastCheckpoint> ParseLastCheckpoint(std::string_view text, std::string_view what);

// The top-level columns of a table schema (metaData.schemaString): each column's name
// and, under column mapping, its physical name (`delta.columnMapping.physicalName`).
struct SchemaColumn {
  std::string name;
  std::optional<std::string> physical_name;
};
util::Result<std::vector<SchemaColumn>> ParseSchemaColumns(std::string_view schema_string,
                                                           std::string_view what);

// Where a path written in the log points: the store key relative to the table root,
// or, for a path outside the root, its canonical URI ("file:/a/b", "s3://bucket/a/b").
struct ResolvedPath {
  std::string key;
  bool outside_root = false;
};
util::Result<ResolvedPath> ResolveLogPath(std::string_view path, std::string_view table_root_url);

// The store key, relative to the table root, of a path written in the log. Relative
// paths are percent-decoded; absolute URIs (file:/…, file:///…, /…, s3://, s3a://,
// s3n://) must lie under `table_root_url` (the table's own URL, such as
// "file:///var/lib/lake/events" or "s3://bucket/lake/events"). Fails for paths outside
// the root, bad escapes, and decoded paths with NUL, "." or ".." segments.
util::Result<std::string> DecodeLogPath(std::string_view path, std::string_view table_root_url);

// The log form of a store key relative to the table root, percent-encoding what a URI
// path may not hold (as Spark writes it: "a b%c" → "a%20b%25c").
std::string EncodeLogPath(std::string_view key);

// --- Writing ---

// The `remove` Spark writes when a DELETE drops whole files: path, deletionTimestamp,
// dataChange true, extendedFileMetadata true, partitionValues, size, and the add's
// tags, deletion vector and row-tracking fields when it had them.
RemoveFile RemoveForDelete(const AddFile& add, int64_t deletion_timestamp_ms);

// The `add` that restores a remembered file: the same path, partition values, size,
// modification time, stats, tags, deletion vector and row-tracking fields, with
// dataChange true.
AddFile AddForRestore(const AddFile& remembered);

struct CommitInfoToWrite {
  int64_t timestamp_ms = 0;
  std::string operation = "DELETE";        // "DELETE" or "WRITE"
  std::vector<std::string> predicates;     // the partition predicate(s), as SQL text
  std::vector<std::string> partition_by;   // logical partition columns (WRITE)
  std::optional<int64_t> read_version;     // the table version the commit was planned on
  std::string engine_info = EngineInfo();  // "tidemark <version>"

  static std::string EngineInfo();
};

struct CommitToWrite {
  CommitInfoToWrite commit_info;
  std::optional<Transaction> txn;  // lets tidemark tell its own commits on a rerun
  std::vector<RemoveFile> removes;
  std::vector<AddFile> adds;
};

// The newline-terminated JSON lines of a commit: commitInfo first (as the protocol
// requires of writers with in-commit timestamps, and as Spark does), then txn, removes,
// adds. Fails on text that is not UTF-8.
util::Result<std::string> SerializeActions(const CommitToWrite& commit);

// One action as its JSON line, without the newline.
std::string SerializeAction(const AddFile& add);
std::string SerializeAction(const RemoveFile& remove);
std::string SerializeAction(const Transaction& txn);

}  // namespace tidemark::backend::lake::delta

#endif  // TIDEMARK_BACKEND_LAKE_DELTA_LOG_H_
