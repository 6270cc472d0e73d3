#pragma once
// redis://[:password@]host[:port][/db] for the scale-out engines' config. Pure; thread-safe.

#include <optional>
#include <string>
#include <string_view>

namespace sluice::redis {

struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;  // empty = no AUTH
  int db = 0;
};

// The endpoint of `url`, or an error message saying what is wrong with it.
std::optional<Endpoint> parse_url(std::string_view url, std::string& error);

}  // namespace sluice::redis
