#pragma once
// The ledger's tables in a SQLite file that may be shared with other stores (the key store):
// `requests` (one row per ledger::Row) with its indexes, and `ledger_schema_version`, the
// ledger's own version marker for later migrations. Only these tables are created or touched.
// Call on a writable connection; safe to run concurrently from several processes.

#include "storage/sqlite.hpp"

namespace sluice::ledger {

inline constexpr int kSchemaVersion = 2;  // 2: stream_id, replayed

// Creates the tables and indexes if missing and records kSchemaVersion. Throws
// storage::StorageError on SQLite errors, or if the file was written by a newer sluice.
void ensure_schema(storage::Db& db);

}  // namespace sluice::ledger
