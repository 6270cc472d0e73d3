// The admission phase of a model request (POST /v1/messages and count_tokens): validation, the
// token estimate, budgets and rate limits, secret redaction and the long-context guard — each
// refusal answered in the Anthropic dialect before anything goes upstream.
#include <algorithm>
#include <cstdint>

#include <boost/beast/http/string_body.hpp>

#include "providers/anthropic/validate.hpp"
#include "server/exchange.hpp"
#include "server/headers.hpp"
#include "stages/context/request_tokens.hpp"
#include "stages/redact/request_text.hpp"
#include "translate/chat_to_messages.hpp"

namespace sluice::server {

namespace {
using anthropic_kind = providers::anthropic::RequestKind;
}  // namespace

net::awaitable<bool> Gateway::admit_model_request(http::Request& req, http::ResponseWriter& w, Exchange& ex,
                                                  bool messages) {
  ex.charge.metered = true;  // from here on, every outcome gets a ledger row
  if (auto e = check_json_body(req)) {
    co_await reply_error(req, w, ex, *e);
    co_return false;
  }
  auto info = providers::anthropic::validate_request(req.msg.body(),
                                                     messages ? anthropic_kind::Messages : anthropic_kind::CountTokens);
  if (!info.ok()) {
    co_await reply_error(req, w, ex, info.error());
    co_return false;
  }
  ex.model = std::move(info.value().model);
  ex.stream = info.value().stream;
  const std::int64_t max_tokens = info.value().max_tokens;

  // The route: which provider serves this model for this project, under which name.
  auto choice = router_.route(ex.model, ex.charge.project());
  if (!choice) {
    Error e{ErrorKind::NotFound, "model: " + ex.model + " is not served by this gateway", {}};
    co_await reply_error(req, w, ex, e);
    co_return false;
  }
  ex.provider_for_route = choice->provider.empty() ? providers_.front().get() : provider_named(choice->provider);
  ex.upstream_model = std::move(choice->upstream_model);
  ex.max_tokens_cap = choice->max_tokens;
  ex.route_recover = choice->recover;
  if (!ex.upstream_model.empty()) ex.charge.price_model = ex.upstream_model;
  // The window that matters is the upstream model's.
  const std::string& guarded_model = ex.upstream_model.empty() ? ex.model : ex.upstream_model;
  const std::int64_t sent_max_tokens = ex.max_tokens_cap ? std::min(max_tokens, *ex.max_tokens_cap) : max_tokens;

  // The input estimate serves the context guard, the TPM reservation (settled with the real
  // count at the end) and a local count_tokens answer. It reads every byte of the prompt
  // (~0.2 ms for a typical Claude Code request), so it runs only when one of them needs it.
  std::string betas;
  for (auto [it, end] = req.msg.equal_range("anthropic-beta"); it != end; ++it) {
    if (!betas.empty()) betas += ',';
    betas.append(it->value().data(), it->value().size());
  }
  const bool guard = messages && context_.may_overflow(req.msg.body(), guarded_model, sent_max_tokens, betas);
  std::optional<stages::context::RequestTokens> estimate;
  // A translated answer's message_start carries it, and it stands in for a usage never reported.
  if (!messages || guard || accounting_->limits_tokens(ex.charge) || ex.provider_for_route->speaks_openai()) {
    estimate = stages::context::estimate_request(req.msg.body());
  }
  ex.charge.input_estimate = estimate ? estimate->total() : (req.msg.body().size() + 3) / 4;
  if (!messages) ex.local_count = ex.charge.input_estimate;
  // The guard first: a request that cannot fit is refused before it takes a rate-limit slot,
  // and a trimmed one reserves what it will really send.
  if (guard && estimate) {
    if (auto e = guard_context(req, ex, *estimate, guarded_model, sent_max_tokens, betas)) {
      co_await reply_error(req, w, ex, *e);
      co_return false;
    }
  }
  const std::int64_t input = static_cast<std::int64_t>(ex.charge.input_estimate);
  const std::int64_t reserve = !messages ? 0 : max_tokens > INT64_MAX - input ? INT64_MAX : input + max_tokens;
  // The estimate-ratio metric takes real estimates only, of prompts the API does not edit.
  if (!estimate || estimate->edits_context) ex.charge.input_estimate = 0;
  if (estimate && ex.provider_for_route->speaks_openai()) ex.translation_input = estimate->total();
  std::optional<Error> refused;
  co_await accounting_->admit(reserve, ex.charge, ex.extra_headers, refused);
  if (refused) {
    co_await reply_error(req, w, ex, *refused);
    co_return false;
  }
  if (!messages && (context_.count_locally() || ex.provider_for_route->speaks_openai())) {
    // OpenAI-compatible servers have no count_tokens: the estimate is the answer.
    co_await answer_count_locally(req, w, ex, context_.count_locally() ? "configured" : "no_upstream_endpoint");
    co_return false;
  }
  // count_tokens carries the same prompt as the request it sizes: it is redacted the same way.
  if (auto e = redact_body(req, ex)) {
    co_await reply_error(req, w, ex, *e);
    co_return false;
  }
  co_return true;
}

std::optional<Error> Gateway::check_json_body(const http::Request& req) {
  auto ct = req.msg[bhttp::field::content_type];
  if (is_json_content_type({ct.data(), ct.size()})) return std::nullopt;
  return Error{ErrorKind::UnsupportedMediaType, "Content-Type must be application/json, got '" + std::string(ct) + "'", {}};
}

net::awaitable<bool> Gateway::admit_chat_request(http::Request& req, http::ResponseWriter& w, Exchange& ex) {
  // Checked before translating: a body that is not JSON is a 415, not a parse error.
  if (auto e = check_json_body(req)) {
    ex.charge.metered = true;
    co_await reply_error(req, w, ex, *e);
    co_return false;
  }
  // max_tokens is optional for OpenAI clients and required by Anthropic.
  constexpr std::int64_t kDefaultMaxTokens = 4096;
  auto translated = translate::chat_to_messages(req.msg.body(), kDefaultMaxTokens);
  if (!translated.ok()) {
    ex.charge.metered = true;
    Error e = translated.error();
    co_await reply_error(req, w, ex, e);
    co_return false;
  }
  translate::ChatStreamOptions options;
  options.model = translated.value().model;
  options.include_usage = translated.value().include_usage;
  options.created = unix_ms(deps_.clock.wall_now()) / 1000;
  ex.openai_client = std::move(options);
  req.msg.body() = std::move(translated.value().body);
  co_return co_await admit_model_request(req, w, ex, true);
}

std::optional<Error> Gateway::redact_body(http::Request& req, Exchange& ex) {
  if (!redaction_.enabled()) return std::nullopt;
  // Secrets are replaced before anything leaves; the body is re-serialised only when changed.
  auto r = stages::redact::redact_request(req.msg.body(), stages::redact::BodyDialect::Anthropic,
                                          redaction_.engine_for(ex.charge.project()));
  ex.charge.redactions = r.total();
  for (const auto& [type, n] : r.counts) {
    accounting_->metrics().redactions.inc({type}, n);
    if (!ex.charge.redaction_types.empty()) ex.charge.redaction_types += ',';
    ex.charge.redaction_types += type + ":" + std::to_string(n);
  }
  if (!r.blocked) return std::nullopt;
  accounting_->metrics().redaction_blocks.inc({r.blocked_type});
  return Error{ErrorKind::InvalidRequest,
               "the request contains a secret (" + r.blocked_type +
                   ") and this gateway is set to block such requests; remove it and send again",
               {}};
}

std::optional<Error> Gateway::guard_context(http::Request& req, Exchange& ex,
                                            const stages::context::RequestTokens& estimate, const std::string& model,
                                            std::int64_t max_tokens, const std::string& betas) {
  auto trim = req.msg["x-sluice-context-trim"];
  auto v = context_.apply(req.msg.body(), estimate, model, max_tokens, betas, ex.charge.project(),
                          {trim.data(), trim.size()});
  ex.charge.input_estimate = v.input;
  const std::string_view rule = v.rule ? std::string_view(v.rule->pattern) : std::string_view("none");
  if (v.refusal) {
    accounting_->metrics().context_refusals.inc({rule});
    ex.exhausted = true;  // the same request would be refused again: x-should-retry: false
    return v.refusal;
  }
  if (!v.trimmed.empty()) {
    accounting_->metrics().context_trims.inc({rule});
    ex.response_headers.emplace_back("x-sluice-context-trimmed", std::move(v.trimmed));
  }
  return std::nullopt;
}

net::awaitable<void> Gateway::answer_count_locally(http::Request& req, http::ResponseWriter& w, Exchange& ex,
                                                   std::string_view reason) {
  accounting_->metrics().count_tokens_local.inc({reason});
  bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
  res.set(bhttp::field::content_type, "application/json");
  res.set("x-sluice-request-id", req.request_id);
  res.set("x-sluice-token-count", "estimate");
  res.body() = "{\"input_tokens\":" + std::to_string(ex.local_count.value_or(0)) + "}";
  res.prepare_payload();
  accounting_->release(ex.charge, ex.model);
  co_await w.send(std::move(res));
  log(req, w, ex);
}

}  // namespace sluice::server
