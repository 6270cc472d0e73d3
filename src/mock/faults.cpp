#include "mock/faults.hpp"

#include <charconv>
#include <utility>

#include "mock/json_text.hpp"

namespace sluice::mock {

bool Faults::any() const { return status != 0 || slow_first_byte || stream_faults(); }

bool Faults::stream_faults() const {
  return stall_after != kNever || reset_after != kNever || error_after != kNever ||
         truncate_after != kNever || malformed_sse;
}

std::optional<std::uint32_t> parse_u32(std::string_view s) {
  s = trim(s);
  std::uint32_t v = 0;
  if (s.empty()) return std::nullopt;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::string> parse_faults(const FaultHeaders& h, Faults& out) {
  std::string_view rest = h.fault;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) continue;

    auto after = [&](std::string_view prefix, std::uint32_t& field) -> std::optional<bool> {
      if (!item.starts_with(prefix)) return std::nullopt;
      const auto n = parse_u32(item.substr(prefix.size()));
      if (!n) return false;
      field = *n;
      return true;
    };
    std::optional<bool> matched;
    if (item.starts_with("status-")) {
      const auto code = parse_u32(item.substr(7));
      if (!code || *code < 400 || *code > 599) {
        return "x-mock-fault: status code must be 400-599 in '" + std::string(item) + "'";
      }
      out.status = static_cast<int>(*code);
      continue;
    }
    if (item == "slow-first-byte") {
      out.slow_first_byte = true;
      continue;
    }
    if (item == "malformed-sse") {
      out.malformed_sse = true;
      continue;
    }
    for (auto [prefix, field] : {std::pair<std::string_view, std::uint32_t*>{"stall-after-", &out.stall_after},
                                 {"reset-after-", &out.reset_after},
                                 {"error-after-", &out.error_after},
                                 {"truncate-after-", &out.truncate_after}}) {
      matched = after(prefix, *field);
      if (matched) break;
    }
    if (!matched) return "x-mock-fault: unknown fault '" + std::string(item) + "'";
    if (!*matched) return "x-mock-fault: expected a number of events in '" + std::string(item) + "'";
  }

  if (!h.delay_ms.empty()) {
    const auto ms = parse_u32(h.delay_ms);
    if (!ms) return "x-mock-delay-ms: expected milliseconds";
    out.first_byte_delay = std::chrono::milliseconds(*ms);
  }
  if (!h.retry_after.empty()) {
    out.retry_after_seconds = parse_u32(h.retry_after);
    if (!out.retry_after_seconds) return "x-mock-retry-after: expected whole seconds";
  }
  if (!h.fail_times.empty()) {
    out.fail_times = parse_u32(h.fail_times);
    if (!out.fail_times) return "x-mock-fail-times: expected a count";
  }
  out.error_type = sanitize_utf8(trim(h.error_type));
  out.error_message = sanitize_utf8(trim(h.error_message));
  out.fault_key.assign(trim(h.fault_key));
  return std::nullopt;
}

}  // namespace sluice::mock
