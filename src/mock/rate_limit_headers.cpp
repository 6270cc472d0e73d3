#include "mock/rate_limit_headers.hpp"

#include <chrono>
#include <ctime>

#include "mock/json_text.hpp"

namespace sluice::mock {
namespace {

constexpr std::uint64_t kRequestsLimit = 4'000;
constexpr std::uint64_t kInputTokensLimit = 2'000'000;
constexpr std::uint64_t kOutputTokensLimit = 400'000;

// RFC 3339 UTC time `ahead_s` seconds from now; formatted at most once per second per thread.
std::string rfc3339_from_now(int ahead_s) {
  struct Cache {
    std::time_t second = 0;
    char text[32] = {};
  };
  thread_local Cache cache[2];  // [0]: +1 s, [1]: +60 s
  Cache& c = cache[ahead_s > 1 ? 1 : 0];
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  if (now != c.second) {
    const std::time_t t = now + ahead_s;
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(c.text, sizeof c.text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    c.second = now;
  }
  return c.text;
}

std::string number(std::uint64_t v) {
  std::string s;
  append_uint(s, v);
  return s;
}

// Remaining tokens are rounded to the nearest thousand, as the real API does.
std::string remaining(std::uint64_t limit, std::uint64_t used, bool exhausted) {
  if (exhausted || used >= limit) return "0";
  return number((limit - used + 500) / 1000 * 1000);
}

}  // namespace

void add_anthropic_rate_limit_headers(Reply& reply, std::uint64_t input_tokens, std::uint64_t output_tokens,
                                      bool exhausted) {
  const std::string soon = rfc3339_from_now(1);
  const std::string later = rfc3339_from_now(60);
  reply.add_header("anthropic-ratelimit-requests-limit", number(kRequestsLimit));
  reply.add_header("anthropic-ratelimit-requests-remaining", exhausted ? "0" : number(kRequestsLimit - 1));
  reply.add_header("anthropic-ratelimit-requests-reset", exhausted ? later : soon);
  reply.add_header("anthropic-ratelimit-input-tokens-limit", number(kInputTokensLimit));
  reply.add_header("anthropic-ratelimit-input-tokens-remaining", remaining(kInputTokensLimit, input_tokens, exhausted));
  reply.add_header("anthropic-ratelimit-input-tokens-reset", exhausted ? later : soon);
  reply.add_header("anthropic-ratelimit-output-tokens-limit", number(kOutputTokensLimit));
  reply.add_header("anthropic-ratelimit-output-tokens-remaining",
                   remaining(kOutputTokensLimit, output_tokens, exhausted));
  reply.add_header("anthropic-ratelimit-output-tokens-reset", exhausted ? later : soon);
  reply.add_header("anthropic-ratelimit-tokens-limit", number(kInputTokensLimit + kOutputTokensLimit));
  reply.add_header("anthropic-ratelimit-tokens-remaining",
                   remaining(kInputTokensLimit + kOutputTokensLimit, input_tokens + output_tokens, exhausted));
  reply.add_header("anthropic-ratelimit-tokens-reset", exhausted ? later : soon);
  reply.add_header("anthropic-organization-id", "00000000-0000-4000-8000-5c01ce0a0c0c");
}

void add_openai_rate_limit_headers(Reply& reply, std::uint64_t tokens, bool exhausted) {
  constexpr std::uint64_t kTokens = 30'000'000;
  reply.add_header("openai-version", "2020-10-01");
  reply.add_header("openai-organization", "sluice-mock");
  reply.add_header("openai-processing-ms", "1");
  reply.add_header("x-ratelimit-limit-requests", "10000");
  reply.add_header("x-ratelimit-limit-tokens", number(kTokens));
  reply.add_header("x-ratelimit-remaining-requests", exhausted ? "0" : "9999");
  reply.add_header("x-ratelimit-remaining-tokens", exhausted ? "0" : number(tokens >= kTokens ? 0 : kTokens - tokens));
  reply.add_header("x-ratelimit-reset-requests", exhausted ? "1s" : "6ms");
  reply.add_header("x-ratelimit-reset-tokens", exhausted ? "1s" : "0s");
}

}  // namespace sluice::mock
