// Where S3 credentials and the region come from, in the order AWS tools use, except
// that what the connection itself names comes first:
//
//   credentials: the connection's access_key_env/_file and secret_key_env/_file (with
//                session_token_env); else the connection's `profile` in the shared
//                files; else AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
//                AWS_SESSION_TOKEN; else the shared credentials file
//                (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials), then the shared
//                config file (AWS_CONFIG_FILE or ~/.aws/config), with the profile
//                AWS_PROFILE or "default".
//   region:      the connection's (or the URL's ?region=); else AWS_REGION,
//                AWS_DEFAULT_REGION; else the profile's in the shared config file;
//                else us-east-1.
//
// A source that is named but empty (an unset variable, an unreadable file, a missing
// profile) is an error rather than a reason to look further: the user meant it. No
// credentials anywhere is a kConfig error that lists where tidemark looked. Messages
// name variables and files, never a secret's value.
//
// Thread-safety: pure functions, given a pure environment lookup; they read files.

#ifndef TIDEMARK_STORE_S3_CREDENTIALS_H_
#define TIDEMARK_STORE_S3_CREDENTIALS_H_

#include <map>
#include <optional>
#include <string>

#include "tidemark/config/expand.h"
#include "tidemark/util/error.h"

namespace tidemark::store {

struct S3Credentials {
  std::string access_key;
  std::string secret_key;     // never printed
  std::string session_token;  // "" without one; never printed
  std::string source;         // where they came from, for messages ("AWS_ACCESS_KEY_ID")
};

// What a connection says about its credentials; file paths are absolute.
struct S3CredentialSources {
  std::string what;  // "connection 'lake'", or "" when no connection holds the URL
  std::string access_key_env;
  std::string access_key_file;
  std::string secret_key_env;
  std::string secret_key_file;
  std::string session_token_env;
  std::string profile;  // named by the connection; "" for AWS_PROFILE, else "default"
};

util::Result<S3Credentials> ResolveS3Credentials(const S3CredentialSources& sources,
                                                 const config::EnvironmentLookup& environment);

// The region when the connection and URL gave none (`profile` as in S3CredentialSources).
std::string DefaultS3Region(const std::string& profile,
                            const config::EnvironmentLookup& environment);

// The settings of section `section` of an AWS shared credentials or config file (INI:
// "[name]" headers, "key = value" lines, '#' and ';' comments), keys in lower case;
// nullopt when the file cannot be read or has no such section.
std::optional<std::map<std::string, std::string>> ReadAwsFileSection(const std::string& path,
                                                                     const std::string& section);

}  // namespace tidemark::store

#endif  // TIDEMARK_STORE_S3_CREDENTIALS_H_
