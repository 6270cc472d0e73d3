#pragma once
// The limits of one virtual key or project: requests per minute, tokens per minute and
// concurrent requests, admitted all-or-nothing and settled exactly once (issue: projects,
// keys, limits). A Reservation is move-only and settles itself when dropped, charging its
// estimate, so no reservation can be left unsettled whatever way a request ends.
// Thread-safe: one mutex per limiter; a Reservation must not outlive its limiter, nor the
// limiter its clock.

#include <chrono>
#include <mutex>
#include <optional>

#include "stages/ratelimit/token_bucket.hpp"

namespace sluice::stages::ratelimit {

struct Limits {
  std::optional<double> rpm;        // requests per minute
  std::optional<double> tpm;        // tokens per minute (input + output)
  std::optional<int> concurrency;   // requests in flight
  bool any() const { return rpm || tpm || concurrency; }
  bool operator==(const Limits&) const = default;
};

enum class LimitKind { None, Rpm, Tpm, Concurrency };
const char* limit_name(LimitKind k);  // "rpm", "tpm", "concurrency"
// The capacity `l` sets for limit `k`, or nullopt when it sets none.
std::optional<double> capacity_of(const Limits& l, LimitKind k);

class KeyLimiter;

class Reservation {
 public:
  Reservation() = default;
  Reservation(Reservation&& other) noexcept;
  Reservation& operator=(Reservation&& other) noexcept;
  Reservation(const Reservation&) = delete;
  Reservation& operator=(const Reservation&) = delete;
  ~Reservation();

  // Settles with the real token usage: unused tokens return, extra usage is charged.
  void settle(double actual_tokens);
  // Undoes the admission as if it never happened: the request and its tokens go back (for a
  // request admitted by one limiter and refused by the next: admission is all-or-nothing).
  void cancel();
  bool active() const { return limiter_ != nullptr; }
  double reserved_tokens() const { return tokens_; }

 private:
  friend class KeyLimiter;
  KeyLimiter* limiter_ = nullptr;
  double tokens_ = 0;
};

class KeyLimiter {
 public:
  KeyLimiter(const Limits& limits, const Clock& clock);

  struct Admission {
    bool ok = false;
    LimitKind refused_by = LimitKind::None;
    std::chrono::milliseconds retry_after{0};
    bool never_fits = false;  // the estimate exceeds the TPM capacity itself
    Reservation reservation;  // active when ok
  };
  // Admits a request estimated at `tokens` (input estimate + max_tokens).
  Admission admit(double tokens);

  struct Usage {
    std::optional<double> rpm_remaining, tpm_remaining;
    int in_flight = 0;
    std::chrono::milliseconds tpm_reset{0};
  };
  Usage usage();
  const Limits& limits() const { return limits_; }

 private:
  friend class Reservation;
  void settle(double reserved, double actual);
  void cancel(double reserved);

  const Clock& clock_;
  std::mutex mu_;
  Limits limits_;
  std::optional<TokenBucket> rpm_;
  std::optional<TokenBucket> tpm_;
  int in_flight_ = 0;
};

}  // namespace sluice::stages::ratelimit
