// Reading MariaDB's and MySQL's catalog: every configured table of a connection with
// its partitions (method, expression, VALUES LESS THAN, estimated rows and bytes) and
// its columns' types, in one information_schema query (DESIGN.md, "Scale").
//
// Thread-safety: functions on one connection.

#ifndef TIDEMARK_BACKEND_MARIADB_MD_CATALOG_H_
#define TIDEMARK_BACKEND_MARIADB_MD_CATALOG_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tidemark/core/table_name.h"
#include "tidemark/sql/mariadb_connection.h"
#include "tidemark/util/error.h"

namespace tidemark::backend::mariadb {

struct PartitionInfo {
  std::string name;
  std::string method;      // PARTITION_METHOD: "RANGE", "RANGE COLUMNS", "HASH", …
  std::string expression;  // PARTITION_EXPRESSION: "to_days(`created_at`)", "`id`"
  std::string less_than;   // PARTITION_DESCRIPTION: "739255", "MAXVALUE", "'2024-01-05'"
  int64_t rows = 0;        // TABLE_ROWS: an estimate
  int64_t bytes = 0;       // DATA_LENGTH + INDEX_LENGTH
  bool subpartitioned = false;
};

struct TableInfo {
  core::TableName table;  // as asked for: schema is the database
  bool found = false;
  std::vector<PartitionInfo> partitions;       // in order; empty when not partitioned
  std::map<std::string, std::string> columns;  // name → DATA_TYPE ("datetime", "bigint")
};

// One query for all `tables` (schema set to the database).
util::Result<std::vector<TableInfo>> ReadCatalog(sql::MariaDbConnection& conn,
                                                 const std::vector<core::TableName>& tables);

}  // namespace tidemark::backend::mariadb

#endif  // TIDEMARK_BACKEND_MARIADB_MD_CATALOG_H_
