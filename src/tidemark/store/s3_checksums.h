// Content-MD5 for the S3 requests that require it (DeleteObjects): MD5 is used there as
// S3 demands, as a transfer checksum, never for anything that must resist tampering.
// OpenSSL stays in util/sha256.cc alone, so the digest is computed here (RFC 1321).
//
// Thread-safety: pure functions.

#ifndef TIDEMARK_STORE_S3_CHECKSUMS_H_
#define TIDEMARK_STORE_S3_CHECKSUMS_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tidemark::store {

std::array<uint8_t, 16> Md5(std::string_view data);
std::string Md5Hex(std::string_view data);

// RFC 4648 base64 with padding.
std::string Base64(std::string_view bytes);

// The Content-MD5 header value: the base64 of the body's MD5.
std::string ContentMd5(std::string_view body);

}  // namespace tidemark::store

#endif  // TIDEMARK_STORE_S3_CHECKSUMS_H_
