// The S3 store against an in-memory S3 (FakeS3 below, reached through the HttpClient
// interface): each test states the objects the bucket holds afterwards and the requests
// that were sent. Faults are injected per request; retries do not wait.

#include "tidemark/store/s3_store.h"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tidemark/config/config.h"
#include "tidemark/store/s3_checksums.h"
#include "tidemark/store/s3_xml.h"
#include "tidemark/util/strings.h"

namespace tidemark::store {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kHost[] = "http://fake.test";
constexpr int64_t kStart = 1704448800;  // 2024-01-05T10:00:00Z

struct StoredObject {
  std::string data;
  std::map<std::string, std::string> metadata;  // x-amz-meta-* headers
  int64_t mtime = 0;                            // seconds
  std::string etag;                             // quoted
};

// A failure for the next request of `method` ("" for any): an HTTP error, or a lost
// connection, before or (`after`) once the request took effect.
struct Fault {
  std::string method;
  int status = 0;
  std::string code;
  bool after = false;
};

struct Sent {
  std::string method;
  std::string target;  // path and query, as sent
  HttpHeaders headers;
  std::string body;
  std::string payload_sha256;
  std::string Header(const std::string& name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return "";
  }
};

std::string Time(int64_t seconds, const char* format) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm;
  gmtime_r(&t, &tm);
  char text[64];
  std::strftime(text, sizeof text, format, &tm);
  return text;
}

std::string Xml(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

HttpResponse Reply(int status, std::string body = "", HttpHeaders headers = {}) {
  return HttpResponse{status, std::move(headers), std::move(body)};
}

HttpResponse ErrorReply(int status, const std::string& code) {
  return Reply(status, "<Error><Code>" + code + "</Code><Message>" + code +
                           " happened</Message><RequestId>F1</RequestId></Error>");
}

// Enough of S3 for the store: path-style requests to the bucket "lake".
struct FakeS3 {
  std::map<std::string, StoredObject> objects;
  std::map<std::string, std::map<int, std::string>> uploads;  // id -> part number -> bytes
  std::map<std::string, std::string> upload_keys;
  std::set<std::string> undeletable;
  bool honour_if_none_match = true;
  std::deque<Fault> faults;
  std::vector<Sent> sent;
  int64_t clock = kStart;
  int next_upload = 1;

  void Put(const std::string& key, std::string data, std::map<std::string, std::string> meta = {}) {
    objects[key] = {data, std::move(meta), clock++, "\"" + Md5Hex(data) + "\""};
  }

  // "PUT /lake/a?partNumber=1&uploadId=u1" for each request, in order.
  std::vector<std::string> Requests() const {
    std::vector<std::string> out;
    for (const Sent& s : sent) out.push_back(s.method + " " + s.target);
    return out;
  }

  util::Result<HttpResponse> Handle(const HttpRequest& request) {
    std::string target = request.url.substr(std::string(kHost).size());
    sent.push_back({request.method, target, request.headers, std::string(request.body),
                    request.payload_sha256});
    std::optional<Fault> fault;
    if (!faults.empty() &&
        (faults.front().method.empty() || faults.front().method == request.method)) {
      fault = faults.front();
      faults.pop_front();
    }
    auto lost =
        util::Error(util::ErrorCategory::kConnect, request.url + ": Connection reset", true);
    if (fault && !fault->after) {
      if (fault->status == 0) return tl::unexpected(lost);
      return ErrorReply(fault->status, fault->code);
    }
    HttpResponse response = Dispatch(request, target);
    if (fault) return tl::unexpected(lost);
    return response;
  }

  HttpResponse Dispatch(const HttpRequest& request, const std::string& target) {
    const size_t question = target.find('?');
    std::map<std::string, std::string> query;
    if (question != std::string::npos) {
      for (const std::string& p : util::Split(target.substr(question + 1), '&')) {
        size_t eq = p.find('=');
        query[util::PercentDecode(p.substr(0, eq))] = util::PercentDecode(p.substr(eq + 1));
      }
    }
    std::string path = util::PercentDecode(target.substr(0, question));
    if (!util::StartsWith(path, "/lake")) return ErrorReply(404, "NoSuchBucket");
    std::string key = path.size() > 6 ? path.substr(6) : "";
    const std::string& m = request.method;
    if (key.empty() && m == "GET") return List(query);
    if (key.empty() && m == "POST" && query.count("delete")) return DeleteObjects(request);
    if (m == "HEAD" || m == "GET") return Get(request, key);
    if (m == "POST" && query.count("uploads")) return Initiate(key);
    if (m == "POST" && query.count("uploadId")) return Complete(request, key, query["uploadId"]);
    if (m == "PUT" && query.count("uploadId")) {
      if (!uploads.count(query["uploadId"])) return ErrorReply(404, "NoSuchUpload");
      uploads[query["uploadId"]][std::stoi(query["partNumber"])] = std::string(request.body);
      return Reply(200, "", {{"etag", "\"" + Md5Hex(request.body) + "\""}});
    }
    if (m == "PUT") return PutObject(request, key);
    if (m == "DELETE" && query.count("uploadId")) {
      return uploads.erase(query["uploadId"]) ? Reply(204) : ErrorReply(404, "NoSuchUpload");
    }
    if (m == "DELETE") {
      objects.erase(key);
      return Reply(204);
    }
    return ErrorReply(405, "MethodNotAllowed");
  }

  HttpResponse List(std::map<std::string, std::string>& query) {
    const std::string prefix = query["prefix"];
    const std::string after = query["continuation-token"];
    const int max_keys = std::stoi(query["max-keys"]);
    std::string body = "<ListBucketResult><Name>lake</Name>";
    int count = 0;
    std::string last;
    bool truncated = false;
    for (const auto& [key, object] : objects) {
      if (!util::StartsWith(key, prefix) || (!after.empty() && key <= after)) continue;
      if (count == max_keys) {
        truncated = true;
        break;
      }
      body += "<Contents><Key>" + Xml(key) + "</Key><LastModified>" +
              Time(object.mtime, "%Y-%m-%dT%H:%M:%S.") + "123Z</LastModified><ETag>" + object.etag +
              "</ETag><Size>" + std::to_string(object.data.size()) + "</Size></Contents>";
      last = key;
      ++count;
    }
    body += std::string("<IsTruncated>") + (truncated ? "true" : "false") + "</IsTruncated>";
    if (truncated) body += "<NextContinuationToken>" + Xml(last) + "</NextContinuationToken>";
    return Reply(200, body + "</ListBucketResult>");
  }

  HttpResponse Get(const HttpRequest& request, const std::string& key) {
    auto it = objects.find(key);
    if (it == objects.end())
      return request.method == "HEAD" ? Reply(404) : ErrorReply(404, "NoSuchKey");
    const StoredObject& object = it->second;
    std::string if_match = Header(request, "If-Match");
    if (!if_match.empty() && if_match != object.etag) return ErrorReply(412, "PreconditionFailed");
    HttpHeaders headers = {{"etag", object.etag},
                           {"last-modified", Time(object.mtime, "%a, %d %b %Y %H:%M:%S GMT")},
                           {"content-length", std::to_string(object.data.size())}};
    if (request.method == "HEAD") return Reply(200, "", headers);
    std::string range = Header(request, "Range");
    if (range.empty()) return Reply(200, object.data, headers);
    const int64_t size = static_cast<int64_t>(object.data.size());
    int64_t first = std::stoll(range.substr(6)),
            last = std::stoll(range.substr(range.find('-') + 1));
    if (first >= size) return ErrorReply(416, "InvalidRange");
    last = std::min(last, size - 1);
    headers.push_back({"content-range", "bytes " + std::to_string(first) + "-" +
                                            std::to_string(last) + "/" + std::to_string(size)});
    return Reply(206, object.data.substr(first, last - first + 1), headers);
  }

  HttpResponse PutObject(const HttpRequest& request, const std::string& key) {
    std::string source = Header(request, "x-amz-copy-source");
    if (!source.empty()) {
      auto it = objects.find(util::PercentDecode(source).substr(std::string("/lake/").size()));
      if (it == objects.end()) return ErrorReply(404, "NoSuchKey");
      StoredObject copy = it->second;
      copy.mtime = clock++;
      objects[key] = copy;
      return Reply(200, "<CopyObjectResult><ETag>" + copy.etag + "</ETag></CopyObjectResult>");
    }
    if (honour_if_none_match && Header(request, "If-None-Match") == "*" && objects.count(key)) {
      return ErrorReply(412, "PreconditionFailed");
    }
    std::map<std::string, std::string> meta;
    for (const auto& [name, value] : request.headers) {
      if (util::StartsWith(name, "x-amz-meta-")) meta[name] = value;
    }
    Put(key, std::string(request.body), meta);
    return Reply(200, "", {{"etag", objects[key].etag}});
  }

  HttpResponse Initiate(const std::string& key) {
    std::string id = "u" + std::to_string(next_upload++);
    uploads[id];
    upload_keys[id] = key;
    return Reply(200, "<InitiateMultipartUploadResult><UploadId>" + id +
                          "</UploadId></InitiateMultipartUploadResult>");
  }

  HttpResponse Complete(const HttpRequest& request, const std::string& key, const std::string& id) {
    if (!uploads.count(id)) return ErrorReply(404, "NoSuchUpload");
    auto xml = ParseXml(request.body);
    std::string data;
    int parts = 0;
    for (const XmlElement& part : xml->children) {
      int number = std::stoi(part.ChildText("PartNumber"));
      const std::string& bytes = uploads[id][number];
      if (part.ChildText("ETag") != "\"" + Md5Hex(bytes) + "\"")
        return ErrorReply(400, "InvalidPart");
      data += bytes;
      ++parts;
    }
    Put(key, data);
    objects[key].etag = "\"" + Md5Hex(data) + "-" + std::to_string(parts) + "\"";
    uploads.erase(id);
    return Reply(200, "<CompleteMultipartUploadResult><ETag>" + objects[key].etag +
                          "</ETag></CompleteMultipartUploadResult>");
  }

  HttpResponse DeleteObjects(const HttpRequest& request) {
    if (Header(request, "Content-MD5") != ContentMd5(request.body)) {
      return ErrorReply(400, "InvalidDigest");
    }
    auto xml = ParseXml(request.body);
    std::string body = "<DeleteResult>";
    for (const XmlElement& object : xml->children) {
      if (object.name != "Object") continue;
      const std::string key = object.ChildText("Key");
      if (undeletable.count(key)) {
        body += "<Error><Key>" + Xml(key) +
                "</Key><Code>AccessDenied</Code><Message>Access "
                "Denied</Message></Error>";
      } else {
        objects.erase(key);
      }
    }
    return Reply(200, body + "</DeleteResult>");
  }

  static std::string Header(const HttpRequest& request, const std::string& name) {
    for (const auto& [key, value] : request.headers) {
      if (key == name) return value;
    }
    return "";
  }
};

// Part uploads waiting for each other, to show how many are under way at once: each
// waits until `width` are (or a second has passed), and the most seen is kept.
struct PartGate {
  int width = 0;  // 0: parts pass at once
  std::mutex mutex;
  std::condition_variable changed;
  int waiting = 0;
  int most = 0;

  void Pass(const HttpRequest& request) {
    if (width == 0 || request.url.find("partNumber=") == std::string::npos) return;
    std::unique_lock<std::mutex> lock(mutex);
    most = std::max(most, ++waiting);
    changed.notify_all();
    changed.wait_for(lock, std::chrono::seconds(1), [&] { return waiting >= width; });
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // before the count drops
    lock.lock();
    --waiting;
  }
};

class FakeHttp : public HttpClient {
 public:
  FakeHttp(FakeS3* s3, PartGate* gate = nullptr) : s3_(s3), gate_(gate) {}
  util::Result<HttpResponse> Send(const HttpRequest& request) override {
    if (gate_ != nullptr) gate_->Pass(request);
    if (request.body_source) {  // read through, as libcurl would send it
      std::string body(static_cast<size_t>(request.body_size), '\0');
      for (size_t at = 0; at < body.size();) {
        auto n = request.body_source(static_cast<int64_t>(at), body.data() + at, body.size() - at);
        if (!n) return tl::unexpected(n.error());
        if (*n == 0) return util::Fail(util::ErrorCategory::kConnect, "upload ended short");
        at += *n;
      }
      HttpRequest whole = request;
      whole.body_source = nullptr;
      whole.body = body;
      return Send(whole);
    }
    std::lock_guard<std::mutex> lock(mutex_);  // parts may come from several threads
    auto response = s3_->Handle(request);
    const int64_t limit = request.max_body_bytes;
    if (response && response->status / 100 == 2 && limit >= 0 &&
        static_cast<int64_t>(response->body.size()) > limit) {
      response->body.resize(static_cast<size_t>(limit));
      response->body_truncated = true;
    }
    return response;
  }

 private:
  FakeS3* s3_;
  PartGate* gate_;
  std::mutex mutex_;
};

class S3StoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<ObjectStore> Open(const std::string& prefix = "base", int64_t threshold = 4,
                                    int parts_in_flight = 1) {
    S3Settings settings;
    settings.bucket = "lake";
    settings.prefix = prefix;
    settings.endpoint = kHost;
    settings.credentials.source = "connection 'lake'";
    settings.multipart_threshold = threshold;
    settings.part_size = 4;
    settings.parts_in_flight = parts_in_flight;
    settings.read_chunk_size = 4;
    settings.list_page_size = 2;
    auto store = NewS3Store(settings, std::make_unique<FakeHttp>(&s3_, &gate_), [](auto) {});
    EXPECT_TRUE(store) << store.error().message();
    return store ? std::move(*store) : nullptr;
  }

  std::string ReadAll(ObjectStore& store, const std::string& key) {
    auto reader = store.OpenRead(key);
    EXPECT_TRUE(reader) << reader.error().message();
    if (!reader) return "<error>";
    std::string out;
    char block[3];
    while (true) {
      auto n = (*reader)->Read(block, sizeof block);
      EXPECT_TRUE(n) << n.error().message();
      if (!n || *n == 0) return out;
      out.append(block, *n);
    }
  }

  std::map<std::string, std::string> Contents() const {
    std::map<std::string, std::string> out;
    for (const auto& [key, object] : s3_.objects) out[key] = object.data;
    return out;
  }

  FakeS3 s3_;
  PartGate gate_;
};

std::vector<std::string> Keys(const util::Result<std::vector<ObjectInfo>>& objects) {
  EXPECT_TRUE(objects) << objects.error().message();
  std::vector<std::string> keys;
  if (objects) {
    for (const ObjectInfo& object : *objects) keys.push_back(object.key);
  }
  return keys;
}

TEST_F(S3StoreTest, ListPagesThroughADirectoryWithKeysRelativeToTheRoot) {
  for (const char* key :
       {"base/a/1", "base/a/2", "base/a/3", "base/ab", "base/a/dir/", "other/x"}) {
    s3_.Put(key, "x");
  }
  auto store = Open();
  EXPECT_EQ(store->url(), "s3://lake/base");
  EXPECT_THAT(Keys(store->List("a")), ElementsAre("a/1", "a/2", "a/3"));
  EXPECT_THAT(s3_.Requests(),
              ElementsAre("GET /lake?list-type=2&max-keys=2&prefix=base%2Fa%2F",
                          "GET /lake?continuation-token=base%2Fa%2F2&list-type=2&max-keys=2&"
                          "prefix=base%2Fa%2F"));
  EXPECT_THAT(Keys(store->List("")), ElementsAre("a/1", "a/2", "a/3", "ab"));
  EXPECT_THAT(Keys(store->List("ab")), ElementsAre("ab"));
  EXPECT_THAT(Keys(store->List("absent")), IsEmpty());
}

TEST_F(S3StoreTest, ListAndStatAgreeOnSizeAndWholeSecondMtime) {
  s3_.Put("base/k", "hello");
  auto store = Open();
  auto listed = store->List("k");
  ASSERT_TRUE(listed && listed->size() == 1u);
  auto stat = store->Stat("k");
  ASSERT_TRUE(stat && *stat) << (stat ? "absent" : stat.error().message());
  EXPECT_EQ((*stat)->key, "k");
  EXPECT_EQ((*stat)->size, 5);
  EXPECT_EQ((*stat)->mtime_ns, kStart * 1000000000);
  EXPECT_EQ((*listed)[0].mtime_ns, (*stat)->mtime_ns);
  EXPECT_EQ((*listed)[0].size, 5);
  auto absent = store->Stat("nothing");
  ASSERT_TRUE(absent);
  EXPECT_FALSE(*absent);
}

TEST_F(S3StoreTest, ExistsAsksForOneKey) {
  s3_.Put("base/dir/sub/f", "x");
  auto store = Open();
  EXPECT_TRUE(*store->Exists("dir"));
  EXPECT_TRUE(*store->Exists("dir/sub/f"));
  EXPECT_FALSE(*store->Exists("di"));
  EXPECT_THAT(s3_.Requests()[0], HasSubstr("max-keys=1&"));
}

TEST_F(S3StoreTest, AReaderFetchesRangedChunksPinnedToTheFirstETag) {
  s3_.Put("base/k", "0123456789");
  auto store = Open();
  EXPECT_EQ(ReadAll(*store, "k"), "0123456789");
  ASSERT_EQ(s3_.sent.size(), 3u);
  EXPECT_EQ(s3_.sent[0].Header("Range"), "");  // the first chunk of a plain GET
  EXPECT_EQ(s3_.sent[0].Header("If-Match"), "");
  EXPECT_EQ(s3_.sent[1].Header("Range"), "bytes=4-7");
  EXPECT_EQ(s3_.sent[1].Header("If-Match"), s3_.objects["base/k"].etag);
  EXPECT_EQ(s3_.sent[2].Header("Range"), "bytes=8-9");
  EXPECT_EQ(s3_.sent[2].Header("If-Match"), s3_.objects["base/k"].etag);
}

TEST_F(S3StoreTest, AChunkIsRetriedOnItsOwn) {
  s3_.Put("base/k", "0123456789");
  auto store = Open();
  auto reader = store->OpenRead("k");
  ASSERT_TRUE(reader);
  s3_.faults = {{"GET", 503, "SlowDown"}, {"GET", 0, "", false}};
  std::string out;
  char block[16];
  while (auto n = (*reader)->Read(block, sizeof block)) {
    if (*n == 0) break;
    out.append(block, *n);
  }
  EXPECT_EQ(out, "0123456789");
  EXPECT_EQ(s3_.sent.size(), 5u);  // 0-3, 4-7 failing twice, 4-7, 8-9
}

TEST_F(S3StoreTest, AReaderFailsWhenTheObjectIsReplacedMeanwhile) {
  s3_.Put("base/k", "0123456789");
  auto store = Open();
  auto reader = store->OpenRead("k");
  ASSERT_TRUE(reader);
  char block[4];
  ASSERT_EQ(*(*reader)->Read(block, 4), 4u);
  s3_.Put("base/k", "abcdefghij");
  auto next = (*reader)->Read(block, 4);
  ASSERT_FALSE(next);
  EXPECT_THAT(next.error().message(), HasSubstr("s3://lake/base/k was replaced while it was read"));
}

TEST_F(S3StoreTest, EmptyAndMissingObjects) {
  s3_.Put("base/empty", "");
  auto store = Open();
  EXPECT_EQ(ReadAll(*store, "empty"), "");
  auto missing = store->OpenRead("missing");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message(), HasSubstr("S3 GET s3://lake/base/missing: 404 NoSuchKey"));
}

TEST_F(S3StoreTest, ReadRangeIsOneRangedGet) {
  s3_.Put("base/k", "0123456789");
  auto store = Open();
  EXPECT_EQ(*store->ReadRange("k", 2, 3), "234");
  EXPECT_EQ(*store->ReadRange("k", 8, 10), "89");
  EXPECT_EQ(*store->ReadRange("k", 10, 5), "");
  EXPECT_EQ(*store->ReadRange("k", 0, 0), "");
  EXPECT_EQ(s3_.sent.size(), 3u);
}

TEST_F(S3StoreTest, ASmallObjectIsOnePutCarryingItsMtime) {
  auto store = Open();
  auto writer = store->OpenWrite("dt=1/f");
  ASSERT_TRUE(writer);
  ASSERT_TRUE((*writer)->Write("abc", 3));
  EXPECT_THAT(Contents(), IsEmpty());
  ASSERT_TRUE((*writer)->Commit(1706500000123456789));
  EXPECT_EQ(Contents(), (std::map<std::string, std::string>{{"base/dt=1/f", "abc"}}));
  EXPECT_EQ(s3_.objects["base/dt=1/f"].metadata["x-amz-meta-tidemark-mtime-ns"],
            "1706500000123456789");
  EXPECT_THAT(s3_.Requests(), ElementsAre("PUT /lake/base/dt%3D1/f"));
}

TEST_F(S3StoreTest, ALargeObjectIsAMultipartUploadOfPartsAsTheyFill) {
  auto store = Open();
  auto writer = store->OpenWrite("big");
  ASSERT_TRUE(writer);
  ASSERT_TRUE((*writer)->Write("012345", 6));
  ASSERT_TRUE((*writer)->Write("6789", 4));
  EXPECT_THAT(Contents(), IsEmpty());
  ASSERT_TRUE((*writer)->Commit(1));
  EXPECT_EQ(Contents(), (std::map<std::string, std::string>{{"base/big", "0123456789"}}));
  EXPECT_THAT(s3_.Requests(), ElementsAre("POST /lake/base/big?uploads=",
                                          "PUT /lake/base/big?partNumber=1&uploadId=u1",
                                          "PUT /lake/base/big?partNumber=2&uploadId=u1",
                                          "PUT /lake/base/big?partNumber=3&uploadId=u1",
                                          "POST /lake/base/big?uploadId=u1"));
  EXPECT_THAT(s3_.uploads, IsEmpty());
}

TEST_F(S3StoreTest, AnObjectUpToTheThresholdIsOnePutWhateverThePartSize) {
  auto store = Open("base", 8);
  auto writer = store->OpenWrite("eight");
  ASSERT_TRUE(writer);
  for (char c : std::string("01234567")) ASSERT_TRUE((*writer)->Write(&c, 1));
  ASSERT_TRUE((*writer)->Commit(1));
  EXPECT_THAT(s3_.Requests(), ElementsAre("PUT /lake/base/eight"));

  // One byte more: the parts start when the threshold is passed, each of the part size.
  s3_.sent.clear();
  writer = store->OpenWrite("nine");
  ASSERT_TRUE(writer);
  ASSERT_TRUE((*writer)->Write("01234567", 8));
  EXPECT_THAT(s3_.Requests(), IsEmpty());
  ASSERT_TRUE((*writer)->Write("8", 1));
  ASSERT_TRUE((*writer)->Commit(1));
  EXPECT_EQ(Contents()["base/nine"], "012345678");
  EXPECT_THAT(s3_.Requests(), ElementsAre("POST /lake/base/nine?uploads=",
                                          "PUT /lake/base/nine?partNumber=1&uploadId=u1",
                                          "PUT /lake/base/nine?partNumber=2&uploadId=u1",
                                          "PUT /lake/base/nine?partNumber=3&uploadId=u1",
                                          "POST /lake/base/nine?uploadId=u1"));
}

TEST_F(S3StoreTest, PartsGoSeveralAtOnceAndTheUploadListsThemInOrder) {
  gate_.width = 3;
  auto store = Open("base", 4, 3);
  auto writer = store->OpenWrite("big");
  ASSERT_TRUE(writer);
  const std::string data = "abcdefghijklmnopqrstuvwxyz0123456789!";  // 9 full parts and 1 byte
  ASSERT_TRUE((*writer)->Write(data.data(), data.size()));
  ASSERT_TRUE((*writer)->Commit(1));
  EXPECT_EQ(gate_.most, 3);
  EXPECT_EQ(Contents(), (std::map<std::string, std::string>{{"base/big", data}}));
  std::vector<std::string> requests = s3_.Requests();
  ASSERT_EQ(requests.size(), 12u);
  EXPECT_EQ(requests.front(), "POST /lake/base/big?uploads=");
  EXPECT_EQ(requests.back(), "POST /lake/base/big?uploadId=u1");
  const std::string& complete = s3_.sent.back().body;
  for (int part = 1; part <= 10; ++part) {
    EXPECT_THAT(complete, HasSubstr("<Part><PartNumber>" + std::to_string(part) +
                                    "</PartNumber><ETag>&quot;" +
                                    Md5Hex(data.substr(4 * (part - 1), 4)) + "&quot;</ETag>"));
  }
  EXPECT_THAT(s3_.uploads, IsEmpty());
}

TEST_F(S3StoreTest, AFailedPartAbortsTheUploadAfterThePartsUnderWayHaveEnded) {
  gate_.width = 3;
  auto store = Open("base", 4, 3);
  auto writer = store->OpenWrite("big");
  ASSERT_TRUE(writer);
  s3_.faults = {{"PUT", 400, "InvalidArgument"}};  // the first part to arrive
  auto written = (*writer)->Write("0123456789ab", 12);  // three parts at once
  util::Status status = written ? (*writer)->Commit(1) : written;
  ASSERT_FALSE(status);
  EXPECT_THAT(status.error().message(), HasSubstr("400 InvalidArgument"));
  EXPECT_THAT(Contents(), IsEmpty());
  EXPECT_THAT(s3_.uploads, IsEmpty());
  EXPECT_THAT(s3_.Requests().back(), HasSubstr("DELETE /lake/base/big?uploadId="));
}

TEST_F(S3StoreTest, AStreamUpToTheThresholdIsOnePutSignedWithTheCallersHashAndRetriedFromTheStart) {
  auto store = Open("base", 8);
  EXPECT_TRUE(store->StreamsPut(8));
  EXPECT_FALSE(store->StreamsPut(9));
  const std::string data = "01234567";
  std::vector<int64_t> offsets;
  ByteSource source = [&](int64_t offset, char* buffer, size_t size) -> util::Result<size_t> {
    offsets.push_back(offset);
    const size_t n = std::min<size_t>(size, 3);  // short reads, as a file may give
    data.copy(buffer, n, static_cast<size_t>(offset));
    return n;
  };
  s3_.faults = {{"PUT", 503, "SlowDown"}};
  ASSERT_TRUE(store->PutFromSource("s", 8, "cafe", 1706500000123456789, source));
  EXPECT_EQ(Contents()["base/s"], data);
  EXPECT_EQ(s3_.objects["base/s"].metadata["x-amz-meta-tidemark-mtime-ns"],
            "1706500000123456789");
  EXPECT_THAT(s3_.Requests(), ElementsAre("PUT /lake/base/s", "PUT /lake/base/s"));
  EXPECT_EQ(s3_.sent.back().payload_sha256, "cafe");
  EXPECT_THAT(offsets, ElementsAre(0, 3, 6, 0, 3, 6)) << "the retry reads from the start";
}

TEST_F(S3StoreTest, AStreamOverTheThresholdIsAMultipartUpload) {
  auto store = Open("base", 8);
  const std::string data = "0123456789";
  ByteSource source = [&](int64_t offset, char* buffer, size_t size) -> util::Result<size_t> {
    return data.copy(buffer, size, static_cast<size_t>(offset));
  };
  ASSERT_TRUE(store->PutFromSource("m", 10, "", 1, source));
  EXPECT_EQ(Contents()["base/m"], data);
  EXPECT_EQ(s3_.Requests().front(), "POST /lake/base/m?uploads=");
  EXPECT_EQ(s3_.Requests().back(), "POST /lake/base/m?uploadId=u1");
}

TEST_F(S3StoreTest, AnUncommittedOrFailedMultipartUploadIsAborted) {
  auto store = Open();
  {
    auto writer = store->OpenWrite("big");
    ASSERT_TRUE((*writer)->Write("0123456789", 10));
    EXPECT_EQ(s3_.uploads.size(), 1u);
  }
  EXPECT_THAT(s3_.uploads, IsEmpty());
  EXPECT_EQ(s3_.Requests().back(), "DELETE /lake/base/big?uploadId=u1");

  auto writer = store->OpenWrite("big");
  ASSERT_TRUE((*writer)->Write("0123", 4));
  s3_.faults = {{"PUT", 400, "InvalidArgument"}};
  auto failed = (*writer)->Write("4567", 4);
  ASSERT_FALSE(failed);
  EXPECT_THAT(failed.error().message(), HasSubstr("400 InvalidArgument"));
  EXPECT_THAT(s3_.uploads, IsEmpty());
  auto commit = (*writer)->Commit(1);
  ASSERT_FALSE(commit);
  EXPECT_THAT(commit.error().message(), HasSubstr("an earlier write of s3://lake/base/big failed"));
  EXPECT_THAT(Contents(), IsEmpty());
}

TEST_F(S3StoreTest, ACompletionWhoseAnswerWasLostIsRecognisedAsDone) {
  auto store = Open();
  auto writer = store->OpenWrite("big");
  ASSERT_TRUE((*writer)->Write("0123456789", 10));
  s3_.faults = {{"POST", 0, "", true}};
  ASSERT_TRUE((*writer)->Commit(1));
  EXPECT_EQ(Contents(), (std::map<std::string, std::string>{{"base/big", "0123456789"}}));
  EXPECT_EQ(s3_.Requests().back(), "HEAD /lake/base/big");
}

TEST_F(S3StoreTest, DeleteManySendsBatchesOfAThousandWithContentMd5) {
  std::vector<std::string> keys;
  for (int i = 0; i < 2500; ++i) {
    keys.push_back("f" + std::to_string(i) + " & <x>");
    s3_.Put("base/" + keys.back(), "x");
  }
  keys.push_back("never-there");
  s3_.Put("base/kept", "x");
  auto store = Open();
  ASSERT_TRUE(store->DeleteMany(keys));
  EXPECT_EQ(Contents(), (std::map<std::string, std::string>{{"base/kept", "x"}}));
  EXPECT_THAT(s3_.Requests(),
              ElementsAre("POST /lake?delete=", "POST /lake?delete=", "POST /lake?delete="));
  EXPECT_TRUE(store->DeleteMany({}));
  EXPECT_EQ(s3_.sent.size(), 3u);
  EXPECT_TRUE(store->Delete("never-there"));
}

TEST_F(S3StoreTest, DeleteManyReportsEachKeyItCouldNotDelete) {
  for (const char* key : {"base/a", "base/b", "base/c"}) s3_.Put(key, "x");
  s3_.undeletable = {"base/b"};
  auto store = Open();
  auto deleted = store->DeleteMany({"a", "b", "c"});
  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().message(),
            "could not delete 1 of 3 objects: s3://lake/base/b (AccessDenied: Access Denied)");
  EXPECT_EQ(Contents(), (std::map<std::string, std::string>{{"base/b", "x"}}));
}

TEST_F(S3StoreTest, CopyWithinIsServerSideAndKeepsMetadata) {
  s3_.Put("base/ts=2024-01-01 10%3A00%3A00/a+b.parquet", "data",
          {{"x-amz-meta-tidemark-mtime-ns", "42"}});
  auto store = Open();
  ASSERT_TRUE(store->CopyWithin("ts=2024-01-01 10%3A00%3A00/a+b.parquet", "copy/é"));
  EXPECT_EQ(s3_.objects["base/copy/é"].data, "data");
  EXPECT_EQ(s3_.objects["base/copy/é"].metadata["x-amz-meta-tidemark-mtime-ns"], "42");
  EXPECT_EQ(s3_.sent[0].Header("x-amz-copy-source"),
            "/lake/base/ts=2024-01-01%2010%253A00%253A00/a%2Bb.parquet");
  EXPECT_EQ(s3_.sent[0].Header("x-amz-metadata-directive"), "COPY");
  auto missing = store->CopyWithin("nothing", "x");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "s3://lake/base/nothing is missing; cannot copy it");
}

TEST_F(S3StoreTest, PutIfAbsentWritesOnceAfterCheckingTheServerHonoursTheCondition) {
  auto store = Open();
  EXPECT_EQ(*store->PutIfAbsent("_delta_log/0.json", "first"), true);
  EXPECT_EQ(*store->PutIfAbsent("_delta_log/0.json", "second"), false);
  EXPECT_EQ(Contents(), (std::map<std::string, std::string>{{"base/_delta_log/0.json", "first"}}));
  std::vector<std::string> requests = s3_.Requests();
  ASSERT_EQ(requests.size(), 5u);  // the probe's two PUTs and DELETE, once; then two PUTs
  EXPECT_THAT(requests[0], HasSubstr("PUT /lake/base/.tidemark-probe-conditional-"));
  EXPECT_THAT(requests[2], HasSubstr("DELETE /lake/base/.tidemark-probe-conditional-"));
  EXPECT_EQ(s3_.sent[3].Header("If-None-Match"), "*");
}

TEST_F(S3StoreTest, PutIfAbsentRefusesAServerThatIgnoresTheCondition) {
  s3_.honour_if_none_match = false;
  auto store = Open();
  auto put = store->PutIfAbsent("_delta_log/0.json", "first");
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().category(), util::ErrorCategory::kConfig);
  EXPECT_THAT(put.error().message(),
              AllOf(HasSubstr("ignores If-None-Match on PUT"), HasSubstr("Delta commits")));
  EXPECT_THAT(Contents(), IsEmpty());
}

TEST_F(S3StoreTest, PutIfAbsentWhoseAnswerWasLostFindsItsOwnWrite) {
  auto store = Open();
  ASSERT_TRUE(store->PutIfAbsent("warm-up", "x"));  // the probe is behind us
  s3_.faults = {{"PUT", 0, "", true}};
  EXPECT_EQ(*store->PutIfAbsent("0.json", "mine"), true);
  s3_.Put("base/1.json", "theirs");
  s3_.faults = {{"PUT", 0, "", false}};
  EXPECT_EQ(*store->PutIfAbsent("1.json", "mine"), false);
  EXPECT_EQ(s3_.objects["base/1.json"].data, "theirs");
}

TEST_F(S3StoreTest, NoRenameAndAProbeLeavesNothing) {
  auto store = Open();
  EXPECT_FALSE(store->CanRename());
  auto renamed = store->Rename("a", "b");
  ASSERT_FALSE(renamed);
  EXPECT_THAT(renamed.error().message(), HasSubstr("S3 has no rename"));
  ASSERT_TRUE(store->ProbeWritable("archive/x"));
  EXPECT_THAT(Contents(), IsEmpty());
  EXPECT_THAT(s3_.Requests()[0], HasSubstr("PUT /lake/base/archive/x/.tidemark-probe-"));
  EXPECT_TRUE(store->PruneEmpty("archive"));
  EXPECT_TRUE(store->Sync("archive"));
}

TEST_F(S3StoreTest, KeysWithSpecialCharactersRoundTrip) {
  auto store = Open("");
  const std::vector<std::string> keys = {"ts=2024-01-01 10%3A00%3A00/part-0.parquet", "a+b=c",
                                         "é/日本/x y", "q?#&;.txt"};
  for (const std::string& key : keys) {
    auto writer = store->OpenWrite(key);
    ASSERT_TRUE((*writer)->Write(key.data(), 3));
    ASSERT_TRUE((*writer)->Commit(1));
  }
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(Keys(store->List("")), sorted);
  for (const std::string& key : keys) {
    EXPECT_EQ(ReadAll(*store, key), key.substr(0, 3)) << key;
    EXPECT_TRUE(*store->Stat(key)) << key;
  }
  ASSERT_TRUE(store->DeleteMany(keys));
  EXPECT_THAT(Contents(), IsEmpty());
  EXPECT_THAT(s3_.Requests(),
              Contains("PUT /lake/ts%3D2024-01-01%2010%253A00%253A00/part-0.parquet"));
}

config::Config ConfigWith(const std::string& connections) {
  auto config = config::ParseConfig("connections:\n" + connections, "/etc/tidemark/tidemark.yaml");
  EXPECT_TRUE(config) << config.error().message();
  return config ? *config : config::Config{};
}

TEST(OpenStore, OpensS3WithTheSettingsOfTheConnectionHoldingTheUrl) {
  setenv("TIDEMARK_TEST_OPEN_S3_ID", "AKIAOPEN", 1);
  setenv("TIDEMARK_TEST_OPEN_S3_SECRET", "open-secret", 1);
  config::Config config = ConfigWith(
      "  lake: { url: \"s3://lake/base\", endpoint: \"http://127.0.0.1:9\", "
      "access_key_env: TIDEMARK_TEST_OPEN_S3_ID, secret_key_env: TIDEMARK_TEST_OPEN_S3_SECRET }\n");
  auto store = OpenStore("s3://lake/base/events", &config);
  ASSERT_TRUE(store) << store.error().message();
  EXPECT_EQ((*store)->url(), "s3://lake/base/events");
  EXPECT_FALSE((*store)->CanRename());
}

TEST(OpenStore, RefusesS3WhoseCredentialsAreMissingOrEndpointIsBad) {
  unsetenv("TIDEMARK_TEST_SURELY_UNSET");
  setenv("TIDEMARK_TEST_OPEN_S3_ID", "AKIAOPEN", 1);
  config::Config unset = ConfigWith(
      "  lake: { url: \"s3://lake\", access_key_env: TIDEMARK_TEST_OPEN_S3_ID, "
      "secret_key_env: TIDEMARK_TEST_SURELY_UNSET }\n");
  auto store = OpenStore("s3://lake/x", &unset);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().category(), util::ErrorCategory::kConfig);
  EXPECT_THAT(store.error().message(),
              HasSubstr("s3://lake/x: connection 'lake' takes its secret_key from the "
                        "environment variable TIDEMARK_TEST_SURELY_UNSET, which is not set"));
  config::Config bad_endpoint = ConfigWith(
      "  lake: { url: \"s3://lake\", endpoint: \"ftp://x\", access_key_env: "
      "TIDEMARK_TEST_OPEN_S3_ID, secret_key_env: TIDEMARK_TEST_OPEN_S3_ID }\n");
  store = OpenStore("s3://lake/x", &bad_endpoint);
  ASSERT_FALSE(store);
  EXPECT_THAT(store.error().message(),
              HasSubstr("s3://lake (connection 'lake'): endpoint \"ftp://x\" must be"));
}

}  // namespace
}  // namespace tidemark::store
