#pragma once
// A reservation held in a shared store (Redis, redis_limiter.hpp) rather than in this process:
// the ticket names the buckets it was taken from and the per-request member of their
// concurrency sets. Like Reservation, it is move-only and settles itself when dropped, charging
// its estimate, so no shared reservation is left unsettled whatever way a request ends. The
// sink (server/shared_limits.hpp) sends the settlement off the I/O thread.
// Not thread-safe itself (one per request); the sink must outlive it.

#include <string>
#include <utility>
#include <vector>

#include "stages/ratelimit/limiter.hpp"

namespace sluice::stages::ratelimit {

// One level of limits a request is admitted against: "k:<key id>" or "p:<project>".
struct SharedScope {
  std::string id;
  Limits limits;
};

struct SharedTicket {
  std::vector<SharedScope> scopes;
  std::string member;  // unique per request: its entry in the concurrency sets
  double tokens = 0;   // reserved TPM tokens
};

class SettleSink {
 public:
  virtual ~SettleSink() = default;
  // Settles `ticket` with the real usage; must not block and must not throw.
  virtual void settle(SharedTicket ticket, double actual_tokens) noexcept = 0;
};

class SharedReservation {
 public:
  SharedReservation() = default;
  SharedReservation(SettleSink* sink, SharedTicket ticket) : sink_(sink), ticket_(std::move(ticket)) {}
  SharedReservation(SharedReservation&& o) noexcept : sink_(std::exchange(o.sink_, nullptr)), ticket_(std::move(o.ticket_)) {}
  SharedReservation& operator=(SharedReservation&& o) noexcept {
    if (this != &o) {
      settle(ticket_.tokens);
      sink_ = std::exchange(o.sink_, nullptr);
      ticket_ = std::move(o.ticket_);
    }
    return *this;
  }
  SharedReservation(const SharedReservation&) = delete;
  SharedReservation& operator=(const SharedReservation&) = delete;
  // Dropped without a settlement: the estimate is charged and the slot freed.
  ~SharedReservation() { settle(ticket_.tokens); }

  void settle(double actual_tokens) {
    if (!sink_) return;
    std::exchange(sink_, nullptr)->settle(std::move(ticket_), actual_tokens);
  }
  bool active() const { return sink_ != nullptr; }
  double reserved_tokens() const { return ticket_.tokens; }

 private:
  SettleSink* sink_ = nullptr;
  SharedTicket ticket_;
};

}  // namespace sluice::stages::ratelimit
