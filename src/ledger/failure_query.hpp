#pragma once
// The latest failed requests in the ledger, for the dashboard (GET /admin/requests/failed): a
// failure is a row with status >= 400 or a non-empty error kind, as in usage_query.hpp. The
// ledger holds no prompt or answer text, so neither does this. Plain functions over a
// caller-owned connection; thread-safety is the connection's.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/sqlite.hpp"

namespace sluice::ledger {

struct FailureFilter {
  std::int64_t since_ms = 0;           // inclusive, unix epoch ms
  std::optional<std::string> project;  // only this project when set
  int limit = 50;                      // at most this many rows (the newest)
};

struct FailedRequest {
  std::int64_t ts_ms = 0;
  std::string request_id, project, key_id, model, provider, route, error;
  int status = 0;
  bool stream = false;
  int attempts = 0;
  double latency_ms = 0;
  std::optional<double> ttft_ms;
  std::int64_t input_tokens = 0, output_tokens = 0, cost_micros = 0;
};

// Newest first. Throws storage::StorageError.
std::vector<FailedRequest> recent_failures(storage::Db& db, const FailureFilter& f);

}  // namespace sluice::ledger
