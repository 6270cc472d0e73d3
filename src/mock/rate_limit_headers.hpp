#pragma once
// Plausible rate-limit response headers: Anthropic's anthropic-ratelimit-* family with RFC 3339
// reset times (§3.3) and OpenAI's x-ratelimit-* family with duration resets (§5.6). The mock
// enforces no limit; `exhausted` (a 429 fault) reports zero remaining.
// Pure functions apart from reading the system clock; thread-safe.

#include <cstdint>

#include "mock/reply.hpp"

namespace sluice::mock {

void add_anthropic_rate_limit_headers(Reply& reply, std::uint64_t input_tokens, std::uint64_t output_tokens,
                                      bool exhausted);
void add_openai_rate_limit_headers(Reply& reply, std::uint64_t tokens, bool exhausted);

}  // namespace sluice::mock
