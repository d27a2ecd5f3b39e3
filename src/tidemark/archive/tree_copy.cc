#include "tidemark/archive/tree_copy.h"

#include <algorithm>
#include <map>
#include <vector>

#include "tidemark/store/local_store.h"
#include "tidemark/util/failpoint.h"
#include "tidemark/util/sha256.h"
#include "tidemark/util/time.h"

namespace tidemark::archive {

namespace {

constexpr size_t kBufferSize = 1 << 20;

util::Error VerifyError(std::string message) {
  return util::Error(util::ErrorCategory::kVerify, std::move(message));
}

std::string Describe(const TreeLocation& at, const std::string& key) {
  return at.store->url() + "/" + key;
}

std::string Relative(const std::string& prefix, const std::string& key) {
  // Listed keys carry the prefix without its leading or trailing '/'.
  const std::string base = store::JoinKey(prefix, "");
  if (base.empty()) return key;
  return key.substr(base.size() + 1);
}

// What lies under a location: its data files (keys relative to the location), and the
// temporaries an interrupted writer left (full keys), which no one else will clean up.
struct Listing {
  std::vector<store::ObjectInfo> files;
  std::vector<std::string> temporaries;
};

// The named files of a location, each looked up; a missing one is an error.
util::Result<Listing> ListNamed(const TreeLocation& at, bool missing_ok = false) {
  Listing listing;
  for (const std::string& key : *at.only) {
    TM_TRY_ASSIGN(auto info, at.store->Stat(store::JoinKey(at.prefix, key)));
    if (!info && missing_ok) continue;
    if (!info) {
      return util::StepError(Describe(at, store::JoinKey(at.prefix, key)) +
                             " is missing; it should be there");
    }
    info->key = key;
    listing.files.push_back(std::move(*info));
  }
  std::sort(listing.files.begin(), listing.files.end(),
            [](const store::ObjectInfo& a, const store::ObjectInfo& b) { return a.key < b.key; });
  return listing;
}

util::Result<Listing> ListLocation(const TreeLocation& at) {
  if (at.only != nullptr) return ListNamed(at);
  TM_TRY_ASSIGN(auto objects, at.store->List(at.prefix));
  Listing listing;
  for (store::ObjectInfo& object : objects) {
    if (store::IsTemporaryKey(object.key)) {
      listing.temporaries.push_back(object.key);
      continue;
    }
    if (Relative(at.prefix, object.key) == kManifestName) continue;
    object.key = Relative(at.prefix, object.key);
    listing.files.push_back(std::move(object));
  }
  return listing;
}

// The data files under a location: everything but temporaries and the manifest.
util::Result<std::vector<store::ObjectInfo>> ListData(const TreeLocation& at) {
  TM_TRY_ASSIGN(Listing listing, ListLocation(at));
  return std::move(listing.files);
}

class Buffer {
 public:
  Buffer() : data_(new char[kBufferSize]) {}
  char* data() { return data_.get(); }

 private:
  std::unique_ptr<char[]> data_;
};

// Reads `key` through, returning its sha256.
util::Result<std::string> HashObject(const TreeLocation& at, const std::string& key, Buffer& buffer,
                                     util::Progress& progress) {
  TM_TRY_ASSIGN(auto reader, at.store->OpenRead(store::JoinKey(at.prefix, key)));
  util::Sha256 digest;
  while (true) {
    TM_TRY_ASSIGN(size_t n, reader->Read(buffer.data(), kBufferSize));
    if (n == 0) break;
    digest.Update(buffer.data(), n);
    progress.Advance(static_cast<int64_t>(n));
  }
  return digest.FinishHex();
}

// Copies one object from a local store to one that sends objects as it reads them (S3,
// up to its multipart threshold): a first read hashes it, a second sends it with that
// hash, so it is never held in memory and the upload starts at once. S3 checks the bytes
// against the hash, so a file changed between the reads fails the copy instead of being
// archived under a wrong sha256. Returns that sha256.
util::Result<std::string> StreamObject(const TreeLocation& from, const TreeLocation& to,
                                       const std::string& key, int64_t size, int64_t mtime_ns,
                                       Buffer& buffer, util::Progress& progress,
                                       const char* failpoint) {
  const std::string source_key = store::JoinKey(from.prefix, key);
  TM_TRY_ASSIGN(std::string sha, HashObject(from, key, buffer, util::NoProgress()));
  std::unique_ptr<store::Reader> reader;
  int64_t position = 0;
  bool first = true;
  store::ByteSource source = [&](int64_t offset, char* out, size_t want) -> util::Result<size_t> {
    if (reader == nullptr || offset != position) {
      if (offset != 0) {
        return util::StepError(Describe(from, source_key) + ": the upload asked for offset " +
                               std::to_string(offset) + " instead of " + std::to_string(position));
      }
      TM_TRY_ASSIGN(reader, from.store->OpenRead(source_key));  // again, for a retry
      position = 0;
    }
    TM_TRY_ASSIGN(size_t n, reader->Read(out, want));
    position += static_cast<int64_t>(n);
    progress.Advance(static_cast<int64_t>(n));
    if (first && n > 0) {
      first = false;
      util::Failpoint(failpoint);
    }
    return n;
  };
  TM_TRY(to.store->PutFromSource(store::JoinKey(to.prefix, key), size, sha, mtime_ns, source));
  return sha;
}

// Copies one object of `size` bytes, returning the sha256 of what was read.
util::Result<std::string> CopyObject(const TreeLocation& from, const TreeLocation& to,
                                     const std::string& key, int64_t size, int64_t mtime_ns,
                                     Buffer& buffer, util::Progress& progress,
                                     const char* failpoint) {
  if (from.store->IsLocal() && to.store->StreamsPut(size)) {
    return StreamObject(from, to, key, size, mtime_ns, buffer, progress, failpoint);
  }
  TM_TRY_ASSIGN(auto reader, from.store->OpenRead(store::JoinKey(from.prefix, key)));
  TM_TRY_ASSIGN(auto writer, to.store->OpenWrite(store::JoinKey(to.prefix, key)));
  util::Sha256 digest;
  bool first = true;
  while (true) {
    TM_TRY_ASSIGN(size_t n, reader->Read(buffer.data(), kBufferSize));
    if (n == 0) break;
    digest.Update(buffer.data(), n);
    TM_TRY(writer->Write(buffer.data(), n));
    progress.Advance(static_cast<int64_t>(n));
    if (first) util::Failpoint(failpoint);
    first = false;
  }
  TM_TRY(writer->Commit(mtime_ns));
  return digest.FinishHex();
}

util::Status WriteText(const TreeLocation& at, const std::string& name, const std::string& text) {
  TM_TRY_ASSIGN(auto writer, at.store->OpenWrite(store::JoinKey(at.prefix, name)));
  TM_TRY(writer->Write(text.data(), text.size()));
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return writer->Commit(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
}

void DeleteTemporaries(const TreeLocation& at, const std::vector<std::string>& keys) {
  for (const std::string& key : keys) (void)at.store->Delete(key);
}

bool SameFiles(const Manifest& manifest, const std::vector<store::ObjectInfo>& files) {
  if (manifest.files.size() != files.size()) return false;
  for (size_t i = 0; i < files.size(); ++i) {
    if (manifest.files[i].path != files[i].key || manifest.files[i].size != files[i].size) {
      return false;
    }
  }
  return true;
}

int64_t TotalSize(const std::vector<store::ObjectInfo>& files) {
  int64_t total = 0;
  for (const store::ObjectInfo& file : files) total += file.size;
  return total;
}

// A file already in the target with the source's size and mtime is kept when its bytes
// hash the same as the source's (an earlier, interrupted copy); otherwise it is copied.
// Returns the sha256 of the source's bytes.
util::Result<std::string> KeepOrCopy(const TreeLocation& source, const TreeLocation& target,
                                     const store::ObjectInfo& file,
                                     const store::ObjectInfo* present, Buffer& buffer,
                                     util::Progress& progress) {
  if (present != nullptr && present->size == file.size && present->mtime_ns == file.mtime_ns) {
    TM_TRY_ASSIGN(std::string source_sha, HashObject(source, file.key, buffer, progress));
    auto target_sha = HashObject(target, file.key, buffer, util::NoProgress());
    if (target_sha && *target_sha == source_sha) return source_sha;
  }
  return CopyObject(source, target, file.key, file.size, file.mtime_ns, buffer, progress,
                    "copy.mid_file");
}

}  // namespace

util::Result<std::string> ReadText(const TreeLocation& at, const std::string& name) {
  TM_TRY_ASSIGN(auto reader, at.store->OpenRead(store::JoinKey(at.prefix, name)));
  std::string text;
  char block[65536];
  while (true) {
    TM_TRY_ASSIGN(size_t n, reader->Read(block, sizeof block));
    if (n == 0) return text;
    text.append(block, n);
  }
}

util::Result<Manifest> ReadManifest(const TreeLocation& archive) {
  auto text = ReadText(archive, kManifestName);
  if (!text) {
    // Only an absent manifest means an absent archive; a store that could not be
    // reached says so (and may be retried).
    auto info = archive.store->Stat(store::JoinKey(archive.prefix, kManifestName));
    if (!info || info->has_value()) {
      return tl::unexpected(text.error().WithContext("reading " + Describe(archive, kManifestName)));
    }
    return tl::unexpected(VerifyError("no manifest at " + Describe(archive, kManifestName) +
                                      ": the archive is missing or incomplete"));
  }
  return ManifestFromJson(*text, Describe(archive, kManifestName));
}

util::Result<Manifest> CopyToArchive(const TreeLocation& source, const TreeLocation& target,
                                     const Manifest& header, util::Progress& progress) {
  TM_TRY_ASSIGN(auto files, ListData(source));
  if (files.empty()) {
    return util::StepError("nothing to archive: " + source.store->url() + "/" + source.prefix +
                           " holds no files");
  }
  auto existing = ReadManifest(target);
  if (existing && SameFiles(*existing, files)) return *existing;
  // A manifest of other files must not vouch for the archive while it is rewritten:
  // a crash mid-copy would leave it claiming a complete archive, and purge trusts it.
  if (existing) TM_TRY(target.store->Delete(store::JoinKey(target.prefix, kManifestName)));
  TM_TRY_ASSIGN(Listing before, ListLocation(target));
  std::map<std::string, store::ObjectInfo> present;
  for (const store::ObjectInfo& object : before.files) present[object.key] = object;

  Manifest manifest = header;
  Buffer buffer;
  progress.Begin("archive " + header.partition, TotalSize(files));
  for (const store::ObjectInfo& file : files) {
    auto it = present.find(file.key);
    TM_TRY_ASSIGN(std::string sha,
                  KeepOrCopy(source, target, file, it != present.end() ? &it->second : nullptr,
                             buffer, progress));
    manifest.files.push_back({file.key, file.size, file.mtime_ns, sha});
    if (it != present.end()) present.erase(it);
  }
  progress.End();
  // Files the source no longer has (an earlier archive of the same partition) go.
  for (const auto& [key, info] : present)
    TM_TRY(target.store->Delete(store::JoinKey(target.prefix, key)));
  DeleteTemporaries(target, before.temporaries);
  TM_TRY(WriteText(target, kManifestName, ManifestToJson(manifest)));
  return manifest;
}

util::Status VerifyAgainstManifest(const Manifest& manifest, const TreeLocation& target,
                                   util::Progress& progress) {
  TM_TRY_ASSIGN(auto files, ListData(target));
  std::map<std::string, int64_t> sizes;
  for (const store::ObjectInfo& file : files) sizes[file.key] = file.size;
  Buffer buffer;
  progress.Begin("verify " + manifest.partition, manifest.TotalBytes());
  for (const ManifestFile& expected : manifest.files) {
    auto it = sizes.find(expected.path);
    if (it == sizes.end()) {
      return tl::unexpected(VerifyError(Describe(target, expected.path) + " is missing"));
    }
    if (it->second != expected.size) {
      return tl::unexpected(VerifyError(Describe(target, expected.path) + " has " +
                                        std::to_string(it->second) + " bytes; the manifest says " +
                                        std::to_string(expected.size)));
    }
    TM_TRY_ASSIGN(std::string sha, HashObject(target, expected.path, buffer, progress));
    if (sha != expected.sha256) {
      return tl::unexpected(VerifyError(Describe(target, expected.path) +
                                        " differs from the manifest (sha256 " + sha +
                                        ", expected " + expected.sha256 + ")"));
    }
    sizes.erase(it);
  }
  progress.End();
  if (!sizes.empty()) {
    return tl::unexpected(
        VerifyError(Describe(target, sizes.begin()->first) + " is not in the manifest"));
  }
  return {};
}

util::Result<Manifest> VerifyArchive(const TreeLocation& archive, const TreeLocation* source,
                                     util::Progress& progress) {
  TM_TRY_ASSIGN(Manifest manifest, ReadManifest(archive));
  TM_TRY(VerifyAgainstManifest(manifest, archive, progress));
  if (source == nullptr) return manifest;
  TM_TRY_ASSIGN(auto files, ListData(*source));
  if (files.size() != manifest.files.size()) {
    return tl::unexpected(VerifyError(source->store->url() + "/" + source->prefix + " holds " +
                                      std::to_string(files.size()) + " files; the archive has " +
                                      std::to_string(manifest.files.size())));
  }
  for (size_t i = 0; i < files.size(); ++i) {
    const ManifestFile& expected = manifest.files[i];
    if (files[i].key != expected.path || files[i].size != expected.size ||
        files[i].mtime_ns != expected.mtime_ns) {
      return tl::unexpected(VerifyError(Describe(*source, files[i].key) +
                                        " changed since it was archived; archive it again"));
    }
  }
  return manifest;
}

util::Status CopyFromArchive(const TreeLocation& archive, const TreeLocation& target,
                             util::Progress& progress) {
  TM_TRY_ASSIGN(Manifest manifest, ReadManifest(archive));
  // Named files (a Delta table's) are looked up one by one; some are not there yet.
  TM_TRY_ASSIGN(Listing before,
                target.only != nullptr ? ListNamed(target, true) : ListLocation(target));
  std::map<std::string, store::ObjectInfo> present;
  for (const store::ObjectInfo& object : before.files) present[object.key] = object;
  Buffer buffer;
  progress.Begin("restore " + manifest.partition, manifest.TotalBytes());
  for (const ManifestFile& file : manifest.files) {
    auto it = present.find(file.path);
    if (it != present.end() && it->second.size == file.size &&
        it->second.mtime_ns == file.mtime_ns) {
      auto sha = HashObject(target, file.path, buffer, progress);
      if (sha && *sha == file.sha256) continue;
    }
    TM_TRY_ASSIGN(std::string sha, CopyObject(archive, target, file.path, file.size, file.mtime_ns,
                                              buffer, progress, "restore.mid_file"));
    if (sha != file.sha256) {
      (void)target.store->Delete(store::JoinKey(target.prefix, file.path));
      return tl::unexpected(VerifyError(Describe(archive, file.path) +
                                        " does not match its manifest (sha256 " + sha +
                                        "); the archive is damaged"));
    }
  }
  progress.End();
  DeleteTemporaries(target, before.temporaries);
  return {};
}

namespace {

// The mark of a move in progress: a temporary by name, so listings of data skip it.
std::string MoveMark(const std::string& to) { return store::JoinKey(to, ".move.tidemark-tmp"); }

// Whether the copy `to_key` holds the bytes of `from_key`: the sizes, then the entity
// tags when both are whole-object MD5s, else the sha256 of both.
util::Result<bool> SameObject(store::ObjectStore& store, const store::ObjectInfo& from,
                              const store::ObjectInfo& to, Buffer& buffer,
                              util::Progress& progress) {
  if (from.size != to.size) return false;
  const bool whole_md5 = !from.etag.empty() && !to.etag.empty() &&
                         from.etag.find('-') == std::string::npos &&
                         to.etag.find('-') == std::string::npos;
  if (whole_md5) return from.etag == to.etag;
  TreeLocation at{&store, ""};
  TM_TRY_ASSIGN(std::string a, HashObject(at, from.key, buffer, progress));
  TM_TRY_ASSIGN(std::string b, HashObject(at, to.key, buffer, util::NoProgress()));
  return a == b;
}

}  // namespace

util::Result<bool> MoveUnfinished(store::ObjectStore& store, const std::string& to) {
  TM_TRY_ASSIGN(auto mark, store.Stat(MoveMark(to)));
  return mark.has_value();
}

util::Status MoveTree(store::ObjectStore& store, const std::string& from, const std::string& to,
                      util::Progress& progress) {
  if (store.CanRename()) return store.Rename(from, to);
  TM_TRY_ASSIGN(Listing sources, ListLocation({&store, from}));
  if (!sources.files.empty()) {
    TM_TRY(WriteText({&store, ""}, MoveMark(to), "a move from " + from + " is in progress\n"));
    TM_TRY_ASSIGN(Listing present, ListLocation({&store, to}));
    std::map<std::string, store::ObjectInfo> copies;
    for (store::ObjectInfo& object : present.files) copies[object.key] = object;
    Buffer buffer;
    progress.Begin("move " + from, TotalSize(sources.files));
    std::vector<std::string> originals;
    for (const store::ObjectInfo& file : sources.files) {
      store::ObjectInfo source = file;
      source.key = store::JoinKey(from, file.key);
      const std::string target = store::JoinKey(to, file.key);
      auto it = copies.find(file.key);
      bool done = false;
      if (it != copies.end()) {
        store::ObjectInfo copy = it->second;
        copy.key = target;
        TM_TRY_ASSIGN(done, SameObject(store, source, copy, buffer, progress));
      }
      if (!done) {
        TM_TRY(store.CopyWithin(source.key, target));
        TM_TRY_ASSIGN(auto copy, store.Stat(target));
        if (!copy) return tl::unexpected(VerifyError(Describe({&store, ""}, target) + " is missing after the copy"));
        TM_TRY_ASSIGN(bool same, SameObject(store, source, *copy, buffer, progress));
        if (!same) {
          return tl::unexpected(VerifyError(Describe({&store, ""}, target) + " differs from " +
                                            source.key + " after the copy; nothing was deleted"));
        }
      }
      originals.push_back(source.key);
    }
    progress.End();
    util::Failpoint("move.copied");
    TM_TRY(store.DeleteMany(originals));
    util::Failpoint("move.deleted");
  }
  return store.Delete(MoveMark(to));
}

}  // namespace tidemark::archive
