#pragma once
// Time and randomness behind small interfaces (LevelDB's Env seam), so retry, backoff and
// circuit-breaker logic can be tested with a fake clock and fixed random numbers.
// SystemClock and SystemRandom are thread-safe; fakes are for single-threaded tests.

#include <chrono>
#include <cstdint>

namespace sluice {

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
  // Wall-clock time, for HTTP dates (retry-after).
  virtual std::chrono::system_clock::time_point wall_now() const = 0;
};

// Milliseconds since the Unix epoch: the ledger's and the key store's timestamps.
inline std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

class SystemClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall_now() const override { return std::chrono::system_clock::now(); }
  static SystemClock& instance();
};

class FakeClock final : public Clock {
 public:
  time_point now() const override { return now_; }
  std::chrono::system_clock::time_point wall_now() const override { return wall_; }
  void advance(duration d) {
    now_ += d;
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }
  void set_wall(std::chrono::system_clock::time_point t) { wall_ = t; }

 private:
  time_point now_{std::chrono::hours(1000)};
  std::chrono::system_clock::time_point wall_{std::chrono::seconds(1'700'000'000)};
};

// Uniform random numbers in [0, 1).
class Random {
 public:
  virtual ~Random() = default;
  virtual double uniform() = 0;
};

class SystemRandom final : public Random {
 public:
  double uniform() override;  // thread-local generator
  static SystemRandom& instance();
};

class FixedRandom final : public Random {
 public:
  explicit FixedRandom(double v) : v_(v) {}
  double uniform() override { return v_; }
  void set(double v) { v_ = v; }

 private:
  double v_;
};

}  // namespace sluice
