// The HttpClient of the program, over libcurl (the one file that includes curl's
// headers is curl_http.cc). It signs requests with AWS Signature Version 4 through
// libcurl's own signer, verifies TLS peers by default, gives up on a connection that
// cannot be made in `connect_timeout_seconds` or a transfer that stalls for
// `stall_seconds`, and keeps connections open between requests (a small pool of curl
// handles per client).
//
// Signing with libcurl 7.88 (Debian 12): the signer signs every header given, the URL's
// path and its query exactly as written (so the caller encodes both as SigV4 wants:
// s3_url.h), and takes the payload hash from x-amz-content-sha256, which this client
// therefore always sends (the hash of the body, or of the empty string).
//
// Thread-safety: as HttpClient.

#ifndef TIDEMARK_STORE_CURL_HTTP_H_
#define TIDEMARK_STORE_CURL_HTTP_H_

#include <memory>
#include <optional>
#include <string>

#include "tidemark/store/http_client.h"

namespace tidemark::store {

struct AwsSigning {
  std::string region;         // e.g. "eu-west-1"
  std::string access_key;     // AWS access key id
  std::string secret_key;     // never printed
  std::string session_token;  // sent as x-amz-security-token when set
};

struct CurlHttpOptions {
  std::optional<AwsSigning> signing;  // unsigned requests when empty
  std::string ca_file;                // PEM bundle to verify servers with; "" for the system's
  long connect_timeout_seconds = 10;  // to set up TCP and TLS
  long stall_seconds = 30;            // a transfer slower than 1 byte/s this long fails
  size_t max_idle_handles = 16;       // curl handles (and their connections) kept between requests
};

std::unique_ptr<HttpClient> NewCurlHttpClient(CurlHttpOptions options);

}  // namespace tidemark::store

#endif  // TIDEMARK_STORE_CURL_HTTP_H_
