// Fuzzes the meter's usage readers (src/stages/meter/usage.cpp) and the cost arithmetic on
// what they return: whatever an upstream sends, counts stay non-negative and bounded and the
// cost computes without overflow (UBSan would report signed overflow).
// Input: the first byte picks the reader; 0 = one non-streaming body, otherwise the rest is a
// list of stream events, each "type\ndata\n\n".
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "stages/meter/pricing.hpp"
#include "stages/meter/usage.hpp"

using namespace sluice::stages::meter;

namespace {

void check(const Usage& u) {
  constexpr std::int64_t kMax = 1'000'000'000'000;
  for (std::int64_t v : {u.input_tokens, u.output_tokens, u.cache_creation_tokens, u.cache_read_tokens}) {
    if (v < 0 || v > kMax) std::abort();
  }
  if (u.server_tool_uses < 0) std::abort();
  static const PriceTable table{PriceTable::default_rules()};
  auto cost = table.cost_micros("claude-opus-4-1", u);  // the most expensive built-in price
  if (!cost || *cost < 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] == 0) {
    if (auto u = usage_from_message(in)) check(*u);
    return 0;
  }
  StreamMeter meter;
  while (!in.empty()) {
    auto nl = in.find('\n');
    std::string_view type = in.substr(0, nl);
    in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
    auto end = in.find("\n\n");
    std::string_view event_data = in.substr(0, end);
    in.remove_prefix(end == std::string_view::npos ? in.size() : end + 2);
    meter.on_event(type, event_data);
    check(meter.usage());
  }
  return 0;
}
