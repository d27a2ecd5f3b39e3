// Support for integration tests that need S3: the server that scripts/s3-server started
// (s3rver; named by the environment that scripts/test exports), and a prefix of its
// bucket that no other test uses.
//
// A missing server is a test failure, never a skip: a suite that silently skipped its
// S3 tests would pass without testing anything.
//
// Thread-safety: for the test's main thread.

#ifndef TIDEMARK_TESTS_SUPPORT_S3_ENV_H_
#define TIDEMARK_TESTS_SUPPORT_S3_ENV_H_

#include <memory>
#include <string>

#include "tidemark/config/config.h"
#include "tidemark/store/object_store.h"
#include "tidemark/store/s3_settings.h"

namespace tidemark::testing {

// The environment variables holding the test server's credentials; a connection names
// them as access_key_env and secret_key_env.
inline constexpr char kTestS3AccessKeyEnv[] = "TIDEMARK_TEST_S3_ACCESS_KEY";
inline constexpr char kTestS3SecretKeyEnv[] = "TIDEMARK_TEST_S3_SECRET_KEY";

struct S3Server {
  std::string endpoint;    // TIDEMARK_TEST_S3_ENDPOINT: http://127.0.0.1:PORT
  std::string bucket;      // TIDEMARK_TEST_S3_BUCKET
  std::string access_key;  // TIDEMARK_TEST_S3_ACCESS_KEY
  std::string secret_key;  // TIDEMARK_TEST_S3_SECRET_KEY
  bool available() const {
    return !endpoint.empty() && !bucket.empty() && !access_key.empty() && !secret_key.empty();
  }
};

// The test server. When one of the four variables is not set, each call fails the
// current test with a message naming it and saying how to start a server, and returns a
// server that is not available().
const S3Server& TestS3Server();

// A tidemark.yaml's `connections:` section with connection `lake` for the test bucket
// (endpoint and credentials from the environment).
std::string S3ConnectionsYaml(const S3Server& server);

// One connection line of a tidemark.yaml for `url` on the test server (or on
// `endpoint`, a proxy in front of it): path-style, with the test credentials.
std::string S3ConnectionYaml(const std::string& name, const std::string& url,
                             const std::string& endpoint = "");

// A whole tidemark.yaml around the two connection lines `lake` and `cold`: dataset
// `events`, hive, partition_by dt, daily, retention 30 days, archived to `cold`.
std::string HiveArchiveConfig(const std::string& lake_connection,
                              const std::string& cold_connection, int recycle_days);

// A prefix of the test bucket that no other test uses ("tm-<pid>-<counter>-<random>"),
// and everything under it deleted when this object is destroyed. Every failure fails
// the current test; check ok() first.
class S3TestPrefix {
 public:
  S3TestPrefix();
  ~S3TestPrefix();
  S3TestPrefix(const S3TestPrefix&) = delete;
  S3TestPrefix& operator=(const S3TestPrefix&) = delete;

  bool ok() const { return ok_; }
  const std::string& prefix() const { return prefix_; }
  // "s3://BUCKET/PREFIX"
  std::string url() const;
  // The configuration with connection `lake` (S3ConnectionsYaml).
  const config::Config& config() const { return config_; }
  // The settings OpenStore would use for url() + "/" + `below`, with retries that wait
  // milliseconds rather than seconds.
  store::S3Settings Settings(const std::string& below = "") const;
  // A store for those settings; nullptr (and a test failure) on error.
  std::unique_ptr<store::ObjectStore> Open(const store::S3Settings& settings) const;
  std::unique_ptr<store::ObjectStore> Open() const { return Open(Settings()); }

 private:
  std::string prefix_;
  config::Config config_;
  bool ok_ = false;
};

}  // namespace tidemark::testing

#endif  // TIDEMARK_TESTS_SUPPORT_S3_ENV_H_
