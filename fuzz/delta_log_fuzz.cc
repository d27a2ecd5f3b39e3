// Fuzz target: the Delta action parser on arbitrary bytes as one commit, the
// `_last_checkpoint` parser and the schema reader on the same bytes, and the path
// decoder on each line. Whatever parses must serialize and parse back.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tidemark/backend/lake/delta_log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace delta = tidemark::backend::lake::delta;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto commit = delta::ParseCommit(text, "fuzz.json");
  (void)delta::ParseLastCheckpoint(text, "_last_checkpoint");
  (void)delta::ParseSchemaColumns(text, "schemaString");
  for (size_t start = 0; start < text.size();) {
    const size_t end = std::min(text.find('\n', start), text.size());
    (void)delta::ResolveLogPath(text.substr(start, end - start), "file:///lake/t");
    start = end + 1;
  }
  if (!commit) return 0;
  delta::CommitToWrite again;
  again.removes = commit->removes;
  again.adds = commit->adds;
  if (!commit->txns.empty()) again.txn = commit->txns.front();
  auto written = delta::SerializeActions(again);
  if (!written) return 0;  // text that is not UTF-8 inside a JSON escape
  auto back = delta::ParseCommit(*written, "written.json");
  if (!back || back->adds.size() != commit->adds.size() ||
      back->removes.size() != commit->removes.size()) {
    std::abort();
  }
  for (size_t i = 0; i < commit->adds.size(); ++i) {
    if (back->adds[i].path != commit->adds[i].path ||
        back->adds[i].partition_values != commit->adds[i].partition_values ||
        back->adds[i].stats != commit->adds[i].stats) {
      std::abort();
    }
  }
  return 0;
}
