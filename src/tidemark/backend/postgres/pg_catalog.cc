#include "tidemark/backend/postgres/pg_catalog.h"

#include <map>

#include <nlohmann/json.hpp>

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

// Partitions of the wanted tables, then every table carrying a tidemark comment.
// pg_get_expr gets relation 0: a bound holds only constants, and naming the relation
// would make the server open every partition to deparse it (three times slower).
constexpr char kCatalogQuery[] = R"SQL(
WITH wanted AS (
  SELECT w.nsp, w.rel, w.ord
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS w(nsp, rel, ord)
), parents AS (
  SELECT w.ord, c.oid, c.relkind, pt.partstrat, pt.partnatts,
         a.attname AS key_name, format_type(a.atttypid, a.atttypmod) AS key_type,
         CASE WHEN pt.partnatts <> 1 OR pt.partattrs[0] = 0
              THEN pg_get_partkeydef(c.oid) END AS key_def
  FROM wanted w
  JOIN pg_namespace n ON n.nspname = w.nsp
  JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.rel
  LEFT JOIN pg_partitioned_table pt ON pt.partrelid = c.oid
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = pt.partattrs[0]
)
SELECT 'p' AS kind, p.ord, p.relkind::text AS relkind, p.partstrat::text AS strategy,
       p.partnatts AS key_columns, p.key_name, p.key_type, p.key_def,
       cn.nspname AS child_schema, ch.relname AS child_name,
       pg_get_expr(ch.relpartbound, 0) AS bound,
       ch.reltuples::bigint AS rows,
       ch.relpages::bigint * current_setting('block_size')::bigint AS bytes,
       i.inhdetachpending AS pending, ch.relkind::text AS child_kind, NULL AS comment
FROM parents p
LEFT JOIN pg_inherits i ON i.inhparent = p.oid
LEFT JOIN pg_class ch ON ch.oid = i.inhrelid
LEFT JOIN pg_namespace cn ON cn.oid = ch.relnamespace
UNION ALL
SELECT 'b', NULL, c.relkind::text, NULL, NULL, NULL, NULL, NULL, n.nspname, c.relname, NULL,
       c.reltuples::bigint, c.relpages::bigint * current_setting('block_size')::bigint,
       NULL, NULL, d.description
FROM pg_description d
JOIN pg_class c ON c.oid = d.objoid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE d.classoid = 'pg_class'::regclass AND d.objsubid = 0 AND d.description LIKE 'tidemark:%'
  AND NOT c.relispartition
)SQL";

char FirstChar(const std::string& text) { return text.empty() ? 0 : text[0]; }

}  // namespace

std::string BinComment::ToComment() const {
  nlohmann::ordered_json j;
  j["dataset"] = dataset;
  j["parent_schema"] = parent_schema;
  j["parent"] = parent_name;
  j["partition"] = partition;
  j["removed_at"] = removed_at;
  if (!range_start.empty()) j["range_start"] = range_start;
  if (!range_end.empty()) j["range_end"] = range_end;
  if (!id_start.empty()) j["id_start"] = id_start;
  if (!id_end.empty()) j["id_end"] = id_end;
  if (!bound.empty()) j["bound"] = bound;
  j["detached"] = detached;
  return std::string(kCommentPrefix) + j.dump();
}

std::optional<BinComment> BinComment::FromComment(const std::string& comment) {
  if (!util::StartsWith(comment, kCommentPrefix)) return std::nullopt;
  auto j = nlohmann::json::parse(comment.substr(std::string(kCommentPrefix).size()), nullptr,
                                 /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auto text = [&](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  BinComment c;
  c.dataset = text("dataset");
  c.parent_schema = text("parent_schema");
  c.parent_name = text("parent");
  c.partition = text("partition");
  c.removed_at = text("removed_at");
  c.range_start = text("range_start");
  c.range_end = text("range_end");
  c.id_start = text("id_start");
  c.id_end = text("id_end");
  c.bound = text("bound");
  auto detached = j.find("detached");
  c.detached = detached != j.end() && detached->is_boolean() && detached->get<bool>();
  if (c.parent_name.empty() || c.partition.empty()) return std::nullopt;
  return c;
}

util::Result<Catalog> ReadCatalog(sql::PqConnection& conn,
                                  const std::vector<core::TableName>& tables) {
  std::vector<std::string> schemas, names;
  for (const core::TableName& t : tables) {
    schemas.push_back(t.schema);
    names.push_back(t.name);
  }
  TM_TRY_ASSIGN(sql::PqRows rows,
                conn.Query(kCatalogQuery, {TextArray(schemas), TextArray(names)}));
  Catalog catalog;
  catalog.tables.resize(tables.size());
  for (size_t i = 0; i < tables.size(); ++i) catalog.tables[i].table = tables[i];
  const int kind = rows.Column("kind"), ord = rows.Column("ord"), relkind = rows.Column("relkind"),
            strategy = rows.Column("strategy"), key_columns = rows.Column("key_columns"),
            key_name = rows.Column("key_name"), key_type = rows.Column("key_type"),
            key_def = rows.Column("key_def"), child_schema = rows.Column("child_schema"),
            child_name = rows.Column("child_name"), bound = rows.Column("bound"),
            row_count = rows.Column("rows"), bytes = rows.Column("bytes"),
            pending = rows.Column("pending"), child_kind = rows.Column("child_kind"),
            comment = rows.Column("comment");
  for (int r = 0; r < rows.rows(); ++r) {
    if (rows.Text(r, kind) == "b") {
      auto parsed = BinComment::FromComment(rows.Text(r, comment));
      if (!parsed) continue;
      catalog.bin.push_back({rows.Text(r, child_schema), rows.Text(r, child_name),
                             rows.Int(r, row_count), rows.Int(r, bytes), std::move(*parsed)});
      continue;
    }
    const int64_t index = rows.Int(r, ord) - 1;
    if (index < 0 || index >= static_cast<int64_t>(tables.size())) continue;
    TableInfo& t = catalog.tables[index];
    if (!t.found) {
      t.found = true;
      t.relkind = FirstChar(rows.Text(r, relkind));
      t.strategy = FirstChar(rows.Text(r, strategy));
      t.key_columns = static_cast<int>(rows.Int(r, key_columns));
      t.key_name = rows.Text(r, key_name);
      t.key_type = rows.Text(r, key_type);
      t.key_def = rows.Text(r, key_def);
    }
    if (rows.IsNull(r, child_name)) continue;
    ChildInfo child;
    child.schema = rows.Text(r, child_schema);
    child.name = rows.Text(r, child_name);
    child.bound = rows.Text(r, bound);
    child.rows = rows.Int(r, row_count);
    child.bytes = rows.Int(r, bytes);
    child.detach_pending = rows.Bool(r, pending);
    child.relkind = FirstChar(rows.Text(r, child_kind));
    t.children.push_back(std::move(child));
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
