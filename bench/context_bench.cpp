// Speed of the long-context guard's estimate (issue 5): the text pass on 500 KB of prose and of
// code, and the whole request estimate on a Claude-Code-shaped body (a system prompt, 12 tool
// definitions with JSON schemas, a 40-message conversation of prose, code and tool results).
// Text is generated deterministically, as in redact_bench.cpp.
//
// 2026-11-26, this 2-core shared VM (AMD EPYC), RelWithDebInfo (-O2), medians of 3 repetitions:
//   BM_EstimateProse500K          533 MB/s (0.90 ms)   BM_EstimateCode500K   830 MB/s (0.58 ms)
//   BM_EstimateClaudeCodeRequest  0.17 ms for 113 KB (~29K tokens): parse + every text
//   BM_EstimateSmallRequest       0.24 us              BM_TrimClaudeCodeRequest  0.28 ms
//
//   build/bench/context_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "stages/context/guard.hpp"
#include "stages/context/request_tokens.hpp"
#include "stages/context/token_estimate.hpp"

namespace {

using namespace sluice::stages::context;

const char* const kWords[] = {"the", "gateway", "streams", "every", "event", "to", "its", "client", "while",
                              "counting", "tokens", "and", "keeping", "secrets", "out", "of", "prompts",
                              "that", "leave", "building", "configuration", "retries", "with", "backoff"};
const char* const kCode = R"(  for (const auto& d : provider.deployments()) {
    if (d->breaker.state() == CircuitBreaker::State::Open) continue;  // skip open breakers
    auto outstanding = d->outstanding.load(std::memory_order_relaxed);
    best = std::min(best, outstanding * 1000 / static_cast<int>(d->weight * 1000 + 1));
  }
)";

std::string prose(std::size_t bytes) {
  std::string s;
  std::uint64_t x = 42;
  while (s.size() < bytes) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    s += kWords[(x >> 33) % std::size(kWords)];
    s += (x >> 60) == 0 ? ".\n" : " ";
  }
  return s;
}

std::string code(std::size_t bytes) {
  std::string s;
  while (s.size() < bytes) s += kCode;
  return s;
}

// JSON string escaping for the generated body (quotes, backslashes, newlines).
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out + "\"";
}

std::string claude_code_body() {
  std::string b = R"({"model":"claude-sonnet-4-5","max_tokens":128000,"stream":true,"system":[{"type":"text","text":)" +
                  quoted(prose(12'000)) + R"(}],"tools":[)";
  for (int i = 0; i < 12; ++i) {
    if (i) b += ',';
    b += R"({"name":"tool_)" + std::to_string(i) + R"(","description":)" + quoted(prose(1'500)) +
         R"(,"input_schema":{"type":"object","properties":{"path":{"type":"string","description":"absolute path"},"limit":{"type":"integer"}},"required":["path"]}})";
  }
  b += R"(],"messages":[)";
  for (int i = 0; i < 40; ++i) {
    if (i) b += ',';
    const int k = i % 4;
    if (k == 0) b += R"({"role":"user","content":)" + quoted(prose(600)) + "}";
    if (k == 1) b += R"({"role":"assistant","content":[{"type":"text","text":"Reading it."},{"type":"tool_use","id":"t)" + std::to_string(i) + R"(","name":"tool_1","input":{"path":"/src/a.cpp"}}]})";
    if (k == 2) b += R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"t)" + std::to_string(i - 1) + R"(","content":)" + quoted(code(6'000)) + "}]}";
    if (k == 3) b += R"({"role":"assistant","content":)" + quoted(prose(1'200)) + "}";
  }
  return b + "]}";
}

void BM_EstimateProse500K(benchmark::State& state) {
  const std::string text = prose(500'000);
  for (auto _ : state) benchmark::DoNotOptimize(estimate_tokens(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_EstimateProse500K);

void BM_EstimateCode500K(benchmark::State& state) {
  const std::string text = code(500'000);
  for (auto _ : state) benchmark::DoNotOptimize(estimate_tokens(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_EstimateCode500K);

void BM_EstimateClaudeCodeRequest(benchmark::State& state) {
  const std::string body = claude_code_body();
  for (auto _ : state) benchmark::DoNotOptimize(estimate_request(body));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.counters["body_kb"] = static_cast<double>(body.size()) / 1024;
  state.counters["tokens"] = static_cast<double>(estimate_request(body)->total());
}
BENCHMARK(BM_EstimateClaudeCodeRequest);

void BM_EstimateSmallRequest(benchmark::State& state) {
  const std::string body = R"({"model":"claude-sonnet-4-5","max_tokens":256,"messages":[{"role":"user","content":"Say hello in one short sentence."}]})";
  for (auto _ : state) benchmark::DoNotOptimize(estimate_request(body));
}
BENCHMARK(BM_EstimateSmallRequest);

void BM_TrimClaudeCodeRequest(benchmark::State& state) {
  const std::string body = claude_code_body();
  const auto e = *estimate_request(body);
  Check c;
  c.window = Window{static_cast<std::int64_t>(e.total() / 2), false, false};
  for (auto _ : state) {
    std::string b = body;
    benchmark::DoNotOptimize(trim_oldest_turns(b, e, c));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_TrimClaudeCodeRequest);

}  // namespace

BENCHMARK_MAIN();
