// Reading PostgreSQL's catalog: every configured partitioned table of a connection,
// its partitions with their bounds, estimated rows and bytes, and tidemark's recycle
// bin, in one query (DESIGN.md, "Scale"). And the smaller lookups a step makes before
// it acts.
//
// Tables that tidemark removed carry a comment "tidemark:{json}" saying where they came
// from (parent, partition name, bounds, removal time); the bin is read from those
// comments, so it needs no table of its own.
//
// Thread-safety: functions on one connection.

#ifndef TIDEMARK_BACKEND_POSTGRES_PG_CATALOG_H_
#define TIDEMARK_BACKEND_POSTGRES_PG_CATALOG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tidemark/backend/postgres/pg_bounds.h"
#include "tidemark/backend/bin_mark.h"
#include "tidemark/core/table_name.h"
#include "tidemark/sql/pq_connection.h"
#include "tidemark/util/error.h"

namespace tidemark::backend::postgres {

inline constexpr char kRecycleSchema[] = "tidemark_recycle";

struct ChildInfo {
  std::string schema;
  std::string name;
  std::string bound;  // pg_get_expr(relpartbound) when it was deparsed, else ""
  // The bound in the key's units, when the key is one column of a type tidemark
  // partitions by and the bound is DEFAULT or one finite whole value each side.
  std::optional<KeyBound> key_bound;
  int64_t rows = -1;  // reltuples; -1 when never analyzed
  int64_t bytes = 0;  // relpages × block size (an estimate, like rows)
  bool detach_pending = false;
  char relkind = 'r';  // 'p' when itself partitioned
};

struct TableInfo {
  core::TableName table;  // as configured (schema filled in)
  bool found = false;
  char relkind = 0;      // 'p' partitioned, 'r' plain table, 'v' view, …
  char strategy = 0;     // 'r' range, 'l' list, 'h' hash
  int key_columns = 0;   // number of partition key columns
  std::string key_name;  // empty for an expression key
  std::string key_type;  // format_type() of the key column
  std::string key_def;   // pg_get_partkeydef(): "RANGE (created_at)"
  std::vector<ChildInfo> children;
};

// What a tidemark comment says about a table it removed (bin_mark.h).
using BinComment = BinMark;

struct BinTable {
  std::string schema;
  std::string name;
  int64_t rows = -1;
  int64_t bytes = 0;
  BinComment comment;
};

struct Catalog {
  std::vector<TableInfo> tables;  // in the order asked for
  std::vector<BinTable> bin;      // every table with a tidemark comment
};

// Tables per catalog query. The queries run pipelined in one round trip, so tidemark
// reads one result while the server computes the next, and holds one at a time: a few
// MiB however many tables a connection has.
inline constexpr size_t kTablesPerQuery = 200;

// All `tables` (schema must be set) and the whole bin, in one round trip: a query per
// `tables_per_query` tables.
util::Result<Catalog> ReadCatalog(sql::PqConnection& conn,
                                  const std::vector<core::TableName>& tables,
                                  size_t tables_per_query = kTablesPerQuery);

// Names of tables in `schema` that differ from `name` only by case: a hint for a
// table that was not found.
util::Result<std::vector<std::string>> SimilarTables(sql::PqConnection& conn,
                                                     const core::TableName& table);

// A relation by schema and name: its oid, kind, whether it is a partition and of what.
struct Relation {
  bool exists = false;
  std::string oid;
  char relkind = 0;
  std::string parent_schema;  // empty when not a partition
  std::string parent_name;
  std::string bound;  // pg_get_expr(relpartbound) when a partition
  bool detach_pending = false;
  std::string comment;  // obj_description, "" when none
};
util::Result<Relation> LookUp(sql::PqConnection& conn, const std::string& schema,
                              const std::string& name);

// The default partition of a partitioned table, if any.
util::Result<std::optional<std::string>> DefaultPartition(sql::PqConnection& conn,
                                                          const core::TableName& parent);

struct Column {
  std::string name;
  std::string type;  // format_type()
  bool not_null = false;
  std::string default_expr;  // "" when none
  bool generated = false;    // GENERATED ALWAYS AS (…) STORED: not loaded, computed
};
// The table's columns in order (dropped columns left out).
util::Result<std::vector<Column>> Columns(sql::PqConnection& conn, const core::TableName& table);

// A CREATE TABLE statement for `table` as it is, named `as`: columns with types,
// NOT NULL and defaults, and its CHECK, UNIQUE and PRIMARY KEY constraints.
util::Result<std::string> CreateTableDdl(sql::PqConnection& conn, const core::TableName& table,
                                         const core::TableName& as);

}  // namespace tidemark::backend::postgres

#endif  // TIDEMARK_BACKEND_POSTGRES_PG_CATALOG_H_
