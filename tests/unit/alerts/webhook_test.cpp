#include "alerts/webhook.hpp"

#include <gtest/gtest.h>

#include "alerts/settings.hpp"

namespace sluice::alerts {
namespace {

WebhookTarget parse_ok(const char* url) {
  std::string error;
  auto t = parse_webhook_url(url, error);
  EXPECT_TRUE(t.has_value()) << url << ": " << error;
  return t.value_or(WebhookTarget{});
}

TEST(WebhookUrl, DefaultsPortAndPath) {
  auto t = parse_ok("http://example.com");
  EXPECT_FALSE(t.tls);
  EXPECT_EQ(t.host, "example.com");
  EXPECT_EQ(t.port, "80");
  EXPECT_EQ(t.host_header, "example.com");
  EXPECT_EQ(t.target, "/");
}

TEST(WebhookUrl, KeepsPathAndQuery) {
  auto t = parse_ok("https://hooks.example.com/services/T0/B1?token=x%20y");
  EXPECT_TRUE(t.tls);
  EXPECT_EQ(t.port, "443");
  EXPECT_EQ(t.host_header, "hooks.example.com");
  EXPECT_EQ(t.target, "/services/T0/B1?token=x%20y");
}

TEST(WebhookUrl, ExplicitPortsAndIpv6) {
  auto t = parse_ok("http://127.0.0.1:8080/a");
  EXPECT_EQ(t.port, "8080");
  EXPECT_EQ(t.host_header, "127.0.0.1:8080");
  auto v6 = parse_ok("https://[::1]:8443/x");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.host_header, "[::1]:8443");
  EXPECT_EQ(parse_ok("https://example.com:443/").host_header, "example.com");
}

TEST(WebhookUrl, RejectsOtherSchemesCredentialsAndGarbage) {
  for (const char* url : {"ftp://example.com/", "not a url", "http://user:pw@example.com/", "http:///path",
                          "http://example.com/#frag", "example.com/hook"}) {
    std::string error;
    EXPECT_FALSE(parse_webhook_url(url, error).has_value()) << url;
    EXPECT_FALSE(error.empty()) << url;
  }
}

TEST(WebhookVerdict, DeliveredRetriedOrFailed) {
  EXPECT_EQ(classify({200, ""}), Verdict::Delivered);
  EXPECT_EQ(classify({204, ""}), Verdict::Delivered);
  EXPECT_EQ(classify({0, "connection refused"}), Verdict::Retry);
  EXPECT_EQ(classify({429, ""}), Verdict::Retry);
  EXPECT_EQ(classify({500, ""}), Verdict::Retry);
  EXPECT_EQ(classify({503, ""}), Verdict::Retry);
  EXPECT_EQ(classify({400, ""}), Verdict::Fail);
  EXPECT_EQ(classify({404, ""}), Verdict::Fail);
  EXPECT_EQ(classify({301, ""}), Verdict::Fail);
}

TEST(AlertSettings, DefaultsAreValidAndMistakesAreNamed) {
  EXPECT_EQ(settings_error(Settings{}), "");
  Settings s;
  s.webhook_url = "https://hooks.example.com/x";
  EXPECT_EQ(settings_error(s), "");
  s.webhook_url = "ftp://x";
  EXPECT_NE(settings_error(s).find("webhook_url"), std::string::npos);
  s = Settings{};
  s.baseline_hours = 0;
  EXPECT_NE(settings_error(s).find("baseline_hours"), std::string::npos);
  s = Settings{};
  s.anomaly_factor = -1;
  EXPECT_NE(settings_error(s).find("anomaly_factor"), std::string::npos);
  s = Settings{};
  s.webhook_attempts = 0;
  EXPECT_NE(settings_error(s).find("webhook_attempts"), std::string::npos);
  s = Settings{};
  s.webhook_timeout = std::chrono::milliseconds(0);
  EXPECT_NE(settings_error(s).find("webhook_timeout"), std::string::npos);
}

}  // namespace
}  // namespace sluice::alerts
