// Connection URLs and storage locations: the scheme that picks a backend, whether a URL
// carries a secret, the root directory or bucket prefix of a lake connection, and
// whether one location lies inside another. Used by validation to find two lifecycles
// on one location and archives inside the data they archive.
//
// Thread-safety: pure functions.

#ifndef TIDEMARK_CONFIG_LOCATIONS_H_
#define TIDEMARK_CONFIG_LOCATIONS_H_

#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "tidemark/config/config.h"

namespace tidemark::config {

enum class SystemKind { kUnknown, kLake, kDatabase };

// The URL's scheme, lowercased ("postgres" for "postgres://..."), or "" when it has none.
std::string UrlScheme(std::string_view url);
// kLake for file and s3; kDatabase for postgres, postgresql, mariadb and mysql.
SystemKind KindOfScheme(std::string_view scheme);
// "file, s3, postgres, postgresql, mariadb, mysql"
std::string KnownSchemes();

// Whether the URL carries a password: "user:secret@" in its authority, or a query
// parameter named like password or secret.
bool UrlHasSecret(std::string_view url);

// The root of a lake connection: an absolute, normalized directory for file:
// ("file:///abs" or "file:relative", against config.base_dir), "s3://bucket/prefix"
// for s3: (query dropped). Fails with a message saying which forms are accepted.
tl::expected<std::string, std::string> LakeRoot(std::string_view url, const Config& config);

// `root` + "/" + `relative`, normalized ("." and ".." resolved, no trailing '/').
std::string JoinLocation(std::string_view root, std::string_view relative);

// Whether `inner` equals `outer` or lies below it, comparing whole path components.
bool IsInside(std::string_view inner, std::string_view outer);

// The part of an archive path template that is the same for every partition: the
// directories before the first '{' ("archive/{dataset}/" gives "archive").
std::string StaticPrefix(std::string_view path_template);

// Whether a relative path stays below its root: not absolute and no ".." component.
bool IsRelativeBelow(std::string_view path);

// URLs of a loaded (valid) config for the layers above. A file: URL in any accepted form
// comes out as "file:///absolute/path"; other URLs keep their form.

// The connection URL with file: paths made absolute against config.base_dir.
std::string ResolveUrl(const Config& config, const std::string& url);

// Where a storage's partitions live: "file:///var/lib/lake/devices" or
// "s3://bucket/prefix/landing/orders" for lakes (no query), the connection URL plus
// "#" and the table for databases ("postgres://tidemark@db1:5432/app#public.events").
// "" when the storage's connection is not defined.
std::string StorageUrl(const Config& config, const Storage& storage);

// The family of a location, which decides which backend handles it and what a restore
// may target: "lake" (file:, s3:), "postgres" (postgres:, postgresql:), "mariadb"
// (mariadb:, mysql:), or "" when the location has no known scheme.
std::string StorageFamily(const std::string& location);

// The archive location of one partition: the archive's connection root joined with its
// path template filled in, always ending in '/' (e.g.
// "s3://datalake/archive/orders/raw/landing/dt=2024-01-05/"). "" when the archive's
// connection is not defined.
std::string ArchiveUrl(const Config& config, const Archive& archive, const std::string& dataset,
                       const std::string& lifecycle, const std::string& storage,
                       const std::string& partition);

// The directory under which ArchiveUrl puts the partitions of one storage: the filled-in
// template up to the directory holding {partition}, ending in '/'.
std::string ArchivePrefixUrl(const Config& config, const Archive& archive,
                             const std::string& dataset, const std::string& lifecycle,
                             const std::string& storage);

}  // namespace tidemark::config

#endif  // TIDEMARK_CONFIG_LOCATIONS_H_
