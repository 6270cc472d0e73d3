#include "mock/plan_headers.hpp"

#include <charconv>
#include <cmath>

#include "mock/faults.hpp"
#include "mock/json_text.hpp"

namespace sluice::mock {

std::optional<std::string> read_plan_headers(const IncomingRequest& req, PlanInput& plan,
                                             double& tokens_per_second) {
  if (req.has_header("x-mock-reply")) plan.reply_override = sanitize_utf8(req.header("x-mock-reply"));
  if (const std::string_view tps = trim(req.header("x-mock-tokens-per-second")); !tps.empty()) {
    double v = 0;
    auto r = std::from_chars(tps.data(), tps.data() + tps.size(), v);
    if (r.ec != std::errc() || r.ptr != tps.data() + tps.size() || !std::isfinite(v) || v < 0) {
      return "x-mock-tokens-per-second: expected a non-negative number";
    }
    tokens_per_second = v;
  }
  if (const std::string_view v = req.header("x-mock-cache-read-tokens"); !v.empty()) {
    const auto n = parse_u32(v);
    if (!n) return "x-mock-cache-read-tokens: expected a count";
    plan.cache_read_input_tokens = *n;
  }
  if (const std::string_view v = req.header("x-mock-cache-creation-tokens"); !v.empty()) {
    const auto n = parse_u32(v);
    if (!n) return "x-mock-cache-creation-tokens: expected a count";
    plan.cache_creation_input_tokens = *n;
  }
  return std::nullopt;
}

}  // namespace sluice::mock
