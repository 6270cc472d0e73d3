#include "stages/ratelimit/redis_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "stages/ratelimit/redis_scripts.hpp"

namespace sluice::stages::ratelimit {

namespace {

// Numbers go to Lua as text; "%.17g" keeps every bit of a double.
std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string opt_num(const std::optional<double>& v) { return v ? num(*v) : std::string("-1"); }
std::string opt_int(const std::optional<int>& v) { return v ? std::to_string(*v) : std::string("-1"); }

void add_limits(std::vector<std::string>& args, const SharedTicket& t) {
  for (const auto& s : t.scopes) {
    args.push_back(opt_num(s.limits.rpm));
    args.push_back(opt_num(s.limits.tpm));
    args.push_back(opt_int(s.limits.concurrency));
  }
}

Error script_error(const redis::Reply& r, const char* which) {
  return Error{ErrorKind::Unavailable, std::string("redis: the ") + which + " script failed: " + r.str, {}};
}

}  // namespace

RedisLimiter::RedisLimiter(redis::Connection& conn, std::string prefix, std::chrono::milliseconds lease)
    : conn_(conn), prefix_(std::move(prefix)), lease_(lease), admit_(admit_script()), settle_(settle_script()) {}

std::vector<std::string> RedisLimiter::keys_of(const SharedTicket& ticket) const {
  std::vector<std::string> keys;
  keys.reserve(ticket.scopes.size() * 3 + 1);
  for (const auto& s : ticket.scopes) {
    keys.push_back(prefix_ + s.id + ":rpm");
    keys.push_back(prefix_ + s.id + ":tpm");
    keys.push_back(prefix_ + s.id + ":conc");
  }
  return keys;
}

Result<RedisLimiter::Decision> RedisLimiter::admit(const SharedTicket& ticket) {
  std::vector<std::string> args{ticket.member, num(ticket.tokens), std::to_string(lease_.count()),
                                std::to_string(ticket.scopes.size())};
  add_limits(args, ticket);
  auto r = admit_.run(conn_, keys_of(ticket), args);
  if (!r.ok()) return r.error();
  const auto& reply = r.value();
  if (reply.is_error()) return script_error(reply, "admission");
  const auto& e = reply.elements;
  if (reply.type != redis::Reply::Type::Array || e.empty()) {
    return Error{ErrorKind::Unavailable, "redis: unexpected reply to the admission script", {}};
  }
  Decision d;
  if (e[0].integer == 1) {
    d.admitted = true;
    return d;
  }
  if (e.size() < 5) return Error{ErrorKind::Unavailable, "redis: short reply to the admission script", {}};
  auto scope = static_cast<std::size_t>(e[1].integer);
  if (scope >= ticket.scopes.size()) return Error{ErrorKind::Unavailable, "redis: bad scope in a refusal", {}};
  const auto& refused = ticket.scopes[scope];
  d.refusal.limit = e[2].integer == 1 ? LimitKind::Rpm : e[2].integer == 2 ? LimitKind::Tpm : LimitKind::Concurrency;
  d.refusal.scope = refused.id.starts_with("k:") ? "key" : "project";
  d.refusal.retry_after = std::chrono::milliseconds(e[3].integer);
  d.refusal.never_fits = e[4].integer == 1;
  d.refusal.capacity = capacity_of(refused.limits, d.refusal.limit);
  return d;
}

Result<bool> RedisLimiter::settle(const SharedTicket& ticket, double actual) {
  auto keys = keys_of(ticket);
  keys.push_back(prefix_ + "settled:" + ticket.member);
  // A settlement is retried only while Redis is unreachable; two minutes of memory of it bound
  // the keys it leaves behind (a bucket refills completely within one minute anyway).
  const auto marker = std::min<std::chrono::milliseconds::rep>(lease_.count(), 120'000);
  std::vector<std::string> args{ticket.member, num(ticket.tokens), num(actual), std::to_string(ticket.scopes.size()),
                                std::to_string(marker)};
  add_limits(args, ticket);
  auto r = settle_.run(conn_, keys, args);
  if (!r.ok()) return r.error();
  if (r.value().is_error()) return script_error(r.value(), "settlement");
  return r.value().integer == 1;
}

Result<bool> RedisLimiter::ping() {
  auto r = conn_.command({"PING"});
  if (!r.ok()) return r.error();
  if (r.value().is_error()) return Error{ErrorKind::Unavailable, "redis: PING refused: " + r.value().str, {}};
  return true;
}

}  // namespace sluice::stages::ratelimit
