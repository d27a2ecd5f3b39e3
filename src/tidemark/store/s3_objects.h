// The Reader and Writer of the S3 store (s3_store.h), over an S3Client.
//
// A reader fetches the object in chunks of `chunk_size` bytes, each request retried on
// its own: first a plain GET that keeps the first chunk and stops (so the size and ETag
// are known, and an empty object needs no range), then ranged GETs carrying If-Match
// with the first response's ETag, so that an object replaced meanwhile fails the read
// instead of mixing two versions (on servers that honour If-Match on GET; s3rver does
// not). A first GET of an object larger than a chunk ends its connection early; that
// costs a new connection per large object read.
//
// A writer holds up to `multipart_threshold` bytes in memory. Committed with no more,
// the object is one PUT carrying its mtime as user metadata
// (x-amz-meta-tidemark-mtime-ns). A larger object becomes a multipart upload of
// `part_size` parts, begun when the threshold is passed and a part is full. Its parts go
// as they fill, up to `parts_in_flight` at once, each on a thread of its own (one at a
// time: on the writing thread), and Commit completes the upload once all have arrived.
// A failure, or destroying the writer uncommitted, waits for the parts under way and
// aborts the upload. A multipart upload is begun before the mtime is known, so such
// objects do not carry it (nothing in tidemark reads it back: List and Stat report the
// server's LastModified).
//
// Thread-safety: one reader or writer is used by one thread; the client it uses may be
// shared.

#ifndef TIDEMARK_STORE_S3_OBJECTS_H_
#define TIDEMARK_STORE_S3_OBJECTS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "tidemark/store/object_store.h"
#include "tidemark/store/s3_client.h"

namespace tidemark::store {

inline constexpr char kMtimeMetadataHeader[] = "x-amz-meta-tidemark-mtime-ns";

// Opens `key` (its full key in the bucket) and fetches its first chunk: a missing
// object fails here. REQUIRES: `client` outlives the reader.
util::Result<std::unique_ptr<Reader>> OpenS3Reader(S3Client& client, std::string key,
                                                   int64_t chunk_size);

struct S3WriterOptions {
  int64_t multipart_threshold = 0;  // see S3Settings
  int64_t part_size = 1;
  int parts_in_flight = 1;
};

// REQUIRES: `client` outlives the writer.
std::unique_ptr<Writer> NewS3Writer(S3Client& client, std::string key,
                                    const S3WriterOptions& options);

}  // namespace tidemark::store

#endif  // TIDEMARK_STORE_S3_OBJECTS_H_
