// Tests of fault-header parsing (src/mock/faults.*) and the per-key fail counter.

#include "mock/faults.hpp"

#include <gtest/gtest.h>

#include "mock/fail_counter.hpp"

namespace sluice::mock {
namespace {

TEST(Faults, NoHeadersNoFaults) {
  Faults f;
  EXPECT_FALSE(parse_faults(FaultHeaders{}, f));
  EXPECT_FALSE(f.any());
  EXPECT_FALSE(f.retry_after_seconds);
}

TEST(Faults, ParsesCombinedList) {
  FaultHeaders h;
  h.fault = " status-529 , slow-first-byte,stall-after-3,reset-after-4,error-after-5,truncate-after-6,malformed-sse,";
  h.delay_ms = "250";
  h.retry_after = "7";
  h.error_type = "api_error";
  h.error_message = "boom";
  h.fail_times = "2";
  h.fault_key = "k1";
  Faults f;
  ASSERT_FALSE(parse_faults(h, f));
  EXPECT_EQ(f.status, 529);
  EXPECT_TRUE(f.slow_first_byte);
  EXPECT_EQ(f.first_byte_delay, std::chrono::milliseconds(250));
  EXPECT_EQ(f.stall_after, 3u);
  EXPECT_EQ(f.reset_after, 4u);
  EXPECT_EQ(f.error_after, 5u);
  EXPECT_EQ(f.truncate_after, 6u);
  EXPECT_TRUE(f.malformed_sse);
  EXPECT_TRUE(f.stream_faults());
  EXPECT_EQ(*f.retry_after_seconds, 7u);
  EXPECT_EQ(f.error_type, "api_error");
  EXPECT_EQ(f.error_message, "boom");
  EXPECT_EQ(*f.fail_times, 2u);
  EXPECT_EQ(f.fault_key, "k1");
}

TEST(Faults, DefaultsAndZeroEvents) {
  FaultHeaders h;
  h.fault = "slow-first-byte,error-after-0";
  Faults f;
  ASSERT_FALSE(parse_faults(h, f));
  EXPECT_EQ(f.first_byte_delay, std::chrono::milliseconds(2000));
  EXPECT_EQ(f.error_after, 0u);
  EXPECT_EQ(f.stall_after, kNever);
  EXPECT_EQ(f.status, 0);
}

TEST(Faults, RejectsTyposAndBadNumbers) {
  auto error_for = [](std::string_view fault, std::string_view retry = {}) {
    FaultHeaders h;
    h.fault = fault;
    h.retry_after = retry;
    Faults f;
    auto err = parse_faults(h, f);
    return err ? *err : std::string();
  };
  EXPECT_EQ(error_for("stal-after-3"), "x-mock-fault: unknown fault 'stal-after-3'");
  EXPECT_EQ(error_for("stall-after-x"), "x-mock-fault: expected a number of events in 'stall-after-x'");
  EXPECT_EQ(error_for("status-200"), "x-mock-fault: status code must be 400-599 in 'status-200'");
  EXPECT_EQ(error_for("status-"), "x-mock-fault: status code must be 400-599 in 'status-'");
  EXPECT_EQ(error_for("status-429", "soon"), "x-mock-retry-after: expected whole seconds");
  EXPECT_EQ(error_for("status-418"), "");
}

TEST(FailCounter, FailsFirstKThenSucceedsPerKey) {
  FailCounter c;
  EXPECT_TRUE(c.should_fail("a", 2));
  EXPECT_TRUE(c.should_fail("a", 2));
  EXPECT_FALSE(c.should_fail("a", 2));
  EXPECT_FALSE(c.should_fail("a", 2));
  EXPECT_TRUE(c.should_fail("b", 1));
  EXPECT_FALSE(c.should_fail("b", 1));
  EXPECT_FALSE(c.should_fail("c", 0));
  c.clear();
  EXPECT_TRUE(c.should_fail("a", 1));
}

}  // namespace
}  // namespace sluice::mock
