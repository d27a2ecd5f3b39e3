#include "tests/support/fault_proxy.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tidemark::testing {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxBuffered = 1 << 20;  // per direction; reading stops beyond it
constexpr size_t kMaxHead = 64 << 10;
constexpr size_t kMaxRecordedBody = 1 << 20;
constexpr int kIdlePollMs = 100;

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

// The head of a request or response, without the blank line that ends it.
struct Head {
  std::string first_line;
  std::vector<std::string> lines;                           // the header lines as received
  std::vector<std::pair<std::string, std::string>> fields;  // names in lower case

  std::string Field(std::string_view name) const {
    for (const auto& [field, value] : fields) {
      if (field == name) return value;
    }
    return "";
  }
  bool Has(std::string_view name, std::string_view token) const {
    return Lower(Field(name)).find(token) != std::string::npos;
  }
};

bool ParseHead(std::string_view text, Head& head) {
  size_t end = text.find("\r\n");
  head.first_line = std::string(text.substr(0, end));
  while (end != std::string_view::npos) {
    const size_t begin = end + 2;
    end = text.find("\r\n", begin);
    std::string_view line = text.substr(begin, end == std::string_view::npos ? end : end - begin);
    if (line.empty()) continue;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    head.lines.emplace_back(line);
    head.fields.emplace_back(Lower(Trim(line.substr(0, colon))),
                             std::string(Trim(line.substr(colon + 1))));
  }
  return !head.first_line.empty();
}

bool ParseNumber(std::string_view text, int64_t& value, int base = 10) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  return error == std::errc() && end == text.data() + text.size() && value >= 0;
}

// Where a message body ends: which of the bytes that follow a head belong to its body.
class BodyFraming {
 public:
  enum class Kind { kNone, kLength, kChunked, kUntilClose };

  BodyFraming() = default;
  BodyFraming(Kind kind, int64_t length) : kind_(kind), remaining_(length) {
    done_ = kind == Kind::kNone || (kind == Kind::kLength && length == 0);
  }

  // The framing a head announces; false when it is malformed.
  static bool For(const Head& head, bool until_close_allowed, BodyFraming& framing) {
    if (head.Has("transfer-encoding", "chunked")) {
      framing = BodyFraming(Kind::kChunked, 0);
      return true;
    }
    const std::string length = head.Field("content-length");
    int64_t n = 0;
    if (!length.empty()) {
      if (!ParseNumber(length, n)) return false;
      framing = BodyFraming(Kind::kLength, n);
      return true;
    }
    framing = BodyFraming(until_close_allowed ? Kind::kUntilClose : Kind::kNone, 0);
    return true;
  }

  bool done() const { return done_; }
  bool until_close() const { return kind_ == Kind::kUntilClose; }

  // Sets `taken` to how many leading bytes of `data` belong to the body (all of them
  // until it ends); false on malformed chunked framing.
  bool Take(std::string_view data, size_t& taken) {
    taken = 0;
    if (done_) return true;
    if (kind_ == Kind::kUntilClose) {
      taken = data.size();
      return true;
    }
    if (kind_ == Kind::kLength) {
      taken = static_cast<size_t>(std::min<int64_t>(remaining_, static_cast<int64_t>(data.size())));
      remaining_ -= static_cast<int64_t>(taken);
      done_ = remaining_ == 0;
      return true;
    }
    while (taken < data.size() && !done_) {
      if (state_ == Chunk::kData) {
        const auto n = std::min<int64_t>(remaining_, static_cast<int64_t>(data.size() - taken));
        taken += static_cast<size_t>(n);
        remaining_ -= n;
        if (remaining_ == 0) state_ = Chunk::kDataEnd;
        continue;
      }
      const char c = data[taken++];
      if (c != '\n') {
        line_ += c;
        if (line_.size() > 4096) return false;
        continue;
      }
      std::string line = std::move(line_);
      line_.clear();
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!EndOfLine(line)) return false;
    }
    return true;
  }

 private:
  enum class Chunk { kSize, kData, kDataEnd, kTrailer };

  bool EndOfLine(const std::string& line) {
    switch (state_) {
      case Chunk::kSize: {
        int64_t size = 0;
        if (!ParseNumber(Trim(std::string_view(line).substr(0, line.find(';'))), size, 16)) {
          return false;
        }
        remaining_ = size;
        state_ = size == 0 ? Chunk::kTrailer : Chunk::kData;
        return true;
      }
      case Chunk::kDataEnd:
        state_ = Chunk::kSize;
        return line.empty();
      case Chunk::kTrailer:
        done_ = line.empty();
        return true;
      case Chunk::kData:
        return false;
    }
    return false;
  }

  Kind kind_ = Kind::kNone;
  int64_t remaining_ = 0;
  Chunk state_ = Chunk::kSize;
  std::string line_;
  bool done_ = true;
};

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Fault";
  }
}

// Reads what `fd` has, up to `limit` buffered; `gone` when it closed or failed.
void ReadSome(int fd, std::string& buffer, bool& gone) {
  char block[65536];
  while (buffer.size() < kMaxBuffered) {
    const ssize_t n = recv(fd, block, sizeof block, 0);
    if (n > 0) {
      buffer.append(block, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    gone = true;
    return;
  }
}

// Sends what it can of `buffer`; false when the peer is gone.
bool WriteSome(int fd, std::string& buffer) {
  size_t sent = 0;
  while (sent < buffer.size()) {
    const ssize_t n = send(fd, buffer.data() + sent, buffer.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    buffer.clear();
    return false;
  }
  buffer.erase(0, sent);
  return true;
}

void Configure(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  const int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

}  // namespace

struct FaultProxy::Fault {
  enum class Kind { kRespond, kCutRequest, kCutResponse, kDelay };
  FaultMatch match;
  int times = 1;
  Kind kind = Kind::kRespond;
  int status = 0;
  std::string body;
  int64_t bytes = 0;
  std::chrono::milliseconds delay{0};

  const char* name() const {
    switch (kind) {
      case Kind::kRespond: return "respond";
      case Kind::kCutRequest: return "cut-request";
      case Kind::kCutResponse: return "cut-response";
      case Kind::kDelay: return "delay";
    }
    return "";
  }
  bool Matches(const std::string& method, const std::string& target) const {
    return (match.method.empty() || match.method == method) &&
           target.find(match.path_contains) != std::string::npos;
  }
};

// One client connection, its upstream connection, and the exchange under way on them.
struct FaultProxy::Connection {
  enum class Phase {
    kRequestHead,   // waiting for (the next) request's head
    kHeld,          // a delayed request, until hold_until
    kRequestBody,   // passing (or, for an injected answer, swallowing) the request body
    kResponseHead,  // waiting for the server's answer
    kResponseBody,  // passing the answer's body
    kCutting,       // the client is gone; the bytes to the server are flushed, then it goes
    kClosing,       // the server is gone; the bytes to the client are flushed, then it goes
  };

  int client = -1;
  int upstream = -1;
  std::string from_client, to_client, from_upstream, to_upstream;
  Phase phase = Phase::kRequestHead;

  std::string method;
  std::string head;  // the request head to forward
  bool expect_continue = false;
  bool close_after = false;  // the client asked to close after this exchange
  bool record_body = false;
  size_t record = 0;
  std::unique_ptr<Fault> fault;
  BodyFraming request_body, response_body;
  int64_t request_bytes = 0, response_bytes = 0;
  Clock::time_point hold_until;
  uint64_t releases_before_hold = 0;  // held until FaultProxy::releases_ differs

  bool Is(Fault::Kind kind) const { return fault != nullptr && fault->kind == kind; }

  bool WantsClientBytes() const {
    return client >= 0 && (phase == Phase::kRequestHead || phase == Phase::kRequestBody) &&
           from_client.size() < kMaxBuffered && to_upstream.size() < kMaxBuffered;
  }
  bool WantsUpstreamBytes() const {
    return upstream >= 0 && phase != Phase::kCutting && phase != Phase::kClosing &&
           from_upstream.size() < kMaxBuffered && to_client.size() < kMaxBuffered;
  }
  bool Finished() const {
    if (phase == Phase::kCutting) return upstream < 0 || to_upstream.empty();
    if (phase == Phase::kClosing) return client < 0 || to_client.empty();
    return client < 0;
  }
  ~Connection() {
    CloseFd(client);
    CloseFd(upstream);
  }
};

// The proxy's thread: one poll() over the listening socket and every connection.
class FaultProxy::Loop {
 public:
  using Phase = Connection::Phase;

  Loop(FaultProxy& proxy, int listener, int wake_read, int wake_write)
      : proxy_(proxy), listener_(listener), wake_read_(wake_read), wake_write_(wake_write) {}

  ~Loop() {
    connections_.clear();
    CloseFd(listener_);
    CloseFd(wake_read_);
    CloseFd(wake_write_);
  }

  void Stop() {
    stopping_ = true;
    Wake();
  }

  void Wake() {
    const char byte = 0;
    (void)!write(wake_write_, &byte, 1);
  }

  void Run() {
    while (!stopping_) {
      std::vector<pollfd> fds{{listener_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
      std::vector<std::pair<int, int>> slots;  // each connection's client, upstream pollfd
      int timeout_ms = kIdlePollMs;
      const auto now = Clock::now();
      for (const auto& c : connections_) {
        slots.emplace_back(Watch(fds, c->client, c->WantsClientBytes(), !c->to_client.empty()),
                           Watch(fds, c->upstream, c->WantsUpstreamBytes(), !c->to_upstream.empty()));
        if (c->phase == Phase::kHeld) {
          const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(c->hold_until - now);
          timeout_ms = std::clamp(static_cast<int>(left.count()) + 1, 0, timeout_ms);
        }
      }
      if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) return;
      if (fds[1].revents != 0) {
        char drain[64];
        (void)!read(wake_read_, drain, sizeof drain);
      }
      for (size_t i = 0; i < slots.size(); ++i) {
        auto events = [&](int slot) { return slot < 0 ? short(0) : fds[slot].revents; };
        if (!Step(*connections_[i], events(slots[i].first), events(slots[i].second))) {
          connections_[i].reset();
        }
      }
      std::erase(connections_, nullptr);
      if (fds[0].revents & POLLIN) Accept();
    }
  }

 private:
  static int Watch(std::vector<pollfd>& fds, int fd, bool read, bool write) {
    if (fd < 0) return -1;
    fds.push_back({fd, static_cast<short>((read ? POLLIN : 0) | (write ? POLLOUT : 0)), 0});
    return static_cast<int>(fds.size()) - 1;
  }

  void Accept() {
    while (true) {
      const int fd = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0 && errno == EINTR) continue;
      if (fd < 0) return;
      Configure(fd);
      auto connection = std::make_unique<Connection>();
      connection->client = fd;
      connections_.push_back(std::move(connection));
    }
  }

  // Reads, moves bytes along, writes; false when the connection is over.
  bool Step(Connection& c, short client_events, short upstream_events) {
    bool client_gone = false, upstream_gone = false;
    if (c.client >= 0 && (client_events & (POLLIN | POLLHUP | POLLERR))) {
      ReadSome(c.client, c.from_client, client_gone);
    }
    if (c.upstream >= 0 && (upstream_events & (POLLIN | POLLHUP | POLLERR))) {
      ReadSome(c.upstream, c.from_upstream, upstream_gone);
    }
    if (!Process(c)) return false;
    if (client_gone) return false;
    if (upstream_gone) UpstreamGone(c);
    if (c.client >= 0 && !WriteSome(c.client, c.to_client)) return false;
    if (c.upstream >= 0 && !WriteSome(c.upstream, c.to_upstream)) UpstreamGone(c);
    return !c.Finished();
  }

  // Moves the exchanges on as far as the buffered bytes allow; false on a malformed
  // message (the connection is dropped).
  bool Process(Connection& c) {
    while (true) {
      switch (c.phase) {
        case Phase::kRequestHead: {
          const size_t end = c.from_client.find("\r\n\r\n");
          if (end == std::string::npos) return c.from_client.size() <= kMaxHead;
          const std::string head = c.from_client.substr(0, end);
          c.from_client.erase(0, end + 4);
          if (!BeginRequest(c, head)) return false;
          break;
        }
        case Phase::kHeld:
          if (Clock::now() < c.hold_until && proxy_.releases_ == c.releases_before_hold) {
            return true;
          }
          StartForwarding(c);
          break;
        case Phase::kRequestBody:
          if (!PassRequestBody(c)) return false;
          if (c.phase == Phase::kRequestBody) return true;
          break;
        case Phase::kResponseHead: {
          const size_t end = c.from_upstream.find("\r\n\r\n");
          if (end == std::string::npos) return c.from_upstream.size() <= kMaxHead;
          const std::string head = c.from_upstream.substr(0, end + 4);
          c.from_upstream.erase(0, end + 4);
          if (!BeginResponse(c, head)) return false;
          break;
        }
        case Phase::kResponseBody:
          if (!PassResponseBody(c)) return false;
          if (c.phase == Phase::kResponseBody) return true;
          break;
        case Phase::kCutting:
        case Phase::kClosing:
          return true;
      }
    }
  }

  bool BeginRequest(Connection& c, const std::string& text) {
    Head head;
    if (!ParseHead(text, head)) return false;
    const size_t space = head.first_line.find(' ');
    const size_t last = head.first_line.rfind(' ');
    if (space == std::string::npos || last == space) return false;
    c.method = head.first_line.substr(0, space);
    const std::string target = head.first_line.substr(space + 1, last - space - 1);
    if (!BodyFraming::For(head, false, c.request_body)) return false;
    c.close_after = head.first_line.ends_with("HTTP/1.0") || head.Has("connection", "close");
    c.expect_continue = head.Has("expect", "100-continue");
    c.fault = proxy_.TakeFault(c.method, target);
    c.releases_before_hold = proxy_.releases_;  // before the record that tests wait for
    c.record = proxy_.Record({c.method, target, 0, c.fault ? c.fault->name() : ""});
    c.record_body = c.method == "POST" || c.method == "DELETE";
    c.head = head.first_line + "\r\n";
    for (const std::string& line : head.lines) {
      if (!Lower(line).starts_with("expect:")) c.head += line + "\r\n";
    }
    c.head += "\r\n";
    c.request_bytes = c.response_bytes = 0;
    c.from_upstream.clear();
    if (c.Is(Fault::Kind::kDelay)) {
      c.hold_until = Clock::now() + c.fault->delay;
      c.phase = Phase::kHeld;
    } else if (c.Is(Fault::Kind::kRespond)) {
      if (c.expect_continue) c.to_client += "HTTP/1.1 100 Continue\r\n\r\n";
      c.phase = Phase::kRequestBody;
    } else {
      StartForwarding(c);
    }
    return true;
  }

  // Sends the head on (connecting first); a server that cannot be reached closes the
  // client's connection, as the server's own refusal would.
  void StartForwarding(Connection& c) {
    if (c.upstream < 0 && !ConnectUpstream(c)) {
      c.phase = Phase::kClosing;
      return;
    }
    c.to_upstream += c.head;
    if (c.expect_continue) c.to_client += "HTTP/1.1 100 Continue\r\n\r\n";
    c.phase = Phase::kRequestBody;
  }

  bool ConnectUpstream(Connection& c) {
    const Upstream upstream = proxy_.CurrentUpstream();
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(upstream.port);
    address.sin_addr.s_addr = upstream.address;
    // Blocking: on loopback a connect succeeds or is refused at once.
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      close(fd);
      return false;
    }
    Configure(fd);
    c.upstream = fd;
    return true;
  }

  bool PassRequestBody(Connection& c) {
    size_t taken = 0;
    if (!c.request_body.Take(c.from_client, taken)) return false;
    const std::string_view piece(c.from_client.data(), taken);
    if (c.record_body) proxy_.AppendBody(c.record, piece);
    if (c.Is(Fault::Kind::kCutRequest) && c.request_bytes + static_cast<int64_t>(taken) >= c.fault->bytes) {
      c.to_upstream.append(piece.substr(0, static_cast<size_t>(c.fault->bytes - c.request_bytes)));
      c.from_client.clear();
      CloseFd(c.client);
      c.phase = Phase::kCutting;
      return true;
    }
    if (!c.Is(Fault::Kind::kRespond)) c.to_upstream.append(piece);
    c.request_bytes += static_cast<int64_t>(taken);
    c.from_client.erase(0, taken);
    if (!c.request_body.done()) return true;
    if (c.Is(Fault::Kind::kRespond)) {
      Answer(c);
      EndExchange(c);
      return true;
    }
    c.phase = Phase::kResponseHead;
    return true;
  }

  // The injected answer.
  void Answer(Connection& c) {
    const Fault& fault = *c.fault;
    const std::string body = c.method == "HEAD" ? "" : fault.body;
    c.to_client += "HTTP/1.1 " + std::to_string(fault.status) + " " + Reason(fault.status) +
                   "\r\nContent-Type: application/xml\r\nx-amz-request-id: FAULTPROXY\r\n"
                   "Content-Length: " +
                   std::to_string(body.size()) + "\r\n" +
                   (c.close_after ? "Connection: close\r\n" : "") + "\r\n" + body;
    proxy_.SetStatus(c.record, fault.status);
  }

  bool BeginResponse(Connection& c, const std::string& text) {
    Head head;
    if (!ParseHead(std::string_view(text).substr(0, text.size() - 4), head)) return false;
    int64_t status = 0;
    const size_t space = head.first_line.find(' ');
    if (!head.first_line.starts_with("HTTP/1.") || space == std::string::npos ||
        !ParseNumber(std::string_view(head.first_line).substr(space + 1, 3), status)) {
      return false;
    }
    if (status < 200) return true;  // interim (the client had its 100 from the proxy)
    proxy_.SetStatus(c.record, static_cast<int>(status));
    c.to_client += text;
    if (c.method == "HEAD" || status == 204 || status == 304) {
      c.response_body = BodyFraming(BodyFraming::Kind::kNone, 0);
    } else if (!BodyFraming::For(head, true, c.response_body)) {
      return false;
    }
    if (head.Has("connection", "close")) c.close_after = true;
    c.phase = Phase::kResponseBody;
    return true;
  }

  bool PassResponseBody(Connection& c) {
    size_t taken = 0;
    if (!c.response_body.Take(c.from_upstream, taken)) return false;
    if (c.Is(Fault::Kind::kCutResponse) &&
        c.response_bytes + static_cast<int64_t>(taken) >= c.fault->bytes) {
      c.to_client.append(c.from_upstream, 0, static_cast<size_t>(c.fault->bytes - c.response_bytes));
      CloseFd(c.upstream);
      c.phase = Phase::kClosing;
      return true;
    }
    c.to_client.append(c.from_upstream, 0, taken);
    c.from_upstream.erase(0, taken);
    c.response_bytes += static_cast<int64_t>(taken);
    if (c.response_body.done()) EndExchange(c);
    return true;
  }

  void EndExchange(Connection& c) {
    c.fault.reset();
    if (c.close_after) {
      CloseFd(c.upstream);
      c.phase = Phase::kClosing;
      return;
    }
    c.phase = Phase::kRequestHead;
  }

  // The server closed its connection (or it broke).
  void UpstreamGone(Connection& c) {
    CloseFd(c.upstream);
    c.to_upstream.clear();
    switch (c.phase) {
      case Phase::kRequestHead:
        // Between requests: the client's connection goes too, as it would without the
        // proxy, so that the client opens a new one rather than send into a dead one.
        if (c.from_client.empty()) c.phase = Phase::kClosing;
        return;
      case Phase::kHeld:
        return;  // connects again when the hold ends
      case Phase::kRequestBody:
        if (!c.Is(Fault::Kind::kRespond)) c.phase = Phase::kClosing;
        return;
      case Phase::kResponseHead:
      case Phase::kResponseBody:
      case Phase::kCutting:
        c.phase = Phase::kClosing;
        return;
      case Phase::kClosing:
        return;
    }
  }

  FaultProxy& proxy_;
  int listener_, wake_read_, wake_write_;
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<Connection>> connections_;
};

std::string S3ErrorXml(const std::string& code, const std::string& message) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" +
         message + "</Message><RequestId>FAULTPROXY</RequestId></Error>";
}

util::Result<FaultProxy::Upstream> FaultProxy::ParseUpstream(const std::string& url) {
  std::string_view rest(url);
  auto bad = [&] {
    return util::ConfigError("fault proxy: the upstream must be http://IPv4:PORT, not \"" + url +
                             "\"");
  };
  if (!rest.starts_with("http://")) return bad();
  rest.remove_prefix(7);
  if (rest.ends_with("/")) rest.remove_suffix(1);
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) return bad();
  std::string host(rest.substr(0, colon));
  if (host == "localhost") host = "127.0.0.1";
  Upstream upstream;
  int64_t port = 0;
  if (inet_pton(AF_INET, host.c_str(), &upstream.address) != 1 ||
      !ParseNumber(rest.substr(colon + 1), port) || port == 0 || port > 65535) {
    return bad();
  }
  upstream.port = static_cast<uint16_t>(port);
  return upstream;
}

util::Result<std::unique_ptr<FaultProxy>> FaultProxy::Start(const std::string& upstream) {
  TM_TRY_ASSIGN(Upstream parsed, ParseUpstream(upstream));
  auto fail = [](const std::string& what) {
    return util::Fail(util::ErrorCategory::kConnect,
                      "fault proxy: " + what + ": " + std::strerror(errno));
  };
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listener < 0) return fail("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(listener, 128) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    auto error = fail("listening on 127.0.0.1");
    close(listener);
    return error;
  }
  int wake[2];
  if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    auto error = fail("pipe");
    close(listener);
    return error;
  }
  std::unique_ptr<FaultProxy> proxy(new FaultProxy());
  proxy->upstream_ = parsed;
  proxy->port_ = ntohs(address.sin_port);
  proxy->loop_ = std::make_unique<Loop>(*proxy, listener, wake[0], wake[1]);
  proxy->thread_ = std::thread([loop = proxy->loop_.get()] { loop->Run(); });
  return proxy;
}

FaultProxy::~FaultProxy() {
  loop_->Stop();
  thread_.join();
}

std::string FaultProxy::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

util::Status FaultProxy::SetUpstream(const std::string& upstream) {
  TM_TRY_ASSIGN(Upstream parsed, ParseUpstream(upstream));
  std::lock_guard<std::mutex> lock(mutex_);
  upstream_ = parsed;
  return {};
}

FaultProxy::Upstream FaultProxy::CurrentUpstream() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return upstream_;
}

void FaultProxy::AddFault(Fault fault) {
  if (fault.times <= 0) return;
  std::lock_guard<std::mutex> lock(mutex_);
  faults_.push_back(std::move(fault));
}

void FaultProxy::Respond(const FaultMatch& match, int times, int status, const std::string& body) {
  AddFault({match, times, Fault::Kind::kRespond, status, body});
}

void FaultProxy::CutRequest(const FaultMatch& match, int times, int64_t after_body_bytes) {
  AddFault({match, times, Fault::Kind::kCutRequest, 0, "", after_body_bytes});
}

void FaultProxy::CutResponse(const FaultMatch& match, int times, int64_t after_body_bytes) {
  AddFault({match, times, Fault::Kind::kCutResponse, 0, "", after_body_bytes});
}

void FaultProxy::Delay(const FaultMatch& match, int times, std::chrono::milliseconds delay) {
  AddFault({match, times, Fault::Kind::kDelay, 0, "", 0, delay});
}

void FaultProxy::ReleaseDelayed() {
  ++releases_;
  loop_->Wake();
}

void FaultProxy::ClearFaults() {
  std::lock_guard<std::mutex> lock(mutex_);
  faults_.clear();
}

int FaultProxy::FaultsLeft() const {
  std::lock_guard<std::mutex> lock(mutex_);
  int left = 0;
  for (const Fault& fault : faults_) left += fault.times == kEveryRequest ? 1 : fault.times;
  return left;
}

std::unique_ptr<FaultProxy::Fault> FaultProxy::TakeFault(const std::string& method,
                                                         const std::string& target) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (!it->Matches(method, target)) continue;
    auto fault = std::make_unique<Fault>(*it);
    if (it->times != kEveryRequest && --it->times == 0) faults_.erase(it);
    return fault;
  }
  return nullptr;
}

size_t FaultProxy::Record(ProxiedRequest request) {
  std::lock_guard<std::mutex> lock(mutex_);
  requests_.push_back(std::move(request));
  arrived_.notify_all();
  return first_id_ + requests_.size() - 1;
}

void FaultProxy::SetStatus(size_t id, int status) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (id >= first_id_) requests_[id - first_id_].status = status;
}

void FaultProxy::AppendBody(size_t id, std::string_view piece) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (id < first_id_) return;
  std::string& body = requests_[id - first_id_].body;
  body.append(piece.substr(0, kMaxRecordedBody - std::min(kMaxRecordedBody, body.size())));
}

std::vector<ProxiedRequest> FaultProxy::Requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

int FaultProxy::Count(const std::string& method, const std::string& path_contains) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(std::count_if(requests_.begin(), requests_.end(), [&](const auto& r) {
    return (method.empty() || r.method == method) && r.target.find(path_contains) != std::string::npos;
  }));
}

void FaultProxy::ClearRequests() {
  std::lock_guard<std::mutex> lock(mutex_);
  first_id_ += requests_.size();
  requests_.clear();
}

bool FaultProxy::WaitForRequests(const FaultMatch& match, int count,
                                 std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return arrived_.wait_for(lock, timeout, [&] {
    int seen = 0;
    for (const ProxiedRequest& r : requests_) {
      if ((match.method.empty() || r.method == match.method) &&
          r.target.find(match.path_contains) != std::string::npos) {
        ++seen;
      }
    }
    return seen >= count;
  });
}

}  // namespace tidemark::testing
