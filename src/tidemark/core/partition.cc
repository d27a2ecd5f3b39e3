#include "tidemark/core/partition.h"

namespace tidemark::core {

const char* PartitionStateName(PartitionState state) {
  switch (state) {
    case PartitionState::kLive: return "live";
    case PartitionState::kAhead: return "ahead";
    case PartitionState::kDefault: return "default";
    case PartitionState::kDetached: return "detached";
    case PartitionState::kArchived: return "archived";
    case PartitionState::kRecycled: return "recycled";
    case PartitionState::kRestored: return "restored";
    case PartitionState::kUnparsed: return "unparsed";
  }
  return "live";
}

}  // namespace tidemark::core
