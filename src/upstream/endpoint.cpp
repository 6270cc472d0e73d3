#include "upstream/endpoint.hpp"

#include <boost/url/parse.hpp>

namespace sluice::upstream {

std::optional<Endpoint> parse_endpoint(std::string_view url, std::string& error) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    error = "invalid URL '" + std::string(url) + "'";
    return std::nullopt;
  }
  const auto& u = *parsed;
  Endpoint ep;
  std::string scheme(u.scheme());
  if (scheme == "https") {
    ep.tls = true;
  } else if (scheme != "http") {
    error = "unsupported scheme '" + scheme + "' (expected http or https)";
    return std::nullopt;
  }
  ep.host = std::string(u.host_address());
  if (ep.host.empty()) {
    error = "URL '" + std::string(url) + "' has no host";
    return std::nullopt;
  }
  if (u.has_userinfo() || u.has_query() || u.has_fragment()) {
    error = "base URL must not carry credentials, a query or a fragment";
    return std::nullopt;
  }
  std::string default_port = ep.tls ? "443" : "80";
  ep.port = u.has_port() ? std::string(u.port()) : default_port;
  // An IPv6 literal needs its brackets back in the Host header.
  std::string host_for_header =
      u.host_type() == boost::urls::host_type::ipv6 ? "[" + ep.host + "]" : ep.host;
  ep.host_header = ep.port == default_port ? host_for_header : host_for_header + ":" + ep.port;
  ep.base_path = std::string(u.encoded_path());
  while (!ep.base_path.empty() && ep.base_path.back() == '/') ep.base_path.pop_back();
  return ep;
}

}  // namespace sluice::upstream
