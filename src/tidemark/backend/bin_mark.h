// The mark tidemark leaves on a table it removed from a partitioned table (in the
// recycle bin, or kept detached): where it came from, when, and its bounds, as a table
// comment "tidemark:{json}". The bin lists exactly the tables that carry one; restore
// reads it to put the table back. Shared by the database backends.
//
// Thread-safety: plain values.

#ifndef TIDEMARK_BACKEND_BIN_MARK_H_
#define TIDEMARK_BACKEND_BIN_MARK_H_

#include <optional>
#include <string>

namespace tidemark::backend {

inline constexpr char kCommentPrefix[] = "tidemark:";

struct BinMark {
  std::string dataset;
  std::string parent_schema;
  std::string parent_name;
  std::string partition;
  std::string removed_at;  // ISO instant
  std::string range_start;
  std::string range_end;
  std::string id_start;
  std::string id_end;
  std::string bound;  // the partition's bound when it was removed, as the database writes it
  bool detached = false;

  std::string ToComment() const;  // "tidemark:{…}"
  // nullopt for a comment that is not a tidemark mark (or names no parent or partition).
  static std::optional<BinMark> FromComment(const std::string& comment);
};

}  // namespace tidemark::backend

#endif  // TIDEMARK_BACKEND_BIN_MARK_H_
