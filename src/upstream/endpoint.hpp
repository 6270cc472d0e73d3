#pragma once
// Where a provider lives: scheme, host, port and base path, parsed once from its base URL.

#include <optional>
#include <string>
#include <string_view>

namespace sluice::upstream {

struct Endpoint {
  bool tls = false;
  std::string host;
  std::string port;       // numeric, defaulted from the scheme
  std::string base_path;  // without a trailing slash; "" for the root
  std::string host_header;  // host, plus ":port" when not the scheme's default

  // Key of the connection pool: connections are reusable only within the same key.
  std::string pool_key() const { return (tls ? "https://" : "http://") + host + ":" + port; }
};

// Parses an http:// or https:// base URL. On failure returns nullopt and sets `error`.
std::optional<Endpoint> parse_endpoint(std::string_view url, std::string& error);

}  // namespace sluice::upstream
