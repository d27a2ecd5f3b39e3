// Object stores: where lake datasets and archives live. One interface for local
// directories (file://, local_store.h) and S3 buckets (s3://, s3_store.h); the store is
// picked by URL scheme (OpenStore).
//
// Keys are '/'-separated paths relative to the store's root. A written object becomes
// visible only when its Writer commits, so a crash never leaves a half-written object
// under its final key (a local store keeps the partial data in a hidden
// ".NAME.tidemark-tmp" file beside it).
//
// Thread-safety: a store may be used from several threads; readers and writers by one.

#ifndef TIDEMARK_STORE_OBJECT_STORE_H_
#define TIDEMARK_STORE_OBJECT_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tidemark/util/error.h"

namespace tidemark::config {
struct Config;
}

namespace tidemark::store {

struct ObjectInfo {
  std::string key;       // relative to the store's root
  int64_t size = 0;      // bytes
  int64_t mtime_ns = 0;  // modification time, nanoseconds since the epoch
  // S3: the entity tag without quotes (the MD5 of the bytes unless it holds a '-');
  // empty where the store has none.
  std::string etag;
};

class Reader {
 public:
  virtual ~Reader() = default;
  // Reads up to `size` bytes; 0 at the end.
  virtual util::Result<size_t> Read(char* buffer, size_t size) = 0;
};

class Writer {
 public:
  virtual ~Writer() = default;  // discards the object unless committed
  virtual util::Status Write(const char* data, size_t size) = 0;
  // Makes the object visible under its key with this modification time.
  virtual util::Status Commit(int64_t mtime_ns) = 0;
};

// Bytes given on demand: up to `size` at `offset` into `buffer`, the count returned.
// Offsets increase, but start again from 0 when a request is sent again.
using ByteSource = std::function<util::Result<size_t>(int64_t offset, char* buffer, size_t size)>;

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // The URL of the root, e.g. "file:///var/lib/lake".
  virtual std::string url() const = 0;

  // Every object under `prefix` (a key or a "directory"), recursively, sorted by key.
  // An absent prefix gives an empty list. On S3, mtime_ns is the server's LastModified
  // (see s3_store.h).
  virtual util::Result<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;

  virtual util::Result<std::optional<ObjectInfo>> Stat(const std::string& key) = 0;

  // Whether anything lies under `prefix` (cheaper than List: it stops at the first).
  // Locally, a directory holding only empty directories counts as something.
  virtual util::Result<bool> Exists(const std::string& prefix) = 0;
  virtual util::Result<std::unique_ptr<Reader>> OpenRead(const std::string& key) = 0;
  virtual util::Result<std::unique_ptr<Writer>> OpenWrite(const std::string& key) = 0;

  // Deletes one object; an absent one is not an error.
  virtual util::Status Delete(const std::string& key) = 0;

  // Deletes many objects (S3: DeleteObjects, 1,000 keys a request); absent ones are not
  // errors. The default deletes one by one.
  virtual util::Status DeleteMany(const std::vector<std::string>& keys);

  // `length` bytes from `offset` (S3: a ranged GET); fewer at the end of the object.
  // The default reads from the start and skips.
  virtual util::Result<std::string> ReadRange(const std::string& key, int64_t offset,
                                              int64_t length);

  // Copies one object within the store under another key, keeping its mtime (S3: a
  // server-side CopyObject keeping the metadata). The default streams the bytes.
  virtual util::Status CopyWithin(const std::string& from, const std::string& to);

  // Writes `data` under `key` only when nothing is there yet, atomically against other
  // writers: true when written, false when the key existed (then nothing changed).
  // Locally a link() of a complete temporary file; on S3 a PUT with If-None-Match: *.
  // A store that cannot do this safely fails with kConfig.
  virtual util::Result<bool> PutIfAbsent(const std::string& key, std::string_view data);

  // Whether the store is a local filesystem, where reading an object twice costs little
  // (the second read comes from the page cache). The default is false.
  virtual bool IsLocal() const;

  // Whether PutFromSource sends an object of `size` bytes as it reads it, without
  // holding it in memory (S3: one PUT up to the multipart threshold). The default is
  // false.
  virtual bool StreamsPut(int64_t size) const;

  // Writes the `size` bytes `source` gives under `key` with this mtime; `sha256_hex` is
  // their sha256, known beforehand (S3 signs the request with it, and S3 refuses bytes
  // that do not match it). Bytes short of `size` fail the write; nothing appears under
  // `key` unless it succeeds. The default goes through OpenWrite.
  virtual util::Status PutFromSource(const std::string& key, int64_t size,
                                     const std::string& sha256_hex, int64_t mtime_ns,
                                     const ByteSource& source);

  // Whether Rename is atomic and cheap (one filesystem).
  virtual bool CanRename() const = 0;
  // Moves everything under `from` to `to`. REQUIRES: CanRename(); `to` absent.
  virtual util::Status Rename(const std::string& from, const std::string& to) = 0;

  // Writes and deletes a small object under `prefix`: fails when it is not writable.
  virtual util::Status ProbeWritable(const std::string& prefix) = 0;

  // Removes directories left empty under `prefix` (no-op where there are none).
  virtual util::Status PruneEmpty(const std::string& prefix) = 0;

  // Makes everything under `prefix` durable (fsync of files and directories locally;
  // nothing to do where a completed write is already durable).
  virtual util::Status Sync(const std::string& prefix) = 0;
};

// Opens the store for a URL by scheme ("file:///abs", "file:rel" resolved by the caller;
// "s3://bucket/prefix"). Unknown or unsupported schemes fail with a config error.
// An s3:// URL takes its credentials, region, endpoint and addressing from the
// connection of `config` whose root holds the URL (the longest), else from the
// standard AWS environment variables and shared files.
util::Result<std::unique_ptr<ObjectStore>> OpenStore(const std::string& url,
                                                     const config::Config* config = nullptr);

// Joins key parts with '/', dropping empty parts and duplicate slashes.
std::string JoinKey(const std::string& a, const std::string& b);

}  // namespace tidemark::store

#endif  // TIDEMARK_STORE_OBJECT_STORE_H_
