#include "tidemark/store/s3_url.h"

#include <algorithm>
#include <cctype>

#include "tidemark/util/strings.h"

namespace tidemark::store {

namespace {

bool IsUnreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

// `text` with every byte for which `keep` is false written as %XX.
template <typename Keep>
std::string Encode(std::string_view text, Keep keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c < 0x80 && keep(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Whether `bucket` can be a host name label sequence (S3's rules for virtual hosting).
bool IsDnsCompatible(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  auto allowed = [](unsigned char c) {
    return std::islower(c) || std::isdigit(c) || c == '-' || c == '.';
  };
  if (!std::all_of(bucket.begin(), bucket.end(), allowed)) return false;
  return std::isalnum(static_cast<unsigned char>(bucket.front())) &&
         std::isalnum(static_cast<unsigned char>(bucket.back())) &&
         bucket.find("..") == std::string_view::npos;
}

util::Status ParseEndpointUrl(std::string_view url, S3Endpoint& endpoint) {
  const std::string quoted = "endpoint \"" + std::string(url) + "\"";
  size_t scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) {
    std::string scheme(url.substr(0, scheme_end));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (scheme != "http" && scheme != "https") {
      return util::ConfigError(quoted + " must be an http:// or https:// URL");
    }
    endpoint.scheme = scheme;
    url.remove_prefix(scheme_end + 3);
  }
  if (url.find_first_of("?#") != std::string_view::npos) {
    return util::ConfigError(quoted + " may not have a query or fragment");
  }
  size_t slash = url.find('/');
  std::string_view host = url.substr(0, slash);
  if (host.find('@') != std::string_view::npos) {
    return util::ConfigError(
        "the S3 endpoint may not carry credentials; use access_key_env and secret_key_env");
  }
  if (host.empty()) return util::ConfigError(quoted + " has no host");
  endpoint.host = std::string(host);
  if (slash != std::string_view::npos) {
    std::string path(url.substr(slash));
    while (!path.empty() && path.back() == '/') path.pop_back();
    endpoint.base_path = path;
  }
  return {};
}

util::Status SetAwsHost(std::string_view region, S3Endpoint& endpoint) {
  auto allowed = [](unsigned char c) { return std::islower(c) || std::isdigit(c) || c == '-'; };
  if (region.empty() || !std::all_of(region.begin(), region.end(), allowed)) {
    return util::ConfigError("\"" + std::string(region) +
                             "\" is not an AWS region; write one like eu-west-1");
  }
  const char* domain = util::StartsWith(region, "cn-") ? ".amazonaws.com.cn" : ".amazonaws.com";
  endpoint.host = "s3." + std::string(region) + domain;
  return {};
}

}  // namespace

util::Result<S3Endpoint> MakeS3Endpoint(std::string_view endpoint_url, std::string_view region,
                                        std::string_view bucket, std::string_view addressing) {
  S3Endpoint endpoint;
  endpoint.bucket = std::string(bucket);
  if (bucket.empty()) return util::ConfigError("the S3 URL names no bucket");
  if (endpoint_url.empty()) {
    TM_TRY(SetAwsHost(region, endpoint));
  } else {
    TM_TRY(ParseEndpointUrl(endpoint_url, endpoint));
  }
  if (addressing == "path") {
    endpoint.addressing = S3Addressing::kPath;
  } else if (addressing == "virtual") {
    if (!IsDnsCompatible(bucket)) {
      return util::ConfigError("bucket \"" + std::string(bucket) +
                               "\" cannot be addressed virtual-hosted (its name is not a valid "
                               "host name); use addressing: path");
    }
    endpoint.addressing = S3Addressing::kVirtual;
  } else if (addressing.empty()) {
    const bool virtual_ok = IsDnsCompatible(bucket) && bucket.find('.') == std::string_view::npos;
    endpoint.addressing =
        endpoint_url.empty() && virtual_ok ? S3Addressing::kVirtual : S3Addressing::kPath;
  } else {
    return util::ConfigError("addressing \"" + std::string(addressing) +
                             "\" is neither path nor virtual");
  }
  return endpoint;
}

std::string EncodeKeyPath(std::string_view key) {
  return Encode(key, [](unsigned char c) { return IsUnreserved(c) || c == '/'; });
}

std::string EncodeQueryComponent(std::string_view text) {
  return Encode(text, [](unsigned char c) { return IsUnreserved(c); });
}

std::string CanonicalQuery(QueryParameters parameters) {
  for (auto& [name, value] : parameters) {
    name = EncodeQueryComponent(name);
    value = EncodeQueryComponent(value);
  }
  std::sort(parameters.begin(), parameters.end());
  std::string query;
  for (const auto& [name, value] : parameters) {
    if (!query.empty()) query += '&';
    query += name + "=" + value;
  }
  return query;
}

std::string S3RequestUrl(const S3Endpoint& endpoint, std::string_view key, std::string_view query) {
  std::string url = endpoint.scheme + "://";
  std::string path = endpoint.base_path;
  if (endpoint.addressing == S3Addressing::kVirtual) {
    url += endpoint.bucket + "." + endpoint.host;
    path += "/" + EncodeKeyPath(key);
  } else {
    url += endpoint.host;
    path += "/" + EncodeKeyPath(endpoint.bucket);
    if (!key.empty()) path += "/" + EncodeKeyPath(key);
  }
  url += path;
  if (!query.empty()) url += "?" + std::string(query);
  return url;
}

std::string CopySourceHeader(std::string_view bucket, std::string_view key) {
  auto keep = [](unsigned char c) {
    return IsUnreserved(c) || c == '/' || c == '=' || c == ':' || c == '@' || c == ',' ||
           c == ';' || c == '$' || c == '&';
  };
  return "/" + Encode(bucket, keep) + "/" + Encode(key, keep);
}

}  // namespace tidemark::store
