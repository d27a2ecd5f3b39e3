#include "tidemark/store/s3_store.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>

#include "tidemark/store/curl_http.h"
#include "tidemark/store/s3_checksums.h"
#include "tidemark/store/s3_objects.h"
#include "tidemark/store/s3_xml.h"
#include "tidemark/util/strings.h"

namespace tidemark::store {

namespace {

constexpr size_t kDeleteBatch = 1000;  // S3's limit per DeleteObjects request

std::optional<int64_t> NanosecondsOf(int year, int month, int day, int hour, int minute,
                                     int second) {
  using namespace std::chrono;
  const year_month_day date{std::chrono::year(year), std::chrono::month(month),
                            std::chrono::day(day)};
  if (!date.ok() || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 ||
      second > 60) {
    return std::nullopt;
  }
  const auto instant = sys_days(date) + hours(hour) + minutes(minute) + seconds(second);
  return duration_cast<nanoseconds>(instant.time_since_epoch()).count();
}

// "2024-01-05T10:00:00.123Z" (ListObjectsV2's LastModified), to whole seconds so that it
// agrees with Stat's Last-Modified header.
std::optional<int64_t> ParseIsoTime(const std::string& text) {
  int year, month, day, hour, minute, second, used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &used) != 6) {
    return std::nullopt;
  }
  std::string_view rest = std::string_view(text).substr(static_cast<size_t>(used));
  if (rest.starts_with(".")) {  // fractions of a second
    rest.remove_prefix(std::min(rest.find_first_not_of("0123456789", 1), rest.size()));
  }
  if (rest != "Z") return std::nullopt;
  return NanosecondsOf(year, month, day, hour, minute, second);
}

// "Fri, 05 Jan 2024 10:00:00 GMT" (HTTP's date format).
std::optional<int64_t> ParseHttpTime(const std::string& text) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int day, year, hour, minute, second;
  char month_name[4] = "";
  if (std::sscanf(text.c_str(), "%*3s, %2d %3s %4d %2d:%2d:%2d GMT", &day, month_name, &year, &hour,
                  &minute, &second) != 6) {
    return std::nullopt;
  }
  for (int month = 0; month < 12; ++month) {
    if (std::strcmp(month_name, kMonths[month]) == 0) {
      return NanosecondsOf(year, month + 1, day, hour, minute, second);
    }
  }
  return std::nullopt;
}

// Text fit for an XML element; nullopt for characters XML 1.0 cannot carry at all.
std::optional<std::string> XmlText(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\t': out += "&#9;"; break;  // references, so that parsers keep them as they are
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      default:
        if (c < 0x20) return std::nullopt;
        out += static_cast<char>(c);
    }
  }
  return out;
}

class S3Store : public ObjectStore {
 public:
  S3Store(const S3Settings& settings, S3Endpoint endpoint, std::unique_ptr<HttpClient> http,
          Sleeper sleep)
      : prefix_(settings.prefix),
        writer_options_{settings.multipart_threshold, settings.part_size,
                        settings.parts_in_flight},
        read_chunk_size_(settings.read_chunk_size),
        list_page_size_(std::clamp(settings.list_page_size, 1, 1000)),
        client_(std::move(endpoint), settings.retry, settings.credentials.source, std::move(http),
                std::move(sleep)) {}

  std::string url() const override { return client_.Describe(prefix_); }

  util::Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    const std::string full = Full(prefix);
    std::vector<ObjectInfo> objects;
    auto listed = ListInto(full.empty() ? "" : full + "/", 0, objects);
    if (!listed) return tl::unexpected(listed.error().WithContext("listing " + url() + "/" + prefix));
    if (objects.empty() && !full.empty()) {  // `prefix` may name one object
      TM_TRY_ASSIGN(auto info, Stat(prefix));
      if (info) objects.push_back(*info);
    }
    std::sort(objects.begin(), objects.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return objects;
  }

  util::Result<std::optional<ObjectInfo>> Stat(const std::string& key) override {
    const std::string full = Full(key);
    if (full.empty()) return std::optional<ObjectInfo>();  // the root is no object
    S3Request request;
    request.method = "HEAD";
    request.key = full;
    request.answers = {404};
    TM_TRY_ASSIGN(HttpResponse response, client_.Send(request));
    if (response.status == 404) return std::optional<ObjectInfo>();
    ObjectInfo info{Relative(full), 0, 0};
    auto mtime = ParseHttpTime(response.Header("last-modified"));
    const std::string length = response.Header("content-length");
    int64_t size = -1;
    auto [end, error] = std::from_chars(length.data(), length.data() + length.size(), size);
    if (error != std::errc() || end != length.data() + length.size() || size < 0 || !mtime) {
      return util::StepError("S3 HEAD " + client_.Describe(full) +
                             ": the answer lacks a valid Content-Length or Last-Modified");
    }
    info.size = size;
    info.mtime_ns = *mtime;
    info.etag = response.Header("etag");
    if (info.etag.size() >= 2 && info.etag.front() == '"' && info.etag.back() == '"')
      info.etag = info.etag.substr(1, info.etag.size() - 2);
    return std::optional<ObjectInfo>(info);
  }

  util::Result<bool> Exists(const std::string& prefix) override {
    const std::string full = Full(prefix);
    std::vector<ObjectInfo> objects;
    TM_TRY(ListInto(full.empty() ? "" : full + "/", 1, objects, /*keep_markers=*/true));
    if (!objects.empty() || full.empty()) return !objects.empty();
    TM_TRY_ASSIGN(auto info, Stat(prefix));
    return info.has_value();
  }

  util::Result<std::unique_ptr<Reader>> OpenRead(const std::string& key) override {
    return OpenS3Reader(client_, Full(key), read_chunk_size_);
  }

  util::Result<std::unique_ptr<Writer>> OpenWrite(const std::string& key) override {
    return NewS3Writer(client_, Full(key), writer_options_);
  }

  util::Status Delete(const std::string& key) override { return DeleteFull(Full(key)); }

  util::Status DeleteMany(const std::vector<std::string>& keys) override;
  util::Result<std::string> ReadRange(const std::string& key, int64_t offset,
                                      int64_t length) override;
  util::Status CopyWithin(const std::string& from, const std::string& to) override;
  util::Result<bool> PutIfAbsent(const std::string& key, std::string_view data) override;

  bool StreamsPut(int64_t size) const override {
    return size <= writer_options_.multipart_threshold;
  }

  util::Status PutFromSource(const std::string& key, int64_t size, const std::string& sha256_hex,
                             int64_t mtime_ns, const ByteSource& source) override {
    if (!StreamsPut(size)) {
      return ObjectStore::PutFromSource(key, size, sha256_hex, mtime_ns, source);
    }
    S3Request request;
    request.method = "PUT";
    request.key = Full(key);
    request.headers = {{kMtimeMetadataHeader, std::to_string(mtime_ns)}};
    request.body_source = source;
    request.body_size = size;
    request.payload_sha256 = sha256_hex;
    TM_TRY(client_.Send(request));
    return {};
  }

  bool CanRename() const override { return false; }

  util::Status Rename(const std::string& from, const std::string& to) override {
    return util::StepError("cannot move " + client_.Describe(Full(from)) + " to " + to +
                           ": S3 has no rename (callers check CanRename)");
  }

  util::Status ProbeWritable(const std::string& prefix) override {
    const std::string probe = Full(JoinKey(prefix, ".tidemark-probe-" + util::RandomHex(8)));
    S3Request put;
    put.method = "PUT";
    put.key = probe;
    put.body = "tidemark probe";
    TM_TRY(client_.Send(put));
    return DeleteFull(probe);
  }

  util::Status PruneEmpty(const std::string&) override { return {}; }
  util::Status Sync(const std::string&) override { return {}; }

 private:
  std::string Full(const std::string& key) const { return JoinKey(prefix_, key); }

  // S3 answers the DELETE of an absent key with 204, some compatible servers with 404;
  // a 404 for a missing bucket is still an error.
  util::Status DeleteFull(const std::string& full) {
    S3Request request;
    request.method = "DELETE";
    request.key = full;
    request.answers = {404};
    TM_TRY_ASSIGN(HttpResponse response, client_.Send(request));
    auto error = ParseS3Error(response.body);
    if (response.status == 404 && error && error->code == "NoSuchBucket") {
      return tl::unexpected(client_.ErrorFor(request, response));
    }
    return {};
  }

  std::string Relative(const std::string& full) const {
    return prefix_.empty() ? full : full.substr(std::min(full.size(), prefix_.size() + 1));
  }

  util::Status ListInto(const std::string& bucket_prefix, int limit, std::vector<ObjectInfo>& out,
                        bool keep_markers = false);
  util::Status DeleteBatch(const std::vector<std::string>& keys,
                           std::vector<S3DeleteFailure>& failures);
  util::Result<bool> PutIfNoneMatch(const std::string& full, std::string_view data,
                                    S3SendInfo* info);
  util::Status CheckConditionalWrites();

  const std::string prefix_;
  const S3WriterOptions writer_options_;
  const int64_t read_chunk_size_;
  const int list_page_size_;
  S3Client client_;
  std::mutex probe_mutex_;
  bool conditional_writes_checked_ = false;  // guarded by probe_mutex_
};

// Appends the objects whose keys start with `bucket_prefix`, page by page, stopping
// after `limit` (0: none).
util::Status S3Store::ListInto(const std::string& bucket_prefix, int limit,
                               std::vector<ObjectInfo>& out, bool keep_markers) {
  std::string token;
  while (true) {
    S3Request request;
    request.query = {{"list-type", "2"},
                     {"max-keys", std::to_string(limit > 0 ? limit : list_page_size_)}};
    if (!bucket_prefix.empty()) request.query.emplace_back("prefix", bucket_prefix);
    if (!token.empty()) request.query.emplace_back("continuation-token", token);
    S3ListPage page;
    request.check = [&](const HttpResponse& response) -> util::Status {
      TM_TRY_ASSIGN(page, ParseListObjectsV2(response.body));
      return {};
    };
    TM_TRY(client_.Send(request));
    for (const S3Object& object : page.objects) {
      if (!object.key.starts_with(bucket_prefix)) {
        return util::StepError("S3 listed " + client_.Describe(object.key) + " under prefix \"" +
                               bucket_prefix + "\", which does not hold it");
      }
      if (object.key.ends_with('/') && !keep_markers) continue;
      auto mtime = ParseIsoTime(object.last_modified);
      if (!mtime) {
        return util::StepError("S3 listed " + client_.Describe(object.key) +
                               " with LastModified \"" + object.last_modified +
                               "\", which is not a time");
      }
      out.push_back({Relative(object.key), object.size, *mtime, object.etag});
      if (limit > 0 && static_cast<int>(out.size()) >= limit) return {};
    }
    if (!page.truncated) return {};
    if (page.next_token == token) {
      return util::StepError("S3 sent the same continuation token twice listing " +
                             client_.Describe(bucket_prefix));
    }
    token = page.next_token;
  }
}

util::Status S3Store::DeleteMany(const std::vector<std::string>& keys) {
  std::vector<S3DeleteFailure> failures;
  std::vector<std::string> batch;
  for (const std::string& key : keys) {
    const std::string full = Full(key);
    if (!XmlText(full)) {  // a control character: only a single DELETE can name it
      TM_TRY(Delete(key));
      continue;
    }
    batch.push_back(full);
    if (batch.size() == kDeleteBatch) {
      TM_TRY(DeleteBatch(batch, failures));
      batch.clear();
    }
  }
  if (!batch.empty()) TM_TRY(DeleteBatch(batch, failures));
  if (failures.empty()) return {};
  std::string message = "could not delete " + std::to_string(failures.size()) + " of " +
                        std::to_string(keys.size()) + " objects:";
  for (size_t i = 0; i < failures.size() && i < 5; ++i) {
    message += (i == 0 ? " " : "; ") + client_.Describe(failures[i].key) + " (" + failures[i].code +
               ": " + failures[i].message + ")";
  }
  if (failures.size() > 5) message += "; and " + std::to_string(failures.size() - 5) + " more";
  const bool retryable = std::all_of(failures.begin(), failures.end(),
                                     [](const auto& f) { return S3CodeIsRetryable(f.code); });
  return util::StepError(message, retryable);
}

util::Status S3Store::DeleteBatch(const std::vector<std::string>& keys,
                                  std::vector<S3DeleteFailure>& failures) {
  std::string body = "<Delete><Quiet>true</Quiet>";
  for (const std::string& key : keys) body += "<Object><Key>" + *XmlText(key) + "</Key></Object>";
  body += "</Delete>";
  S3Request request;
  request.method = "POST";
  request.query = {{"delete", ""}};
  request.headers = {{"Content-Type", "application/xml"}, {"Content-MD5", ContentMd5(body)}};
  request.body = body;
  std::vector<S3DeleteFailure> batch_failures;
  request.check = [&](const HttpResponse& response) -> util::Status {
    TM_TRY_ASSIGN(batch_failures, ParseDeleteResult(response.body));
    return {};
  };
  TM_TRY(client_.Send(request));
  for (S3DeleteFailure& failure : batch_failures) {
    if (failure.code != "NoSuchKey") failures.push_back(std::move(failure));
  }
  return {};
}

util::Result<std::string> S3Store::ReadRange(const std::string& key, int64_t offset,
                                             int64_t length) {
  if (length <= 0) return std::string();
  S3Request request;
  request.key = Full(key);
  request.headers = {
      {"Range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1)}};
  request.answers = {416};  // the range starts at or after the end
  TM_TRY_ASSIGN(HttpResponse response, client_.Send(request));
  if (response.status == 416) return std::string();
  if (response.status == 200) {  // a server that ignored Range sent everything
    const auto size = static_cast<int64_t>(response.body.size());
    if (offset >= size) return std::string();
    return response.body.substr(static_cast<size_t>(offset),
                                static_cast<size_t>(std::min(length, size - offset)));
  }
  if (static_cast<int64_t>(response.body.size()) > length) {
    return util::StepError("S3 GET " + client_.Describe(request.key) + ": asked for " +
                           std::to_string(length) + " bytes, got " +
                           std::to_string(response.body.size()));
  }
  return std::move(response.body);
}

util::Status S3Store::CopyWithin(const std::string& from, const std::string& to) {
  const std::string source = Full(from), target = Full(to);
  if (source == target) return {};  // S3 refuses to copy an object onto itself unchanged
  S3Request request;
  request.method = "PUT";
  request.key = target;
  request.headers = {{"x-amz-copy-source", CopySourceHeader(client_.endpoint().bucket, source)},
                     {"x-amz-metadata-directive", "COPY"}};
  request.answers = {404};
  request.check = [](const HttpResponse& response) -> util::Status {
    TM_TRY(ParseCompleteOrCopy(response.body));
    return {};
  };
  TM_TRY_ASSIGN(HttpResponse response, client_.Send(request));
  if (response.status != 404) return {};
  auto error = ParseS3Error(response.body);
  if (error && error->code == "NoSuchKey") {
    return util::StepError(client_.Describe(source) + " is missing; cannot copy it");
  }
  return tl::unexpected(client_.ErrorFor(request, response));
}

util::Result<bool> S3Store::PutIfAbsent(const std::string& key, std::string_view data) {
  TM_TRY(CheckConditionalWrites());
  const std::string full = Full(key);
  S3SendInfo info;
  TM_TRY_ASSIGN(bool written, PutIfNoneMatch(full, data, &info));
  if (written || !info.earlier_attempt_uncertain) return written;
  // An attempt whose answer was lost may have written the object: then it is ours when
  // it holds our bytes (a Delta commit's content is unique to its writer).
  TM_TRY_ASSIGN(std::string present, ReadRange(key, 0, static_cast<int64_t>(data.size()) + 1));
  return present == data;
}

util::Result<bool> S3Store::PutIfNoneMatch(const std::string& full, std::string_view data,
                                           S3SendInfo* info) {
  S3Request request;
  request.method = "PUT";
  request.key = full;
  request.headers = {{"If-None-Match", "*"}};
  request.body = data;
  request.answers = {412};
  TM_TRY_ASSIGN(HttpResponse response, client_.Send(request, info));
  return response.status != 412;
}

// Writes a probe object twice, both times only if absent: a server that honours
// If-None-Match refuses the second. Checked once per store.
util::Status S3Store::CheckConditionalWrites() {
  std::lock_guard<std::mutex> lock(probe_mutex_);
  if (conditional_writes_checked_) return {};
  const std::string probe = Full(".tidemark-probe-conditional-" + util::RandomHex(16));
  TM_TRY_ASSIGN(bool first, PutIfNoneMatch(probe, "1", nullptr));
  auto second = PutIfNoneMatch(probe, "2", nullptr);
  (void)DeleteFull(probe);
  if (!second) return tl::unexpected(second.error());
  if (!first || *second) {
    return util::ConfigError(
        "the S3 server at " + client_.endpoint().host +
        " ignores If-None-Match on PUT (it overwrote a probe object), so " + url() +
        " cannot write an object only if it is absent, which Delta commits need; use a "
        "server with conditional writes (AWS S3, MinIO) or a file: location");
  }
  conditional_writes_checked_ = true;
  return {};
}

}  // namespace

util::Result<std::unique_ptr<ObjectStore>> NewS3Store(const S3Settings& settings,
                                                      std::unique_ptr<HttpClient> http,
                                                      Sleeper sleep) {
  auto endpoint =
      MakeS3Endpoint(settings.endpoint, settings.region, settings.bucket, settings.addressing);
  if (!endpoint) {
    const std::string where =
        "s3://" + settings.bucket +
        (settings.connection.empty() ? "" : " (connection '" + settings.connection + "')");
    return tl::unexpected(endpoint.error().WithContext(where));
  }
  return std::unique_ptr<ObjectStore>(
      new S3Store(settings, std::move(*endpoint), std::move(http), std::move(sleep)));
}

util::Result<std::unique_ptr<ObjectStore>> OpenS3Store(const S3Settings& settings) {
  CurlHttpOptions options;
  options.signing = AwsSigning{settings.region, settings.credentials.access_key,
                               settings.credentials.secret_key, settings.credentials.session_token};
  options.ca_file = settings.ca_file;
  options.connect_timeout_seconds = settings.connect_timeout_seconds;
  options.stall_seconds = settings.stall_seconds;
  return NewS3Store(settings, NewCurlHttpClient(std::move(options)), RealSleeper());
}

}  // namespace tidemark::store
