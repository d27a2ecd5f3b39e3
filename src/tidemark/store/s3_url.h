// Where S3 requests go and how their URLs are written: the endpoint (AWS by region, or
// an S3-compatible server), path-style or virtual-hosted addressing, and the
// percent-encoding of keys and query parameters that both S3 and Signature Version 4
// expect. libcurl signs the path and query exactly as written here, so these functions
// produce the canonical forms directly: keys keep only A-Z a-z 0-9 - . _ ~ and '/'
// (every other byte becomes %XX, upper-case hex), query parameters are encoded the same
// way ('/' too) and sorted, and a parameter without a value is written "name=".
//
// Thread-safety: pure functions and values.

#ifndef TIDEMARK_STORE_S3_URL_H_
#define TIDEMARK_STORE_S3_URL_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tidemark/util/error.h"

namespace tidemark::store {

enum class S3Addressing {
  kPath,     // http://endpoint/bucket/key: any server, any bucket name
  kVirtual,  // https://bucket.s3.REGION.amazonaws.com/key: what AWS prefers
};

struct S3Endpoint {
  std::string scheme = "https";  // "https" or "http"
  std::string host;              // with the port when one was given: "127.0.0.1:9000"
  std::string base_path;         // a path the endpoint URL carried ("/s3"), else ""
  S3Addressing addressing = S3Addressing::kVirtual;
  std::string bucket;
};

// The endpoint for `bucket`. `endpoint_url` is an S3-compatible server's URL
// ("http://127.0.0.1:9000", "minio.local:9000" meaning https), or "" for AWS in
// `region`. `addressing` is "path", "virtual" or "" for the default: virtual-hosted on
// AWS when the bucket name allows it (DNS-safe, no dots, which TLS certificates would
// not cover), path-style with a custom endpoint. Errors are kConfig.
util::Result<S3Endpoint> MakeS3Endpoint(std::string_view endpoint_url, std::string_view region,
                                        std::string_view bucket, std::string_view addressing);

// "ts=2024-01-01 10%3A00%3A00/part-0.parquet" ->
// "ts%3D2024-01-01%2010%253A00%253A00/part-0.parquet"
std::string EncodeKeyPath(std::string_view key);

// A query parameter's name or value: as EncodeKeyPath, and '/' becomes %2F.
std::string EncodeQueryComponent(std::string_view text);

using QueryParameters = std::vector<std::pair<std::string, std::string>>;

// The query string as SigV4 signs it: encoded, sorted by name then value, "&"-joined.
std::string CanonicalQuery(QueryParameters parameters);

// The URL of the object `key` ("" for the bucket itself), with `query` (canonical) after
// a '?' when not empty.
std::string S3RequestUrl(const S3Endpoint& endpoint, std::string_view key, std::string_view query);

// The x-amz-copy-source value naming `key` in `bucket`: "/bucket/key", encoded. S3
// decodes it like a form ('+' is a space), so '+', '?', '#', '%' and every byte outside
// ASCII are escaped; the reserved characters that S3 reads literally (= : @ , ; $ &) are
// left as they are, because some S3-compatible servers (s3rver) decode this header
// with JavaScript's decodeURI, which leaves their escapes undecoded.
std::string CopySourceHeader(std::string_view bucket, std::string_view key);

}  // namespace tidemark::store

#endif  // TIDEMARK_STORE_S3_URL_H_
