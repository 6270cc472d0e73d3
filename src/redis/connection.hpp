#pragma once
// One blocking connection to Redis (hiredis 0.14, RESP2) with a bound on every wait: connect,
// each write and each read time out after `timeout`. A transport failure drops the connection;
// the next command reconnects (AUTH and SELECT included). A Redis error reply is a Reply of type
// Error, not a failure: the connection stays usable.
// Not thread-safe: one thread at a time (the shared limiter keeps one on its own thread). Never
// use it from an I/O thread: a command may wait up to `timeout`.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "redis/url.hpp"

struct redisContext;

namespace sluice::redis {

struct Reply {
  enum class Type { Nil, Integer, String, Status, Error, Array };
  Type type = Type::Nil;
  long long integer = 0;
  std::string str;  // String, Status and Error
  std::vector<Reply> elements;

  bool is_error() const { return type == Type::Error; }
};

class Connection {
 public:
  Connection(Endpoint endpoint, std::chrono::milliseconds timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends `argv` and waits for the reply. An Unavailable error when Redis cannot be reached or
  // did not answer within the timeout (the connection is then closed).
  Result<Reply> command(const std::vector<std::string_view>& argv);
  bool connected() const { return ctx_ != nullptr; }
  void disconnect();
  const Endpoint& endpoint() const { return endpoint_; }

 private:
  Result<bool> connect();
  Error failure(std::string what);

  Endpoint endpoint_;
  std::chrono::milliseconds timeout_;
  redisContext* ctx_ = nullptr;
};

}  // namespace sluice::redis
