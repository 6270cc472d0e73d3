#pragma once
// Replay buffers shared by every replica through Redis (streams.engine: redis; issue 10 item 3,
// docs/deployment.md). Each replica keeps its streams in its own ReplayStore, as with one
// replica, and mirrors them to Redis: a hash per stream (owner, state, producing replica, and
// what a continuation needs) and a list of its events, both with the buffer TTL. Another replica
// then answers a resume from Redis, following a running stream by polling, and when the replica
// producing a stream died (its heartbeat key expired) it takes the stream over and continues it
// with the recovery splicer (server/shared_resume.cpp).
//
// The I/O threads never wait on Redis for the mirror: changes are queued and sent in batches
// (one Lua script per stream and batch, idempotent by event index) by this object's own thread,
// which owns the one connection. While Redis is unreachable they are kept, up to a cap, and sent
// when it is back; a stream whose events were dropped is marked lost in Redis, so nobody replays
// it with a hole. Reads for a resume run on the same thread; the coroutine only awaits them.
// Thread-safe.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "config/config.hpp"
#include "metrics/registry.hpp"
#include "redis/connection.hpp"
#include "redis/script.hpp"
#include "stream/replay_buffer.hpp"

namespace sluice::server {

namespace net = boost::asio;

class SharedStreams final : public stream::ReplayObserver {
 public:
  // Does not connect yet: the heartbeat's first beat runs at once on its thread.
  SharedStreams(const config::Config& cfg, metrics::Registry& registry);
  // Sends what is queued (each batch bounded by the Redis timeout), removes the heartbeat, stops.
  ~SharedStreams() override;

  // Mirrors `store`'s streams from now on; `store` must outlive this object's use of it.
  void attach(stream::ReplayStore& store);
  // This process's replica id (random per start): the producer named in Redis.
  const std::string& replica() const { return replica_; }

  // What a continuation of a stream needs, kept with it when recovery applies to it: the
  // provider, the upstream target and body, and the client's header lines without credentials.
  struct Recipe {
    std::string provider, target, body, headers, price_model;
  };
  void set_recipe(const std::string& id, const Recipe& r);

  // A stream as Redis has it: `events` are the ones from index `from` on (at most `max`).
  struct View {
    bool reachable = true;      // false: Redis could not be asked (error says why)
    std::string error;
    bool found = false;
    std::string state;          // running, completed, failed, lost
    std::string producer;
    bool producer_alive = false;
    std::string owner_hash;     // SHA-256 hex of the owner (resume.cpp's owner_of)
    bool openai = false;
    std::string model, upstream_request_id;
    std::uint64_t count = 0;    // events in Redis
    std::int64_t quiet_ms = 0;  // since its last change in Redis (its end, once ended)
    std::vector<std::string> events;
    std::optional<Recipe> recipe;  // with_recipe, when the stream has one
  };
  // Reads `id`: its fields and up to `max` events from `from` (0: the fields only); marks it
  // watched (its producer then treats it as attended, not abandoned).
  net::awaitable<View> read(std::string id, std::uint64_t from, std::size_t max, bool with_recipe);
  // Makes this replica the producer of a running stream whose producer is dead; false when the
  // producer lives, the stream ended, another replica claimed it first, or Redis is unreachable.
  net::awaitable<bool> claim(std::string id);
  // A stream this replica claimed but cannot continue: nobody waits for it any longer.
  void mark_lost(const std::string& id);

  // Abandoned streams across replicas: when a client leaves a stream, its producer files it under
  // this key (a hash of the owner and the request's fingerprint, resume.cpp) for twice the grace
  // period, so that an identical retry on any replica finds it. The key holds the stream id.
  std::string abandoned_key(std::string_view owner, std::string_view fingerprint) const;
  // What is filed is also listed in a sorted set that every replica polls every 100 ms, so that
  // these two questions are answered from memory and only a request that is indeed the retry of
  // an abandoned stream pays a Redis round trip: whether some replica filed a stream of `owner`
  // lately (asked first, as a request's fingerprint costs a hash of its body), and whether
  // `key` was filed. Up to 100 ms behind Redis. Thread-safe.
  bool may_have_abandoned(std::string_view owner) const;
  bool filed(const std::string& key) const { return filed_at(key).has_value(); }
  // When `key` was last filed (Redis ms), as far as this replica's poll knows.
  std::optional<std::int64_t> filed_at(const std::string& key) const;
  // Forgets `key` here until it is filed again: its stream turned out not to be reusable (the
  // other replicas learn it the same way, with one lookup each). With `seen_at` (filed_at when
  // the caller looked), a filing newer than that, which the poll may have brought in while the
  // caller asked Redis, is kept.
  void unfile(const std::string& key, std::optional<std::int64_t> seen_at = std::nullopt);
  // The stream filed under `key`; nullopt when none, or when Redis is unreachable. A key Redis no
  // longer has is unfiled here, as unfile(key, seen_at) does.
  net::awaitable<std::optional<std::string>> find_abandoned(std::string key,
                                                            std::optional<std::int64_t> seen_at = std::nullopt);
  // A client had `id` whole (on any replica; `key`: where it was found, if known): an identical
  // request is a deliberate repeat from now on, on every replica. Marked in Redis, so that a
  // filing queued before this is refused too.
  void delivered_whole(const std::string& id, const std::string& key);
  // Whether some client had `id` whole, as delivered_whole marked it: asked before this replica
  // answers a retry from its own buffer, whose index hears nothing of other replicas. False when
  // Redis is unreachable.
  net::awaitable<bool> had_whole(std::string id);
  bool reachable() const { return reachable_.load(); }

  static std::string owner_hash(std::string_view owner);

  // ReplayObserver: queued for the Redis thread.
  void on_create(const stream::ReplayStream& s) override;
  void on_append(const stream::ReplayStream& s, std::uint64_t seq, std::string_view event) override;
  void on_meta(const stream::ReplayStream& s, const std::string& model, const std::string& upstream_request_id) override;
  void on_end(const stream::ReplayStream& s, stream::StreamState how) override;
  void on_drop(const std::string& id) override;
  void on_abandoned(const stream::ReplayStream& s, const std::string& fingerprint) override;
  void on_reclaimed(const stream::ReplayStream& s, const std::string& fingerprint) override;

 private:
  struct Op {
    enum class Kind { Create, Append, Fields, End, Drop, Index, Unindex } kind;
    std::string id;
    std::uint64_t seq = 0;           // Append: the event's 1-based index
    std::vector<std::string> args;   // Append: the event; Create: owner hash, openai; Fields: name, value...;
                                     // Index: the abandoned key, the owner's hash
    std::size_t bytes() const;
  };
  void enqueue(Op op);
  // On the Redis thread only.
  void drain();
  // Sends the ops at the front of `ops` (one stream's, in order) as one batch; `taken` says how
  // many it covered. False when Redis could not be asked.
  bool send(const std::deque<Op>& ops, std::size_t& taken);
  // An Index or Unindex op (shared_abandoned.cpp).
  Result<redis::Reply> send_filing(const Op& op);
  // How long a filing lives in Redis, and how far back the poll looks: the same window.
  std::int64_t filing_window_ms() const;
  void beat();
  void schedule_beat();
  void poll_abandoners();  // adds what was filed since the last poll, forgets the old; again in 100 ms
  void record(const Error* failure);
  std::string key(std::string_view id, std::string_view suffix = {}) const;
  void attended(const std::string& id);

  const std::string prefix_;
  const std::chrono::milliseconds ttl_;
  const std::chrono::milliseconds grace_;  // how long an abandoned stream stays filed
  const std::string replica_;
  stream::ReplayStore* store_ = nullptr;

  std::mutex mu_;                   // guards queue_, queued_bytes_, drain_posted_
  std::deque<Op> queue_;
  std::size_t queued_bytes_ = 0;
  bool drain_posted_ = false;

  net::thread_pool pool_{1};
  redis::Connection conn_;          // Redis thread only
  std::deque<Op> pending_;          // Redis thread only: taken from queue_, not sent yet
  net::steady_timer beat_timer_;    // Redis thread only
  net::steady_timer drain_timer_;   // Redis thread only: the short wait before a drain
  net::steady_timer poll_timer_;    // Redis thread only: the next poll of the abandoners
  bool stopping_ = false;           // Redis thread only
  // When Redis last became reachable (Redis thread only); the start counts as such.
  std::chrono::steady_clock::time_point reachable_since_ = std::chrono::steady_clock::now();
  redis::Script create_, append_, fields_, drop_, read_, claim_;

  mutable std::mutex abandoners_mu_;  // guards filed_ and filers_
  struct Filed {
    std::string owner;    // the owner's hash
    std::int64_t at = 0;  // when it was filed, Redis ms
  };
  using FiledIndex = std::unordered_map<std::string, Filed>;
  FiledIndex filed_;                                     // abandoned keys, from the poll
  // Erases an entry of filed_, and its owner's count in filers_; under abandoners_mu_.
  FiledIndex::iterator erase_filed_locked(FiledIndex::iterator it);
  std::unordered_map<std::string, std::size_t> filers_;  // owner hash -> its entries in filed_
  std::atomic<std::size_t> filed_count_{0};  // filed_.size(), read without the lock (written under it)
  std::int64_t polled_to_ = 0;                           // Redis thread only: the newest score seen,
  std::unordered_set<std::string> polled_edge_;          // and the members seen at that score

  std::atomic<bool> reachable_{true};
  std::atomic<std::size_t> backlog_bytes_{0};
  std::atomic<std::uint64_t> failures_{0}, dropped_{0};
  std::mutex error_mu_;
  std::string last_error_;
};

}  // namespace sluice::server
