#include "tidemark/store/object_store.h"

#include <algorithm>

#include "tidemark/config/expand.h"
#include "tidemark/store/local_store.h"
#include "tidemark/store/s3_settings.h"
#include "tidemark/store/s3_store.h"
#include "tidemark/util/strings.h"

namespace tidemark::store {

namespace {

using StoreResult = util::Result<std::unique_ptr<ObjectStore>>;

struct Scheme {
  const char* prefix;
  StoreResult (*open)(const std::string& url, const config::Config* config);
};

StoreResult OpenLocal(const std::string& url, const config::Config*) {
  std::string rest = url.substr(std::string_view("file://").size());
  if (rest.empty() || rest[0] != '/') {
    return util::ConfigError("\"" + url +
                             "\" is not an absolute file URL; write file:///absolute/path");
  }
  return NewLocalStore(rest);
}

StoreResult OpenS3(const std::string& url, const config::Config* config) {
  TM_TRY_ASSIGN(S3Settings settings, ResolveS3Settings(url, config, config::ProcessEnvironment()));
  return OpenS3Store(settings);
}

// The registry: one row per URL scheme.
constexpr Scheme kSchemes[] = {
    {"file://", &OpenLocal},
    {"s3://", &OpenS3},
};

}  // namespace

util::Status ObjectStore::DeleteMany(const std::vector<std::string>& keys) {
  for (const std::string& key : keys) TM_TRY(Delete(key));
  return {};
}

util::Result<std::string> ObjectStore::ReadRange(const std::string& key, int64_t offset,
                                                 int64_t length) {
  TM_TRY_ASSIGN(auto reader, OpenRead(key));
  std::string out;
  char block[65536];
  int64_t at = 0;
  while (static_cast<int64_t>(out.size()) < length) {
    TM_TRY_ASSIGN(size_t n, reader->Read(block, sizeof block));
    if (n == 0) break;
    int64_t begin = std::max<int64_t>(offset - at, 0);
    int64_t end = std::min<int64_t>(static_cast<int64_t>(n), offset + length - at);
    if (begin < end) out.append(block + begin, static_cast<size_t>(end - begin));
    at += static_cast<int64_t>(n);
  }
  return out;
}

util::Status ObjectStore::CopyWithin(const std::string& from, const std::string& to) {
  TM_TRY_ASSIGN(auto info, Stat(from));
  if (!info) return util::StepError(url() + "/" + from + " is missing; cannot copy it");
  TM_TRY_ASSIGN(auto reader, OpenRead(from));
  TM_TRY_ASSIGN(auto writer, OpenWrite(to));
  std::vector<char> block(1 << 20);
  while (true) {
    TM_TRY_ASSIGN(size_t n, reader->Read(block.data(), block.size()));
    if (n == 0) break;
    TM_TRY(writer->Write(block.data(), n));
  }
  return writer->Commit(info->mtime_ns);
}

bool ObjectStore::IsLocal() const { return false; }

bool ObjectStore::StreamsPut(int64_t) const { return false; }

util::Status ObjectStore::PutFromSource(const std::string& key, int64_t size, const std::string&,
                                        int64_t mtime_ns, const ByteSource& source) {
  TM_TRY_ASSIGN(auto writer, OpenWrite(key));
  std::vector<char> block(1 << 20);
  int64_t offset = 0;
  while (offset < size) {
    const size_t want = static_cast<size_t>(std::min<int64_t>(size - offset, block.size()));
    TM_TRY_ASSIGN(size_t n, source(offset, block.data(), want));
    if (n == 0) {
      return util::StepError(url() + "/" + key + ": the source ended after " +
                             std::to_string(offset) + " of " + std::to_string(size) + " bytes");
    }
    TM_TRY(writer->Write(block.data(), n));
    offset += static_cast<int64_t>(n);
  }
  return writer->Commit(mtime_ns);
}

util::Result<bool> ObjectStore::PutIfAbsent(const std::string& key, std::string_view) {
  return util::ConfigError(url() + ": cannot write " + key +
                           " only-if-absent on this store; it is needed for Delta commits");
}

util::Result<std::unique_ptr<ObjectStore>> OpenStore(const std::string& url,
                                                     const config::Config* config) {
  for (const Scheme& scheme : kSchemes) {
    if (util::StartsWith(url, scheme.prefix)) return scheme.open(url, config);
  }
  return util::ConfigError("\"" + url +
                           "\" is not a location tidemark can store files in "
                           "(known: file://, s3://)");
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
