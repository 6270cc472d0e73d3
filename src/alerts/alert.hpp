#pragma once
// One usage alert, as logged and as POSTed to the webhook. It carries identifiers and counts
// only, never prompt or completion text. A plain value type.

#include <cstdint>
#include <string>

namespace sluice::alerts {

inline constexpr const char* kLargeRequest = "large_request";
inline constexpr const char* kUsageAnomaly = "usage_anomaly";

struct Alert {
  std::string kind;        // kLargeRequest | kUsageAnomaly
  std::string project;
  std::string key_id;      // the virtual key's id (never the key itself)
  std::string request_id;  // the request that raised the alert
  std::string model;
  std::int64_t tokens = 0;     // the request's tokens (large_request) or the project's this hour (usage_anomaly)
  std::int64_t threshold = 0;  // the number `tokens` went over
  double baseline = 0;         // usage_anomaly: the project's mean tokens per hour; 0 otherwise
  std::int64_t ts_ms = 0;      // wall-clock time, milliseconds since the Unix epoch
  std::string message;         // one human-readable sentence

  // {"kind":...,"project":...,"key_id":...,"request_id":...,"model":...,"tokens":N,
  //  "threshold":N,"baseline":X,"ts_ms":N,"ts":"2023-11-14T22:13:20.000Z","message":...}
  std::string to_json() const;
};

}  // namespace sluice::alerts
