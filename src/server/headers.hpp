#pragma once
// Header rules of the passthrough (wire-protocols.md §1.2, §3.3): which client headers go
// upstream, how credentials are replaced, and which upstream headers come back. Both directions
// render straight into "Name: value\r\n" lines (http/wire.hpp) without building an intermediate
// fields object: that copying was a fifth of the gateway's CPU per request. Pure functions.

#include <string>
#include <string_view>

#include <boost/beast/http/fields.hpp>

namespace sluice::upstream {
class ResponseHead;  // upstream/response_head.hpp
}  // namespace sluice::upstream

namespace sluice::server {

namespace bhttp = boost::beast::http;

// The hop-by-hop headers of one message (RFC 9110 §7.6.1): the fixed list plus those its own
// Connection header names. Built once per message; is() is then a switch for known fields.
class HopByHop {
 public:
  // `Fields`: the client request's bhttp::fields or an upstream response's head.
  template <class Fields>
  explicit HopByHop(const Fields& message) {
    for (const auto& f : message) {
      if (f.name() == bhttp::field::connection) add_connection_tokens({f.value().data(), f.value().size()});
    }
  }
  template <class Field>
  bool is(const Field& f) const {
    return is(f.name(), {f.name_string().data(), f.name_string().size()});
  }
  bool is(bhttp::field name, std::string_view name_string) const;

 private:
  void add_connection_tokens(std::string_view value);
  std::string named_;  // the Connection header's extra tokens, lower-case, comma-separated
};

// Client request headers to send upstream: end-to-end headers unchanged (anthropic-version,
// anthropic-beta, x-stainless-*, user agent, unknown ones), minus hop-by-hop, Host,
// Content-Length and Expect. Upstream compression is refused (accept-encoding: identity)
// because sluice reads usage from response bodies. When `provider_key` is not empty it replaces
// the client's x-api-key / Authorization; otherwise the client's credentials are forwarded,
// unless `drop_client_credentials` (the client authenticated with a sluice key, which must
// never reach a provider).
void render_upstream_request_headers(const bhttp::fields& client, std::string_view provider_key, std::string& out,
                                     bool drop_client_credentials = false);

// Request headers for an OpenAI-compatible upstream (a translated request): the client's
// end-to-end headers minus its credentials, the Anthropic ones (anthropic-*) and the framing
// ones, then `authorization: Bearer <provider_key>` when the provider has a key. A client's
// Anthropic key never reaches another vendor.
void render_openai_request_headers(const bhttp::fields& client, std::string_view provider_key, std::string& out);

// Upstream response headers to return to the client: everything end-to-end (request-id,
// anthropic-ratelimit-*, retry-after, content-type, ...) minus hop-by-hop and the framing ones
// (the writer sets them).
void render_response_headers(const upstream::ResponseHead& upstream, std::string& out);
void render_response_headers(const bhttp::fields& upstream, std::string& out);

// True when the Content-Type is application/json (any parameters, any case).
bool is_json_content_type(std::string_view content_type);
// True when the Content-Type is text/event-stream.
bool is_event_stream(std::string_view content_type);

}  // namespace sluice::server
