#include "tidemark/archive/table_archive.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "tidemark/archive/zstd_stream.h"
#include "tidemark/store/local_store.h"
#include "tidemark/util/failpoint.h"
#include "tidemark/util/sha256.h"

namespace tidemark::archive {

namespace {

// The writer's buffers: the receiving thread fills one while the background thread
// compresses another and the rest wait, which absorbs bursts without unbounded memory.
constexpr size_t kStreamBufferSize = 1 << 20;
constexpr size_t kStreamBuffers = 4;

util::Error VerifyError(std::string message) {
  return util::Error(util::ErrorCategory::kVerify, std::move(message));
}

std::string Describe(const TreeLocation& at, const std::string& name) {
  return at.store->url() + "/" + store::JoinKey(at.prefix, name);
}

int64_t NowNs() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
}

// memchr is several times faster than std::count here: rows are tens of bytes long.
int64_t CountRows(const char* data, size_t size) {
  int64_t rows = 0;
  const char* end = data + size;
  while ((data = static_cast<const char*>(std::memchr(data, '\n', end - data))) != nullptr) {
    ++rows;
    ++data;
  }
  return rows;
}

util::Status WriteText(const TreeLocation& at, const std::string& name, const std::string& text) {
  TM_TRY_ASSIGN(auto writer, at.store->OpenWrite(store::JoinKey(at.prefix, name)));
  TM_TRY(writer->Write(text.data(), text.size()));
  return writer->Commit(NowNs());
}

// The names of the objects under `at`, relative to it; temporaries are given in full.
struct Contents {
  std::vector<std::string> names;
  std::vector<std::string> temporaries;
};

util::Result<Contents> ListContents(const TreeLocation& at) {
  TM_TRY_ASSIGN(auto objects, at.store->List(at.prefix));
  const std::string base = store::JoinKey(at.prefix, "");
  Contents contents;
  for (const store::ObjectInfo& object : objects) {
    if (store::IsTemporaryKey(object.key)) {
      contents.temporaries.push_back(object.key);
    } else {
      contents.names.push_back(base.empty() ? object.key : object.key.substr(base.size() + 1));
    }
  }
  return contents;
}

// Deletes everything under `at` but `keep` and the manifest: files of earlier attempts
// and temporaries that interrupted writers left behind.
util::Status RemoveLeftovers(const TreeLocation& at, const std::string& keep) {
  TM_TRY_ASSIGN(Contents contents, ListContents(at));
  for (const std::string& name : contents.names) {
    if (name != keep && name != kManifestName)
      TM_TRY(at.store->Delete(store::JoinKey(at.prefix, name)));
  }
  for (const std::string& key : contents.temporaries) TM_TRY(at.store->Delete(key));
  return {};
}

}  // namespace

// ----- writing -----

// The background half of a writer: takes filled buffers, counts and hashes them,
// compresses them and writes the output to the data file.
class TableArchiveWriter::Pipeline {
 public:
  static util::Result<std::unique_ptr<Pipeline>> Start(std::unique_ptr<store::Writer> file,
                                                       const TableArchiveOptions& options) {
    std::unique_ptr<Pipeline> pipeline(new Pipeline(std::move(file)));
    Pipeline* self = pipeline.get();
    TM_TRY_ASSIGN(pipeline->compressor_, ZstdCompressor::Create({options.level, options.workers},
                                                                [self](std::string_view block) {
                                                                  return self->Deliver(block);
                                                                }));
    pipeline->thread_ = std::thread([self] { self->Run(); });
    return pipeline;
  }

  // Stops the thread, dropping what it has not compressed yet.
  ~Pipeline() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      abandoned_ = closing_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  // An empty buffer of kStreamBufferSize bytes for the caller to fill.
  char* TakeFirst() {
    std::lock_guard<std::mutex> lock(mutex_);
    char* buffer = spare_.back();
    spare_.pop_back();
    return buffer;
  }

  // Queues `size` bytes of `filled` and returns an empty buffer, waiting for one.
  util::Result<char*> Exchange(char* filled, size_t size) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (error_) return tl::unexpected(*error_);
    ready_.push_back({filled, size});
    changed_.notify_all();
    changed_.wait(lock, [this] { return error_ || !spare_.empty(); });
    if (error_) return tl::unexpected(*error_);
    char* buffer = spare_.back();
    spare_.pop_back();
    return buffer;
  }

  // Queues the last buffer and waits until the stream is compressed and written.
  util::Status Close(char* last, size_t size) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (size > 0) ready_.push_back({last, size});
      closing_ = true;
    }
    changed_.notify_all();
    thread_.join();
    if (error_) return tl::unexpected(*error_);
    return {};
  }

  util::Error Failure() {
    std::lock_guard<std::mutex> lock(mutex_);
    return error_.value_or(util::Error(util::ErrorCategory::kStep, "the archive writer failed"));
  }

  // After Close: the data file and what went into it.
  store::Writer& file() { return *file_; }
  int64_t rows() const { return rows_; }
  int64_t content_bytes() const { return content_bytes_; }
  std::string ContentSha256() { return content_digest_.FinishHex(); }
  int64_t compressed_bytes() const { return compressed_bytes_; }
  std::string CompressedSha256() { return compressed_digest_.FinishHex(); }

 private:
  struct Filled {
    char* data;
    size_t size;
  };

  explicit Pipeline(std::unique_ptr<store::Writer> file)
      : memory_(new char[kStreamBufferSize * kStreamBuffers]), file_(std::move(file)) {
    for (size_t i = 0; i < kStreamBuffers; ++i) spare_.push_back(&memory_[i * kStreamBufferSize]);
  }

  void Run() {
    while (true) {
      Filled filled;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return closing_ || !ready_.empty(); });
        if (abandoned_) return;
        if (ready_.empty()) break;
        filled = ready_.front();
        ready_.pop_front();
      }
      util::Status status = Process(filled);
      Release(filled.data, status);
      if (!status) return;
    }
    util::Status status = compressor_->Finish();
    if (!status) Release(nullptr, status);
  }

  util::Status Process(const Filled& filled) {
    rows_ += CountRows(filled.data, filled.size);
    content_bytes_ += static_cast<int64_t>(filled.size);
    content_digest_.Update(filled.data, filled.size);
    return compressor_->Write(std::string_view(filled.data, filled.size));
  }

  // Returns a processed buffer (if any) to the caller, with the error that stopped us.
  void Release(char* buffer, const util::Status& status) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (buffer != nullptr) spare_.push_back(buffer);
      if (!status && !error_) error_ = status.error();
    }
    changed_.notify_all();
  }

  util::Status Deliver(std::string_view block) {
    compressed_digest_.Update(block);
    compressed_bytes_ += static_cast<int64_t>(block.size());
    TM_TRY(file_->Write(block.data(), block.size()));
    if (!delivered_) util::Failpoint("export.mid_stream");
    delivered_ = true;
    return {};
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  // Guarded by mutex_:
  std::deque<Filled> ready_;
  std::vector<char*> spare_;
  bool closing_ = false;
  bool abandoned_ = false;
  std::optional<util::Error> error_;

  // Used by the background thread only (and by the caller after Close).
  std::unique_ptr<char[]> memory_;
  std::unique_ptr<store::Writer> file_;
  std::unique_ptr<ZstdCompressor> compressor_;
  util::Sha256 content_digest_;
  util::Sha256 compressed_digest_;
  int64_t rows_ = 0;
  int64_t content_bytes_ = 0;
  int64_t compressed_bytes_ = 0;
  bool delivered_ = false;

  std::thread thread_;
};

TableArchiveWriter::TableArchiveWriter(TreeLocation archive, std::string data_name,
                                       std::unique_ptr<Pipeline> pipeline)
    : archive_(std::move(archive)),
      data_name_(std::move(data_name)),
      pipeline_(std::move(pipeline)),
      buffer_(pipeline_->TakeFirst()) {}

TableArchiveWriter::~TableArchiveWriter() = default;

util::Result<std::unique_ptr<TableArchiveWriter>> TableArchiveWriter::Open(
    const TreeLocation& archive, const std::string& data_name, const TableArchiveOptions& options) {
  if (data_name.empty() || data_name == kManifestName) {
    return util::StepError("a table archive's data file needs a name other than \"" +
                           std::string(kManifestName) + "\"");
  }
  TM_TRY(archive.store->Delete(store::JoinKey(archive.prefix, kManifestName)));
  TM_TRY_ASSIGN(auto file, archive.store->OpenWrite(store::JoinKey(archive.prefix, data_name)));
  TM_TRY_ASSIGN(auto pipeline, Pipeline::Start(std::move(file), options));
  return std::unique_ptr<TableArchiveWriter>(
      new TableArchiveWriter(archive, data_name, std::move(pipeline)));
}

util::Status TableArchiveWriter::Write(std::string_view data) {
  if (buffer_ == nullptr) return tl::unexpected(pipeline_->Failure());
  bytes_written_ += static_cast<int64_t>(data.size());
  while (data.size() > kStreamBufferSize - used_) {
    const size_t n = kStreamBufferSize - used_;
    std::memcpy(buffer_ + used_, data.data(), n);
    used_ += n;
    data.remove_prefix(n);
    TM_TRY(HandOff());
  }
  std::memcpy(buffer_ + used_, data.data(), data.size());
  used_ += data.size();
  return {};
}

util::Status TableArchiveWriter::HandOff() {
  auto next = pipeline_->Exchange(buffer_, used_);
  buffer_ = next ? *next : nullptr;
  used_ = 0;
  if (!next) return tl::unexpected(next.error());
  return {};
}

util::Result<Manifest> TableArchiveWriter::Finish(const Manifest& header) {
  if (finished_) return util::StepError("TableArchiveWriter::Finish called twice");
  finished_ = true;
  if (buffer_ == nullptr) return tl::unexpected(pipeline_->Failure());
  TM_TRY(pipeline_->Close(buffer_, used_));
  buffer_ = nullptr;
  const int64_t mtime_ns = NowNs();
  TM_TRY(pipeline_->file().Commit(mtime_ns));
  TM_TRY(RemoveLeftovers(archive_, data_name_));

  Manifest manifest = header;
  manifest.files = {
      {data_name_, pipeline_->compressed_bytes(), mtime_ns, pipeline_->CompressedSha256()}};
  TableSection& table = manifest.table ? *manifest.table : manifest.table.emplace();
  table.compression = "zstd";
  table.rows = pipeline_->rows();
  table.content_bytes = pipeline_->content_bytes();
  table.content_sha256 = pipeline_->ContentSha256();
  TM_TRY(WriteText(archive_, kManifestName, ManifestToJson(manifest)));
  return manifest;
}

util::Result<std::optional<Manifest>> ReadTableManifest(const TreeLocation& archive) {
  const std::string where = Describe(archive, kManifestName);
  TM_TRY_ASSIGN(auto info, archive.store->Stat(store::JoinKey(archive.prefix, kManifestName)));
  if (!info) return std::optional<Manifest>();
  TM_TRY_ASSIGN(std::string text, ReadText(archive, kManifestName));
  TM_TRY_ASSIGN(Manifest manifest, ManifestFromJson(text, where));
  if (!manifest.table) {
    return tl::unexpected(VerifyError(where + " describes a lake archive, not a table archive"));
  }
  if (manifest.table->compression != "zstd") {
    return tl::unexpected(VerifyError(where + ": compression \"" + manifest.table->compression +
                                      "\" is unknown; this tidemark reads \"zstd\""));
  }
  if (manifest.files.size() != 1) {
    return tl::unexpected(VerifyError(where + " lists " + std::to_string(manifest.files.size()) +
                                      " files; a table archive has one data file"));
  }
  return std::optional<Manifest>(std::move(manifest));
}

// ----- reading -----

struct TableArchiveReader::State {
  TreeLocation archive;
  Manifest manifest;
  std::string data_url;
  util::Progress* progress = nullptr;
  std::unique_ptr<store::Reader> file;
  std::unique_ptr<ZstdDecompressor> decompressor;
  util::Sha256 compressed_digest;
  int64_t compressed_bytes = 0;
  int64_t pieces = 0;
  bool ended = false;

  // The data file is read and its sha256 computed on a thread of its own, a few blocks
  // ahead of the decompression, so that the two overlap on two cores.
  static constexpr size_t kReadBlock = 1 << 20;
  static constexpr size_t kBlocksAhead = 4;
  std::thread reader;
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::string> blocks;  // read, not yet taken
  bool read_all = false;           // the reader saw the end of the file
  bool stop = false;               // the reader must stop (destruction)
  std::optional<util::Error> read_error;
  std::string current;  // the block being handed out
  size_t offset = 0;

  // The uncompressed stream is hashed and its rows counted on another thread, gathered
  // into blocks a few behind the decompression: decompressing and hashing each take
  // about half the time of a verify on one core.
  static constexpr size_t kHashBlock = 1 << 20;
  static constexpr size_t kHashBlocksAhead = 4;
  std::thread hasher;
  std::string filling;              // pieces gathered for the hasher (this thread)
  std::deque<std::string> to_hash;  // handed over, not yet hashed
  std::vector<std::string> spare;   // hashed blocks, for reuse
  bool hash_end = false;            // nothing more will be handed over
  util::Sha256 content_digest;      // the hasher's, until it is joined
  int64_t content_bytes = 0;
  int64_t rows = 0;

  ~State() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    changed.notify_all();
    if (reader.joinable()) reader.join();
    if (hasher.joinable()) hasher.join();
  }

  void StartHashing() {
    filling.reserve(kHashBlock * 2);
    hasher = std::thread([this] {
      std::unique_lock<std::mutex> lock(mutex);
      for (;;) {
        changed.wait(lock, [&] { return stop || hash_end || !to_hash.empty(); });
        if (stop || to_hash.empty()) return;
        std::string block = std::move(to_hash.front());
        to_hash.pop_front();
        changed.notify_all();
        lock.unlock();
        content_digest.Update(block.data(), block.size());
        content_bytes += static_cast<int64_t>(block.size());
        rows += CountRows(block.data(), block.size());
        block.clear();
        lock.lock();
        spare.push_back(std::move(block));
      }
    });
  }

  void Hash(std::string_view piece) {
    filling.append(piece);
    if (filling.size() >= kHashBlock) HandOver();
  }

  void HandOver() {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [&] { return to_hash.size() < kHashBlocksAhead; });
    to_hash.push_back(std::move(filling));
    if (spare.empty()) {
      filling = std::string();
      filling.reserve(kHashBlock * 2);
    } else {
      filling = std::move(spare.back());
      spare.pop_back();
    }
    changed.notify_all();
  }

  // Hands over the rest and waits for the hasher: its results are then this thread's.
  void FinishHashing() {
    if (!filling.empty()) HandOver();
    {
      std::lock_guard<std::mutex> lock(mutex);
      hash_end = true;
    }
    changed.notify_all();
    if (hasher.joinable()) hasher.join();
  }

  void StartReading() {
    reader = std::thread([this] {
      for (;;) {
        std::string block(kReadBlock, '\0');
        auto n = file->Read(block.data(), block.size());
        std::unique_lock<std::mutex> lock(mutex);
        if (!n) {
          read_error = n.error();
        } else if (*n > 0) {
          block.resize(*n);
          lock.unlock();
          compressed_digest.Update(block.data(), block.size());
          lock.lock();
          compressed_bytes += static_cast<int64_t>(*n);
          changed.wait(lock, [&] { return stop || blocks.size() < kBlocksAhead; });
          if (stop) return;
          blocks.push_back(std::move(block));
          changed.notify_all();
          continue;
        }
        read_all = true;
        changed.notify_all();
        return;
      }
    });
  }

  util::Result<size_t> ReadCompressed(char* buffer, size_t size) {
    if (offset == current.size()) {
      std::unique_lock<std::mutex> lock(mutex);
      changed.wait(lock, [&] { return !blocks.empty() || read_all || read_error; });
      if (read_error) return tl::unexpected(*read_error);
      if (blocks.empty()) return size_t{0};  // the end; the digest is complete
      current = std::move(blocks.front());
      blocks.pop_front();
      offset = 0;
      changed.notify_all();
    }
    const size_t n = std::min(size, current.size() - offset);
    std::memcpy(buffer, current.data() + offset, n);
    offset += n;
    progress->Advance(static_cast<int64_t>(n));
    return n;
  }
};

TableArchiveReader::TableArchiveReader(std::unique_ptr<State> state) : state_(std::move(state)) {}
TableArchiveReader::~TableArchiveReader() = default;

const Manifest& TableArchiveReader::manifest() const { return state_->manifest; }

util::Result<std::unique_ptr<TableArchiveReader>> TableArchiveReader::Open(
    const TreeLocation& archive, util::Progress& progress, const std::string& label) {
  TM_TRY_ASSIGN(auto manifest, ReadTableManifest(archive));
  if (!manifest) {
    return tl::unexpected(VerifyError("no manifest at " + Describe(archive, kManifestName) +
                                      ": the archive is missing or incomplete"));
  }
  auto state = std::make_unique<State>();
  state->archive = archive;
  state->manifest = std::move(*manifest);
  state->progress = &progress;
  const ManifestFile& data = state->manifest.files.front();
  state->data_url = Describe(archive, data.path);
  const std::string key = store::JoinKey(archive.prefix, data.path);
  TM_TRY_ASSIGN(auto info, archive.store->Stat(key));
  if (!info) return tl::unexpected(VerifyError(state->data_url + " is missing"));
  if (info->size != data.size) {
    return tl::unexpected(VerifyError(state->data_url + " has " + std::to_string(info->size) +
                                      " bytes; the manifest says " + std::to_string(data.size)));
  }
  TM_TRY_ASSIGN(state->file, archive.store->OpenRead(key));
  state->StartReading();
  state->StartHashing();
  State* self = state.get();
  TM_TRY_ASSIGN(state->decompressor, ZstdDecompressor::Create(
                                         [self](char* buffer, size_t size) {
                                           return self->ReadCompressed(buffer, size);
                                         },
                                         state->data_url));
  const std::string& name = state->manifest.table->source_table.empty()
                                ? state->manifest.partition
                                : state->manifest.table->source_table;
  progress.Begin(label + " " + name, data.size);
  return std::unique_ptr<TableArchiveReader>(new TableArchiveReader(std::move(state)));
}

util::Result<std::string_view> TableArchiveReader::Next() {
  State& s = *state_;
  if (s.ended) return std::string_view();
  if (s.pieces == 1) util::Failpoint("restore.mid_stream");
  TM_TRY_ASSIGN(std::string_view piece, s.decompressor->Next());
  if (piece.empty()) {
    TM_TRY(CheckEnd());
    s.ended = true;
    s.progress->End();
    return piece;
  }
  ++s.pieces;
  s.Hash(piece);
  return piece;
}

// Compares what was read with the manifest; the first difference is the error.
util::Status TableArchiveReader::CheckEnd() {
  State& s = *state_;
  const ManifestFile& file = s.manifest.files.front();
  const TableSection& table = *s.manifest.table;
  auto differs = [&](const std::string& what, const std::string& found,
                     const std::string& expected) {
    return tl::unexpected(VerifyError(s.data_url + " does not match its manifest: " + what + " " +
                                      found + ", the manifest says " + expected +
                                      "; the archive is damaged"));
  };
  // Whatever follows the last frame has been read by the decompressor's source too;
  // reading on to the end here also means the reading thread is done with the digest.
  char rest[4096];
  for (;;) {
    TM_TRY_ASSIGN(size_t n, s.ReadCompressed(rest, sizeof rest));
    if (n == 0) break;
  }
  s.FinishHashing();
  if (s.compressed_bytes != file.size) {
    return differs("compressed size", std::to_string(s.compressed_bytes),
                   std::to_string(file.size));
  }
  const std::string compressed_sha = s.compressed_digest.FinishHex();
  if (compressed_sha != file.sha256) return differs("sha256", compressed_sha, file.sha256);
  if (s.content_bytes != table.content_bytes) {
    return differs("uncompressed size", std::to_string(s.content_bytes),
                   std::to_string(table.content_bytes));
  }
  if (s.rows != table.rows) {
    return differs("row count", std::to_string(s.rows), std::to_string(table.rows));
  }
  const std::string content_sha = s.content_digest.FinishHex();
  if (content_sha != table.content_sha256) {
    return differs("uncompressed sha256", content_sha, table.content_sha256);
  }
  return {};
}

util::Result<Manifest> VerifyTableArchive(const TreeLocation& archive, util::Progress& progress) {
  TM_TRY_ASSIGN(auto reader, TableArchiveReader::Open(archive, progress, "verify"));
  TM_TRY_ASSIGN(Contents contents, ListContents(archive));
  const std::string& data_name = reader->manifest().files.front().path;
  for (const std::string& name : contents.names) {
    if (name != data_name && name != kManifestName) {
      return tl::unexpected(VerifyError(Describe(archive, name) + " is not in the manifest"));
    }
  }
  while (true) {
    TM_TRY_ASSIGN(std::string_view piece, reader->Next());
    if (piece.empty()) return reader->manifest();
  }
}

}  // namespace tidemark::archive
