// Small string helpers used across layers.
//
// Thread-safety: pure functions.

#ifndef TIDEMARK_UTIL_STRINGS_H_
#define TIDEMARK_UTIL_STRINGS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tidemark::util {

std::vector<std::string> Split(std::string_view text, char separator);
std::string Join(const std::vector<std::string>& parts, std::string_view separator);
bool StartsWith(std::string_view text, std::string_view prefix);
bool EndsWith(std::string_view text, std::string_view suffix);

// "1.5 GiB", "320 KiB", "12 B".
std::string HumanBytes(int64_t bytes);
// "1h02m", "3m05s", "42s".
std::string HumanSeconds(double seconds);

// Decodes %XX escapes (as Hive writes partition values); invalid escapes stay as they are.
std::string PercentDecode(std::string_view text);

// Writes each byte for which `escape` holds as %XX (uppercase hex), the others as they are.
std::string PercentEncode(std::string_view text, bool (*escape)(unsigned char byte));

// A random identifier of `length` lowercase hex characters.
std::string RandomHex(size_t length);

}  // namespace tidemark::util

#endif  // TIDEMARK_UTIL_STRINGS_H_
