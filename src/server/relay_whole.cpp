// Relaying a whole (not streamed) upstream answer to the client: byte for byte, or translated
// between the Anthropic and OpenAI dialects (translate/), errors included. Streams: relay.cpp.
#include <array>
#include <strings.h>

#include "http/wire.hpp"
#include "providers/anthropic/error_body.hpp"
#include "server/exchange.hpp"
#include "translate/chat_response.hpp"
#include "translate/message_response.hpp"
#include "translate/models.hpp"

namespace sluice::server {

namespace {

constexpr std::size_t kReadChunk = 16 * 1024;
// Non-streaming bodies up to this size are sent in one write with the head.
constexpr std::uint64_t kWholeBodyLimit = 1024 * 1024;

// Response fields with the upstream's content-type replaced by JSON's: a translated error is
// JSON whatever the upstream sent (an HTML 502 from a proxy).
std::string json_fields(const std::string& fields) {
  std::string out;
  std::size_t at = 0;
  while (at < fields.size()) {
    std::size_t end = fields.find("\r\n", at);
    if (end == std::string::npos) end = fields.size();
    const std::string_view line(fields.data() + at, end - at);
    if (!(line.size() >= 13 && strncasecmp(line.data(), "content-type:", 13) == 0)) {
      out.append(line);
      out += "\r\n";
    }
    at = end + 2;
  }
  http::append_field(out, "content-type", "application/json");
  return out;
}

}  // namespace

net::awaitable<bool> Gateway::relay_body(const http::Request& req, upstream::UpstreamResponse& res,
                                         http::ResponseWriter& w, Exchange& ex) {
  std::string fields = response_fields(req, res, ex);
  std::string reason(res.head().reason());
  auto length = res.parser().content_length();
  std::array<char, kReadChunk> buf;
  if (length && *length <= kWholeBodyLimit) {
    // Small bodies (every JSON answer and error) go out in one write with their head.
    std::string body;
    body.reserve(*length);
    for (;;) {
      auto got = co_await res.read(buf.data(), buf.size());
      if (!got.ok()) {
        ex.error = kind_name(got.error().kind);
        if (ex.client_gone) co_return false;
        auto err = error_reply(req, ex, got.error());
        co_await w.send(std::move(err));
        co_return false;
      }
      if (got.value() == 0) break;
      body.append(buf.data(), got.value());
    }
    if (res.status() < 300) ex.charge.body_usage = stages::meter::usage_from_message(body);
    accounting_->release(ex.charge, ex.model);
    co_await w.send_raw(res.status(), reason, fields, body);
    co_return true;
  }
  std::optional<std::uint64_t> streamed_length;
  if (length) streamed_length = *length;
  if (!co_await w.start_raw(res.status(), reason, fields, streamed_length)) co_return true;
  for (;;) {
    auto got = co_await res.read(buf.data(), buf.size());
    if (!got.ok()) {
      // The status is frozen; cutting the connection is the only honest signal left.
      ex.error = kind_name(got.error().kind);
      w.abort();
      co_return false;
    }
    if (got.value() == 0) break;
    if (!co_await w.write({buf.data(), got.value()})) {
      ex.error = "client_gone";
      co_return true;
    }
  }
  accounting_->release(ex.charge, ex.model);
  co_await w.finish();
  co_return true;
}

net::awaitable<bool> Gateway::relay_whole(const http::Request& req, upstream::UpstreamResponse& res,
                                          http::ResponseWriter& w, Exchange& ex) {
  if (ex.translation) co_return co_await relay_translated_body(req, res, w, ex);
  if (ex.openai_client || ex.openai_models) co_return co_await relay_body_to_openai(req, res, w, ex);
  co_return co_await relay_body(req, res, w, ex);
}

net::awaitable<bool> Gateway::read_answer(const http::Request& req, upstream::UpstreamResponse& res,
                                          http::ResponseWriter& w, Exchange& ex, std::string& body) {
  // Small enough to hold: a whole answer or error to translate (a request body is capped the same).
  constexpr std::size_t kMaxAnswer = 32 * 1024 * 1024;
  std::array<char, kReadChunk> buf;
  for (;;) {
    auto got = co_await res.read(buf.data(), buf.size());
    if (!got.ok() || body.size() > kMaxAnswer) {
      Error e = got.ok() ? Error{ErrorKind::UpstreamFailed, "the upstream answer exceeded 32 MiB", "upstream_too_large"}
                         : got.error();
      ex.error = kind_name(e.kind);
      if (ex.client_gone) co_return false;
      auto err = error_reply(req, ex, e);
      accounting_->release(ex.charge, ex.model);
      co_await w.send(std::move(err));
      co_return false;
    }
    if (got.value() == 0) co_return true;
    body.append(buf.data(), got.value());
  }
}

net::awaitable<bool> Gateway::relay_translated_body(const http::Request& req, upstream::UpstreamResponse& res,
                                                    http::ResponseWriter& w, Exchange& ex) {
  std::string body;
  if (!co_await read_answer(req, res, w, ex, body)) co_return false;
  std::string fields = response_fields(req, res, ex);
  if (res.status() >= 400) {
    // The upstream's error in the Anthropic dialect: status and type mapped, its message kept.
    auto e = translate::chat_error_to_anthropic(static_cast<int>(res.status()), body);
    ex.error = "upstream_" + e.type;
    accounting_->release(ex.charge, ex.model);
    if (ex.openai_client) {
      // An OpenAI client on an OpenAI provider (translated twice): its own error shape.
      auto oe = translate::anthropic_error_to_openai(
          e.status, providers::anthropic::error_body(e.type, e.message, req.request_id));
      co_await w.send_raw(static_cast<unsigned>(oe.status), "", json_fields(fields), oe.body);
      co_return true;
    }
    const std::string error = providers::anthropic::error_body(e.type, e.message, req.request_id);  // named: docs/cpp-pitfalls.md
    co_await w.send_raw(static_cast<unsigned>(e.status), e.status == 529 ? "Overloaded" : "", json_fields(fields), error);
    co_return true;
  }
  translate::StreamOptions options{ex.model, ex.translation_input, &ex.translation->tools};
  auto message = translate::chat_to_message(body, options);
  if (!message.ok()) {
    ex.error = message.error().detail;
    auto err = error_reply(req, ex, message.error());
    accounting_->release(ex.charge, ex.model);
    co_await w.send(std::move(err));
    co_return false;
  }
  ex.charge.body_usage = stages::meter::usage_from_message(message.value());
  ex.charge.usage_guessed = !translate::chat_has_usage(body);
  accounting_->release(ex.charge, ex.model);
  if (ex.openai_client) {
    auto chat = translate::message_to_chat_completion(message.value(), ex.openai_client->model, ex.openai_client->created);
    if (chat.ok()) {
      co_await w.send_raw(res.status(), "", fields, chat.value());
      co_return true;
    }
  }
  co_await w.send_raw(res.status(), "", fields, message.value());
  co_return true;
}

net::awaitable<bool> Gateway::relay_body_to_openai(const http::Request& req, upstream::UpstreamResponse& res,
                                                   http::ResponseWriter& w, Exchange& ex) {
  std::string body;
  if (!co_await read_answer(req, res, w, ex, body)) co_return false;
  std::string fields = response_fields(req, res, ex);
  if (res.status() >= 400) {
    auto e = translate::anthropic_error_to_openai(static_cast<int>(res.status()), body);
    ex.error = "upstream_error";
    accounting_->release(ex.charge, ex.model);
    co_await w.send_raw(static_cast<unsigned>(e.status), "", json_fields(fields), e.body);
    co_return true;
  }
  if (ex.openai_models) {
    auto list = translate::anthropic_models_to_openai(body);
    if (!list.ok()) {
      ex.error = list.error().detail;
      auto err = error_reply(req, ex, list.error());
      co_await w.send(std::move(err));
      co_return false;
    }
    co_await w.send_raw(res.status(), "", fields, list.value());
    co_return true;
  }
  ex.charge.body_usage = stages::meter::usage_from_message(body);
  auto chat = translate::message_to_chat_completion(body, ex.openai_client->model, ex.openai_client->created);
  accounting_->release(ex.charge, ex.model);
  if (!chat.ok()) {
    ex.error = chat.error().detail;
    auto err = error_reply(req, ex, chat.error());  // named: see docs/cpp-pitfalls.md
    co_await w.send(std::move(err));
    co_return false;
  }
  co_await w.send_raw(res.status(), "", fields, chat.value());
  co_return true;
}

}  // namespace sluice::server
