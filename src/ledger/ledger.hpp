#pragma once
// The usage ledger seen by the gateway: the finish phase appends one Row per request and never
// waits for I/O; a writer behind the interface makes rows durable in batches. SQLite now
// (sqlite_ledger.hpp), PostgreSQL later. Implementations are thread-safe: append, flush and
// stats may be called from any thread.

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "ledger/row.hpp"

namespace sluice::ledger {

class Ledger {
 public:
  virtual ~Ledger() = default;

  // Enqueues `row` for the writer. Never blocks on I/O (only on a short in-memory lock).
  virtual void append(Row row) = 0;
  // Returns when every row appended before the call is durable (committed) or was dropped
  // (see Stats::dropped). While the store fails, this waits for it to recover.
  virtual void flush() = 0;
  // flush() with a deadline: false if rows appended before the call were still pending when
  // `timeout` ran out (they stay queued; nothing is lost by the timeout).
  virtual bool flush_for(std::chrono::milliseconds timeout) = 0;

  struct Stats {
    std::uint64_t appended = 0;      // rows accepted by append()
    std::uint64_t written = 0;       // rows committed
    std::uint64_t dropped = 0;       // rows given up: queue overflow, or a store still failing at shutdown
    std::uint64_t write_errors = 0;  // failed write attempts (each retried; no row lost by them)
    std::uint64_t transactions = 0;  // committed batches
    std::size_t queued = 0;          // rows appended but not yet written nor dropped
  };
  virtual Stats stats() const = 0;
};

}  // namespace sluice::ledger
