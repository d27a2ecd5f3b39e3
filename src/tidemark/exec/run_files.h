// Run files on disk: written atomically to runs_dir under the seed-003 name, read back,
// and found again for reuse within the hour.
//
// Thread-safety: functions; writers of one dataset are serialised by its lock.

#ifndef TIDEMARK_EXEC_RUN_FILES_H_
#define TIDEMARK_EXEC_RUN_FILES_H_

#include <optional>
#include <string>

#include "tidemark/core/step.h"
#include "tidemark/util/error.h"

namespace tidemark::exec {

// Writes `run` into `directory` and returns its path. When the name is taken (a forced
// run in the same hour), "-2", "-3", … is added before "_run_file.json".
util::Result<std::string> WriteRunFile(const std::string& directory, const core::RunFile& run);

util::Result<core::RunFile> ReadRunFile(const std::string& path);

struct ReusableRun {
  std::string path;
  core::RunFile run;
};

// The newest run file of `dataset` and `kind` in `directory` written within the hour
// before `wall_now`; when `planned_for` is set, only one planned for that instant.
std::optional<ReusableRun> FindReusableRun(const std::string& directory, const std::string& dataset,
                                           const std::string& kind, util::Instant wall_now,
                                           std::optional<util::Instant> planned_for);

// A new run id: "20261121T100000Z-1a2b3c4d".
std::string NewRunId(util::Instant wall_now);

}  // namespace tidemark::exec

#endif  // TIDEMARK_EXEC_RUN_FILES_H_
