#pragma once
// Anthropic error bodies: {"type":"error","error":{"type":T,"message":M},"request_id":R}
// (wire-protocols.md §3.1). Used for sluice's own errors on Anthropic routes and by the mock.

#include <string>
#include <string_view>

#include "common/error.hpp"

namespace sluice::providers::anthropic {

// The Anthropic `error.type` for a sluice error kind (conventions.md §2.4 table).
const char* error_type(ErrorKind kind);
// The JSON body; `request_id` is omitted when empty.
std::string error_body(std::string_view type, std::string_view message, std::string_view request_id);
// The body of an in-stream `event: error` (no request id; it is in the response headers).
std::string error_event_data(std::string_view type, std::string_view message);

}  // namespace sluice::providers::anthropic
