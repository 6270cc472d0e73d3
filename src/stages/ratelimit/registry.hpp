#pragma once
// The limiters of every key and project, by id: created on first use and replaced when an
// operator changes the limits (a new limiter starts full; requests admitted by the old one
// settle against the old one, which lives as long as their reservations).
// admit() applies a key's and its project's limits together, all-or-nothing.
// Thread-safe.

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "stages/ratelimit/limiter.hpp"
#include "stages/ratelimit/shared_reservation.hpp"

namespace sluice::stages::ratelimit {

// One request's admission across its key and its project: in this process (key, project) or
// in the shared store (shared). Settles (or charges the estimate, when dropped) every
// reservation; the limiters outlive the reservations (member order).
struct Admitted {
  std::shared_ptr<KeyLimiter> key_limiter, project_limiter;
  Reservation key, project;
  SharedReservation shared;

  void settle(double actual_tokens) {
    key.settle(actual_tokens);
    project.settle(actual_tokens);
    shared.settle(actual_tokens);
  }
  double reserved_tokens() const {
    return std::max({key.reserved_tokens(), project.reserved_tokens(), shared.reserved_tokens()});
  }
};

struct Refusal {
  LimitKind limit = LimitKind::None;
  const char* scope = "";  // "key" or "project"
  std::chrono::milliseconds retry_after{0};
  bool never_fits = false;
  std::optional<double> capacity;  // the refusing limit's size (for messages and headers)
};

class LimiterRegistry {
 public:
  explicit LimiterRegistry(const Clock& clock) : clock_(clock) {}

  // The limiter for `id` with `limits`; nullptr when there are none.
  std::shared_ptr<KeyLimiter> get(const std::string& id, const Limits& limits);

  // Admits a request estimated at `tokens` against both; on refusal nothing is consumed.
  // An empty id means "no limits at that level".
  bool admit(const std::string& key_id, const Limits& key_limits, const std::string& project,
             const Limits& project_limits, double tokens, Admitted& out, Refusal& refusal);

  std::size_t size();
  // The limiter in use for `id` ("k:<key id>" or "p:<project>"), or nullptr when none was made
  // yet; never creates one (for reports: an unused limiter is full).
  std::shared_ptr<KeyLimiter> find(const std::string& id);

 private:
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<KeyLimiter>> limiters_;
};

}  // namespace sluice::stages::ratelimit
