#include "alerts/notifier.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "unit/alerts/webhook_server.hpp"
#include "unit/eventually.hpp"

namespace sluice::alerts {
namespace {

using namespace std::chrono_literals;
using testing::WebhookServer;

using test_support::eventually;

Alert sample_alert(const std::string& request_id = "req_1") {
  Alert a;
  a.kind = kLargeRequest;
  a.project = "proj_1";
  a.key_id = "key_1";
  a.request_id = request_id;
  a.model = "claude-sonnet-4-5";
  a.tokens = 12'345;
  a.threshold = 10'000;
  a.ts_ms = 1'700'000'000'000;
  a.message = "request " + request_id + " used 12345 tokens";
  return a;
}

Settings webhook_settings(const std::string& url) {
  Settings s;
  s.webhook_url = url;
  s.webhook_backoff = 10ms;
  s.webhook_timeout = 2'000ms;
  return s;
}

// A file the notifier logs to, read back by the test.
class LogFile {
 public:
  LogFile() : f_(std::tmpfile()) {
    if (f_ == nullptr) throw std::runtime_error("tmpfile failed");
  }
  ~LogFile() { std::fclose(f_); }
  std::FILE* get() { return f_; }
  std::string text() {
    std::fflush(f_);
    std::rewind(f_);
    std::string out;
    char buf[1024];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f_)) > 0) out.append(buf, n);
    return out;
  }

 private:
  std::FILE* f_;
};

// A loopback port with nothing listening on it.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(Notifier, RetriesServerErrorsThenDelivers) {
  WebhookServer server({500, 500, 200});
  Notifier n(webhook_settings(server.url("/hooks/alert?team=ops")), nullptr);
  Alert a = sample_alert();
  n.publish(a);
  ASSERT_TRUE(eventually([&] { return n.stats().delivered == 1; }));
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  for (const auto& r : reqs) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/hooks/alert?team=ops");
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(r.body, a.to_json());
  }
  auto j = boost::json::parse(reqs.back().body).as_object();
  EXPECT_EQ(j.at("kind").as_string(), "large_request");
  EXPECT_EQ(j.at("project").as_string(), "proj_1");
  EXPECT_EQ(j.at("request_id").as_string(), "req_1");
  EXPECT_EQ(j.at("tokens").as_int64(), 12'345);
  auto st = n.stats();
  EXPECT_EQ(st.published, 1u);
  EXPECT_EQ(st.failed, 0u);
  EXPECT_EQ(st.dropped, 0u);
}

TEST(Notifier, RetriesTooManyRequests) {
  WebhookServer server({429, 200});
  Notifier n(webhook_settings(server.url()), nullptr);
  n.publish(sample_alert());
  ASSERT_TRUE(eventually([&] { return n.stats().delivered == 1; }));
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(Notifier, ClientErrorFailsWithoutRetry) {
  WebhookServer server({404, 200});
  LogFile log;
  {
    Notifier n(webhook_settings(server.url()), log.get());
    n.publish(sample_alert());
    ASSERT_TRUE(eventually([&] { return n.stats().failed == 1; }));
    EXPECT_EQ(n.stats().delivered, 0u);
  }
  EXPECT_EQ(server.requests().size(), 1u);
  auto text = log.text();
  EXPECT_NE(text.find("{\"event\":\"alert_webhook_failed\",\"kind\":\"large_request\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"attempts\":1,\"error\":\"HTTP 404\""), std::string::npos) << text;
}

TEST(Notifier, UnreachableWebhookFailsAfterAllAttemptsAndStopsPromptly) {
  auto s = webhook_settings("http://127.0.0.1:" + std::to_string(closed_port()) + "/hook");
  s.webhook_attempts = 3;
  LogFile log;
  auto start = std::chrono::steady_clock::now();
  {
    Notifier n(s, log.get());
    n.publish(sample_alert());
    ASSERT_TRUE(eventually([&] { return n.stats().failed == 1; }));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  auto text = log.text();
  EXPECT_NE(text.find("\"attempts\":3,\"error\":\"connecting to 127.0.0.1:"), std::string::npos) << text;
  EXPECT_EQ(text.find("/hook"), std::string::npos) << "the URL's path must not be logged: " << text;
}

TEST(Notifier, DestructorAbandonsAHungDeliveryWithinAboutASecond) {
  WebhookServer server({WebhookServer::kHang});
  auto s = webhook_settings(server.url());
  s.webhook_timeout = 30s;
  auto n = std::make_unique<Notifier>(s, nullptr);
  n->publish(sample_alert());
  ASSERT_TRUE(server.wait_for_requests(1));
  auto start = std::chrono::steady_clock::now();
  n.reset();
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 900ms);  // the grace period was given
  EXPECT_LT(took, 2500ms);
}

TEST(Notifier, FullQueueDropsTheOldest) {
  WebhookServer server({WebhookServer::kHang});  // then 200s
  auto s = webhook_settings(server.url());
  s.queue_max = 2;
  s.webhook_attempts = 1;
  s.webhook_timeout = 1'000ms;  // the hung first delivery fails after a second
  Notifier n(s, nullptr);
  n.publish(sample_alert("req_1"));
  ASSERT_TRUE(server.wait_for_requests(1));  // the thread is busy with req_1
  for (const char* id : {"req_2", "req_3", "req_4", "req_5"}) n.publish(sample_alert(id));
  EXPECT_EQ(n.stats().dropped, 2u);  // req_2 and req_3
  ASSERT_TRUE(eventually([&] { return n.stats().delivered == 2; }));
  auto st = n.stats();
  EXPECT_EQ(st.published, 5u);
  EXPECT_EQ(st.failed, 1u);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_NE(reqs[1].body.find("\"request_id\":\"req_4\""), std::string::npos);
  EXPECT_NE(reqs[2].body.find("\"request_id\":\"req_5\""), std::string::npos);
}

TEST(Notifier, HttpsToAPlainServerFailsTheHandshake) {
  WebhookServer server({});
  auto s = webhook_settings("https://127.0.0.1:" + std::to_string(server.port()) + "/hook");
  s.webhook_attempts = 1;
  LogFile log;
  {
    Notifier n(s, log.get());
    n.publish(sample_alert());
    ASSERT_TRUE(eventually([&] { return n.stats().failed == 1; }));
  }
  EXPECT_NE(log.text().find("TLS handshake with 127.0.0.1:"), std::string::npos) << log.text();
  EXPECT_TRUE(server.requests().empty());
}

TEST(Notifier, WithoutWebhookLogsOneJsonLinePerAlertAndCountsByKind) {
  LogFile log;
  Notifier n(Settings{}, log.get());
  EXPECT_EQ(n.counts_by_kind(),
            (std::vector<std::pair<std::string, std::uint64_t>>{{"large_request", 0}, {"usage_anomaly", 0}}));
  Alert anomaly = sample_alert("req_2");
  anomaly.kind = kUsageAnomaly;
  n.publish(sample_alert("req_1"));
  n.publish(anomaly);
  n.publish(sample_alert("req_3"));
  EXPECT_EQ(n.counts_by_kind(),
            (std::vector<std::pair<std::string, std::uint64_t>>{{"large_request", 2}, {"usage_anomaly", 1}}));
  auto st = n.stats();
  EXPECT_EQ(st.published, 3u);
  EXPECT_EQ(st.delivered + st.failed + st.dropped, 0u);

  auto text = log.text();
  std::size_t lines = 0;
  for (std::size_t pos = 0, end; (end = text.find('\n', pos)) != std::string::npos; pos = end + 1) {
    auto j = boost::json::parse(text.substr(pos, end - pos)).as_object();
    EXPECT_EQ(j.at("event").as_string(), "alert");
    EXPECT_TRUE(j.contains("kind") && j.contains("request_id") && j.contains("tokens"));
    ++lines;
  }
  EXPECT_EQ(lines, 3u);
  EXPECT_EQ(text.rfind("{\"event\":\"alert\",\"kind\":\"large_request\",\"project\":\"proj_1\"", 0), 0u);
}

TEST(Notifier, RejectsInvalidSettings) {
  Settings s;
  s.webhook_url = "ftp://example.com/";
  EXPECT_THROW(Notifier(s, nullptr), std::invalid_argument);
}

}  // namespace
}  // namespace sluice::alerts
