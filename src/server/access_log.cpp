#include "server/access_log.hpp"

#include <chrono>
#include <ctime>
#include <stdexcept>

#include <boost/json/serialize.hpp>
#include <boost/json/string_view.hpp>

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

// A JSON string literal (quoted, escaped).
std::string quoted(std::string_view v) { return boost::json::serialize(boost::json::string_view(v.data(), v.size())); }

// Milliseconds with microsecond precision in plain decimal notation (Boost.JSON would print
// doubles as 1.256E0, which log tools read fine but people do not).
std::string millis(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}
}  // namespace

std::string to_json_line(const AccessRecord& r) {
  std::string line;
  line.reserve(384);
  line += "{\"ts\":" + quoted(now_iso8601());
  line += ",\"request_id\":" + quoted(r.request_id);
  line += ",\"method\":" + quoted(r.method);
  line += ",\"route\":" + quoted(r.route);
  if (!r.model.empty()) line += ",\"model\":" + quoted(r.model);
  if (!r.project.empty()) line += ",\"project\":" + quoted(r.project);
  if (!r.key_id.empty()) line += ",\"key_id\":" + quoted(r.key_id);
  line += ",\"status\":" + std::to_string(r.status);
  line += ",\"upstream_status\":" + std::to_string(r.upstream_status);
  line += ",\"attempts\":" + std::to_string(r.attempts);
  if (!r.provider.empty()) line += ",\"provider\":" + quoted(r.provider);
  line += ",\"latency_ms\":" + millis(r.latency_ms);
  if (r.ttfb_ms >= 0) line += ",\"ttfb_ms\":" + millis(r.ttfb_ms);
  line += ",\"bytes_in\":" + std::to_string(r.bytes_in);
  line += ",\"bytes_out\":" + std::to_string(r.bytes_out);
  line += r.stream ? ",\"stream\":true" : ",\"stream\":false";
  if (!r.error.empty()) line += ",\"error\":" + quoted(r.error);
  if (!r.upstream_request_id.empty()) line += ",\"upstream_request_id\":" + quoted(r.upstream_request_id);
  if (!r.stream_id.empty()) line += ",\"stream_id\":" + quoted(r.stream_id);
  if (!r.replayed.empty()) line += ",\"replayed\":" + quoted(r.replayed);
  if (r.recoveries > 0) line += ",\"recoveries\":" + std::to_string(r.recoveries);
  line += "}\n";
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
  bool wake;
  {
    std::lock_guard lk(mu_);
    pending_ += line;
    ++queued_;
    // The writer wakes on its own every 100 ms; waking it per line cost a futex and a write
    // syscall per request (bench/README.md). Only a large backlog is worth a wake-up.
    wake = pending_.size() >= kWakeBytes;
  }
  if (wake) cv_.notify_one();
}

void AccessLog::flush() {
  if (!out_) return;
  std::unique_lock lk(mu_);
  auto target = queued_;
  flush_requested_ = true;
  cv_.notify_one();
  flushed_.wait(lk, [&] { return written_ >= target; });
}

void AccessLog::run() {
  std::string batch;
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait_for(lk, std::chrono::milliseconds(100), [&] { return stop_ || flush_requested_ || pending_.size() >= kWakeBytes; });
    flush_requested_ = false;
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
