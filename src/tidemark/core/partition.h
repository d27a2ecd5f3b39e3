// Partitions as observed in a storage, and what else the planner needs to know about a
// dataset: the recycle bin, and partitions held after a restore.
//
// Thread-safety: plain values.

#ifndef TIDEMARK_CORE_PARTITION_H_
#define TIDEMARK_CORE_PARTITION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tidemark/util/time.h"

namespace tidemark::core {

enum class PartitionState {
  kLive,      // holds data readers see
  kAhead,     // created ahead of data
  kDefault,   // a catch-all partition (databases)
  kDetached,  // hidden from readers, kept
  kArchived,  // in the archive only
  kRecycled,  // in the recycle bin
  kRestored,  // put back by a restore and held
  kUnparsed,  // its value could not be read; left alone
};

const char* PartitionStateName(PartitionState state);

// [start, end): the instants a partition covers.
struct TimeRange {
  util::Instant start{};
  util::Instant end{};
  bool operator==(const TimeRange&) const = default;
};

// [start, end): the ids an integer-range partition covers.
struct IdRange {
  int64_t start = 0;
  int64_t end = 0;
  bool operator==(const IdRange&) const = default;
};

struct Partition {
  std::string name;                // "dt=2024-01-05", "year=2024/month=01/day=05", "p20240105"
  std::optional<TimeRange> range;  // unset when the value could not be read as a time
  std::optional<IdRange> ids;      // integer ranges (strategy id)
  int64_t bytes = 0;               // size of its data
  int64_t files = 0;               // number of data files (lakes)
  int64_t rows = -1;               // estimated rows; -1 when unknown
  util::Instant newest_change{};   // newest modification seen (mtime)
  PartitionState state = PartitionState::kLive;
  std::string problem;  // why the value could not be read
};

// A partition in the recycle bin (or kept detached).
struct BinEntry {
  std::string partition;       // the partition's name where it lived
  std::string entry;           // the bin's own path or name for it
  util::Instant removed_at{};  // when it was put in the bin
  std::optional<TimeRange> range;
  std::optional<IdRange> ids;
  int64_t bytes = 0;
  int64_t files = 0;
  int64_t rows = -1;      // databases: estimated rows; -1 when unknown
  bool detached = false;  // kept by on_expire: detach; never purged
};

// A partition put back by a restore, which retention leaves alone until `until`.
struct Hold {
  std::string lifecycle;
  std::string storage;
  std::string partition;
  util::Instant until{};
};

// A partition whose verified archive is recorded in the state store.
struct ArchivedPartition {
  std::string lifecycle;
  std::string storage;
  std::string partition;
  std::string location;  // the archive's URL
  std::optional<TimeRange> range;
  int64_t bytes = 0;
  int64_t files = 0;
  util::Instant archived_at{};
  std::string source_entry;  // the bin entry it was copied from and verified against
};

struct ObservedStorage {
  std::string lifecycle;
  std::string storage;
  std::string location;  // "file:///var/lib/lake/events", "public.events"
  bool exists = true;    // false when the location is absent (nothing to do)
  std::vector<Partition> partitions;
  std::vector<BinEntry> bin;
  std::vector<std::string> notes;  // what the observer wants the user to know
  std::optional<int64_t> max_id;   // the highest id stored (strategy id)
  // Delta tables: removed files stay readable (time travel) this long, so they are
  // deleted no earlier, whatever recycle_days says (delta.deletedFileRetentionDuration).
  int64_t keep_removed_seconds = 0;
  std::string layout;  // lakes: "hive" or "delta"
};

struct ObservedDataset {
  std::string dataset;
  std::vector<ObservedStorage> storages;
  std::vector<Hold> holds;
  std::vector<ArchivedPartition> archived;
};

}  // namespace tidemark::core

#endif  // TIDEMARK_CORE_PARTITION_H_
