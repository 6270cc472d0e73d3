#pragma once
// One ledger row: what sluice records about a request that reached the finish phase (who sent
// it, where it went, what it used and cost, how it ended). A plain value; no thread-safety
// concerns of its own. Money is integer micro-dollars, never floating point.

#include <cstdint>
#include <optional>
#include <string>

namespace sluice::ledger {

struct Row {
  std::int64_t ts_ms = 0;  // unix epoch ms when the request finished
  std::string request_id, project, key_id, model, provider, route;
  int status = 0;  // HTTP status sent to the client (the frozen one, for streams)
  bool stream = false;
  int attempts = 0;  // upstream attempts, retries and fallbacks included
  std::int64_t input_tokens = 0, output_tokens = 0, cache_creation_tokens = 0, cache_read_tokens = 0,
               server_tool_uses = 0;
  std::int64_t cost_micros = 0;  // integer micro-dollars
  double latency_ms = 0;
  std::optional<double> ttft_ms;  // time to first byte of the answer, when it started
  bool estimated = false;         // usage (partly) estimated: the upstream's final count never came
  int redactions = 0;
  std::string redaction_types;  // "type:count,..." of the secrets found (never the secrets)
  std::string error;  // empty on success, else an error kind name
  // The resumable stream this request produced, or the one its answer was replayed from.
  std::string stream_id;
  bool replayed = false;  // answered from a replay buffer: no upstream request, nothing billed

  bool operator==(const Row&) const = default;
};

}  // namespace sluice::ledger
