#include "tidemark/core/table_name.h"

#include <cstdio>

#include "tidemark/util/sha256.h"

namespace tidemark::core {

namespace {

// Reads one part starting at `text[at]`; advances `at` past it.
tl::expected<std::string, std::string> ReadPart(std::string_view text, size_t& at) {
  std::string part;
  if (at < text.size() && text[at] == '"') {
    ++at;
    for (;;) {
      if (at >= text.size())
        return tl::unexpected(std::string("a quoted name is not closed with \""));
      if (text[at] == '"') {
        if (at + 1 < text.size() && text[at + 1] == '"') {
          part += '"';
          at += 2;
          continue;
        }
        ++at;
        break;
      }
      part += text[at++];
    }
    if (part.empty()) return tl::unexpected(std::string("a quoted name is empty"));
    return part;
  }
  while (at < text.size() && text[at] != '.') {
    if (text[at] == '"')
      return tl::unexpected(std::string("a quote may only open a name; write \"a\"\"b\""));
    part += text[at++];
  }
  if (part.empty()) return tl::unexpected(std::string("a name is empty"));
  return part;
}

bool NeedsQuotes(const std::string& part) { return part.find_first_of(".\"") != std::string::npos; }

std::string Written(const std::string& part) {
  if (!NeedsQuotes(part)) return part;
  std::string out = "\"";
  for (char c : part) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string TableName::ToString() const {
  return schema.empty() ? Written(name) : Written(schema) + "." + Written(name);
}

tl::expected<TableName, std::string> ParseTableName(std::string_view text) {
  if (text.empty()) return tl::unexpected(std::string("the table name is empty"));
  size_t at = 0;
  auto first = ReadPart(text, at);
  if (!first) return tl::unexpected(first.error());
  if (at == text.size()) return TableName{"", *first};
  if (text[at] != '.') return tl::unexpected(std::string("unexpected text after a quoted name"));
  ++at;
  auto second = ReadPart(text, at);
  if (!second) return tl::unexpected(second.error());
  if (at != text.size()) {
    return tl::unexpected(
        std::string("more than two parts; write schema.table, quoting a part that holds a dot"));
  }
  return TableName{*first, *second};
}

std::string FitIdentifier(std::string_view name, std::string_view suffix, size_t max_bytes) {
  if (name.size() + suffix.size() <= max_bytes) return std::string(name) + std::string(suffix);
  const std::string digest = util::Sha256Hex(std::string(name) + std::string(suffix)).substr(0, 8);
  const size_t tail = suffix.size() + 1 + digest.size();
  size_t keep = max_bytes > tail ? max_bytes - tail : 0;
  if (keep > name.size()) keep = name.size();
  // Never cut inside a UTF-8 sequence: back up over continuation bytes.
  while (keep > 0 && keep < name.size() && (static_cast<unsigned char>(name[keep]) & 0xC0) == 0x80)
    --keep;
  return std::string(name.substr(0, keep)) + "_" + digest + std::string(suffix);
}

}  // namespace tidemark::core
