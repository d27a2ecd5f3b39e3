// The S3 XML bodies tidemark reads, as AWS documents them and as s3rver writes them,
// and the malformed bodies a broken or hostile server could send.

#include "tidemark/store/s3_xml.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tidemark::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kListPage[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>lake</Name>
  <Prefix>events/</Prefix>
  <KeyCount>2</KeyCount>
  <MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents>
    <Key>events/dt=2024-01-05/part-0.parquet</Key>
    <LastModified>2024-01-06T02:00:00.000Z</LastModified>
    <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag>
    <Size>1048576</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents>
    <Key>events/dt=2024-01-05/a &amp; b &lt;c&gt; &#233;&#x1F600;.parquet</Key>
    <LastModified>2024-01-06T02:00:01.000Z</LastModified>
    <ETag>"abc-2"</ETag>
    <Size>0</Size>
  </Contents>
  <CommonPrefixes><Prefix>events/dt=2024-01-06/</Prefix></CommonPrefixes>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>)";

TEST(S3Xml, ReadsAListingPageWithEscapedKeysAndItsContinuation) {
  auto page = ParseListObjectsV2(kListPage);
  ASSERT_TRUE(page) << page.error().message();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "events/dt=2024-01-05/part-0.parquet");
  EXPECT_EQ(page->objects[0].size, 1048576);
  EXPECT_EQ(page->objects[0].etag, "9b2cf535f27731c974343645a3985328");
  EXPECT_EQ(page->objects[0].last_modified, "2024-01-06T02:00:00.000Z");
  EXPECT_EQ(page->objects[1].key,
            "events/dt=2024-01-05/a & b <c> \xC3\xA9\xF0\x9F\x98\x80.parquet");
  EXPECT_EQ(page->objects[1].etag, "abc-2");
  EXPECT_THAT(page->common_prefixes, ElementsAre("events/dt=2024-01-06/"));
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(S3Xml, TheLastPageAndAnEmptyListing) {
  auto last = ParseListObjectsV2(
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>3</Size>"
      "</Contents></ListBucketResult>");
  ASSERT_TRUE(last) << last.error().message();
  EXPECT_FALSE(last->truncated);
  EXPECT_EQ(last->objects.size(), 1u);
  auto empty = ParseListObjectsV2("<ListBucketResult><KeyCount>0</KeyCount></ListBucketResult>");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->objects.empty());
}

TEST(S3Xml, ATruncatedListingWithoutATokenIsRefused) {
  auto page =
      ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>");
  ASSERT_FALSE(page);
  EXPECT_THAT(page.error().message(), HasSubstr("without a continuation token"));
}

TEST(S3Xml, ErrorsAreReadAndThoseWorthRetryingSaySo) {
  constexpr char kSlowDown[] =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please "
      "reduce your request rate.</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>";
  auto error = ParseS3Error(kSlowDown);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, "SlowDown");
  EXPECT_EQ(error->request_id, "4442587FB7D0A2F9");
  auto listed = ParseListObjectsV2(kSlowDown);
  ASSERT_FALSE(listed);
  EXPECT_TRUE(listed.error().retryable());
  EXPECT_THAT(listed.error().message(), HasSubstr("SlowDown: Please reduce"));
  auto denied = ParseListObjectsV2("<Error><Code>AccessDenied</Code><Message>no</Message></Error>");
  ASSERT_FALSE(denied);
  EXPECT_FALSE(denied.error().retryable());
  EXPECT_FALSE(ParseS3Error(kListPage));
  EXPECT_FALSE(ParseS3Error("not xml"));
}

TEST(S3Xml, MultipartUploadsAndCopies) {
  auto id = ParseInitiateMultipartUpload(
      "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>b"
      "</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE</UploadId></InitiateMultipartUploadResult>");
  ASSERT_TRUE(id) << id.error().message();
  EXPECT_EQ(*id, "VXBsb2FkIElE");
  EXPECT_FALSE(ParseInitiateMultipartUpload("<InitiateMultipartUploadResult/>"));
  auto done = ParseCompleteOrCopy(
      "<CompleteMultipartUploadResult><Location>x</"
      "Location><ETag>\"3858f62230ac3c915f300c664312c11f-"
      "9\"</ETag></CompleteMultipartUploadResult>");
  ASSERT_TRUE(done);
  EXPECT_EQ(*done, "3858f62230ac3c915f300c664312c11f-9");
  auto copied = ParseCompleteOrCopy(
      "<CopyObjectResult><LastModified>2024-01-01T00:00:00Z</LastModified><ETag>\"e\"</ETag>"
      "</CopyObjectResult>");
  ASSERT_TRUE(copied);
  EXPECT_EQ(*copied, "e");
  // S3 may answer 200 and put the error in the body.
  auto failed = ParseCompleteOrCopy(
      "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message>"
      "</Error>");
  ASSERT_FALSE(failed);
  EXPECT_TRUE(failed.error().retryable());
}

TEST(S3Xml, DeleteResultsNameTheKeysThatFailed) {
  auto result = ParseDeleteResult(
      "<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b</Key><Code>AccessDenied</Code>"
      "<Message>Access Denied</Message></Error></DeleteResult>");
  ASSERT_TRUE(result) << result.error().message();
  ASSERT_EQ(result->size(), 1u);
  EXPECT_EQ((*result)[0].key, "b");
  EXPECT_EQ((*result)[0].code, "AccessDenied");
  auto clean = ParseDeleteResult("<DeleteResult><Deleted><Key>a</Key></Deleted></DeleteResult>");
  ASSERT_TRUE(clean);
  EXPECT_TRUE(clean->empty());
}

TEST(S3Xml, CommentsCdataAttributesAndPrefixesAreHandled) {
  auto root = ParseXml(
      "\xEF\xBB\xBF<?xml version='1.0'?><!-- c --><s3:R a='1' b=\"x>y\"><s3:K><![CDATA[a<b]]>&amp;"
      "</s3:K><E/></s3:R><!-- after -->");
  ASSERT_TRUE(root) << root.error().message();
  EXPECT_EQ(root->name, "R");
  EXPECT_EQ(root->ChildText("K"), "a<b&");
  ASSERT_NE(root->Child("E"), nullptr);
  EXPECT_EQ(root->Child("missing"), nullptr);
}

TEST(S3Xml, MalformedBodiesAreErrorsNamingWhere) {
  for (const char* bad : {"",
                          "   ",
                          "text",
                          "<a>",
                          "<a></b>",
                          "<a><b></a></b>",
                          "<a>&bogus;</a>",
                          "<a>&#0;</a>",
                          "<a>&#xD800;</a>",
                          "<a>&#x110000;</a>",
                          "<a>&#;</a>",
                          "<a>&amp</a>",
                          "<a b></a>",
                          "<a b=c></a>",
                          "<a b='c></a>",
                          "<a></a>x",
                          "<a><!-- </a>",
                          "<a><![CDATA[x</a>",
                          "<?xml",
                          "<a><!DOCTYPE x></a>",
                          "<>",
                          "</a>"}) {
    auto parsed = ParseXml(bad);
    EXPECT_FALSE(parsed) << "accepted: " << bad;
    if (!parsed) {
      EXPECT_THAT(parsed.error().message(), HasSubstr("unreadable S3 XML at byte"));
    }
  }
  EXPECT_FALSE(ParseListObjectsV2(
      "<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>"));
  EXPECT_FALSE(ParseListObjectsV2(
      "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>"));
  EXPECT_FALSE(ParseListObjectsV2("<Other/>"));
}

TEST(S3Xml, DeepNestingIsRefusedWithoutExhaustingTheStack) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "<a>";
  auto parsed = ParseXml(deep);
  ASSERT_FALSE(parsed);
  EXPECT_THAT(parsed.error().message(), HasSubstr("deeper than 32"));
}

}  // namespace
}  // namespace tidemark::store
