#include "ledger/batching_ledger.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <iterator>
#include <utility>


namespace sluice::ledger {

namespace {

BatchingLedger::Options normalized(BatchingLedger::Options o) {
  o.max_batch = std::max<std::size_t>(o.max_batch, 1);
  o.max_queue = std::max(o.max_queue, o.max_batch);
  o.commit_window = std::max(o.commit_window, std::chrono::milliseconds(0));
  o.retry_backoff = std::max(o.retry_backoff, std::chrono::milliseconds(1));
  o.max_retry_backoff = std::max(o.max_retry_backoff, o.retry_backoff);
  return o;
}

std::optional<std::string> write_or_error(RowSink& sink, const Batch& batch) {
  try {
    return sink.write(batch);
  } catch (const std::exception& e) {
    return std::string(e.what());
  } catch (...) {
    return std::string("unknown error");
  }
}

}  // namespace

BatchingLedger::BatchingLedger(Options o, std::unique_ptr<RowSink> sink)
    : opts_(normalized(o)), sink_(std::move(sink)), writer_([this] { run_writer(); }) {}

BatchingLedger::~BatchingLedger() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  writer_cv_.notify_one();
  writer_.join();
  // The writer has set writer_done_ and woken the flushers; wait for them to leave.
  std::unique_lock lk(mu_);
  settled_cv_.wait(lk, [&] { return flush_waiters_ == 0; });
}

void BatchingLedger::append(Row row) {
  auto now = SteadyClock::now();
  std::unique_lock lk(mu_);
  ++stats_.appended;
  if (writer_done_) {
    ++stats_.dropped;
    return;
  }
  queue_.emplace_back(std::move(row), next_seq_++, now);
  drop_overflow_locked();
  // The writer needs waking only to learn a first deadline, or for a full batch.
  bool wake = queue_.size() == 1 || queue_.size() == opts_.max_batch;
  lk.unlock();
  if (wake) writer_cv_.notify_one();
}

void BatchingLedger::flush() { wait_settled(std::nullopt); }

bool BatchingLedger::flush_for(std::chrono::milliseconds timeout) {
  return wait_settled(SteadyClock::now() + timeout);
}

bool BatchingLedger::wait_settled(std::optional<SteadyClock::time_point> deadline) {
  std::unique_lock lk(mu_);
  const std::uint64_t target = next_seq_ - 1;
  auto settled = [&] { return writer_done_ || oldest_unsettled_locked() > target; };
  if (settled()) return true;
  if (target > flush_target_) {
    flush_target_ = target;
    writer_cv_.notify_one();
  }
  ++flush_waiters_;
  bool ok = true;
  if (deadline) {
    ok = settled_cv_.wait_until(lk, *deadline, settled);
  } else {
    settled_cv_.wait(lk, settled);
  }
  --flush_waiters_;
  if (flush_waiters_ == 0) settled_cv_.notify_all();  // the destructor may be waiting for this
  return ok;
}

Ledger::Stats BatchingLedger::stats() const {
  std::lock_guard lk(mu_);
  Stats s = stats_;
  s.queued = queue_.size() + inflight_count_;
  return s;
}

std::size_t BatchingLedger::flush_waiters_for_test() const {
  std::lock_guard lk(mu_);
  return flush_waiters_;
}

void BatchingLedger::drop_overflow_locked() {
  std::size_t dropped = 0;
  // The in-flight batch is out of reach here; after a failure it is back at the front of the
  // queue, so the next call trims it first. Hence at most max_queue + max_batch rows are held.
  while (queue_.size() > opts_.max_queue) {
    queue_.pop_front();
    ++dropped;
  }
  if (dropped > 0) {
    stats_.dropped += dropped;
    settled_cv_.notify_all();
  }
}

std::uint64_t BatchingLedger::oldest_unsettled_locked() const {
  // The in-flight batch was taken from the front of the queue, so it holds the oldest rows.
  if (inflight_count_ > 0) return inflight_first_seq_;
  if (!queue_.empty()) return queue_.front().seq;
  return next_seq_;
}

void BatchingLedger::run_writer() {
  Batch batch;
  auto backoff = opts_.retry_backoff;
  std::optional<SteadyClock::time_point> give_up_at;  // set once stopping
  std::uint64_t failures = 0;                         // consecutive failed attempts

  std::unique_lock lk(mu_);
  for (;;) {
    // Wait until a batch is due: full, flushed, its oldest row commit_window old, or stopping.
    bool exit = false;
    for (;;) {
      if (stop_ && !give_up_at) give_up_at = SteadyClock::now() + opts_.shutdown_timeout;
      if (queue_.empty()) {
        if (stop_) {
          exit = true;
          break;
        }
        writer_cv_.wait(lk);
        continue;
      }
      if (stop_ || queue_.size() >= opts_.max_batch || queue_.front().seq <= flush_target_) break;
      auto due = queue_.front().enqueued + opts_.commit_window;
      if (SteadyClock::now() >= due) break;
      writer_cv_.wait_until(lk, due);
    }
    if (exit) break;

    auto n = std::min(queue_.size(), opts_.max_batch);
    if (n == queue_.size()) {
      batch.swap(queue_);  // the usual case: every queued row, taken without moving one
    } else {
      auto end = queue_.begin() + static_cast<std::ptrdiff_t>(n);
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
      queue_.erase(queue_.begin(), end);
    }
    inflight_count_ = n;
    inflight_first_seq_ = batch.front().seq;
    lk.unlock();

    auto error = write_or_error(*sink_, batch);
    if (error) {
      // One line, no row content beyond request ids (the message holds SQL text, not values).
      std::fprintf(stderr, "sluice: ledger: writing %zu row(s) (%s .. %s) failed, keeping them, retry in %lld ms: %s\n",
                   n, batch.front().row.request_id.c_str(), batch.back().row.request_id.c_str(),
                   static_cast<long long>(backoff.count()), error->c_str());
    } else if (failures > 0) {
      std::fprintf(stderr, "sluice: ledger: write succeeded after %llu failed attempt(s)\n",
                   static_cast<unsigned long long>(failures));
    }

    lk.lock();
    inflight_count_ = 0;
    if (!error) {
      stats_.written += n;
      ++stats_.transactions;
      failures = 0;
      backoff = opts_.retry_backoff;
      batch.clear();
      settled_cv_.notify_all();
      continue;
    }

    ++stats_.write_errors;
    ++failures;
    queue_.insert(queue_.begin(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
    batch.clear();
    drop_overflow_locked();

    if (stop_ && give_up_at && SteadyClock::now() >= *give_up_at) {
      auto lost = queue_.size();
      stats_.dropped += lost;
      queue_.clear();
      std::fprintf(stderr, "sluice: ledger: store still failing at shutdown, dropped %zu row(s)\n", lost);
      break;
    }
    // Back off; a stop request cuts the wait short once (then the shutdown retries back off too).
    const bool stopping = stop_;
    writer_cv_.wait_for(lk, backoff, [&] { return stop_ != stopping; });
    backoff = std::min(backoff * 2, opts_.max_retry_backoff);
  }
  writer_done_ = true;
  settled_cv_.notify_all();
}

}  // namespace sluice::ledger
