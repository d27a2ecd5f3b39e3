// S3 under faults. The S3 store and the real binary talk to s3rver through a fault proxy
// on 127.0.0.1 (tests/support/fault_proxy.h) that answers chosen requests with errors or
// cuts their connections, or to an s3rver of the test's own that the test kills with
// SIGKILL and starts again on the same data directory. What must hold: a request is
// retried, then fails with a message naming the request, the key and the attempts; a
// 403 is not retried; nothing half-written appears under its final key; and a run of
// `tidemark apply` that fails because of S3 never deletes a source file whose archived
// copy was not verified, and succeeds when run again after the faults stop.
//
// Retries are made fast: the store in the process gets a base delay of 1 ms, the binary
// TIDEMARK_S3_RETRY_BASE_MS=1. A missing S3 server fails these tests; none is skipped.

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "tests/support/fault_proxy.h"
#include "tests/support/s3_env.h"
#include "tests/support/tidemark_env.h"
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include "tidemark/archive/tree_copy.h"
#include "tidemark/store/curl_http.h"
#include "tidemark/store/s3_store.h"
#include "tidemark/store/s3_url.h"
#include "tidemark/util/sha256.h"
#include "tidemark/util/strings.h"

namespace tidemark::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const int kAttempts = store::S3RetryPolicy{}.attempts;
const std::string kSlowDown = S3ErrorXml("SlowDown", "Please reduce your request rate.");
const std::string kInternalError =
    S3ErrorXml("InternalError", "We encountered an internal error. Please try again.");
const std::string kAccessDenied = S3ErrorXml("AccessDenied", "Access Denied");
const std::string kGaveUp = "gave up after " + std::to_string(kAttempts) + " attempts";

// Bytes that differ everywhere (a multipart upload that mixed up parts would show).
std::string Pattern(size_t size, uint64_t seed = 88172645463325252ull) {
  std::string data(size, '\0');
  uint64_t x = seed;
  for (size_t i = 0; i < size; i += 8) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::memcpy(data.data() + i, &x, std::min<size_t>(8, size - i));
  }
  return data;
}

util::Status Put(store::ObjectStore& store, const std::string& key, const std::string& data) {
  TM_TRY_ASSIGN(auto writer, store.OpenWrite(key));
  TM_TRY(writer->Write(data.data(), data.size()));
  return writer->Commit(1706500000000000000);
}

util::Result<std::string> Get(store::ObjectStore& store, const std::string& key) {
  TM_TRY_ASSIGN(auto reader, store.OpenRead(key));
  std::string out;
  std::vector<char> block(1 << 16);
  while (true) {
    TM_TRY_ASSIGN(size_t n, reader->Read(block.data(), block.size()));
    if (n == 0) return out;
    out.append(block.data(), n);
  }
}

std::vector<std::string> Keys(store::ObjectStore& store, const std::string& prefix = "") {
  auto objects = store.List(prefix);
  EXPECT_TRUE(objects) << objects.error().message();
  std::vector<std::string> keys;
  for (const store::ObjectInfo& object : objects.value_or(std::vector<store::ObjectInfo>{})) {
    keys.push_back(object.key);
  }
  return keys;
}

// A fault's path filter for `key`, as the request target spells it.
std::string InTarget(const std::string& key) { return store::EncodeKeyPath(key); }

std::unique_ptr<FaultProxy> StartProxy(const std::string& upstream) {
  auto proxy = FaultProxy::Start(upstream);
  EXPECT_TRUE(proxy) << proxy.error().message();
  return proxy ? std::move(*proxy) : nullptr;
}

// ---------------------------------------------------------------------------------
// The store through the proxy, in front of the shared test server.

class S3FaultStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(prefix_.ok());
    direct_ = prefix_.Open();
    ASSERT_NE(direct_, nullptr);
    proxy_ = StartProxy(TestS3Server().endpoint);
    ASSERT_NE(proxy_, nullptr);
    store_ = prefix_.Open(Proxied());
    ASSERT_NE(store_, nullptr);
  }

  store::S3Settings Proxied() const {
    store::S3Settings settings = prefix_.Settings();
    settings.endpoint = proxy_->endpoint();
    settings.retry.base_delay = milliseconds(1);
    return settings;
  }

  // "prefix/key" as it appears in request targets.
  std::string Target(const std::string& key) const {
    return InTarget(prefix_.prefix() + "/" + key);
  }
  // "s3://bucket/prefix/key" as messages name it.
  std::string Named(const std::string& key) const { return prefix_.url() + "/" + key; }

  S3TestPrefix prefix_;
  std::unique_ptr<store::ObjectStore> direct_;
  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<store::ObjectStore> store_;
};

// One store operation, the request its faults hit, and what it left when it succeeded.
struct Operation {
  const char* name;
  const char* method;  // of the request that fails
  const char* key;     // under the test prefix: what the operation works on
  const char* query;   // what the request's target holds besides the key ("" for nothing)
  std::function<void(store::ObjectStore& direct)> prepare;
  std::function<util::Status(store::ObjectStore& store)> run;
  std::function<void(store::ObjectStore& direct)> check_done;
};

struct Injected {
  const char* name;
  int status;
  const std::string* body;
  const char* code;  // as the message names it
};

void PrintTo(const Operation& operation, std::ostream* out) { *out << operation.name; }
void PrintTo(const Injected& injected, std::ostream* out) { *out << injected.name; }

const Operation kOperations[] = {
    {"Put", "PUT", "put/object", "", [](store::ObjectStore&) {},
     [](store::ObjectStore& s) { return Put(s, "put/object", "written"); },
     [](store::ObjectStore& d) { EXPECT_EQ(Get(d, "put/object").value_or("?"), "written"); }},
    {"Get", "GET", "get/object", "",
     [](store::ObjectStore& d) { ASSERT_TRUE(Put(d, "get/object", "read me")); },
     [](store::ObjectStore& s) -> util::Status {
       TM_TRY_ASSIGN(std::string data, Get(s, "get/object"));
       if (data != "read me") return util::StepError("read \"" + data + "\"");
       return {};
     },
     [](store::ObjectStore&) {}},
    {"List", "GET", "list", "list-type=2",
     [](store::ObjectStore& d) {
       ASSERT_TRUE(Put(d, "list/a", "a"));
       ASSERT_TRUE(Put(d, "list/b", "b"));
     },
     [](store::ObjectStore& s) -> util::Status {
       TM_TRY_ASSIGN(auto objects, s.List("list"));
       if (objects.size() != 2) return util::StepError("listed " + std::to_string(objects.size()));
       return {};
     },
     [](store::ObjectStore&) {}},
    {"Delete", "DELETE", "delete/object", "",
     [](store::ObjectStore& d) { ASSERT_TRUE(Put(d, "delete/object", "x")); },
     [](store::ObjectStore& s) { return s.Delete("delete/object"); },
     [](store::ObjectStore& d) { EXPECT_FALSE(d.Stat("delete/object").value_or(std::nullopt)); }},
    {"Stat", "HEAD", "stat/object", "",
     [](store::ObjectStore& d) { ASSERT_TRUE(Put(d, "stat/object", "12345")); },
     [](store::ObjectStore& s) -> util::Status {
       TM_TRY_ASSIGN(auto info, s.Stat("stat/object"));
       if (!info || info->size != 5) return util::StepError("wrong stat");
       return {};
     },
     [](store::ObjectStore&) {}},
};

const Injected kInjected[] = {
    {"SlowDown", 503, &kSlowDown, "503 SlowDown"},
    {"InternalError", 500, &kInternalError, "500 InternalError"},
};

class S3FaultOperationTest : public S3FaultStoreTest,
                             public ::testing::WithParamInterface<std::tuple<Operation, Injected>> {
 protected:
  const Operation& operation() const { return std::get<0>(GetParam()); }
  const Injected& injected() const { return std::get<1>(GetParam()); }
  FaultMatch Match() const {
    const std::string query = operation().query;
    return {operation().method, query.empty() ? Target(operation().key) : query};
  }
  void Inject(int times) { proxy_->Respond(Match(), times, injected().status, *injected().body); }
};

TEST_P(S3FaultOperationTest, SucceedsWhenTheFaultsStopBeforeTheLastAttempt) {
  operation().prepare(*direct_);
  Inject(kAttempts - 1);
  auto status = operation().run(*store_);
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_EQ(proxy_->Count(Match().method, Match().path_contains), kAttempts);
  EXPECT_EQ(proxy_->FaultsLeft(), 0);
  operation().check_done(*direct_);
}

TEST_P(S3FaultOperationTest, FailsNamingTheRequestTheKeyAndTheAttemptsWhenTheyDoNot) {
  operation().prepare(*direct_);
  Inject(kAttempts);
  const auto started = Clock::now();
  auto status = operation().run(*store_);
  ASSERT_FALSE(status);
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(5));
  const std::string& message = status.error().message();
  EXPECT_THAT(message, HasSubstr(std::string("S3 ") + operation().method + " s3://" +
                                 TestS3Server().bucket));
  EXPECT_THAT(message, HasSubstr(Named(operation().key))) << "the key, or the prefix listed";
  if (std::string(operation().method) != "HEAD") {
    EXPECT_THAT(message, HasSubstr(injected().code));  // a HEAD answer has no body
  }
  EXPECT_THAT(message, HasSubstr(kGaveUp));
  EXPECT_TRUE(status.error().retryable());
  EXPECT_EQ(proxy_->Count(Match().method, Match().path_contains), kAttempts);
}

INSTANTIATE_TEST_SUITE_P(EveryOperation, S3FaultOperationTest,
                         ::testing::Combine(::testing::ValuesIn(kOperations),
                                            ::testing::ValuesIn(kInjected)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param).name) +
                                  std::get<1>(info.param).name;
                         });

TEST_F(S3FaultStoreTest, AForbiddenAnswerIsNotRetried) {
  proxy_->Respond({"PUT", Target("denied")}, kEveryRequest, 403, kAccessDenied);
  auto status = Put(*store_, "denied", "x");
  ASSERT_FALSE(status);
  EXPECT_EQ(proxy_->Count("PUT", Target("denied")), 1);
  EXPECT_EQ(status.error().category(), util::ErrorCategory::kConfig);
  EXPECT_FALSE(status.error().retryable());
  EXPECT_THAT(status.error().message(),
              AllOf(HasSubstr("S3 PUT " + Named("denied") + ": 403 AccessDenied"),
                    HasSubstr("not allowed"), Not(HasSubstr("gave up"))));
}

TEST_F(S3FaultStoreTest, AMultipartUploadCutInAPartRetriesThePartAndShowsNothingBeforeCommit) {
  // Parts over 1 MiB: libcurl sends them with Expect: 100-continue.
  store::S3Settings settings = Proxied();
  settings.part_size = 3 << 19;  // 1.5 MiB
  settings.multipart_threshold = 0;  // multipart from the first full part
  auto store = prefix_.Open(settings);
  const std::string data = Pattern((5 << 20) + 123);
  proxy_->CutRequest({"PUT", "partNumber=2"}, 2, 256 << 10);
  auto writer = store->OpenWrite("big.bin");
  ASSERT_TRUE(writer);
  for (size_t at = 0; at < data.size(); at += 1 << 20) {
    auto written = (*writer)->Write(data.data() + at, std::min<size_t>(1 << 20, data.size() - at));
    ASSERT_TRUE(written) << written.error().message();
  }
  EXPECT_THAT(Keys(*direct_), IsEmpty()) << "nothing under the final key before the commit";
  auto committed = (*writer)->Commit(1706500000000000000);
  ASSERT_TRUE(committed) << committed.error().message();
  EXPECT_EQ(proxy_->Count("PUT", "partNumber=2"), 3) << "two cut, the third went through";
  EXPECT_EQ(Get(*direct_, "big.bin").value_or("?"), data);
  EXPECT_EQ(proxy_->Count("PUT", "partNumber="), 6) << "four parts, the second cut twice";
  EXPECT_EQ(proxy_->FaultsLeft(), 0);
}

TEST_F(S3FaultStoreTest, AStreamedPutCutMidBodyIsSentAgainFromTheStart) {
  const std::string data = Pattern(3 << 20);
  const std::string sha = util::Sha256Hex(data);
  proxy_->CutRequest({"PUT", Target("stream.bin")}, 2, 1 << 20);
  int restarts = 0;
  store::ByteSource source = [&](int64_t offset, char* buffer,
                                 size_t size) -> util::Result<size_t> {
    if (offset == 0) ++restarts;
    return data.copy(buffer, size, static_cast<size_t>(offset));
  };
  ASSERT_TRUE(store_->StreamsPut(static_cast<int64_t>(data.size())));
  auto status = store_->PutFromSource("stream.bin", static_cast<int64_t>(data.size()), sha,
                                      1706500000000000000, source);
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_EQ(Get(*direct_, "stream.bin").value_or("?"), data);
  EXPECT_EQ(proxy_->Count("PUT", Target("stream.bin")), 3) << "two cut, the third went through";
  EXPECT_EQ(restarts, 3);
  EXPECT_EQ(proxy_->FaultsLeft(), 0);
}

TEST_F(S3FaultStoreTest, AnUploadCutEveryTimeFailsAndLeavesNoObject) {
  store::S3Settings settings = Proxied();
  settings.part_size = 64 << 10;
  settings.multipart_threshold = 0;  // multipart from the first full part
  auto store = prefix_.Open(settings);
  const std::string data = Pattern(200 << 10);
  proxy_->CutRequest({"PUT", "partNumber=2"}, kEveryRequest, 1000);
  auto writer = store->OpenWrite("cut.bin");
  ASSERT_TRUE(writer);
  // Parts go several at once, so the failure shows in the write or in the commit.
  auto written = (*writer)->Write(data.data(), data.size());
  util::Status status = written ? (*writer)->Commit(1706500000000000000) : written;
  ASSERT_FALSE(status);
  EXPECT_THAT(status.error().message(),
              AllOf(HasSubstr("S3 PUT " + Named("cut.bin")), HasSubstr(kGaveUp)));
  EXPECT_FALSE((*writer)->Commit(1706500000000000000));
  writer->reset();
  EXPECT_EQ(proxy_->Count("PUT", "partNumber=2"), kAttempts);
  EXPECT_THAT(Keys(*direct_), IsEmpty());
}

TEST_F(S3FaultStoreTest, AListingCutInItsSecondPageIsRetriedAndMissesNothing) {
  std::vector<std::string> expected;
  for (int i = 0; i < 120; ++i) expected.push_back("dir/key-" + std::to_string(1000 + i));
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (size_t i = t; i < expected.size(); i += 4) EXPECT_TRUE(Put(*direct_, expected[i], "x"));
    });
  }
  for (std::thread& writer : writers) writer.join();
  store::S3Settings settings = Proxied();
  settings.list_page_size = 50;
  auto store = prefix_.Open(settings);

  proxy_->CutResponse({"GET", "continuation-token"}, 1, 300);
  EXPECT_THAT(Keys(*store, "dir"), ElementsAreArray(expected));
  EXPECT_EQ(proxy_->Count("GET", "list-type=2"), 4) << "three pages, the second twice";

  proxy_->CutResponse({"GET", "continuation-token"}, kEveryRequest, 300);
  auto listed = store->List("dir");
  ASSERT_FALSE(listed) << "a listing that lost a page is an error, not a shorter list";
  EXPECT_THAT(listed.error().message(),
              AllOf(HasSubstr("S3 GET s3://" + TestS3Server().bucket), HasSubstr(kGaveUp)));
}

TEST_F(S3FaultStoreTest, AReadCutMidObjectIsRetriedFromWhereItBroke) {
  const std::string data = Pattern(300 << 10);
  ASSERT_TRUE(Put(*direct_, "read.bin", data));
  store::S3Settings settings = Proxied();
  settings.read_chunk_size = 100 << 10;
  auto store = prefix_.Open(settings);
  proxy_->CutResponse({"GET", Target("read.bin")}, 2, 5000);
  EXPECT_EQ(Get(*store, "read.bin").value_or("?"), data);
  EXPECT_EQ(proxy_->Count("GET", Target("read.bin")), 5) << "three chunks, the first twice cut";
}

TEST_F(S3FaultStoreTest, TheProxyPassesChunkedUploadsWithExpectContinueThrough) {
  auto http = store::NewCurlHttpClient({});  // unsigned: s3rver lets anyone write
  store::HttpRequest put;
  put.method = "PUT";
  put.url = proxy_->endpoint() + "/" + TestS3Server().bucket + "/" + Target("chunked");
  put.headers = {{"Transfer-Encoding", "chunked"}};  // libcurl then asks for 100-continue
  const std::string data = Pattern(3 << 20);
  put.body = data;
  auto response = http->Send(put);
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(Get(*direct_, "chunked").value_or("?"), data);
}

TEST_F(S3FaultStoreTest, ADelayedAnswerIsWaitedFor) {
  ASSERT_TRUE(Put(*direct_, "slow", "eventually"));
  proxy_->Delay({"GET", Target("slow")}, 1, milliseconds(300));
  const auto started = Clock::now();
  EXPECT_EQ(Get(*store_, "slow").value_or("?"), "eventually");
  EXPECT_GE(Clock::now() - started, milliseconds(300));
  EXPECT_EQ(proxy_->Count("GET", Target("slow")), 1);
}

// ---------------------------------------------------------------------------------
// An s3rver of the test's own, which the test kills.

// Serializes the tests that start their own server: a server killed by one test frees a
// port that another's `scripts/s3-server start` would take, and the first test's retries
// would then reach the second's server.
class OwnServerLock {
 public:
  OwnServerLock()
      : fd_(open("/tmp/tidemark-test-own-s3rver.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0666)) {
    if (fd_ >= 0) (void)flock(fd_, LOCK_EX);
  }
  ~OwnServerLock() {
    if (fd_ >= 0) close(fd_);
  }

 private:
  int fd_;
};

class OwnS3Server {
 public:
  OwnS3Server() { Start(); }
  ~OwnS3Server() {
    if (const pid_t pid = RunningPid(); pid > 0) kill(pid, SIGKILL);  // its data goes too
  }

  // Starts the server on the data directory (again); false (and a test failure) when it
  // does not start.
  bool Start() {
    CommandResult started = RunCommand(Script(), {"start", dir_.path()});
    endpoint_.clear();
    for (const std::string& line : util::Split(ReadFile(dir_.path() + "/env"), '\n')) {
      if (started.exit_code == 0 && line.starts_with("TIDEMARK_TEST_S3_ENDPOINT=")) {
        endpoint_ = line.substr(line.find('=') + 1);
      }
    }
    EXPECT_FALSE(endpoint_.empty())
        << "scripts/s3-server start failed (exit " << started.exit_code << "): " << started.err;
    return !endpoint_.empty();
  }

  // The server's pid while it runs, checked as scripts/s3-server does: the process
  // named by the pid file serves this directory (pids are reused); else -1.
  pid_t RunningPid() const {
    const std::string text = ReadFile(dir_.path() + "/s3rver.pid");
    if (text.empty()) return -1;
    const pid_t pid = std::stoi(text);
    const std::string command = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
    return command.find(dir_.path() + "/data") != std::string::npos ? pid : -1;
  }

  // SIGKILL, and waits until the process is gone.
  void Kill() {
    const pid_t pid = RunningPid();
    ASSERT_GT(pid, 0) << "no s3rver runs for " << dir_.path();
    ASSERT_EQ(kill(pid, SIGKILL), 0) << "s3rver " << pid << ": " << std::strerror(errno);
    const std::string stat = "/proc/" + std::to_string(pid) + "/stat";
    for (int i = 0; i < 5000; ++i) {
      const std::string text = Exists(stat) ? ReadFile(stat) : "";
      const size_t paren = text.rfind(')');
      if (text.empty() || (paren != std::string::npos && text.substr(paren + 2, 1) == "Z")) return;
      std::this_thread::sleep_for(milliseconds(1));
    }
    FAIL() << "s3rver " << pid << " did not die";
  }

  const std::string& endpoint() const { return endpoint_; }
  std::string data() const { return dir_.path() + "/data/" + kBucket; }

  store::S3Settings Settings(const std::string& prefix) const {
    store::S3Settings settings;
    settings.bucket = kBucket;
    settings.prefix = prefix;
    settings.endpoint = endpoint_;
    settings.addressing = "path";
    settings.credentials = {"S3RVER", "S3RVER", "", "the test"};
    settings.retry.base_delay = milliseconds(1);
    return settings;
  }
  std::unique_ptr<store::ObjectStore> Open(const std::string& prefix) const {
    auto store = store::OpenS3Store(Settings(prefix));
    EXPECT_TRUE(store) << store.error().message();
    return store ? std::move(*store) : nullptr;
  }

  static constexpr char kBucket[] = "tidemark-test";

 private:
  static std::string Script() { return std::string(TIDEMARK_SOURCE_DIR) + "/scripts/s3-server"; }

  OwnServerLock lock_;
  TempDir dir_;
  std::string endpoint_;
};

// Whether s3rver holds a part `number` of some multipart upload under way.
bool HasUploadPart(const std::string& bucket_dir, int number) {
  std::error_code ignored;
  for (const auto& upload : fs::directory_iterator(bucket_dir + "/._S3rver_uploads", ignored)) {
    if (fs::exists(upload.path() / std::to_string(number), ignored)) return true;
  }
  return false;
}

TEST(S3ServerStopped, MidMultipartUploadTheWriteFailsWithinTheTimeoutsAndNoObjectAppears) {
  OwnS3Server server;
  ASSERT_FALSE(server.endpoint().empty());
  store::S3Settings settings = server.Settings("stopped");
  settings.part_size = 2 << 20;
  settings.multipart_threshold = 0;  // multipart from the first full part
  auto store = store::OpenS3Store(settings);
  ASSERT_TRUE(store);
  const std::string data = Pattern(32 << 20);
  std::atomic<bool> finished{false};
  std::optional<util::Error> failure;
  Clock::time_point failed_at;
  std::thread upload([&] {
    auto writer = (*store)->OpenWrite("big.bin");
    util::Status status = writer ? util::Status() : tl::unexpected(writer.error());
    for (size_t at = 0; status && at < data.size(); at += 1 << 20) {
      status = (*writer)->Write(data.data() + at, 1 << 20);
    }
    if (status) status = (*writer)->Commit(1706500000000000000);
    if (!status) failure = status.error();
    failed_at = Clock::now();
    finished = true;
  });
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (!finished && !HasUploadPart(server.data(), 3) && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  const bool mid_upload = !finished;
  const auto killed_at = Clock::now();
  server.Kill();
  upload.join();
  ASSERT_TRUE(mid_upload) << "the upload ended before the server could be stopped";
  ASSERT_TRUE(failure) << "the upload succeeded against a dead server";
  EXPECT_THAT(failure->message(),
              AllOf(HasSubstr("S3 PUT s3://tidemark-test/stopped/big.bin"), HasSubstr(kGaveUp)));
  EXPECT_LT(failed_at - killed_at, std::chrono::seconds(10)) << "bounded, not a hang";

  ASSERT_TRUE(server.Start());
  auto after = server.Open("stopped");
  ASSERT_NE(after, nullptr);
  auto stat = after->Stat("big.bin");
  ASSERT_TRUE(stat) << stat.error().message();
  EXPECT_FALSE(*stat) << "the partial upload must not be visible";
  EXPECT_THAT(Keys(*after), IsEmpty());
}

TEST(S3ServerStopped, MidListingTheListFailsWithinTheTimeoutsAndLosesNothing) {
  OwnS3Server server;
  ASSERT_FALSE(server.endpoint().empty());
  auto direct = server.Open("many");
  ASSERT_NE(direct, nullptr);
  std::vector<std::string> expected;
  for (int i = 0; i < 150; ++i)
    expected.push_back("dt=2024-01-01/part-" + std::to_string(10000 + i));
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (size_t i = t; i < expected.size(); i += 8) EXPECT_TRUE(Put(*direct, expected[i], "x"));
    });
  }
  for (std::thread& writer : writers) writer.join();

  // The proxy holds the second page's request until the server is dead: it dies between pages.
  auto proxy = StartProxy(server.endpoint());
  ASSERT_NE(proxy, nullptr);
  proxy->Delay({"GET", "continuation-token"}, 1, std::chrono::seconds(30));
  store::S3Settings settings = server.Settings("many");
  settings.endpoint = proxy->endpoint();
  settings.list_page_size = 25;
  auto store = store::OpenS3Store(settings);
  ASSERT_TRUE(store);
  std::optional<util::Result<std::vector<store::ObjectInfo>>> listed;
  Clock::time_point ended_at;
  std::thread lister([&] {
    listed = (*store)->List("");
    ended_at = Clock::now();
  });
  const bool held =
      proxy->WaitForRequests({"GET", "continuation-token"}, 1, std::chrono::seconds(30));
  const auto killed_at = Clock::now();
  server.Kill();
  proxy->ReleaseDelayed();
  lister.join();
  ASSERT_TRUE(held);
  ASSERT_FALSE(*listed) << "a listing that lost its server mid-way is an error";
  EXPECT_THAT(listed->error().message(),
              AllOf(HasSubstr("S3 GET s3://tidemark-test"), HasSubstr(kGaveUp)));
  EXPECT_LT(ended_at - killed_at, std::chrono::seconds(10)) << "bounded, not a hang";

  ASSERT_TRUE(server.Start());
  auto after = server.Open("many");
  ASSERT_NE(after, nullptr);
  EXPECT_THAT(Keys(*after), ElementsAreArray(expected));
}

// ---------------------------------------------------------------------------------
// `tidemark apply` archiving to S3 (and from a lake on S3) through the proxy.

constexpr char kNow[] = "2024-02-02T00:00:00Z";
constexpr char kArchivePartitions[] = "events/main/main";
const std::vector<std::string> kExpired = {"dt=2024-01-01", "dt=2024-01-02"};

// Files by path below the dataset ("dt=2024-01-01/part-0.csv") → sha256.
using Files = std::map<std::string, std::string>;

// Where the files of the lake are now: in the dataset or in any recycle bin entry, by
// the path they had in the dataset.
std::map<std::string, std::set<std::string>> LakeCopies(const Files& tree) {
  std::map<std::string, std::set<std::string>> copies;
  const std::string bin = "_tidemark/recycle/";
  for (const auto& [path, sha] : tree) {
    if (path.find(".tidemark-tmp") != std::string::npos) continue;
    if (!path.starts_with("_tidemark/")) {
      copies[path].insert(sha);
    } else if (path.starts_with(bin)) {
      const size_t stamp_end = path.find('/', bin.size());
      if (stamp_end != std::string::npos) copies[path.substr(stamp_end + 1)].insert(sha);
    }
  }
  return copies;
}

// The files of one archived partition whose bytes are those its manifest names, read
// and hashed here: path → sha256. Empty when there is no manifest.
Files VerifiedInArchive(store::ObjectStore& archive, const std::string& partition_prefix) {
  Files verified;
  auto manifest = archive::ReadManifest({&archive, partition_prefix});
  if (!manifest) return verified;
  for (const archive::ManifestFile& file : manifest->files) {
    auto bytes = Get(archive, partition_prefix + "/" + file.path);
    if (bytes && util::Sha256Hex(*bytes) == file.sha256) {
      verified[manifest->partition + "/" + file.path] = file.sha256;
    }
  }
  return verified;
}

Files VerifiedArchive(store::ObjectStore& archive) {
  Files verified;
  for (const std::string& partition : kExpired) {
    verified.merge(VerifiedInArchive(archive, std::string(kArchivePartitions) + "/" + partition));
  }
  return verified;
}

// The invariant: every source file is still in the lake with its bytes, or the archive
// holds a verified copy of it.
void ExpectNothingLostUnlessVerified(const Files& sources, const Files& lake_now,
                                     store::ObjectStore& archive, const std::string& when) {
  const auto copies = LakeCopies(lake_now);
  const Files verified = VerifiedArchive(archive);
  for (const auto& [path, sha] : sources) {
    auto kept = copies.find(path);
    if (kept != copies.end() && kept->second.count(sha) > 0) continue;
    auto archived = verified.find(path);
    EXPECT_TRUE(archived != verified.end() && archived->second == sha)
        << when << ": " << path << " is gone from the lake, and the archive holds no verified copy";
  }
}

std::string RunFile(const Workspace& ws) {
  for (const auto& entry : fs::directory_iterator(ws.runs())) return entry.path().string();
  return "";
}

// What the flows share: a workspace whose archive connection `cold` points through the
// proxy at a prefix of an S3 bucket.
class S3FaultFlowTest : public ::testing::Test {
 protected:
  // The binary's environment: fast retries, and the server's credentials.
  static std::map<std::string, std::string> Env(const std::string& access_key,
                                                const std::string& secret_key) {
    return {{"TIDEMARK_S3_RETRY_BASE_MS", "1"},
            {kTestS3AccessKeyEnv, access_key},
            {kTestS3SecretKeyEnv, secret_key}};
  }
  static std::map<std::string, std::string> Env() {
    return Env(TestS3Server().access_key, TestS3Server().secret_key);
  }

  CommandResult Apply(const std::map<std::string, std::string>& env) const {
    return ws_.Tidemark({"apply", "--now", kNow}, env);
  }

  // One step at a time, for runs whose server is killed: then the only request under
  // way is the one the proxy holds. s3rver writes an object and its metadata in place,
  // so a kill while it wrote another would leave a damaged object that fails every later
  // listing of its prefix with 500 (S3 itself never shows half a write).
  CommandResult ApplyStepByStep(const std::map<std::string, std::string>& env) const {
    return ws_.Tidemark({"apply", "--now", kNow, "--step-jobs", "1"}, env);
  }

  // The rerun after the faults stopped: it completes, and every step of the run holds.
  void ExpectRerunCompletes(const std::map<std::string, std::string>& env) {
    CommandResult rerun = Apply(env);
    ASSERT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
    CommandResult verify = ws_.Tidemark({"verify", RunFile(ws_)}, env);
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
    EXPECT_THAT(verify.out, HasSubstr("9 of 9 steps hold")) << "check, and 4 steps a partition";
  }

  Workspace ws_;
};

// ---- a local lake archived to S3

struct FlowFault {
  const char* name;
  const char* step;  // the step it makes fail, for dt=2024-01-01
  std::function<void(FaultProxy&, const std::string& archive_key)> inject;
  const char* message;  // in what `apply` prints
  int exit_code;        // 1: the server failed, 2: refused (configuration), 3: unreachable
};

void PrintTo(const FlowFault& fault, std::ostream* out) { *out << fault.name; }

const std::string kFirst = "dt=2024-01-01";

const FlowFault kFlowFaults[] = {
    {"SlowDownOnEveryUpload", "copy_to_archive",
     [](FaultProxy& p, const std::string& at) {
       p.Respond({"PUT", InTarget(at + "/" + kFirst + "/part-")}, kEveryRequest, 503, kSlowDown);
     },
     "503 SlowDown", 1},
    {"InternalErrorWritingTheManifest", "copy_to_archive",
     [](FaultProxy& p, const std::string& at) {
       p.Respond({"PUT", InTarget(at + "/" + kFirst + "/manifest.json")}, kEveryRequest, 500,
                 kInternalError);
     },
     "500 InternalError", 1},
    {"UploadsCutMidBody", "copy_to_archive",
     [](FaultProxy& p, const std::string& at) {
       p.CutRequest({"PUT", InTarget(at + "/" + kFirst + "/part-1")}, kEveryRequest, 100);
     },
     "gave up after", 3},
    {"AccessDeniedOnUpload", "copy_to_archive",
     [](FaultProxy& p, const std::string& at) {
       p.Respond({"PUT", InTarget(at + "/" + kFirst + "/part-")}, kEveryRequest, 403,
                 kAccessDenied);
     },
     "403 AccessDenied", 2},
    {"InternalErrorReadingBack", "verify_archive",
     [](FaultProxy& p, const std::string& at) {
       p.Respond({"GET", InTarget(at + "/" + kFirst + "/part-")}, kEveryRequest, 500,
                 kInternalError);
     },
     "500 InternalError", 1},
    {"ReadsCutMidBody", "verify_archive",
     [](FaultProxy& p, const std::string& at) {
       p.CutResponse({"GET", InTarget(at + "/" + kFirst + "/part-")}, kEveryRequest, 100);
     },
     "gave up after", 3},
};

class S3FaultLocalLakeTest : public S3FaultFlowTest,
                             public ::testing::WithParamInterface<FlowFault> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(prefix_.ok());
    archive_ = prefix_.Open(prefix_.Settings("archive"));
    ASSERT_NE(archive_, nullptr);
    proxy_ = StartProxy(TestS3Server().endpoint);
    ASSERT_NE(proxy_, nullptr);
    WriteFile(ws_.config(),
              HiveArchiveConfig(
                  "  lake: { url: \"file:lake\" }\n",
                  S3ConnectionYaml("cold", prefix_.url() + "/archive", proxy_->endpoint()), 0));
    ws_.MakeDailyPartitions("events", "2024-01-01", 5, 3);
    sources_ = HashTree(ws_.lake() + "/events");
  }

  // The archive's partitions as request targets spell their keys.
  std::string ArchiveKey() const { return prefix_.prefix() + "/archive/" + kArchivePartitions; }

  S3TestPrefix prefix_;
  std::unique_ptr<store::ObjectStore> archive_;  // straight to the server
  std::unique_ptr<FaultProxy> proxy_;
  Files sources_;
};

TEST_P(S3FaultLocalLakeTest, ApplyFailsClearlyKeepsEverySourceFileAndARerunCompletes) {
  GetParam().inject(*proxy_, ArchiveKey());
  CommandResult failed = Apply(Env());
  EXPECT_EQ(failed.exit_code, GetParam().exit_code) << failed.out << failed.err;
  EXPECT_THAT(failed.out + failed.err,
              AllOf(HasSubstr("FAILED main/main/" + kFirst + "/" + GetParam().step),
                    HasSubstr(GetParam().message), HasSubstr("s3://")));
  ExpectNothingLostUnlessVerified(sources_, HashTree(ws_.lake() + "/events"), *archive_,
                                  "after the failed run");
  // The other expired partition went on: archived, verified, and purged from the bin.
  EXPECT_FALSE(Exists(ws_.lake() + "/events/_tidemark/recycle/20240202T000000Z/dt=2024-01-02"));
  EXPECT_TRUE(Exists(ws_.lake() + "/events/_tidemark/recycle/20240202T000000Z/" + kFirst));

  proxy_->ClearFaults();
  ExpectRerunCompletes(Env());
  ExpectNothingLostUnlessVerified(sources_, HashTree(ws_.lake() + "/events"), *archive_,
                                  "after the rerun");
  EXPECT_EQ(VerifiedArchive(*archive_).size(), 6u) << "both partitions, three files each";
  EXPECT_FALSE(Exists(ws_.lake() + "/events/" + kFirst));
  EXPECT_FALSE(Exists(ws_.lake() + "/events/_tidemark/recycle/20240202T000000Z/" + kFirst));
}

INSTANTIATE_TEST_SUITE_P(Faults, S3FaultLocalLakeTest, ::testing::ValuesIn(kFlowFaults),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(S3FaultFlowTest, TheArchiveServerStoppedMidCopyFailsTheRunAndARestartLetsItFinish) {
  OwnS3Server server;
  ASSERT_FALSE(server.endpoint().empty());
  auto proxy = StartProxy(server.endpoint());
  ASSERT_NE(proxy, nullptr);
  WriteFile(ws_.config(),
            HiveArchiveConfig(
                "  lake: { url: \"file:lake\" }\n",
                S3ConnectionYaml("cold", "s3://tidemark-test/archive", proxy->endpoint()), 0));
  ws_.MakeDailyPartitions("events", "2024-01-01", 5, 3);
  const Files sources = HashTree(ws_.lake() + "/events");
  const auto env = Env("S3RVER", "S3RVER");

  // Hold the upload of a file of the first partition; the server dies meanwhile.
  const FaultMatch upload{"PUT", InTarget("archive/events/main/main/" + kFirst + "/part-1")};
  proxy->Delay(upload, 1, std::chrono::seconds(30));
  auto run = std::async(std::launch::async, [&] { return ApplyStepByStep(env); });
  ASSERT_TRUE(proxy->WaitForRequests(upload, 1, std::chrono::seconds(60)));
  server.Kill();
  proxy->ReleaseDelayed();
  CommandResult failed = run.get();
  EXPECT_EQ(failed.exit_code, 3) << "unreachable\n" << failed.out << failed.err;
  EXPECT_THAT(failed.out, AllOf(HasSubstr("FAILED main/main/" + kFirst + "/copy_to_archive"),
                                HasSubstr(kGaveUp)));

  ASSERT_TRUE(server.Start());
  auto archive = server.Open("archive");
  ASSERT_NE(archive, nullptr);
  ExpectNothingLostUnlessVerified(sources, HashTree(ws_.lake() + "/events"), *archive,
                                  "after the server stopped");
  ASSERT_TRUE(proxy->SetUpstream(server.endpoint()));
  ExpectRerunCompletes(env);
  EXPECT_EQ(VerifiedArchive(*archive).size(), 6u);
  ExpectNothingLostUnlessVerified(sources, HashTree(ws_.lake() + "/events"), *archive,
                                  "after the rerun");
}

// ---- a lake on S3 archived to S3, both through the proxy

// The keys an S3 DELETE or DeleteObjects request named, unless the proxy answered it
// itself (then the server never saw it).
std::vector<std::string> DeletedKeys(const FaultProxy& proxy, const std::string& bucket) {
  std::vector<std::string> keys;
  const std::string path_start = "/" + bucket + "/";
  for (const ProxiedRequest& request : proxy.Requests()) {
    if (request.fault == "respond") continue;
    const std::string path = request.target.substr(0, request.target.find('?'));
    if (request.method == "DELETE" && request.target.find("uploadId=") == std::string::npos &&
        path.starts_with(path_start)) {
      keys.push_back(util::PercentDecode(path.substr(path_start.size())));
    }
    if (request.method == "POST" && request.target.find("?delete") != std::string::npos) {
      for (size_t at = request.body.find("<Key>"); at != std::string::npos;
           at = request.body.find("<Key>", at + 1)) {
        const size_t end = request.body.find("</Key>", at);
        keys.push_back(request.body.substr(at + 5, end - at - 5));  // our keys need no unescaping
      }
    }
  }
  return keys;
}

class S3FaultS3LakeTest : public S3FaultFlowTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(prefix_.ok());
    lake_ = prefix_.Open(prefix_.Settings("lake/events"));
    archive_ = prefix_.Open(prefix_.Settings("archive"));
    ASSERT_TRUE(lake_ && archive_);
    proxy_ = StartProxy(TestS3Server().endpoint);
    ASSERT_NE(proxy_, nullptr);
    WriteFile(ws_.config(),
              HiveArchiveConfig(
                  S3ConnectionYaml("lake", prefix_.url() + "/lake", proxy_->endpoint()),
                  S3ConnectionYaml("cold", prefix_.url() + "/archive", proxy_->endpoint()), 0));
    ws_.MakeDailyPartitions("events", "2024-01-01", 5, 3);
    for (const auto& [path, sha] : HashTree(ws_.lake() + "/events")) {
      ASSERT_TRUE(Put(*lake_, path, ReadFile(ws_.lake() + "/events/" + path)));
      sources_[path] = sha;
    }
    fs::remove_all(ws_.lake());
  }

  Files LakeNow() {
    Files files;
    for (const std::string& key : Keys(*lake_)) {
      auto bytes = Get(*lake_, key);
      if (bytes) files[key] = util::Sha256Hex(*bytes);
    }
    return files;
  }

  // Every deletion the proxy passed on of a source file was justified when it was
  // checked: a file deleted from the dataset is in the recycle bin or verified in the
  // archive; one deleted from the bin is verified in the archive.
  void ExpectEveryDeletionJustified(const std::string& when) {
    const std::string dataset = prefix_.prefix() + "/lake/events/";
    const auto copies = LakeCopies(LakeNow());
    const Files verified = VerifiedArchive(*archive_);
    for (const std::string& key : DeletedKeys(*proxy_, TestS3Server().bucket)) {
      if (!key.starts_with(dataset) || key.find("tidemark-tmp") != std::string::npos ||
          key.find(".tidemark-probe") != std::string::npos) {
        continue;
      }
      const std::string relative = key.substr(dataset.size());
      const bool from_bin = relative.starts_with("_tidemark/");
      const auto as_source = LakeCopies({{relative, ""}});
      ASSERT_EQ(as_source.size(), 1u) << key << " is no file tidemark moves";
      auto source = sources_.find(as_source.begin()->first);
      ASSERT_NE(source, sources_.end()) << key << " was never a file of the dataset";
      ++deletions_checked_;
      auto archived = verified.find(source->first);
      const bool is_verified = archived != verified.end() && archived->second == source->second;
      auto kept = copies.find(source->first);
      const bool in_bin = kept != copies.end() && kept->second.count(source->second) > 0;
      EXPECT_TRUE(is_verified || (!from_bin && in_bin))
          << when << ": " << key << " was deleted without a verified archived copy";
    }
  }

  S3TestPrefix prefix_;
  std::unique_ptr<store::ObjectStore> lake_, archive_;  // straight to the server
  std::unique_ptr<FaultProxy> proxy_;
  Files sources_;
  int deletions_checked_ = 0;
};

TEST_F(S3FaultS3LakeTest, ErrorsWritingTheArchiveFailTheRunAndDeleteNoUnverifiedSource) {
  proxy_->Respond({"PUT", InTarget(prefix_.prefix() + "/archive/events/main/main/" + kFirst)},
                  kEveryRequest, 503, kSlowDown);
  CommandResult failed = Apply(Env());
  EXPECT_EQ(failed.exit_code, 1) << failed.out << failed.err;
  EXPECT_THAT(failed.out, AllOf(HasSubstr("FAILED main/main/" + kFirst + "/copy_to_archive"),
                                HasSubstr("503 SlowDown"), HasSubstr(kGaveUp)));
  ExpectNothingLostUnlessVerified(sources_, LakeNow(), *archive_, "after the failed run");
  ExpectEveryDeletionJustified("after the failed run");
  EXPECT_GT(deletions_checked_, 0) << "the partitions were moved into the bin, and one purged";

  proxy_->ClearFaults();
  proxy_->ClearRequests();
  ExpectRerunCompletes(Env());
  ExpectNothingLostUnlessVerified(sources_, LakeNow(), *archive_, "after the rerun");
  ExpectEveryDeletionJustified("after the rerun");
  EXPECT_EQ(VerifiedArchive(*archive_).size(), 6u);
  EXPECT_THAT(Keys(*lake_, "_tidemark"), IsEmpty()) << "the bin was purged";
}

TEST_F(S3FaultS3LakeTest,
       ConnectionsCutReadingTheArchiveBackFailTheRunAndDeleteNoUnverifiedSource) {
  proxy_->CutResponse(
      {"GET", InTarget(prefix_.prefix() + "/archive/events/main/main/" + kFirst + "/part-")},
      kEveryRequest, 10);
  CommandResult failed = Apply(Env());
  EXPECT_EQ(failed.exit_code, 3) << failed.out << failed.err;
  EXPECT_THAT(failed.out, AllOf(HasSubstr("FAILED main/main/" + kFirst + "/verify_archive"),
                                HasSubstr(kGaveUp)));
  ExpectNothingLostUnlessVerified(sources_, LakeNow(), *archive_, "after the failed run");
  ExpectEveryDeletionJustified("after the failed run");
  EXPECT_GT(deletions_checked_, 0);
  EXPECT_FALSE(Keys(*lake_, "_tidemark/recycle/20240202T000000Z/" + kFirst).empty())
      << "unverified, so still in the bin";

  proxy_->ClearFaults();
  proxy_->ClearRequests();
  ExpectRerunCompletes(Env());
  ExpectEveryDeletionJustified("after the rerun");
  EXPECT_EQ(VerifiedArchive(*archive_).size(), 6u);
  EXPECT_THAT(Keys(*lake_, "_tidemark"), IsEmpty());
}

TEST_F(S3FaultFlowTest, TheServerOfAnS3LakeStoppedMidVerifyFailsTheRunAndARestartLetsItFinish) {
  OwnS3Server server;
  ASSERT_FALSE(server.endpoint().empty());
  auto lake = server.Open("lake/events");
  ASSERT_NE(lake, nullptr);
  ws_.MakeDailyPartitions("events", "2024-01-01", 5, 3);
  const Files sources = HashTree(ws_.lake() + "/events");
  for (const auto& [path, sha] : sources) {
    ASSERT_TRUE(Put(*lake, path, ReadFile(ws_.lake() + "/events/" + path)));
  }
  fs::remove_all(ws_.lake());
  auto proxy = StartProxy(server.endpoint());
  ASSERT_NE(proxy, nullptr);
  WriteFile(ws_.config(),
            HiveArchiveConfig(
                S3ConnectionYaml("lake", "s3://tidemark-test/lake", proxy->endpoint()),
                S3ConnectionYaml("cold", "s3://tidemark-test/archive", proxy->endpoint()), 0));
  const auto env = Env("S3RVER", "S3RVER");

  // Hold a read of the archive (only verify reads it back); the server dies meanwhile.
  const FaultMatch read_back{"GET", InTarget("archive/events/main/main/" + kFirst + "/part-1")};
  proxy->Delay(read_back, 1, std::chrono::seconds(30));
  auto run = std::async(std::launch::async, [&] { return ApplyStepByStep(env); });
  ASSERT_TRUE(proxy->WaitForRequests(read_back, 1, std::chrono::seconds(60)));
  server.Kill();
  proxy->ReleaseDelayed();
  CommandResult failed = run.get();
  EXPECT_EQ(failed.exit_code, 3) << "unreachable\n" << failed.out << failed.err;
  EXPECT_THAT(failed.out, AllOf(HasSubstr("FAILED main/main/" + kFirst + "/verify_archive"),
                                HasSubstr(kGaveUp), Not(HasSubstr("missing or incomplete"))))
      << "the server is down; the archive is neither missing nor incomplete";

  ASSERT_TRUE(server.Start());
  lake = server.Open("lake/events");
  auto archive = server.Open("archive");
  ASSERT_TRUE(lake && archive);
  auto lake_now = [&] {
    Files files;
    for (const std::string& key : Keys(*lake))
      files[key] = util::Sha256Hex(Get(*lake, key).value_or(""));
    return files;
  };
  ExpectNothingLostUnlessVerified(sources, lake_now(), *archive, "after the server stopped");
  ASSERT_TRUE(proxy->SetUpstream(server.endpoint()));
  ExpectRerunCompletes(env);
  EXPECT_EQ(VerifiedArchive(*archive).size(), 6u);
  ExpectNothingLostUnlessVerified(sources, lake_now(), *archive, "after the rerun");
  EXPECT_THAT(Keys(*lake, "_tidemark"), IsEmpty());
}

}  // namespace
}  // namespace tidemark::testing
