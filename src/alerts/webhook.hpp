#pragma once
// The HTTP side of alert delivery: where the webhook lives, one bounded POST to it over http or
// https (OpenSSL, peer verified against the system CA store, SNI and host name checked), and
// what its outcome means for retrying. Used by the Notifier's thread; a WebhookClient is not
// shared between threads. Error texts name the host and port only, never the URL's path or
// query, which often carry the webhook's secret.

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace boost::asio::ssl {
class context;
}

namespace sluice::alerts {

struct WebhookTarget {
  bool tls = false;
  std::string host;         // name or address, without IPv6 brackets
  std::string port;         // numeric, defaulted from the scheme
  std::string host_header;  // host, plus ":port" when not the scheme's default
  std::string target;       // path and query, "/" when the URL has no path
};

// Parses an http:// or https:// URL. On failure returns nullopt and sets `error`.
std::optional<WebhookTarget> parse_webhook_url(std::string_view url, std::string& error);

// The outcome of one POST: the response status, or 0 and why there was none.
struct PostResult {
  int status = 0;
  std::string error;
};

enum class Verdict {
  Delivered,  // 2xx
  Retry,      // no response (connection error, timeout), 429 or 5xx
  Fail,       // any other status: the receiver refused the alert, retrying will not help
};
Verdict classify(const PostResult& r);

class WebhookClient {
 public:
  // Loads the system CA store for an https target; throws std::runtime_error if it cannot.
  explicit WebhookClient(WebhookTarget target);
  ~WebhookClient();
  WebhookClient(const WebhookClient&) = delete;
  WebhookClient& operator=(const WebhookClient&) = delete;

  const WebhookTarget& target() const { return target_; }

  // POSTs `body` as application/json and waits for the response head, all within `timeout`,
  // on the calling thread (with an io_context of its own). Returns early, with an error, once
  // `abandon` becomes true.
  PostResult post(const std::string& body, std::chrono::milliseconds timeout, const std::atomic<bool>& abandon);

 private:
  WebhookTarget target_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
};

}  // namespace sluice::alerts
