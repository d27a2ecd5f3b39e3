// The MariaDB and MySQL backend: RANGE and RANGE COLUMNS partitioned tables (MariaDB
// 10.3+, tested on 10.11; MySQL 5.7+ through the same client library). One
// information_schema query observes every configured table of a connection, another
// the recycle bin, and a third the exact largest ids and dated_by times where the
// strategy needs them. Partitions ahead are made by splitting the empty MAXVALUE tail
// (strategies time and id) or by laying out the empty partitions ahead again from the
// predicted fill rate (strategy sequential, plan/fill_rate.h); a partition that holds
// rows is never reorganized. Expired partitions leave with CONVERT PARTITION … TO TABLE
// (MariaDB 10.7+) or EXCHANGE PARTITION and DROP PARTITION, into the `tidemark_recycle`
// database, are exported as LOAD DATA text through zstd into the archive, verified, and
// dropped after recycle_days. docs/mariadb.md is the user's guide.
//
// Thread-safety: as Backend (one thread; one connection per backend).

#ifndef TIDEMARK_BACKEND_MARIADB_MD_BACKEND_H_
#define TIDEMARK_BACKEND_MARIADB_MD_BACKEND_H_

#include <memory>

#include "tidemark/backend/backend.h"

namespace tidemark::backend::mariadb {

util::Result<std::unique_ptr<Backend>> OpenMariaDbBackend(const config::Config& config,
                                                          const config::Connection& connection);

}  // namespace tidemark::backend::mariadb

#endif  // TIDEMARK_BACKEND_MARIADB_MD_BACKEND_H_
