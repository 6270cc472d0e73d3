#pragma once
// An http:// or https:// URL taken apart for a client connection: where to connect, the Host
// header, and the path. Shared by the upstream endpoints and the alert webhook. Pure; thread-safe.

#include <optional>
#include <string>
#include <string_view>

namespace sluice::http {

struct HttpUrl {
  bool tls = false;
  std::string host;         // name or address, without IPv6 brackets
  std::string port;         // numeric, defaulted from the scheme
  std::string host_header;  // host (IPv6 in brackets), plus ":port" when not the scheme's default
  std::string path;         // as encoded in the URL; may be empty
  std::string query;        // as encoded, without '?'; empty when none
  bool has_query = false;
};

// Parses `url`. Credentials and fragments are refused, a query only when `allow_query`. On
// failure returns nullopt and sets `error` (which does not repeat the URL: it may hold a secret).
std::optional<HttpUrl> parse_http_url(std::string_view url, bool allow_query, std::string& error);

}  // namespace sluice::http
