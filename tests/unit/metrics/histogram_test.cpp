#include "metrics/histogram.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include <gtest/gtest.h>

namespace sluice::metrics {
namespace {

using Cumulative = std::vector<std::uint64_t>;

TEST(Histogram, ValueEqualToABoundLandsInThatBucket) {
  HistogramFamily h("t_seconds", "help", {}, {1, 2, 5});
  h.observe({}, 1);
  EXPECT_EQ(h.snapshot({}).cumulative, (Cumulative{1, 1, 1, 1}));
  h.observe({}, 2);
  EXPECT_EQ(h.snapshot({}).cumulative, (Cumulative{1, 2, 2, 2}));
  h.observe({}, std::nextafter(2.0, 3.0));
  EXPECT_EQ(h.snapshot({}).cumulative, (Cumulative{1, 2, 3, 3}));
  h.observe({}, 5);
  EXPECT_EQ(h.snapshot({}).cumulative, (Cumulative{1, 2, 4, 4}));
}

TEST(Histogram, BelowFirstAndAboveLastBounds) {
  HistogramFamily h("t_seconds", "help", {"a"}, {1, 2, 5});
  h.observe({"x"}, -7);
  h.observe({"x"}, 0);
  h.observe({"x"}, 1000);
  h.observe({"x"}, std::numeric_limits<double>::infinity());
  h.observe({"x"}, std::nan(""));  // ignored
  auto s = h.snapshot({"x"});
  EXPECT_EQ(s.bounds, (std::vector<double>{1, 2, 5}));
  EXPECT_EQ(s.cumulative, (Cumulative{2, 2, 2, 4}));
  EXPECT_EQ(s.count, 4u);
  EXPECT_TRUE(std::isinf(s.sum));
}

TEST(Histogram, UnknownSeriesSnapshotsAsZeros) {
  HistogramFamily h("t_seconds", "help", {"a"}, {1, 2});
  h.observe({"x"}, 1.5);
  auto s = h.snapshot({"y"});
  EXPECT_EQ(s.cumulative, (Cumulative{0, 0, 0}));
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.sum, 0);
  EXPECT_EQ(h.snapshot({"x"}).sum, 1.5);
}

TEST(Histogram, TrailingInfBoundIsImplied) {
  HistogramFamily h("t_seconds", "help", {}, {1, std::numeric_limits<double>::infinity()});
  EXPECT_EQ(h.snapshot({}).bounds, (std::vector<double>{1}));
}

TEST(Histogram, RejectsBadBucketsAndTheLeLabel) {
  EXPECT_THROW(HistogramFamily("h", "", {}, {2, 1}), std::invalid_argument);
  EXPECT_THROW(HistogramFamily("h", "", {}, {1, 1}), std::invalid_argument);
  EXPECT_THROW(HistogramFamily("h", "", {}, {1, std::nan("")}), std::invalid_argument);
  EXPECT_THROW(HistogramFamily("h", "", {}, {-std::numeric_limits<double>::infinity(), 1}), std::invalid_argument);
  EXPECT_THROW(HistogramFamily("h", "", {"le"}, {1}), std::invalid_argument);
  EXPECT_NO_THROW(HistogramFamily("h", "", {}, {}));
}

TEST(Histogram, WrongNumberOfLabelValuesThrows) {
  HistogramFamily h("h", "", {"a", "b"}, {1});
  EXPECT_THROW(h.observe({"x"}, 1), std::invalid_argument);
}

}  // namespace
}  // namespace sluice::metrics
