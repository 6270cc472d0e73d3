#pragma once
// Token usage of one request, read from the upstream's own reports (issue: exact metering).
// Streams: `message_start.message.usage` overlaid field by field with the non-null fields of
// the *last* `message_delta.usage` (counts there are cumulative; nothing is ever summed), as the
// official SDKs accumulate them (wire-protocols.md §2.4). Non-streaming: the body's `usage`.
// When a stream ends before its final count, output tokens are estimated from the text that was
// delivered and the usage is marked estimated.
// StreamMeter is per request (one thread at a time); the free functions are thread-safe.

#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice::stages::meter {

struct Usage {
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t cache_creation_tokens = 0;
  std::int64_t cache_read_tokens = 0;
  std::int64_t server_tool_uses = 0;  // web searches, fetches, ... (billed per use)
  bool estimated = false;

  // Every token the model read or wrote, cached or not: what TPM limits and alerts count.
  std::int64_t total_tokens() const {
    return input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens;
  }
  bool operator==(const Usage&) const = default;
};

// Fed each event of an Anthropic stream, in order.
class StreamMeter {
 public:
  void on_event(std::string_view type, std::string_view data);
  // The usage so far: final once message_delta was seen, otherwise an estimate.
  Usage usage() const;
  bool saw_final() const { return saw_delta_; }
  std::int64_t delivered_text_bytes() const { return text_bytes_; }

 private:
  Usage usage_;
  bool saw_start_ = false;
  bool saw_delta_ = false;
  std::int64_t text_bytes_ = 0;  // bytes of text, thinking and tool-input deltas seen
};

// The `usage` of a non-streaming Messages response body; nullopt when it has none.
std::optional<Usage> usage_from_message(std::string_view body);

// Output tokens estimated from delivered bytes of text: ceil(bytes / 4).
std::int64_t estimate_tokens(std::int64_t bytes);

}  // namespace sluice::stages::meter
