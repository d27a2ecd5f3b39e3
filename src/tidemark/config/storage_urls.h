// Where things are at run time: absolute URLs of storages and archives built from the
// configuration, and the storage family a URL belongs to (restores stay in a family).
//
// Thread-safety: pure functions.

#ifndef TIDEMARK_CONFIG_STORAGE_URLS_H_
#define TIDEMARK_CONFIG_STORAGE_URLS_H_

#include <string>

#include "tidemark/config/config.h"

namespace tidemark::config {

// A lake connection's root as an absolute URL: "file:lake" becomes
// "file:///dir/of/config/lake", "s3://bucket/base?region=x" becomes "s3://bucket/base";
// other URLs are returned as they are.
std::string ResolveUrl(const Config& config, const std::string& url);

// The URL of a lake storage's dataset root ("file:///var/lib/lake/events").
std::string StorageUrl(const Config& config, const Storage& storage);

// The archive URL of one partition, from the archive's template, ending in '/'.
std::string ArchiveUrl(const Config& config, const Archive& archive, const std::string& dataset,
                       const std::string& lifecycle, const std::string& storage,
                       const std::string& partition);

// The part of the archive URL common to every partition of a storage: the template
// up to {partition}.
std::string ArchivePrefixUrl(const Config& config, const Archive& archive,
                             const std::string& dataset, const std::string& lifecycle,
                             const std::string& storage);

// "lake" for file: and s3:, "postgres", "mariadb" (also for mysql:), or "" when unknown.
std::string StorageFamily(const std::string& url);

}  // namespace tidemark::config

#endif  // TIDEMARK_CONFIG_STORAGE_URLS_H_
