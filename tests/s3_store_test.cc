// The S3 store against a real S3 server (s3rver 3.7.1, started by scripts/s3-server),
// through libcurl, each test under its own prefix of the test bucket. What s3rver does
// not do, and these tests therefore cannot show, is said where it matters: it checks
// the access key id but not the signature (curl_http_test.cc checks signatures), it
// ignores If-None-Match on PUT and If-Match on GET, and it cannot abort a multipart
// upload.

#include "tidemark/store/s3_store.h"

#include <algorithm>
#include <thread>

#include "tests/support/s3_env.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tidemark/store/curl_http.h"
#include "tidemark/store/s3_url.h"
#include "tidemark/util/strings.h"

namespace tidemark::testing {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

using store::HttpHeaders;

constexpr int64_t kMtime = 1706500000123456789;

class S3StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(prefix_.ok());
    store_ = prefix_.Open();
    ASSERT_NE(store_, nullptr);
  }

  static void Put(store::ObjectStore& store, const std::string& key, const std::string& data,
                  int64_t mtime_ns = kMtime) {
    auto writer = store.OpenWrite(key);
    ASSERT_TRUE(writer) << writer.error().message();
    ASSERT_TRUE((*writer)->Write(data.data(), data.size()));
    auto committed = (*writer)->Commit(mtime_ns);
    ASSERT_TRUE(committed) << key << ": " << committed.error().message();
  }

  static std::string Get(store::ObjectStore& store, const std::string& key) {
    auto reader = store.OpenRead(key);
    EXPECT_TRUE(reader) << reader.error().message();
    if (!reader) return "<error>";
    std::string out;
    std::vector<char> block(7777);
    while (true) {
      auto n = (*reader)->Read(block.data(), block.size());
      EXPECT_TRUE(n) << n.error().message();
      if (!n || *n == 0) return out;
      out.append(block.data(), *n);
    }
  }

  static std::vector<std::string> Keys(store::ObjectStore& store, const std::string& prefix) {
    auto objects = store.List(prefix);
    EXPECT_TRUE(objects) << objects.error().message();
    std::vector<std::string> keys;
    if (objects) {
      for (const store::ObjectInfo& object : *objects) keys.push_back(object.key);
    }
    return keys;
  }

  // The headers of a HEAD of `key` (below the test prefix), through a client of its own.
  HttpHeaders Head(const std::string& key) {
    store::S3Settings settings = prefix_.Settings();
    store::CurlHttpOptions options;
    options.signing = store::AwsSigning{settings.region, settings.credentials.access_key,
                                        settings.credentials.secret_key, ""};
    auto client = store::NewCurlHttpClient(options);
    auto endpoint = store::MakeS3Endpoint(settings.endpoint, settings.region, settings.bucket, "");
    store::HttpRequest request;
    request.method = "HEAD";
    request.url = store::S3RequestUrl(*endpoint, prefix_.prefix() + "/" + key, "");
    auto response = client->Send(request);
    EXPECT_TRUE(response) << response.error().message();
    return response ? response->headers : HttpHeaders{};
  }

  static std::string Random(size_t size) {
    std::string data;
    while (data.size() < size) data += util::RandomHex(64);
    data.resize(size);
    return data;
  }

  S3TestPrefix prefix_;
  std::unique_ptr<store::ObjectStore> store_;
};

TEST_F(S3StoreTest, ListsMoreThanAThousandKeysPageByPageSortedAndRelative) {
  constexpr int kKeys = 1003;
  std::vector<std::string> expected;
  for (int i = 0; i < kKeys; ++i) expected.push_back("dt=2024-01-01/part-" + std::to_string(i));
  std::sort(expected.begin(), expected.end());
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (int i = t; i < kKeys; i += 8) Put(*store_, expected[i], "x");
    });
  }
  for (std::thread& writer : writers) writer.join();
  Put(*store_, "dt=2024-01-02/other", "y");

  EXPECT_THAT(Keys(*store_, "dt=2024-01-01"), ElementsAreArray(expected));  // pages of 1000
  store::S3Settings settings = prefix_.Settings();
  settings.list_page_size = 150;
  auto small_pages = prefix_.Open(settings);
  EXPECT_THAT(Keys(*small_pages, "dt=2024-01-01/"), ElementsAreArray(expected));
  EXPECT_EQ(Keys(*small_pages, "").size(), kKeys + 1u);

  ASSERT_TRUE(store_->DeleteMany(expected));  // two DeleteObjects requests
  EXPECT_THAT(Keys(*store_, ""), ElementsAre("dt=2024-01-02/other"));
  EXPECT_FALSE(*store_->Exists("dt=2024-01-01"));
  EXPECT_TRUE(*store_->Exists("dt=2024-01-02"));
}

TEST_F(S3StoreTest, StatAndListAgreeAndAbsentKeysAreNotErrors) {
  Put(*store_, "a/b.parquet", "12345");
  auto listed = store_->List("a");
  ASSERT_TRUE(listed && listed->size() == 1u);
  auto stat = store_->Stat("a/b.parquet");
  ASSERT_TRUE(stat && *stat);
  EXPECT_EQ((*stat)->size, 5);
  EXPECT_EQ((*stat)->mtime_ns, (*listed)[0].mtime_ns);
  EXPECT_EQ((*stat)->mtime_ns % 1000000000, 0) << "whole seconds: the server's LastModified";
  EXPECT_FALSE(*store_->Stat("a/missing"));
  EXPECT_THAT(Keys(*store_, "nothing/here"), IsEmpty());
  EXPECT_THAT(Keys(*store_, "a/b.parquet"), ElementsAre("a/b.parquet"));
  EXPECT_TRUE(store_->Delete("a/missing"));
}

TEST_F(S3StoreTest, ReadsInRangedChunksAndSingleRanges) {
  const std::string data = Random(10000);
  Put(*store_, "data.bin", data);
  store::S3Settings settings = prefix_.Settings();
  settings.read_chunk_size = 1000;
  auto chunked = prefix_.Open(settings);
  EXPECT_EQ(Get(*chunked, "data.bin"), data);
  EXPECT_EQ(*store_->ReadRange("data.bin", 1234, 100), data.substr(1234, 100));
  EXPECT_EQ(*store_->ReadRange("data.bin", 9990, 100), data.substr(9990));
  EXPECT_EQ(*store_->ReadRange("data.bin", 10000, 5), "");
  Put(*store_, "empty", "");
  EXPECT_EQ(Get(*store_, "empty"), "");
  auto missing = store_->OpenRead("missing");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message(), HasSubstr("404 NoSuchKey"));
}

TEST_F(S3StoreTest, LargeObjectsAreMultipartUploadsOfTinyParts) {
  // s3rver does not enforce S3's 5 MiB minimum for parts but the last, so parts of 4 KiB
  // exercise the same requests.
  store::S3Settings settings = prefix_.Settings();
  settings.part_size = 4096;
  settings.multipart_threshold = 0;  // multipart from the first full part
  auto store = prefix_.Open(settings);
  const std::string data = Random(4096 * 5 + 123);
  auto writer = store->OpenWrite("big.parquet");
  ASSERT_TRUE(writer);
  for (size_t at = 0; at < data.size(); at += 3000) {
    ASSERT_TRUE((*writer)->Write(data.data() + at, std::min<size_t>(3000, data.size() - at)));
  }
  EXPECT_FALSE(*store->Stat("big.parquet")) << "invisible before the commit";
  ASSERT_TRUE((*writer)->Commit(kMtime));
  EXPECT_EQ(Get(*store, "big.parquet"), data);
  EXPECT_EQ((*store->Stat("big.parquet"))->size, static_cast<int64_t>(data.size()));
  {
    auto abandoned = store->OpenWrite("abandoned");
    ASSERT_TRUE((*abandoned)->Write(data.data(), data.size()));
  }  // aborted (s3rver answers the abort with 405, which is ignored)
  EXPECT_THAT(Keys(*store, ""), ElementsAre("big.parquet"));
}

TEST_F(S3StoreTest, CopyWithinKeepsTheBytesAndTheMtimeMetadata) {
  const std::string key = "ts=2024-01-01 10%3A00%3A00/part-0.parquet";
  Put(*store_, key, "parquet bytes", kMtime);
  ASSERT_TRUE(store_->CopyWithin(key, "copy/" + key));
  EXPECT_EQ(Get(*store_, "copy/" + key), "parquet bytes");
  bool found = false;
  for (const auto& [name, value] : Head("copy/" + key)) {
    if (name == "x-amz-meta-tidemark-mtime-ns") {
      found = true;
      EXPECT_EQ(value, std::to_string(kMtime));
    }
  }
  EXPECT_TRUE(found) << "the copy kept the metadata";
  auto missing = store_->CopyWithin("nothing", "x");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message(), HasSubstr("nothing is missing; cannot copy it"));
}

TEST_F(S3StoreTest, BatchDeleteRemovesWhatIsThereAndIgnoresWhatIsNot) {
  for (const char* key : {"a", "b c", "d+e", "keep"}) Put(*store_, key, "x");
  ASSERT_TRUE(store_->DeleteMany({"a", "b c", "d+e", "never-there"}));
  EXPECT_THAT(Keys(*store_, ""), ElementsAre("keep"));
}

TEST_F(S3StoreTest, PutIfAbsentRefusesS3rverWhichIgnoresIfNoneMatch) {
  Put(*store_, "_delta_log/00000000000000000000.json", "commit 0");
  auto put = store_->PutIfAbsent("_delta_log/00000000000000000001.json", "commit 1");
  ASSERT_FALSE(put) << "s3rver 3.7.1 overwrites despite If-None-Match: *";
  EXPECT_EQ(put.error().category(), util::ErrorCategory::kConfig);
  EXPECT_THAT(put.error().message(),
              AllOf(HasSubstr("ignores If-None-Match on PUT"), HasSubstr("Delta commits")));
  // Nothing was written, and the probe is gone.
  EXPECT_THAT(Keys(*store_, ""), ElementsAre("_delta_log/00000000000000000000.json"));
}

TEST_F(S3StoreTest, KeysWithSpacesPercentEqualsPlusAndUnicodeRoundTrip) {
  const std::vector<std::string> keys = {"ts=2024-01-01 10%3A00%3A00/part-0.parquet",
                                         "a+b=c/d&e;f,g@h$i", "é/日本語/ü x",
                                         "quote'paren(1)/star*bang!", "tilde~under_score.dash-"};
  for (const std::string& key : keys) Put(*store_, key, "bytes of " + key);
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_THAT(Keys(*store_, ""), ElementsAreArray(sorted));
  for (const std::string& key : keys) {
    EXPECT_EQ(Get(*store_, key), "bytes of " + key);
    auto stat = store_->Stat(key);
    ASSERT_TRUE(stat && *stat) << key;
    EXPECT_EQ((*stat)->key, key);
  }
  EXPECT_THAT(Keys(*store_, "ts=2024-01-01 10%3A00%3A00"),
              ElementsAre("ts=2024-01-01 10%3A00%3A00/part-0.parquet"));
  ASSERT_TRUE(store_->CopyWithin(keys[0], "copied/" + keys[0]));
  EXPECT_EQ(Get(*store_, "copied/" + keys[0]), "bytes of " + keys[0]);
  ASSERT_TRUE(store_->Delete(keys[2]));
  ASSERT_TRUE(store_->DeleteMany({keys[0], keys[1], keys[3], keys[4], "copied/" + keys[0]}));
  EXPECT_THAT(Keys(*store_, ""), IsEmpty());
}

TEST_F(S3StoreTest, WrongCredentialsFailAtOnceWithoutShowingTheSecret) {
  store::S3Settings settings = prefix_.Settings();
  settings.credentials.access_key = "AKIAWRONGWRONGWRONG";
  settings.credentials.secret_key = "the-wrong-secret-never-printed";
  auto store = prefix_.Open(settings);
  auto listed = store->List("");
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().category(), util::ErrorCategory::kConfig);
  EXPECT_FALSE(listed.error().retryable());
  EXPECT_THAT(listed.error().message(),
              AllOf(HasSubstr("S3 GET s3://" + settings.bucket + ": 403 InvalidAccessKeyId"),
                    HasSubstr("check the credentials (from connection 'lake')"),
                    Not(HasSubstr("the-wrong-secret"))));
  auto written = store->OpenWrite("k");
  ASSERT_TRUE(written);
  auto committed = (*written)->Commit(kMtime);
  ASSERT_FALSE(committed);
  EXPECT_THAT(committed.error().message(), HasSubstr("403 InvalidAccessKeyId"));
}

TEST_F(S3StoreTest, AMissingBucketIsAConfigurationError) {
  store::S3Settings settings = prefix_.Settings();
  settings.bucket = "tidemark-no-such-bucket-" + util::RandomHex(6);
  auto store = prefix_.Open(settings);
  auto listed = store->List("");
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().category(), util::ErrorCategory::kConfig);
  EXPECT_THAT(listed.error().message(),
              AllOf(HasSubstr("404 NoSuchBucket"),
                    HasSubstr("the bucket " + settings.bucket + " does not exist at 127.0.0.1:")));
  auto probe = store->ProbeWritable("archive");
  ASSERT_FALSE(probe);
  EXPECT_THAT(probe.error().message(), HasSubstr("NoSuchBucket"));
  auto deleted = store->Delete("k");
  ASSERT_FALSE(deleted) << "a DELETE in a missing bucket is no success";
  EXPECT_THAT(deleted.error().message(), HasSubstr("NoSuchBucket"));
}

TEST_F(S3StoreTest, AServerThatIsGoneFailsAfterTheRetries) {
  store::S3Settings settings = prefix_.Settings();
  settings.endpoint = "http://127.0.0.1:1";
  settings.retry.attempts = 3;
  auto store = prefix_.Open(settings);
  auto listed = store->List("");
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().category(), util::ErrorCategory::kConnect);
  EXPECT_THAT(listed.error().message(),
              AllOf(HasSubstr("http://127.0.0.1:1/"), HasSubstr("gave up after 3 attempts")));
}

TEST_F(S3StoreTest, OpenStoreTakesTheConnectionAndProbesWritability) {
  auto store = store::OpenStore(prefix_.url() + "/events", &prefix_.config());
  ASSERT_TRUE(store) << store.error().message();
  EXPECT_EQ((*store)->url(), prefix_.url() + "/events");
  ASSERT_TRUE((*store)->ProbeWritable("dt=2024-01-01"));
  Put(**store, "dt=2024-01-01/part-0.parquet", "p");
  EXPECT_THAT(Keys(*store_, ""), ElementsAre("events/dt=2024-01-01/part-0.parquet"));
  EXPECT_FALSE((*store)->CanRename());
  EXPECT_TRUE((*store)->PruneEmpty("dt=2024-01-01"));
  EXPECT_TRUE((*store)->Sync("dt=2024-01-01"));
}

}  // namespace
}  // namespace tidemark::testing
