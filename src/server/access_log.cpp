#include "server/access_log.hpp"

#include <chrono>
#include <ctime>
#include <stdexcept>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace sluice::server {

namespace {
std::string now_iso8601() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

double round3(double v) { return static_cast<double>(static_cast<long long>(v * 1000.0 + 0.5)) / 1000.0; }
}  // namespace

std::string to_json_line(const AccessRecord& r) {
  boost::json::object o;
  o["ts"] = now_iso8601();
  o["request_id"] = r.request_id;
  o["method"] = r.method;
  o["route"] = r.route;
  if (!r.model.empty()) o["model"] = r.model;
  o["status"] = r.status;
  o["upstream_status"] = r.upstream_status;
  o["attempts"] = r.attempts;
  o["latency_ms"] = round3(r.latency_ms);
  if (r.ttfb_ms >= 0) o["ttfb_ms"] = round3(r.ttfb_ms);
  o["bytes_in"] = r.bytes_in;
  o["bytes_out"] = r.bytes_out;
  o["stream"] = r.stream;
  if (!r.error.empty()) o["error"] = r.error;
  if (!r.upstream_request_id.empty()) o["upstream_request_id"] = r.upstream_request_id;
  std::string line = boost::json::serialize(o);
  line.push_back('\n');
  return line;
}

AccessLog::AccessLog(const std::string& path) {
  if (path.empty()) return;
  if (path == "-") {
    out_ = stdout;
  } else {
    out_ = std::fopen(path.c_str(), "ae");
    if (!out_) throw std::runtime_error("cannot open access log " + path);
    owned_ = true;
  }
  writer_ = std::thread([this] { run(); });
}

AccessLog::~AccessLog() {
  if (!out_) return;
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  writer_.join();
  if (owned_) std::fclose(out_);
}

void AccessLog::write(const AccessRecord& r) {
  if (!out_) return;
  std::string line = to_json_line(r);
  {
    std::lock_guard lk(mu_);
    pending_ += line;
    ++queued_;
  }
  cv_.notify_one();
}

void AccessLog::flush() {
  if (!out_) return;
  std::unique_lock lk(mu_);
  auto target = queued_;
  cv_.notify_one();
  flushed_.wait(lk, [&] { return written_ >= target; });
}

void AccessLog::run() {
  std::string batch;
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait_for(lk, std::chrono::milliseconds(200), [&] { return stop_ || !pending_.empty(); });
    batch.swap(pending_);
    auto upto = queued_;
    bool stopping = stop_;
    lk.unlock();
    if (!batch.empty()) {
      std::fwrite(batch.data(), 1, batch.size(), out_);
      std::fflush(out_);
      batch.clear();
    }
    lk.lock();
    written_ = upto;
    flushed_.notify_all();
    if (stopping && pending_.empty()) return;
  }
}

}  // namespace sluice::server
