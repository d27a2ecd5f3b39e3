#include "tidemark/store/object_store.h"

#include "tidemark/store/local_store.h"
#include "tidemark/util/strings.h"

namespace tidemark::store {

namespace {

struct Scheme {
  const char* prefix;
  std::unique_ptr<ObjectStore> (*open)(const std::string& rest);
};

std::unique_ptr<ObjectStore> OpenLocal(const std::string& rest) { return NewLocalStore(rest); }

// The registry: one row per URL scheme.
constexpr Scheme kSchemes[] = {
    {"file://", &OpenLocal},
};

}  // namespace

util::Result<std::unique_ptr<ObjectStore>> OpenStore(const std::string& url) {
  for (const Scheme& scheme : kSchemes) {
    if (!util::StartsWith(url, scheme.prefix)) continue;
    std::string rest = url.substr(std::string(scheme.prefix).size());
    if (rest.empty() || rest[0] != '/') {
      return util::ConfigError("\"" + url +
                               "\" is not an absolute file URL; write file:///absolute/path");
    }
    return scheme.open(rest);
  }
  if (util::StartsWith(url, "s3://")) {
    return util::ConfigError("\"" + url +
                             "\": S3 stores are not supported by this build yet; "
                             "use a file:// location");
  }
  return util::ConfigError("\"" + url +
                           "\" is not a location tidemark can store files in "
                           "(known: file://)");
}

std::string JoinKey(const std::string& a, const std::string& b) {
  std::string joined;
  for (const std::string& part : {a, b}) {
    for (const std::string& piece : util::Split(part, '/')) {
      if (piece.empty()) continue;
      if (!joined.empty()) joined += '/';
      joined += piece;
    }
  }
  return joined;
}

}  // namespace tidemark::store
