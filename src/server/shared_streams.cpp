#include "server/shared_streams.hpp"

#include <cstdio>
#include <future>
#include <unordered_map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/ids.hpp"
#include "keys/secret.hpp"
#include "server/stores.hpp"

namespace sluice::server {

namespace {

constexpr auto kBeatEvery = std::chrono::milliseconds(1000);
constexpr auto kBeatTtl = std::chrono::milliseconds(3000);  // a replica silent this long is dead
constexpr auto kWatchedTtl = std::chrono::milliseconds(5000);
constexpr std::size_t kMaxBacklogBytes = 64u * 1024 * 1024;  // kept while Redis is unreachable
constexpr std::size_t kMaxBatchEvents = 512;
constexpr auto kCoalesce = std::chrono::milliseconds(2);  // how long changes gather before a drain

// Every script that writes a stream stamps it with Redis's clock (`at`, ms): a claim needs the
// producer's heartbeat gone *and* the stream quiet that long, so that heartbeats lapsing during a
// Redis outage do not hand live streams to another replica.
// KEYS: meta. ARGV: ttl, owner hash, openai, producer.
constexpr const char* kCreate = R"lua(
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'openai', ARGV[3], 'producer', ARGV[4], 'state', 'running',
           'at', t[1] * 1000 + math.floor(t[2] / 1000))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
)lua";

// KEYS: meta, events, watched. ARGV: ttl, events before this batch, end state or '', producer,
// the events. Idempotent by index: events Redis has already are skipped; a gap (a batch that was
// dropped) marks the stream lost. Only the stream's producer writes. Returns 1 when a reader
// on another replica watches the stream, 0 when not, -1 lost, -2 not the producer.
constexpr const char* kAppend = R"lua(
if redis.call('HGET', KEYS[1], 'producer') ~= ARGV[4] then return -2 end
if redis.call('HGET', KEYS[1], 'state') == 'lost' then return -1 end
local n = redis.call('LLEN', KEYS[2])
local start = tonumber(ARGV[2])
if n < start then
  redis.call('HSET', KEYS[1], 'state', 'lost')
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  return -1
end
for i = 5 + (n - start), #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'state', ARGV[3]) end
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], 'at', t[1] * 1000 + math.floor(t[2] / 1000))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
return redis.call('EXISTS', KEYS[3])
)lua";

// KEYS: meta. ARGV: producer, ttl, field, value, ...
constexpr const char* kFields = R"lua(
if redis.call('HGET', KEYS[1], 'producer') ~= ARGV[1] then return 0 end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
)lua";

// KEYS: meta, events, watched. ARGV: producer. Another replica's stream (taken over) stays.
constexpr const char* kDrop = R"lua(
if redis.call('HGET', KEYS[1], 'producer') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return 1
)lua";

// KEYS: meta, events, watched. ARGV: from (0-based), max (0: no events, the fields only), replica
// key prefix, watched ttl, with recipe (1/0). Nil when the stream is unknown; else its fields,
// the events, the recipe, and the ms since its last change.
constexpr const char* kRead = R"lua(
local m = redis.call('HMGET', KEYS[1], 'state', 'producer', 'owner', 'openai', 'model', 'rid', 'at')
if not m[1] then return false end
redis.call('SET', KEYS[3], '1', 'PX', ARGV[4])
local alive = 0
if m[2] then alive = redis.call('EXISTS', ARGV[3] .. m[2]) end
local n = redis.call('LLEN', KEYS[2])
local from = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local events = {}
if from < n and max > 0 then events = redis.call('LRANGE', KEYS[2], from, from + max - 1) end
local recipe = {}
if ARGV[5] == '1' then
  recipe = redis.call('HMGET', KEYS[1], 'r_provider', 'r_target', 'r_body', 'r_headers', 'r_price_model')
end
local t = redis.call('TIME')
local quiet = t[1] * 1000 + math.floor(t[2] / 1000) - tonumber(m[7] or '0')
return {m[1], m[2] or '', m[3] or '', m[4] or '', m[5] or '', m[6] or '', alive, n, events, recipe, quiet}
)lua";

// KEYS: meta. ARGV: replica key prefix, claimant, ttl, quiet ms.
constexpr const char* kClaim = R"lua(
local m = redis.call('HMGET', KEYS[1], 'state', 'producer', 'at')
if m[1] ~= 'running' then return 0 end
if m[2] and redis.call('EXISTS', ARGV[1] .. m[2]) == 1 then return 0 end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
if now - tonumber(m[3] or '0') < tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], 'producer', ARGV[2], 'at', now)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
)lua";

const char* state_name(stream::StreamState s) {
  switch (s) {
    case stream::StreamState::Completed:
      return "completed";
    case stream::StreamState::Failed:
      return "failed";
    default:
      return "running";
  }
}

std::string str_of(const redis::Reply& r) { return r.type == redis::Reply::Type::String ? r.str : std::string(); }

}  // namespace

std::size_t SharedStreams::Op::bytes() const {
  std::size_t n = id.size() + sizeof(Op);
  for (const auto& a : args) n += a.size();
  return n;
}

SharedStreams::SharedStreams(const config::Config& cfg, metrics::Registry& registry)
    : prefix_(cfg.redis.prefix),
      ttl_(cfg.streams.buffer_ttl),
      grace_(cfg.streams.grace),
      replica_(random_id("r", 16)),
      conn_(redis_endpoint(cfg.redis), cfg.redis.timeout),
      beat_timer_(pool_.get_executor()),
      drain_timer_(pool_.get_executor()),
      poll_timer_(pool_.get_executor()),
      create_(kCreate),
      append_(kAppend),
      fields_(kFields),
      drop_(kDrop),
      read_(kRead),
      claim_(kClaim) {
  registry.gauge_callback("sluice_replay_redis_up",
                          "Whether the shared replay buffers' Redis answered its last command (1) or not (0)", {},
                          [this](std::vector<metrics::Sample>& out) {
                            out.push_back({{}, reachable_.load() ? 1.0 : 0.0});
                          });
  registry.gauge_callback("sluice_replay_redis_backlog_bytes", "Stream events queued for Redis and not sent yet", {},
                          [this](std::vector<metrics::Sample>& out) {
                            std::size_t queued;
                            {
                              std::lock_guard lk(mu_);
                              queued = queued_bytes_;
                            }
                            out.push_back({{}, static_cast<double>(queued + backlog_bytes_.load())});
                          });
  registry.counter_callback("sluice_replay_redis_dropped_total",
                            "Stream changes given up while Redis was unreachable (their streams are marked lost)", {},
                            [this](std::vector<metrics::Sample>& out) {
                              out.push_back({{}, static_cast<double>(dropped_.load())});
                            });
  net::post(pool_, [this, transparent = cfg.streams.transparent_resume] {
    beat();
    if (transparent) poll_abandoners();  // nothing is filed or looked up otherwise
  });
}

SharedStreams::~SharedStreams() {
  std::promise<void> done;
  net::post(pool_, [this, &done] {
    stopping_ = true;
    beat_timer_.cancel();
    drain_timer_.cancel();
    poll_timer_.cancel();
    drain();
    // Streams still running here are over: other replicas may take them over at once.
    const std::string beat_key = prefix_ + "replica:" + replica_;
    if (reachable_.load()) (void)conn_.command({"DEL", beat_key});
    if (!pending_.empty()) {
      std::fprintf(stderr, "sluice: redis: %zu replay-buffer change(s) not sent at shutdown\n", pending_.size());
    }
    done.set_value();
  });
  done.get_future().wait();
  pool_.join();
}

void SharedStreams::attach(stream::ReplayStore& store) {
  store_ = &store;
  store.set_observer(this);
}

std::string SharedStreams::owner_hash(std::string_view owner) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto h = keys::hash_secret(owner);
  std::string out;
  out.reserve(h.size() * 2);
  for (unsigned char c : h) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string SharedStreams::key(std::string_view id, std::string_view suffix) const {
  std::string k = prefix_;
  k += "rs:";
  k += id;
  k += suffix;
  return k;
}

// --- the producer's side: queued, sent by drain() ---------------------------------------------

void SharedStreams::enqueue(Op op) {
  bool post = false;
  {
    std::lock_guard lk(mu_);
    queued_bytes_ += op.bytes();
    queue_.push_back(std::move(op));
    post = !drain_posted_;
    drain_posted_ = true;
  }
  if (!post) return;
  // A short wait first, so that a stream's burst of events (and its create, meta and end) goes
  // to Redis in one call rather than one call each.
  net::post(pool_, [this] {
    drain_timer_.expires_after(kCoalesce);
    drain_timer_.async_wait([this](boost::system::error_code) { drain(); });
  });
}

void SharedStreams::on_create(const stream::ReplayStream& s) {
  enqueue(Op{Op::Kind::Create, s.id(), 0, {owner_hash(s.owner()), s.openai() ? "1" : "0"}});
}

void SharedStreams::on_append(const stream::ReplayStream& s, std::uint64_t seq, std::string_view event) {
  enqueue(Op{Op::Kind::Append, s.id(), seq, {std::string(event)}});
}

void SharedStreams::on_meta(const stream::ReplayStream& s, const std::string& model,
                            const std::string& upstream_request_id) {
  enqueue(Op{Op::Kind::Fields, s.id(), 0, {"model", model, "rid", upstream_request_id}});
}

void SharedStreams::on_end(const stream::ReplayStream& s, stream::StreamState how) {
  enqueue(Op{Op::Kind::End, s.id(), s.events(), {state_name(how)}});
}

void SharedStreams::on_drop(const std::string& id) { enqueue(Op{Op::Kind::Drop, id, 0, {}}); }

void SharedStreams::mark_lost(const std::string& id) { enqueue(Op{Op::Kind::Fields, id, 0, {"state", "lost"}}); }

void SharedStreams::set_recipe(const std::string& id, const Recipe& r) {
  enqueue(Op{Op::Kind::Fields, id, 0,
             {"r_provider", r.provider, "r_target", r.target, "r_body", r.body, "r_headers", r.headers, "r_price_model",
              r.price_model}});
}

void SharedStreams::drain() {
  {
    std::lock_guard lk(mu_);
    drain_posted_ = false;
    for (auto& op : queue_) pending_.push_back(std::move(op));
    queue_.clear();
    queued_bytes_ = 0;
  }
  if (reachable_.load() && !pending_.empty()) {
    // Per stream, in order; the streams' ops are independent of each other's order, which
    // lets one script call carry every queued event of a stream.
    std::vector<std::string> order;
    std::unordered_map<std::string, std::deque<Op>> by_stream;
    for (auto& op : pending_) {
      auto [it, fresh] = by_stream.try_emplace(op.id);
      if (fresh) order.push_back(op.id);
      it->second.push_back(std::move(op));
    }
    pending_.clear();
    bool failed = false;
    for (const auto& id : order) {
      auto& ops = by_stream[id];
      while (!failed && !ops.empty()) {
        std::size_t taken = 0;
        failed = !send(ops, taken);
        ops.erase(ops.begin(), ops.begin() + static_cast<std::ptrdiff_t>(taken));
      }
      for (auto& op : ops) pending_.push_back(std::move(op));
    }
  }
  std::size_t backlog = 0;
  for (const auto& op : pending_) backlog += op.bytes();
  while (backlog > kMaxBacklogBytes && !pending_.empty()) {
    // The oldest go: a stream with a hole is marked lost by its next batch (or expires).
    backlog -= pending_.front().bytes();
    pending_.pop_front();
    dropped_.fetch_add(1);
  }
  backlog_bytes_.store(backlog);
}

bool SharedStreams::send(const std::deque<Op>& ops, std::size_t& taken) {
  const Op& first = ops.front();
  const std::string meta = key(first.id);
  const std::string ttl = std::to_string(ttl_.count());
  Result<redis::Reply> r = Error{ErrorKind::Unavailable, "", {}};
  switch (first.kind) {
    case Op::Kind::Create:
      r = create_.run(conn_, {meta}, {ttl, first.args[0], first.args[1], replica_});
      taken = 1;
      break;
    case Op::Kind::Fields: {
      std::vector<std::string> args{replica_, ttl};
      args.insert(args.end(), first.args.begin(), first.args.end());
      r = fields_.run(conn_, {meta}, args);
      taken = 1;
      break;
    }
    case Op::Kind::Drop:
      r = drop_.run(conn_, {meta, key(first.id, ":ev"), key(first.id, ":w")}, {replica_});
      taken = 1;
      break;
    case Op::Kind::Index:
    case Op::Kind::Unindex:
      r = send_filing(first);
      taken = 1;
      break;
    case Op::Kind::Append:
    case Op::Kind::End: {
      // Consecutive events (and the end right after them) in one call.
      const std::uint64_t start = first.kind == Op::Kind::End ? first.seq : first.seq - 1;
      std::vector<std::string> args{ttl, std::to_string(start), "", replica_};
      std::uint64_t next = start + 1;
      std::size_t i = 0;
      for (; i < ops.size() && i < kMaxBatchEvents; ++i) {
        const Op& op = ops[i];
        if (op.kind == Op::Kind::Append && op.seq == next) {
          args.push_back(op.args[0]);
          ++next;
          continue;
        }
        if (op.kind == Op::Kind::End) {
          args[2] = op.args[0];
          ++i;
        }
        break;
      }
      taken = i;
      r = append_.run(conn_, {meta, key(first.id, ":ev"), key(first.id, ":w")}, args);
      if (r.ok() && r.value().type == redis::Reply::Type::Integer && r.value().integer == 1) attended(first.id);
      break;
    }
  }
  if (r.ok() && r.value().is_error()) {
    std::fprintf(stderr, "sluice: redis: replay buffer of %s: %s\n", first.id.c_str(), r.value().str.c_str());
  }
  record(r.ok() ? nullptr : &r.error());
  if (!r.ok()) taken = 0;
  return r.ok();
}

void SharedStreams::attended(const std::string& id) {
  if (!store_) return;
  if (auto s = store_->find(id)) s->attended_elsewhere();
}

// --- heartbeat ---------------------------------------------------------------------------------

void SharedStreams::beat() {
  if (stopping_) return;  // a beat queued before the destructor removed the heartbeat
  const std::string beat_key = prefix_ + "replica:" + replica_;
  const std::string ttl = std::to_string(kBeatTtl.count());
  auto r = conn_.command({"SET", beat_key, "1", "PX", ttl});
  record(r.ok() ? nullptr : &r.error());
  if (r.ok() && !pending_.empty()) drain();  // Redis is back: send what waited
  schedule_beat();
}

void SharedStreams::schedule_beat() {
  if (stopping_) return;
  beat_timer_.expires_after(kBeatEvery);
  beat_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) beat();
  });
}

void SharedStreams::record(const Error* failure) {
  if (!failure) {
    if (!reachable_.exchange(true)) {
      reachable_since_ = std::chrono::steady_clock::now();
      std::fprintf(stderr, "sluice: redis: reachable again; replay buffers are shared\n");
    }
    return;
  }
  failures_.fetch_add(1);
  {
    std::lock_guard lk(error_mu_);
    last_error_ = failure->message;
  }
  if (reachable_.exchange(false)) {
    std::fprintf(stderr, "sluice: redis: %s; replay buffers stay local until it is back\n", failure->message.c_str());
  }
}

// --- readers -----------------------------------------------------------------------------------

net::awaitable<SharedStreams::View> SharedStreams::read(std::string id, std::uint64_t from, std::size_t max,
                                                        bool with_recipe) {
  View v;
  if (!reachable_.load()) {
    v.reachable = false;
    std::lock_guard lk(error_mu_);
    v.error = last_error_;
    co_return v;
  }
  v = co_await net::co_spawn(
      pool_.get_executor(),
      [this, &id, from, max, with_recipe]() -> net::awaitable<View> {
        View out;
        auto r = read_.run(conn_, {key(id), key(id, ":ev"), key(id, ":w")},
                           {std::to_string(from), std::to_string(max), prefix_ + "replica:",
                            std::to_string(kWatchedTtl.count()), with_recipe ? "1" : "0"});
        record(r.ok() ? nullptr : &r.error());
        if (!r.ok() || r.value().is_error()) {
          out.reachable = false;
          out.error = r.ok() ? r.value().str : r.error().message;
          co_return out;
        }
        const redis::Reply& a = r.value();
        if (a.type != redis::Reply::Type::Array || a.elements.size() != 11) co_return out;  // nil: unknown
        out.found = true;
        out.state = str_of(a.elements[0]);
        out.producer = str_of(a.elements[1]);
        out.owner_hash = str_of(a.elements[2]);
        out.openai = str_of(a.elements[3]) == "1";
        out.model = str_of(a.elements[4]);
        out.upstream_request_id = str_of(a.elements[5]);
        out.producer_alive = a.elements[6].integer == 1;
        out.count = static_cast<std::uint64_t>(a.elements[7].integer);
        out.quiet_ms = a.elements[10].integer;
        for (const auto& e : a.elements[8].elements) out.events.push_back(e.str);
        const auto& rec = a.elements[9].elements;
        if (rec.size() == 5 && rec[0].type == redis::Reply::Type::String) {
          out.recipe = Recipe{rec[0].str, str_of(rec[1]), str_of(rec[2]), str_of(rec[3]), str_of(rec[4])};
        }
        co_return out;
      },
      net::use_awaitable);
  co_return v;
}

net::awaitable<bool> SharedStreams::claim(std::string id) {
  if (!reachable_.load()) co_return false;
  const bool claimed = co_await net::co_spawn(
      pool_.get_executor(),
      [this, &id]() -> net::awaitable<bool> {
        // Not right after this replica (re)gained Redis: the other replicas' heartbeats may not
        // have been renewed yet.
        if (std::chrono::steady_clock::now() - reachable_since_ < kBeatTtl) co_return false;
        auto r = claim_.run(conn_, {key(id)}, {prefix_ + "replica:", replica_, std::to_string(ttl_.count()),
                                               std::to_string(kBeatTtl.count())});
        record(r.ok() ? nullptr : &r.error());
        co_return r.ok() && r.value().type == redis::Reply::Type::Integer && r.value().integer == 1;
      },
      net::use_awaitable);
  co_return claimed;
}

}  // namespace sluice::server
