#include "client/retry.hpp"

#include <gtest/gtest.h>

namespace sluice::client {
namespace {

namespace bhttp = boost::beast::http;

struct RetryTest : ::testing::Test {
  RetryOptions opts;
  FakeClock clock;
  FixedRandom random{0.0};
  std::optional<milliseconds> wait(int status, const bhttp::fields* h = nullptr, int retries = 0) {
    return retry_wait(status, h ? upstream::retry_hints(*h, clock) : upstream::RetryHints{}, retries, opts, random);
  }
};

TEST_F(RetryTest, RetriesTheSdkStatuses) {
  for (int s : {408, 409, 429, 500, 501, 502, 503, 504, 529, 599}) EXPECT_TRUE(wait(s)) << s;
  for (int s : {400, 401, 402, 403, 404, 413, 422}) EXPECT_FALSE(wait(s)) << s;
}

TEST_F(RetryTest, RetriesConnectionFailures) { EXPECT_TRUE(wait(0)); }

TEST_F(RetryTest, ShouldRetryHeaderOverridesTheStatus) {
  bhttp::fields no;
  no.set("x-should-retry", "false");
  EXPECT_FALSE(wait(529, &no));
  bhttp::fields yes;
  yes.set("x-should-retry", "true");
  EXPECT_TRUE(wait(400, &yes));
}

TEST_F(RetryTest, MaxRetriesBoundsTheAttempts) {
  EXPECT_TRUE(wait(529, nullptr, 1));
  EXPECT_FALSE(wait(529, nullptr, 2));
  opts.max_retries = 0;
  EXPECT_FALSE(wait(529, nullptr, 0));
}

TEST_F(RetryTest, BackoffIsTheSdkFormula) {
  // min(0.5 * 2^n, 8) * (1 - 0.25 r)
  random.set(0.0);
  EXPECT_EQ(sdk_backoff(0, opts, random), milliseconds(500));
  EXPECT_EQ(sdk_backoff(1, opts, random), milliseconds(1000));
  EXPECT_EQ(sdk_backoff(5, opts, random), milliseconds(8000));
  random.set(0.999999);
  EXPECT_EQ(sdk_backoff(0, opts, random), milliseconds(375));
  EXPECT_EQ(sdk_backoff(10, opts, random), milliseconds(6000));
}

TEST_F(RetryTest, RetryAfterMsWinsOverRetryAfter) {
  bhttp::fields h;
  h.set("retry-after-ms", "1500");
  h.set("retry-after", "7");
  EXPECT_EQ(wait(429, &h), milliseconds(1500));
}

TEST_F(RetryTest, RetryAfterSecondsAndHttpDate) {
  bhttp::fields h;
  h.set("retry-after", "2");
  EXPECT_EQ(wait(429, &h), milliseconds(2000));
  bhttp::fields d;
  clock.set_wall(std::chrono::system_clock::from_time_t(1445412470));  // 07:27:50
  d.set("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT");
  EXPECT_EQ(wait(503, &d), milliseconds(10000));
}

TEST_F(RetryTest, RetryAfterOverTheCapFallsBackToBackoff) {
  bhttp::fields h;
  h.set("retry-after", "61");
  EXPECT_EQ(wait(429, &h), milliseconds(500));
  opts.max_retry_after = milliseconds(120'000);
  EXPECT_EQ(wait(429, &h), milliseconds(61'000));
}

TEST_F(RetryTest, ZeroOrGarbageRetryAfterFallsBackToBackoff) {
  bhttp::fields h;
  h.set("retry-after", "0");
  EXPECT_EQ(wait(529, &h, 1), milliseconds(1000));
  h.set("retry-after", "soon");
  EXPECT_EQ(wait(529, &h, 1), milliseconds(1000));
}

}  // namespace
}  // namespace sluice::client
