// SHA-256 digests, incremental or of a whole buffer, as lowercase hex.
//
// Thread-safety: a Sha256 object is used by one thread at a time.

#ifndef TIDEMARK_UTIL_SHA256_H_
#define TIDEMARK_UTIL_SHA256_H_

#include <memory>
#include <string>
#include <string_view>

namespace tidemark::util {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // The digest of everything passed to Update. REQUIRES: called once.
  std::string FinishHex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string Sha256Hex(std::string_view data);

}  // namespace tidemark::util

#endif  // TIDEMARK_UTIL_SHA256_H_
