// The S3 request loop against scripted answers: what is retried and how long it waits,
// what fails at once, and what the errors say.

#include "tidemark/store/s3_client.h"

#include <deque>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tidemark::store {
namespace {

using std::chrono::milliseconds;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

HttpResponse Answer(int status, std::string body = "", HttpHeaders headers = {}) {
  return HttpResponse{status, std::move(headers), std::move(body)};
}

std::string ErrorDocument(const std::string& code, const std::string& message) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" +
         message + "</Message><RequestId>R1</RequestId></Error>";
}

util::Error Unreachable(bool retryable) {
  return util::Error(util::ErrorCategory::kConnect,
                     "http://127.0.0.1:9/lake/k: Couldn't connect to server", retryable);
}

// Answers requests from a script, in order, and records what was asked.
class ScriptedHttp : public HttpClient {
 public:
  explicit ScriptedHttp(std::deque<util::Result<HttpResponse>> script,
                        std::vector<std::string>* asked)
      : script_(std::move(script)), asked_(asked) {}

  util::Result<HttpResponse> Send(const HttpRequest& request) override {
    asked_->push_back(request.method + " " + request.url);
    if (script_.empty()) return Answer(599, "the script ran out");
    auto next = std::move(script_.front());
    script_.pop_front();
    return next;
  }

 private:
  std::deque<util::Result<HttpResponse>> script_;
  std::vector<std::string>* asked_;
};

class S3ClientTest : public ::testing::Test {
 protected:
  S3Client Client(std::deque<util::Result<HttpResponse>> script, int attempts = 4) {
    auto endpoint = MakeS3Endpoint("http://127.0.0.1:9", "us-east-1", "lake", "");
    EXPECT_TRUE(endpoint);
    S3RetryPolicy retry{attempts, milliseconds(100), milliseconds(250)};
    return S3Client(*endpoint, retry, "connection 'lake'",
                    std::make_unique<ScriptedHttp>(std::move(script), &asked_),
                    [this](milliseconds delay) { waited_.push_back(delay); });
  }

  static S3Request Get(const std::string& key) {
    S3Request request;
    request.key = key;
    return request;
  }

  std::vector<std::string> asked_;
  std::vector<milliseconds> waited_;
};

TEST_F(S3ClientTest, BusyAndFailingServersAreRetriedWithGrowingJitteredWaits) {
  S3Client client =
      Client({Answer(503, ErrorDocument("SlowDown", "Please reduce your request rate.")),
              Answer(500, ErrorDocument("InternalError", "We encountered an error")),
              Answer(200, "data")});
  S3SendInfo info;
  auto response = client.Send(Get("dt=1/a b"), &info);
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->body, "data");
  EXPECT_EQ(info.attempts, 3);
  EXPECT_TRUE(info.earlier_attempt_uncertain);
  EXPECT_THAT(asked_, ElementsAre("GET http://127.0.0.1:9/lake/dt%3D1/a%20b",
                                  "GET http://127.0.0.1:9/lake/dt%3D1/a%20b",
                                  "GET http://127.0.0.1:9/lake/dt%3D1/a%20b"));
  ASSERT_EQ(waited_.size(), 2u);
  EXPECT_GE(waited_[0], milliseconds(50));  // 100 ms, half of it random
  EXPECT_LE(waited_[0], milliseconds(100));
  EXPECT_GE(waited_[1], milliseconds(100));  // 200 ms
  EXPECT_LE(waited_[1], milliseconds(200));
}

TEST_F(S3ClientTest, WaitsAreCapped) {
  S3Client client = Client({Answer(503), Answer(503), Answer(503), Answer(503), Answer(200)}, 6);
  ASSERT_TRUE(client.Send(Get("k")));
  ASSERT_EQ(waited_.size(), 4u);
  for (milliseconds wait : waited_) EXPECT_LE(wait, milliseconds(250));
  EXPECT_GE(waited_[3], milliseconds(125));
}

TEST_F(S3ClientTest, TransportFailuresAreRetriedThenReportedWithAttemptsAndTime) {
  S3Client client = Client({tl::unexpected(Unreachable(true)), tl::unexpected(Unreachable(true)),
                            tl::unexpected(Unreachable(true)), tl::unexpected(Unreachable(true))});
  auto response = client.Send(Get("k"));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().category(), util::ErrorCategory::kConnect);
  EXPECT_TRUE(response.error().retryable());
  EXPECT_THAT(response.error().message(),
              AllOf(HasSubstr("S3 GET s3://lake/k: http://127.0.0.1:9/lake/k: Couldn't connect"),
                    HasSubstr("(gave up after 4 attempts over ")));
  EXPECT_EQ(asked_.size(), 4u);
}

TEST_F(S3ClientTest, APermanentTransportFailureIsNotRetried) {
  S3Client client = Client({tl::unexpected(Unreachable(false)), Answer(200)});
  ASSERT_FALSE(client.Send(Get("k")));
  EXPECT_EQ(asked_.size(), 1u);
}

TEST_F(S3ClientTest, WrongCredentialsFailAtOnceNamingTheirSource) {
  S3Client client = Client({Answer(403, ErrorDocument("InvalidAccessKeyId",
                                                      "The AWS Access Key Id you provided does "
                                                      "not exist in our records."))});
  S3Request put = Get("a/b");
  put.method = "PUT";
  auto response = client.Send(put);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().category(), util::ErrorCategory::kConfig);
  EXPECT_FALSE(response.error().retryable());
  EXPECT_EQ(response.error().message(),
            "S3 PUT s3://lake/a/b: 403 InvalidAccessKeyId: The AWS Access Key Id you provided "
            "does not exist in our records. (request id R1); check the credentials (from "
            "connection 'lake') and their permissions");
  EXPECT_EQ(asked_.size(), 1u);
}

TEST_F(S3ClientTest, AMissingBucketOrAWrongRegionSaysWhatToChange) {
  S3Client client =
      Client({Answer(404, ErrorDocument("NoSuchBucket", "The specified bucket does not exist")),
              Answer(400,
                     ErrorDocument("AuthorizationHeaderMalformed",
                                   "the region 'us-east-1' is wrong; expecting 'eu-west-1'"),
                     {{"x-amz-bucket-region", "eu-west-1"}}),
              Answer(403)});
  auto missing = client.Send(Get(""));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().category(), util::ErrorCategory::kConfig);
  EXPECT_THAT(missing.error().message(),
              HasSubstr("S3 GET s3://lake: 404 NoSuchBucket: The specified bucket does not exist "
                        "(request id R1); the bucket lake does not exist at 127.0.0.1:9"));
  auto region = client.Send(Get("k"));
  ASSERT_FALSE(region);
  EXPECT_THAT(region.error().message(),
              HasSubstr("the bucket is in region eu-west-1: set region: eu-west-1"));
  S3Request head = Get("k");
  head.method = "HEAD";
  auto forbidden = client.Send(head);
  ASSERT_FALSE(forbidden);
  EXPECT_THAT(forbidden.error().message(), HasSubstr("S3 HEAD s3://lake/k: 403 Forbidden; check"));
}

TEST_F(S3ClientTest, OtherClientErrorsFailAtOnceAsStepErrors) {
  S3Client client = Client({Answer(400, ErrorDocument("InvalidArgument", "bad part number"))});
  auto response = client.Send(Get("k"));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().category(), util::ErrorCategory::kStep);
  EXPECT_FALSE(response.error().retryable());
  EXPECT_EQ(asked_.size(), 1u);
}

TEST_F(S3ClientTest, StatusesTheCallerAnswersForAreReturned) {
  S3Client client = Client({Answer(404), Answer(412)});
  S3Request head = Get("k");
  head.method = "HEAD";
  head.answers = {404};
  auto absent = client.Send(head);
  ASSERT_TRUE(absent);
  EXPECT_EQ(absent->status, 404);
  S3Request put = Get("k");
  put.method = "PUT";
  put.answers = {412};
  EXPECT_EQ(client.Send(put)->status, 412);
  EXPECT_TRUE(waited_.empty());
}

TEST_F(S3ClientTest, AnErrorInsideA200IsRetriedWhenItSaysSo) {
  S3Client client = Client({Answer(200, ErrorDocument("InternalError", "try again")),
                            Answer(200,
                                   "<CompleteMultipartUploadResult><ETag>\"e-2\"</ETag>"
                                   "</CompleteMultipartUploadResult>")});
  S3Request complete = Get("k");
  complete.method = "POST";
  complete.check = [](const HttpResponse& response) -> util::Status {
    if (response.body.find("<Error>") != std::string::npos) {
      return util::StepError("S3 error InternalError: try again", true);
    }
    return {};
  };
  ASSERT_TRUE(client.Send(complete));
  EXPECT_EQ(asked_.size(), 2u);
}

}  // namespace
}  // namespace tidemark::store
