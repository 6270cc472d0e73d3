#pragma once
// The batching writer behind every ledger engine: append() puts rows in a mutex-protected queue;
// one writer thread hands them to a RowSink (SQLite, PostgreSQL) in batches, one transaction per
// batch, as soon as the oldest
// queued row is `commit_window` old or `max_batch` rows wait. So a kill -9 loses at most the
// last commit window. A failed write (locked, disk full) keeps its rows and is retried with
// backoff; only a queue over `max_queue` drops rows, the oldest first (the batch being written
// is dropped from only once its attempt has failed, so up to max_queue + max_batch are held).
// Thread-safe: append, flush, flush_for and stats from any thread. The sink is used by the
// writer thread only; readers (usage_query.hpp, usage_reader.hpp) open their own connections.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "ledger/ledger.hpp"

namespace sluice::ledger {

// A row waiting for the writer.
struct QueuedRow {
  Row row;
  std::uint64_t seq = 0;  // 1, 2, ... in append order
  std::chrono::steady_clock::time_point enqueued;
};

// Rows in append order. A deque, as the queue is: the writer takes a whole queue by swapping it
// (constant time under the lock that appenders wait on), not by moving its rows one by one.
using Batch = std::deque<QueuedRow>;

// Where a batch goes: one transaction per call, all rows or none. Used by the writer thread only.
class RowSink {
 public:
  virtual ~RowSink() = default;
  // Writes `batch` atomically; the error message on failure (the rows are then retried, so a
  // sink must not leave part of a batch behind).
  virtual std::optional<std::string> write(const Batch& batch) = 0;
};

class BatchingLedger : public Ledger {
 public:
  struct Options {
    std::chrono::milliseconds commit_window{100};     // longest a row waits before its commit starts
    std::size_t max_batch = 2000;                     // rows per transaction
    std::size_t max_queue = 200000;                   // rows queued before the oldest are dropped
    std::chrono::milliseconds retry_backoff{50};      // first wait after a failed write, doubled...
    std::chrono::milliseconds max_retry_backoff{2'000};  // ...up to this
    std::chrono::milliseconds shutdown_timeout{10'000};  // destructor: give up on a failing store after
  };

  // Starts the writer; `sink` is ready (connected, schema in place).
  BatchingLedger(Options o, std::unique_ptr<RowSink> sink);
  // Commits everything queued (retrying a failing store up to shutdown_timeout, then dropping
  // what is left, counted and logged), then stops the writer. flush() calls already waiting
  // return before it completes; start no new calls once destruction has begun. Rows appended
  // after the writer stopped are counted as dropped.
  ~BatchingLedger() override;
  BatchingLedger(const BatchingLedger&) = delete;
  BatchingLedger& operator=(const BatchingLedger&) = delete;

  void append(Row row) override;
  void flush() override;
  bool flush_for(std::chrono::milliseconds timeout) override;
  Stats stats() const override;

  // Callers blocked in flush()/flush_for(), for tests that race flush with destruction.
  std::size_t flush_waiters_for_test() const;

 private:
  using SteadyClock = std::chrono::steady_clock;
  using Pending = QueuedRow;

  void run_writer();
  // Drops the oldest queued rows beyond max_queue. Needs mu_.
  void drop_overflow_locked();
  // Sequence number of the oldest row neither written nor dropped. Needs mu_.
  std::uint64_t oldest_unsettled_locked() const;
  bool wait_settled(std::optional<SteadyClock::time_point> deadline);

  Options opts_;
  std::unique_ptr<RowSink> sink_;  // used by the writer thread only, after construction

  mutable std::mutex mu_;
  std::condition_variable writer_cv_;   // wakes the writer: new rows, flush, stop
  std::condition_variable settled_cv_;  // wakes flushers (and the destructor): rows settled
  Batch queue_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t flush_target_ = 0;  // rows up to this seq are wanted now
  std::size_t inflight_count_ = 0;  // rows taken by the writer, being written
  std::uint64_t inflight_first_seq_ = 0;
  bool stop_ = false;
  bool writer_done_ = false;
  std::size_t flush_waiters_ = 0;
  Stats stats_{};

  std::thread writer_;  // last: started once everything above exists
};

}  // namespace sluice::ledger
