#include "redis/connection.hpp"

#include <sys/time.h>

#include <hiredis/hiredis.h>

namespace sluice::redis {

namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

Reply convert(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::Integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      out.type = r->type == REDIS_REPLY_STRING   ? Reply::Type::String
                 : r->type == REDIS_REPLY_STATUS ? Reply::Type::Status
                                                 : Reply::Type::Error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::Array;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default:
      out.type = Reply::Type::Nil;
  }
  return out;
}

}  // namespace

Connection::Connection(Endpoint endpoint, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {}

Connection::~Connection() { disconnect(); }

void Connection::disconnect() {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
}

Error Connection::failure(std::string what) {
  std::string detail = ctx_ && ctx_->errstr[0] ? std::string(ctx_->errstr) : std::string();
  disconnect();
  std::string where = endpoint_.host + ":" + std::to_string(endpoint_.port);
  return Error{ErrorKind::Unavailable, "redis at " + where + ": " + what + (detail.empty() ? "" : ": " + detail), {}};
}

Result<bool> Connection::connect() {
  if (ctx_) return true;
  ctx_ = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, to_timeval(timeout_));
  if (!ctx_) return Error{ErrorKind::Unavailable, "redis: out of memory allocating a connection", {}};
  if (ctx_->err) return failure("cannot connect");
  if (redisSetTimeout(ctx_, to_timeval(timeout_)) != REDIS_OK) return failure("cannot set the timeout");
  auto setup = [&](std::vector<std::string_view> argv) -> std::optional<Error> {
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (auto a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(redisCommandArgv(ctx_, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
    if (!r) return failure(std::string(argv[0]) + " failed");
    bool bad = r->type == REDIS_REPLY_ERROR;
    std::string msg = bad ? std::string(r->str, r->len) : std::string();
    freeReplyObject(r);
    if (bad) return failure(std::string(argv[0]) + " refused: " + msg);
    return std::nullopt;
  };
  if (!endpoint_.password.empty()) {
    if (auto e = setup({"AUTH", endpoint_.password})) return *e;
  }
  if (endpoint_.db != 0) {
    std::string db = std::to_string(endpoint_.db);
    if (auto e = setup({"SELECT", db})) return *e;
  }
  return true;
}

Result<Reply> Connection::command(const std::vector<std::string_view>& argv) {
  if (auto c = connect(); !c.ok()) return c.error();
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (auto a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(redisCommandArgv(ctx_, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
  if (!r) return failure(argv.empty() ? std::string("command failed") : std::string(argv[0]) + " failed");
  Reply out = convert(r);
  freeReplyObject(r);
  return out;
}

}  // namespace sluice::redis
