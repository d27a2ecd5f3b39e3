#include "tidemark/config/expand.h"

#include <cctype>
#include <cstdlib>

namespace tidemark::config {

namespace {

constexpr std::string_view kLiteralHint = "or write $${ for a literal ${";

bool IsVariableName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

EnvironmentLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

tl::expected<std::string, std::string> ExpandEnvironment(std::string_view text,
                                                         const EnvironmentLookup& lookup) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text.substr(i, 3) == "$${") {
      out += "${";
      i += 3;
    } else if (text.substr(i, 2) == "${") {
      size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) {
        return tl::unexpected("\"${\" has no closing \"}\"; write ${NAME}, " +
                              std::string(kLiteralHint));
      }
      std::string name(text.substr(i + 2, close - i - 2));
      if (!IsVariableName(name)) {
        return tl::unexpected("\"${" + name + "}\" is not an environment variable name " +
                              "(letters, digits and _); " + std::string(kLiteralHint));
      }
      std::optional<std::string> value = lookup(name);
      if (!value) {
        return tl::unexpected("environment variable " + name + " is not set; set it, " +
                              std::string(kLiteralHint));
      }
      out += *value;
      i = close + 1;
    } else {
      out += text[i++];
    }
  }
  return out;
}

}  // namespace tidemark::config
