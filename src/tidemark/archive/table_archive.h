// Table archives: a database partition's rows as one zstd-compressed stream in the
// database's own bulk text format (PostgreSQL COPY text, MariaDB LOAD DATA text), plus
// a manifest with a table section (manifest.h). An archive directory holds exactly two
// objects: the data file, named by the caller (e.g. "data.copy.zst"), and manifest.json,
// which is written last, so a directory without a manifest is an incomplete archive.
//
// Rows are counted as the stream's '\n' bytes: both text formats escape newlines inside
// values, so every raw '\n' ends a row.
//
// Export and restore stream: memory stays bounded (a few MiB) whatever the table's size.
// The writer compresses and hashes on a background thread, so the thread receiving rows
// from the database only copies them into a buffer.
//
// Thread-safety: a writer or reader is used by one thread at a time (it may start its
// own threads inside). The store must allow use from the calling thread and the
// writer's background thread.

#ifndef TIDEMARK_ARCHIVE_TABLE_ARCHIVE_H_
#define TIDEMARK_ARCHIVE_TABLE_ARCHIVE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tidemark/archive/manifest.h"
#include "tidemark/archive/tree_copy.h"
#include "tidemark/util/error.h"
#include "tidemark/util/progress.h"

namespace tidemark::archive {

inline constexpr char kTableFormatPostgresCopyText[] = "postgres-copy-text";
inline constexpr char kTableFormatMariadbLoadDataText[] = "mariadb-load-data-text";

struct TableArchiveOptions {
  int level = 1;  // zstd level; 1 keeps up with a database sending rows
  // zstd worker threads besides the writer's own background thread (see
  // ZstdCompressOptions). 0 compresses on the background thread: on two cores, workers
  // gained nothing measurable against a PostgreSQL export and cost ~9 MiB more.
  int workers = 0;
};

// Writes a table archive. Write accepts the uncompressed stream in pieces of any size
// (one row each is fine: pieces are copied into large buffers), Finish commits it.
// Failpoint: "export.mid_stream", after the first compressed block went to the store.
class TableArchiveWriter {
 public:
  // Opens `archive`/`data_name` for writing. A manifest already at `archive` is deleted
  // first: it must not vouch for the archive while it is rewritten.
  static util::Result<std::unique_ptr<TableArchiveWriter>> Open(
      const TreeLocation& archive, const std::string& data_name,
      const TableArchiveOptions& options = {});

  // Without Finish (or after it failed), discards the data file: nothing appears under
  // its name, and an earlier file of that name is left as it was.
  ~TableArchiveWriter();
  TableArchiveWriter(const TableArchiveWriter&) = delete;
  TableArchiveWriter& operator=(const TableArchiveWriter&) = delete;

  // Appends to the stream. Waits only when the background thread is several buffers
  // behind. An error (of compression or of the store) is returned by a later Write or
  // by Finish. REQUIRES: Finish not called.
  util::Status Write(std::string_view data);

  // Compresses the rest, commits the data file, removes anything else under `archive`
  // (leftovers of earlier attempts), then writes manifest.json: `header` with the data
  // file as its only file and its table section (created when absent) completed with
  // compression, rows, content_bytes and content_sha256. Returns that manifest. Durability
  // is the caller's: ObjectStore::Sync. REQUIRES: called once.
  util::Result<Manifest> Finish(const Manifest& header);

  // Uncompressed bytes accepted so far.
  int64_t bytes_written() const { return bytes_written_; }

 private:
  class Pipeline;
  TableArchiveWriter(TreeLocation archive, std::string data_name,
                     std::unique_ptr<Pipeline> pipeline);
  util::Status HandOff();

  TreeLocation archive_;
  std::string data_name_;
  std::unique_ptr<Pipeline> pipeline_;
  char* buffer_ = nullptr;  // the buffer being filled, owned by the pipeline
  size_t used_ = 0;         // bytes of buffer_ filled
  int64_t bytes_written_ = 0;
  bool finished_ = false;
};

// The manifest of the table archive at `archive`, or nullopt when there is none (the
// archive is missing or incomplete). A manifest that is unreadable, has no table
// section, lists other than one file or names another compression is a kVerify error.
util::Result<std::optional<Manifest>> ReadTableManifest(const TreeLocation& archive);

// Reads a table archive back, pull style (the shape of libpq's COPY FROM STDIN loop),
// checking it against its manifest as it goes: the data file's size and sha256, and at
// the end the stream's size, row count and sha256. A difference is a kVerify error naming
// the archive, expected and found, returned by Next instead of the final empty piece, so
// a restore that feeds COPY from it aborts before it commits.
// Progress: Begin(label, data file size), Advance by compressed bytes read, End.
// Failpoint: "restore.mid_stream", once after the first piece was returned.
class TableArchiveReader {
 public:
  // Reads the manifest (absent: kVerify) and opens the data file, checking that its
  // size matches before anything is returned. `label` begins the progress label.
  static util::Result<std::unique_ptr<TableArchiveReader>> Open(
      const TreeLocation& archive, util::Progress& progress, const std::string& label = "restore");
  ~TableArchiveReader();
  TableArchiveReader(const TableArchiveReader&) = delete;
  TableArchiveReader& operator=(const TableArchiveReader&) = delete;

  const Manifest& manifest() const;

  // The next piece of the uncompressed stream, valid until the next call; empty at the
  // end once every check passed. After an error, the reader must not be used further.
  util::Result<std::string_view> Next();

 private:
  struct State;
  explicit TableArchiveReader(std::unique_ptr<State> state);
  util::Status CheckEnd();
  std::unique_ptr<State> state_;
};

// Reads the whole archive at `archive` through a TableArchiveReader and checks that
// nothing but its data file and manifest.json lies there. Returns the manifest.
util::Result<Manifest> VerifyTableArchive(const TreeLocation& archive, util::Progress& progress);

}  // namespace tidemark::archive

#endif  // TIDEMARK_ARCHIVE_TABLE_ARCHIVE_H_
