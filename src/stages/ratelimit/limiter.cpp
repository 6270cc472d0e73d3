#include "stages/ratelimit/limiter.hpp"

namespace sluice::stages::ratelimit {

const char* limit_name(LimitKind k) {
  switch (k) {
    case LimitKind::Rpm: return "rpm";
    case LimitKind::Tpm: return "tpm";
    case LimitKind::Concurrency: return "concurrency";
    case LimitKind::None: return "none";
  }
  return "none";
}

std::optional<double> capacity_of(const Limits& l, LimitKind k) {
  switch (k) {
    case LimitKind::Rpm: return l.rpm;
    case LimitKind::Tpm: return l.tpm;
    case LimitKind::Concurrency:
      if (l.concurrency) return static_cast<double>(*l.concurrency);
      return std::nullopt;
    case LimitKind::None: return std::nullopt;
  }
  return std::nullopt;
}

Reservation::Reservation(Reservation&& other) noexcept : limiter_(other.limiter_), tokens_(other.tokens_) {
  other.limiter_ = nullptr;
}

Reservation& Reservation::operator=(Reservation&& other) noexcept {
  if (this != &other) {
    if (limiter_) limiter_->settle(tokens_, tokens_);
    limiter_ = other.limiter_;
    tokens_ = other.tokens_;
    other.limiter_ = nullptr;
  }
  return *this;
}

Reservation::~Reservation() {
  // Dropped without a settlement (an error path, an exception): the estimate is charged.
  if (limiter_) limiter_->settle(tokens_, tokens_);
}

void Reservation::settle(double actual_tokens) {
  if (!limiter_) return;
  limiter_->settle(tokens_, actual_tokens);
  limiter_ = nullptr;
}

void Reservation::cancel() {
  if (!limiter_) return;
  limiter_->cancel(tokens_);
  limiter_ = nullptr;
}

KeyLimiter::KeyLimiter(const Limits& limits, const Clock& clock) : clock_(clock), limits_(limits) {
  if (limits.rpm) rpm_.emplace(*limits.rpm, clock.now());
  if (limits.tpm) tpm_.emplace(*limits.tpm, clock.now());
}

KeyLimiter::Admission KeyLimiter::admit(double tokens) {
  std::lock_guard lk(mu_);
  auto now = clock_.now();
  Admission a;
  if (limits_.concurrency && in_flight_ >= *limits_.concurrency) {
    a.refused_by = LimitKind::Concurrency;
    a.retry_after = std::chrono::milliseconds(1000);  // a slot frees when a request ends
    return a;
  }
  if (rpm_) {
    auto t = rpm_->take(1, now);
    if (!t.ok) {
      a.refused_by = LimitKind::Rpm;
      a.retry_after = t.retry_after;
      return a;
    }
  }
  if (tpm_) {
    auto t = tpm_->take(tokens, now);
    if (!t.ok) {
      if (rpm_) rpm_->settle(1, 0, now);  // all or nothing: the request token goes back
      a.refused_by = LimitKind::Tpm;
      a.retry_after = t.retry_after;
      a.never_fits = tokens > tpm_->capacity();
      return a;
    }
  }
  ++in_flight_;
  a.ok = true;
  a.reservation.limiter_ = this;
  a.reservation.tokens_ = tokens;
  return a;
}

void KeyLimiter::settle(double reserved, double actual) {
  std::lock_guard lk(mu_);
  auto now = clock_.now();
  if (in_flight_ > 0) --in_flight_;
  if (tpm_) tpm_->settle(reserved, actual, now);
}

void KeyLimiter::cancel(double reserved) {
  std::lock_guard lk(mu_);
  auto now = clock_.now();
  if (in_flight_ > 0) --in_flight_;
  if (rpm_) rpm_->settle(1, 0, now);
  if (tpm_) tpm_->settle(reserved, 0, now);
}

KeyLimiter::Usage KeyLimiter::usage() {
  std::lock_guard lk(mu_);
  auto now = clock_.now();
  Usage u;
  if (rpm_) u.rpm_remaining = rpm_->available(now);
  if (tpm_) {
    u.tpm_remaining = tpm_->available(now);
    u.tpm_reset = tpm_->until_full(now);
  }
  u.in_flight = in_flight_;
  return u;
}

}  // namespace sluice::stages::ratelimit
