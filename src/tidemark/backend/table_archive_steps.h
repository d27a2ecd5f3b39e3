// What the database backends share around table archives (archive/table_archive.h):
// opening the archive a step names, the manifest header of a step, progress in steps
// of a few MiB, and the checks before a bin table is dropped.
//
// Thread-safety: plain functions; a ProgressBatch belongs to one thread.

#ifndef TIDEMARK_BACKEND_TABLE_ARCHIVE_STEPS_H_
#define TIDEMARK_BACKEND_TABLE_ARCHIVE_STEPS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "tidemark/archive/manifest.h"
#include "tidemark/archive/tree_copy.h"
#include "tidemark/config/config.h"
#include "tidemark/core/step.h"
#include "tidemark/store/object_store.h"
#include "tidemark/util/error.h"
#include "tidemark/util/progress.h"

namespace tidemark::backend {

// Reports progress in steps of a few MiB rather than for every row.
class ProgressBatch {
 public:
  explicit ProgressBatch(util::Progress& progress) : progress_(progress) {}
  ~ProgressBatch() { Flush(); }
  ProgressBatch(const ProgressBatch&) = delete;
  ProgressBatch& operator=(const ProgressBatch&) = delete;
  void Add(size_t bytes) {
    pending_ += static_cast<int64_t>(bytes);
    if (pending_ >= (4 << 20)) Flush();
  }
  void Flush() {
    if (pending_ > 0) progress_.Advance(pending_);
    pending_ = 0;
  }

 private:
  util::Progress& progress_;
  int64_t pending_ = 0;
};

// The archive a step names (its "archive" parameter), opened with the credentials
// `config` gives for it.
struct ArchiveAt {
  std::unique_ptr<store::ObjectStore> store;
  archive::TreeLocation location;
};
util::Result<ArchiveAt> OpenStepArchive(const core::Step& step, const config::Config* config);

// check_archive: the archive prefix of the step can be written.
util::Status CheckArchiveWritable(const core::Step& step, const config::Config& config);

// The manifest header of a table archive written by `step` of run `run_id`: tool,
// dataset, lifecycle, storage, partition, source, range and creation time.
archive::Manifest TableArchiveHeader(const core::Step& step, const std::string& run_id);

// Before the last database copy of an archived table (`bin`) is dropped: its archive's
// manifest is there and readable, and every file it lists is there at its size. Returns
// the manifest; the caller compares its row count with the table's and syncs the store.
// Failures are kVerify errors beginning "refusing to drop BIN".
util::Result<archive::Manifest> ArchiveBeforeDrop(const ArchiveAt& at, const core::Step& step,
                                                  const std::string& bin);

}  // namespace tidemark::backend

#endif  // TIDEMARK_BACKEND_TABLE_ARCHIVE_STEPS_H_
