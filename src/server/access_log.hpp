#pragma once
// The JSON-lines access log: one line per request, never with prompt text or credentials.
// Lines are queued by the I/O threads and written by a background thread in batches, so a slow
// disk never stalls a request. Thread-safe.

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sluice::server {

struct AccessRecord {
  std::string request_id;
  std::string method;
  std::string route;           // path without the query string
  std::string model;           // empty when not known
  int status = 0;              // status sent to the client
  int upstream_status = 0;     // 0 when no upstream response
  int attempts = 0;            // upstream attempts made (retries and fallbacks included)
  std::string provider;        // deployment that answered last ("<provider>#<index>")
  double latency_ms = 0;       // received -> response finished
  double ttfb_ms = -1;         // received -> first byte to the client; -1 when none
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  bool stream = false;
  std::string error;           // error kind name, empty on success
  std::string upstream_request_id;  // the upstream's request-id header, for support tickets
  std::string project;         // the caller's project and virtual key id, when it used one
  std::string key_id;
  std::string stream_id;       // a resumable stream's id (produced or replayed)
  std::string replayed;        // "resume" / "transparent": answered from a replay buffer
  int recoveries = 0;          // continuations requested after the upstream stream broke
};

std::string to_json_line(const AccessRecord& r);  // with trailing '\n'

class AccessLog {
 public:
  // `path`: "-" for stdout, "" to disable, otherwise a file opened for appending. Throws
  // std::runtime_error when the file cannot be opened.
  explicit AccessLog(const std::string& path);
  ~AccessLog();  // flushes what is queued
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void write(const AccessRecord& r);
  void flush();  // blocks until queued lines are written

 private:
  void run();

  std::FILE* out_ = nullptr;
  bool owned_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable flushed_;
  std::string pending_;
  std::uint64_t queued_ = 0;
  std::uint64_t written_ = 0;
  bool stop_ = false;
  bool flush_requested_ = false;
  static constexpr std::size_t kWakeBytes = 64 * 1024;
  std::thread writer_;
};

}  // namespace sluice::server
