#pragma once
// Delivers alerts without blocking the caller: publish() writes one JSON line to the log
// ({"event":"alert",...}, stderr by default) and queues the alert for the webhook, if one is
// configured. The Notifier's own thread POSTs each alert (webhook.hpp), retrying connection
// errors, timeouts, 429 and 5xx with exponential backoff; 2xx is delivered, any other status
// fails at once. Alerts that finally fail are logged as {"event":"alert_webhook_failed",...}.
// When the queue is full the oldest waiting alert is dropped and counted.
//
// Thread-safe: publish(), stats() and counts_by_kind() may be called from any thread.
// Shutdown: the destructor lets queued deliveries continue for at most ~1 s, then abandons
// the rest (counted as dropped). One caveat: a DNS lookup already in progress cannot be
// interrupted, so a webhook host whose resolver hangs can delay the destructor until the
// lookup returns; IP literals and /etc/hosts names never wait.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "alerts/alert.hpp"
#include "alerts/settings.hpp"
#include "alerts/webhook.hpp"

namespace sluice::alerts {

class Notifier {
 public:
  // `log`: where alert lines go (stderr by default; nullptr for none); it must outlive the
  // Notifier. Throws std::invalid_argument when settings_error(s) is not empty, and
  // std::runtime_error when an https webhook is configured but the CA store cannot be loaded.
  explicit Notifier(Settings s, std::FILE* log = stderr);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void publish(const Alert& a);

  struct Stats {
    std::uint64_t published = 0;  // publish() calls
    std::uint64_t delivered = 0;  // webhook answered 2xx
    std::uint64_t failed = 0;     // attempts exhausted, or refused with a 4xx other than 429
    std::uint64_t dropped = 0;    // pushed out of a full queue, or abandoned at shutdown
  };
  Stats stats() const;
  // Per-kind counts of published alerts, for the sluice_alerts_total{kind} metric; both known
  // kinds are always present, sorted by kind.
  std::vector<std::pair<std::string, std::uint64_t>> counts_by_kind() const;

 private:
  void run();                    // the delivery thread
  bool deliver(const Alert& a);  // false when abandoned at shutdown
  void log_line(const std::string& line) const;

  const Settings settings_;
  std::FILE* const log_;
  std::unique_ptr<WebhookClient> client_;  // null without a webhook

  mutable std::mutex mu_;
  std::condition_variable wake_;    // work queued, or stopping / abandoning
  std::condition_variable exited_;  // the delivery thread finished
  std::deque<Alert> queue_;
  Stats stats_;
  std::map<std::string, std::uint64_t> by_kind_;
  bool stopping_ = false;
  bool finished_ = false;
  std::atomic<bool> abandon_{false};
  std::thread worker_;
};

}  // namespace sluice::alerts
