#include "translate/models.hpp"

#include <cstdint>

#include <simdjson.h>

#include "common/padded_json.hpp"
#include "translate/json_out.hpp"
#include "translate/json_read.hpp"

namespace sluice::translate {
namespace {

// Unix seconds of an RFC 3339 date's day ("2025-09-29T..."); 0 when it does not parse.
std::int64_t day_seconds(std::string_view s) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return 0;
  auto num = [&](std::size_t at, std::size_t n) {
    std::int64_t v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::int64_t{-1};
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  std::int64_t y = num(0, 4), m = num(5, 2), d = num(8, 2);
  if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31) return 0;
  // Days from the civil date (Howard Hinnant's algorithm).
  y -= m <= 2;
  const std::int64_t era = y / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (era * 146097 + doe - 719468) * 86400;
}

void append_model(std::string& out, simdjson::dom::element m) {
  out += R"({"id":)";
  append_json_string(out, string_at(m, "id"));
  out += R"(,"object":"model","created":)";
  append_uint(out, static_cast<std::uint64_t>(day_seconds(string_at(m, "created_at"))));
  out += R"(,"owned_by":"anthropic"})";
}

}  // namespace

Result<std::string> anthropic_models_to_openai(std::string_view body) {
  simdjson::dom::element doc;
  if (parse_padded(body, doc) != simdjson::SUCCESS || !doc.is_object()) {
    return Error{ErrorKind::UpstreamFailed, "the upstream model list is not JSON", "upstream_malformed"};
  }
  simdjson::dom::array data;
  if (doc["data"].get_array().get(data) != simdjson::SUCCESS) {
    std::string one;
    append_model(one, doc);  // GET /v1/models/{id}: one ModelInfo
    return one;
  }
  std::string out = R"({"object":"list","data":[)";
  bool first = true;
  for (simdjson::dom::element m : data) {
    if (!first) out += ',';
    first = false;
    append_model(out, m);
  }
  out += "]}";
  return out;
}

}  // namespace sluice::translate
