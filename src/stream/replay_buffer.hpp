#pragma once
// Replay buffers of resumable streams (issue 6, wire-protocols.md §7.7). A ReplayStream keeps
// the events of one stream exactly as its client received them (id lines included) while it
// runs and for a TTL after it ends, so a client that lost its connection can get the events
// after its Last-Event-ID and then the rest live. A ReplayStore holds every stream under one
// memory cap, evicting whole streams oldest first (ended ones before running ones), and indexes
// the streams whose client left before the end by who sent them and what they asked, so the
// identical retry of Claude Code or an SDK can be answered from the buffer.
//
// Thread-safety: everything here is thread-safe. A stream has one producer (the coroutine
// relaying its upstream) and any number of readers on any worker; readers wait on a Signal, a
// channel the producer pokes without blocking after each append and at the end.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>

namespace sluice::stream {

using ReplayClock = std::chrono::steady_clock;

struct ReplaySettings {
  std::size_t memory_cap = 256u * 1024 * 1024;  // bytes of events over every stream
  std::chrono::milliseconds ttl{300'000};      // how long an ended stream stays replayable
  std::chrono::milliseconds grace{60'000};     // an abandoned stream: upstream kept running / reusable
};

enum class StreamState { Running, Completed, Failed };

class ReplayStore;
class ReplayStream;

// Told of every change to the store's streams, on the thread that made it, sometimes with the
// store's lock held: it must only take note (queue the change), never call back into the store.
// The shared replay buffers (server/shared_streams.hpp) mirror the streams to Redis through it.
class ReplayObserver {
 public:
  virtual ~ReplayObserver() = default;
  virtual void on_create(const ReplayStream& s) = 0;
  // Event `seq` (1-based) was appended.
  virtual void on_append(const ReplayStream& s, std::uint64_t seq, std::string_view event) = 0;
  virtual void on_meta(const ReplayStream& s, const std::string& model, const std::string& upstream_request_id) = 0;
  virtual void on_end(const ReplayStream& s, StreamState how) = 0;
  // The stream left the store (expired or evicted).
  virtual void on_drop(const std::string& id) = 0;
  // Its client left and the stream was indexed for an identical retry under `fingerprint`
  // (ReplayStore::claim); and later, when it was delivered whole, taken out of that index.
  virtual void on_abandoned(const ReplayStream& s, const std::string& fingerprint) {
    (void)s;
    (void)fingerprint;
  }
  virtual void on_reclaimed(const ReplayStream& s, const std::string& fingerprint) {
    (void)s;
    (void)fingerprint;
  }
};

class ReplayStream : public std::enable_shared_from_this<ReplayStream> {
 public:
  // A reader's wake-up call: one pending signal is enough, so try_send never blocks.
  using Signal = boost::asio::experimental::concurrent_channel<void(boost::system::error_code)>;

  ReplayStream(ReplayStore& store, std::string id, std::string owner, bool openai);
  ReplayStream(const ReplayStream&) = delete;
  ReplayStream& operator=(const ReplayStream&) = delete;

  const std::string& id() const { return id_; }
  const std::string& owner() const { return owner_; }
  bool openai() const { return openai_; }  // the events are OpenAI chunks (else Anthropic events)

  // --- producer ---
  // Appends one complete event (as the client got it, its id line included). Ignored once the
  // stream was evicted.
  void append(std::string_view event);
  // The number of events appended so far (the seq of the last one).
  std::uint64_t events() const;
  // The stream ended: with message_stop / [DONE] (Completed) or an error event (Failed).
  void end(StreamState how);
  // Metadata a replay repeats: the model (ledger) and the upstream's request-id (header).
  void set_meta(std::string model, std::string upstream_request_id);
  std::string model() const;
  std::string upstream_request_id() const;
  // The stream's own client left before the end: from now on it is resumable by an identical
  // request of the same owner (`fingerprint` names that request; empty = only by id).
  void client_left(std::string fingerprint);

  // --- readers ---
  struct Chunk {
    std::string bytes;        // events [from, next)
    std::uint64_t next = 0;   // the seq after the last event copied
    StreamState state = StreamState::Running;
    bool evicted = false;     // the buffer is gone (memory cap): nothing more can be replayed
  };
  // Copies whole events after seq `from` (at least one when there is one), up to about
  // `max_bytes`; the state is read in the same critical section.
  Chunk read(std::uint64_t from, std::size_t max_bytes) const;
  // Registers a reader: its Signal is poked after every append and at the end or eviction.
  // While a stream has readers its upstream is never cancelled for being abandoned.
  std::shared_ptr<Signal> subscribe(const boost::asio::any_io_executor& ex);
  void unsubscribe(const std::shared_ptr<Signal>& s);
  // A reader delivered the stream to the end from its start: an identical request is now a
  // deliberate repeat and must get a fresh answer.
  void delivered_whole();
  // A reader on another replica follows the stream (through Redis): it is attended as of now.
  void attended_elsewhere();
  // Whether nobody watches the stream (no reader, and its client gone) and since when.
  bool unattended(ReplayClock::time_point& since) const;

  StreamState state() const;
  bool evicted() const;

 private:
  friend class ReplayStore;
  // Drops the events (eviction); returns the bytes it had charged to the store.
  std::size_t evict();
  // Takes back what the stream charged to the store (it leaves the store).
  std::size_t discharge();
  void wake_locked();
  std::size_t footprint_locked() const { return bytes_.capacity() + ends_.capacity() * sizeof(std::size_t); }

  ReplayStore& store_;
  const std::string id_;
  const std::string owner_;
  const bool openai_;
  mutable std::mutex mu_;
  std::string bytes_;               // every event, back to back
  std::vector<std::size_t> ends_;   // ends_[i]: where event i+1 ends in bytes_
  std::size_t charged_ = 0;         // bytes counted against the store's cap
  StreamState state_ = StreamState::Running;
  bool evicted_ = false;
  bool client_present_ = true;
  ReplayClock::time_point ended_at_{};
  ReplayClock::time_point unattended_since_{};
  std::string fingerprint_;         // set when the client left: the abandoned-request index key
  bool delivered_whole_ = false;    // a reader got it to the end: never reused
  std::string upstream_request_id_;
  std::string model_;
  std::vector<std::shared_ptr<Signal>> readers_;
};

class ReplayStore {
  struct TransparentHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

 public:
  explicit ReplayStore(ReplaySettings settings);
  ~ReplayStore();

  const ReplaySettings& settings() const { return settings_; }

  // A new running stream with a fresh id.
  std::shared_ptr<ReplayStream> create(std::string owner, bool openai);
  // A running stream that another replica started (server/shared_streams.hpp): `id`, with the
  // events it had (`ends` as in ReplayStream), taken over to be continued here. The observer is
  // not told of those events, only of the ones appended from now on. Null if `id` is here already.
  std::shared_ptr<ReplayStream> adopt(std::string id, std::string owner, bool openai, std::string events,
                                      std::vector<std::size_t> ends);
  // Set once, before the first stream is created; must outlive the store.
  void set_observer(ReplayObserver* o) { observer_ = o; }
  // The stream with this id, unless unknown, expired or evicted.
  std::shared_ptr<ReplayStream> find(std::string_view id);
  // Whether `owner` has abandoned streams at all: checked before paying for a fingerprint.
  bool has_abandoned(std::string_view owner);
  // An abandoned stream of `owner` started by the request `fingerprint` names: still running, or
  // completed within the grace period, and never delivered whole since. Null when none.
  std::shared_ptr<ReplayStream> claim(std::string_view owner, std::string_view fingerprint);

  std::size_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  std::size_t streams() const;
  std::uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }

 private:
  friend class ReplayStream;
  void charge(std::size_t added);  // may evict
  void index_abandoned(const std::string& owner, const std::string& fingerprint, const std::shared_ptr<ReplayStream>& s);
  void forget_abandoned(const std::string& owner, const std::string& fingerprint);
  void on_end(const std::shared_ptr<ReplayStream>& s);  // queues it for expiry
  // Drops ended streams past their TTL: the oldest-ended first, so only expired ones are touched.
  void expire_locked(ReplayClock::time_point now);
  void sweep_abandoned_locked(ReplayClock::time_point now);
  void drop_locked(ReplayStream& s);  // out of by_id_, its bytes given back
  // An abandoned stream an identical retry may still be answered from: running, or completed
  // within the grace period, and not delivered whole since.
  bool reusable(const ReplayStream& s, ReplayClock::time_point now) const;
  void evict_until_under_cap();

  const ReplaySettings settings_;
  ReplayObserver* observer_ = nullptr;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<ReplayStream>, TransparentHash, std::equal_to<>> by_id_;
  // Both queues are cleaned lazily from the front, so every stream is pushed and popped once.
  std::deque<std::weak_ptr<ReplayStream>> created_;  // creation order: running streams to evict
  std::deque<std::weak_ptr<ReplayStream>> ended_;    // end order: expiry, and the first to evict
  // owner + '\n' + fingerprint -> stream; and how many entries each owner has
  using AbandonedIndex = std::unordered_map<std::string, std::weak_ptr<ReplayStream>, TransparentHash, std::equal_to<>>;
  void erase_abandoned_locked(AbandonedIndex::iterator it);  // with its owner's count
  AbandonedIndex abandoned_;
  std::unordered_map<std::string, std::size_t, TransparentHash, std::equal_to<>> abandoned_owners_;
  std::atomic<std::size_t> abandoned_count_{0};
  std::atomic<std::size_t> bytes_{0};
  std::atomic<std::uint64_t> evictions_{0};
  ReplayClock::time_point last_abandoned_sweep_{};
};

}  // namespace sluice::stream
