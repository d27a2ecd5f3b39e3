// Object stores: where lake datasets and archives live. One interface for local
// directories (file://) and, later, S3; the store is picked by URL scheme (OpenStore).
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
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tidemark/util/error.h"

namespace tidemark::store {

struct ObjectInfo {
  std::string key;       // relative to the store's root
  int64_t size = 0;      // bytes
  int64_t mtime_ns = 0;  // modification time, nanoseconds since the epoch
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

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // The URL of the root, e.g. "file:///var/lib/lake".
  virtual std::string url() const = 0;

  // Every object under `prefix` (a key or a "directory"), recursively, sorted by key.
  // An absent prefix gives an empty list.
  virtual util::Result<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;

  virtual util::Result<std::optional<ObjectInfo>> Stat(const std::string& key) = 0;

  // Whether anything lies under `prefix` (cheaper than List: it stops at the first).
  // Locally, a directory holding only empty directories counts as something.
  virtual util::Result<bool> Exists(const std::string& prefix) = 0;
  virtual util::Result<std::unique_ptr<Reader>> OpenRead(const std::string& key) = 0;
  virtual util::Result<std::unique_ptr<Writer>> OpenWrite(const std::string& key) = 0;

  // Deletes one object; an absent one is not an error.
  virtual util::Status Delete(const std::string& key) = 0;

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

// Opens the store for a URL by scheme ("file:///abs", "file:rel" resolved by the caller).
// Unknown or unsupported schemes fail with a config error.
util::Result<std::unique_ptr<ObjectStore>> OpenStore(const std::string& url);

// Joins key parts with '/', dropping empty parts and duplicate slashes.
std::string JoinKey(const std::string& a, const std::string& b);

}  // namespace tidemark::store

#endif  // TIDEMARK_STORE_OBJECT_STORE_H_
