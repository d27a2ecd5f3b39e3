// Hive-style partition directories: key=value path components, one or several levels
// ("dt=2024-01-05", "region=eu/dt=2024-01-05", "year=2024/month=01/day=05").
//
// Reading a partition's time from its path:
//  - one partition_by key: the value is a date (2024-01-05, one day), a timestamp
//    (2024-01-05T10, 2024-01-05 10:00[:00], one hour; Z or an offset allowed, %XX
//    escapes decoded), a month (2024-01), a year (2024), or an integer yyyymm,
//    yyyymmdd or yyyymmddhh;
//  - several partition_by keys: read as year, month, day and hour, in that order.
// The configured interval, when given, sets the width instead of the value's precision.
// Components whose key is not in partition_by group partitions (region=eu) and take no
// part in their time. Directories whose name starts with '_' or '.' are not data.
//
// Thread-safety: pure functions.

#ifndef TIDEMARK_BACKEND_LAKE_HIVE_LAYOUT_H_
#define TIDEMARK_BACKEND_LAKE_HIVE_LAYOUT_H_

#include <optional>
#include <string>
#include <vector>

#include "tidemark/core/partition.h"
#include "tidemark/core/span.h"
#include "tidemark/util/timezone.h"

namespace tidemark::backend::lake {

struct HiveKeys {
  std::vector<std::string> partition_by;
  std::optional<core::Span> interval;  // set when the configuration gives one
};

// The partition directory of a file key relative to the dataset root: its leading
// key=value components. Empty when the file is not in a partition or lies under a
// hidden ('_' or '.') directory.
std::string PartitionDirectoryOf(const std::string& relative_key);

// Reads the time range of a partition directory. On failure, returns why in `problem`.
std::optional<core::TimeRange> ReadPartitionTime(const std::string& directory, const HiveKeys& keys,
                                                 const util::TimeZone& zone, std::string* problem);

}  // namespace tidemark::backend::lake

#endif  // TIDEMARK_BACKEND_LAKE_HIVE_LAYOUT_H_
