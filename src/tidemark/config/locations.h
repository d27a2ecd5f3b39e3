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

}  // namespace tidemark::config

#endif  // TIDEMARK_CONFIG_LOCATIONS_H_
