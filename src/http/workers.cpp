#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "http/server.hpp"

namespace sluice::http {

Workers::Workers(unsigned count) {
  if (count == 0) count = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < count; ++i) {
    // Concurrency hint 1: each context is run by exactly one thread, so Asio can skip locking.
    contexts_.push_back(std::make_unique<net::io_context>(1));
    guards_.push_back(std::make_unique<net::executor_work_guard<net::io_context::executor_type>>(
        contexts_.back()->get_executor()));
  }
}

Workers::~Workers() {
  stop();
  join();
}

void Workers::start() {
  for (auto& ctx : contexts_) {
    threads_.emplace_back([c = ctx.get()] { c->run(); });
  }
}

void Workers::stop() {
  guards_.clear();
  for (auto& ctx : contexts_) ctx->stop();
}

net::awaitable<void> Workers::catch_up() {
  for (int round = 0; round < 2; ++round) {
    for (auto& ctx : contexts_) co_await net::post(ctx->get_executor(), net::use_awaitable);
  }
}

void Workers::join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace sluice::http
