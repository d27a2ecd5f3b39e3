#include "tidemark/store/s3_objects.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <deque>
#include <future>
#include <vector>

#include "tidemark/store/s3_xml.h"

namespace tidemark::store {

namespace {

constexpr int kMaxParts = 10000;  // S3's limit per multipart upload

struct ContentRange {
  int64_t first = 0;
  int64_t last = 0;
  int64_t total = 0;
};

bool ParseNumber(std::string_view text, int64_t& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

// "bytes 0-99/1000"
std::optional<ContentRange> ParseContentRange(std::string_view header) {
  if (!header.starts_with("bytes ")) return std::nullopt;
  header.remove_prefix(6);
  size_t dash = header.find('-'), slash = header.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) {
    return std::nullopt;
  }
  ContentRange range;
  if (!ParseNumber(header.substr(0, dash), range.first) ||
      !ParseNumber(header.substr(dash + 1, slash - dash - 1), range.last) ||
      !ParseNumber(header.substr(slash + 1), range.total)) {
    return std::nullopt;
  }
  return range;
}

std::string RangeHeader(int64_t offset, int64_t length) {
  return "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1);
}

class S3Reader : public Reader {
 public:
  S3Reader(S3Client& client, std::string key, int64_t chunk_size)
      : client_(client), key_(std::move(key)), chunk_size_(std::max<int64_t>(chunk_size, 1)) {}

  util::Status Fetch() { return size_ < 0 ? FetchFirst() : FetchNext(); }

  util::Result<size_t> Read(char* buffer, size_t size) override {
    if (used_ == buffer_.size()) {
      if (next_ >= size_) return 0;
      TM_TRY(Fetch());
      if (buffer_.empty()) return 0;
    }
    size_t n = std::min(size, buffer_.size() - used_);
    std::memcpy(buffer, buffer_.data() + used_, n);
    used_ += n;
    return n;
  }

 private:
  // A plain GET that keeps the first chunk and stops: it learns the size and the ETag,
  // and, unlike a ranged GET, also works for an empty object (S3 answers a range of an
  // empty object with 416; s3rver with a broken 206).
  util::Status FetchFirst() {
    S3Request request;
    request.key = key_;
    request.max_body_bytes = chunk_size_;
    TM_TRY_ASSIGN(HttpResponse response, client_.Send(request));
    etag_ = response.Header("etag");
    const auto got = static_cast<int64_t>(response.body.size());
    int64_t size = got;
    if (response.body_truncated) {
      const std::string length = response.Header("content-length");
      auto [end, error] = std::from_chars(length.data(), length.data() + length.size(), size);
      if (error != std::errc() || end != length.data() + length.size() || size < got) {
        return util::StepError("S3 GET " + client_.Describe(key_) +
                               ": the answer has no valid Content-Length (\"" + length + "\")");
      }
    }
    size_ = size;
    next_ = got;
    used_ = 0;
    buffer_ = std::move(response.body);
    return {};
  }

  // The next chunk, from the same version of the object.
  util::Status FetchNext() {
    S3Request request;
    request.key = key_;
    request.headers = {{"Range", RangeHeader(next_, std::min(chunk_size_, size_ - next_))}};
    if (!etag_.empty()) request.headers.emplace_back("If-Match", etag_);
    request.answers = {412};
    TM_TRY_ASSIGN(HttpResponse response, client_.Send(request));
    if (response.status == 412) {
      return util::StepError(client_.Describe(key_) +
                                 " was replaced while it was read (its ETag is no longer " + etag_ +
                                 "); read it again",
                             true);
    }
    auto range = ParseContentRange(response.Header("content-range"));
    const auto got = static_cast<int64_t>(response.body.size());
    if (response.status != 206 || !range || range->first != next_ || range->total != size_ ||
        range->last - range->first + 1 != got || got == 0) {
      return util::StepError("S3 GET " + client_.Describe(key_) + " at byte " +
                                 std::to_string(next_) + ": the server answered " +
                                 std::to_string(response.status) + " with " + std::to_string(got) +
                                 " bytes and Content-Range \"" + response.Header("content-range") +
                                 "\" for a " + std::to_string(size_) + "-byte object",
                             true);
    }
    next_ += got;
    used_ = 0;
    buffer_ = std::move(response.body);
    return {};
  }

  S3Client& client_;
  const std::string key_;
  const int64_t chunk_size_;
  std::string etag_;    // of the first response, quoted as the server sent it
  int64_t size_ = -1;   // the object's size, once known
  int64_t next_ = 0;    // offset of the next chunk
  std::string buffer_;  // the current chunk
  size_t used_ = 0;     // bytes of buffer_ already read
};

class S3Writer : public Writer {
 public:
  S3Writer(S3Client& client, std::string key, const S3WriterOptions& options)
      : client_(client),
        key_(std::move(key)),
        threshold_(std::max<int64_t>(options.multipart_threshold, 0)),
        part_size_(std::max<int64_t>(options.part_size, 1)),
        parts_in_flight_(static_cast<size_t>(std::max(options.parts_in_flight, 1))) {}

  ~S3Writer() override {
    WaitForParts();
    if (!committed_ && !upload_id_.empty()) Abort();
  }

  util::Status Write(const char* data, size_t size) override {
    if (failed_) return Failed();
    buffer_.append(data, size);
    if (upload_id_.empty() && static_cast<int64_t>(buffer_.size()) <= threshold_) return {};
    // Past the threshold: full parts go now, the tail waits for more (a part is never
    // smaller than part_size_ but the last).
    size_t taken = 0;
    while (static_cast<int64_t>(buffer_.size() - taken) >= part_size_) {
      auto status = StartPart(buffer_.substr(taken, static_cast<size_t>(part_size_)));
      if (!status) return Fail(status.error());
      taken += static_cast<size_t>(part_size_);
    }
    buffer_.erase(0, taken);
    return {};
  }

  util::Status Commit(int64_t mtime_ns) override {
    if (failed_) return Failed();
    if (committed_) return util::StepError(client_.Describe(key_) + " was already committed");
    util::Status status = upload_id_.empty() ? PutWhole(mtime_ns) : Finish();
    if (!status) return Fail(status.error());
    committed_ = true;
    return {};
  }

 private:
  // A part on its way: its bytes, and the ETag the server gives it (or the failure).
  struct Part {
    int number = 0;
    std::string data;
    std::future<util::Result<std::string>> etag;
  };

  util::Status PutWhole(int64_t mtime_ns) {
    S3Request request;
    request.method = "PUT";
    request.key = key_;
    request.headers = {{kMtimeMetadataHeader, std::to_string(mtime_ns)}};
    request.body = buffer_;
    TM_TRY(client_.Send(request));
    return {};
  }

  util::Status Begin() {
    S3Request request;
    request.method = "POST";
    request.key = key_;
    request.query = {{"uploads", ""}};
    // The object's type, as a single PUT would leave it; without it the POST's form type
    // would stick to the object.
    request.headers = {{"Content-Type", "application/octet-stream"}};
    std::string id;
    request.check = [&](const HttpResponse& response) -> util::Status {
      TM_TRY_ASSIGN(id, ParseInitiateMultipartUpload(response.body));
      return {};
    };
    TM_TRY(client_.Send(request));
    upload_id_ = id;
    return {};
  }

  // Sends the next part: on this thread when one part at a time is allowed, else on a
  // thread of its own once fewer than parts_in_flight_ are under way (the oldest is
  // waited for first, so ETags arrive in part order).
  util::Status StartPart(std::string data) {
    if (upload_id_.empty()) TM_TRY(Begin());
    const int number = static_cast<int>(etags_.size() + in_flight_.size()) + 1;
    if (number > kMaxParts) {
      return util::StepError(client_.Describe(key_) + " needs more than " +
                             std::to_string(kMaxParts) + " parts of " + std::to_string(part_size_) +
                             " bytes; S3 allows no more");
    }
    uploaded_ += static_cast<int64_t>(data.size());
    if (parts_in_flight_ == 1) {
      TM_TRY_ASSIGN(std::string etag, SendPart(number, data));
      etags_.push_back(std::move(etag));
      return {};
    }
    while (in_flight_.size() >= parts_in_flight_) TM_TRY(AwaitOldestPart());
    auto part = std::make_unique<Part>();
    part->number = number;
    part->data = std::move(data);
    Part* sending = part.get();
    part->etag = std::async(std::launch::async,
                            [this, sending] { return SendPart(sending->number, sending->data); });
    in_flight_.push_back(std::move(part));
    return {};
  }

  // Thread-safety: called from several threads at once; reads only what is fixed while
  // parts are under way (key_, upload_id_) and sends through the thread-safe client.
  util::Result<std::string> SendPart(int number, std::string_view data) const {
    S3Request request;
    request.method = "PUT";
    request.key = key_;
    request.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id_}};
    request.body = data;
    TM_TRY_ASSIGN(HttpResponse response, client_.Send(request));
    std::string etag = response.Header("etag");
    if (etag.empty()) {
      return util::StepError("S3 PUT " + client_.Describe(key_) + " part " +
                             std::to_string(number) + ": the server sent no ETag");
    }
    return etag;
  }

  util::Status AwaitOldestPart() {
    std::unique_ptr<Part> part = std::move(in_flight_.front());
    in_flight_.pop_front();
    TM_TRY_ASSIGN(std::string etag, part->etag.get());
    etags_.push_back(std::move(etag));
    return {};
  }

  // Every part under way finished, in order; the first failure, after all have ended.
  util::Status AwaitParts() {
    util::Status first;
    while (!in_flight_.empty()) {
      util::Status status = AwaitOldestPart();
      if (!status && first) first = status;
    }
    return first;
  }

  void WaitForParts() {
    for (auto& part : in_flight_) part->etag.wait();
    in_flight_.clear();
  }

  util::Status Finish() {
    if (!buffer_.empty() || etags_.size() + in_flight_.size() == 0) {
      TM_TRY(StartPart(std::move(buffer_)));
    }
    buffer_.clear();
    TM_TRY(AwaitParts());
    std::string body = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < etags_.size(); ++i) {
      body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
              EscapedEtag(etags_[i]) + "</ETag></Part>";
    }
    body += "</CompleteMultipartUpload>";
    S3Request request;
    request.method = "POST";
    request.key = key_;
    request.query = {{"uploadId", upload_id_}};
    request.headers = {{"Content-Type", "application/xml"}};
    request.body = body;
    request.check = [](const HttpResponse& response) -> util::Status {
      TM_TRY(ParseCompleteOrCopy(response.body));
      return {};
    };
    request.answers = {404};
    S3SendInfo info;
    TM_TRY_ASSIGN(HttpResponse response, client_.Send(request, &info));
    if (response.status == 404) {
      // NoSuchUpload after an attempt whose answer was lost: that attempt may have
      // completed the upload, which is then the object.
      if (!info.earlier_attempt_uncertain || !CompletedEarlier()) {
        return tl::unexpected(client_.ErrorFor(request, response));
      }
    }
    upload_id_.clear();  // nothing left to abort
    return {};
  }

  // Whether the object now is this upload: its size, and an ETag of as many parts.
  bool CompletedEarlier() {
    S3Request request;
    request.method = "HEAD";
    request.key = key_;
    auto response = client_.Send(request);
    if (!response) return false;
    const std::string suffix = "-" + std::to_string(etags_.size()) + "\"";
    return response->Header("content-length") == std::to_string(uploaded_) &&
           response->Header("etag").ends_with(suffix);
  }

  static std::string EscapedEtag(const std::string& etag) {
    std::string out;
    for (char c : etag)
      out += c == '"' ? std::string("&quot;") : c == '&' ? "&amp;" : std::string(1, c);
    return out;
  }

  // Best effort: an upload left behind costs storage until a lifecycle rule removes it,
  // and an error here has no one to go to. Parts still under way end first, so that
  // none lands after the abort.
  void Abort() {
    WaitForParts();
    S3Request request;
    request.method = "DELETE";
    request.key = key_;
    request.query = {{"uploadId", upload_id_}};
    request.answers = {404};
    (void)client_.Send(request);
    upload_id_.clear();
  }

  util::Status Fail(const util::Error& error) {
    failed_ = true;
    if (!upload_id_.empty()) Abort();
    return tl::unexpected(error);
  }

  util::Status Failed() const {
    return util::StepError("an earlier write of " + client_.Describe(key_) +
                           " failed; write the object again");
  }

  S3Client& client_;
  const std::string key_;
  const int64_t threshold_;
  const int64_t part_size_;
  const size_t parts_in_flight_;
  std::string buffer_;                         // bytes not uploaded yet
  std::string upload_id_;                      // of the multipart upload under way; "" for none
  std::vector<std::string> etags_;             // of the parts done, in order
  std::deque<std::unique_ptr<Part>> in_flight_;  // the parts under way after them, in order
  int64_t uploaded_ = 0;                       // bytes in the parts done or under way
  bool committed_ = false;
  bool failed_ = false;
};

}  // namespace

util::Result<std::unique_ptr<Reader>> OpenS3Reader(S3Client& client, std::string key,
                                                   int64_t chunk_size) {
  auto reader = std::make_unique<S3Reader>(client, std::move(key), chunk_size);
  TM_TRY(reader->Fetch());
  return std::unique_ptr<Reader>(std::move(reader));
}

std::unique_ptr<Writer> NewS3Writer(S3Client& client, std::string key,
                                    const S3WriterOptions& options) {
  return std::make_unique<S3Writer>(client, std::move(key), options);
}

}  // namespace tidemark::store
