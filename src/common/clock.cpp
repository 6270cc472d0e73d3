#include "common/clock.hpp"

#include <random>

namespace sluice {

SystemClock& SystemClock::instance() {
  static SystemClock clock;  // stateless: safe to share
  return clock;
}

double SystemRandom::uniform() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

SystemRandom& SystemRandom::instance() {
  static SystemRandom random;  // stateless: the generator is per thread
  return random;
}

}  // namespace sluice
