#include "tidemark/store/s3_client.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <thread>

#include "tidemark/store/s3_xml.h"

namespace tidemark::store {

namespace {

using Clock = std::chrono::steady_clock;

const char* StatusText(int status) {
  switch (status) {
    case 301: return "Moved Permanently";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

std::string SecondsText(Clock::duration elapsed) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", std::chrono::duration<double>(elapsed).count());
  return text;
}

bool IsCredentialCode(const std::string& code) {
  return code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" ||
         code == "InvalidToken" || code == "ExpiredToken" || code == "TokenRefreshRequired";
}

bool IsWrongPlaceCode(const std::string& code) {
  return code == "AuthorizationHeaderMalformed" || code == "PermanentRedirect" ||
         code == "IncorrectEndpoint" || code == "IllegalLocationConstraintException";
}

}  // namespace

Sleeper RealSleeper() {
  return [](std::chrono::milliseconds delay) { std::this_thread::sleep_for(delay); };
}

S3Client::S3Client(S3Endpoint endpoint, S3RetryPolicy retry, std::string credentials_source,
                   std::unique_ptr<HttpClient> http, Sleeper sleep)
    : endpoint_(std::move(endpoint)),
      retry_(retry),
      credentials_source_(std::move(credentials_source)),
      http_(std::move(http)),
      sleep_(std::move(sleep)) {}

std::string S3Client::Describe(std::string_view key) const {
  return "s3://" + endpoint_.bucket + (key.empty() ? "" : "/" + std::string(key));
}

util::Result<HttpResponse> S3Client::Send(const S3Request& request, S3SendInfo* info) {
  const std::string url = S3RequestUrl(endpoint_, request.key, CanonicalQuery(request.query));
  const Clock::time_point start = Clock::now();
  S3SendInfo ignored;
  S3SendInfo& sent = info != nullptr ? *info : ignored;
  sent = {};
  for (int attempt = 1;; ++attempt) {
    sent.attempts = attempt;
    auto response = Attempt(request, url);
    if (response || !response.error().retryable()) return response;
    if (attempt >= retry_.attempts) {
      const util::Error& last = response.error();
      return util::Fail(last.category(),
                        last.message() + " (gave up after " + std::to_string(attempt) +
                            " attempts over " + SecondsText(Clock::now() - start) + ")",
                        true);
    }
    sent.earlier_attempt_uncertain = true;
    sleep_(Delay(attempt));
  }
}

util::Result<HttpResponse> S3Client::Attempt(const S3Request& request, const std::string& url) {
  HttpRequest http;
  http.method = request.method;
  http.url = url;
  http.headers = request.headers;
  http.body = request.body;
  http.body_source = request.body_source;
  http.body_size = request.body_size;
  http.payload_sha256 = request.payload_sha256;
  http.max_body_bytes = request.max_body_bytes;
  const std::string what = "S3 " + request.method + " " + Describe(request.key);
  auto response = http_->Send(http);
  if (!response) return tl::unexpected(response.error().WithContext(what));
  if (response->status >= 200 && response->status < 300) {
    if (request.check) {
      auto checked = request.check(*response);
      if (!checked) return tl::unexpected(checked.error().WithContext(what));
    }
    return response;
  }
  const auto& answers = request.answers;
  if (std::find(answers.begin(), answers.end(), response->status) != answers.end()) {
    return response;
  }
  return tl::unexpected(ErrorFor(request, *response));
}

util::Error S3Client::ErrorFor(const S3Request& request, const HttpResponse& response) const {
  const std::optional<S3Error> parsed = ParseS3Error(response.body);
  const std::string code = parsed ? parsed->code : "";
  const int status = response.status;
  std::string message = "S3 " + request.method + " " + Describe(request.key) + ": " +
                        std::to_string(status) + " " + (code.empty() ? StatusText(status) : code);
  if (parsed && !parsed->message.empty()) message += ": " + parsed->message;
  if (parsed && !parsed->request_id.empty()) message += " (request id " + parsed->request_id + ")";
  const bool retryable = status >= 500 || status == 429 || S3CodeIsRetryable(code);
  const std::string region = response.Header("x-amz-bucket-region");
  const std::string from = " (from " + credentials_source_ + ")";
  if (IsCredentialCode(code) || (status == 403 && code.empty())) {
    return util::Error(util::ErrorCategory::kConfig,
                       message + "; check the credentials" + from + " and their permissions");
  }
  if (code == "AccessDenied" || code == "AllAccessDisabled") {
    return util::Error(util::ErrorCategory::kConfig,
                       message + "; the credentials" + from + " are not allowed to do this");
  }
  if (code == "NoSuchBucket") {
    return util::Error(util::ErrorCategory::kConfig, message + "; the bucket " + endpoint_.bucket +
                                                         " does not exist at " + endpoint_.host);
  }
  if (IsWrongPlaceCode(code) || status == 301) {
    return util::Error(
        util::ErrorCategory::kConfig,
        message + (region.empty() ? "; the bucket is elsewhere: check region and endpoint"
                                  : "; the bucket is in region " + region +
                                        ": set region: " + region + " on the connection"));
  }
  return util::Error(util::ErrorCategory::kStep, message, retryable);
}

std::chrono::milliseconds S3Client::Delay(int failed_attempts) const {
  // Exponential, capped, then "equal jitter": half fixed, half random, so that clients
  // that failed together do not retry together.
  int64_t delay = retry_.base_delay.count();
  for (int i = 1; i < failed_attempts && delay < retry_.max_delay.count(); ++i) delay *= 2;
  delay = std::min<int64_t>(delay, retry_.max_delay.count());
  if (delay <= 1) return std::chrono::milliseconds(delay);
  static thread_local std::mt19937_64 random{std::random_device{}()};
  std::uniform_int_distribution<int64_t> jitter(0, delay / 2);
  return std::chrono::milliseconds(delay - delay / 2 + jitter(random));
}

}  // namespace tidemark::store
