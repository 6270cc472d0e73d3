// The index of abandoned streams shared by the replicas (streams.engine: redis): a stream whose
// client left is filed in Redis under its owner and request (SharedStreams::abandoned_key), so
// that the identical retry with which Claude Code and the SDKs answer a dropped stream is answered
// from it on any replica (shared_resume.cpp, try_shared_transparent_resume). Each replica polls
// what was filed, so that a request which is no such retry costs no Redis round trip.
#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <unordered_set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "server/shared_streams.hpp"

namespace sluice::server {

namespace {

constexpr auto kPollAbandonersEvery = std::chrono::milliseconds(100);

// KEYS: an abandoned key, the abandoners set, the stream's meta. ARGV: the stream id, ttl, the
// owner's hash. Files the stream (unless some client had it whole already: the filing may come
// after that), notes the key in its meta for kUnindex, and lists "<owner hash>|<key>" (scored by
// Redis's clock) in the set the replicas poll; entries older than the ttl leave the set.
constexpr const char* kIndex = R"lua(
if redis.call('HGET', KEYS[3], 'whole') == '1' then return 0 end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('HSET', KEYS[3], 'ab', KEYS[1]) end
redis.call('ZADD', KEYS[2], now, ARGV[3] .. '|' .. KEYS[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
)lua";

// KEYS: the abandoners set. ARGV: the window (ms), the newest score seen so far. Redis's clock,
// then the entries (member, score) within the window from that score on.
constexpr const char* kAbandoners = R"lua(
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local from = math.max(now - tonumber(ARGV[1]), tonumber(ARGV[2]))
return {now, redis.call('ZRANGEBYSCORE', KEYS[1], from, '+inf', 'WITHSCORES')}
)lua";

// KEYS: the stream's meta. ARGV: the stream id. A client had the stream whole: marks it so (no
// retry is answered from it any longer, on any replica) and deletes its abandoned key, if that
// still names it. (The key is read from the meta: one Redis, not a cluster.)
constexpr const char* kUnindex = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'whole', '1')
local k = redis.call('HGET', KEYS[1], 'ab')
if k and redis.call('GET', k) == ARGV[1] then redis.call('DEL', k) end
return 1
)lua";

// KEYS: the stream's meta. Whether a client had it whole.
constexpr const char* kWhole = R"lua(
return redis.call('HGET', KEYS[1], 'whole') == '1' and 1 or 0
)lua";

// The scripts above, each with its SHA-1, made once (on first use, by whichever thread).
struct Scripts {
  redis::Script index{kIndex}, unindex{kUnindex}, whole{kWhole}, abandoners{kAbandoners};
};
const Scripts& scripts() {
  static const Scripts s;
  return s;
}

}  // namespace

void SharedStreams::on_abandoned(const stream::ReplayStream& s, const std::string& fingerprint) {
  enqueue(Op{Op::Kind::Index, s.id(), 0, {abandoned_key(s.owner(), fingerprint), owner_hash(s.owner())}});
}

void SharedStreams::on_reclaimed(const stream::ReplayStream& s, const std::string& fingerprint) {
  delivered_whole(s.id(), abandoned_key(s.owner(), fingerprint));
}

void SharedStreams::delivered_whole(const std::string& id, const std::string& key) {
  if (!key.empty()) unfile(key);
  enqueue(Op{Op::Kind::Unindex, id, 0, {}});
}

std::string SharedStreams::abandoned_key(std::string_view owner, std::string_view fingerprint) const {
  std::string basis(owner);
  basis += '\n';
  basis += fingerprint;
  std::string k = prefix_;
  k += "rs:ab:";
  k += owner_hash(basis);
  return k;
}

Result<redis::Reply> SharedStreams::send_filing(const Op& op) {
  if (op.kind == Op::Kind::Index) {
    const std::string ttl = std::to_string(filing_window_ms());
    return scripts().index.run(conn_, {op.args[0], prefix_ + "rs:abandoners", key(op.id)}, {op.id, ttl, op.args[1]});
  }
  return scripts().unindex.run(conn_, {key(op.id)}, {op.id});
}

std::int64_t SharedStreams::filing_window_ms() const {
  // Twice the grace period: a stream may complete up to one grace period after its client left
  // and stays reusable one more; a reader checks which (try_shared_transparent_resume). At least
  // 1 ms: PX 0 is an error.
  return std::max<std::int64_t>(2 * grace_.count(), 1);
}

void SharedStreams::poll_abandoners() {
  if (stopping_) return;
  const std::int64_t window = filing_window_ms();
  if (reachable_.load()) {
    // From the newest score seen on, inclusive, so that entries filed in the same millisecond
    // after the last poll are not missed; the ones at that score seen already are skipped (they
    // may have been unfiled since).
    auto r = scripts().abandoners.run(conn_, {prefix_ + "rs:abandoners"},
                                    {std::to_string(window), std::to_string(polled_to_)});
    record(r.ok() ? nullptr : &r.error());
    if (r.ok() && r.value().type == redis::Reply::Type::Array && r.value().elements.size() == 2) {
      const redis::Reply& a = r.value();
      const std::int64_t now = a.elements[0].integer;
      const auto& entries = a.elements[1].elements;  // member, score, member, score, ...
      std::lock_guard lk(abandoners_mu_);
      if (now < polled_to_) {
        // Redis's clock went back (a failover to another host): the next poll reads it all again.
        polled_to_ = 0;
        polled_edge_.clear();
      }
      std::unordered_set<std::string> edge;  // the members at the newest score of this poll
      std::int64_t newest = polled_to_;
      for (std::size_t i = 0; i + 1 < entries.size(); i += 2) {
        const std::string& member = entries[i].str;
        const std::int64_t at = std::atoll(entries[i + 1].str.c_str());
        if (at > newest) {
          newest = at;
          edge.clear();
        }
        if (at == newest) edge.insert(member);
        if (at == polled_to_ && polled_edge_.count(member)) continue;
        const auto bar = member.find('|');
        if (bar == std::string::npos) continue;
        auto [it, fresh] = filed_.try_emplace(member.substr(bar + 1), Filed{member.substr(0, bar), at});
        if (fresh) {
          ++filers_[it->second.owner];
          filed_count_.store(filed_.size(), std::memory_order_relaxed);
        } else {
          it->second.at = std::max(it->second.at, at);  // the same request's stream, filed again
        }
      }
      if (newest == polled_to_) {
        polled_edge_.insert(edge.begin(), edge.end());
      } else {
        polled_to_ = newest;
        polled_edge_ = std::move(edge);
      }
      for (auto it = filed_.begin(); it != filed_.end();) {
        it = it->second.at >= now - window ? std::next(it) : erase_filed_locked(it);
      }
    }
  }
  poll_timer_.expires_after(kPollAbandonersEvery);
  poll_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) poll_abandoners();
  });
}

bool SharedStreams::may_have_abandoned(std::string_view owner) const {
  // The usual case: nothing filed, no hash to compute and no lock to take. A filing the poll
  // has just added may be missed here once, as it would have been a moment earlier.
  if (filed_count_.load(std::memory_order_relaxed) == 0) return false;
  const std::string h = owner_hash(owner);
  std::lock_guard lk(abandoners_mu_);
  return filers_.count(h) != 0;
}

std::optional<std::int64_t> SharedStreams::filed_at(const std::string& key) const {
  std::lock_guard lk(abandoners_mu_);
  auto it = filed_.find(key);
  if (it == filed_.end()) return std::nullopt;
  return it->second.at;
}

void SharedStreams::unfile(const std::string& key, std::optional<std::int64_t> seen_at) {
  std::lock_guard lk(abandoners_mu_);
  auto it = filed_.find(key);
  if (it == filed_.end() || (seen_at && it->second.at > *seen_at)) return;
  erase_filed_locked(it);
}

SharedStreams::FiledIndex::iterator SharedStreams::erase_filed_locked(FiledIndex::iterator it) {
  if (auto f = filers_.find(it->second.owner); f != filers_.end() && --f->second == 0) filers_.erase(f);
  auto next = filed_.erase(it);
  filed_count_.store(filed_.size(), std::memory_order_relaxed);
  return next;
}

net::awaitable<std::optional<std::string>> SharedStreams::find_abandoned(std::string key,
                                                                         std::optional<std::int64_t> seen_at) {
  if (!reachable_.load()) co_return std::nullopt;
  auto id = co_await net::co_spawn(
      pool_.get_executor(),
      [this, &key, seen_at]() -> net::awaitable<std::optional<std::string>> {
        auto r = conn_.command({"GET", key});
        record(r.ok() ? nullptr : &r.error());
        if (!r.ok()) co_return std::nullopt;
        if (r.value().type == redis::Reply::Type::Nil) {
          // Delivered whole (or expired) since it was filed: not worth asking about again.
          unfile(key, seen_at);
          co_return std::nullopt;
        }
        if (r.value().type != redis::Reply::Type::String) co_return std::nullopt;  // an error reply
        co_return r.value().str;
      },
      net::use_awaitable);
  co_return id;
}

net::awaitable<bool> SharedStreams::had_whole(std::string id) {
  if (!reachable_.load()) co_return false;
  const bool whole = co_await net::co_spawn(
      pool_.get_executor(),
      [this, &id]() -> net::awaitable<bool> {
        auto r = scripts().whole.run(conn_, {key(id)}, {});
        record(r.ok() ? nullptr : &r.error());
        co_return r.ok() && r.value().type == redis::Reply::Type::Integer && r.value().integer == 1;
      },
      net::use_awaitable);
  co_return whole;
}

}  // namespace sluice::server
