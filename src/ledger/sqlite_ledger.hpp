#pragma once
// The SQLite ledger: append() puts rows in a mutex-protected queue; one writer thread commits
// them in batches, one transaction and one prepared INSERT per batch, as soon as the oldest
// queued row is `commit_window` old or `max_batch` rows wait. So a kill -9 loses at most the
// last commit window. A failed write (locked, disk full) keeps its rows and is retried with
// backoff; only a queue over `max_queue` drops rows, the oldest first (the batch being written
// is dropped from only once its attempt has failed, so up to max_queue + max_batch are held).
// Thread-safe: append, flush, flush_for and stats from any thread. The writer owns its own
// connection; readers (usage_query.hpp) open theirs.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ledger/ledger.hpp"
#include "storage/sqlite.hpp"

namespace sluice::ledger {

class SqliteLedger final : public Ledger {
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
  explicit SqliteLedger(Options o);
  // Commits everything queued (retrying a failing store up to shutdown_timeout, then dropping
  // what is left, counted and logged), then stops the writer. flush() calls already waiting
  // return before it completes; start no new calls once destruction has begun. Rows appended
  // after the writer stopped are counted as dropped.
  ~SqliteLedger() override;
  SqliteLedger(const SqliteLedger&) = delete;
  SqliteLedger& operator=(const SqliteLedger&) = delete;

  void append(Row row) override;
  void flush() override;
  bool flush_for(std::chrono::milliseconds timeout) override;
  Stats stats() const override;

  // Callers blocked in flush()/flush_for(), for tests that race flush with destruction.
  std::size_t flush_waiters_for_test() const;

 private:
  using SteadyClock = std::chrono::steady_clock;
  struct Pending {
    Row row;
    std::uint64_t seq = 0;  // 1, 2, ... in append order
    SteadyClock::time_point enqueued;
  };

  void run_writer();
  // Writes `batch` in one transaction; the error message on failure.
  std::optional<std::string> write_batch(const std::vector<Pending>& batch);
  // Drops the oldest queued rows beyond max_queue. Needs mu_.
  void drop_overflow_locked();
  // Sequence number of the oldest row neither written nor dropped. Needs mu_.
  std::uint64_t oldest_unsettled_locked() const;
  bool wait_settled(std::optional<SteadyClock::time_point> deadline);

  Options opts_;
  storage::Db db_;        // used by the writer thread only, after construction
  storage::Stmt insert_;  // likewise

  mutable std::mutex mu_;
  std::condition_variable writer_cv_;   // wakes the writer: new rows, flush, stop
  std::condition_variable settled_cv_;  // wakes flushers (and the destructor): rows settled
  std::deque<Pending> queue_;
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
