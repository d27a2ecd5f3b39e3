#include "tests/support/s3_env.h"

#include <atomic>
#include <cstdlib>

#include <gtest/gtest.h>
#include <unistd.h>

#include "tidemark/config/expand.h"
#include "tidemark/store/s3_store.h"
#include "tidemark/util/strings.h"

namespace tidemark::testing {

namespace {

constexpr const char* kVariables[] = {"TIDEMARK_TEST_S3_ENDPOINT", "TIDEMARK_TEST_S3_BUCKET",
                                      kTestS3AccessKeyEnv, kTestS3SecretKeyEnv};

std::string Environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

S3Server ServerFromEnvironment() {
  return S3Server{Environment(kVariables[0]), Environment(kVariables[1]),
                  Environment(kVariables[2]), Environment(kVariables[3])};
}

std::string NewPrefix() {
  static std::atomic<int> counter{0};
  return "tm-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + "-" +
         util::RandomHex(8);
}

}  // namespace

const S3Server& TestS3Server() {
  static const S3Server server = ServerFromEnvironment();
  if (!server.available()) {
    std::string missing;
    for (const char* name : kVariables) {
      if (Environment(name).empty()) missing += std::string(missing.empty() ? "" : ", ") + name;
    }
    ADD_FAILURE() << "this test needs an S3 server (s3rver), and " << missing
                  << " is not set: run the tests through scripts/test, or start a server with "
                     "`scripts/s3-server start DIR` and export the variables in DIR/env "
                     "(set -a; . DIR/env; set +a)";
  }
  return server;
}

std::string S3ConnectionsYaml(const S3Server& server) {
  return "connections:\n  lake: { url: \"s3://" + server.bucket + "\", endpoint: \"" +
         server.endpoint + "\", access_key_env: " + kTestS3AccessKeyEnv +
         ", secret_key_env: " + kTestS3SecretKeyEnv + " }\n";
}

std::string S3ConnectionYaml(const std::string& name, const std::string& url,
                             const std::string& endpoint) {
  const std::string at = endpoint.empty() ? TestS3Server().endpoint : endpoint;
  return "  " + name + ": { url: \"" + url + "\", endpoint: \"" + at +
         "\", region: us-east-1, addressing: path, access_key_env: " + kTestS3AccessKeyEnv +
         ", secret_key_env: " + kTestS3SecretKeyEnv + " }\n";
}

std::string HiveArchiveConfig(const std::string& lake_connection,
                              const std::string& cold_connection, int recycle_days) {
  return "state: sqlite:.tidemark/state.db\n"
         "runs_dir: .tidemark/runs\n"
         "timezone: UTC\n"
         "connections:\n" +
         lake_connection + cold_connection +
         "archives:\n"
         "  cold: { connection: cold, path: \"{dataset}/{lifecycle}/{storage}/{partition}/\" }\n"
         "datasets:\n"
         "  events:\n"
         "    storage: { connection: lake, path: events, layout: hive }\n"
         "    partition_by: dt\n"
         "    interval: 1 day\n"
         "    retention: 30 days\n"
         "    on_expire: archive\n"
         "    archive_to: cold\n"
         "    recycle_days: " +
         std::to_string(recycle_days) + "\n";
}

S3TestPrefix::S3TestPrefix() : prefix_(NewPrefix()) {
  const S3Server& server = TestS3Server();
  if (!server.available()) return;
  auto config = config::ParseConfig(S3ConnectionsYaml(server), "/tmp/tidemark-s3-test.yaml");
  if (!config) {
    ADD_FAILURE() << config.error().message();
    return;
  }
  config_ = std::move(*config);
  ok_ = true;
}

S3TestPrefix::~S3TestPrefix() {
  if (!ok_) return;
  auto store = Open();
  if (store == nullptr) return;
  auto objects = store->List("");
  if (!objects) {
    ADD_FAILURE() << "cleaning up " << url() << ": " << objects.error().message();
    return;
  }
  std::vector<std::string> keys;
  for (const store::ObjectInfo& object : *objects) keys.push_back(object.key);
  auto deleted = store->DeleteMany(keys);
  if (!deleted) ADD_FAILURE() << "cleaning up " << url() << ": " << deleted.error().message();
}

std::string S3TestPrefix::url() const { return "s3://" + TestS3Server().bucket + "/" + prefix_; }

store::S3Settings S3TestPrefix::Settings(const std::string& below) const {
  const std::string location = below.empty() ? url() : url() + "/" + below;
  auto settings = store::ResolveS3Settings(location, &config_, config::ProcessEnvironment());
  if (!settings) {
    ADD_FAILURE() << settings.error().message();
    return {};
  }
  settings->retry.base_delay = std::chrono::milliseconds(5);
  return *settings;
}

std::unique_ptr<store::ObjectStore> S3TestPrefix::Open(const store::S3Settings& settings) const {
  auto store = store::OpenS3Store(settings);
  if (!store) {
    ADD_FAILURE() << store.error().message();
    return nullptr;
  }
  return std::move(*store);
}

}  // namespace tidemark::testing
