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
  std::uint64_t seq = 0;
  {
    std::lock_guard lock(mu_);
    if (evicted_ || state_ != StreamState::Running) return;
    bytes_.append(event);
    ends_.push_back(bytes_.size());
    seq = ends_.size();
    // Sizes, not capacities: what the cap bounds is the data kept, and it is cheap to keep exact.
    std::size_t now = bytes_.size() + ends_.size() * sizeof(std::size_t);
    added = now - charged_;
    charged_ = now;
    wake_locked();
  }
  if (store_.observer_) store_.observer_->on_append(*this, seq, event);
  store_.charge(added);
}

std::uint64_t ReplayStream::events() const {
  std::lock_guard lock(mu_);
  return ends_.size();
}

void ReplayStream::end(StreamState how) {
  {
    std::lock_guard lock(mu_);
    if (state_ != StreamState::Running) return;
    state_ = how;
    ended_at_ = ReplayClock::now();
    wake_locked();
  }
  if (store_.observer_) store_.observer_->on_end(*this, how);
  store_.on_end(shared_from_this());
}

void ReplayStream::set_meta(std::string model, std::string upstream_request_id) {
  if (store_.observer_) store_.observer_->on_meta(*this, model, upstream_request_id);
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
    // A resume may deliver the whole stream before its own relay noticed the client had left.
    if (fingerprint.empty() || evicted_ || delivered_whole_ || state_ == StreamState::Failed || !fingerprint_.empty()) {
      return;
    }
    fingerprint_ = fingerprint;
  }
  store_.index_abandoned(owner_, fingerprint, shared_from_this());
  if (store_.observer_) store_.observer_->on_abandoned(*this, fingerprint);
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
    delivered_whole_ = true;
    fingerprint.swap(fingerprint_);
  }
  if (fingerprint.empty()) return;
  store_.forget_abandoned(owner_, fingerprint);
  if (store_.observer_) store_.observer_->on_reclaimed(*this, fingerprint);
}

void ReplayStream::attended_elsewhere() {
  std::lock_guard lock(mu_);
  unattended_since_ = ReplayClock::now();
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
  // Not make_shared: the queues' weak pointers would keep the whole object's memory alive.
  std::shared_ptr<ReplayStream> s(new ReplayStream(*this, make_stream_id(), std::move(owner), openai));
  std::lock_guard lock(mu_);
  expire_locked(ReplayClock::now());
  by_id_.emplace(s->id(), s);
  created_.push_back(s);
  // created_ is cleaned from its front, which a long stream can hold up: compact it when it has
  // grown to twice what is alive (amortised O(1) per stream).
  if (created_.size() > 2 * by_id_.size() + 1024) {
    std::erase_if(created_, [](const std::weak_ptr<ReplayStream>& w) {
      auto live = w.lock();
      return !live || live->state() != StreamState::Running || live->evicted();
    });
  }
  if (observer_) observer_->on_create(*s);
  return s;
}

std::shared_ptr<ReplayStream> ReplayStore::adopt(std::string id, std::string owner, bool openai, std::string events,
                                                 std::vector<std::size_t> ends) {
  std::shared_ptr<ReplayStream> s(new ReplayStream(*this, std::move(id), std::move(owner), openai));
  std::size_t charged = 0;
  {
    std::lock_guard slock(s->mu_);
    s->bytes_ = std::move(events);
    s->ends_ = std::move(ends);
    charged = s->charged_ = s->bytes_.size() + s->ends_.size() * sizeof(std::size_t);
  }
  {
    std::lock_guard lock(mu_);
    expire_locked(ReplayClock::now());
    if (!by_id_.emplace(s->id(), s).second) return nullptr;
    created_.push_back(s);
  }
  charge(charged);
  return s;
}

std::shared_ptr<ReplayStream> ReplayStore::find(std::string_view id) {
  std::lock_guard lock(mu_);
  auto now = ReplayClock::now();
  expire_locked(now);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return nullptr;
  auto s = it->second;
  std::lock_guard slock(s->mu_);
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
  return reusable(*s, ReplayClock::now()) ? s : nullptr;
}

bool ReplayStore::reusable(const ReplayStream& s, ReplayClock::time_point now) const {
  std::lock_guard slock(s.mu_);
  return !s.evicted_ && !s.fingerprint_.empty() &&
         (s.state_ == StreamState::Running ||
          (s.state_ == StreamState::Completed && now - s.ended_at_ < settings_.grace));
}

void ReplayStore::erase_abandoned_locked(AbandonedIndex::iterator it) {
  std::string_view owner = std::string_view(it->first).substr(0, it->first.find('\n'));
  if (auto o = abandoned_owners_.find(owner); o != abandoned_owners_.end() && --o->second == 0) {
    abandoned_owners_.erase(o);
  }
  abandoned_.erase(it);
  abandoned_count_.fetch_sub(1, std::memory_order_relaxed);
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
  if (auto it = abandoned_.find(key); it != abandoned_.end()) erase_abandoned_locked(it);
}

void ReplayStore::on_end(const std::shared_ptr<ReplayStream>& s) {
  std::lock_guard lock(mu_);
  ended_.push_back(s);
}

void ReplayStore::drop_locked(ReplayStream& s) {
  bytes_.fetch_sub(s.discharge(), std::memory_order_relaxed);
  by_id_.erase(s.id());
  if (observer_) observer_->on_drop(s.id());
}

void ReplayStore::expire_locked(ReplayClock::time_point now) {
  while (!ended_.empty()) {
    auto s = ended_.front().lock();
    if (s) {
      bool evicted;
      ReplayClock::time_point ended_at;
      {
        std::lock_guard slock(s->mu_);
        evicted = s->evicted_;
        ended_at = s->ended_at_;
      }
      if (!evicted && now - ended_at < settings_.ttl) break;  // the rest ended later
      if (!evicted) drop_locked(*s);
    }
    ended_.pop_front();
  }
  sweep_abandoned_locked(now);
}

void ReplayStore::sweep_abandoned_locked(ReplayClock::time_point now) {
  if (abandoned_.empty() || now - last_abandoned_sweep_ < std::chrono::seconds(1)) return;
  last_abandoned_sweep_ = now;
  for (auto it = abandoned_.begin(); it != abandoned_.end();) {
    auto s = it->second.lock();
    auto next = std::next(it);
    if (!s || !reusable(*s, now)) erase_abandoned_locked(it);
    it = next;
  }
}

void ReplayStore::evict_until_under_cap() {
  std::lock_guard lock(mu_);
  auto over = [this] { return bytes_.load(std::memory_order_relaxed) > settings_.memory_cap; };
  auto evict = [this](ReplayStream& s) {
    std::size_t freed = s.evict();
    if (freed == 0) return;
    bytes_.fetch_sub(freed, std::memory_order_relaxed);
    evictions_.fetch_add(1, std::memory_order_relaxed);
    by_id_.erase(s.id());
    if (observer_) observer_->on_drop(s.id());
  };
  // The streams that ended longest ago first; then running ones, oldest first (their clients
  // keep getting events live; only a later resume is lost).
  while (over() && !ended_.empty()) {
    if (auto s = ended_.front().lock()) evict(*s);
    ended_.pop_front();
  }
  while (over() && !created_.empty()) {
    auto s = created_.front().lock();
    created_.pop_front();
    if (s && s->state() == StreamState::Running) evict(*s);
    // (An ended one is in ended_ and leaves from there.)
  }
  // Streams that ended are done with created_: drop them from its front as it goes.
  while (!created_.empty()) {
    auto s = created_.front().lock();
    if (s && s->state() == StreamState::Running && !s->evicted()) break;
    created_.pop_front();
  }
}

}  // namespace sluice::stream
