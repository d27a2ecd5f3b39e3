#include "tidemark/config/storage_urls.h"

#include "tidemark/config/locations.h"
#include "tidemark/util/strings.h"

namespace tidemark::config {

namespace {

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string Render(const Archive& archive, const std::string& dataset, const std::string& lifecycle,
                   const std::string& storage, const std::string& partition) {
  std::string path = Replace(archive.path, "{dataset}", dataset);
  path = Replace(path, "{lifecycle}", lifecycle);
  path = Replace(path, "{storage}", storage);
  return Replace(path, "{partition}", partition);
}

std::string ConnectionUrl(const Config& config, const std::string& name) {
  const Connection* connection = config.FindConnection(name);
  return connection == nullptr ? "" : ResolveUrl(config, connection->url);
}

}  // namespace

std::string ResolveUrl(const Config& config, const std::string& url) {
  const std::string scheme = UrlScheme(url);
  if (scheme != "file" && scheme != "s3") return url;
  auto root = LakeRoot(url, config);  // validation refused URLs it cannot read
  if (!root) return url;
  return scheme == "file" ? "file://" + *root : *root;
}

std::string StorageUrl(const Config& config, const Storage& storage) {
  return JoinLocation(ConnectionUrl(config, storage.connection), storage.path);
}

std::string ArchiveUrl(const Config& config, const Archive& archive, const std::string& dataset,
                       const std::string& lifecycle, const std::string& storage,
                       const std::string& partition) {
  std::string url = JoinLocation(ConnectionUrl(config, archive.connection),
                                 Render(archive, dataset, lifecycle, storage, partition));
  if (url.back() != '/') url += '/';
  return url;
}

std::string ArchivePrefixUrl(const Config& config, const Archive& archive,
                             const std::string& dataset, const std::string& lifecycle,
                             const std::string& storage) {
  Archive prefix = archive;
  prefix.path = archive.path.substr(0, archive.path.find("{partition}"));
  return ArchiveUrl(config, prefix, dataset, lifecycle, storage, "");
}

std::string StorageFamily(const std::string& url) {
  if (util::StartsWith(url, "file:") || util::StartsWith(url, "s3:")) return "lake";
  if (util::StartsWith(url, "postgres:") || util::StartsWith(url, "postgresql:")) return "postgres";
  if (util::StartsWith(url, "mariadb:") || util::StartsWith(url, "mysql:")) return "mariadb";
  return "";
}

}  // namespace tidemark::config
