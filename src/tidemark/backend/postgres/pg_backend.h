// The PostgreSQL backend: declaratively RANGE-partitioned tables (PostgreSQL 11+;
// tested on 15). One catalog query observes every configured table of a connection;
// partitions ahead are created with CREATE TABLE … PARTITION OF (rows of a new range
// that sit in the default partition are moved out in small batches first); expired
// partitions are detached (CONCURRENTLY where the server allows), moved into the
// `tidemark_recycle` schema, exported with COPY through zstd into the archive,
// verified, and dropped after recycle_days. Every DDL runs under a short lock_timeout
// with retries and backoff, so tidemark waits behind long transactions briefly and
// never makes other sessions queue behind it for long.
//
// Thread-safety: as Backend (one thread; one connection per backend).

#ifndef TIDEMARK_BACKEND_POSTGRES_PG_BACKEND_H_
#define TIDEMARK_BACKEND_POSTGRES_PG_BACKEND_H_

#include <memory>

#include "tidemark/backend/backend.h"

namespace tidemark::backend::postgres {

util::Result<std::unique_ptr<Backend>> OpenPostgresBackend(const config::Config& config,
                                                           const config::Connection& connection);

}  // namespace tidemark::backend::postgres

#endif  // TIDEMARK_BACKEND_POSTGRES_PG_BACKEND_H_
