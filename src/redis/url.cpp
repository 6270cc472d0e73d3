#include "redis/url.hpp"

#include <charconv>

namespace sluice::redis {

namespace {

bool parse_int(std::string_view s, int& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::optional<Endpoint> parse_url(std::string_view url, std::string& error) {
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) {
    error = "expected redis://[:password@]host[:port][/db] (rediss:// and unix sockets are not supported)";
    return std::nullopt;
  }
  url.remove_prefix(kScheme.size());
  Endpoint ep;
  if (auto slash = url.find('/'); slash != std::string_view::npos) {
    auto db = url.substr(slash + 1);
    if (!db.empty() && (!parse_int(db, ep.db) || ep.db < 0)) {
      error = "the database number after '/' must be a non-negative integer";
      return std::nullopt;
    }
    url = url.substr(0, slash);
  }
  if (auto at = url.rfind('@'); at != std::string_view::npos) {
    auto user_info = url.substr(0, at);
    auto colon = user_info.find(':');
    ep.password = std::string(colon == std::string_view::npos ? user_info : user_info.substr(colon + 1));
    url = url.substr(at + 1);
  }
  if (auto colon = url.rfind(':'); colon != std::string_view::npos) {
    if (!parse_int(url.substr(colon + 1), ep.port) || ep.port < 1 || ep.port > 65535) {
      error = "the port must be a number from 1 to 65535";
      return std::nullopt;
    }
    url = url.substr(0, colon);
  }
  if (url.empty()) {
    error = "the host is missing";
    return std::nullopt;
  }
  ep.host = std::string(url);
  return ep;
}

}  // namespace sluice::redis
