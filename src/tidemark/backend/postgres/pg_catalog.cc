#include "tidemark/backend/postgres/pg_catalog.h"

#include <map>

#include "tidemark/backend/postgres/pg_bounds.h"
#include "tidemark/util/strings.h"

namespace tidemark::backend::postgres {

namespace {

// Text arrays for $1::text[]: {"a","b"} with quotes and backslashes escaped.
std::string TextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// The partitions of the wanted tables ($1 schemas, $2 names). Bounds come as
// relpartbound's node tree, decoded here (pg_bounds.h); pg_get_expr deparses only each
// table's first partition, whose two forms must agree, or every bound when $3 is true.
// pg_get_expr gets relation 0: a bound holds only constants, and naming the relation
// would make the server open every partition to deparse it. Schemas come as oids, named
// by kNamespaceQuery: joining pg_namespace per partition costs the server more.
constexpr char kPartitionsQuery[] = R"SQL(
WITH wanted AS (
  SELECT w.nsp, w.rel, w.ord
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS w(nsp, rel, ord)
), parents AS MATERIALIZED (
  SELECT w.ord, c.oid, c.relkind, pt.partstrat, pt.partnatts,
         a.attname AS key_name, format_type(a.atttypid, a.atttypmod) AS key_type,
         CASE WHEN pt.partnatts <> 1 OR pt.partattrs[0] = 0
              THEN pg_get_partkeydef(c.oid) END AS key_def,
         (SELECT min(pi.inhrelid) FROM pg_inherits pi WHERE pi.inhparent = c.oid) AS probe
  FROM wanted w
  JOIN pg_namespace n ON n.nspname = w.nsp
  JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.rel
  LEFT JOIN pg_partitioned_table pt ON pt.partrelid = c.oid
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = pt.partattrs[0]
)
SELECT p.ord, p.relkind::text AS relkind, p.partstrat::text AS strategy,
       p.partnatts AS key_columns, p.key_name, p.key_type, p.key_def,
       ch.relnamespace AS child_schema, ch.relname AS child_name,
       CASE WHEN $3 OR ch.oid = p.probe THEN pg_get_expr(ch.relpartbound, 0) END AS bound,
       CASE WHEN NOT $3 THEN ch.relpartbound::text END AS node,
       ch.reltuples::bigint AS rows, ch.relpages::bigint AS pages,
       i.inhdetachpending AS pending, ch.relkind::text AS child_kind
FROM parents p
LEFT JOIN pg_inherits i ON i.inhparent = p.oid
LEFT JOIN pg_class ch ON ch.oid = i.inhrelid
)SQL";

// Every table carrying a tidemark comment: the recycle bin.
constexpr char kBinQuery[] = R"SQL(
SELECT c.relnamespace, c.relname, c.reltuples::bigint, c.relpages::bigint, d.description
FROM pg_description d
JOIN pg_class c ON c.oid = d.objoid
WHERE d.classoid = 'pg_class'::regclass AND d.objsubid = 0 AND d.description LIKE 'tidemark:%'
  AND NOT c.relispartition
)SQL";

constexpr char kNamespaceQuery[] =
    "SELECT oid, nspname, current_setting('block_size')::bigint FROM pg_namespace";

char FirstChar(std::string_view text) { return text.empty() ? 0 : text[0]; }

}  // namespace


namespace {

// Names of schemas by oid, and the server's block size.
struct Namespaces {
  std::map<std::string, std::string, std::less<>> names;
  int64_t block_size = 8192;

  std::string Name(std::string_view oid) const {
    auto it = names.find(oid);
    return it == names.end() ? std::string() : it->second;
  }
};

// Reads the rows of kPartitionsQuery for `tables` into `out` (one TableInfo each).
// With `deparsed` false, bounds are decoded from node trees; returns false when one
// does not decode or disagrees with its deparsed form: read again with `deparsed`.
bool ReadPartitions(const sql::PqRows& rows, const Namespaces& namespaces, bool deparsed,
                    std::vector<TableInfo>& out) {
  const int ord = rows.Column("ord"), relkind = rows.Column("relkind"),
            strategy = rows.Column("strategy"), key_columns = rows.Column("key_columns"),
            key_name = rows.Column("key_name"), key_type = rows.Column("key_type"),
            key_def = rows.Column("key_def"), child_schema = rows.Column("child_schema"),
            child_name = rows.Column("child_name"), bound = rows.Column("bound"),
            node = rows.Column("node"), row_count = rows.Column("rows"),
            pages = rows.Column("pages"), pending = rows.Column("pending"),
            child_kind = rows.Column("child_kind");
  for (int r = 0; r < rows.rows(); ++r) {
    const int64_t index = rows.Int(r, ord) - 1;
    if (index < 0 || index >= static_cast<int64_t>(out.size())) continue;
    TableInfo& t = out[index];
    if (!t.found) {
      t.found = true;
      t.relkind = FirstChar(rows.View(r, relkind));
      t.strategy = FirstChar(rows.View(r, strategy));
      t.key_columns = static_cast<int>(rows.Int(r, key_columns));
      t.key_name = rows.Text(r, key_name);
      t.key_type = rows.Text(r, key_type);
      t.key_def = rows.Text(r, key_def);
    }
    if (rows.IsNull(r, child_name)) continue;
    ChildInfo& child = t.children.emplace_back();
    child.schema = namespaces.Name(rows.View(r, child_schema));
    child.name = rows.Text(r, child_name);
    child.bound = rows.Text(r, bound);
    child.rows = rows.Int(r, row_count);
    child.bytes = rows.Int(r, pages) * namespaces.block_size;
    child.detach_pending = rows.Bool(r, pending);
    child.relkind = FirstChar(rows.View(r, child_kind));
    const KeyKind key = t.key_columns == 1 ? KeyKindOf(t.key_type) : KeyKind::kOther;
    if (key == KeyKind::kOther) continue;  // Describe refuses the table
    std::optional<KeyBound> from_text;
    if (!child.bound.empty()) {
      if (auto parsed = ParseRangeBound(child.bound)) from_text = TextKeyBound(*parsed, key);
    }
    if (deparsed) {
      child.key_bound = from_text;
      continue;
    }
    child.key_bound = DecodeNodeBound(rows.View(r, node), key);
    if (!child.key_bound) return false;
    if (!child.bound.empty() && child.key_bound != from_text) return false;
  }
  return true;
}

util::Status ReadBin(const sql::PqRows& rows, const Namespaces& namespaces,
                     std::vector<BinTable>& bin) {
  for (int r = 0; r < rows.rows(); ++r) {
    auto parsed = BinComment::FromComment(rows.Text(r, 4));
    if (!parsed) continue;
    bin.push_back({namespaces.Name(rows.View(r, 0)), rows.Text(r, 1), rows.Int(r, 2),
                   rows.Int(r, 3) * namespaces.block_size, std::move(*parsed)});
  }
  return {};
}

// The chunks of `tables` whose bounds are read with `deparsed`, into `catalog`; adds
// to `undecoded` the first index of each chunk whose node trees did not all decode.
util::Status ReadChunks(sql::PqConnection& conn, const std::vector<core::TableName>& tables,
                        size_t per_query, const std::vector<size_t>& firsts, bool deparsed,
                        bool with_bin, Namespaces& namespaces, Catalog& catalog,
                        std::vector<size_t>& undecoded) {
  std::vector<sql::PqConnection::Statement> statements;
  if (with_bin) {
    statements.push_back({kNamespaceQuery, {}});
    statements.push_back({kBinQuery, {}});
  }
  const size_t head = statements.size();
  for (size_t first : firsts) {
    std::vector<std::string> schemas, names;
    for (size_t i = first; i < std::min(first + per_query, tables.size()); ++i) {
      schemas.push_back(tables[i].schema);
      names.push_back(tables[i].name);
    }
    statements.push_back(
        {kPartitionsQuery, {TextArray(schemas), TextArray(names), deparsed ? "true" : "false"}});
  }
  return conn.QueryEach(statements, [&](size_t index, const sql::PqRows& rows) -> util::Status {
    if (with_bin && index == 0) {
      for (int r = 0; r < rows.rows(); ++r) {
        namespaces.names.emplace(rows.Text(r, 0), rows.Text(r, 1));
        namespaces.block_size = rows.Int(r, 2);
      }
      return {};
    }
    if (with_bin && index == 1) return ReadBin(rows, namespaces, catalog.bin);
    const size_t first = firsts[index - head];
    const size_t count = std::min(first + per_query, tables.size()) - first;
    std::vector<TableInfo> chunk(count);
    if (!ReadPartitions(rows, namespaces, deparsed, chunk)) {
      undecoded.push_back(first);
      return {};
    }
    for (size_t i = 0; i < count; ++i) {
      chunk[i].table = tables[first + i];
      catalog.tables[first + i] = std::move(chunk[i]);
    }
    return {};
  });
}

}  // namespace

util::Result<Catalog> ReadCatalog(sql::PqConnection& conn,
                                  const std::vector<core::TableName>& tables,
                                  size_t tables_per_query) {
  const size_t per_query = std::max<size_t>(1, tables_per_query);
  Catalog catalog;
  catalog.tables.resize(tables.size());
  for (size_t i = 0; i < tables.size(); ++i) catalog.tables[i].table = tables[i];
  std::vector<size_t> firsts;
  for (size_t first = 0; first < tables.size(); first += per_query) firsts.push_back(first);
  Namespaces namespaces;
  std::vector<size_t> undecoded;
  TM_TRY(ReadChunks(conn, tables, per_query, firsts, /*deparsed=*/false, /*with_bin=*/true,
                    namespaces, catalog, undecoded));
  if (!undecoded.empty()) {
    std::vector<size_t> again;
    TM_TRY(ReadChunks(conn, tables, per_query, undecoded, /*deparsed=*/true, /*with_bin=*/false,
                      namespaces, catalog, again));
  }
  return catalog;
}

util::Result<std::vector<std::string>> SimilarTables(sql::PqConnection& conn,
                                                     const core::TableName& table) {
  TM_TRY_ASSIGN(sql::PqRows rows,
                conn.Query("SELECT n.nspname, c.relname FROM pg_class c "
                           "JOIN pg_namespace n ON n.oid = c.relnamespace "
                           "WHERE lower(n.nspname) = lower($1) AND lower(c.relname) = lower($2) "
                           "AND c.relkind IN ('r', 'p') ORDER BY 1, 2 LIMIT 5",
                           {table.schema, table.name}));
  std::vector<std::string> names;
  for (int r = 0; r < rows.rows(); ++r) {
    names.push_back(core::TableName{rows.Text(r, 0), rows.Text(r, 1)}.ToString());
  }
  return names;
}

util::Result<Relation> LookUp(sql::PqConnection& conn, const std::string& schema,
                              const std::string& name) {
  TM_TRY_ASSIGN(
      sql::PqRows rows,
      conn.Query("SELECT c.oid, c.relkind::text, pn.nspname, p.relname, "
                 "pg_get_expr(c.relpartbound, c.oid), coalesce(i.inhdetachpending, false), "
                 "coalesce(obj_description(c.oid, 'pg_class'), '') "
                 "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "LEFT JOIN pg_inherits i ON i.inhrelid = c.oid "
                 "LEFT JOIN pg_class p ON p.oid = i.inhparent "
                 "LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace "
                 "WHERE n.nspname = $1 AND c.relname = $2",
                 {schema, name}));
  Relation relation;
  if (rows.rows() == 0) return relation;
  relation.exists = true;
  relation.oid = rows.Text(0, 0);
  relation.relkind = FirstChar(rows.Text(0, 1));
  relation.parent_schema = rows.Text(0, 2);
  relation.parent_name = rows.Text(0, 3);
  relation.bound = rows.Text(0, 4);
  relation.detach_pending = rows.Bool(0, 5);
  relation.comment = rows.Text(0, 6);
  return relation;
}

util::Result<std::optional<std::string>> DefaultPartition(sql::PqConnection& conn,
                                                          const core::TableName& parent) {
  TM_TRY_ASSIGN(sql::PqRows rows, conn.Query("SELECT ch.relname FROM pg_class p "
                                             "JOIN pg_namespace n ON n.oid = p.relnamespace "
                                             "JOIN pg_partitioned_table pt ON pt.partrelid = p.oid "
                                             "JOIN pg_class ch ON ch.oid = pt.partdefid "
                                             "WHERE n.nspname = $1 AND p.relname = $2",
                                             {parent.schema, parent.name}));
  if (rows.rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(rows.Text(0, 0));
}

util::Result<std::vector<Column>> Columns(sql::PqConnection& conn, const core::TableName& table) {
  TM_TRY_ASSIGN(
      sql::PqRows rows,
      conn.Query("SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
                 "coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attgenerated <> '' "
                 "FROM pg_attribute a "
                 "JOIN pg_class c ON c.oid = a.attrelid "
                 "JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                 "WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 "
                 "AND NOT a.attisdropped ORDER BY a.attnum",
                 {table.schema, table.name}));
  std::vector<Column> columns;
  for (int r = 0; r < rows.rows(); ++r) {
    columns.push_back(
        {rows.Text(r, 0), rows.Text(r, 1), rows.Bool(r, 2), rows.Text(r, 3), rows.Bool(r, 4)});
  }
  return columns;
}

util::Result<std::string> CreateTableDdl(sql::PqConnection& conn, const core::TableName& table,
                                         const core::TableName& as) {
  TM_TRY_ASSIGN(std::vector<Column> columns, Columns(conn, table));
  TM_TRY_ASSIGN(sql::PqRows constraints,
                conn.Query("SELECT co.conname, pg_get_constraintdef(co.oid) "
                           "FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid "
                           "JOIN pg_namespace n ON n.oid = c.relnamespace "
                           "WHERE n.nspname = $1 AND c.relname = $2 AND co.contype IN "
                           "('c', 'u', 'p') ORDER BY co.conname",
                           {table.schema, table.name}));
  std::string ddl = "CREATE TABLE " + sql::QuoteQualified(as.schema, as.name) + " (";
  for (size_t i = 0; i < columns.size(); ++i) {
    const Column& c = columns[i];
    ddl += (i == 0 ? "\n  " : ",\n  ") + sql::QuoteIdent(c.name) + " " + c.type;
    if (c.generated) {
      ddl += " GENERATED ALWAYS AS (" + c.default_expr + ") STORED";
    } else if (!c.default_expr.empty()) {
      ddl += " DEFAULT " + c.default_expr;
    }
    if (c.not_null) ddl += " NOT NULL";
  }
  for (int r = 0; r < constraints.rows(); ++r) {
    ddl +=
        ",\n  CONSTRAINT " + sql::QuoteIdent(constraints.Text(r, 0)) + " " + constraints.Text(r, 1);
  }
  return ddl + "\n)";
}

}  // namespace tidemark::backend::postgres
