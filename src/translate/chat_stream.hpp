#pragma once
// OpenAI Chat Completions stream -> Anthropic Messages stream (issue: translation, the Claude
// Code path; wire-protocols.md §6.5, pitfalls §6.8). Upstream SSE bytes in, Anthropic SSE bytes
// out, event by event:
//   - one message_start (input tokens: sluice's estimate until the real count arrives);
//   - reasoning (`reasoning_content`, as DeepSeek, Qwen and vLLM stream it) as a thinking
//     block, content as a text block, live, blocks opened in index order;
//   - tool calls keyed strictly by their OpenAI index; the first call streams live (its block
//     opens once its name is known, its argument fragments follow as input_json_delta), so a
//     long Write or Edit is not minutes of silence; calls that arrive while another streams are
//     buffered and each sent whole as one contiguous block at the end, so interleaved fragments
//     of parallel calls cannot interleave blocks (buffered arguments that are empty or not JSON
//     become {}); text that arrives while a call streams is held and sent after the calls;
//   - the finish reason held until the usage arrives (`[DONE]`, or a clean end of the body
//     after a finish reason), then message_delta with the cumulative usage and message_stop;
//   - an error chunk as an Anthropic `event: error`.
// A body that ends before any finish reason produces nothing more: the relay reports the broken
// stream (a broken stream never looks finished); `[DONE]` without a finish reason, an unfinished
// event or tool arguments past 8 MiB end it with an error event. One per stream; not thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stream/sse_parser.hpp"
#include "translate/names.hpp"

namespace sluice::translate {

struct StreamOptions {
  std::string model;                 // the model the client asked for (echoed back)
  std::uint64_t input_estimate = 0;  // message_start's input tokens, and the fallback count
  const ToolNames* tools = nullptr;  // names to map back; null = none were mapped
};

// Anthropic stop_reason for an OpenAI finish_reason (`had_tools`: tool calls were made).
std::string_view stop_reason_for(std::string_view finish_reason, bool had_tools);
// Anthropic error type for an OpenAI error's `type` / `code`.
std::string_view anthropic_error_type(std::string_view openai_type, std::string_view code);

class ChatToMessagesStream {
 public:
  static constexpr std::size_t kMaxBuffered = 8 * 1024 * 1024;

  explicit ChatToMessagesStream(StreamOptions options);

  // Upstream bytes, in any chunking; complete Anthropic events are appended to `out`.
  void feed(std::string_view bytes, std::string& out);
  // The upstream body ended cleanly: the final events, when the answer had finished.
  void finish(std::string& out);

  bool done() const { return done_; }      // message_stop or an error event was produced
  // The upstream reported the usage (prompt and completion tokens); when not, the final
  // message_delta carries sluice's estimates, and the ledger must say so.
  bool usage_reported() const { return prompt_tokens_.has_value() && completion_tokens_.has_value(); }
  bool failed() const { return failed_; }  // ... an error event

 private:
  struct Tool {
    std::uint64_t openai_index = 0;
    std::string id, name, arguments;
    bool live = false;  // its block was opened while it streamed; emitted at the end otherwise
  };
  enum class Block { None, Thinking, Text, Tool };

  void on_data(std::string_view data, std::string& out);
  void start(std::string_view upstream_id, std::string& out);
  void open(Block kind, std::string& out);
  void close(std::string& out);
  void delta(std::string_view delta_type, std::string_view field, std::string_view text, std::string& out);
  void end(std::string& out);
  void tool_block_start(std::size_t k, std::string& out);
  void tool_arguments(std::string_view json, std::string& out);
  void tool_fragment(std::size_t k, std::string_view args, std::string& out);
  void error(std::string_view type, std::string_view message, std::string& out);

  struct Sink final : stream::SseSink {
    ChatToMessagesStream* self = nullptr;
    std::string* out = nullptr;
    void on_event(const stream::SseEvent& ev) override { self->on_data(ev.data, *out); }
  };

  StreamOptions options_;
  stream::SseParser parser_;
  bool started_ = false;
  bool done_ = false;
  bool failed_ = false;
  Block open_ = Block::None;
  std::uint64_t next_index_ = 0;
  std::vector<Tool> tools_;
  std::string finish_reason_;
  std::optional<std::uint64_t> prompt_tokens_, completion_tokens_, cached_tokens_, cache_write_tokens_;
  std::uint64_t output_bytes_ = 0;  // for an output estimate when no usage comes
  long live_tool_ = -1;             // the tool whose block is open and streaming, -1 when none
  std::string held_text_;           // text that came while a tool streamed: sent after the tools
};

}  // namespace sluice::translate
