// Speed of Anthropic <-> OpenAI translation (issue 7): per streamed event and per request.
//   BM_StreamTextChunk     one OpenAI text chunk (~230 bytes, as DeepSeek sends them) in,
//                          one Anthropic content_block_delta out: the per-event cost;
//   BM_StreamWholeAnswer   a 200-chunk answer with a tool call, from message_start to
//                          message_stop (per answer);
//   BM_RequestClaudeCode   a 113 KB Claude-Code-shaped request to Chat Completions;
//   BM_AnswerNonStreaming  a whole chat.completion with a tool call to a Message.
//
//   build/bench/translate_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//
// 2026-11-26, this 2-core VM (CPU time, medians of 3): text chunk 0.36 us, whole 205-chunk
// answer 75 us, 110 KB request 253 us, non-streaming answer 0.72 us. Figures in bench/README.md.
#include <benchmark/benchmark.h>

#include <string>

#include "translate/chat_response.hpp"
#include "translate/chat_stream.hpp"
#include "translate/messages_to_chat.hpp"

namespace {

using namespace sluice::translate;

std::string text_chunk(int i) {
  return "data: {\"id\":\"chatcmpl-8a1b2c3d4e5f\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
         "\"model\":\"deepseek-chat\",\"system_fingerprint\":\"fp_3a5770e1b4\",\"choices\":[{\"index\":0,\"delta\":"
         "{\"content\":\" word" + std::to_string(i) + "\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n";
}

std::string whole_stream() {
  std::string s = "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n";
  for (int i = 0; i < 200; ++i) s += text_chunk(i);
  s += "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"Bash\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n";
  s += "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"command\\\":\\\"make -j2\\\"}\"}}]},\"finish_reason\":null}]}\n\n";
  s += "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n";
  s += "data: {\"id\":\"chatcmpl-1\",\"choices\":[],\"usage\":{\"prompt_tokens\":30000,\"completion_tokens\":210,\"prompt_tokens_details\":{\"cached_tokens\":28000}}}\n\n";
  return s + "data: [DONE]\n\n";
}

void BM_StreamTextChunk(benchmark::State& state) {
  ChatToMessagesStream t(StreamOptions{"claude-sonnet-4-5", 0, nullptr});
  std::string out;
  t.feed("data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"}}]}\n\n", out);
  const std::string chunk = text_chunk(7);
  for (auto _ : state) {
    out.clear();
    t.feed(chunk, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StreamTextChunk);

void BM_StreamWholeAnswer(benchmark::State& state) {
  const std::string s = whole_stream();
  std::string out;
  for (auto _ : state) {
    ChatToMessagesStream t(StreamOptions{"claude-sonnet-4-5", 0, nullptr});
    out.clear();
    t.feed(s, out);
    t.finish(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_StreamWholeAnswer);

std::string claude_code_request() {
  std::string prose;
  while (prose.size() < 12'000) prose += "The gateway streams every event to its client while counting tokens. ";
  std::string code;
  while (code.size() < 6'000) code += "  if (d->breaker.state() == State::Open) continue;  // skip\\n";
  std::string b = R"({"model":"claude-sonnet-4-5","max_tokens":128000,"stream":true,"system":[{"type":"text","text":")" + prose + R"("}],"tools":[)";
  for (int i = 0; i < 12; ++i) {
    if (i) b += ',';
    b += R"({"name":"tool_)" + std::to_string(i) + R"(","description":")" + prose.substr(0, 1500) +
         R"(","input_schema":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}})";
  }
  b += R"(],"messages":[)";
  for (int i = 0; i < 40; ++i) {
    if (i) b += ',';
    const int k = i % 4;
    if (k == 0) b += R"({"role":"user","content":")" + prose.substr(0, 600) + R"("})";
    if (k == 1) b += R"({"role":"assistant","content":[{"type":"text","text":"Reading."},{"type":"tool_use","id":"t)" + std::to_string(i) + R"(","name":"tool_1","input":{"path":"/a.cpp"}}]})";
    if (k == 2) b += R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"t)" + std::to_string(i - 1) + R"(","content":")" + code + R"("}]})";
    if (k == 3) b += R"({"role":"assistant","content":")" + prose.substr(0, 1200) + R"("})";
  }
  return b + "]}";
}

void BM_RequestClaudeCode(benchmark::State& state) {
  const std::string body = claude_code_request();
  for (auto _ : state) benchmark::DoNotOptimize(messages_to_chat(body, ChatRequestOptions{"deepseek-chat", 8192}));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.counters["body_kb"] = static_cast<double>(body.size()) / 1024;
}
BENCHMARK(BM_RequestClaudeCode);

void BM_AnswerNonStreaming(benchmark::State& state) {
  const std::string answer = R"({"id":"chatcmpl-9","object":"chat.completion","created":1,"model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":"I'll run the build.","tool_calls":[{"id":"call_x","type":"function","function":{"name":"Bash","arguments":"{\"command\":\"make -k\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1200,"completion_tokens":40,"prompt_tokens_details":{"cached_tokens":1024}}})";
  for (auto _ : state) benchmark::DoNotOptimize(chat_to_message(answer, StreamOptions{"claude-sonnet-4-5", 0, nullptr}));
}
BENCHMARK(BM_AnswerNonStreaming);

}  // namespace

BENCHMARK_MAIN();
