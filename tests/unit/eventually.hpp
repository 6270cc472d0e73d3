#pragma once
// For unit tests that wait on another thread or process (a writer, a poll, a reload): polls a
// condition every 2 ms until it holds or a limit passes, so a test never hangs.

#include <chrono>
#include <thread>

namespace sluice::test_support {

// True once `done()` held; false if `limit` passed first.
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace sluice::test_support
