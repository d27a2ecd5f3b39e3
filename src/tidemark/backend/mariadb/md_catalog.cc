#include "tidemark/backend/mariadb/md_catalog.h"

namespace tidemark::backend::mariadb {

namespace {

// ((schema, name), …) for an IN list.
std::string Pairs(const std::vector<core::TableName>& tables) {
  std::string out = "(";
  for (size_t i = 0; i < tables.size(); ++i) {
    if (i > 0) out += ", ";
    out += "(" + sql::QuoteMariaDbLiteral(tables[i].schema) + ", " +
           sql::QuoteMariaDbLiteral(tables[i].name) + ")";
  }
  return out + ")";
}

}  // namespace

util::Result<std::vector<TableInfo>> ReadCatalog(sql::MariaDbConnection& conn,
                                                 const std::vector<core::TableName>& tables) {
  std::vector<TableInfo> out(tables.size());
  for (size_t i = 0; i < tables.size(); ++i) out[i].table = tables[i];
  if (tables.empty()) return out;
  const std::string wanted = Pairs(tables);
  // Partitions first (one row with a NULL name for a table that is not partitioned),
  // then columns; BINARY comparisons take names as written, case included.
  const std::string query =
      "SELECT 'p' AS kind, p.TABLE_SCHEMA, p.TABLE_NAME, p.PARTITION_NAME, "
      "p.PARTITION_METHOD, p.PARTITION_EXPRESSION, p.PARTITION_DESCRIPTION, p.TABLE_ROWS, "
      "p.DATA_LENGTH + p.INDEX_LENGTH, p.SUBPARTITION_NAME IS NOT NULL, "
      "p.PARTITION_ORDINAL_POSITION AS ord "
      "FROM information_schema.PARTITIONS p "
      "WHERE (p.TABLE_SCHEMA, p.TABLE_NAME) IN " +
      wanted +
      " UNION ALL "
      "SELECT 'c', c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, NULL, NULL, NULL, "
      "NULL, NULL, c.ORDINAL_POSITION "
      "FROM information_schema.COLUMNS c WHERE (c.TABLE_SCHEMA, c.TABLE_NAME) IN " +
      wanted + " ORDER BY 1 DESC, 2, 3, ord";
  TM_TRY_ASSIGN(sql::MariaDbRows rows, conn.Query(query));
  std::map<std::pair<std::string, std::string>, std::vector<size_t>> index;
  for (size_t i = 0; i < tables.size(); ++i) index[{tables[i].schema, tables[i].name}].push_back(i);
  for (int r = 0; r < rows.rows(); ++r) {
    auto it = index.find({rows.Text(r, 1), rows.Text(r, 2)});
    if (it == index.end()) continue;  // a name that differs only by case
    for (size_t i : it->second) {
      TableInfo& t = out[i];
      t.found = true;
      if (rows.View(r, 0) == "c") {
        t.columns[rows.Text(r, 3)] = rows.Text(r, 4);
        continue;
      }
      if (rows.IsNull(r, 3)) continue;  // not partitioned
      PartitionInfo p;
      p.name = rows.Text(r, 3);
      p.method = rows.Text(r, 4);
      p.expression = rows.Text(r, 5);
      p.less_than = rows.Text(r, 6);
      p.rows = rows.Int(r, 7);
      p.bytes = rows.Int(r, 8);
      p.subpartitioned = rows.Int(r, 9) != 0;
      // A subpartitioned table lists each partition once per subpartition.
      if (!t.partitions.empty() && t.partitions.back().name == p.name) continue;
      t.partitions.push_back(std::move(p));
    }
  }
  return out;
}

}  // namespace tidemark::backend::mariadb
