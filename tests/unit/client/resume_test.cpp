// Automatic resume of a broken stream from a sluice gateway: the fake server plays the gateway's
// side of the contract (x-sluice-stream-id, `id: <id>:<seq>`, GET /v1/streams/<id> with
// Last-Event-ID replaying the events after seq).

#include "sluice/client/client.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "unit/client/fake_server.hpp"
#include "unit/client/test_stream.hpp"

namespace sluice::client {
namespace {

using namespace test;
using namespace std::chrono_literals;

const std::string kStream = "stream_abc";

ClientOptions options_for(const FakeServer& s) {
  ClientOptions o;
  o.base_url = s.url();
  o.api_key = "sk-test";
  o.timeouts.total = 10s;
  o.retry.initial_delay = 5ms;
  return o;
}

MessageRequest hello_request() {
  MessageRequest r;
  r.model = "claude-test";
  r.messages.push_back(MessageParam::user("hi"));
  return r;
}

// Events [from, to) of the hello stream with ids <stream>:<seq> (seq = index + 1).
void send_events(FakeConn& c, std::size_t from, std::size_t to) {
  auto events = hello_events();
  for (std::size_t i = from; i < to && i < events.size(); ++i) {
    c.chunk(sse(events[i].first, events[i].second, kStream + ":" + std::to_string(i + 1)));
  }
}

// What the resume request asks for: the seq after the Last-Event-ID, checked against the stream.
std::size_t resume_from(const FakeRequest& r) {
  auto id = r.header("last-event-id");
  EXPECT_EQ(id.substr(0, kStream.size() + 1), kStream + ":");
  return std::stoul(id.substr(kStream.size() + 1));
}

struct Collected {
  std::string text;
  int starts = 0;
  int stops = 0;
  StreamCallbacks callbacks() {
    StreamCallbacks cb;
    cb.on_text = [this](std::size_t, std::string_view t) { text += t; };
    cb.on_message_start = [this](const Message&) { ++starts; };
    cb.on_stop = [this](const Message&) { ++stops; };
    return cb;
  }
};

TEST(ClientResume, BrokenStreamResumesWithLastEventIdAndNoDuplicates) {
  FakeServer server([](const FakeRequest& r, int i, FakeConn& c) {
    if (i == 0) {
      c.sse_head({{"x-sluice-stream-id", kStream}, {"request-id", "req_r"}});
      send_events(c, 0, 3);  // message_start, block start, "Hel"; then the connection drops
      return;
    }
    ASSERT_EQ(r.method, "GET");
    ASSERT_EQ(r.target, "/v1/streams/" + kStream);
    c.sse_head();
    send_events(c, resume_from(r), 99);
    c.finish();
  });
  Client client(options_for(server));
  Collected got;
  auto msg = client.messages.stream(hello_request(), got.callbacks());
  ASSERT_TRUE(msg) << msg.error().to_string();
  EXPECT_EQ(got.text, "Hello world");
  EXPECT_EQ(got.starts, 1);
  EXPECT_EQ(got.stops, 1);
  EXPECT_EQ(msg->text(), "Hello world");
  EXPECT_EQ(msg->usage.output_tokens, 3);
  EXPECT_EQ(msg->request_id, "req_r");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].header("last-event-id"), kStream + ":3");
  EXPECT_EQ(reqs[1].header("x-api-key"), "sk-test");  // same auth as the stream
  EXPECT_EQ(reqs[1].header("accept"), "text/event-stream");
}

TEST(ClientResume, AnEventCutInTheMiddleIsAskedForAgain) {
  FakeServer server([](const FakeRequest& r, int i, FakeConn& c) {
    if (i == 0) {
      c.sse_head({{"x-sluice-stream-id", kStream}});
      send_events(c, 0, 3);
      auto fourth = sse(hello_events()[3].first, hello_events()[3].second, kStream + ":4");
      c.chunk(fourth.substr(0, fourth.size() / 2));
      return;
    }
    c.sse_head();
    send_events(c, resume_from(r), 99);
    c.finish();
  });
  Client client(options_for(server));
  Collected got;
  auto msg = client.messages.stream(hello_request(), got.callbacks());
  ASSERT_TRUE(msg) << msg.error().to_string();
  EXPECT_EQ(got.text, "Hello world");
  EXPECT_EQ(server.requests()[1].header("last-event-id"), kStream + ":3");
}

TEST(ClientResume, ReplayedEventsAlreadySeenAreDropped) {
  FakeServer server([](const FakeRequest&, int i, FakeConn& c) {
    if (i == 0) {
      c.sse_head({{"x-sluice-stream-id", kStream}});
      send_events(c, 0, 4);
      return;
    }
    c.sse_head();
    send_events(c, 0, 99);  // a server replaying from the start: the client keeps only new ones
    c.finish();
  });
  Client client(options_for(server));
  Collected got;
  auto msg = client.messages.stream(hello_request(), got.callbacks());
  ASSERT_TRUE(msg) << msg.error().to_string();
  EXPECT_EQ(got.text, "Hello world");
  EXPECT_EQ(got.starts, 1);
}

TEST(ClientResume, SeveralDropsResumeEachTimeFromWhereTheyStopped) {
  FakeServer server([](const FakeRequest& r, int i, FakeConn& c) {
    std::size_t from = i == 0 ? 0 : resume_from(r);
    if (i == 0) {
      c.sse_head({{"x-sluice-stream-id", kStream}});
    } else {
      c.sse_head();
    }
    send_events(c, from, from + 2);  // two events per connection, then a drop
    if (from + 2 >= hello_events().size()) c.finish();
  });
  auto opts = options_for(server);
  opts.retry.max_resume_attempts = 5;
  Client client(opts);
  Collected got;
  auto msg = client.messages.stream(hello_request(), got.callbacks());
  ASSERT_TRUE(msg) << msg.error().to_string();
  EXPECT_EQ(got.text, "Hello world");
  EXPECT_EQ(server.requests().size(), 4u);
}

TEST(ClientResume, UnknownStreamIsANotFoundError) {
  FakeServer server([](const FakeRequest&, int i, FakeConn& c) {
    if (i == 0) {
      c.sse_head({{"x-sluice-stream-id", kStream}});
      send_events(c, 0, 3);
      return;
    }
    c.json(404, R"({"type":"error","error":{"type":"not_found_error","message":"stream expired"}})");
  });
  Client client(options_for(server));
  auto msg = client.messages.stream(hello_request(), {});
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().status, 404);
  EXPECT_EQ(msg.error().type, "not_found_error");
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(ClientResume, ResumeAttemptsAreBounded) {
  FakeServer server([](const FakeRequest&, int i, FakeConn& c) {
    c.sse_head({{"x-sluice-stream-id", kStream}});
    if (i == 0) send_events(c, 0, 3);  // later connections drop before any event
  });
  auto opts = options_for(server);
  opts.retry.max_resume_attempts = 3;
  Client client(opts);
  auto msg = client.messages.stream(hello_request(), {});
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().kind, ErrorKind::StreamBroken);
  EXPECT_EQ(server.requests().size(), 4u);  // the stream and three resumes
}

TEST(ClientResume, ATransientResumeFailureIsRetried) {
  FakeServer server([](const FakeRequest& r, int i, FakeConn& c) {
    if (i == 0) {
      c.sse_head({{"x-sluice-stream-id", kStream}});
      send_events(c, 0, 3);
    } else if (i == 1) {
      c.json(503, R"({"type":"error","error":{"type":"api_error","message":"busy"}})");
    } else {
      c.sse_head();
      send_events(c, resume_from(r), 99);
      c.finish();
    }
  });
  Client client(options_for(server));
  Collected got;
  auto msg = client.messages.stream(hello_request(), got.callbacks());
  ASSERT_TRUE(msg) << msg.error().to_string();
  EXPECT_EQ(got.text, "Hello world");
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(ClientResume, WithoutAStreamIdADropIsAnError) {
  FakeServer server([](const FakeRequest&, int, FakeConn& c) {
    c.sse_head();
    send_events(c, 0, 3);
  });
  Client client(options_for(server));
  Collected got;
  auto msg = client.messages.stream(hello_request(), got.callbacks());
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().kind, ErrorKind::StreamBroken);
  EXPECT_EQ(got.text, "Hel");
  EXPECT_EQ(server.requests().size(), 1u);
}

}  // namespace
}  // namespace sluice::client
