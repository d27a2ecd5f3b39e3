// S3 addressing and encoding: which host and path a request goes to, and keys and
// query parameters written as SigV4 signs them (libcurl signs the URL as written).

#include "tidemark/store/s3_url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tidemark::store {
namespace {

using ::testing::HasSubstr;

S3Endpoint Endpoint(std::string_view url, std::string_view region, std::string_view bucket,
                    std::string_view addressing = "") {
  auto endpoint = MakeS3Endpoint(url, region, bucket, addressing);
  EXPECT_TRUE(endpoint) << endpoint.error().message();
  return endpoint ? *endpoint : S3Endpoint{};
}

TEST(S3Endpoint, AwsIsVirtualHostedByRegion) {
  S3Endpoint endpoint = Endpoint("", "eu-west-1", "lake");
  EXPECT_EQ(S3RequestUrl(endpoint, "a/b.parquet", ""),
            "https://lake.s3.eu-west-1.amazonaws.com/a/b.parquet");
  EXPECT_EQ(S3RequestUrl(endpoint, "", "list-type=2"),
            "https://lake.s3.eu-west-1.amazonaws.com/?list-type=2");
  EXPECT_EQ(S3RequestUrl(Endpoint("", "cn-north-1", "lake"), "k", ""),
            "https://lake.s3.cn-north-1.amazonaws.com.cn/k");
}

TEST(S3Endpoint, AwsBucketsWithDotsOrUnusualNamesArePathStyle) {
  EXPECT_EQ(S3RequestUrl(Endpoint("", "us-east-1", "my.lake"), "k", ""),
            "https://s3.us-east-1.amazonaws.com/my.lake/k");
  EXPECT_EQ(S3RequestUrl(Endpoint("", "us-east-1", "Old_Bucket"), "k", ""),
            "https://s3.us-east-1.amazonaws.com/Old_Bucket/k");
}

TEST(S3Endpoint, ACustomEndpointIsPathStyleUnlessToldOtherwise) {
  S3Endpoint endpoint = Endpoint("http://127.0.0.1:9000/", "us-east-1", "lake");
  EXPECT_EQ(S3RequestUrl(endpoint, "a b", ""), "http://127.0.0.1:9000/lake/a%20b");
  EXPECT_EQ(S3RequestUrl(endpoint, "", "list-type=2"), "http://127.0.0.1:9000/lake?list-type=2");
  EXPECT_EQ(S3RequestUrl(Endpoint("minio.local:9000/s3", "x", "lake"), "k", ""),
            "https://minio.local:9000/s3/lake/k");
  EXPECT_EQ(S3RequestUrl(Endpoint("https://storage.example", "x", "lake", "virtual"), "k", ""),
            "https://lake.storage.example/k");
  EXPECT_EQ(S3RequestUrl(Endpoint("", "eu-west-1", "lake", "path"), "k", ""),
            "https://s3.eu-west-1.amazonaws.com/lake/k");
}

TEST(S3Endpoint, RefusesWhatCannotWork) {
  auto fails = [](std::string_view url, std::string_view region, std::string_view bucket,
                  std::string_view addressing) {
    auto endpoint = MakeS3Endpoint(url, region, bucket, addressing);
    EXPECT_FALSE(endpoint) << url << " " << bucket;
    if (endpoint) return std::string();
    EXPECT_EQ(endpoint.error().category(), util::ErrorCategory::kConfig);
    return endpoint.error().message();
  };
  EXPECT_THAT(fails("ftp://host", "r", "lake", ""), HasSubstr("http:// or https://"));
  EXPECT_THAT(fails("http://user:pw@host", "r", "lake", ""),
              HasSubstr("may not carry credentials"));
  EXPECT_THAT(fails("http://host?x=1", "r", "lake", ""), HasSubstr("query"));
  EXPECT_THAT(fails("", "Not A Region", "lake", ""), HasSubstr("is not an AWS region"));
  EXPECT_THAT(fails("", "eu-west-1", "Old_Bucket", "virtual"), HasSubstr("use addressing: path"));
  EXPECT_THAT(fails("", "eu-west-1", "lake", "sideways"), HasSubstr("neither path nor virtual"));
}

TEST(S3Encoding, KeysKeepOnlyUnreservedCharactersAndSlashes) {
  EXPECT_EQ(EncodeKeyPath("ts=2024-01-01 10%3A00%3A00/part-0.parquet"),
            "ts%3D2024-01-01%2010%253A00%253A00/part-0.parquet");
  EXPECT_EQ(EncodeKeyPath("a+b/c~d_e.f-g"), "a%2Bb/c~d_e.f-g");
  EXPECT_EQ(EncodeKeyPath("é/日本"), "%C3%A9/%E6%97%A5%E6%9C%AC");
  EXPECT_EQ(EncodeKeyPath("?#&;:@,$!'()*[]"), "%3F%23%26%3B%3A%40%2C%24%21%27%28%29%2A%5B%5D");
}

TEST(S3Encoding, QueriesAreEncodedSortedAndAlwaysHaveAnEqualsSign) {
  EXPECT_EQ(CanonicalQuery({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(
      CanonicalQuery({{"prefix", "dt=2024/a b+c"},
                      {"list-type", "2"},
                      {"continuation-token", "1/x=="},
                      {"max-keys", "1000"}}),
      "continuation-token=1%2Fx%3D%3D&list-type=2&max-keys=1000&prefix=dt%3D2024%2Fa%20b%2Bc");
  EXPECT_EQ(CanonicalQuery({{"uploadId", "Z"}, {"partNumber", "10"}}), "partNumber=10&uploadId=Z");
  EXPECT_EQ(CanonicalQuery({}), "");
}

TEST(S3Encoding, CopySourcesEscapeWhatS3WouldDecodeAsAForm) {
  EXPECT_EQ(CopySourceHeader("lake", "ts=2024-01-01 10%3A00%3A00/a+b.parquet"),
            "/lake/ts=2024-01-01%2010%253A00%253A00/a%2Bb.parquet");
  EXPECT_EQ(CopySourceHeader("lake", "q?v#f/é"), "/lake/q%3Fv%23f/%C3%A9");
}

}  // namespace
}  // namespace tidemark::store
