// Observing the configured tables of one MariaDB connection: the catalog in one query
// (md_catalog.h), the recycle bin in another, then the exact values the strategies need
// (largest id; the dated_by time of each partition's first and last row) in a third.
// Each table is checked against its dataset: what tidemark cannot manage is a config
// error naming the table and saying what would work.
//
// Thread-safety: functions on one connection.

#ifndef TIDEMARK_BACKEND_MARIADB_MD_OBSERVE_H_
#define TIDEMARK_BACKEND_MARIADB_MD_OBSERVE_H_

#include <string>
#include <vector>

#include "tidemark/backend/backend.h"
#include "tidemark/core/table_name.h"
#include "tidemark/sql/mariadb_connection.h"

namespace tidemark::backend::mariadb {

struct ObserveContext {
  sql::MariaDbConnection* conn = nullptr;
  std::string connection;        // the connection's name, for messages
  std::string url;               // its URL, for locations
  std::string default_database;  // the URL's database; "" when it names none
};

// One result per ref, in order; the outer error is for failures that concern them all.
util::Result<std::vector<util::Result<core::ObservedStorage>>> ObserveTables(
    const ObserveContext& context, const std::vector<StorageRef>& refs, const util::TimeZone& zone);

// "mariadb://user@host:3306/app#app.events": a storage's location (never a password).
std::string LocationOf(const std::string& url, const core::TableName& table);

}  // namespace tidemark::backend::mariadb

#endif  // TIDEMARK_BACKEND_MARIADB_MD_OBSERVE_H_
