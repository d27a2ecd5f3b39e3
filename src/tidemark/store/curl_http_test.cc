// The libcurl client against a tiny HTTP server on 127.0.0.1 run by the test: requests
// and responses both ways, connections kept, dead and stalled servers failing in time,
// and SigV4 signatures checked by an independent implementation of the algorithm
// (itself checked against AWS's published example), since the test S3 server (s3rver)
// does not verify signatures.

#include "tidemark/store/curl_http.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tidemark/store/s3_url.h"
#include "tidemark/util/sha256.h"
#include "tidemark/util/strings.h"

namespace tidemark::store {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Captured {
  std::string method;
  std::string target;                          // path and query as sent
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string raw;  // every byte received
};

// Serves one connection at a time; `respond` gives the raw response to each request,
// or "" to never answer.
class TestServer {
 public:
  using Respond = std::function<std::string(const Captured&)>;

  explicit TestServer(Respond respond) : respond_(std::move(respond)) {
    listen_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listen_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(listen(listen_, 8), 0);
    socklen_t length = sizeof address;
    getsockname(listen_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }

  ~TestServer() {
    stop_ = true;
    shutdown(listen_, SHUT_RDWR);
    close(listen_);
    thread_.join();
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int connections() const { return connections_; }
  std::vector<Captured> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  void Loop() {
    while (!stop_) {
      int fd = accept(listen_, nullptr, nullptr);
      if (fd < 0) return;
      ++connections_;
      Serve(fd);
      close(fd);
    }
  }

  // Bytes from `fd` appended to `buffer`; false when the peer closed or we stop.
  bool Receive(int fd, std::string& buffer) {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      char chunk[65536];
      ssize_t n = recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<size_t>(n));
      return true;
    }
    return false;
  }

  void Serve(int fd) {
    std::string buffer;
    while (true) {
      size_t end;
      while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
        if (!Receive(fd, buffer)) return;
      }
      Captured request = ParseHead(buffer.substr(0, end));
      size_t length = std::stoul(
          request.headers.count("content-length") ? request.headers["content-length"] : "0");
      if (request.headers["expect"] == "100-continue") {
        send(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25, MSG_NOSIGNAL);
      }
      while (buffer.size() < end + 4 + length) {
        if (!Receive(fd, buffer)) return;
      }
      request.body = buffer.substr(end + 4, length);
      request.raw = buffer.substr(0, end + 4 + length);
      buffer.erase(0, end + 4 + length);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(request);
      }
      std::string response = respond_(request);
      if (response.empty()) {  // stay silent until the client gives up
        while (Receive(fd, buffer)) {
        }
        return;
      }
      send(fd, response.data(), response.size(), MSG_NOSIGNAL);
    }
  }

  static Captured ParseHead(const std::string& head) {
    Captured request;
    std::vector<std::string> lines = util::Split(head, '\n');
    std::vector<std::string> first = util::Split(lines[0], ' ');
    request.method = first[0];
    request.target = first[1];
    for (size_t i = 1; i < lines.size(); ++i) {
      std::string line = lines[i];
      if (!line.empty() && line.back() == '\r') line.pop_back();
      size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      size_t value = line.find_first_not_of(' ', colon + 1);
      request.headers[name] = value == std::string::npos ? "" : line.substr(value);
    }
    return request;
  }

  Respond respond_;
  int listen_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::vector<Captured> requests_;
  std::thread thread_;
};

std::string Ok(const std::string& body, const std::string& extra_headers = "") {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         extra_headers + "\r\n" + body;
}

// --- SigV4, written independently of the code under test -------------------------------

std::string Bytes(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

std::string HmacSha256(std::string key, const std::string& message) {
  if (key.size() > 64) key = Bytes(util::Sha256Hex(key));
  key.resize(64, '\0');
  std::string inner = key, outer = key;
  for (char& c : inner) c ^= 0x36;
  for (char& c : outer) c ^= 0x5c;
  return Bytes(util::Sha256Hex(outer + Bytes(util::Sha256Hex(inner + message))));
}

std::string Hex(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string UriEncode(const std::string& text, bool keep_slash) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || std::strchr("-._~", c) != nullptr || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    }
  }
  return out;
}

std::string Field(const std::string& authorization, const std::string& name) {
  size_t at = authorization.find(name + "=");
  if (at == std::string::npos) return "";
  at += name.size() + 1;
  return authorization.substr(at, authorization.find_first_of(", ", at) - at);
}

// The signature the request should carry, computed from what the server received: the
// path and query decoded and canonicalized again, so a URL that was not canonical as
// sent gives a different signature.
std::string ExpectedSignature(const Captured& request, const std::string& secret) {
  const std::string authorization = request.headers.at("authorization");
  const std::vector<std::string> scope = util::Split(Field(authorization, "Credential"), '/');
  const std::string target = request.target;
  const size_t question = target.find('?');
  std::vector<std::string> query;
  if (question != std::string::npos) {
    for (const std::string& p : util::Split(target.substr(question + 1), '&')) {
      size_t eq = p.find('=');
      query.push_back(
          UriEncode(util::PercentDecode(p.substr(0, eq)), false) + "=" +
          (eq == std::string::npos ? "" : UriEncode(util::PercentDecode(p.substr(eq + 1)), false)));
    }
  }
  std::sort(query.begin(), query.end());
  std::string canonical = request.method + "\n" +
                          UriEncode(util::PercentDecode(target.substr(0, question)), true) + "\n" +
                          util::Join(query, "&") + "\n";
  const std::string signed_headers = Field(authorization, "SignedHeaders");
  for (const std::string& name : util::Split(signed_headers, ';')) {
    canonical += name + ":" + request.headers.at(name) + "\n";
  }
  canonical += "\n" + signed_headers + "\n" + request.headers.at("x-amz-content-sha256");
  const std::string to_sign = "AWS4-HMAC-SHA256\n" + request.headers.at("x-amz-date") + "\n" +
                              scope[1] + "/" + scope[2] + "/" + scope[3] + "/" + scope[4] + "\n" +
                              util::Sha256Hex(canonical);
  std::string key = HmacSha256("AWS4" + secret, scope[1]);
  key = HmacSha256(key, scope[2]);
  key = HmacSha256(key, scope[3]);
  key = HmacSha256(key, scope[4]);
  return Hex(HmacSha256(key, to_sign));
}

TEST(SigV4Check, ReproducesAwsPublishedExample) {
  Captured request;
  request.method = "GET";
  request.target = "/test.txt";
  request.headers = {
      {"authorization",
       "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
       "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=x"},
      {"host", "examplebucket.s3.amazonaws.com"},
      {"range", "bytes=0-9"},
      {"x-amz-content-sha256", util::Sha256Hex("")},
      {"x-amz-date", "20130524T000000Z"}};
  EXPECT_EQ(ExpectedSignature(request, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

CurlHttpOptions Signed() {
  CurlHttpOptions options;
  options.signing = AwsSigning{"eu-west-1", "AKIATEST", "VerySecret/Key+123", "TokenTOKEN"};
  return options;
}

TEST(CurlHttp, SignsWhatItSendsWithThePayloadHashAndSessionToken) {
  TestServer server([](const Captured&) { return Ok("done"); });
  auto client = NewCurlHttpClient(Signed());
  const std::string key = "ts=2024-01-01 10%3A00%3A00/part-0 é+.parquet";
  HttpRequest request;
  request.method = "PUT";
  request.url = server.Url("/lake/" + EncodeKeyPath(key)) + "?" +
                CanonicalQuery({{"uploadId", "a/b+c=="}, {"partNumber", "2"}});
  request.headers = {{"x-amz-meta-tidemark-mtime-ns", "42"}, {"If-None-Match", "*"}};
  request.body = "part body";
  auto response = client->Send(request);
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "done");
  ASSERT_EQ(server.requests().size(), 1u);
  const Captured got = server.requests()[0];
  EXPECT_EQ(got.body, "part body");
  EXPECT_EQ(got.headers.at("x-amz-content-sha256"), util::Sha256Hex("part body"));
  EXPECT_EQ(got.headers.at("x-amz-security-token"), "TokenTOKEN");
  const std::string authorization = got.headers.at("authorization");
  EXPECT_THAT(authorization, HasSubstr("AWS4-HMAC-SHA256 Credential=AKIATEST/"));
  EXPECT_THAT(authorization, HasSubstr("/eu-west-1/s3/aws4_request"));
  EXPECT_THAT(Field(authorization, "SignedHeaders"),
              HasSubstr("host;if-none-match;x-amz-content-sha256;x-amz-date;"
                        "x-amz-meta-tidemark-mtime-ns;x-amz-security-token"));
  EXPECT_EQ(Field(authorization, "Signature"), ExpectedSignature(got, "VerySecret/Key+123"));
  EXPECT_THAT(got.raw, Not(HasSubstr("VerySecret")));
}

TEST(CurlHttp, BodilessRequestsSignTheEmptyHash) {
  TestServer server([](const Captured&) { return Ok(""); });
  auto client = NewCurlHttpClient(Signed());
  for (const char* method : {"GET", "HEAD", "DELETE"}) {
    HttpRequest request;
    request.method = method;
    request.url = server.Url("/lake?list-type=2&prefix=a%20b%2F");
    ASSERT_TRUE(client->Send(request)) << method;
  }
  for (const Captured& got : server.requests()) {
    EXPECT_EQ(got.headers.at("x-amz-content-sha256"), util::Sha256Hex("")) << got.method;
    EXPECT_EQ(Field(got.headers.at("authorization"), "Signature"),
              ExpectedSignature(got, "VerySecret/Key+123"))
        << got.method;
  }
  EXPECT_EQ(server.connections(), 1);  // one connection for all three
}

TEST(CurlHttp, StreamsBodiesBothWaysAndKeepsErrorBodies) {
  std::string large(300000, 'x');
  for (size_t i = 0; i < large.size(); i += 7) large[i] = static_cast<char>('a' + i % 26);
  TestServer server([&](const Captured& got) {
    if (got.method == "PUT") return Ok("");
    if (got.target == "/missing") {
      std::string body = "<Error><Code>NoSuchKey</Code></Error>";
      return "HTTP/1.1 404 Not Found\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\nX-Amz-Request-Id: R9\r\n\r\n" + body;
    }
    return Ok(large, "ETag: \"abc\"\r\n");
  });
  auto client = NewCurlHttpClient(Signed());
  HttpRequest put;
  put.method = "PUT";
  put.url = server.Url("/lake/big");
  put.body_size = static_cast<int64_t>(large.size());
  put.payload_sha256 = util::Sha256Hex(large);
  put.body_source = [&](int64_t offset, char* buffer, size_t size) -> util::Result<size_t> {
    size_t n = std::min<size_t>(size, 1000);  // small pieces
    std::memcpy(buffer, large.data() + offset, n);
    return n;
  };
  ASSERT_TRUE(client->Send(put));
  EXPECT_EQ(server.requests().back().body, large);

  HttpRequest get;
  get.url = server.Url("/lake/big");
  std::string streamed;
  int pieces = 0;
  get.body_sink = [&](std::string_view piece) -> util::Status {
    streamed.append(piece);
    ++pieces;
    return {};
  };
  auto got = client->Send(get);
  ASSERT_TRUE(got);
  EXPECT_EQ(streamed, large);
  EXPECT_GT(pieces, 1);
  EXPECT_EQ(got->body, "");
  EXPECT_EQ(got->Header("etag"), "\"abc\"");

  get.url = server.Url("/missing");
  streamed.clear();
  auto missing = client->Send(get);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body, "<Error><Code>NoSuchKey</Code></Error>");
  EXPECT_EQ(missing->Header("x-amz-request-id"), "R9");
  EXPECT_EQ(streamed, "");
}

TEST(CurlHttp, TakesOnlyTheStartOfABodyWhenAsked) {
  const std::string large(300000, 'y');
  TestServer server([&](const Captured&) { return Ok(large); });
  auto client = NewCurlHttpClient(Signed());
  HttpRequest get;
  get.url = server.Url("/lake/k");
  get.max_body_bytes = 1000;
  auto start = client->Send(get);
  ASSERT_TRUE(start) << start.error().message();
  EXPECT_EQ(start->body, large.substr(0, 1000));
  EXPECT_TRUE(start->body_truncated);
  EXPECT_EQ(start->Header("content-length"), "300000");
  get.max_body_bytes = 300000;
  auto whole = client->Send(get);
  ASSERT_TRUE(whole) << whole.error().message();
  EXPECT_EQ(whole->body.size(), large.size());
  EXPECT_FALSE(whole->body_truncated);
}

TEST(CurlHttp, ASinkThatFailsStopsTheTransferWithItsError) {
  TestServer server([](const Captured&) { return Ok(std::string(100000, 'x')); });
  auto client = NewCurlHttpClient(Signed());
  HttpRequest get;
  get.url = server.Url("/lake/k");
  get.body_sink = [](std::string_view) -> util::Status { return util::StepError("disk full"); };
  auto response = client->Send(get);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().message(), "disk full");
}

TEST(CurlHttp, AServerThatIsNotThereFailsRetryablyNamingTheUrl) {
  int port;
  {
    TestServer gone([](const Captured&) { return Ok(""); });
    port = std::stoi(gone.Url("").substr(std::string("http://127.0.0.1:").size()));
  }
  auto client = NewCurlHttpClient(Signed());
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/lake/k";
  auto response = client->Send(request);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().category(), util::ErrorCategory::kConnect);
  EXPECT_TRUE(response.error().retryable());
  EXPECT_THAT(response.error().message(), HasSubstr(request.url + ": "));
  EXPECT_THAT(response.error().message(), Not(HasSubstr("VerySecret")));
}

TEST(CurlHttp, AStalledServerFailsAfterTheStallTime) {
  TestServer server([](const Captured&) { return std::string(); });
  CurlHttpOptions options = Signed();
  options.stall_seconds = 1;
  auto client = NewCurlHttpClient(options);
  HttpRequest request;
  request.url = server.Url("/lake/k");
  const auto start = std::chrono::steady_clock::now();
  auto response = client->Send(request);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(response);
  EXPECT_TRUE(response.error().retryable());
  EXPECT_THAT(response.error().message(), HasSubstr("Operation too slow"));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

}  // namespace
}  // namespace tidemark::store
