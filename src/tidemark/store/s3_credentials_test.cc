// Where S3 credentials, the region and the other settings come from: the connection,
// the environment, and the AWS shared files (written to a temporary HOME). The
// environment is a map here; nothing reads the process's.

#include "tidemark/store/s3_credentials.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "tidemark/store/s3_settings.h"

namespace tidemark::store {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

class S3CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/tidemark-s3-credentials-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    home_ = dir;
    variables_["HOME"] = home_.string();
  }
  void TearDown() override { fs::remove_all(home_); }

  config::EnvironmentLookup Environment() const {
    return [variables = variables_](const std::string& name) -> std::optional<std::string> {
      auto it = variables.find(name);
      if (it == variables.end()) return std::nullopt;
      return it->second;
    };
  }

  void Write(const std::string& relative, const std::string& text) {
    fs::create_directories((home_ / relative).parent_path());
    std::ofstream(home_ / relative) << text;
  }

  util::Result<S3Credentials> Resolve(const S3CredentialSources& sources) {
    return ResolveS3Credentials(sources, Environment());
  }

  fs::path home_;
  std::map<std::string, std::string> variables_;
};

TEST_F(S3CredentialsTest, TheConnectionsVariablesComeFirst) {
  variables_["LAKE_ID"] = "AKIALAKE";
  variables_["LAKE_SECRET"] = "lake-secret";
  variables_["LAKE_TOKEN"] = "lake-token";
  variables_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  variables_["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  auto credentials = Resolve({.what = "connection 'lake'",
                              .access_key_env = "LAKE_ID",
                              .secret_key_env = "LAKE_SECRET",
                              .session_token_env = "LAKE_TOKEN"});
  ASSERT_TRUE(credentials) << credentials.error().message();
  EXPECT_EQ(credentials->access_key, "AKIALAKE");
  EXPECT_EQ(credentials->secret_key, "lake-secret");
  EXPECT_EQ(credentials->session_token, "lake-token");
  EXPECT_EQ(credentials->source, "connection 'lake'");
}

TEST_F(S3CredentialsTest, KeyFilesGiveTheirFirstLine) {
  Write("keys/id", "AKIAFILE\nsecond line\n");
  Write("keys/secret", "  file-secret \r\n");
  auto credentials = Resolve({.what = "connection 'lake'",
                              .access_key_file = (home_ / "keys/id").string(),
                              .secret_key_file = (home_ / "keys/secret").string()});
  ASSERT_TRUE(credentials) << credentials.error().message();
  EXPECT_EQ(credentials->access_key, "AKIAFILE");
  EXPECT_EQ(credentials->secret_key, "file-secret");
  EXPECT_EQ(credentials->session_token, "");
}

TEST_F(S3CredentialsTest, ANamedButMissingSourceIsAnErrorNotAFallback) {
  variables_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  variables_["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  variables_["LAKE_ID"] = "AKIALAKE";
  auto unset = Resolve({.what = "connection 'lake'",
                        .access_key_env = "LAKE_ID",
                        .secret_key_env = "LAKE_SECRET_UNSET"});
  ASSERT_FALSE(unset);
  EXPECT_EQ(unset.error().category(), util::ErrorCategory::kConfig);
  EXPECT_THAT(unset.error().message(),
              HasSubstr("connection 'lake' takes its secret_key from the environment variable "
                        "LAKE_SECRET_UNSET, which is not set"));
  auto unreadable = Resolve({.what = "connection 'lake'",
                             .access_key_env = "LAKE_ID",
                             .secret_key_file = (home_ / "absent").string()});
  ASSERT_FALSE(unreadable);
  EXPECT_THAT(unreadable.error().message(),
              HasSubstr("cannot read " + (home_ / "absent").string()));
}

TEST_F(S3CredentialsTest, TheEnvironmentComesBeforeTheSharedFiles) {
  Write(".aws/credentials", "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = f\n");
  variables_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  variables_["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  variables_["AWS_SESSION_TOKEN"] = "env-token";
  auto credentials = Resolve({});
  ASSERT_TRUE(credentials) << credentials.error().message();
  EXPECT_EQ(credentials->access_key, "AKIAENV");
  EXPECT_EQ(credentials->session_token, "env-token");
  EXPECT_EQ(credentials->source, "AWS_ACCESS_KEY_ID");
}

TEST_F(S3CredentialsTest, HalfTheEnvironmentIsAnError) {
  variables_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  auto credentials = Resolve({});
  ASSERT_FALSE(credentials);
  EXPECT_THAT(credentials.error().message(),
              HasSubstr("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"));
}

TEST_F(S3CredentialsTest, TheSharedCredentialsFileWithAwsProfileOrDefault) {
  Write(".aws/credentials",
        "# comment\n[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = d\n\n"
        "[prod]\naws_access_key_id=AKIAPROD\naws_secret_access_key=p\naws_session_token = t\n");
  auto by_default = Resolve({});
  ASSERT_TRUE(by_default) << by_default.error().message();
  EXPECT_EQ(by_default->access_key, "AKIADEFAULT");
  EXPECT_EQ(by_default->source, (home_ / ".aws/credentials").string() + " [default]");
  variables_["AWS_PROFILE"] = "prod";
  auto prod = Resolve({});
  ASSERT_TRUE(prod) << prod.error().message();
  EXPECT_EQ(prod->access_key, "AKIAPROD");
  EXPECT_EQ(prod->secret_key, "p");
  EXPECT_EQ(prod->session_token, "t");
}

TEST_F(S3CredentialsTest, AProfileTheConnectionNamesComesBeforeTheEnvironment) {
  Write("elsewhere/creds",
        "[archive]\naws_access_key_id = AKIAARCHIVE\naws_secret_access_key = a\n");
  variables_["AWS_SHARED_CREDENTIALS_FILE"] = (home_ / "elsewhere/creds").string();
  variables_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  variables_["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  auto credentials = Resolve({.what = "connection 'cold'", .profile = "archive"});
  ASSERT_TRUE(credentials) << credentials.error().message();
  EXPECT_EQ(credentials->access_key, "AKIAARCHIVE");
  auto missing = Resolve({.what = "connection 'cold'", .profile = "nope"});
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message(),
              HasSubstr("connection 'cold' names profile 'nope', which has no credentials"));
}

TEST_F(S3CredentialsTest, ProfilesInTheConfigFileCountToo) {
  Write(".aws/config",
        "[default]\nregion = eu-central-1\n[profile sso]\naws_access_key_id = AKIACONFIG\n"
        "aws_secret_access_key = c\nregion = ap-south-1\ns3 =\n  addressing_style = path\n");
  variables_["AWS_PROFILE"] = "sso";
  auto credentials = Resolve({});
  ASSERT_TRUE(credentials) << credentials.error().message();
  EXPECT_EQ(credentials->access_key, "AKIACONFIG");
  EXPECT_EQ(DefaultS3Region("", Environment()), "ap-south-1");
  EXPECT_EQ(DefaultS3Region("default", Environment()), "eu-central-1");
}

TEST_F(S3CredentialsTest, NoCredentialsListsWhereItLookedAndNeverASecret) {
  Write(".aws/credentials",
        "[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = TOPSECRET\n");
  auto credentials = Resolve({.what = "connection 'lake'"});
  ASSERT_FALSE(credentials);
  EXPECT_EQ(credentials.error().category(), util::ErrorCategory::kConfig);
  EXPECT_THAT(credentials.error().message(),
              AllOf(HasSubstr("no S3 credentials found"),
                    HasSubstr("connection 'lake' (no access_key_env, access_key_file or profile)"),
                    HasSubstr("AWS_ACCESS_KEY_ID is not set"),
                    HasSubstr((home_ / ".aws/credentials").string() + " [default]"),
                    HasSubstr((home_ / ".aws/config").string() + " [default]"),
                    Not(HasSubstr("TOPSECRET"))));
}

TEST_F(S3CredentialsTest, TheRegionFromTheEnvironmentBeforeTheConfigFileElseUsEast1) {
  EXPECT_EQ(DefaultS3Region("", Environment()), "us-east-1");
  Write(".aws/config", "[default]\nregion = eu-north-1\n");
  EXPECT_EQ(DefaultS3Region("", Environment()), "eu-north-1");
  variables_["AWS_DEFAULT_REGION"] = "sa-east-1";
  EXPECT_EQ(DefaultS3Region("", Environment()), "sa-east-1");
  variables_["AWS_REGION"] = "af-south-1";
  EXPECT_EQ(DefaultS3Region("", Environment()), "af-south-1");
}

// The configuration a test parses, with its file in the temporary HOME.
config::Config Parse(const std::string& yaml, const fs::path& dir) {
  auto config = config::ParseConfig(yaml, (dir / "tidemark.yaml").string());
  EXPECT_TRUE(config) << config.error().message();
  return config ? *config : config::Config{};
}

TEST_F(S3CredentialsTest, SettingsComeFromTheConnectionWithTheLongestRootHoldingTheUrl) {
  variables_["BROAD_ID"] = "AKIABROAD";
  variables_["BROAD_SECRET"] = "b";
  Write("narrow.id", "AKIANARROW\n");
  Write("narrow.secret", "n\n");
  config::Config config = Parse(R"(
connections:
  broad:  { url: "s3://lake?region=eu-west-1", access_key_env: BROAD_ID, secret_key_env: BROAD_SECRET }
  narrow: { url: "s3://lake/archive", region: us-west-2, endpoint: "http://127.0.0.1:9000",
            access_key_file: narrow.id, secret_key_file: narrow.secret, addressing: virtual,
            ca_file: ca.pem, part_size_mib: 32, multipart_threshold_mib: 8,
            parts_in_flight: 2 }
  other:  { url: "s3://lake2", access_key_env: BROAD_ID, secret_key_env: BROAD_SECRET }
)",
                                home_);
  auto broad = ResolveS3Settings("s3://lake/events/dt=2024-01-01", &config, Environment());
  ASSERT_TRUE(broad) << broad.error().message();
  EXPECT_EQ(broad->connection, "broad");
  EXPECT_EQ(broad->bucket, "lake");
  EXPECT_EQ(broad->prefix, "events/dt=2024-01-01");
  EXPECT_EQ(broad->region, "eu-west-1");  // from the connection URL's query
  EXPECT_EQ(broad->endpoint, "");
  EXPECT_EQ(broad->credentials.access_key, "AKIABROAD");
  EXPECT_EQ(broad->part_size, 16 << 20);  // the defaults
  EXPECT_EQ(broad->multipart_threshold, 100 << 20);
  EXPECT_EQ(broad->parts_in_flight, 4);

  auto narrow = ResolveS3Settings("s3://lake/archive/x/y", &config, Environment());
  ASSERT_TRUE(narrow) << narrow.error().message();
  EXPECT_EQ(narrow->connection, "narrow");
  EXPECT_EQ(narrow->region, "us-west-2");
  EXPECT_EQ(narrow->endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(narrow->addressing, "virtual");
  EXPECT_EQ(narrow->ca_file, (home_ / "ca.pem").string());
  EXPECT_EQ(narrow->credentials.access_key, "AKIANARROW");
  EXPECT_EQ(narrow->credentials.secret_key, "n");
  EXPECT_EQ(narrow->part_size, 32 << 20);
  EXPECT_EQ(narrow->multipart_threshold, 8 << 20);
  EXPECT_EQ(narrow->parts_in_flight, 2);

  // "archive2" is not inside "archive"; whole path components count.
  auto beside = ResolveS3Settings("s3://lake/archive2", &config, Environment());
  ASSERT_TRUE(beside) << beside.error().message();
  EXPECT_EQ(beside->connection, "broad");
}

TEST_F(S3CredentialsTest, WithoutAConnectionTheUrlQueryAndTheEnvironmentDecide) {
  variables_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  variables_["AWS_SECRET_ACCESS_KEY"] = "e";
  variables_["TIDEMARK_S3_RETRY_BASE_MS"] = "3";
  auto settings =
      ResolveS3Settings("s3://lake/a//b/?region=eu-west-3&endpoint=http%3A%2F%2F127.0.0.1%3A9000",
                        nullptr, Environment());
  ASSERT_TRUE(settings) << settings.error().message();
  EXPECT_EQ(settings->prefix, "a/b");
  EXPECT_EQ(settings->region, "eu-west-3");
  EXPECT_EQ(settings->endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(settings->connection, "");
  EXPECT_EQ(settings->retry.base_delay, std::chrono::milliseconds(3));

  variables_["TIDEMARK_S3_RETRY_BASE_MS"] = "soon";
  auto bad = ResolveS3Settings("s3://lake", nullptr, Environment());
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message(), HasSubstr("TIDEMARK_S3_RETRY_BASE_MS"));
}

TEST_F(S3CredentialsTest, MissingCredentialsNameTheLocation) {
  auto settings = ResolveS3Settings("s3://lake/events", nullptr, Environment());
  ASSERT_FALSE(settings);
  EXPECT_EQ(settings.error().category(), util::ErrorCategory::kConfig);
  EXPECT_THAT(settings.error().message(), HasSubstr("s3://lake/events: no S3 credentials found"));
}

TEST(ReadAwsFileSection, ReadsOneSectionAndNothingElse) {
  char path[] = "/tmp/tidemark-aws-ini-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "; comment\n[a]\nKey = 1\n[ b ]\nkey=2\nnested =\n  inner = 3\n[c]\n";
  auto b = ReadAwsFileSection(path, "b");
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, (std::map<std::string, std::string>{{"key", "2"}, {"nested", ""}}));
  EXPECT_EQ(ReadAwsFileSection(path, "a")->at("key"), "1");
  EXPECT_TRUE(ReadAwsFileSection(path, "c")->empty());
  EXPECT_FALSE(ReadAwsFileSection(path, "d"));
  EXPECT_FALSE(ReadAwsFileSection("/nonexistent/file", "a"));
  std::remove(path);
}

}  // namespace
}  // namespace tidemark::store
