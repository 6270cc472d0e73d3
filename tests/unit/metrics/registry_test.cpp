#include "metrics/registry.hpp"

#include <atomic>
#include <cmath>
#include <map>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

namespace sluice::metrics {
namespace {

TEST(Registry, RendersCounterWithEscapedLabelsAndHelp) {
  Registry reg;
  auto& c = reg.counter("sluice_test_total", "Counts \\ things\nacross lines", {"a", "b"});
  c.inc({"x\"y", "back\\slash\nnl"}, 2);
  c.inc({"a", "b"});
  c.inc({"a", "b"}, 0.5);
  EXPECT_EQ(reg.render(),
            "# HELP sluice_test_total Counts \\\\ things\\nacross lines\n"
            "# TYPE sluice_test_total counter\n"
            "sluice_test_total{a=\"a\",b=\"b\"} 1.5\n"
            "sluice_test_total{a=\"x\\\"y\",b=\"back\\\\slash\\nnl\"} 2\n");
  EXPECT_EQ(c.value({"a", "b"}), 1.5);
  EXPECT_EQ(c.value({"never", "seen"}), 0);
}

TEST(Registry, CounterIgnoresNegativeAndNaNIncrements) {
  Registry reg;
  auto& c = reg.counter("c_total", "h", {});
  c.inc({}, 3);
  c.inc({}, -1);
  c.inc({}, std::nan(""));
  EXPECT_EQ(c.value({}), 3);
}

TEST(Registry, RendersGaugeWithoutLabels) {
  Registry reg;
  auto& g = reg.gauge("sluice_active_streams", "Streams open now.", {});
  g.set({}, 4);
  g.add({}, -1.5);
  EXPECT_EQ(g.value({}), 2.5);
  EXPECT_EQ(reg.render(),
            "# HELP sluice_active_streams Streams open now.\n"
            "# TYPE sluice_active_streams gauge\n"
            "sluice_active_streams 2.5\n");
}

TEST(Registry, RendersHistogramCumulativeWithInfSumAndCount) {
  Registry reg;
  auto& h = reg.histogram("sluice_tokens_per_request", "Tokens per request.", {"project_id", "type"}, {10, 100});
  h.observe({"p\"1", "input"}, 10);
  h.observe({"p\"1", "input"}, 50);
  h.observe({"p\"1", "input"}, 1000.5);
  h.observe({"a", "output"}, 0.25);
  EXPECT_EQ(reg.render(),
            "# HELP sluice_tokens_per_request Tokens per request.\n"
            "# TYPE sluice_tokens_per_request histogram\n"
            "sluice_tokens_per_request_bucket{project_id=\"a\",type=\"output\",le=\"10\"} 1\n"
            "sluice_tokens_per_request_bucket{project_id=\"a\",type=\"output\",le=\"100\"} 1\n"
            "sluice_tokens_per_request_bucket{project_id=\"a\",type=\"output\",le=\"+Inf\"} 1\n"
            "sluice_tokens_per_request_sum{project_id=\"a\",type=\"output\"} 0.25\n"
            "sluice_tokens_per_request_count{project_id=\"a\",type=\"output\"} 1\n"
            "sluice_tokens_per_request_bucket{project_id=\"p\\\"1\",type=\"input\",le=\"10\"} 1\n"
            "sluice_tokens_per_request_bucket{project_id=\"p\\\"1\",type=\"input\",le=\"100\"} 2\n"
            "sluice_tokens_per_request_bucket{project_id=\"p\\\"1\",type=\"input\",le=\"+Inf\"} 3\n"
            "sluice_tokens_per_request_sum{project_id=\"p\\\"1\",type=\"input\"} 1060.5\n"
            "sluice_tokens_per_request_count{project_id=\"p\\\"1\",type=\"input\"} 3\n");
}

TEST(Registry, HistogramWithoutLabelsRendersOnlyLe) {
  Registry reg;
  auto& h = reg.histogram("d_seconds", "D.", {}, {0.005, 0.5});
  h.observe({}, 0.1);
  EXPECT_EQ(reg.render(),
            "# HELP d_seconds D.\n"
            "# TYPE d_seconds histogram\n"
            "d_seconds_bucket{le=\"0.005\"} 0\n"
            "d_seconds_bucket{le=\"0.5\"} 1\n"
            "d_seconds_bucket{le=\"+Inf\"} 1\n"
            "d_seconds_sum 0.1\n"
            "d_seconds_count 1\n");
}

TEST(Registry, EmptyFamiliesRenderHeadersInRegistrationOrder) {
  Registry reg;
  reg.gauge("zeta", "Z.", {"a"});
  reg.counter("alpha_total", "A.", {});
  reg.histogram("mid_seconds", "M.", {"a"}, {1});
  EXPECT_EQ(reg.render(),
            "# HELP zeta Z.\n# TYPE zeta gauge\n"
            "# HELP alpha_total A.\n# TYPE alpha_total counter\n"
            "# HELP mid_seconds M.\n# TYPE mid_seconds histogram\n");
}

TEST(Registry, CallbackFamiliesAreComputedAtScrapeAndSorted) {
  Registry reg;
  int state = 0;
  reg.gauge_callback("sluice_breaker_state", "0 closed, 1 open, 2 half-open.", {"provider"},
                     [&](std::vector<Sample>& out) {
                       out.push_back({{"openai"}, static_cast<double>(state)});
                       out.push_back({{"anthropic"}, 1});
                     });
  reg.counter_callback("sluice_alerts_total", "Alerts published.", {"kind"},
                       [](std::vector<Sample>& out) { out.push_back({{"large_request"}, 3}); });
  state = 2;
  EXPECT_EQ(reg.render(),
            "# HELP sluice_breaker_state 0 closed, 1 open, 2 half-open.\n"
            "# TYPE sluice_breaker_state gauge\n"
            "sluice_breaker_state{provider=\"anthropic\"} 1\n"
            "sluice_breaker_state{provider=\"openai\"} 2\n"
            "# HELP sluice_alerts_total Alerts published.\n"
            "# TYPE sluice_alerts_total counter\n"
            "sluice_alerts_total{kind=\"large_request\"} 3\n");
}

TEST(Registry, CallbackWithWrongLabelCountThrowsAtRender) {
  Registry reg;
  reg.gauge_callback("g", "h", {"a"}, [](std::vector<Sample>& out) { out.push_back({{}, 1}); });
  EXPECT_THROW(reg.render(), std::invalid_argument);
}

TEST(Registry, RejectsInvalidRegistrations) {
  Registry reg;
  EXPECT_THROW(reg.counter("bad-name_total", "h", {}), std::invalid_argument);
  EXPECT_THROW(reg.counter("requests", "h", {}), std::invalid_argument);  // not *_total
  EXPECT_THROW(reg.counter_callback("requests", "h", {}, [](auto&) {}), std::invalid_argument);
  EXPECT_THROW(reg.gauge("g", "h", {"ok", "not ok"}), std::invalid_argument);
  EXPECT_THROW(reg.gauge("g", "h", {"__name__"}), std::invalid_argument);
  EXPECT_THROW(reg.gauge("g", "h", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(reg.gauge("wide", "h", {"a", "b", "c", "d", "e", "f", "g", "h", "i"}), std::invalid_argument);  // > kMaxLabels
  EXPECT_THROW(reg.gauge_callback("g", "h", {}, nullptr), std::invalid_argument);
  reg.gauge("g", "h", {});
  EXPECT_THROW(reg.gauge("g", "h", {}), std::invalid_argument);
  EXPECT_THROW(reg.counter_callback("g", "h", {}, [](auto&) {}), std::invalid_argument);
  reg.histogram("lat", "h", {}, {1});
  EXPECT_THROW(reg.gauge("lat_count", "h", {}), std::invalid_argument);  // collides with lat's samples
  reg.gauge("other", "h", {});
  EXPECT_THROW(reg.histogram("other", "h", {}, {1}), std::invalid_argument);
}

TEST(Registry, WrongNumberOfLabelValuesThrows) {
  Registry reg;
  auto& c = reg.counter("c_total", "h", {"a", "b"});
  EXPECT_THROW(c.inc({"only one"}), std::invalid_argument);
  auto& g = reg.gauge("g", "h", {});
  EXPECT_THROW(g.set({"extra"}, 1), std::invalid_argument);
}

TEST(Registry, UpdatesLandOnTheirOwnSeriesWhateverTheOrder) {
  // Families remember the last series they updated: cycling through more series than that,
  // with values that are prefixes of one another, and growing the map by thousands of series
  // (rehashes) in between, every update still lands on its own series.
  Registry reg;
  auto& c = reg.counter("c_total", "h", {"project", "type"});
  auto& h = reg.histogram("h_tokens", "h", {"project", "type"}, {10, 100});
  const std::vector<Labels> cycle{{"p", "input"}, {"p", "output"}, {"p", ""},       {"", "input"},
                                  {"pp", "input"}, {"p", "inpu"},  {"p", "input "}};
  std::map<Labels, int> expected;
  for (int round = 0; round < 50; ++round) {
    for (std::size_t i = 0; i < cycle.size(); ++i) {
      if ((round + i) % 3 == 0) continue;  // an irregular pattern, not a fixed rotation
      c.inc(cycle[i], static_cast<double>(i + 1));
      h.observe(cycle[i], static_cast<double>(i + 1));
      expected[cycle[i]] += static_cast<int>(i + 1);
    }
    for (int n = 0; n < 100; ++n) c.inc({"filler", std::to_string(round * 100 + n)});
  }
  for (const auto& [labels, sum] : expected) {
    EXPECT_EQ(c.value(labels), sum) << labels[0] << "/" << labels[1];
    EXPECT_EQ(h.snapshot(labels).sum, sum) << labels[0] << "/" << labels[1];
  }
  EXPECT_EQ(c.value({"filler", "4999"}), 1);
}

TEST(Registry, ConcurrentIncrementsSumExactly) {
  Registry reg;
  auto& c = reg.counter("c_total", "h", {"route", "thread"});
  auto& h = reg.histogram("h_seconds", "h", {"route"}, {0.5, 1});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50'000;
  std::atomic<bool> done{false};
  std::thread scraper([&] {  // renders concurrently, as Prometheus would
    while (!done.load()) (void)reg.render();
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Labels shared{"/v1/messages", "all"};
      Labels own{"/v1/messages", std::to_string(t)};
      for (int i = 0; i < kPerThread; ++i) {
        c.inc(shared);
        c.inc(own, 2);
        h.observe({"/v1/messages"}, 0.75);
      }
    });
  }
  for (auto& th : threads) th.join();
  done = true;
  scraper.join();
  EXPECT_EQ(c.value({"/v1/messages", "all"}), kThreads * kPerThread);
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(c.value({"/v1/messages", std::to_string(t)}), 2 * kPerThread);
  auto s = h.snapshot({"/v1/messages"});
  EXPECT_EQ(s.count, static_cast<std::uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{0, s.count, s.count}));
  EXPECT_EQ(s.sum, 0.75 * kThreads * kPerThread);
}

}  // namespace
}  // namespace sluice::metrics
