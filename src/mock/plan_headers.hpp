#pragma once
// Per-request overrides read from x-mock-* headers (other than faults):
//   x-mock-reply: <text>               the reply text instead of the greeting
//   x-mock-tokens-per-second: <rate>   output pacing for this request (0 = none)
//   x-mock-cache-read-tokens: <n>      reported as cache_read_input_tokens
//   x-mock-cache-creation-tokens: <n>  reported as cache_creation_input_tokens
// Pure functions; thread-safe.

#include <optional>
#include <string>

#include "mock/incoming_request.hpp"
#include "mock/plan_input.hpp"

namespace sluice::mock {

// Applies the overrides to `plan` and `tokens_per_second` (which holds the default on entry).
// Returns an error message for a 400 when a value is malformed.
std::optional<std::string> read_plan_headers(const IncomingRequest& req, PlanInput& plan,
                                             double& tokens_per_second);

}  // namespace sluice::mock
