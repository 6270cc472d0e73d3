#pragma once
// Header rules of the passthrough (wire-protocols.md §1.2, §3.3): which client headers go
// upstream, how credentials are replaced, and which upstream headers come back. Pure functions.

#include <string>
#include <string_view>

#include <boost/beast/http/fields.hpp>

namespace sluice::server {

namespace bhttp = boost::beast::http;

// Hop-by-hop headers (RFC 9110 §7.6.1) plus those named in the message's own Connection header.
bool is_hop_by_hop(std::string_view name, const bhttp::fields& message);

// Headers to send upstream for a client request: end-to-end headers unchanged (anthropic-version,
// anthropic-beta, x-stainless-*, user agent, unknown ones), minus hop-by-hop, Host, Content-Length
// and Expect. Upstream compression is refused (accept-encoding: identity) because sluice reads
// usage from response bodies. When `provider_key` is not empty it replaces the client's
// x-api-key / Authorization; otherwise the client's credentials are forwarded.
bhttp::fields upstream_request_headers(const bhttp::fields& client, std::string_view provider_key);

// Headers to return to the client from an upstream response: everything end-to-end (request-id,
// anthropic-ratelimit-*, retry-after, content-type, ...) minus hop-by-hop and Content-Length
// (the writer sets the framing).
void copy_response_headers(const bhttp::fields& upstream, bhttp::fields& out);

// True when the Content-Type is application/json (any parameters, any case).
bool is_json_content_type(std::string_view content_type);
// True when the Content-Type is text/event-stream.
bool is_event_stream(std::string_view content_type);

}  // namespace sluice::server
