#pragma once
// Rate limits shared by every replica through Redis (limits.engine: redis; docs/deployment.md).
// Admissions and settlements run on this object's own thread, which owns the one Redis
// connection: an I/O thread only awaits the answer, bounded by redis.timeout_ms, and a
// settlement is posted and never awaited. While Redis is unreachable, admissions do not wait on
// it at all: they get Unavailable at once (the caller applies limits.on_redis_error), and a probe
// every 500 ms notices when it is back. Settlements that could not be sent are kept (bounded)
// and sent when it is; a slot whose settlement is lost expires with its lease.
// Thread-safe. Every SharedReservation that names this sink must end before it is destroyed.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "config/config.hpp"
#include "metrics/registry.hpp"
#include "redis/connection.hpp"
#include "stages/ratelimit/redis_limiter.hpp"

namespace sluice::server {

namespace net = boost::asio;

class SharedLimits final : public stages::ratelimit::SettleSink {
 public:
  // Does not connect yet (a replica may start before Redis); the first probe runs at once.
  SharedLimits(const config::Config& cfg, metrics::Registry& registry);
  // Sends the settlements still pending (for up to one Redis timeout each), then stops.
  ~SharedLimits() override;

  enum class Status {
    Admitted,     // the ticket holds its slots and tokens in Redis
    Refused,      // a shared limit refused it (see refusal)
    Unavailable,  // Redis could not be asked: apply the failure policy
  };
  struct Answer {
    Status status = Status::Unavailable;
    stages::ratelimit::Refusal refusal;
    std::string error;  // why Redis could not be asked (for logs)
  };
  // Admits `ticket` in Redis; resumes on the caller's executor.
  net::awaitable<Answer> admit(const stages::ratelimit::SharedTicket& ticket);
  void settle(stages::ratelimit::SharedTicket ticket, double actual_tokens) noexcept override;

  bool reachable() const { return reachable_.load(std::memory_order_relaxed); }
  bool fail_closed() const { return policy_ == config::RedisFailurePolicy::Closed; }
  std::string last_error() const;
  // Admissions decided without Redis, by the failure policy (for the metric).
  void count_fallback(bool refused);
  std::size_t pending_settlements() const { return pending_count_.load(std::memory_order_relaxed); }

 private:
  struct PendingSettle {
    stages::ratelimit::SharedTicket ticket;
    double actual = 0;
  };
  // On the Redis thread only.
  void record(const Error* failure);
  void send_pending();
  void schedule_probe();
  void probe();

  config::RedisFailurePolicy policy_;
  net::thread_pool pool_{1};
  redis::Connection conn_;                   // Redis thread only
  stages::ratelimit::RedisLimiter limiter_;  // Redis thread only
  std::deque<PendingSettle> pending_;        // Redis thread only
  net::steady_timer probe_timer_;            // Redis thread only
  bool stopping_ = false;                    // Redis thread only

  std::atomic<bool> reachable_{true};  // optimistic until the first probe says otherwise
  std::atomic<std::size_t> pending_count_{0};
  std::atomic<std::uint64_t> failures_{0}, dropped_settlements_{0}, fallback_local_{0}, fallback_refused_{0};
  mutable std::mutex error_mu_;
  std::string last_error_;  // guarded by error_mu_
};

}  // namespace sluice::server
