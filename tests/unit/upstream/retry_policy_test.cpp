#include "upstream/retry_policy.hpp"

#include <gtest/gtest.h>

namespace sluice::upstream {
namespace {

namespace bhttp = boost::beast::http;
using std::chrono::milliseconds;
using std::chrono::seconds;

struct Fixture {
  FakeClock clock;
  FixedRandom random{0.5};
  RetryConfig cfg;
  Clock::time_point deadline = clock.now() + std::chrono::minutes(10);

  RetryDecision status(int code, const bhttp::fields* h = nullptr, int attempt = 1) {
    AttemptOutcome o;
    o.status = code;
    if (h != nullptr) o.hints = retry_hints(*h, clock);
    return decide(o, attempt, deadline, cfg, clock, random);
  }
};

// The retry table: status x headers x phase. Each row fails if the behaviour changes.
TEST(RetryPolicy, StatusTable) {
  Fixture f;
  for (int code : {408, 409, 429, 500, 502, 503, 504, 529}) {
    EXPECT_TRUE(f.status(code).retry) << code;
  }
  for (int code : {200, 400, 401, 402, 403, 404, 413, 422, 501, 505}) {
    EXPECT_FALSE(f.status(code).retry) << code;
  }
}

TEST(RetryPolicy, ShouldRetryHeaderOverrides) {
  Fixture f;
  bhttp::fields no;
  no.set("x-should-retry", "false");
  EXPECT_FALSE(f.status(529, &no).retry);
  EXPECT_FALSE(f.status(429, &no).retry);
  bhttp::fields yes;
  yes.set("x-should-retry", "true");
  EXPECT_TRUE(f.status(501, &yes).retry) << "true allows a 5xx outside the list";
  EXPECT_FALSE(f.status(400, &yes).retry) << "never another 4xx";
  EXPECT_FALSE(f.status(404, &yes).retry);
}

TEST(RetryPolicy, TransportAndInbandPhases) {
  Fixture f;
  AttemptOutcome connect;
  connect.transport = ErrorKind::UpstreamFailed;
  EXPECT_TRUE(decide(connect, 1, f.deadline, f.cfg, f.clock, f.random).retry);
  AttemptOutcome timeout;
  timeout.transport = ErrorKind::Timeout;
  EXPECT_TRUE(decide(timeout, 1, f.deadline, f.cfg, f.clock, f.random).retry);
  for (const char* t : {"overloaded_error", "api_error"}) {
    AttemptOutcome o;
    o.status = 200;
    o.inband_error_type = t;
    EXPECT_TRUE(decide(o, 1, f.deadline, f.cfg, f.clock, f.random).retry) << t;
  }
  for (const char* t : {"invalid_request_error", "rate_limit_error_unknown", "permission_error"}) {
    AttemptOutcome o;
    o.status = 200;
    o.inband_error_type = t;
    EXPECT_FALSE(decide(o, 1, f.deadline, f.cfg, f.clock, f.random).retry) << t;
  }
}

TEST(RetryPolicy, AttemptsAreCapped) {
  Fixture f;
  EXPECT_TRUE(f.status(529, nullptr, 1).retry);
  EXPECT_TRUE(f.status(529, nullptr, 2).retry);
  auto last = f.status(529, nullptr, 3);
  EXPECT_FALSE(last.retry);
  EXPECT_STREQ(last.reason, "exhausted");
  f.cfg.max_attempts = 1;
  EXPECT_FALSE(f.status(529).retry);
}

TEST(RetryPolicy, BackoffIsFullJitterWithinBounds) {
  RetryConfig cfg;
  FixedRandom lo(0.0), hi(0.999999);
  for (int n = 0; n < 10; ++n) {
    auto ceiling = std::min<std::int64_t>(500LL << n, 8000);
    EXPECT_EQ(backoff(n, cfg, lo).count(), 0) << n;
    EXPECT_LE(backoff(n, cfg, hi).count(), ceiling) << n;
    EXPECT_GE(backoff(n, cfg, hi).count(), ceiling - 1) << n;
  }
  FixedRandom half(0.5);
  EXPECT_EQ(backoff(0, cfg, half).count(), 250);
  EXPECT_EQ(backoff(1, cfg, half).count(), 500);
  EXPECT_EQ(backoff(5, cfg, half).count(), 4000) << "capped at 8 s";
  EXPECT_EQ(backoff(40, cfg, half).count(), 4000) << "no overflow for large n";
}

TEST(RetryPolicy, RetryAfterForms) {
  FakeClock clock;
  bhttp::fields h;
  EXPECT_FALSE(retry_hints(h, clock).retry_after);
  h.set("retry-after", "3");
  EXPECT_EQ(retry_hints(h, clock).retry_after->count(), 3000);
  h.set("retry-after", "0.25");
  EXPECT_EQ(retry_hints(h, clock).retry_after->count(), 250);
  h.set("retry-after-ms", "1500");
  EXPECT_EQ(retry_hints(h, clock).retry_after->count(), 1500) << "retry-after-ms wins";
  h.erase("retry-after-ms");
  clock.set_wall(std::chrono::system_clock::from_time_t(1445412480));  // Wed, 21 Oct 2015 07:28:00 GMT
  h.set("retry-after", "Wed, 21 Oct 2015 07:28:07 GMT");
  EXPECT_EQ(retry_hints(h, clock).retry_after->count(), 7000);
  h.set("retry-after", "Wed, 21 Oct 2015 07:27:00 GMT");
  EXPECT_FALSE(retry_hints(h, clock).retry_after) << "a date in the past is no wait";
  h.set("retry-after", "soon");
  EXPECT_FALSE(retry_hints(h, clock).retry_after);
  h.set("retry-after", "-4");
  EXPECT_FALSE(retry_hints(h, clock).retry_after);
}

TEST(RetryPolicy, HonoursRetryAfterAndGivesUpPastTheDeadline) {
  Fixture f;
  bhttp::fields h;
  h.set("retry-after", "2");
  auto d = f.status(429, &h);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.wait.count(), 2000);
  f.deadline = f.clock.now() + seconds(1);
  auto late = f.status(429, &h);
  EXPECT_FALSE(late.retry);
  EXPECT_STREQ(late.reason, "deadline");
  f.deadline = f.clock.now() + std::chrono::minutes(10);
  h.set("retry-after", "120");
  auto too_long = f.status(429, &h);
  EXPECT_FALSE(too_long.retry) << "longer than max_retry_after: the client gets the 429 and waits itself";
}

TEST(RetryPolicy, NoHeadersMeansBackoff) {
  Fixture f;
  auto d = f.status(503, nullptr, 2);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.wait.count(), 500) << "second retry: uniform(0, 1000) at 0.5";
}

}  // namespace
}  // namespace sluice::upstream
