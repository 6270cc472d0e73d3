// The upstream exchange of one request: attempts with retries over a provider's deployments,
// circuit breakers, then the provider's fallbacks (issue: resilience). Nothing is retried once a
// byte reached the client: a stream is committed at its first content event, its preamble
// (message_start, ping) held back until then.
#include <cstdio>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "server/exchange.hpp"
#include "server/headers.hpp"
#include "translate/messages_to_chat.hpp"
#include "http/wire.hpp"

namespace sluice::server {

namespace {

// One step of the route: a provider, with the model it is asked for when it is a fallback.
struct Hop {
  upstream::Provider* provider;
  std::string model;  // empty: the client's model, unchanged
};

// Replaces `model` in a JSON request body (only for fallbacks that name another model).
bool rewrite_model(std::string& body, const std::string& model) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return false;
  v.as_object()["model"] = model;
  body = boost::json::serialize(v);
  return true;
}

bool is_failure_worth_failover(const upstream::AttemptOutcome& o) {
  if (o.transport) return true;
  if (!o.inband_error_type.empty()) return upstream::is_retryable_inband(o.inband_error_type);
  return o.status >= 500 || o.status == 429 || o.status == 408;
}

// Records an outcome on a deployment's breaker and logs a change of state.
void record(upstream::Deployment& d, bool success, bool probe) {
  auto before = d.breaker.state();
  d.breaker.record(success, probe);
  auto after = d.breaker.state();
  if (before != after) {
    std::fprintf(stderr, "{\"event\":\"breaker\",\"deployment\":\"%s\",\"from\":\"%s\",\"to\":\"%s\"}\n",
                 d.label.c_str(), upstream::CircuitBreaker::state_name(before),
                 upstream::CircuitBreaker::state_name(after));
  }
}

// count_tokens answered with sluice's estimate instead: the upstream has no such method, is
// overloaded or failing. Its 400s, 401s and 404s (an unknown model) stay its own.
bool cannot_count(unsigned status) {
  return status == 405 || status == 429 || status == 501 || status >= 500;
}

struct Outstanding {
  explicit Outstanding(upstream::Deployment& d) : d_(d) { ++d_.outstanding; }
  ~Outstanding() { --d_.outstanding; }
  upstream::Deployment& d_;
};

// Waits before a retry; `slot` lets a client that goes away cut the wait short.
net::awaitable<void> sleep_for(std::chrono::milliseconds d, net::steady_timer*& slot) {
  net::steady_timer t{co_await net::this_coro::executor, d};
  slot = &t;
  co_await t.async_wait(net::as_tuple(net::use_awaitable));
  slot = nullptr;
}

}  // namespace

net::awaitable<void> Gateway::proxy(http::Request& req, http::ResponseWriter& w, Exchange& ex) {
  upstream::Provider* first = ex.provider_for_route ? ex.provider_for_route : providers_.front().get();
  std::vector<Hop> route{{first, ex.upstream_model}};
  for (const auto& fb : first->fallbacks()) {
    if (auto* p = provider_named(fb.provider)) route.push_back({p, fb.model});
  }
  bool any_openai = false;
  for (const auto& h : route) any_openai = any_openai || h.provider->speaks_openai();

  // An OpenAI client's request was translated to a Messages request: that is what is sent.
  const std::string anthropic_target = ex.openai_client ? std::string("/v1/messages") : std::string(req.origin_form());
  upstream::UpstreamRequest ureq;
  ureq.method = req.msg.method();
  ureq.target = anthropic_target;
  ureq.body = std::move(req.msg.body());
  ureq.streaming = ex.stream;
  // A resumable stream: an identical retry of a stream whose client left is answered from its
  // buffer. The fingerprint is taken from the body before any hop rewrites it.
  const bool resumable_stream = replay_ && resumable(req, ex);
  // An OpenAI hop is translated from the client's body; keep it when one may come (or when a
  // fallback may rewrite it and the fingerprint needs the original).
  // (The first hop rewrites it too when the route names an upstream model: the fingerprint,
  // taken later when the client leaves, must not point into a body since replaced.)
  const bool rewritten = route.size() > 1 || !route.front().model.empty();
  const std::string client_body = any_openai || (resumable_stream && rewritten) ? ureq.body : std::string();
  if (resumable_stream) {
    ex.owner = owner_of(req, ex);
    ex.fingerprint_body = client_body.empty() ? std::string_view(ureq.body) : std::string_view(client_body);
    ex.fingerprint_req = &req;
    if (co_await try_transparent_resume(req, w, ex)) {
      log(req, w, ex);
      co_return;
    }
  }

  // A client that leaves cancels the upstream exchange at once, not at the next write.
  ureq.live = &ex.connecting;
  ex.upstream_request = &ureq;
  watch_client(w, ex);
  struct Unwatch {
    http::ResponseWriter& w;
    ~Unwatch() { w.unwatch(); }
  } unwatch{w};

  const auto deadline = deps_.clock.now() + first->deployments().front()->client->timeouts().total;

  std::optional<Error> last_error;
  for (std::size_t hop = 0; hop < route.size(); ++hop) {
    upstream::Provider& provider = *route[hop].provider;
    bool last_hop = hop + 1 == route.size();
    if (provider.speaks_openai() && ex.local_count) {
      // count_tokens on a fallback that cannot count: the estimate, never a billed completion.
      co_await answer_count_locally(req, w, ex, "no_upstream_endpoint");
      co_return;
    }
    if (provider.speaks_openai() && ex.model.empty()) {
      // Only model requests translate; /v1/models and the like need an Anthropic provider.
      if (last_hop) break;
      continue;
    }
    // The model this hop is asked for is the one its answer is priced as.
    ex.charge.price_model = route[hop].model;
    if (provider.speaks_openai()) {
      // The Claude Code path to an OpenAI-compatible model: the request in its dialect.
      translate::ChatRequestOptions options{route[hop].model.empty() ? ex.model : route[hop].model, ex.max_tokens_cap};
      auto translated = translate::messages_to_chat(client_body, options);
      if (!translated.ok()) {
        Error e = translated.error();
        co_await reply_error(req, w, ex, e);
        co_return;
      }
      ureq.body = std::move(translated.value().body);
      ureq.target = "/chat/completions";
      ex.translation.emplace();
      ex.translation->tools = std::move(translated.value().tools);
    } else {
      if (ex.translation) {
        ureq.body = client_body;
        ureq.target = anthropic_target;
        ex.translation.reset();
      }
      if (!route[hop].model.empty() && !rewrite_model(ureq.body, route[hop].model)) break;
    }
    // Recovery of a stream that breaks mid-way: Anthropic upstreams only, for models that take a
    // prefill, when the route (or the default) asks for it.
    {
      const std::string& sent_model = route[hop].model.empty() ? ex.model : route[hop].model;
      ex.recovery = ex.stream && !provider.speaks_openai() && ex.route_recover.value_or(streams_.recovery) &&
                    takes_prefill(sent_model);
    }
    ex.hop_provider = provider.name();
    provider.budget().on_request();
    upstream::Deployment* failed = nullptr;  // a retry prefers another deployment
    for (int attempt = 1;; ++attempt) {
      if (ex.client_gone) {
        ex.error = "client_gone";
        log(req, w, ex);
        co_return;
      }
      auto pick = provider.pick(failed);
      if (!pick.deployment) {
        // Every breaker is open: fail fast (or fall back) instead of queueing on a dead upstream.
        last_error = Error{ErrorKind::UpstreamOverloaded,
                           "upstream " + provider.name() + " is unavailable (circuit breaker open); retry in " +
                               std::to_string((pick.retry_in.count() + 999) / 1000) + " s",
                           "breaker open"};
        ex.retry_after_s = static_cast<int>((pick.retry_in.count() + 999) / 1000);
        break;
      }
      upstream::Deployment& d = *pick.deployment;
      Outstanding outstanding{d};
      ureq.headers.clear();
      if (ex.translation) {
        render_openai_request_headers(req.msg.base(), d.api_key, ureq.headers);
        translate::StreamOptions so{ex.model, ex.translation_input, &ex.translation->tools};
        ex.translation->stream = std::make_unique<translate::ChatToMessagesStream>(std::move(so));
      } else {
        render_upstream_request_headers(req.msg.base(), d.api_key, ureq.headers, ex.charge.key != nullptr);
        // OpenAI clients send no anthropic-version; the API requires one.
        if ((ex.openai_client || ex.openai_models) && req.msg.find("anthropic-version") == req.msg.end()) {
          http::append_field(ureq.headers, "anthropic-version", "2023-06-01");
        }
      }
      if (ex.openai_client) ex.to_openai = std::make_unique<translate::MessagesToChatStream>(*ex.openai_client);
      ex.provider = d.label;
      if (!ex.upstream_start) ex.upstream_start = http::Clock::now();
      auto sent = co_await d.client->send(req.worker, ureq);
      ex.attempts += ureq.attempts;
      auto count_attempt = [&](const char* outcome) {
        accounting_->metrics().attempts.inc({provider.name(), outcome});
      };
      if (ex.client_gone) {
        count_attempt("cancelled");
        // Cancelled by us: says nothing about the upstream's health.
        if (pick.probe) d.breaker.release_probe();
        ex.error = "client_gone";
        log(req, w, ex);
        co_return;
      }

      upstream::AttemptOutcome outcome;
      upstream::UpstreamResponsePtr res;
      StreamResult stream;
      if (!sent.ok()) {
        count_attempt("transport_error");
        record(d, false, pick.probe);
        outcome.transport = sent.error().kind;
        last_error = sent.error();
      } else {
        res = std::move(sent.value());
        ex.current = res.get();
        ex.upstream_status = static_cast<int>(res->status());
        if (auto rid = res->head().find("request-id"); rid != res->head().end()) {
          ex.upstream_request_id = std::string(rid->value());
        }
        auto ct = res->head()[bhttp::field::content_type];
        bool sse = is_event_stream({ct.data(), ct.size()});
        if (res->status() < 400 && !sse) {
          bool ok = co_await relay_whole(req, *res, w, ex);
          count_attempt(ok ? "success" : "transport_error");
          record(d, ok || ex.client_gone, pick.probe);
          ex.current = nullptr;
          log(req, w, ex);
          co_return;
        }
        if (res->status() < 400) {
          ex.stream = true;
          co_await relay_stream(req, *res, w, ex, stream);
          if (stream.recover) {
            // Broke after the client got content: continue it with a prefill (recovery.cpp).
            count_attempt("stream_broken");
            record(d, false, pick.probe);
            co_await recover_stream(req, w, ex, ureq, d, stream);
            ex.current = nullptr;
            log(req, w, ex);
            co_return;
          }
          if (stream.committed || ex.client_gone) {
            count_attempt(ex.client_gone && !ex.detached ? "cancelled" : stream.failure ? "stream_broken" : "success");
            record(d, !stream.failure.has_value(), pick.probe);
            ex.current = nullptr;
            log(req, w, ex);
            co_return;
          }
          record(d, false, pick.probe);
          count_attempt(stream.failure ? "transport_error" : "inband_error");
          outcome.status = ex.upstream_status;
          if (stream.failure) {
            outcome.transport = stream.failure->kind;
            last_error = stream.failure;
          } else {
            outcome.inband_error_type = stream.inband_error_type;
          }
        } else {
          record(d, res->status() < 500, pick.probe);
          auto status = res->status();
          count_attempt(status == 429 ? "status_429" : status >= 500 ? "status_5xx" : "status_4xx");
          outcome.status = static_cast<int>(res->status());
          outcome.hints = upstream::retry_hints(res->head(), deps_.clock);
          last_error.reset();
        }
      }

      auto decision = upstream::decide(outcome, attempt, deadline, provider.retry(), deps_.clock, provider.random());
      if (decision.retry && !provider.budget().try_retry()) {
        decision.retry = false;
        decision.reason = "budget";
      }
      if (decision.retry) {
        accounting_->metrics().retries.inc({provider.name()});
        failed = &d;
        ex.current = nullptr;
        res.reset();  // an unread error body: the connection is closed, not pooled
        co_await sleep_for(decision.wait, ex.retry_wait);
        continue;
      }
      bool failover = !last_hop && is_failure_worth_failover(outcome);
      if (failover) break;  // to the next hop

      // Giving up on this request: the client gets the upstream's own answer where there is
      // one (status, headers, body or held stream), else sluice's error.
      // Retries were spent (or refused by the budget): tell the client not to add its own.
      bool spent = attempt > 1 || std::string_view(decision.reason) == "budget";
      ex.exhausted = spent && provider.retry().exhausted_should_retry_false;
      if (res && res->status() >= 400 && ex.local_count && cannot_count(res->status())) {
        ex.current = nullptr;
        res.reset();
        co_await answer_count_locally(req, w, ex, "upstream_error");
        co_return;
      }
      if (res && res->status() >= 400) {
        co_await relay_whole(req, *res, w, ex);
        ex.current = nullptr;
        log(req, w, ex);
        co_return;
      }
      if (res && stream.failure == std::nullopt) {
        co_await flush_held(req, *res, w, ex, stream);
        ex.current = nullptr;
        log(req, w, ex);
        co_return;
      }
      ex.current = nullptr;
      if (ex.local_count) {
        co_await answer_count_locally(req, w, ex, "upstream_error");
        co_return;
      }
      Error e = last_error.value_or(Error{ErrorKind::UpstreamFailed, "upstream failed", {}});
      co_await reply_error(req, w, ex, e);
      co_return;
    }
  }
  if (ex.local_count) {
    co_await answer_count_locally(req, w, ex, "upstream_error");
    co_return;
  }
  ex.exhausted = ex.attempts > 1 && providers_.front()->retry().exhausted_should_retry_false;
  Error e = last_error.value_or(Error{ErrorKind::UpstreamFailed, "no upstream could serve the request", {}});
  co_await reply_error(req, w, ex, e);
}

}  // namespace sluice::server
