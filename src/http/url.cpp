#include "http/url.hpp"

#include <boost/url/parse.hpp>

namespace sluice::http {

std::optional<HttpUrl> parse_http_url(std::string_view url, bool allow_query, std::string& error) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    error = "not a valid absolute URL";
    return std::nullopt;
  }
  const auto& u = *parsed;
  HttpUrl out;
  std::string scheme(u.scheme());
  if (scheme == "https") {
    out.tls = true;
  } else if (scheme != "http") {
    error = "unsupported scheme '" + scheme + "' (expected http or https)";
    return std::nullopt;
  }
  out.host = std::string(u.host_address());
  if (out.host.empty()) {
    error = "the URL has no host";
    return std::nullopt;
  }
  if (u.has_userinfo() || u.has_fragment() || (u.has_query() && !allow_query)) {
    error = allow_query ? "the URL must not carry credentials or a fragment"
                        : "the URL must not carry credentials, a query or a fragment";
    return std::nullopt;
  }
  std::string default_port = out.tls ? "443" : "80";
  out.port = u.has_port() ? std::string(u.port()) : default_port;
  if (out.port.empty()) out.port = default_port;
  std::string host_for_header = u.host_type() == boost::urls::host_type::ipv6 ? "[" + out.host + "]" : out.host;
  out.host_header = out.port == default_port ? host_for_header : host_for_header + ":" + out.port;
  out.path = std::string(u.encoded_path());
  out.has_query = u.has_query();
  if (out.has_query) out.query = std::string(u.encoded_query());
  return out;
}

}  // namespace sluice::http
