// Everything an S3 store needs to know, and how it is found for an s3:// URL: from the
// connection of the configuration whose root holds the URL (the longest such root),
// the URL's own query (?region=, ?endpoint=), the environment and the AWS shared files
// (s3_credentials.h).
//
// Thread-safety: values and pure functions (that read the environment and files).

#ifndef TIDEMARK_STORE_S3_SETTINGS_H_
#define TIDEMARK_STORE_S3_SETTINGS_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "tidemark/config/config.h"
#include "tidemark/config/expand.h"
#include "tidemark/store/s3_credentials.h"
#include "tidemark/util/error.h"

namespace tidemark::store {

struct S3RetryPolicy {
  int attempts = 6;                           // tries of one request, the first included
  std::chrono::milliseconds base_delay{200};  // before the second try; doubles each time
  std::chrono::milliseconds max_delay{5000};  // cap of one wait (before jitter)
};

struct S3Settings {
  std::string bucket;
  std::string prefix;    // the store's root in the bucket: "" or "a/b" (no '/' at the ends)
  std::string endpoint;  // an S3-compatible server's URL; "" for AWS
  std::string region = "us-east-1";
  std::string addressing;  // "path", "virtual", or "" for the default (s3_url.h)
  std::string ca_file;     // PEM file of CAs; "" for the system's
  std::string connection;  // the connection's name, for messages; "" when none held the URL
  S3Credentials credentials;
  S3RetryPolicy retry;
  // Writers hold an object of up to `multipart_threshold` bytes in memory and PUT it
  // whole; a larger one is a multipart upload of `part_size` parts. A single PUT is the
  // cheaper request for S3 and for every S3-compatible server; parts are for objects a
  // PUT would take too long to redo or too much memory to hold. S3 refuses parts under
  // 5 MiB except the last; smaller sizes are for tests.
  int64_t multipart_threshold = int64_t{100} << 20;
  int64_t part_size = 16 << 20;
  // Parts of one upload sent at once, each over a connection of its own: one connection
  // to S3 rarely carries more than some tens of MiB/s. Memory: this many parts.
  int parts_in_flight = 4;
  int64_t read_chunk_size = 8 << 20;  // bytes per ranged GET when reading an object
  int list_page_size = 1000;          // max-keys of each ListObjectsV2 request (S3's maximum)
  long connect_timeout_seconds = 10;
  long stall_seconds = 30;  // a transfer without progress this long fails (and is retried)
};

// The settings for `url` ("s3://bucket/prefix", optionally "?region=…&endpoint=…").
// `config` may be null: then only the URL, the environment and the shared files count.
// TIDEMARK_S3_RETRY_BASE_MS, when set, replaces the retry policy's base delay (tests
// make it small). Errors are kConfig.
util::Result<S3Settings> ResolveS3Settings(const std::string& url, const config::Config* config,
                                           const config::EnvironmentLookup& environment);

// The connection of `config` whose root holds `url` (the longest root), or nullptr.
const config::Connection* FindS3Connection(const config::Config& config, const std::string& url);

}  // namespace tidemark::store

#endif  // TIDEMARK_STORE_S3_SETTINGS_H_
