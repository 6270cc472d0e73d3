#pragma once
// Fault injection steered by request headers (README.md "Fault injection"):
//   x-mock-fault: comma-separated list of
//     status-<code>     answer with that status (400–599) and the dialect's error body instead
//                       of the reply (429 rate_limit_error, 500 api_error, 529 overloaded_error…)
//     slow-first-byte   wait x-mock-delay-ms (default 2000) before the response head
//     stall-after-<N>   after N events send nothing more; hold the connection silently until
//                       the stall limit (10 min) passes or the service stops, then drop it
//     reset-after-<N>   after N events close the connection without ending the body
//     error-after-<N>   after N events send an in-band error event (x-mock-error-type, default
//                       overloaded_error) and end the body cleanly, without message_stop/[DONE]
//     truncate-after-<N> after N events end the body cleanly without message_stop/[DONE]
//     malformed-sse     after the first event, insert an event whose data is not JSON and a
//                       data line without an event: field
//   x-mock-retry-after: seconds for retry-after (status faults; 429 defaults to 1), also sent as
//                       retry-after-ms
//   x-mock-error-type / x-mock-error-message: error.type / error.message of injected errors
//   x-mock-fail-times: K with x-mock-fault-key: S — the faults apply only to the first K
//                       requests carrying key S (a process-wide counter per key), then requests
//                       succeed.
// Stream faults are ignored on non-streaming requests. Pure parsing; thread-safe.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::mock {

inline constexpr std::uint32_t kNever = UINT32_MAX;  // "after N events" that never triggers

struct Faults {
  int status = 0;  // status-<code>; 0 = none
  bool slow_first_byte = false;
  std::chrono::milliseconds first_byte_delay{2000};
  std::uint32_t stall_after = kNever;
  std::uint32_t reset_after = kNever;
  std::uint32_t error_after = kNever;
  std::uint32_t truncate_after = kNever;
  bool malformed_sse = false;
  std::optional<std::uint32_t> retry_after_seconds;  // x-mock-retry-after
  std::string error_type;     // x-mock-error-type; empty = the dialect's default for the case
  std::string error_message;  // x-mock-error-message; empty = the real API's wording
  std::optional<std::uint32_t> fail_times;  // x-mock-fail-times
  std::string fault_key;                    // x-mock-fault-key

  bool any() const;
  bool stream_faults() const;  // any of stall/reset/error/truncate/malformed
};

// The raw header values (empty when absent).
struct FaultHeaders {
  std::string_view fault;
  std::string_view retry_after;
  std::string_view delay_ms;
  std::string_view error_type;
  std::string_view error_message;
  std::string_view fail_times;
  std::string_view fault_key;
};

// Parses the fault headers into `out`; returns an error message for a 400 when one is malformed
// (an unknown fault name, a bad number), so that a typo does not silently test nothing.
std::optional<std::string> parse_faults(const FaultHeaders& h, Faults& out);

// Parses a non-negative decimal integer that fits in 32 bits.
std::optional<std::uint32_t> parse_u32(std::string_view s);

}  // namespace sluice::mock
