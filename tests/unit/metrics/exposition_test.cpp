#include "metrics/exposition.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace sluice::metrics {
namespace {

TEST(Exposition, FormatsIntegersWithoutExponent) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(-0.0), "0");
  EXPECT_EQ(format_value(42), "42");
  EXPECT_EQ(format_value(-3), "-3");
  EXPECT_EQ(format_value(1e6), "1000000");
  EXPECT_EQ(format_value(9007199254740992.0), "9007199254740992");
}

TEST(Exposition, FormatsFractionsAndSpecialValues) {
  EXPECT_EQ(format_value(0.5), "0.5");
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(0.005), "0.005");
  EXPECT_EQ(format_value(1e20), "1e+20");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
}

TEST(Exposition, ValidatesMetricAndLabelNames) {
  EXPECT_TRUE(valid_metric_name("sluice_requests_total"));
  EXPECT_TRUE(valid_metric_name("a:b_c9"));
  EXPECT_TRUE(valid_metric_name("_x"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_FALSE(valid_metric_name("9lives"));
  EXPECT_FALSE(valid_metric_name("has-dash"));
  EXPECT_FALSE(valid_metric_name("has space"));

  EXPECT_TRUE(valid_label_name("project_id"));
  EXPECT_TRUE(valid_label_name("_private"));
  EXPECT_FALSE(valid_label_name(""));
  EXPECT_FALSE(valid_label_name("__reserved"));
  EXPECT_FALSE(valid_label_name("a:b"));
  EXPECT_FALSE(valid_label_name("1st"));
}

TEST(Exposition, EscapesLabelValuesAndHelp) {
  std::string v;
  append_label_value(v, "a\\b\"c\nd\te");
  EXPECT_EQ(v, "a\\\\b\\\"c\\nd\te");
  std::string h;
  append_help(h, "a\\b\"c\nd");
  EXPECT_EQ(h, "a\\\\b\"c\\nd");
}

}  // namespace
}  // namespace sluice::metrics
