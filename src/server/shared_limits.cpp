#include "server/shared_limits.hpp"

#include <cstdio>
#include <future>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "server/stores.hpp"

namespace sluice::server {

namespace {

constexpr std::size_t kMaxPendingSettlements = 100'000;
constexpr auto kProbeEvery = std::chrono::milliseconds(500);

}  // namespace

SharedLimits::SharedLimits(const config::Config& cfg, metrics::Registry& registry)
    : policy_(cfg.limits.on_redis_error),
      conn_(redis_endpoint(cfg.redis), cfg.redis.timeout),
      limiter_(conn_, cfg.redis.prefix + "rl:", cfg.limits.effective_lease(cfg.providers)),
      probe_timer_(pool_.get_executor()) {
  registry.gauge_callback("sluice_redis_up", "Whether the shared rate limits' Redis answered its last command (1) or not (0)",
                          {}, [this](std::vector<metrics::Sample>& out) { out.push_back({{}, reachable() ? 1.0 : 0.0}); });
  registry.counter_callback("sluice_redis_failures_total", "Redis commands of the shared rate limits that failed", {},
                            [this](std::vector<metrics::Sample>& out) {
                              out.push_back({{}, static_cast<double>(failures_.load())});
                            });
  registry.counter_callback(
      "sluice_ratelimit_redis_fallback_total",
      "Admissions decided without Redis by limits.on_redis_error: local buckets (open) or refused (closed)",
      {"result"}, [this](std::vector<metrics::Sample>& out) {
        out.push_back({{"local"}, static_cast<double>(fallback_local_.load())});
        out.push_back({{"refused"}, static_cast<double>(fallback_refused_.load())});
      });
  registry.gauge_callback("sluice_ratelimit_settlements_pending", "Settlements waiting for Redis to come back", {},
                          [this](std::vector<metrics::Sample>& out) {
                            out.push_back({{}, static_cast<double>(pending_settlements())});
                          });
  registry.counter_callback("sluice_ratelimit_settlements_dropped_total",
                            "Settlements given up (pending queue full): their slots expire with the lease", {},
                            [this](std::vector<metrics::Sample>& out) {
                              out.push_back({{}, static_cast<double>(dropped_settlements_.load())});
                            });
  net::post(pool_, [this] { probe(); });
}

SharedLimits::~SharedLimits() {
  std::promise<void> done;
  net::post(pool_, [this, &done] {
    stopping_ = true;
    probe_timer_.cancel();
    if (!pending_.empty()) {
      auto ping = limiter_.ping();
      record(ping.ok() ? nullptr : &ping.error());
      if (ping.ok()) send_pending();
    }
    if (!pending_.empty()) {
      std::fprintf(stderr, "sluice: redis: %zu settlement(s) not sent at shutdown; their slots expire with the lease\n",
                   pending_.size());
    }
    done.set_value();
  });
  done.get_future().wait();
  pool_.join();
}

std::string SharedLimits::last_error() const {
  std::lock_guard lk(error_mu_);
  return last_error_;
}

void SharedLimits::count_fallback(bool refused) { (refused ? fallback_refused_ : fallback_local_).fetch_add(1); }

void SharedLimits::record(const Error* failure) {
  if (!failure) {
    if (!reachable_.exchange(true)) std::fprintf(stderr, "sluice: redis: reachable again; shared rate limits apply\n");
    return;
  }
  failures_.fetch_add(1);
  {
    std::lock_guard lk(error_mu_);
    last_error_ = failure->message;
  }
  if (reachable_.exchange(false)) {
    std::fprintf(stderr, "sluice: redis: %s; rate limits fail %s until it is back\n", failure->message.c_str(),
                 policy_ == config::RedisFailurePolicy::Closed ? "closed (503)" : "open (local buckets)");
  }
}

net::awaitable<SharedLimits::Answer> SharedLimits::admit(const stages::ratelimit::SharedTicket& ticket) {
  Answer a;
  if (!reachable()) {
    a.error = last_error();
    co_return a;
  }
  // On the Redis thread; the awaiting coroutine resumes on its own executor.
  a = co_await net::co_spawn(
      pool_.get_executor(),
      [this, &ticket]() -> net::awaitable<Answer> {
        Answer out;
        auto d = limiter_.admit(ticket);
        record(d.ok() ? nullptr : &d.error());
        if (!d.ok()) {
          out.error = d.error().message;
          co_return out;
        }
        send_pending();
        out.status = d.value().admitted ? Status::Admitted : Status::Refused;
        out.refusal = d.value().refusal;
        co_return out;
      },
      net::use_awaitable);
  co_return a;
}

void SharedLimits::settle(stages::ratelimit::SharedTicket ticket, double actual_tokens) noexcept {
  try {
    net::post(pool_, [this, t = std::move(ticket), actual_tokens]() mutable {
      pending_.push_back({std::move(t), actual_tokens});
      pending_count_.store(pending_.size());
      if (reachable()) send_pending();
    });
  } catch (...) {
    // Out of memory posting: the slot expires with its lease.
    dropped_settlements_.fetch_add(1);
  }
}

void SharedLimits::send_pending() {
  while (!pending_.empty()) {
    auto& p = pending_.front();
    auto r = limiter_.settle(p.ticket, p.actual);
    if (!r.ok()) {
      record(&r.error());
      break;  // kept; the probe sends them once Redis answers again
    }
    pending_.pop_front();
  }
  while (pending_.size() > kMaxPendingSettlements) {
    pending_.pop_front();
    dropped_settlements_.fetch_add(1);
  }
  pending_count_.store(pending_.size());
}

void SharedLimits::schedule_probe() {
  if (stopping_) return;
  probe_timer_.expires_after(kProbeEvery);
  probe_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) probe();
  });
}

void SharedLimits::probe() {
  // Also while healthy: an idle replica notices an outage (for /healthz) before a request does.
  auto r = limiter_.ping();
  record(r.ok() ? nullptr : &r.error());
  if (r.ok()) send_pending();
  schedule_probe();
}

}  // namespace sluice::server
