// Steps and run files: the plan for one dataset, ordered, reviewable, and the payload
// of a run. Steps carry structured fields (`params`) that the backend executes; the
// rendered `command` is for people and is never executed.
//
// Run files are JSON, versioned by their "format" field (tidemark-run/1), and never
// hold a secret.
//
// Thread-safety: plain values.

#ifndef TIDEMARK_CORE_STEP_H_
#define TIDEMARK_CORE_STEP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tidemark/util/error.h"
#include "tidemark/util/time.h"

namespace tidemark::core {

// Step actions. The names are what run files hold.
namespace action {
inline constexpr const char kCreatePartition[] = "create_partition";  // ahead of data (databases)
inline constexpr const char kCheckArchive[] = "check_archive";       // preflight: archive writable
inline constexpr const char kHidePartition[] = "hide_partition";     // out of readers' sight
inline constexpr const char kFinalizeDetach[] = "finalize_detach";   // finish a half-done detach
inline constexpr const char kCopyToArchive[] = "copy_to_archive";    // copy + manifest
inline constexpr const char kVerifyArchive[] = "verify_archive";     // re-read, compare sha256
inline constexpr const char kPurgeRecycled[] = "purge_recycled";     // delete from the bin
inline constexpr const char kRestoreFromBin[] = "restore_from_bin";  // bin -> place
inline constexpr const char kRestoreFromArchive[] = "restore_from_archive";  // archive -> place

// Sequential ids: rename, resize and add the empty partitions ahead in one statement.
inline constexpr const char kReorganizeAhead[] = "reorganize_ahead";
}  // namespace action

struct Step {
  int seq = 0;     // steps run in seq order; equal seqs in any order
  std::string id;  // unique in the run: "raw/landing/dt=2024-01-05/hide_partition"
  std::string lifecycle;
  std::string storage;
  std::string system;                         // "lake", "postgres", …
  std::string action;                         // one of core::action
  std::string partition;                      // empty for storage-wide steps
  std::map<std::string, std::string> params;  // what the backend needs, no secrets
  std::string command;                        // rendered for review
  std::string about;                          // why this step exists

  // A param's value, or "" when absent.
  const std::string& Param(const std::string& name) const;
  // A param read as an integer; 0 when absent or not a number.
  int64_t IntParam(const std::string& name) const;
};

inline constexpr const char kRunFormat[] = "tidemark-run/1";

struct RunFile {
  std::string format = kRunFormat;
  std::string run_id;             // unique; names the run in the journal
  std::string kind = "archival";  // "archival" or "restore"
  std::string dataset;
  std::string system;          // of the dataset's storages ("lake"; "mixed" if several)
  util::Instant created_at{};  // wall-clock time of writing
  util::Instant now{};         // the planning time (--now)
  std::string config_sha256;
  std::vector<std::string> notes;  // what the planner wants the reader to know
  std::vector<Step> steps;
};

std::string RunFileToJson(const RunFile& run);
// The same text in pieces (a few per step), for writing large run files without holding
// them in memory twice.
void RunFileToJson(const RunFile& run, const std::function<void(std::string_view)>& sink);
// Parses a run file; a config error (exit 2) when it is not one we can read.
util::Result<RunFile> RunFileFromJson(const std::string& text, const std::string& name);

// "{system}_{kind}_{dataset}_{YYYYMMDDHH}_run_file.json" (seed 003), hour in UTC.
std::string RunFileName(const RunFile& run);

}  // namespace tidemark::core

#endif  // TIDEMARK_CORE_STEP_H_
