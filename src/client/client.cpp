#include "sluice/client/client.hpp"

#include <cstdlib>
#include <future>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "client/engine.hpp"

namespace sluice::client {

namespace {
std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}
}  // namespace

ClientOptions ClientOptions::from_env() {
  ClientOptions o;
  if (auto url = env("ANTHROPIC_BASE_URL"); !url.empty()) o.base_url = url;
  o.api_key = env("ANTHROPIC_API_KEY");
  o.auth_token = env("ANTHROPIC_AUTH_TOKEN");
  return o;
}

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Client::~Client() = default;

const ClientOptions& Client::options() const { return impl_->options(); }

Result<Message> Messages::create(const MessageRequest& req) {
  auto& impl = *client_.impl_;
  return net::co_spawn(impl.io(), impl.create(req), net::use_future).get();
}

Result<Message> Messages::stream(const MessageRequest& req, const StreamCallbacks& cb) {
  auto& impl = *client_.impl_;
  return net::co_spawn(impl.io(), impl.stream(req, cb), net::use_future).get();
}

Result<TokenCount> Messages::count_tokens(const MessageRequest& req) {
  auto& impl = *client_.impl_;
  return net::co_spawn(impl.io(), impl.count_tokens(req), net::use_future).get();
}

net::awaitable<Result<Message>> Messages::async_create(MessageRequest req) {
  auto& impl = *client_.impl_;
  auto task = impl.create(std::move(req));
  auto result = co_await net::co_spawn(impl.io(), std::move(task), net::use_awaitable);
  co_return result;
}

net::awaitable<Result<Message>> Messages::async_stream(MessageRequest req, StreamCallbacks cb) {
  auto& impl = *client_.impl_;
  auto task = impl.stream(std::move(req), std::move(cb));
  auto result = co_await net::co_spawn(impl.io(), std::move(task), net::use_awaitable);
  co_return result;
}

net::awaitable<Result<TokenCount>> Messages::async_count_tokens(MessageRequest req) {
  auto& impl = *client_.impl_;
  auto task = impl.count_tokens(std::move(req));
  auto result = co_await net::co_spawn(impl.io(), std::move(task), net::use_awaitable);
  co_return result;
}

}  // namespace sluice::client
