// An ObjectStore in an S3 bucket (AWS, or an S3-compatible server), rooted at a prefix:
// "s3://bucket/prefix". Requests are signed with SigV4 and retried as s3_client.h says;
// objects are read in ranged GETs and written in one PUT or a multipart upload
// (s3_objects.h).
//
// Where it differs from a local store:
// - ObjectInfo::mtime_ns of List and Stat is the server's LastModified (the time of the
//   upload, whole seconds), not the mtime given to Writer::Commit: a listing cannot
//   return user metadata, and List and Stat must agree. Commit still stores its mtime
//   as x-amz-meta-tidemark-mtime-ns (objects written in one PUT; CopyWithin keeps it).
// - Keys ending in '/' (the "directory" markers some tools create) are not listed.
// - CanRename is false (S3 has no rename); Rename fails. PruneEmpty and Sync have
//   nothing to do: there are no directories, and a completed write is durable.
// - PutIfAbsent is a PUT with If-None-Match: *. Some servers accept that header and
//   overwrite anyway (s3rver 3.7.1 does), which would silently break Delta commits, so
//   before its first conditional write a store checks once that the server refuses a
//   second conditional PUT of a probe object; a server that does not fails PutIfAbsent
//   with a kConfig error saying so.
// - A Reader does not see an object replaced meanwhile mixed with the old one: it
//   fails (where the server honours If-Match).
//
// Thread-safety: as ObjectStore; connections are pooled for all threads.

#ifndef TIDEMARK_STORE_S3_STORE_H_
#define TIDEMARK_STORE_S3_STORE_H_

#include <memory>

#include "tidemark/store/http_client.h"
#include "tidemark/store/object_store.h"
#include "tidemark/store/s3_client.h"
#include "tidemark/store/s3_settings.h"

namespace tidemark::store {

// The store with libcurl for HTTP. Fails (kConfig) on a bad endpoint or addressing.
util::Result<std::unique_ptr<ObjectStore>> OpenS3Store(const S3Settings& settings);

// The store over `http`, waiting between retries with `sleep`: for tests.
util::Result<std::unique_ptr<ObjectStore>> NewS3Store(const S3Settings& settings,
                                                      std::unique_ptr<HttpClient> http,
                                                      Sleeper sleep);

}  // namespace tidemark::store

#endif  // TIDEMARK_STORE_S3_STORE_H_
