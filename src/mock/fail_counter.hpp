#pragma once
// Per-key request counters for x-mock-fail-times / x-mock-fault-key: "fail the first K requests
// with this key, then succeed", so retry tests can run against one shared mock.
// Thread-safe: one mutex guards the map; handlers on every worker thread call should_fail().

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sluice::mock {

class FailCounter {
 public:
  // Counts one more request with `key`; true while this request is among the first `times`.
  bool should_fail(std::string_view key, std::uint32_t times);
  void clear();

 private:
  static constexpr std::size_t kMaxKeys = 100'000;  // bounded: the map is cleared when full
  std::mutex mu_;
  std::unordered_map<std::string, std::uint32_t> seen_;
};

}  // namespace sluice::mock
