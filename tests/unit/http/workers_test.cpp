#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "http/server.hpp"

namespace sluice::http {
namespace {

// What the admin API relies on: a handler queued on a worker before catch_up() — and the one it
// posts from its own thread, as a write's completion is — has run when catch_up() returns.
TEST(Workers, CatchUpWaitsForQueuedHandlersAndWhatTheyPost) {
  for (int trial = 0; trial < 50; ++trial) {
    Workers workers(2);
    workers.start();
    std::promise<void> release;
    auto released = release.get_future().share();
    std::atomic<bool> first{false}, second{false};
    // Worker 1 is held while the handlers queue behind it.
    net::post(workers.at(1), [released] { released.wait(); });
    net::post(workers.at(1), [&] {
      first = true;
      net::post(workers.at(1), [&] {  // into this thread's private queue
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // still running if not waited for
        second = true;
      });
    });
    auto done = net::co_spawn(workers.at(0), workers.catch_up(), net::use_future);
    // catch_up's first post to worker 1 is queued behind the two handlers before they run.
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    release.set_value();
    ASSERT_EQ(done.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    done.get();
    EXPECT_TRUE(first);
    EXPECT_TRUE(second) << "trial " << trial;
    workers.stop();
    workers.join();
  }
}

TEST(Workers, CatchUpReturnsOnIdleWorkers) {
  Workers workers(3);
  workers.start();
  auto done = net::co_spawn(workers.at(2), workers.catch_up(), net::use_future);
  ASSERT_EQ(done.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  done.get();
}

}  // namespace
}  // namespace sluice::http
