#include "stream/replay_buffer.hpp"

#include <algorithm>

#include "stream/event_id.hpp"

namespace sluice::stream {

// Lock order: the store's mutex before a stream's. A stream never calls into the store while
// holding its own.

ReplayStream::ReplayStream(ReplayStore& store, std::string id, std::string owner, bool openai)
    : store_(store), id_(std::move(id)), owner_(std::move(owner)), openai_(openai) {}

void ReplayStream::append(std::string_view event) {
  std::size_t added = 0;
  {
    std::lock_guard lock(mu_);
    if (evicted_ || state_ != StreamState::Running) return;
    bytes_.append(event);
    ends_.push_back(bytes_.size());
    // Sizes, not capacities: what the cap bounds is the data kept, and it is cheap to keep exact.
    std::size_t now = bytes_.size() + ends_.size() * sizeof(std::size_t);
    added = now - charged_;
    charged_ = now;
    wake_locked();
  }
  store_.charge(added);
}

std::uint64_t ReplayStream::events() const {
  std::lock_guard lock(mu_);
  return ends_.size();
}

void ReplayStream::end(StreamState how) {
  std::lock_guard lock(mu_);
  if (state_ != StreamState::Running) return;
  state_ = how;
  ended_at_ = ReplayClock::now();
  wake_locked();
}

void ReplayStream::set_meta(std::string model, std::string upstream_request_id) {
  std::lock_guard lock(mu_);
  model_ = std::move(model);
  upstream_request_id_ = std::move(upstream_request_id);
}

std::string ReplayStream::model() const {
  std::lock_guard lock(mu_);
  return model_;
}

std::string ReplayStream::upstream_request_id() const {
  std::lock_guard lock(mu_);
  return upstream_request_id_;
}

void ReplayStream::client_left(std::string fingerprint) {
  {
    std::lock_guard lock(mu_);
    client_present_ = false;
    if (readers_.empty()) unattended_since_ = ReplayClock::now();
    if (fingerprint.empty() || evicted_ || state_ == StreamState::Failed || !fingerprint_.empty()) return;
    fingerprint_ = fingerprint;
  }
  store_.index_abandoned(owner_, fingerprint, shared_from_this());
}

ReplayStream::Chunk ReplayStream::read(std::uint64_t from, std::size_t max_bytes) const {
  Chunk c;
  std::lock_guard lock(mu_);
  c.state = state_;
  c.evicted = evicted_;
  c.next = from;
  if (evicted_ || from >= ends_.size()) return c;
  std::size_t start = from == 0 ? 0 : ends_[from - 1];
  std::uint64_t last = from;  // index of the last event taken
  while (last + 1 < ends_.size() && ends_[last + 1] - start <= max_bytes) ++last;
  c.bytes.assign(bytes_, start, ends_[last] - start);
  c.next = last + 1;
  return c;
}

std::shared_ptr<ReplayStream::Signal> ReplayStream::subscribe(const boost::asio::any_io_executor& ex) {
  auto s = std::make_shared<Signal>(ex, 1);
  std::lock_guard lock(mu_);
  readers_.push_back(s);
  return s;
}

void ReplayStream::unsubscribe(const std::shared_ptr<Signal>& s) {
  std::lock_guard lock(mu_);
  std::erase(readers_, s);
  if (readers_.empty() && !client_present_) unattended_since_ = ReplayClock::now();
}

void ReplayStream::delivered_whole() {
  std::string fingerprint;
  {
    std::lock_guard lock(mu_);
    fingerprint.swap(fingerprint_);
  }
  if (!fingerprint.empty()) store_.forget_abandoned(owner_, fingerprint);
}

bool ReplayStream::unattended(ReplayClock::time_point& since) const {
  std::lock_guard lock(mu_);
  if (!readers_.empty() || client_present_) return false;
  since = unattended_since_;
  return true;
}

StreamState ReplayStream::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

bool ReplayStream::evicted() const {
  std::lock_guard lock(mu_);
  return evicted_;
}

std::size_t ReplayStream::evict() {
  std::lock_guard lock(mu_);
  if (evicted_) return 0;
  evicted_ = true;
  std::string().swap(bytes_);
  std::vector<std::size_t>().swap(ends_);
  wake_locked();
  return std::exchange(charged_, 0);
}

std::size_t ReplayStream::discharge() {
  std::lock_guard lock(mu_);
  return std::exchange(charged_, 0);
}

void ReplayStream::wake_locked() {
  for (const auto& r : readers_) r->try_send(boost::system::error_code{});
}

// ---------------------------------------------------------------------------------------------

ReplayStore::ReplayStore(ReplaySettings settings) : settings_(settings) {}

ReplayStore::~ReplayStore() = default;

std::shared_ptr<ReplayStream> ReplayStore::create(std::string owner, bool openai) {
  auto s = std::make_shared<ReplayStream>(*this, make_stream_id(), std::move(owner), openai);
  std::lock_guard lock(mu_);
  sweep_locked(ReplayClock::now());
  by_id_.emplace(s->id(), s);
  order_.push_back(s);
  return s;
}

std::shared_ptr<ReplayStream> ReplayStore::find(std::string_view id) {
  std::lock_guard lock(mu_);
  auto now = ReplayClock::now();
  sweep_locked(now);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return nullptr;
  auto s = it->second;
  std::lock_guard slock(s->mu_);
  // Exact expiry even between sweeps.
  if (s->evicted_ || (s->state_ != StreamState::Running && now - s->ended_at_ >= settings_.ttl)) return nullptr;
  return s;
}

std::size_t ReplayStore::streams() const {
  std::lock_guard lock(mu_);
  return by_id_.size();
}

bool ReplayStore::has_abandoned(std::string_view owner) {
  if (abandoned_count_.load(std::memory_order_relaxed) == 0) return false;
  std::lock_guard lock(mu_);
  return abandoned_owners_.find(owner) != abandoned_owners_.end();
}

std::shared_ptr<ReplayStream> ReplayStore::claim(std::string_view owner, std::string_view fingerprint) {
  std::string key;
  key.reserve(owner.size() + 1 + fingerprint.size());
  key.append(owner).append(1, '\n').append(fingerprint);
  std::lock_guard lock(mu_);
  auto it = abandoned_.find(key);
  if (it == abandoned_.end()) return nullptr;
  auto s = it->second.lock();
  if (!s) return nullptr;
  auto now = ReplayClock::now();
  std::lock_guard slock(s->mu_);
  bool usable = !s->evicted_ && !s->fingerprint_.empty() &&
                (s->state_ == StreamState::Running ||
                 (s->state_ == StreamState::Completed && now - s->ended_at_ < settings_.grace));
  return usable ? s : nullptr;
}

void ReplayStore::charge(std::size_t added) {
  std::size_t total = bytes_.fetch_add(added, std::memory_order_relaxed) + added;
  if (total > settings_.memory_cap) evict_until_under_cap();
}

void ReplayStore::index_abandoned(const std::string& owner, const std::string& fingerprint,
                                  const std::shared_ptr<ReplayStream>& s) {
  std::string key = owner + '\n' + fingerprint;
  std::lock_guard lock(mu_);
  auto [it, inserted] = abandoned_.insert_or_assign(std::move(key), s);
  if (inserted) {
    ++abandoned_owners_[owner];
    abandoned_count_.fetch_add(1, std::memory_order_relaxed);
  }
}

void ReplayStore::forget_abandoned(const std::string& owner, const std::string& fingerprint) {
  std::string key = owner + '\n' + fingerprint;
  std::lock_guard lock(mu_);
  auto it = abandoned_.find(key);
  if (it == abandoned_.end()) return;
  abandoned_.erase(it);
  abandoned_count_.fetch_sub(1, std::memory_order_relaxed);
  if (auto o = abandoned_owners_.find(owner); o != abandoned_owners_.end() && --o->second == 0) {
    abandoned_owners_.erase(o);
  }
}

void ReplayStore::sweep_locked(ReplayClock::time_point now) {
  if (now - last_sweep_ < std::chrono::seconds(1)) return;
  last_sweep_ = now;
  for (auto it = by_id_.begin(); it != by_id_.end();) {
    auto& s = *it->second;
    bool drop;
    {
      std::lock_guard slock(s.mu_);
      drop = s.evicted_ || (s.state_ != StreamState::Running && now - s.ended_at_ >= settings_.ttl);
    }
    if (drop) {
      bytes_.fetch_sub(s.discharge(), std::memory_order_relaxed);
      it = by_id_.erase(it);
    } else {
      ++it;
    }
  }
  std::erase_if(order_, [](const std::weak_ptr<ReplayStream>& w) { return w.expired(); });
  for (auto it = abandoned_.begin(); it != abandoned_.end();) {
    auto s = it->second.lock();
    bool keep = false;
    if (s) {
      std::lock_guard slock(s->mu_);
      keep = !s->evicted_ && !s->fingerprint_.empty() &&
             (s->state_ == StreamState::Running ||
              (s->state_ == StreamState::Completed && now - s->ended_at_ < settings_.grace));
    }
    if (keep) {
      ++it;
      continue;
    }
    auto owner = it->first.substr(0, it->first.find('\n'));
    it = abandoned_.erase(it);
    abandoned_count_.fetch_sub(1, std::memory_order_relaxed);
    if (auto o = abandoned_owners_.find(owner); o != abandoned_owners_.end() && --o->second == 0) {
      abandoned_owners_.erase(o);
    }
  }
}

void ReplayStore::evict_until_under_cap() {
  std::lock_guard lock(mu_);
  // Two passes, oldest first: streams that ended, then running ones (their clients keep getting
  // events live; only a later resume is lost).
  for (int pass = 0; pass < 2 && bytes_.load(std::memory_order_relaxed) > settings_.memory_cap; ++pass) {
    for (auto& w : order_) {
      if (bytes_.load(std::memory_order_relaxed) <= settings_.memory_cap) break;
      auto s = w.lock();
      if (!s) continue;
      if (pass == 0 && s->state() == StreamState::Running) continue;
      std::size_t freed = s->evict();
      if (freed == 0) continue;
      bytes_.fetch_sub(freed, std::memory_order_relaxed);
      evictions_.fetch_add(1, std::memory_order_relaxed);
      by_id_.erase(s->id());
    }
  }
  std::erase_if(order_, [this](const std::weak_ptr<ReplayStream>& w) {
    auto s = w.lock();
    return !s || s->evicted();
  });
}

}  // namespace sluice::stream
