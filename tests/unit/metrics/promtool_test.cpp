// Checks the exposition with Prometheus's own parser and linter (`promtool check metrics`),
// using the families the gateway registers. Skipped when promtool is not installed.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "metrics/registry.hpp"

namespace sluice::metrics {
namespace {

constexpr const char* kPromtool = "/usr/bin/promtool";

// Fills a registry the way the gateway does, with awkward label values.
void fill_like_the_gateway(Registry& reg) {
  auto& requests = reg.counter("sluice_requests_total", "Requests handled, by route, status, model and project.",
                               {"route", "status", "model", "project"});
  requests.inc({"/v1/messages", "200", "claude-sonnet-4-5", "proj_1"}, 12);
  requests.inc({"/v1/chat/completions", "429", "claude-haiku-4-5", "team \"red\"\\ops\nnight"});
  requests.inc({"/v1/messages", "500", "", "proj_é"});

  auto& tokens = reg.histogram("sluice_tokens_per_request", "Tokens per request, by project and token type.",
                               {"project_id", "type"}, {10, 100, 1000, 10000, 100000});
  for (double v : {1.0, 10.0, 99.0, 5000.0, 250000.0}) tokens.observe({"proj_1", "input"}, v);
  tokens.observe({"proj_1", "output"}, 42);

  auto& duration = reg.histogram("sluice_request_duration_seconds", "Time from request to last byte.", {"route"},
                                 {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300});
  duration.observe({"/v1/messages"}, 0.0123);
  duration.observe({"/v1/messages"}, 45.5);

  auto& streams = reg.gauge("sluice_active_streams", "Streaming responses in progress.", {});
  streams.set({}, 3);

  reg.gauge_callback("sluice_breaker_state", "Circuit breaker state: 0 closed, 1 open, 2 half-open.",
                     {"provider"}, [](std::vector<Sample>& out) {
                       out.push_back({{"anthropic#0"}, 0});
                       out.push_back({{"anthropic#1"}, 1});
                     });
  reg.counter_callback("sluice_alerts_total", "Usage alerts published, by kind.", {"kind"},
                       [](std::vector<Sample>& out) {
                         out.push_back({{"large_request"}, 2});
                         out.push_back({{"usage_anomaly"}, 0});
                       });
  reg.gauge("sluice_upstream_queue_depth", "Requests waiting for an upstream connection (none yet).", {"provider"});
}

TEST(Promtool, AcceptsTheGatewayExposition) {
  if (access(kPromtool, X_OK) != 0) GTEST_SKIP() << kPromtool << " is not installed";
  Registry reg;
  fill_like_the_gateway(reg);
  std::string text = reg.render();

  char path[] = "/tmp/sluice_metrics_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream f(path, std::ios::binary);
    f << text;
  }
  std::string cmd = std::string(kPromtool) + " check metrics < " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string output;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) output += buf;
  int status = pclose(p);
  std::remove(path);

  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << output << "\n--- exposition ---\n" << text;
  EXPECT_EQ(output, "") << "\n--- exposition ---\n" << text;
}

}  // namespace
}  // namespace sluice::metrics
