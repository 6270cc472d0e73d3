// Upstream stream recovery (issue 6 item 5, docs/resume.md): a stream that broke after the
// client got content is asked for again with the text so far as an assistant prefill, and the
// continuation is spliced into the same client stream (server/stream_splice.hpp). Only for
// text: the relay hands a stream over only when StreamSplice finds nothing a prefill cannot carry.
#include <cstdio>

#include "common/glob.hpp"
#include "http/wire.hpp"
#include "server/exchange.hpp"
#include "server/headers.hpp"

namespace sluice::server {

bool Gateway::takes_prefill(std::string_view model) const {
  for (const auto& pattern : streams_.prefill_models) {
    if (glob_match(pattern, model)) return true;
  }
  return false;
}

net::awaitable<void> Gateway::recover_stream(http::Request& req, http::ResponseWriter& w, Exchange& ex,
                                             upstream::UpstreamRequest& ureq, upstream::Deployment& d,
                                             StreamResult& broken) {
  StreamResult last = std::move(broken);
  // The broken attempts' output is estimated from their text: their final count never came.
  ex.charge.usage_guessed = true;
  for (;;) {
    const int attempt = ++ex.charge.recoveries + 1;  // the first continuation is attempt 2
    const std::string cause = last.failure ? last.failure->message : std::string("upstream stream broke");
    std::fprintf(stderr,
                 "{\"event\":\"stream_recovery\",\"request_id\":\"%s\",\"attempt\":%d,\"prefill_bytes\":%zu,"
                 "\"cause\":\"%s\"}\n",
                 req.request_id.c_str(), attempt, ex.splice->text().size(),
                 kind_name(last.failure ? last.failure->kind : ErrorKind::UpstreamFailed));
    upstream::UpstreamRequest creq;
    creq.method = ureq.method;
    creq.target = ureq.target;
    creq.headers = ureq.headers;
    creq.body = continuation_body(ureq.body, ex.splice->text(), ex.splice->output_so_far(), ex.splice->thinking());
    creq.streaming = true;
    creq.live = &ex.connecting;
    if (creq.body.empty()) {
      accounting_->metrics().recoveries.inc({"failed"});
      co_await end_broken_stream(w, ex, last);
      co_return;
    }
    auto sent = co_await d.client->send(req.worker, creq);
    ex.attempts += creq.attempts;
    if (ex.client_gone && !ex.detached) co_return;
    upstream::UpstreamResponsePtr res;
    if (sent.ok()) {
      res = std::move(sent.value());
      auto ct = res->head()[bhttp::field::content_type];
      if (res->status() >= 400 || !is_event_stream({ct.data(), ct.size()})) {
        // The continuation was refused (a model without prefill says 400): the stream ends honestly.
        last.failure = Error{ErrorKind::UpstreamFailed,
                             cause + "; the continuation was refused with HTTP " + std::to_string(res->status()),
                             last.failure ? last.failure->detail : std::string()};
        res.reset();
      }
    } else {
      last.failure = Error{sent.error().kind, cause + "; the continuation failed: " + sent.error().message, {}};
    }
    if (!res) {
      d.breaker.record(false, false);
      accounting_->metrics().recoveries.inc({"failed"});
      co_await end_broken_stream(w, ex, last);
      co_return;
    }
    ex.current = res.get();
    ex.splice->begin(attempt);
    StreamResult next;
    next.committed = true;
    next.continuation = true;
    co_await relay_stream(req, *res, w, ex, next);
    ex.current = nullptr;
    if (!next.recover) {
      d.breaker.record(!next.failure.has_value(), false);
      accounting_->metrics().recoveries.inc({next.failure ? "failed" : "recovered"});
      if (!next.failure) ex.error.clear();  // the client got a whole answer
      co_return;
    }
    d.breaker.record(false, false);
    last = std::move(next);  // broke again: another continuation, while attempts last
  }
}

}  // namespace sluice::server
