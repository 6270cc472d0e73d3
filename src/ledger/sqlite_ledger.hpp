#pragma once
// The SQLite ledger, the embedded default: a BatchingLedger (batching_ledger.hpp) whose batches
// are committed to the `requests` table, one transaction per batch written with prepared
// multi-row INSERTs, in WAL mode with synchronous=NORMAL, so a kill -9 loses at most the last
// commit window.
// Thread-safe like BatchingLedger. The writer owns its own connection; readers
// (usage_query.hpp) open theirs.

#include <chrono>
#include <cstddef>
#include <string>

#include "ledger/batching_ledger.hpp"

namespace sluice::ledger {

class SqliteLedger final : public BatchingLedger {
 public:
  struct Options {
    std::string path;                                 // database file, may be shared with the key store
    std::chrono::milliseconds commit_window{100};     // longest a row waits before its commit starts
    std::size_t max_batch = 2000;                     // rows per transaction
    std::size_t max_queue = 200000;                   // rows queued before the oldest are dropped
    int busy_timeout_ms = 5'000;                      // wait for another writer's lock per attempt
    std::chrono::milliseconds retry_backoff{50};      // first wait after a failed write, doubled...
    std::chrono::milliseconds max_retry_backoff{2'000};  // ...up to this
    std::chrono::milliseconds shutdown_timeout{10'000};  // destructor: give up on a failing store after
  };

  // Opens or creates the database and the schema, then starts the writer.
  // Throws storage::StorageError (or std::filesystem errors creating the directory).
  explicit SqliteLedger(const Options& o);
};

}  // namespace sluice::ledger
