// The state store on a shared PostgreSQL ("state: postgres://user@host/db"), so that
// many workers on many machines can apply datasets of one configuration at once.
//
// Connecting: the URL is passed to libpq as is (every libpq parameter works). The
// password is the value of the environment variable TIDEMARK_STATE_PASSWORD when it is
// set, otherwise whatever libpq finds itself (~/.pgpass, PGPASSFILE, PGPASSWORD). A
// failure to connect is a kConnect error; no message ever contains the password.
//
// Schema: tables in the schema "tidemark" (created when absent), versioned like the
// SQLite store's, with the same version numbers. Opening applies the missing
// migrations under a transaction-level advisory lock, so processes opening a new store
// at the same moment take turns; a store written by a newer tidemark is refused. Once
// a store is migrated, opening it needs no CREATE privilege.
//
// Locks: a dataset's lock is a session-level advisory lock (DatasetLockKey) held by the
// store's connection, so it ends with the connection: a crashed worker's lock is gone
// as soon as the server sees its connection close, with no process check. The holder
// (run, host, pid, time) is recorded in tidemark.locks for the conflict's message; a row
// left by a holder that is gone is replaced by the next one.
//
// Transactions: InTransaction does not nest; a nested call fails without running its
// work, as with the SQLite store.
//
// Thread-safety: a store is used by one thread at a time; open one per worker.

#ifndef TIDEMARK_STATE_POSTGRES_STATE_STORE_H_
#define TIDEMARK_STATE_POSTGRES_STATE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tidemark/state/state_store.h"
#include "tidemark/util/error.h"

namespace tidemark::state {

// The environment variable that holds the state store's password, when set.
inline constexpr char kStatePasswordEnv[] = "TIDEMARK_STATE_PASSWORD";

// Whether `url` names a PostgreSQL state store (postgres:// or postgresql://).
bool IsPostgresStateUrl(std::string_view url);

// Connects to the store at `url` and brings its schema up to date.
// REQUIRES: IsPostgresStateUrl(url).
util::Result<std::unique_ptr<StateStore>> OpenPostgresStateStore(const std::string& url);

// The advisory lock key of a dataset: the first 8 bytes of sha256("tidemark:" + dataset)
// as a signed big-endian number. Stable across versions and machines.
int64_t DatasetLockKey(std::string_view dataset);

}  // namespace tidemark::state

#endif  // TIDEMARK_STATE_POSTGRES_STATE_STORE_H_
