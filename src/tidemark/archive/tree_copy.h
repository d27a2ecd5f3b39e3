// Copying a partition's files between stores with checksums: into an archive (writing
// the manifest last), checking an archive against its manifest and its source, and
// copying an archive back. Memory is bounded by one buffer whatever the sizes.
//
// Every function is idempotent: after a crash it is called again and finishes the
// work, skipping files that are already complete.
//
// Thread-safety: functions; the stores must allow use from the calling thread.

#ifndef TIDEMARK_ARCHIVE_TREE_COPY_H_
#define TIDEMARK_ARCHIVE_TREE_COPY_H_

#include <string>
#include <vector>

#include "tidemark/archive/manifest.h"
#include "tidemark/store/object_store.h"
#include "tidemark/util/error.h"
#include "tidemark/util/progress.h"

namespace tidemark::archive {

struct TreeLocation {
  store::ObjectStore* store = nullptr;
  std::string prefix;  // the partition directory's key in that store
  // When set, the files are exactly these keys (relative to `prefix`) rather than
  // everything under it: a Delta partition's files, named by its log.
  const std::vector<std::string>* only = nullptr;
};

// Copies every file under `source` to `target` with its mtime, computing sha256 of
// the bytes read, then writes `target`/manifest.json from `header` plus the files.
// Returns the manifest. An existing manifest that lists the same files and sizes
// means the work is done. Failpoint: "copy.mid_file" after a file's first block.
util::Result<Manifest> CopyToArchive(const TreeLocation& source, const TreeLocation& target,
                                     const Manifest& header, util::Progress& progress);

// Reads the manifest at `archive` and checks every file's size and sha256, that no
// other files are there, and, when `source` is given, that the source holds exactly
// the manifest's files with the same sizes and mtimes. Mismatches are kVerify errors.
util::Result<Manifest> VerifyArchive(const TreeLocation& archive, const TreeLocation* source,
                                     util::Progress& progress);

// The whole of the small object `name` under `at` (a manifest) as text.
util::Result<std::string> ReadText(const TreeLocation& at, const std::string& name);

// Reads the manifest at `archive` and nothing else; a kVerify error when absent.
util::Result<Manifest> ReadManifest(const TreeLocation& archive);

// Copies the files of the archive's manifest to `target`, checking each sha256 as it
// is read; files already there with the right size, mtime and sha256 are kept.
// Failpoint: "restore.mid_file".
util::Status CopyFromArchive(const TreeLocation& archive, const TreeLocation& target,
                             util::Progress& progress);

// Checks that `target` holds exactly the manifest's files with matching sha256.
util::Status VerifyAgainstManifest(const Manifest& manifest, const TreeLocation& target,
                                   util::Progress& progress);

// Moves every file under `from` to `to` in the same store. Where the store can rename,
// one rename. Elsewhere (S3): marks `to` as a move in progress, copies each file within
// the store, checks every copy (size, and the entity tags or else the sha256 of both),
// deletes the originals, then the mark. Called again after a crash, it finishes the
// move. REQUIRES: nothing under `to` but an earlier, interrupted move's files.
// Failpoints: "move.copied" (copies checked, originals kept) and "move.deleted"
// (originals gone, mark kept).
util::Status MoveTree(store::ObjectStore& store, const std::string& from, const std::string& to,
                      util::Progress& progress);

// Whether `to` is the target of a move that has not finished.
util::Result<bool> MoveUnfinished(store::ObjectStore& store, const std::string& to);

}  // namespace tidemark::archive

#endif  // TIDEMARK_ARCHIVE_TREE_COPY_H_
