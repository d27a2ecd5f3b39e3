#include "tidemark/store/curl_http.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>
#include <optional>
#include <vector>

#include <curl/curl.h>

#include "tidemark/util/sha256.h"

namespace tidemark::store {

namespace {

constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
// Error documents are small; a server sending more is cut off rather than trusted.
constexpr size_t kMaxErrorBody = 1 << 20;

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Failures after which the same request may well succeed: the server was unreachable
// for a moment, the connection broke, or the transfer stalled.
bool IsTransient(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_AGAIN: return true;
    default: return false;
  }
}

std::string Trimmed(std::string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

bool HasHeader(const HttpHeaders& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& header) {
    return header.first.size() == name.size() &&
           strncasecmp(header.first.data(), name.data(), name.size()) == 0;
  });
}

// What curl's callbacks of one exchange reach.
struct Transfer {
  const HttpRequest* request = nullptr;
  HttpResponse* response = nullptr;
  CURL* handle = nullptr;
  int64_t sent = 0;                           // body bytes handed to curl
  std::optional<util::Error> callback_error;  // a failure of body_source or body_sink
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    transfer->response->headers.clear();  // after "100 Continue", the real response begins
    return line.size();
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return line.size();
  std::string name = Trimmed(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  transfer->response->headers.emplace_back(std::move(name), Trimmed(line.substr(colon + 1)));
  return line.size();
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(transfer->handle, CURLINFO_RESPONSE_CODE, &status);
  if (transfer->request->body_sink && status >= 200 && status < 300) {
    auto sunk = transfer->request->body_sink(std::string_view(data, n));
    if (!sunk) {
      transfer->callback_error = sunk.error();
      return 0;  // curl stops with CURLE_WRITE_ERROR
    }
    return n;
  }
  std::string& body = transfer->response->body;
  const bool is_error = status < 200 || status >= 300;
  if (is_error && body.size() >= kMaxErrorBody) return n;
  if (is_error) {
    body.append(data, std::min(n, kMaxErrorBody - body.size()));
    return n;
  }
  const int64_t limit = transfer->request->max_body_bytes;
  if (limit >= 0 && static_cast<int64_t>(body.size() + n) > limit) {
    body.append(data, static_cast<size_t>(limit) - body.size());
    transfer->response->body_truncated = true;
    return 0;  // curl stops with CURLE_WRITE_ERROR, which Send treats as the end
  }
  body.append(data, n);
  return n;
}

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const HttpRequest& request = *transfer->request;
  size_t n = size * count;
  if (!request.body_source) {
    const size_t at = static_cast<size_t>(transfer->sent);
    n = std::min(n, request.body.size() - std::min(at, request.body.size()));
    std::memcpy(buffer, request.body.data() + at, n);
  } else {
    n = static_cast<size_t>(
        std::min<int64_t>(static_cast<int64_t>(n), request.body_size - transfer->sent));
    if (n == 0) return 0;
    auto got = request.body_source(transfer->sent, buffer, n);
    if (!got) {
      transfer->callback_error = got.error();
      return CURL_READFUNC_ABORT;
    }
    n = *got;
  }
  transfer->sent += static_cast<int64_t>(n);
  return n;
}

// curl rewinds the body when it must send it again (a redirect, a reused connection
// that turned out closed).
int OnSeek(void* user, curl_off_t offset, int origin) {
  auto* transfer = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
  transfer->sent = offset;
  return CURL_SEEKFUNC_OK;
}

class CurlHttpClient : public HttpClient {
 public:
  explicit CurlHttpClient(CurlHttpOptions options) : options_(std::move(options)) {
    InitCurlOnce();
    if (options_.signing) sigv4_ = "aws:amz:" + options_.signing->region + ":s3";
  }

  ~CurlHttpClient() override {
    for (CURL* handle : idle_) curl_easy_cleanup(handle);
  }

  util::Result<HttpResponse> Send(const HttpRequest& request) override {
    CURL* handle = Take();
    if (handle == nullptr)
      return util::Fail(util::ErrorCategory::kConnect, "libcurl: out of memory");
    HttpResponse response;
    Transfer transfer{&request, &response, handle};
    curl_slist* headers = HeaderList(request);
    char error[CURL_ERROR_SIZE] = "";
    CURLcode code = Configure(handle, request, headers, transfer, error);
    if (code == CURLE_OK) code = curl_easy_perform(handle);
    long status = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    GiveBack(handle);
    if (transfer.callback_error) return tl::unexpected(*transfer.callback_error);
    if (code == CURLE_WRITE_ERROR && response.body_truncated) code = CURLE_OK;
    if (code != CURLE_OK) return tl::unexpected(TransportError(request, code, error));
    response.status = static_cast<int>(status);
    return response;
  }

 private:
  CURL* Take() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!idle_.empty()) {
        CURL* handle = idle_.back();
        idle_.pop_back();
        return handle;
      }
    }
    return curl_easy_init();
  }

  // Keeps the handle, and so its open connections, for the next request.
  void GiveBack(CURL* handle) {
    curl_easy_reset(handle);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (idle_.size() < options_.max_idle_handles) {
        idle_.push_back(handle);
        return;
      }
    }
    curl_easy_cleanup(handle);
  }

  curl_slist* HeaderList(const HttpRequest& request) const {
    HttpHeaders headers = request.headers;
    if (options_.signing) {
      if (!HasHeader(headers, "x-amz-content-sha256")) {
        std::string hash = request.payload_sha256;
        if (hash.empty())
          hash = request.body.empty() ? kEmptySha256 : util::Sha256Hex(request.body);
        headers.emplace_back("x-amz-content-sha256", hash);
      }
      if (!options_.signing->session_token.empty()) {
        headers.emplace_back("x-amz-security-token", options_.signing->session_token);
      }
    }
    curl_slist* list = nullptr;
    for (const auto& [name, value] : headers) {
      list = curl_slist_append(list, (name + ": " + value).c_str());
    }
    return list;
  }

  CURLcode Configure(CURL* handle, const HttpRequest& request, curl_slist* headers,
                     Transfer& transfer, char* error) const {
    CURLcode code = CURLE_OK;
    auto set = [&](CURLoption option, auto value) {
      if (code == CURLE_OK) code = curl_easy_setopt(handle, option, value);
    };
    set(CURLOPT_ERRORBUFFER, error);
    set(CURLOPT_URL, request.url.c_str());
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_PATH_AS_IS, 1L);  // keys may hold "." and ".." segments; they are names here
    set(CURLOPT_FOLLOWLOCATION, 0L);
    set(CURLOPT_TCP_KEEPALIVE, 1L);
    set(CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_seconds);
    set(CURLOPT_LOW_SPEED_LIMIT, 1L);
    set(CURLOPT_LOW_SPEED_TIME, options_.stall_seconds);
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) set(CURLOPT_CAINFO, options_.ca_file.c_str());
    set(CURLOPT_USERAGENT, "tidemark/" TIDEMARK_VERSION);
    set(CURLOPT_HTTPHEADER, headers);
    set(CURLOPT_HEADERFUNCTION, &OnHeader);
    set(CURLOPT_HEADERDATA, &transfer);
    set(CURLOPT_WRITEFUNCTION, &OnBody);
    set(CURLOPT_WRITEDATA, &transfer);
    if (options_.signing) {
      set(CURLOPT_AWS_SIGV4, sigv4_.c_str());
      set(CURLOPT_USERNAME, options_.signing->access_key.c_str());
      set(CURLOPT_PASSWORD, options_.signing->secret_key.c_str());
    }
    SetMethod(request, transfer, set);
    return code;
  }

  template <typename Set>
  static void SetMethod(const HttpRequest& request, Transfer& transfer, Set& set) {
    const curl_off_t size = request.body_source ? static_cast<curl_off_t>(request.body_size)
                                                : static_cast<curl_off_t>(request.body.size());
    if (request.method == "HEAD") {
      set(CURLOPT_NOBODY, 1L);
      return;
    }
    if (request.method == "GET") return;
    set(CURLOPT_READFUNCTION, &OnRead);
    set(CURLOPT_READDATA, &transfer);
    set(CURLOPT_SEEKFUNCTION, &OnSeek);
    set(CURLOPT_SEEKDATA, &transfer);
    if (request.method == "PUT") {
      set(CURLOPT_UPLOAD, 1L);
      set(CURLOPT_INFILESIZE_LARGE, size);
    } else if (request.method == "POST") {
      set(CURLOPT_POST, 1L);
      set(CURLOPT_POSTFIELDSIZE_LARGE, size);
    } else {
      set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
      if (size > 0) {
        set(CURLOPT_UPLOAD, 1L);
        set(CURLOPT_INFILESIZE_LARGE, size);
      }
    }
  }

  static util::Error TransportError(const HttpRequest& request, CURLcode code, const char* error) {
    std::string what = error[0] != '\0' ? error : curl_easy_strerror(code);
    return util::Error(util::ErrorCategory::kConnect, request.url + ": " + what, IsTransient(code));
  }

  const CurlHttpOptions options_;
  std::string sigv4_;
  std::mutex mutex_;
  std::vector<CURL*> idle_;  // guarded by mutex_
};

}  // namespace

std::unique_ptr<HttpClient> NewCurlHttpClient(CurlHttpOptions options) {
  return std::make_unique<CurlHttpClient>(std::move(options));
}

}  // namespace tidemark::store
