#include "client/event_id.hpp"

#include <gtest/gtest.h>

namespace sluice::client {
namespace {

TEST(EventId, ParsesSeqOfTheStream) {
  EXPECT_EQ(event_seq("abc:1", "abc"), 1u);
  EXPECT_EQ(event_seq("abc:123456", "abc"), 123456u);
  EXPECT_EQ(event_seq("a:b:c:7", "a:b:c"), 7u);
}

TEST(EventId, RejectsOtherForms) {
  EXPECT_FALSE(event_seq("", "abc"));
  EXPECT_FALSE(event_seq("abc", "abc"));
  EXPECT_FALSE(event_seq("abc:", "abc"));
  EXPECT_FALSE(event_seq("abd:1", "abc"));
  EXPECT_FALSE(event_seq("abc:1x", "abc"));
  EXPECT_FALSE(event_seq("abc:-1", "abc"));
  EXPECT_FALSE(event_seq("abc:1", ""));
}

TEST(EventId, LastEventIdRoundTrips) {
  EXPECT_EQ(last_event_id("s1", 42), "s1:42");
  EXPECT_EQ(event_seq(last_event_id("s1", 42), "s1"), 42u);
}

}  // namespace
}  // namespace sluice::client
