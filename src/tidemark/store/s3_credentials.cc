#include "tidemark/store/s3_credentials.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "tidemark/util/strings.h"

namespace tidemark::store {

namespace {

std::string Trimmed(std::string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string Variable(const config::EnvironmentLookup& environment, const std::string& name) {
  std::optional<std::string> value = environment(name);
  return value ? *value : "";
}

util::Result<std::string> FirstLine(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) return util::ConfigError(what + ": cannot read " + path + ": " + std::strerror(errno));
  std::string line;
  std::getline(in, line);
  line = Trimmed(line);
  if (line.empty()) return util::ConfigError(what + ": the first line of " + path + " is empty");
  return line;
}

// A secret the connection names: from the variable `variable`, else the file `file`.
util::Result<std::string> NamedSecret(const std::string& variable, const std::string& file,
                                      const std::string& owner, const std::string& key,
                                      const config::EnvironmentLookup& environment) {
  if (!variable.empty()) {
    std::string value = Variable(environment, variable);
    if (value.empty()) {
      return util::ConfigError(owner + " takes its " + key + " from the environment variable " +
                               variable + ", which is not set");
    }
    return value;
  }
  if (file.empty()) {
    return util::ConfigError(owner + " gives no " + key + "; add " + key + "_env or " + key +
                             "_file");
  }
  return FirstLine(file, owner + " " + key + "_file");
}

// The shared file `name` under ~/.aws, or the file the variable `override` names.
std::string SharedFile(const config::EnvironmentLookup& environment, const char* override,
                       const char* name) {
  std::string path = Variable(environment, override);
  if (!path.empty()) return path;
  std::string home = Variable(environment, "HOME");
  return home.empty() ? "" : home + "/.aws/" + name;
}

std::string ConfigSection(const std::string& profile) {
  return profile == "default" ? profile : "profile " + profile;
}

// The credentials of `profile` in the shared files, or nullopt; where it looked is
// appended to `looked`.
util::Result<std::optional<S3Credentials>> FromProfile(const std::string& profile,
                                                       const config::EnvironmentLookup& environment,
                                                       std::vector<std::string>& looked) {
  const std::pair<std::string, std::string> places[] = {
      {SharedFile(environment, "AWS_SHARED_CREDENTIALS_FILE", "credentials"), profile},
      {SharedFile(environment, "AWS_CONFIG_FILE", "config"), ConfigSection(profile)}};
  for (const auto& [path, section] : places) {
    if (path.empty()) continue;
    const std::string where = path + " [" + section + "]";
    auto settings = ReadAwsFileSection(path, section);
    if (!settings) {
      looked.push_back(where);
      continue;
    }
    const std::string access = (*settings)["aws_access_key_id"];
    const std::string secret = (*settings)["aws_secret_access_key"];
    if (access.empty() && secret.empty()) {
      looked.push_back(where + " (no aws_access_key_id)");
      continue;
    }
    if (access.empty() || secret.empty()) {
      return util::ConfigError(where +
                               " has only one of aws_access_key_id and "
                               "aws_secret_access_key; give both");
    }
    return std::optional<S3Credentials>(
        S3Credentials{access, secret, (*settings)["aws_session_token"], where});
  }
  return std::optional<S3Credentials>();
}

util::Result<S3Credentials> FromConnection(const S3CredentialSources& sources,
                                           const std::string& owner,
                                           const config::EnvironmentLookup& environment) {
  S3Credentials credentials;
  credentials.source = owner;
  TM_TRY_ASSIGN(credentials.access_key, NamedSecret(sources.access_key_env, sources.access_key_file,
                                                    owner, "access_key", environment));
  TM_TRY_ASSIGN(credentials.secret_key, NamedSecret(sources.secret_key_env, sources.secret_key_file,
                                                    owner, "secret_key", environment));
  if (!sources.session_token_env.empty()) {
    TM_TRY_ASSIGN(credentials.session_token,
                  NamedSecret(sources.session_token_env, "", owner, "session_token", environment));
  }
  return credentials;
}

// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or nullopt when neither is set.
util::Result<std::optional<S3Credentials>> FromEnvironment(
    const config::EnvironmentLookup& environment, std::vector<std::string>& looked) {
  const std::string access = Variable(environment, "AWS_ACCESS_KEY_ID");
  const std::string secret = Variable(environment, "AWS_SECRET_ACCESS_KEY");
  if (access.empty() && secret.empty()) {
    looked.push_back("the environment (AWS_ACCESS_KEY_ID is not set)");
    return std::optional<S3Credentials>();
  }
  if (access.empty() || secret.empty()) {
    return util::ConfigError(
        std::string(access.empty() ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") +
        " is set but " + (access.empty() ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") +
        " is not; set both or neither");
  }
  return std::optional<S3Credentials>(S3Credentials{
      access, secret, Variable(environment, "AWS_SESSION_TOKEN"), "AWS_ACCESS_KEY_ID"});
}

}  // namespace

util::Result<S3Credentials> ResolveS3Credentials(const S3CredentialSources& sources,
                                                 const config::EnvironmentLookup& environment) {
  const std::string owner = sources.what.empty() ? "the S3 location" : sources.what;
  if (!sources.access_key_env.empty() || !sources.access_key_file.empty() ||
      !sources.secret_key_env.empty() || !sources.secret_key_file.empty()) {
    return FromConnection(sources, owner, environment);
  }
  std::vector<std::string> looked;
  if (!sources.profile.empty()) {
    TM_TRY_ASSIGN(auto found, FromProfile(sources.profile, environment, looked));
    if (found) return *found;
    return util::ConfigError(owner + " names profile '" + sources.profile +
                             "', which has no credentials; looked in " +
                             util::Join(looked, " and "));
  }
  TM_TRY_ASSIGN(auto from_environment, FromEnvironment(environment, looked));
  if (from_environment) return *from_environment;
  std::string profile = Variable(environment, "AWS_PROFILE");
  if (profile.empty()) profile = "default";
  TM_TRY_ASSIGN(auto from_profile, FromProfile(profile, environment, looked));
  if (from_profile) return *from_profile;
  if (!sources.what.empty()) {
    looked.insert(looked.begin(),
                  sources.what + " (no access_key_env, access_key_file or profile)");
  }
  return util::ConfigError("no S3 credentials found; looked in " + util::Join(looked, ", ") +
                           ". Set access_key_env and secret_key_env on the connection, or "
                           "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
}

std::string DefaultS3Region(const std::string& profile,
                            const config::EnvironmentLookup& environment) {
  for (const char* variable : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    std::string region = Variable(environment, variable);
    if (!region.empty()) return region;
  }
  std::string name = profile.empty() ? Variable(environment, "AWS_PROFILE") : profile;
  if (name.empty()) name = "default";
  const std::string path = SharedFile(environment, "AWS_CONFIG_FILE", "config");
  if (!path.empty()) {
    auto settings = ReadAwsFileSection(path, ConfigSection(name));
    if (settings && !(*settings)["region"].empty()) return (*settings)["region"];
  }
  return "us-east-1";
}

std::optional<std::map<std::string, std::string>> ReadAwsFileSection(const std::string& path,
                                                                     const std::string& section) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::optional<std::map<std::string, std::string>> found;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    // Indented lines continue a nested value (`s3 =` and its settings); not ours.
    if (line.empty() || std::isspace(static_cast<unsigned char>(line[0]))) continue;
    const std::string text = Trimmed(line);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    if (text.front() == '[' && text.back() == ']') {
      inside = Trimmed(std::string_view(text).substr(1, text.size() - 2)) == section;
      if (inside && !found) found.emplace();
      continue;
    }
    size_t equals = text.find('=');
    if (!inside || equals == std::string::npos) continue;
    (*found)[Lower(Trimmed(std::string_view(text).substr(0, equals)))] =
        Trimmed(std::string_view(text).substr(equals + 1));
  }
  return found;
}

}  // namespace tidemark::store
