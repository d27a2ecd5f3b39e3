// The manifest of an archived partition: what it came from, its bounds, and the size,
// modification time and sha256 of every file. It is written last, so an archive
// directory without one is incomplete; verify compares the files against it.
//
// A lake partition is archived as its files. A database partition is archived as one
// compressed stream of its rows (table_archive.h); its manifest lists that one file and
// adds a table section describing the stream. Manifests without a table section (every
// lake archive) read and write exactly as before.
//
// Thread-safety: plain values.

#ifndef TIDEMARK_ARCHIVE_MANIFEST_H_
#define TIDEMARK_ARCHIVE_MANIFEST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tidemark/util/error.h"

namespace tidemark::archive {

inline constexpr char kManifestName[] = "manifest.json";
inline constexpr char kManifestFormat[] = "tidemark-archive/1";

struct ManifestFile {
  std::string path;  // relative to the partition directory
  int64_t size = 0;
  int64_t mtime_ns = 0;
  std::string sha256;  // of the bytes read from the source
};

// A column of an archived table, as the database names and types it.
struct TableColumn {
  std::string name;
  std::string type;  // e.g. "timestamp with time zone"
};

// What a table archive's data file holds. Written under the key "table".
struct TableSection {
  std::string format;                // the row text: "postgres-copy-text", "mariadb-load-data-text"
  std::string compression = "zstd";  // of the data file
  std::vector<TableColumn> columns;
  std::string ddl;             // the CREATE TABLE statement of the partition
  std::string source_table;    // e.g. "public.events_p20240105"
  std::string bounds;          // the partition's bound expression, as the database prints it
  int64_t rows = 0;            // rows in the stream (its '\n' count)
  int64_t content_bytes = 0;   // size of the uncompressed stream
  std::string content_sha256;  // of the uncompressed stream
};

struct Manifest {
  std::string format = kManifestFormat;
  std::string tool_version;  // "tidemark 0.1.0"
  std::string dataset;
  std::string lifecycle;
  std::string storage;
  std::string partition;
  std::string source;       // the partition's location when archived
  std::string range_start;  // ISO instants; empty when unknown
  std::string range_end;
  std::string run_id;
  std::string created_at;
  std::vector<ManifestFile> files;
  std::optional<TableSection> table;  // set for table archives only

  int64_t TotalBytes() const;
};

std::string ManifestToJson(const Manifest& manifest);
util::Result<Manifest> ManifestFromJson(const std::string& text, const std::string& where);

}  // namespace tidemark::archive

#endif  // TIDEMARK_ARCHIVE_MANIFEST_H_
