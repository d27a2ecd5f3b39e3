// A small HTTP/1.1 forwarding proxy for fault tests, run in the test process: it listens
// on 127.0.0.1 (an ephemeral port), forwards every request to one upstream server
// (http://127.0.0.1:PORT) and the answer back, and misbehaves on the requests a test
// picks:
//
//   Respond      answer with a status and body of the test's choosing, not forwarding;
//   CutRequest   forward the first K bytes of the request body, then close both
//                connections (a server that died mid-upload);
//   CutResponse  pass the first K bytes of the response body to the client, then close
//                its connection (a server that died mid-listing);
//   Delay        hold the request that long, or until ReleaseDelayed, before
//                forwarding it.
//
// A fault applies to the next `times` requests that match it (method and a substring of
// the request target, either may be empty for any); faults are tried in the order they
// were added. Every request is recorded, so tests can count retries and see what was
// deleted.
//
// It speaks just enough HTTP/1.1 for an S3 client: keep-alive connections (each client
// connection gets its own upstream connection, opened when first needed and closed when
// the client's closes, or closing the client's when the server closes it between
// requests), bodies with Content-Length or chunked, and "Expect: 100-continue", which
// the proxy answers itself and does not forward (libcurl does not sign that header).
//
// Thread-safety: one thread of its own runs the proxy; every public method may be called
// from any thread.

#ifndef TIDEMARK_TESTS_SUPPORT_FAULT_PROXY_H_
#define TIDEMARK_TESTS_SUPPORT_FAULT_PROXY_H_

#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tidemark/util/error.h"

namespace tidemark::testing {

// For `times`: every matching request from now on.
inline constexpr int kEveryRequest = INT_MAX;

struct FaultMatch {
  std::string method;         // "PUT", "GET", …; "" for any
  std::string path_contains;  // searched in the request target (path and query); "" for any
};

// One request the proxy received, in arrival order.
struct ProxiedRequest {
  std::string method;
  std::string target;  // path and query, as sent
  // What the client got: the status line's code, or 0 when its connection was closed
  // before a status arrived.
  int status = 0;
  std::string fault;  // "" when passed through untouched; else "respond", "cut-request",
                      // "cut-response", "delay"
  std::string body;   // the request body of POST and DELETE requests (up to 1 MiB)
};

// An S3 error document, as S3 sends with a 4xx or 5xx.
std::string S3ErrorXml(const std::string& code, const std::string& message);

class FaultProxy {
 public:
  // Starts the proxy forwarding to `upstream` ("http://127.0.0.1:PORT"; an IPv4 address).
  static util::Result<std::unique_ptr<FaultProxy>> Start(const std::string& upstream);
  ~FaultProxy();  // stops the thread and closes every connection
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // "http://127.0.0.1:PORT", for a connection's `endpoint`.
  std::string endpoint() const;

  // Forwards new upstream connections to `upstream` from now on (a server restarted on
  // another port). Fails on a malformed address.
  util::Status SetUpstream(const std::string& upstream);

  void Respond(const FaultMatch& match, int times, int status, const std::string& body);
  void CutRequest(const FaultMatch& match, int times, int64_t after_body_bytes);
  void CutResponse(const FaultMatch& match, int times, int64_t after_body_bytes);
  void Delay(const FaultMatch& match, int times, std::chrono::milliseconds delay);
  // Forwards every request held by Delay now (a test that stopped the server meanwhile
  // need not wait out the delay).
  void ReleaseDelayed();
  void ClearFaults();
  // How many more requests the faults added would still apply to (kEveryRequest ones
  // count once).
  int FaultsLeft() const;

  std::vector<ProxiedRequest> Requests() const;
  // Requests received with this method ("" for any) whose target holds `path_contains`.
  int Count(const std::string& method, const std::string& path_contains = "") const;
  void ClearRequests();
  // Waits until `count` requests matching `match` have been received; false on timeout.
  bool WaitForRequests(const FaultMatch& match, int count, std::chrono::milliseconds timeout);

 private:
  struct Fault;
  struct Connection;
  struct Upstream {
    uint32_t address = 0;  // network byte order
    uint16_t port = 0;     // host byte order
  };
  class Loop;

  FaultProxy() = default;
  static util::Result<Upstream> ParseUpstream(const std::string& url);

  void AddFault(Fault fault);
  // For the loop: the fault for a new request (consumed), and the request's record,
  // by an id that stays valid across ClearRequests.
  std::unique_ptr<Fault> TakeFault(const std::string& method, const std::string& target);
  size_t Record(ProxiedRequest request);
  void SetStatus(size_t id, int status);
  void AppendBody(size_t id, std::string_view piece);
  Upstream CurrentUpstream() const;

  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<Fault> faults_;             // guarded by mutex_
  std::vector<ProxiedRequest> requests_;  // guarded by mutex_; ids from first_id_
  size_t first_id_ = 0;                   // guarded by mutex_
  std::atomic<uint64_t> releases_{0};     // ReleaseDelayed calls so far
  Upstream upstream_;                     // guarded by mutex_
  int port_ = 0;
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
};

}  // namespace tidemark::testing

#endif  // TIDEMARK_TESTS_SUPPORT_FAULT_PROXY_H_
