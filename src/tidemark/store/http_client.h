// One HTTP exchange at a time, behind an interface: the S3 store sends its requests
// through an HttpClient, which is libcurl in the program (curl_http.h) and a scripted
// fake in the tests, so that retries, error messages and request sequences are tested
// without a server.
//
// A client returns every HTTP response, whatever its status; only a failure to get one
// (no connection, a timeout, a dropped connection) is an error, of category kConnect,
// retryable when trying again may help.
//
// Thread-safety: an HttpClient may be used from several threads at once.

#ifndef TIDEMARK_STORE_HTTP_CLIENT_H_
#define TIDEMARK_STORE_HTTP_CLIENT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tidemark/util/error.h"

namespace tidemark::store {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string url;             // complete and already percent-encoded
  HttpHeaders headers;         // sent as given (and signed, when the client signs)

  // The body: `body` from memory, or, when `body_source` is set, `body_size` bytes read
  // from it at increasing offsets (a retry or redirect starts again from 0).
  std::string_view body;
  std::function<util::Result<size_t>(int64_t offset, char* buffer, size_t size)> body_source;
  int64_t body_size = 0;
  // SHA-256 (hex) of the body, for signing. A client that signs computes it for a body
  // in memory when empty. REQUIRES: set when body_source is, unless the client does not
  // sign.
  std::string payload_sha256;

  // When set, a 2xx response's body goes here in pieces instead of into
  // HttpResponse::body; returning an error stops the transfer with that error. Other
  // responses (error documents) still arrive in HttpResponse::body.
  std::function<util::Status(std::string_view piece)> body_sink;
  // When not negative, at most this many bytes of a 2xx body are kept and the transfer
  // stops there (HttpResponse::body_truncated): the start of an object of unknown size.
  int64_t max_body_bytes = -1;
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;  // names in lower case, values trimmed, in arrival order
  std::string body;
  bool body_truncated = false;  // stopped at HttpRequest::max_body_bytes

  // The value of the first header `name` (lower case), or "" when absent.
  std::string Header(std::string_view name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual util::Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

}  // namespace tidemark::store

#endif  // TIDEMARK_STORE_HTTP_CLIENT_H_
