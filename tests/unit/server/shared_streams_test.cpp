// The shared replay buffers (src/server/shared_streams) against a real redis-server: two
// "replicas" (a ReplayStore each, with its SharedStreams) on one Redis. What one produces the
// other reads, in order, from any index, with the owner's hash; producers on several threads at
// once; a claim is refused while the producer lives and granted once it is gone and its stream
// quiet; a stream that expires on its replica leaves Redis too; a stream whose client left is
// found by another replica under its owner and request, until it is delivered whole; filings in
// one Redis millisecond are each seen once by the poll, and unfiling keeps a newer filing.
#include "server/shared_streams.hpp"

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "redis/connection.hpp"
#include "unit/eventually.hpp"
#include "unit/redis/redis_server.hpp"

namespace sluice::server {
namespace {

using namespace std::chrono_literals;
using test_support::eventually;

std::string event(const std::string& id, int seq) {
  return "event: content_block_delta\ndata: {\"n\":" + std::to_string(seq) + "}\nid: " + id + ":" + std::to_string(seq) + "\n\n";
}

struct Replica {
  Replica(int port, std::chrono::milliseconds ttl = 60'000ms, std::chrono::milliseconds grace = 60'000ms) {
    cfg.redis.url = "redis://127.0.0.1:" + std::to_string(port) + "/0";
    cfg.streams.grace = grace;
    cfg.redis.timeout = 1000ms;
    cfg.streams.buffer_ttl = ttl;
    cfg.streams.shared = true;
    stream::ReplaySettings rs;
    rs.ttl = ttl;
    store = std::make_unique<stream::ReplayStore>(rs);
    shared = std::make_unique<SharedStreams>(cfg, registry);
    shared->attach(*store);
  }
  ~Replica() {
    shared.reset();  // before the store it observes
    store.reset();
  }
  // Runs one of SharedStreams' awaitables to its end on a private io_context.
  template <class T>
  T run(boost::asio::awaitable<T> a) {
    boost::asio::io_context io;
    auto f = boost::asio::co_spawn(io, std::move(a), boost::asio::use_future);
    io.run();
    return f.get();
  }
  SharedStreams::View read(const std::string& id, std::uint64_t from = 0) {
    return run(shared->read(id, from, 1000, true));
  }
  // Reads until `pred` holds (the mirror is asynchronous); bounded.
  template <class Pred>
  SharedStreams::View read_until(const std::string& id, Pred pred) {
    SharedStreams::View v;
    test_support::eventually([&] { return pred(v = read(id)); }, 3s);
    return v;
  }

  config::Config cfg;
  metrics::Registry registry;
  std::unique_ptr<stream::ReplayStore> store;
  std::unique_ptr<SharedStreams> shared;
};

class SharedStreamsTest : public ::testing::Test {
 protected:
  // A plain connection to the test's Redis, to write into the abandoners set directly.
  std::unique_ptr<redis::Connection> connect() const {
    redis::Endpoint ep;
    ep.port = server_.port();
    return std::make_unique<redis::Connection>(ep, 1000ms);
  }
  // Redis's clock, in ms (the scores filings get); -1 when TIME fails.
  static std::int64_t redis_now_ms(redis::Connection& c) {
    auto time = c.command({"TIME"});
    if (!time.ok() || time.value().elements.size() != 2) return -1;
    return std::stoll(time.value().elements[0].str) * 1000 + std::stoll(time.value().elements[1].str) / 1000;
  }

  testing::RedisServer server_;
};

TEST_F(SharedStreamsTest, WhatOneReplicaProducesAnotherReadsInOrderFromAnyIndex) {
  Replica a(server_.port()), b(server_.port());
  auto s = a.store->create("key:k1", false);
  s->set_meta("claude-x", "req_9");
  SharedStreams::Recipe r{"anthropic", "/v1/messages", "{\"model\":\"claude-x\"}", "anthropic-version: 2023-06-01\r\n", "claude-x"};
  a.shared->set_recipe(s->id(), r);
  for (int i = 1; i <= 5; ++i) s->append(event(s->id(), i));
  s->end(stream::StreamState::Completed);

  auto v = b.read_until(s->id(), [](const auto& x) { return x.found && x.state == "completed"; });
  ASSERT_TRUE(v.found);
  EXPECT_EQ(v.state, "completed");
  EXPECT_EQ(v.count, 5u);
  ASSERT_EQ(v.events.size(), 5u);
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(v.events[static_cast<std::size_t>(i - 1)], event(s->id(), i));
  EXPECT_EQ(v.owner_hash, SharedStreams::owner_hash("key:k1"));
  EXPECT_NE(v.owner_hash, SharedStreams::owner_hash("key:k2"));
  EXPECT_EQ(v.model, "claude-x");
  EXPECT_EQ(v.upstream_request_id, "req_9");
  EXPECT_EQ(v.producer, a.shared->replica());
  EXPECT_TRUE(v.producer_alive);
  ASSERT_TRUE(v.recipe);
  EXPECT_EQ(v.recipe->body, r.body);
  EXPECT_EQ(v.recipe->headers, r.headers);

  auto tail = b.read(s->id(), 3);  // after Last-Event-ID <id>:3
  ASSERT_EQ(tail.events.size(), 2u);
  EXPECT_EQ(tail.events[0], event(s->id(), 4));
  auto fields = b.run(b.shared->read(s->id(), 0, 0, true));  // the fields only
  EXPECT_TRUE(fields.found);
  EXPECT_EQ(fields.state, "completed");
  EXPECT_EQ(fields.count, 5u);
  EXPECT_TRUE(fields.events.empty());
  EXPECT_TRUE(fields.recipe);
  EXPECT_FALSE(b.read("st_unknown").found);
}

TEST_F(SharedStreamsTest, ProducersOnManyThreadsAtOnceLoseNothing) {
  Replica a(server_.port()), b(server_.port());
  constexpr int kThreads = 4, kStreams = 8, kEvents = 50;
  std::vector<std::string> ids(kThreads * kStreams);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kStreams; ++k) {
        auto s = a.store->create("o", false);
        ids[static_cast<std::size_t>(t * kStreams + k)] = s->id();
        for (int i = 1; i <= kEvents; ++i) s->append(event(s->id(), i));
        s->end(stream::StreamState::Completed);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& id : ids) {
    auto v = b.read_until(id, [](const auto& x) { return x.state == "completed"; });
    ASSERT_EQ(v.count, static_cast<std::uint64_t>(kEvents)) << id;
    EXPECT_EQ(v.events.back(), event(id, kEvents));
  }
}

TEST_F(SharedStreamsTest, AClaimWaitsForTheProducerToDieAndItsStreamToBeQuiet) {
  auto b = std::make_unique<Replica>(server_.port());
  std::string id;
  {
    Replica a(server_.port());
    auto s = a.store->create("o", false);
    id = s->id();
    s->append(event(id, 1));
    a.read_until(id, [](const auto& x) { return x.count == 1; });
    std::this_thread::sleep_for(3100ms);  // b's own start counts as regaining Redis
    EXPECT_FALSE(b->run(b->shared->claim(id))) << "the producer is alive";
  }  // a stops: its heartbeat goes with it; its stream stays, running
  auto v = b->read(id);
  EXPECT_FALSE(v.producer_alive);
  EXPECT_EQ(v.state, "running");
  EXPECT_TRUE(b->run(b->shared->claim(id))) << "quiet for more than 3 s, producer gone";
  EXPECT_FALSE(b->run(b->shared->claim(id))) << "claimed once";
  v = b->read(id);
  EXPECT_EQ(v.producer, b->shared->replica());
  EXPECT_TRUE(v.producer_alive);

  // The new producer carries on from where the list ends.
  auto adopted = b->store->adopt(id, "o", false, event(id, 1), {event(id, 1).size()});
  ASSERT_TRUE(adopted);
  adopted->append(event(id, 2));
  adopted->end(stream::StreamState::Failed);
  v = b->read_until(id, [](const auto& x) { return x.state == "failed"; });
  ASSERT_EQ(v.count, 2u);
  EXPECT_EQ(v.events[1], event(id, 2));
}

TEST_F(SharedStreamsTest, AStreamThatExpiresOnItsReplicaLeavesRedisToo) {
  Replica a(server_.port(), 50ms), b(server_.port(), 50ms);
  auto s = a.store->create("o", false);
  s->append(event(s->id(), 1));
  s->end(stream::StreamState::Completed);
  ASSERT_TRUE(b.read_until(s->id(), [](const auto& x) { return x.state == "completed"; }).found);
  std::this_thread::sleep_for(1100ms);  // past a's TTL and its sweep
  EXPECT_FALSE(a.store->find(s->id()));  // expired locally: a deletes its Redis copy
  auto v = b.read_until(s->id(), [](const auto& x) { return !x.found; });
  EXPECT_FALSE(v.found);
}

TEST_F(SharedStreamsTest, AnAbandonedStreamIsFoundByItsOwnerAndRequestUntilDeliveredWhole) {
  Replica a(server_.port()), b(server_.port());
  auto s = a.store->create("key:k1", false);
  s->append(event(s->id(), 1));
  const std::string key = b.shared->abandoned_key("key:k1", "fingerprint-1");
  EXPECT_EQ(key, a.shared->abandoned_key("key:k1", "fingerprint-1")) << "every replica names it alike";
  EXPECT_NE(key, a.shared->abandoned_key("key:k2", "fingerprint-1")) << "another owner";
  EXPECT_NE(key, a.shared->abandoned_key("key:k1", "fingerprint-2")) << "another request";
  EXPECT_EQ(key.find("k1"), std::string::npos) << "the owner is hashed";
  EXPECT_FALSE(b.run(b.shared->find_abandoned(key)));
  EXPECT_FALSE(b.shared->may_have_abandoned("key:k1"));
  EXPECT_FALSE(b.shared->filed(key));

  s->client_left("fingerprint-1");
  std::optional<std::string> found;
  eventually([&] { return (found = b.run(b.shared->find_abandoned(key))).has_value(); }, 3s);
  ASSERT_TRUE(found) << "filed in Redis";
  EXPECT_EQ(*found, s->id());
  // Its owner is among those every replica polls for; nobody else is.
  EXPECT_TRUE(eventually([&] { return b.shared->may_have_abandoned("key:k1"); }, 3s));
  EXPECT_TRUE(b.shared->filed(key));
  EXPECT_FALSE(b.shared->may_have_abandoned("key:k2"));
  EXPECT_FALSE(b.shared->filed(a.shared->abandoned_key("key:k1", "fingerprint-2")));
  EXPECT_FALSE(b.run(b.shared->find_abandoned(a.shared->abandoned_key("key:k2", "fingerprint-1"))));

  // Another stream of the same request filed since: forgetting the first leaves the second.
  auto later = a.store->create("key:k1", false);
  later->client_left("fingerprint-1");
  eventually([&] { return (found = b.run(b.shared->find_abandoned(key))) == later->id(); }, 3s);
  ASSERT_EQ(found, later->id());
  b.shared->delivered_whole(s->id(), "");
  EXPECT_TRUE(eventually([&] { return b.run(b.shared->had_whole(s->id())); }, 3s));
  EXPECT_EQ(b.run(b.shared->find_abandoned(key)), later->id()) << "the key names the later stream: it stays";
  EXPECT_FALSE(b.run(b.shared->had_whole(later->id())));

  // Delivered whole on its own replica: gone for every replica.
  later->end(stream::StreamState::Completed);
  later->delivered_whole();
  EXPECT_TRUE(eventually([&] { return !b.run(b.shared->find_abandoned(key)); }, 3s));
  EXPECT_TRUE(b.run(b.shared->had_whole(later->id())));

  // A filing that reaches Redis after the stream was had whole elsewhere is refused.
  auto third = a.store->create("key:k1", false);
  third->append(event(third->id(), 1));
  ASSERT_TRUE(b.read_until(third->id(), [](const SharedStreams::View& v) { return v.found; }).found);
  b.shared->delivered_whole(third->id(), "");
  ASSERT_TRUE(eventually([&] { return b.run(b.shared->had_whole(third->id())); }, 3s));
  third->client_left("fingerprint-3");
  std::this_thread::sleep_for(100ms);  // the filing's drain (2 ms) has long run
  EXPECT_FALSE(b.run(b.shared->find_abandoned(a.shared->abandoned_key("key:k1", "fingerprint-3"))));
}

TEST_F(SharedStreamsTest, WhatWasFiledIsForgottenAfterTwiceTheGracePeriod) {
  Replica a(server_.port(), 60'000ms, 150ms), b(server_.port(), 60'000ms, 150ms);
  auto s = a.store->create("key:k9", false);
  s->client_left("fp");
  const std::string key = b.shared->abandoned_key("key:k9", "fp");
  ASSERT_TRUE(eventually([&] { return b.shared->filed(key); }, 3s));
  EXPECT_TRUE(eventually([&] { return !b.shared->filed(key); }, 3s));
  EXPECT_FALSE(b.shared->may_have_abandoned("key:k9"));
  EXPECT_FALSE(b.run(b.shared->find_abandoned(key))) << "the key in Redis expired too";
}

// The poll reads the abandoners set from the newest score it has seen, inclusive, and skips the
// members it already had at that score: a filing that lands in the same Redis millisecond as one
// already polled is still seen, and neither is counted twice. (Members written straight into
// the set with one score, as two replicas filing in one millisecond would.)
TEST_F(SharedStreamsTest, FilingsInOneMillisecondAreEachSeenOnce) {
  Replica b(server_.port());
  auto conn = connect();
  auto& c = *conn;
  const std::int64_t now = redis_now_ms(c);
  ASSERT_GT(now, 0);
  const std::string score = std::to_string(now);
  const std::string set = b.cfg.redis.prefix + "rs:abandoners";
  const std::string owner = SharedStreams::owner_hash("key:same-ms");
  const std::string k1 = b.shared->abandoned_key("key:same-ms", "fp-1");
  const std::string k2 = b.shared->abandoned_key("key:same-ms", "fp-2");

  ASSERT_TRUE(c.command({"ZADD", set, score, owner + "|" + k1}).ok());
  ASSERT_TRUE(eventually([&] { return b.shared->filed(k1); }, 3s));
  std::this_thread::sleep_for(250ms);  // more polls at that score
  ASSERT_TRUE(c.command({"ZADD", set, score, owner + "|" + k2}).ok());
  ASSERT_TRUE(eventually([&] { return b.shared->filed(k2); }, 3s)) << "a second filing in the same millisecond is seen";

  // Each counted once: forgetting both leaves nothing for the owner, and later polls at that
  // score do not bring them back.
  b.shared->unfile(k1);
  EXPECT_TRUE(b.shared->may_have_abandoned("key:same-ms"));
  b.shared->unfile(k2);
  std::this_thread::sleep_for(250ms);
  EXPECT_FALSE(b.shared->filed(k1));
  EXPECT_FALSE(b.shared->filed(k2));
  EXPECT_FALSE(b.shared->may_have_abandoned("key:same-ms"));
}

// A replica that found a filing unusable forgets it only as it was when it looked: a newer filing
// of the same request, which the poll brought in meanwhile, stays.
TEST_F(SharedStreamsTest, UnfilingKeepsANewerFilingOfTheSameRequest) {
  Replica b(server_.port());
  auto conn = connect();
  auto& c = *conn;
  const std::int64_t now = redis_now_ms(c);
  ASSERT_GT(now, 0);
  const std::string set = b.cfg.redis.prefix + "rs:abandoners";
  const std::string member = SharedStreams::owner_hash("key:newer") + "|" + b.shared->abandoned_key("key:newer", "fp");
  const std::string key = b.shared->abandoned_key("key:newer", "fp");

  ASSERT_TRUE(c.command({"ZADD", set, std::to_string(now - 50), member}).ok());
  std::optional<std::int64_t> at;
  eventually([&] { return (at = b.shared->filed_at(key)).has_value(); }, 3s);
  ASSERT_EQ(at, now - 50);
  ASSERT_TRUE(c.command({"ZADD", set, std::to_string(now), member}).ok());  // filed again
  eventually([&] { return (at = b.shared->filed_at(key)) == now; }, 3s);
  ASSERT_EQ(at, now);

  b.shared->unfile(key, now - 50);  // what the caller saw before the newer filing
  EXPECT_EQ(b.shared->filed_at(key), now) << "the newer filing stays";
  EXPECT_TRUE(b.shared->may_have_abandoned("key:newer"));
  b.shared->unfile(key, now);
  EXPECT_FALSE(b.shared->filed(key));
  EXPECT_FALSE(b.shared->may_have_abandoned("key:newer"));
}

}  // namespace
}  // namespace sluice::server
