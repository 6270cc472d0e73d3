#pragma once
// A server-side Lua script: run by EVALSHA (only the 40-byte digest goes over the wire), with a
// fallback to EVAL when Redis answers NOSCRIPT (a restarted or flushed Redis), which also puts
// the script back in Redis's cache. Immutable after construction; thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "redis/connection.hpp"

namespace sluice::redis {

class Script {
 public:
  explicit Script(std::string source);

  // Runs the script with `keys` (KEYS[]) and `args` (ARGV[]) on `conn`.
  Result<Reply> run(Connection& conn, const std::vector<std::string>& keys, const std::vector<std::string>& args) const;
  const std::string& sha1() const { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;  // lowercase hex, as SCRIPT LOAD returns it
};

}  // namespace sluice::redis
