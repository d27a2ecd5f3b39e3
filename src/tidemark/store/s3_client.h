// One S3 request, sent until it succeeds or fails for good: retried with exponential
// backoff and jitter when the server is busy or failing (5xx, 429, and the error codes
// s3_xml.h calls retryable, also in a 200 body) or the transport failed (no connection,
// a broken or stalled transfer); any other 4xx fails at once. Errors name the request,
// the bucket and key, the server's code and message and what to do; never a secret
// (none is in a URL, and headers are never printed). After the last attempt the error
// says how many attempts were made over how long.
//
// Thread-safety: Send may be called from several threads at once.

#ifndef TIDEMARK_STORE_S3_CLIENT_H_
#define TIDEMARK_STORE_S3_CLIENT_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tidemark/store/http_client.h"
#include "tidemark/store/s3_settings.h"
#include "tidemark/store/s3_url.h"
#include "tidemark/util/error.h"

namespace tidemark::store {

// Waits between attempts; tests pass one that only records the delays.
using Sleeper = std::function<void(std::chrono::milliseconds)>;
Sleeper RealSleeper();

struct S3Request {
  std::string method = "GET";
  std::string key;  // the key in the bucket (prefix included); "" for the bucket itself
  QueryParameters query;
  HttpHeaders headers;
  std::string_view body;        // REQUIRES: outlives Send
  // Instead of `body`: `body_size` bytes from `body_source`, with their sha256 (hex) for
  // the signature (HttpRequest has the details).
  std::function<util::Result<size_t>(int64_t offset, char* buffer, size_t size)> body_source;
  int64_t body_size = 0;
  std::string payload_sha256;
  int64_t max_body_bytes = -1;  // as HttpRequest::max_body_bytes
  // Statuses besides 2xx that are answers rather than failures (404 for a HEAD, 412 for
  // a conditional PUT); they are returned, never retried.
  std::vector<int> answers;
  // Checks a 2xx response whose body may still be an error (S3 answers 200 with an
  // <Error> to CompleteMultipartUpload and CopyObject); a retryable error is retried.
  std::function<util::Status(const HttpResponse&)> check;
};

struct S3SendInfo {
  int attempts = 0;
  // An earlier attempt failed in a way that may have applied the request anyway (the
  // connection broke after sending, the server failed after acting).
  bool earlier_attempt_uncertain = false;
};

class S3Client {
 public:
  S3Client(S3Endpoint endpoint, S3RetryPolicy retry, std::string credentials_source,
           std::unique_ptr<HttpClient> http, Sleeper sleep);

  util::Result<HttpResponse> Send(const S3Request& request, S3SendInfo* info = nullptr);

  // The error a response that is not an answer stands for (for callers that listed its
  // status in `answers` and then found it was not the one they meant).
  util::Error ErrorFor(const S3Request& request, const HttpResponse& response) const;

  // "s3://bucket/key", for messages.
  std::string Describe(std::string_view key) const;
  const S3Endpoint& endpoint() const { return endpoint_; }

 private:
  util::Result<HttpResponse> Attempt(const S3Request& request, const std::string& url);
  std::chrono::milliseconds Delay(int failed_attempts) const;

  const S3Endpoint endpoint_;
  const S3RetryPolicy retry_;
  const std::string credentials_source_;
  const std::unique_ptr<HttpClient> http_;
  const Sleeper sleep_;
};

}  // namespace tidemark::store

#endif  // TIDEMARK_STORE_S3_CLIENT_H_
