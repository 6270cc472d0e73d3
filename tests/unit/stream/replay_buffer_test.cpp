// Replay buffers and event ids (src/stream/replay_buffer, event_id): what a resume reads, the
// abandoned-request index, expiry, eviction under the memory cap, and waking readers.
#include "stream/replay_buffer.hpp"

#include <gtest/gtest.h>

#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "stream/event_id.hpp"

namespace sluice::stream {
namespace {

std::string event(int i) { return "id: s:" + std::to_string(i) + "\nevent: e\ndata: {\"n\":" + std::to_string(i) + "}\n\n"; }

TEST(EventId, ParsesWhatTheWriterWrites) {
  auto id = parse_event_id("st_abc:17");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->stream, "st_abc");
  EXPECT_EQ(id->seq, 17u);
  EXPECT_TRUE(parse_event_id(" st_abc:0 "));
  for (const char* bad : {"", "st_abc", "st_abc:", ":3", "st_abc:x", "st_abc:3x", "st abc:3", "st_abc:-1",
                          "st_abc:99999999999999999999999"}) {
    EXPECT_FALSE(parse_event_id(bad)) << bad;
  }
  EXPECT_EQ(make_stream_id().size(), 25u);
  EXPECT_NE(make_stream_id(), make_stream_id());
}

TEST(EventId, PutsAnIdAtTheEndOfEachEventAndLeavesTrailingBytes) {
  std::string events = "event: a\ndata: 1\n\n: comment\n\nevent: b\ndata: 2\n\n: tail\n\n";
  std::vector<std::uint64_t> ends = {18, 47};  // after "a", after "b" (its span takes the comment)
  std::string out;
  std::vector<std::size_t> event_ends;
  auto next = append_with_ids(out, events, ends, "st_x", 7, &event_ends);
  EXPECT_EQ(next, 9u);
  EXPECT_EQ(out,
            "event: a\ndata: 1\nid: st_x:7\n\n: comment\n\nevent: b\ndata: 2\nid: st_x:8\n\n: tail\n\n");
  ASSERT_EQ(event_ends.size(), 2u);
  EXPECT_EQ(out.substr(0, event_ends[0]), "event: a\ndata: 1\nid: st_x:7\n\n");
  // CRLF and CR streams: the id line goes before their blank line, whatever its ending.
  std::string crlf;
  const std::uint64_t one[] = {19};
  append_with_ids(crlf, "id: 41\r\ndata: x\r\n\r\n", one, "s", 1);
  EXPECT_EQ(crlf, "id: 41\r\ndata: x\r\nid: s:1\n\r\n");
  std::string cr;
  const std::uint64_t one_cr[] = {9};
  append_with_ids(cr, "data: x\r\r", one_cr, "s", 2);
  EXPECT_EQ(cr, "data: x\rid: s:2\n\r");
  std::vector<std::uint64_t> split;
  split_lf_events("data: 1\n\ndata: 2\n\ndata: [DONE]\n\n", split);
  EXPECT_EQ(split, (std::vector<std::uint64_t>{9, 18, 32}));
}

TEST(ReplayStream, ReadsWholeEventsAfterASeqAndReportsTheEnd) {
  ReplayStore store({});
  auto s = store.create("owner", false);
  for (int i = 1; i <= 5; ++i) s->append(event(i));
  EXPECT_EQ(s->events(), 5u);
  auto all = s->read(0, 1 << 20);
  EXPECT_EQ(all.bytes, event(1) + event(2) + event(3) + event(4) + event(5));
  EXPECT_EQ(all.next, 5u);
  EXPECT_EQ(all.state, StreamState::Running);
  auto tail = s->read(3, 1 << 20);
  EXPECT_EQ(tail.bytes, event(4) + event(5));
  // A small budget still returns one whole event, never a part of one.
  auto one = s->read(1, 1);
  EXPECT_EQ(one.bytes, event(2));
  EXPECT_EQ(one.next, 2u);
  EXPECT_TRUE(s->read(5, 1 << 20).bytes.empty());
  s->end(StreamState::Completed);
  s->append(event(6));  // nothing is added after the end
  EXPECT_EQ(s->events(), 5u);
  EXPECT_EQ(s->read(5, 100).state, StreamState::Completed);
  EXPECT_EQ(store.find(s->id()), s);
  EXPECT_EQ(store.find("st_unknown"), nullptr);
}

TEST(ReplayStore, EndedStreamsExpireAfterTheTtl) {
  ReplaySettings rs;
  rs.ttl = std::chrono::milliseconds(50);
  ReplayStore store(rs);
  auto running = store.create("o", false);
  auto ended = store.create("o", false);
  ended->append(event(1));
  ended->end(StreamState::Completed);
  EXPECT_TRUE(store.find(ended->id()));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past the TTL and the 1 s sweep
  EXPECT_FALSE(store.find(ended->id()));
  EXPECT_TRUE(store.find(running->id())) << "a running stream never expires";
  EXPECT_EQ(store.bytes(), 0u) << "the expired stream's bytes were given back";
}

// Records what the store tells its observer, as "kind id [seq]" lines.
class Recorder : public ReplayObserver {
 public:
  void on_create(const ReplayStream& s) override { log.push_back("create " + s.id()); }
  void on_append(const ReplayStream& s, std::uint64_t seq, std::string_view ev) override {
    log.push_back("append " + s.id() + " " + std::to_string(seq));
    last_event = std::string(ev);
  }
  void on_meta(const ReplayStream& s, const std::string& model, const std::string&) override {
    log.push_back("meta " + s.id() + " " + model);
  }
  void on_end(const ReplayStream& s, StreamState how) override {
    log.push_back("end " + s.id() + (how == StreamState::Completed ? " completed" : " failed"));
  }
  void on_drop(const std::string& id) override { log.push_back("drop " + id); }
  void on_abandoned(const ReplayStream& s, const std::string& fingerprint) override {
    log.push_back("abandoned " + s.id() + " " + fingerprint);
  }
  void on_reclaimed(const ReplayStream& s, const std::string& fingerprint) override {
    log.push_back("reclaimed " + s.id() + " " + fingerprint);
  }
  std::vector<std::string> log;
  std::string last_event;
};

TEST(ReplayStore, TheObserverSeesEveryChangeInOrderAndAnAdoptedStreamCarriesOn) {
  ReplaySettings rs;
  rs.ttl = std::chrono::milliseconds(20);
  ReplayStore store(rs);
  Recorder rec;
  store.set_observer(&rec);
  auto s = store.create("o", false);
  const std::string id = s->id();
  s->set_meta("claude-x", "req_1");
  s->append(event(1));
  s->append(event(2));
  s->end(StreamState::Completed);
  s->append(event(3));  // after the end: ignored, and not mirrored
  EXPECT_EQ(rec.last_event, event(2));
  std::vector<std::string> want{"create " + id, "meta " + id + " claude-x", "append " + id + " 1",
                                "append " + id + " 2", "end " + id + " completed"};
  EXPECT_EQ(rec.log, want);

  // Another replica's stream with two events, taken over: only what follows is mirrored.
  rec.log.clear();
  std::string bytes = event(1) + event(2);
  auto adopted = store.adopt("st_other", "o", false, bytes, {event(1).size(), bytes.size()});
  ASSERT_TRUE(adopted);
  EXPECT_FALSE(store.adopt("st_other", "o", false, "", {})) << "an id already here is not adopted twice";
  EXPECT_EQ(adopted->events(), 2u);
  EXPECT_EQ(adopted->read(1, 1 << 20).bytes, event(2));
  adopted->append(event(3));
  EXPECT_EQ(rec.log, std::vector<std::string>{"append st_other 3"});
  EXPECT_EQ(store.bytes(), bytes.size() + event(3).size() + 3 * sizeof(std::size_t) +
                               event(1).size() + event(2).size() + 2 * sizeof(std::size_t));

  // The first stream expires: the observer is told it left.
  rec.log.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  EXPECT_FALSE(store.find(id));
  EXPECT_EQ(rec.log, std::vector<std::string>{"drop " + id});
}

TEST(ReplayStore, TheObserverSeesAStreamIndexedForARetryAndTakenOutOnceDeliveredWhole) {
  ReplayStore store(ReplaySettings{});
  Recorder rec;
  store.set_observer(&rec);
  auto s = store.create("o", false);
  const std::string id = s->id();
  s->append(event(1));
  rec.log.clear();
  s->client_left("");  // no fingerprint (transparent resume off): not indexed, nothing to tell
  EXPECT_TRUE(rec.log.empty());
  s->client_left("fp");
  s->client_left("fp2");  // indexed once: the first fingerprint stays
  EXPECT_EQ(rec.log, std::vector<std::string>{"abandoned " + id + " fp"});
  s->end(StreamState::Completed);
  s->delivered_whole();
  s->delivered_whole();  // once out of the index, out
  EXPECT_EQ(rec.log, (std::vector<std::string>{"abandoned " + id + " fp", "end " + id + " completed",
                                               "reclaimed " + id + " fp"}));
  auto failed = store.create("o", false);
  failed->end(StreamState::Failed);
  rec.log.clear();
  failed->client_left("fp3");  // a failed stream is never reused, so never filed
  EXPECT_TRUE(rec.log.empty());
}

TEST(ReplayStore, TheMemoryCapEvictsEndedStreamsFirstThenTheOldestRunning) {
  ReplaySettings rs;
  rs.memory_cap = 10'000;
  ReplayStore store(rs);
  const std::string kb(1000, 'x');
  auto old_running = store.create("o", false);
  auto ended = store.create("o", false);
  auto young = store.create("o", false);
  for (int i = 0; i < 4; ++i) old_running->append(kb);
  for (int i = 0; i < 4; ++i) ended->append(kb);
  ended->end(StreamState::Completed);
  EXPECT_EQ(store.evictions(), 0u);
  young->append(kb);
  young->append(kb);  // 10 KB of data plus the offsets: over the cap
  EXPECT_TRUE(ended->evicted()) << "an ended stream goes first, though it is not the oldest";
  EXPECT_FALSE(old_running->evicted());
  EXPECT_LE(store.bytes(), rs.memory_cap);
  for (int i = 0; i < 6; ++i) young->append(kb);
  EXPECT_TRUE(old_running->evicted()) << "then the oldest running one";
  EXPECT_FALSE(store.find(old_running->id()));
  EXPECT_LE(store.bytes(), rs.memory_cap);
  auto gone = old_running->read(0, 100);
  EXPECT_TRUE(gone.evicted);
  EXPECT_TRUE(gone.bytes.empty());
  old_running->append(kb);  // the producer goes on; nothing is kept
  EXPECT_EQ(store.evictions(), 2u);
}

TEST(ReplayStore, AbandonedStreamsAreFoundByOwnerAndFingerprintUntilDeliveredWhole) {
  ReplaySettings rs;
  rs.grace = std::chrono::milliseconds(100);
  ReplayStore store(rs);
  auto s = store.create("alice", false);
  s->append(event(1));
  EXPECT_FALSE(store.has_abandoned("alice"));
  EXPECT_FALSE(store.claim("alice", "fp"));
  s->client_left("fp");
  EXPECT_TRUE(store.has_abandoned("alice"));
  EXPECT_FALSE(store.has_abandoned("bob"));
  EXPECT_EQ(store.claim("alice", "fp"), s);
  EXPECT_FALSE(store.claim("bob", "fp"));
  EXPECT_FALSE(store.claim("alice", "other"));
  s->end(StreamState::Completed);
  EXPECT_EQ(store.claim("alice", "fp"), s) << "completed within the grace period";
  s->delivered_whole();
  EXPECT_FALSE(store.claim("alice", "fp"));
  EXPECT_FALSE(store.has_abandoned("alice"));

  // A resume that delivered the stream whole before its relay noticed the client had left.
  auto resumed = store.create("alice", false);
  resumed->end(StreamState::Completed);
  resumed->delivered_whole();
  resumed->client_left("fp1");
  EXPECT_FALSE(store.claim("alice", "fp1")) << "delivered whole, then marked left: still never reused";

  auto late = store.create("alice", false);
  late->client_left("fp2");
  late->end(StreamState::Completed);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_FALSE(store.claim("alice", "fp2")) << "completed longer ago than the grace period";
  auto failed = store.create("alice", false);
  failed->client_left("fp3");
  failed->end(StreamState::Failed);
  EXPECT_FALSE(store.claim("alice", "fp3")) << "a failed stream is never reused";
}

TEST(ReplayStream, UnattendedOnlyWithoutClientAndReaders) {
  ReplayStore store({});
  auto s = store.create("o", false);
  boost::asio::io_context io;
  ReplayClock::time_point since;
  EXPECT_FALSE(s->unattended(since));
  auto reader = s->subscribe(io.get_executor());
  s->client_left("");
  EXPECT_FALSE(s->unattended(since));
  auto before = ReplayClock::now();
  s->unsubscribe(reader);
  ASSERT_TRUE(s->unattended(since));
  EXPECT_GE(since, before);
}

TEST(ReplayStream, AReaderOnAnotherThreadIsWokenByEachAppendAndTheEnd) {
  ReplayStore store({});
  auto s = store.create("o", false);
  boost::asio::io_context io;
  auto signal = s->subscribe(io.get_executor());
  std::string got;
  bool finished = false;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        std::uint64_t next = 0;
        for (int spins = 0; spins < 1000; ++spins) {
          auto c = s->read(next, 1 << 20);
          got += c.bytes;
          next = c.next;
          if (c.bytes.empty() && c.state != StreamState::Running) {
            finished = true;
            co_return;
          }
          if (c.bytes.empty()) co_await signal->async_receive(boost::asio::as_tuple(boost::asio::use_awaitable));
        }
      },
      boost::asio::detached);
  std::thread reader([&] { io.run(); });
  for (int i = 1; i <= 50; ++i) {
    s->append(event(i));
    if (i % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  s->end(StreamState::Completed);
  reader.join();
  EXPECT_TRUE(finished);
  std::string want;
  for (int i = 1; i <= 50; ++i) want += event(i);
  EXPECT_EQ(got, want);
  s->unsubscribe(signal);
}

}  // namespace
}  // namespace sluice::stream
