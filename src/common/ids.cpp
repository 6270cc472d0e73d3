#include "common/ids.hpp"

#include <random>

namespace sluice {
namespace {
constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

std::mt19937_64& thread_rng() {
  thread_local std::mt19937_64 rng{[] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }()};
  return rng;
}
}  // namespace

std::string random_id(const char* prefix, std::size_t n) {
  std::string out(prefix);
  auto& rng = thread_rng();
  std::uint64_t bits = 0;
  int left = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (left < 6) {
      bits = rng();
      left = 64;
    }
    // 62 of 64 values map evenly enough for an identifier; skip the two extra by folding.
    out.push_back(kBase62[(bits & 63) % 62]);
    bits >>= 6;
    left -= 6;
  }
  return out;
}

std::string make_request_id() { return random_id("req_", 24); }

}  // namespace sluice
