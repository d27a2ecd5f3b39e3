// The manifest of an archived partition: what it came from, its bounds, and the size,
// modification time and sha256 of every file. It is written last, so an archive
// directory without one is incomplete; verify compares the files against it.
//
// Thread-safety: plain values.

#ifndef TIDEMARK_ARCHIVE_MANIFEST_H_
#define TIDEMARK_ARCHIVE_MANIFEST_H_

#include <cstdint>
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

  int64_t TotalBytes() const;
};

std::string ManifestToJson(const Manifest& manifest);
util::Result<Manifest> ManifestFromJson(const std::string& text, const std::string& where);

}  // namespace tidemark::archive

#endif  // TIDEMARK_ARCHIVE_MANIFEST_H_
