#include "client/engine.hpp"

#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "client/codec.hpp"
#include "client/retry.hpp"
#include "config/config.hpp"
#include "http/wire.hpp"
#include "stages/redact/request_text.hpp"

namespace sluice::client {

namespace {
constexpr auto kTuple = net::as_tuple(net::use_awaitable);
constexpr std::size_t kMaxErrorBody = 1 << 20;

// Streams are bounded by the first-byte and idle timeouts, not by `total`: a long answer that
// keeps arriving is never cut. (The pool of that client is separate; it only costs a few idle
// connections.)
constexpr std::chrono::hours kStreamTotal{24 * 365};

config::ProviderConfig provider_for(const ClientOptions& o, bool streaming) {
  config::ProviderConfig p;
  p.name = "client";
  p.base_url = o.base_url;
  while (!p.base_url.empty() && p.base_url.back() == '/') p.base_url.pop_back();
  p.ca_file = o.ca_file;
  p.timeouts.connect = o.timeouts.connect;
  p.timeouts.first_byte = o.timeouts.first_byte;
  p.timeouts.idle = o.timeouts.idle;
  p.timeouts.total = streaming ? std::chrono::duration_cast<milliseconds>(kStreamTotal) : o.timeouts.total;
  p.pool_max_idle = 16;
  return p;
}

Error transport_error(const sluice::Error& e, int attempts) {
  Error out;
  out.kind = e.kind == sluice::ErrorKind::Timeout ? ErrorKind::Timeout : ErrorKind::Connection;
  out.message = e.detail.empty() ? e.message : e.message + ": " + e.detail;
  out.attempts = attempts;
  return out;
}

}  // namespace

Client::Impl::Impl(ClientOptions options) : options_(std::move(options)), guard_(io_.get_executor()) {
  try {
    upstream_ = std::make_unique<upstream::UpstreamClient>(provider_for(options_, false), 1);
    stream_upstream_ = std::make_unique<upstream::UpstreamClient>(provider_for(options_, true), 1);
  } catch (const std::exception& e) {
    throw std::invalid_argument(e.what());
  }
  if (options_.rate_limit.requests_per_minute > 0) {
    limiter_.emplace(options_.rate_limit.requests_per_minute, clock_.now());
  }
  if (options_.redact_secrets) {
    redactor_ = std::make_unique<stages::redact::Engine>(
        stages::redact::Engine::compile(stages::redact::default_rules()));
  }
  thread_ = std::thread([this] { io_.run(); });
}

Client::Impl::~Impl() {
  guard_.reset();
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

std::string Client::Impl::render_headers(const Call& call, int retries_done) const {
  std::string h;
  if (!options_.api_key.empty()) http::append_field(h, "x-api-key", options_.api_key);
  if (!options_.auth_token.empty()) http::append_field(h, "authorization", "Bearer " + options_.auth_token);
  http::append_field(h, "anthropic-version", "2023-06-01");
  http::append_field(h, "accept", call.streaming && call.method == boost::beast::http::verb::get
                                      ? "text/event-stream"
                                      : "application/json");
  if (call.method == boost::beast::http::verb::post) http::append_field(h, "content-type", "application/json");
  if (!call.betas.empty()) http::append_field(h, "anthropic-beta", call.betas);
  if (!call.last_event_id.empty()) http::append_field(h, "last-event-id", call.last_event_id);
  http::append_field(h, "user-agent", "sluice-cpp/0.1.0");
  http::append_field(h, "x-stainless-retry-count", std::to_string(retries_done));
  http::append_field(h, "x-stainless-timeout", std::to_string(options_.timeouts.total.count() / 1000));
  for (const auto& [name, value] : options_.default_headers) http::append_field(h, name, value);
  return h;
}

net::awaitable<void> Client::Impl::sleep(milliseconds d) {
  if (d.count() <= 0) co_return;
  net::steady_timer t(co_await net::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(kTuple);
}

net::awaitable<void> Client::Impl::wait_for_limiter() {
  if (!limiter_) co_return;
  for (int i = 0; i < 10'000; ++i) {
    auto take = limiter_->take(1, clock_.now());
    if (take.ok) co_return;
    auto wait = std::max(take.retry_after, milliseconds(1));
    co_await sleep(wait);
  }
}

std::optional<Error> Client::Impl::redact(std::string& body) const {
  if (!redactor_) return std::nullopt;
  auto r = stages::redact::redact_request(body, stages::redact::BodyDialect::Anthropic, *redactor_);
  if (!r.blocked) return std::nullopt;
  Error e;
  e.kind = ErrorKind::InvalidRequest;
  e.type = "invalid_request_error";
  e.message = "the prompt holds a secret of type " + r.blocked_type + " that a blocking redaction rule refuses";
  return e;
}

net::awaitable<Result<std::string>> Client::Impl::read_body(upstream::UpstreamResponse& res) {
  std::string body;
  std::string buf(16 * 1024, '\0');
  for (;;) {
    auto n = co_await res.read(buf.data(), buf.size());
    if (!n.ok()) co_return transport_error(n.error(), 0);
    if (n.value() == 0) co_return body;
    if (body.size() < kMaxErrorBody || res.status() / 100 == 2) body.append(buf.data(), n.value());
  }
}

net::awaitable<Result<Client::Impl::Sent>> Client::Impl::send(const Call& call) {
  RetryOptions retry = options_.retry;
  if (call.max_retries >= 0) retry.max_retries = call.max_retries;
  for (int retries = 0;; ++retries) {
    co_await wait_for_limiter();
    upstream::UpstreamRequest req;
    req.method = call.method;
    req.target = call.target;
    req.headers = render_headers(call, retries);
    req.body = call.body;
    req.streaming = call.streaming;
    auto& via = call.streaming ? *stream_upstream_ : *upstream_;
    auto sent = co_await via.send(0, req);
    if (!sent.ok()) {
      auto wait = retry_wait(0, {}, retries, retry, random_);
      if (!wait) co_return transport_error(sent.error(), retries + 1);
      co_await sleep(*wait);
      continue;
    }
    auto res = std::move(sent.value());
    int status = static_cast<int>(res->status());
    if (status / 100 == 2) co_return Sent{std::move(res), retries + 1};
    auto body = co_await read_body(*res);
    Error e = codec::api_error(status, body.ok() ? body.value() : std::string(), std::string(res->head()["request-id"]));
    e.attempts = retries + 1;
    auto wait = retry_wait(status, upstream::retry_hints(res->head(), clock_), retries, retry, random_);
    if (!wait) co_return e;
    res.reset();
    co_await sleep(*wait);
  }
}

net::awaitable<Result<Message>> Client::Impl::create(MessageRequest req) {
  Call call;
  call.target = "/v1/messages";
  call.body = codec::message_request_json(req, false);
  if (auto blocked = redact(call.body)) co_return *blocked;
  for (const auto& b : req.betas) call.betas += (call.betas.empty() ? "" : ",") + b;
  auto sent = co_await send(call);
  if (!sent.ok()) co_return sent.error();
  auto& res = *sent.value().response;
  std::string request_id(res.head()["request-id"]);
  auto body = co_await read_body(res);
  if (!body.ok()) {
    Error e = body.error();
    e.status = static_cast<int>(res.status());
    e.request_id = request_id;
    e.attempts = sent.value().attempts;
    co_return e;
  }
  auto msg = codec::parse_message(body.value());
  if (!msg) {
    Error e;
    e.kind = ErrorKind::InvalidResponse;
    e.status = static_cast<int>(res.status());
    e.message = "the answer is not a Messages API message";
    e.request_id = request_id;
    e.attempts = sent.value().attempts;
    co_return e;
  }
  msg->request_id = request_id;
  co_return std::move(*msg);
}

net::awaitable<Result<TokenCount>> Client::Impl::count_tokens(MessageRequest req) {
  Call call;
  call.target = "/v1/messages/count_tokens";
  call.body = codec::count_tokens_json(req);
  if (auto blocked = redact(call.body)) co_return *blocked;
  for (const auto& b : req.betas) call.betas += (call.betas.empty() ? "" : ",") + b;
  auto sent = co_await send(call);
  if (!sent.ok()) co_return sent.error();
  auto& res = *sent.value().response;
  TokenCount out;
  out.request_id = res.head()["request-id"];
  auto body = co_await read_body(res);
  if (!body.ok()) co_return body.error();
  auto count = codec::parse_token_count(body.value());
  if (!count) {
    Error e;
    e.kind = ErrorKind::InvalidResponse;
    e.status = static_cast<int>(res.status());
    e.message = "the answer has no input_tokens";
    e.request_id = out.request_id;
    co_return e;
  }
  out.input_tokens = *count;
  co_return out;
}

}  // namespace sluice::client
