#include "upstream/endpoint.hpp"

#include "http/url.hpp"

namespace sluice::upstream {

std::optional<Endpoint> parse_endpoint(std::string_view url, std::string& error) {
  std::string why;
  auto u = http::parse_http_url(url, /*allow_query=*/false, why);
  if (!u) {
    error = "base URL '" + std::string(url) + "': " + why;
    return std::nullopt;
  }
  Endpoint ep;
  ep.tls = u->tls;
  ep.host = std::move(u->host);
  ep.port = std::move(u->port);
  ep.host_header = std::move(u->host_header);
  ep.base_path = std::move(u->path);
  while (!ep.base_path.empty() && ep.base_path.back() == '/') ep.base_path.pop_back();
  return ep;
}

}  // namespace sluice::upstream
