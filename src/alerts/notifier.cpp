#include "alerts/notifier.hpp"

#include <algorithm>
#include <stdexcept>

#include <boost/json/serialize.hpp>
#include <boost/json/string_view.hpp>

namespace sluice::alerts {

namespace {
// How long the destructor lets queued deliveries continue.
constexpr std::chrono::seconds kShutdownGrace{1};
// The longest wait between two attempts, however many attempts are configured.
constexpr std::chrono::milliseconds kMaxBackoff{60'000};

const Settings& checked(const Settings& s) {
  auto error = settings_error(s);
  if (!error.empty()) throw std::invalid_argument("alerts: " + error);
  return s;
}

std::string quoted(const std::string& v) { return boost::json::serialize(boost::json::string_view(v.data(), v.size())); }
}  // namespace

Notifier::Notifier(Settings s, std::FILE* log) : settings_(checked(s)), log_(log) {
  by_kind_[kLargeRequest] = 0;
  by_kind_[kUsageAnomaly] = 0;
  if (settings_.webhook_url.empty()) return;
  std::string error;
  auto target = parse_webhook_url(settings_.webhook_url, error);  // checked() has validated it
  client_ = std::make_unique<WebhookClient>(std::move(*target));
  worker_ = std::thread([this] { run(); });
}

Notifier::~Notifier() {
  if (!worker_.joinable()) return;
  {
    std::unique_lock lock(mu_);
    stopping_ = true;
    wake_.notify_all();
    if (!exited_.wait_for(lock, kShutdownGrace, [this] { return finished_; })) {
      abandon_ = true;
      wake_.notify_all();
    }
  }
  worker_.join();
}

void Notifier::log_line(const std::string& line) const {
  if (log_ == nullptr) return;
  std::fwrite(line.data(), 1, line.size(), log_);  // one call, so concurrent lines do not interleave
  std::fflush(log_);
}

void Notifier::publish(const Alert& a) {
  std::string json = a.to_json();
  log_line("{\"event\":\"alert\"," + json.substr(1) + "\n");
  std::lock_guard lock(mu_);
  ++stats_.published;
  ++by_kind_[a.kind];
  if (!client_) return;
  if (settings_.queue_max == 0) {
    ++stats_.dropped;
    return;
  }
  if (queue_.size() >= settings_.queue_max) {
    queue_.pop_front();
    ++stats_.dropped;
  }
  queue_.push_back(a);
  wake_.notify_one();
}

Notifier::Stats Notifier::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::vector<std::pair<std::string, std::uint64_t>> Notifier::counts_by_kind() const {
  std::lock_guard lock(mu_);
  return {by_kind_.begin(), by_kind_.end()};
}

void Notifier::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() || abandon_) break;
    Alert a = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    bool finished = deliver(a);
    lock.lock();
    if (!finished) {
      ++stats_.dropped;
      break;
    }
  }
  stats_.dropped += queue_.size();
  queue_.clear();
  finished_ = true;
  exited_.notify_all();
}

bool Notifier::deliver(const Alert& a) {
  const std::string body = a.to_json();
  auto backoff = settings_.webhook_backoff;
  PostResult result;
  int attempt = 0;
  for (;;) {
    ++attempt;
    result = client_->post(body, settings_.webhook_timeout, abandon_);
    if (abandon_) return false;
    Verdict verdict = classify(result);
    if (verdict == Verdict::Delivered) {
      std::lock_guard lock(mu_);
      ++stats_.delivered;
      return true;
    }
    if (verdict == Verdict::Fail || attempt >= settings_.webhook_attempts) break;
    std::unique_lock lock(mu_);
    if (wake_.wait_for(lock, backoff, [this] { return abandon_.load(); })) return false;
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
  {
    std::lock_guard lock(mu_);
    ++stats_.failed;
  }
  std::string why = result.status != 0 ? "HTTP " + std::to_string(result.status) : result.error;
  log_line("{\"event\":\"alert_webhook_failed\",\"kind\":" + quoted(a.kind) + ",\"project\":" + quoted(a.project) +
           ",\"request_id\":" + quoted(a.request_id) + ",\"attempts\":" + std::to_string(attempt) +
           ",\"error\":" + quoted(why) + "}\n");
  return true;
}

}  // namespace sluice::alerts
