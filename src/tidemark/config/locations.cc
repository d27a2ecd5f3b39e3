#include "tidemark/config/locations.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "tidemark/util/strings.h"

namespace tidemark::config {

namespace {

constexpr std::string_view kFileForms =
    "a file URL is file:///absolute/path or file:relative/path (relative to the config file)";
constexpr std::string_view kS3Form = "an s3 URL is s3://bucket or s3://bucket/prefix";

std::string Lower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return lower;
}

// "a/./b/../c/" -> "a/c"; keeps a leading '/'.
std::string NormalizePath(std::string_view path) {
  std::string normal = std::filesystem::path(path).lexically_normal().generic_string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal == "." ? "" : normal;
}

std::string_view WithoutQuery(std::string_view url) {
  return url.substr(0, url.find_first_of("?#"));
}

tl::expected<std::string, std::string> FileRoot(std::string_view rest, const Config& config) {
  if (util::StartsWith(rest, "//")) {
    rest.remove_prefix(2);
    if (rest.empty() || rest.front() != '/') {
      return tl::unexpected("file URLs take no host; " + std::string(kFileForms));
    }
  }
  if (rest.empty()) return tl::unexpected("the file URL has no path; " + std::string(kFileForms));
  return NormalizePath(config.ResolvePath(std::string(rest)));
}

tl::expected<std::string, std::string> S3Root(std::string_view rest) {
  if (!util::StartsWith(rest, "//") || rest.size() == 2 || rest[2] == '/') {
    return tl::unexpected("the s3 URL has no bucket; " + std::string(kS3Form));
  }
  rest.remove_prefix(2);
  size_t slash = rest.find('/');
  std::string bucket(rest.substr(0, slash));
  if (slash == std::string_view::npos) return "s3://" + bucket;
  std::string prefix = NormalizePath(rest.substr(slash + 1));
  return prefix.empty() ? "s3://" + bucket : "s3://" + bucket + "/" + prefix;
}

}  // namespace

std::string UrlScheme(std::string_view url) {
  size_t colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0) return "";
  for (char c : url.substr(0, colon)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return "";
    }
  }
  return Lower(url.substr(0, colon));
}

SystemKind KindOfScheme(std::string_view scheme) {
  if (scheme == "file" || scheme == "s3") return SystemKind::kLake;
  if (scheme == "postgres" || scheme == "postgresql" || scheme == "mariadb" || scheme == "mysql") {
    return SystemKind::kDatabase;
  }
  return SystemKind::kUnknown;
}

std::string KnownSchemes() { return "file, s3, postgres, postgresql, mariadb, mysql"; }

bool UrlHasSecret(std::string_view url) {
  size_t start = url.find("://");
  if (start != std::string_view::npos) {
    std::string_view authority = url.substr(start + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    size_t at = authority.rfind('@');
    if (at != std::string_view::npos &&
        authority.substr(0, at).find(':') != std::string_view::npos) {
      return true;
    }
  }
  size_t query = url.find('?');
  if (query == std::string_view::npos) return false;
  for (const std::string& parameter : util::Split(url.substr(query + 1), '&')) {
    std::string name = Lower(parameter.substr(0, parameter.find('=')));
    if (name.find("password") != std::string::npos || name.find("secret") != std::string::npos) {
      return true;
    }
  }
  return false;
}

tl::expected<std::string, std::string> LakeRoot(std::string_view url, const Config& config) {
  std::string scheme = UrlScheme(url);
  std::string_view rest = WithoutQuery(url.substr(std::min(url.size(), scheme.size() + 1)));
  if (scheme == "file") return FileRoot(rest, config);
  if (scheme == "s3") return S3Root(rest);
  return tl::unexpected(std::string("not a lake URL; use file: or s3:"));
}

std::string JoinLocation(std::string_view root, std::string_view relative) {
  std::string normal = NormalizePath(relative);
  if (normal.empty()) return std::string(root);
  if (root.empty() || root.back() == '/') return std::string(root) + normal;
  return std::string(root) + "/" + normal;
}

bool IsInside(std::string_view inner, std::string_view outer) {
  if (!util::StartsWith(inner, outer)) return false;
  if (inner.size() == outer.size()) return true;
  return outer.back() == '/' || inner[outer.size()] == '/';
}

std::string StaticPrefix(std::string_view path_template) {
  std::string_view before = path_template.substr(0, path_template.find('{'));
  size_t slash = before.rfind('/');
  if (slash == std::string_view::npos) return "";
  return NormalizePath(before.substr(0, slash));
}

bool IsRelativeBelow(std::string_view path) {
  if (util::StartsWith(path, "/")) return false;
  for (const std::string& part : util::Split(path, '/')) {
    if (part == "..") return false;
  }
  return true;
}

}  // namespace tidemark::config
