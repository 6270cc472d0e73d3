// Fuzzes the long-context guard (src/stages/context/) on arbitrary bytes taken as a request body.
//   - TextFeatures/estimate never crash, the estimate of a concatenation is within a few tokens
//     of the sum of the parts' (features change only at the seam, even in invalid UTF-8), and
//     no text costs more than 1.2 tokens per ASCII byte and two per other byte, plus one (the
//     bound the gateway relies on to skip it);
//   - image_size_from_base64 never crashes, and a size it returns is non-zero;
//   - estimate_request never crashes; when it succeeds, its total is the sum of its parts;
//   - trim_oldest_turns, for every window, either leaves the body untouched or produces valid
//     JSON whose messages are original ones (fewer of them; every system message and the last
//     other one kept), that starts with a user message, keeps every tool_result's tool_use, and
//     fits the window.
// Any violation calls abort() with a message on stderr.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/src.hpp>  // header-only Boost.JSON: the fuzz build links no Boost library

#include "stages/context/guard.hpp"
#include "stages/context/media_size.hpp"
#include "stages/context/request_tokens.hpp"
#include "stages/context/token_estimate.hpp"

using namespace sluice::stages::context;
namespace json = boost::json;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "context_fuzz: %s\n", what);
  std::abort();
}

void check_trim(const std::string& body, const RequestTokens& e, std::uint64_t window) {
  Check c;
  c.fits = false;
  c.window = Window{static_cast<std::int64_t>(window), false, false};
  std::string trimmed = body;
  auto t = trim_oldest_turns(trimmed, e, c);
  if (!t) {
    if (trimmed != body) fail("a failed trim changed the body");
    return;
  }
  if (t->after > window) fail("the trimmed estimate does not fit the window");
  boost::system::error_code ec;
  auto before = json::parse(body, ec);
  if (ec) fail("trim accepted a body Boost.JSON cannot parse");
  auto after = json::parse(trimmed, ec);
  if (ec) fail("trim produced invalid JSON");
  const auto& old_msgs = before.at("messages").as_array();
  const auto& msgs = after.at("messages").as_array();
  if (t->dropped == 0 || msgs.size() + t->dropped != old_msgs.size()) fail("dropped count is wrong");
  auto role_of = [](const json::value& m) -> std::string {
    const auto* r = m.as_object().if_contains("role");
    return r && r->is_string() ? std::string(r->as_string()) : std::string();
  };
  // Every kept message is an original one; every system message and the last non-system
  // message are kept.
  for (const auto& m : msgs) {
    bool found = false;
    for (const auto& o : old_msgs) found = found || m == o;
    if (!found) fail("a kept message is not one of the original messages");
  }
  const json::value* last = nullptr;
  for (const auto& o : old_msgs) {
    if (role_of(o) == "system") {
      bool kept = false;
      for (const auto& m : msgs) kept = kept || m == o;
      if (!kept) fail("a system message was dropped");
    } else {
      last = &o;
    }
  }
  if (last) {
    bool kept = false;
    for (const auto& m : msgs) kept = kept || m == *last;
    if (!kept) fail("the last message was dropped");
  }
  if (role_of(msgs[0]) != "user") fail("the first kept message is not a user message");
  std::set<std::string> uses;
  for (const auto& m : msgs) {
    const auto* content = m.as_object().if_contains("content");
    if (!content || !content->is_array()) continue;
    for (const auto& b : content->as_array()) {
      if (!b.is_object()) continue;
      const auto* type = b.as_object().if_contains("type");
      if (!type || !type->is_string()) continue;
      if (*type == "tool_use" || *type == "server_tool_use") {
        if (const auto* id = b.as_object().if_contains("id"); id && id->is_string()) uses.emplace(id->as_string());
      } else if (*type == "tool_result") {
        const auto* id = b.as_object().if_contains("tool_use_id");
        if (id && id->is_string() && !uses.count(std::string(id->as_string()))) fail("a tool_result lost its tool_use");
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);

  TextFeatures whole, left, right;
  whole.add(body);
  left.add(std::string_view(body).substr(0, size / 2));
  right.add(std::string_view(body).substr(size / 2));
  left.merge(right);
  const double a = static_cast<double>(estimate_tokens(whole));
  const double b = static_cast<double>(estimate_tokens(left));
  if (a > b + 16 || b > a + 16) fail("splitting a text changed its estimate by more than the seam");
  // The gateway skips the estimate when 1.2 tokens per ASCII byte and two per other byte fit
  // the window (ContextGuard::may_overflow).
  std::size_t high = 0;
  for (std::size_t i = 0; i < size; ++i) high += data[i] >> 7;
  if (a > 1.2 * static_cast<double>(size - high) + 2.0 * static_cast<double>(high) + 1) {
    fail("the estimate exceeds 1.2 tokens per ASCII byte and two per other byte");
  }

  if (auto s = image_size_from_base64(body); s && (s->width == 0 || s->height == 0)) fail("zero image size");

  auto e = estimate_request(body);
  if (!e) return 0;
  std::uint64_t sum = e->fixed;
  for (auto m : e->messages) sum += m;
  if (sum != e->total()) fail("total is not the sum of its parts");
  for (std::uint64_t window : {e->total() / 2, e->total() - e->total() / 4, e->fixed + 8}) check_trim(body, *e, window);
  return 0;
}
