// The lake backend: Hive-style partitioned datasets in an object store (local
// directories now; S3 through the same store interface).
//
// Layout inside a dataset root, beside the partitions (readers skip '_' directories):
//   _tidemark/recycle/<YYYYMMDDTHHMMSSZ>/<partition>/   the recycle bin, by removal time
//   _tidemark/detached/<YYYYMMDDTHHMMSSZ>/<partition>/  on_expire: detach; never purged
//   _tidemark/staging/<partition>/                      restores in progress
//
// Thread-safety: as Backend.

#ifndef TIDEMARK_BACKEND_LAKE_LAKE_BACKEND_H_
#define TIDEMARK_BACKEND_LAKE_LAKE_BACKEND_H_

#include <memory>
#include <optional>
#include <string>

#include "tidemark/backend/backend.h"

namespace tidemark::backend::lake {

inline constexpr char kRecycleDir[] = "_tidemark/recycle";
inline constexpr char kDetachedDir[] = "_tidemark/detached";
inline constexpr char kStagingDir[] = "_tidemark/staging";

util::Result<std::unique_ptr<Backend>> OpenLakeBackend(const config::Config& config,
                                                       const config::Connection& connection);

// The bin key of a partition removed at `removed_at`: "_tidemark/recycle/20240410T100000Z/dt=…".
std::string BinKey(const std::string& partition, util::Instant removed_at, bool detached);

// The removal time of a bin entry's stamp directory ("20240410T100000Z"); nullopt when
// it is not one of ours.
std::optional<util::Instant> ParseBinStamp(const std::string& stamp);

}  // namespace tidemark::backend::lake

#endif  // TIDEMARK_BACKEND_LAKE_LAKE_BACKEND_H_
