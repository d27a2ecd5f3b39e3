#include "tidemark/store/s3_settings.h"

#include <charconv>
#include <map>

#include "tidemark/config/locations.h"
#include "tidemark/config/storage_urls.h"
#include "tidemark/store/object_store.h"
#include "tidemark/util/strings.h"

namespace tidemark::store {

namespace {

struct S3Url {
  std::string bucket;
  std::string prefix;
  std::map<std::string, std::string> query;  // decoded
};

util::Result<S3Url> ParseS3Url(const std::string& url) {
  if (!util::StartsWith(url, "s3://")) {
    return util::ConfigError("\"" + url + "\" is not an s3:// URL");
  }
  std::string rest = url.substr(5);
  S3Url parsed;
  const size_t question = rest.find('?');
  if (question != std::string::npos) {
    for (const std::string& parameter : util::Split(rest.substr(question + 1), '&')) {
      const size_t equals = parameter.find('=');
      if (parameter.empty()) continue;
      parsed.query[util::PercentDecode(parameter.substr(0, equals))] =
          equals == std::string::npos ? "" : util::PercentDecode(parameter.substr(equals + 1));
    }
    rest.resize(question);
  }
  const size_t slash = rest.find('/');
  parsed.bucket = rest.substr(0, slash);
  if (parsed.bucket.empty()) {
    return util::ConfigError("\"" + url + "\" names no bucket; write s3://bucket/prefix");
  }
  if (slash != std::string::npos) parsed.prefix = JoinKey("", rest.substr(slash + 1));
  return parsed;
}

std::string QueryValue(const S3Url& url, const std::string& name) {
  auto it = url.query.find(name);
  return it == url.query.end() ? "" : it->second;
}

util::Status ApplyRetryOverride(const config::EnvironmentLookup& environment,
                                S3RetryPolicy& retry) {
  std::optional<std::string> text = environment("TIDEMARK_S3_RETRY_BASE_MS");
  if (!text || text->empty()) return {};
  int milliseconds = -1;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), milliseconds);
  if (error != std::errc() || end != text->data() + text->size() || milliseconds < 0) {
    return util::ConfigError("TIDEMARK_S3_RETRY_BASE_MS is \"" + *text +
                             "\"; it must be a number of milliseconds");
  }
  retry.base_delay = std::chrono::milliseconds(milliseconds);
  return {};
}

S3CredentialSources SourcesOf(const config::Connection* connection, const config::Config* config) {
  S3CredentialSources sources;
  if (connection == nullptr) return sources;
  auto path = [&](const std::string& file) {
    return file.empty() ? file : config->ResolvePath(file);
  };
  sources.what = "connection '" + connection->name + "'";
  sources.access_key_env = connection->access_key_env;
  sources.access_key_file = path(connection->access_key_file);
  sources.secret_key_env = connection->secret_key_env;
  sources.secret_key_file = path(connection->secret_key_file);
  sources.session_token_env = connection->session_token_env;
  sources.profile = connection->profile;
  return sources;
}

}  // namespace

const config::Connection* FindS3Connection(const config::Config& config, const std::string& url) {
  auto target = config::LakeRoot(url, config);
  if (!target) return nullptr;
  const config::Connection* best = nullptr;
  size_t best_length = 0;
  for (const config::Connection& connection : config.connections) {
    if (config::UrlScheme(connection.url) != "s3") continue;
    const std::string root = config::ResolveUrl(config, connection.url);
    if (config::IsInside(*target, root) && (best == nullptr || root.size() > best_length)) {
      best = &connection;
      best_length = root.size();
    }
  }
  return best;
}

util::Result<S3Settings> ResolveS3Settings(const std::string& url, const config::Config* config,
                                           const config::EnvironmentLookup& environment) {
  TM_TRY_ASSIGN(S3Url parsed, ParseS3Url(url));
  const config::Connection* connection =
      config == nullptr ? nullptr : FindS3Connection(*config, url);
  S3Url from_connection;
  if (connection != nullptr) {
    if (auto own = ParseS3Url(connection->url)) from_connection = std::move(*own);
  }
  // A connection's key, else the URL's query, else the connection URL's query.
  auto pick = [&](const std::string config::Connection::*field, const std::string& name) {
    if (connection != nullptr && !(connection->*field).empty()) return connection->*field;
    std::string value = QueryValue(parsed, name);
    return value.empty() ? QueryValue(from_connection, name) : value;
  };
  S3Settings settings;
  settings.bucket = parsed.bucket;
  settings.prefix = parsed.prefix;
  settings.connection = connection == nullptr ? "" : connection->name;
  settings.endpoint = pick(&config::Connection::endpoint, "endpoint");
  settings.addressing = pick(&config::Connection::addressing, "addressing");
  settings.region = pick(&config::Connection::region, "region");
  if (settings.region.empty()) {
    settings.region =
        DefaultS3Region(connection == nullptr ? "" : connection->profile, environment);
  }
  if (connection != nullptr && !connection->ca_file.empty()) {
    settings.ca_file = config->ResolvePath(connection->ca_file);
  }
  if (connection != nullptr && connection->part_size_mib > 0) {
    settings.part_size = int64_t{connection->part_size_mib} << 20;
  }
  if (connection != nullptr && connection->parts_in_flight > 0) {
    settings.parts_in_flight = connection->parts_in_flight;
  }
  if (connection != nullptr && connection->multipart_threshold_mib > 0) {
    settings.multipart_threshold = int64_t{connection->multipart_threshold_mib} << 20;
  }
  const std::string where =
      "s3://" + parsed.bucket + (parsed.prefix.empty() ? "" : "/" + parsed.prefix);
  auto credentials = ResolveS3Credentials(SourcesOf(connection, config), environment);
  if (!credentials) return tl::unexpected(credentials.error().WithContext(where));
  settings.credentials = std::move(*credentials);
  TM_TRY(ApplyRetryOverride(environment, settings.retry));
  return settings;
}

}  // namespace tidemark::store
