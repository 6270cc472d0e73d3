#pragma once
// Error answers in each dialect: the status, the error JSON (via providers/*/error_body) with
// the request id in body and header, and the real APIs' wording for injected status faults.
// Pure functions; thread-safe.

#include <string_view>

#include "mock/api_error.hpp"
#include "mock/faults.hpp"
#include "mock/reply.hpp"

namespace sluice::mock {

Reply anthropic_error_reply(const ApiError& err, std::string_view request_id);
Reply openai_error_reply(const ApiError& err, std::string_view request_id);

// The error an injected status-<code> fault answers with (x-mock-error-type/-message override).
ApiError anthropic_status_error(int status, const Faults& faults);
ApiError openai_status_error(int status, const Faults& faults);

// The in-band error of error-after-N: type and message (x-mock-error-type/-message override).
ApiError anthropic_stream_error(const Faults& faults);
ApiError openai_stream_error(const Faults& faults);

// retry-after (seconds) and retry-after-ms.
void add_retry_after(Reply& reply, std::uint32_t seconds);

}  // namespace sluice::mock
