#include "tidemark/store/local_store.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tidemark/util/strings.h"

namespace tidemark::store {

namespace {

constexpr char kTemporarySuffix[] = ".tidemark-tmp";

util::Error IoError(const std::string& what, const std::string& path, int error) {
  bool retryable = error == EINTR || error == EAGAIN || error == EBUSY;
  return util::Error(util::ErrorCategory::kStep, what + " " + path + ": " + std::strerror(error),
                     retryable);
}

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

util::Status MakeDirectories(const std::string& path) {
  if (path.empty() || path == "/") return {};
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return {};
    return tl::unexpected(util::Error(
        util::ErrorCategory::kStep, "cannot create directory " + path + ": a file is in the way"));
  }
  TM_TRY(MakeDirectories(Parent(path)));
  if (mkdir(path.c_str(), 0777) != 0 && errno != EEXIST) {
    return tl::unexpected(IoError("cannot create directory", path, errno));
  }
  return {};
}

// Appends every regular file below `dir` (open as `fd`) to `out`, keys under `key`.
util::Status Walk(int fd, const std::string& dir, const std::string& key,
                  std::vector<ObjectInfo>& out) {
  DIR* stream = fdopendir(fd);
  if (stream == nullptr) {
    int error = errno;
    close(fd);
    return tl::unexpected(IoError("cannot list", dir, error));
  }
  util::Status status;
  while (struct dirent* entry = readdir(stream)) {
    const char* name = entry->d_name;
    if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
    struct stat st;
    if (fstatat(dirfd(stream), name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // raced away
    std::string child_key = key.empty() ? name : key + "/" + name;
    if (S_ISDIR(st.st_mode)) {
      int child = openat(dirfd(stream), name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (child < 0) {
        status = tl::unexpected(IoError("cannot open directory", dir + "/" + name, errno));
        break;
      }
      status = Walk(child, dir + "/" + name, child_key, out);
      if (!status) break;
    } else if (S_ISREG(st.st_mode)) {
      out.push_back({child_key, static_cast<int64_t>(st.st_size), MtimeNs(st)});
    }
  }
  closedir(stream);
  return status;
}

class FileReader : public Reader {
 public:
  FileReader(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~FileReader() override { close(fd_); }

  util::Result<size_t> Read(char* buffer, size_t size) override {
    while (true) {
      ssize_t n = read(fd_, buffer, size);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return tl::unexpected(IoError("cannot read", path_, errno));
    }
  }

 private:
  int fd_;
  std::string path_;
};

// Writes into an unnamed file (O_TMPFILE) that Commit links into place, so that an
// interrupted write leaves nothing behind and a complete file appears at once. Where the
// filesystem has no O_TMPFILE, a hidden ".NAME.tidemark-tmp" is renamed instead.
class FileWriter : public Writer {
 public:
  // `temporary` is empty for an unnamed file.
  FileWriter(int fd, std::string temporary, std::string path)
      : fd_(fd), temporary_(std::move(temporary)), path_(std::move(path)) {}
  ~FileWriter() override {
    if (fd_ >= 0) close(fd_);
    if (!committed_ && !temporary_.empty()) unlink(temporary_.c_str());
  }

  util::Status Write(const char* data, size_t size) override {
    while (size > 0) {
      ssize_t n = write(fd_, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return tl::unexpected(IoError("cannot write", path_, errno));
      data += n;
      size -= static_cast<size_t>(n);
      written_ += n;
    }
    StartWriteback();
    return {};
  }

  // The file being written, for copies that move bytes inside the kernel.
  int fd() const { return fd_; }

  util::Status Commit(int64_t mtime_ns) override {
    struct timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    times[1].tv_sec = static_cast<time_t>(mtime_ns / 1000000000);
    times[1].tv_nsec = static_cast<long>(mtime_ns % 1000000000);
    if (futimens(fd_, times) != 0)
      return tl::unexpected(IoError("cannot set mtime of", path_, errno));
    if (temporary_.empty()) TM_TRY(LinkUnnamed());
    int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) return tl::unexpected(IoError("cannot write", path_, errno));
    if (!temporary_.empty() && rename(temporary_.c_str(), path_.c_str()) != 0) {
      return tl::unexpected(IoError("cannot rename into place", path_, errno));
    }
    committed_ = true;
    return {};
  }

 private:
  // Asks the kernel to start writing what was written so far every few MiB, so that
  // the fsync that makes a large file durable (ObjectStore::Sync) finds little left to
  // do. Only a hint: where it is not supported, nothing changes.
  void StartWriteback() {
#ifdef __linux__
    constexpr off_t kWritebackEvery = 8 << 20;
    if (written_ - writeback_from_ < kWritebackEvery) return;
    (void)sync_file_range(fd_, writeback_from_, written_ - writeback_from_, SYNC_FILE_RANGE_WRITE);
    writeback_from_ = written_;
#endif
  }

  // Gives the unnamed file its name. An existing file of that name is replaced
  // atomically, through a named temporary.
  util::Status LinkUnnamed() {
    const std::string self = "/proc/self/fd/" + std::to_string(fd_);
    if (linkat(AT_FDCWD, self.c_str(), AT_FDCWD, path_.c_str(), AT_SYMLINK_FOLLOW) == 0) return {};
    if (errno != EEXIST) return tl::unexpected(IoError("cannot link into place", path_, errno));
    std::string dir = Parent(path_);
    temporary_ = dir + "/." + path_.substr(dir.size() + 1) + kTemporarySuffix;
    unlink(temporary_.c_str());
    if (linkat(AT_FDCWD, self.c_str(), AT_FDCWD, temporary_.c_str(), AT_SYMLINK_FOLLOW) != 0) {
      int error = errno;
      temporary_.clear();
      return tl::unexpected(IoError("cannot link into place", path_, error));
    }
    return {};  // Commit renames the temporary over the old file
  }

  int fd_;
  std::string temporary_;
  std::string path_;
  bool committed_ = false;
  off_t written_ = 0;
  off_t writeback_from_ = 0;
};

util::Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return tl::unexpected(IoError("cannot write", path, errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

// Copies the rest of `in` to `out`: inside the kernel where it can (copy_file_range,
// which may share blocks on filesystems that support it), else through a buffer.
util::Status CopyFileData(int in, int out, const std::string& from, const std::string& to) {
  while (true) {
    ssize_t n = copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
    if (n == 0) return {};
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP) break;
    return tl::unexpected(IoError("cannot copy " + from + " to", to, errno));
  }
  std::vector<char> buffer(1 << 20);
  while (true) {
    ssize_t n = read(in, buffer.data(), buffer.size());
    if (n == 0) return {};
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return tl::unexpected(IoError("cannot read", from, errno));
    TM_TRY(WriteAll(out, std::string_view(buffer.data(), static_cast<size_t>(n)), to));
  }
}

util::Status SyncPath(const std::string& path, int flags) {
  int fd = open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return tl::unexpected(IoError("cannot open", path, errno));
  int rc = fsync(fd);
  int error = errno;
  close(fd);
  if (rc != 0) return tl::unexpected(IoError("cannot sync", path, error));
  return {};
}

// An unnamed file in `dir`, or -1 with errno set. Unsupported filesystems (and systems
// without /proc, through which it is linked) give EOPNOTSUPP.
int OpenUnnamed(const std::string& dir) {
  static const bool proc = access("/proc/self/fd", X_OK) == 0;
  if (!proc) {
    errno = EOPNOTSUPP;
    return -1;
  }
  return open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
}

class LocalStore : public ObjectStore {
 public:
  explicit LocalStore(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  }

  std::string url() const override { return "file://" + root_; }

  util::Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    std::vector<ObjectInfo> objects;
    std::string path = PathOf(prefix);
    int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return objects;
      if (errno == ENOTDIR) {
        TM_TRY_ASSIGN(auto info, Stat(prefix));
        if (info) objects.push_back(*info);
        return objects;
      }
      return tl::unexpected(IoError("cannot list", path, errno));
    }
    TM_TRY(Walk(fd, path, Trimmed(prefix), objects));
    std::sort(objects.begin(), objects.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return objects;
  }

  util::Result<std::optional<ObjectInfo>> Stat(const std::string& key) override {
    struct stat st;
    std::string path = PathOf(key);
    if (stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return std::optional<ObjectInfo>();
      return tl::unexpected(IoError("cannot stat", path, errno));
    }
    if (!S_ISREG(st.st_mode)) return std::optional<ObjectInfo>();
    return std::optional<ObjectInfo>(
        ObjectInfo{Trimmed(key), static_cast<int64_t>(st.st_size), MtimeNs(st)});
  }

  util::Result<bool> Exists(const std::string& prefix) override {
    std::string path = PathOf(prefix);
    DIR* stream = opendir(path.c_str());
    if (stream == nullptr) {
      if (errno == ENOTDIR) return true;  // a file
      if (errno == ENOENT) return false;
      return tl::unexpected(IoError("cannot list", path, errno));
    }
    bool found = false;
    while (struct dirent* entry = readdir(stream)) {
      if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) {
        found = !IsTemporaryKey(entry->d_name);
        if (found) break;
      }
    }
    closedir(stream);
    return found;
  }

  util::Result<std::unique_ptr<Reader>> OpenRead(const std::string& key) override {
    std::string path = PathOf(key);
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return tl::unexpected(IoError("cannot open", path, errno));
    return std::unique_ptr<Reader>(new FileReader(fd, path));
  }

  util::Result<std::unique_ptr<Writer>> OpenWrite(const std::string& key) override {
    TM_TRY_ASSIGN(auto writer, OpenFileWriter(PathOf(key)));
    return std::unique_ptr<Writer>(std::move(writer));
  }

  // A copy inside the kernel into a new file that appears whole, with the source's mtime.
  util::Status CopyWithin(const std::string& from, const std::string& to) override {
    const std::string source = PathOf(from), target = PathOf(to);
    if (source == target) return {};
    int in = open(source.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0 && errno == ENOENT) {
      return util::StepError(url() + "/" + Trimmed(from) + " is missing; cannot copy it");
    }
    if (in < 0) return tl::unexpected(IoError("cannot open", source, errno));
    util::Status copied = CopyOpened(in, source, target);
    close(in);
    return copied;
  }

  // Writes a complete hidden temporary file, then link()s it to the key, which fails
  // when anything is there: no reader sees a partial object, no writer replaces one.
  util::Result<bool> PutIfAbsent(const std::string& key, std::string_view data) override {
    const std::string path = PathOf(key);
    const std::string dir = Parent(path);
    TM_TRY(MakeDirectories(dir));
    const std::string temporary =
        dir + "/." + path.substr(dir.size() + 1) + "." + util::RandomHex(8) + kTemporarySuffix;
    int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) return tl::unexpected(IoError("cannot create", temporary, errno));
    util::Status written = WriteAll(fd, data, temporary);
    if (written && fsync(fd) != 0) {
      written = tl::unexpected(IoError("cannot sync", temporary, errno));
    }
    if (close(fd) != 0 && written) {
      written = tl::unexpected(IoError("cannot write", temporary, errno));
    }
    int linked = written ? link(temporary.c_str(), path.c_str()) : -1;
    int error = errno;
    unlink(temporary.c_str());
    TM_TRY(written);
    if (linked != 0 && error == EEXIST) return false;
    if (linked != 0) return tl::unexpected(IoError("cannot link into place", path, error));
    TM_TRY(SyncPath(dir, O_RDONLY | O_DIRECTORY));
    return true;
  }

  util::Status Delete(const std::string& key) override {
    std::string path = PathOf(key);
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return tl::unexpected(IoError("cannot delete", path, errno));
    }
    return {};
  }

  bool IsLocal() const override { return true; }
  bool CanRename() const override { return true; }

  util::Status Rename(const std::string& from, const std::string& to) override {
    std::string target = PathOf(to);
    TM_TRY(MakeDirectories(Parent(target)));
    if (rename(PathOf(from).c_str(), target.c_str()) != 0) {
      return tl::unexpected(IoError("cannot move " + PathOf(from) + " to", target, errno));
    }
    return {};
  }

  util::Status ProbeWritable(const std::string& prefix) override {
    std::string dir = PathOf(prefix);
    TM_TRY(MakeDirectories(dir));
    std::string probe = dir + "/.tidemark-probe-" + util::RandomHex(8);
    int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) return tl::unexpected(IoError("cannot write in", dir, errno));
    close(fd);
    unlink(probe.c_str());
    return {};
  }

  util::Status Sync(const std::string& prefix) override {
    TM_TRY_ASSIGN(auto objects, List(prefix));
    if (objects.empty()) return {};
    std::vector<std::string> directories{PathOf(prefix)};
    for (const ObjectInfo& object : objects) {
      std::string path = PathOf(object.key);
      TM_TRY(SyncPath(path, O_RDONLY));
      std::string dir = Parent(path);
      if (directories.back() != dir) directories.push_back(dir);
    }
    for (const std::string& dir : directories) TM_TRY(SyncPath(dir, O_RDONLY | O_DIRECTORY));
    return {};
  }

  util::Status PruneEmpty(const std::string& prefix) override {
    PruneDirectory(PathOf(prefix));
    return {};
  }

 private:
  static std::string Trimmed(const std::string& key) {
    size_t begin = 0, end = key.size();
    while (begin < end && key[begin] == '/') ++begin;
    while (end > begin && key[end - 1] == '/') --end;
    return key.substr(begin, end - begin);
  }

  std::string PathOf(const std::string& key) const {
    std::string trimmed = Trimmed(key);
    return trimmed.empty() ? root_ : root_ + "/" + trimmed;
  }

  static util::Status CopyOpened(int in, const std::string& source, const std::string& target) {
    struct stat st;
    if (fstat(in, &st) != 0) return tl::unexpected(IoError("cannot stat", source, errno));
    TM_TRY_ASSIGN(auto writer, OpenFileWriter(target));
    TM_TRY(CopyFileData(in, writer->fd(), source, target));
    return writer->Commit(MtimeNs(st));
  }

  static util::Result<std::unique_ptr<FileWriter>> OpenFileWriter(const std::string& path) {
    std::string dir = Parent(path);
    int fd = OpenUnnamed(dir);
    if (fd < 0 && errno == ENOENT) {
      TM_TRY(MakeDirectories(dir));
      fd = OpenUnnamed(dir);
    }
    if (fd >= 0) return std::make_unique<FileWriter>(fd, "", path);
    std::string temporary = dir + "/." + path.substr(dir.size() + 1) + kTemporarySuffix;
    fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) return tl::unexpected(IoError("cannot create", path, errno));
    return std::make_unique<FileWriter>(fd, temporary, path);
  }

  // Removes empty directories below and including `path`; true when `path` is gone.
  static bool PruneDirectory(const std::string& path) {
    DIR* stream = opendir(path.c_str());
    if (stream == nullptr) return false;
    bool empty = true;
    while (struct dirent* entry = readdir(stream)) {
      if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
      std::string child = path + "/" + entry->d_name;
      struct stat st;
      if (lstat(child.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && PruneDirectory(child)) continue;
      empty = false;
    }
    closedir(stream);
    return empty && rmdir(path.c_str()) == 0;
  }

  std::string root_;
};

}  // namespace

std::unique_ptr<ObjectStore> NewLocalStore(const std::string& root) {
  return std::make_unique<LocalStore>(root);
}

bool IsTemporaryKey(const std::string& key) {
  size_t slash = key.rfind('/');
  std::string name = slash == std::string::npos ? key : key.substr(slash + 1);
  return util::StartsWith(name, ".") && util::EndsWith(name, kTemporarySuffix);
}

}  // namespace tidemark::store
