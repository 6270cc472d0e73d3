#pragma once
// The PostgreSQL ledger, for several replicas sharing one ledger (docs/deployment.md): a
// BatchingLedger whose batches go to the `requests` table in one transaction per batch, as
// multi-row INSERTs. A lost connection is reopened on the next attempt; rows are kept and
// retried meanwhile (up to the queue bound). A batch whose COMMIT reply was lost may be
// written twice: the unique request_id makes the second write a no-op, so every request is
// counted once.
// Thread-safe like BatchingLedger.

#include <chrono>
#include <string>

#include "ledger/batching_ledger.hpp"
#include "pg/connection.hpp"

namespace sluice::ledger {

// The ledger's schema steps for pg::migrate (component "ledger").
const std::vector<std::string>& postgres_ledger_schema();

class PostgresLedger final : public BatchingLedger {
 public:
  struct Options {
    std::string conninfo;
    pg::Connection::Options connection;
    BatchingLedger::Options batching;
  };
  // Connects, creates or migrates the schema, then starts the writer. Throws pg::PgError.
  explicit PostgresLedger(const Options& o);
};

}  // namespace sluice::ledger
