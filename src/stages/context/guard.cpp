#include "stages/context/guard.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace sluice::stages::context {
namespace {

namespace json = boost::json;

// tool_use ids a message defines, and tool_use ids its tool_result blocks answer.
void tool_ids(const json::value& message, std::vector<std::string>& uses, std::vector<std::string>& results) {
  const auto* m = message.if_object();
  if (!m) return;
  const auto* content = m->if_contains("content");
  if (!content || !content->is_array()) return;
  for (const auto& b : content->as_array()) {
    const auto* o = b.if_object();
    if (!o) continue;
    const auto* type = o->if_contains("type");
    if (!type || !type->is_string()) continue;
    if (*type == "tool_use" || *type == "server_tool_use") {
      if (const auto* id = o->if_contains("id"); id && id->is_string()) uses.emplace_back(id->as_string());
    } else if (*type == "tool_result") {
      if (const auto* id = o->if_contains("tool_use_id"); id && id->is_string()) results.emplace_back(id->as_string());
    }
  }
}

std::string_view role_of(const json::value& message) {
  const auto* m = message.if_object();
  const auto* role = m ? m->if_contains("role") : nullptr;
  return role && role->is_string() ? std::string_view(role->as_string()) : std::string_view();
}

}  // namespace

Check check_request(std::uint64_t input_estimate, std::int64_t max_tokens, const Window& window, double margin) {
  Check c;
  c.input = input_estimate;
  c.window = window;
  c.counted_output = window.counts_max_tokens && max_tokens > 0 ? static_cast<std::uint64_t>(max_tokens) : 0;
  const auto w = static_cast<std::uint64_t>(std::max<std::int64_t>(0, window.tokens));
  // The least the input can be if the estimate overshot by the whole margin.
  const auto lowest = static_cast<std::uint64_t>(std::floor(static_cast<double>(input_estimate) / (1.0 + margin)));
  c.input_alone_over = lowest > w;
  c.fits = !c.input_alone_over && c.counted_output <= w - lowest;
  c.central_fits = input_estimate <= w && c.counted_output <= w - input_estimate;
  return c;
}

std::string refusal_message(std::string_view model, const Check& c, double margin, bool could_trim) {
  const std::string window = std::to_string(c.window.tokens);
  std::string m;
  if (c.input_alone_over) {
    m = "prompt is too long: " + std::to_string(c.input) + " tokens > " + window + " maximum";
  } else {
    m = "input length and `max_tokens` exceed context limit: " + std::to_string(c.input) + " + " +
        std::to_string(c.counted_output) + " > " + window + ", decrease input length or `max_tokens` and try again";
  }
  m += " (sluice's estimate of the input, for " + std::string(model);
  if (c.window.extended) m += " with the 1M-context beta";
  m += "; refused before sending, only beyond its " + std::to_string(static_cast<int>(std::lround(margin * 100))) +
       "% error margin" + (could_trim ? "; x-sluice-context-trim: true drops the oldest turns instead)" : ")");
  return m;
}

std::optional<Trimmed> trim_oldest_turns(std::string& body, const RequestTokens& estimate, const Check& c) {
  const auto window = static_cast<std::uint64_t>(std::max<std::int64_t>(0, c.window.tokens));
  if (c.counted_output + estimate.fixed >= window) return std::nullopt;
  const std::uint64_t budget = window - c.counted_output;

  boost::system::error_code ec;
  json::value root = json::parse(body, ec);
  if (ec || !root.is_object()) return std::nullopt;
  auto* messages = root.as_object().if_contains("messages");
  if (!messages || !messages->is_array()) return std::nullopt;
  auto& list = messages->as_array();
  const std::size_t n = list.size();
  if (n != estimate.messages.size() || n < 2) return std::nullopt;

  // Walking back from the end: which suffixes answer every tool_result they hold, and the
  // tokens of each suffix.
  std::set<std::string> unanswered;  // tool_result ids whose tool_use is not in the suffix
  std::vector<bool> self_contained(n, false);
  std::vector<std::uint64_t> suffix(n + 1, 0);
  for (std::size_t i = n; i-- > 0;) {
    std::vector<std::string> uses, results;
    tool_ids(list[i], uses, results);
    for (auto& r : results) unanswered.insert(std::move(r));
    for (const auto& u : uses) unanswered.erase(u);
    self_contained[i] = unanswered.empty();
    suffix[i] = suffix[i + 1] + estimate.messages[i];
  }
  const bool first_is_prompt = role_of(list[0]) == "user";
  // `role: "system"` messages before the cut: they stay wherever the cut falls.
  std::uint64_t system_tokens = 0;
  std::size_t system_count = 0;
  for (std::size_t cut = 1; cut < n; ++cut) {
    if (role_of(list[cut - 1]) == "system") {
      system_tokens += estimate.messages[cut - 1];
      ++system_count;
    }
    // Messages [from, cut) go: from 0 before a user turn, from 1 (the prompt stays) before an
    // assistant turn. (With from 1, message 0 is a user message, so not among the system ones.)
    const std::string_view role = role_of(list[cut]);
    const std::size_t from = role == "user" ? 0 : (role == "assistant" && first_is_prompt) ? 1 : n;
    if (from == n || !self_contained[cut] || cut - from <= system_count) continue;  // drops nothing
    const std::uint64_t after = estimate.fixed + suffix[cut] + (from == 1 ? estimate.messages[0] : 0) + system_tokens;
    if (after > budget) continue;

    // Rebuild: [the prompt], the system messages of the dropped range, then the suffix — or,
    // when the suffix starts with a user turn, that turn first and the system messages after it.
    json::array out;
    std::vector<json::value> systems;
    for (std::size_t i = from; i < cut; ++i) {
      if (role_of(list[i]) == "system") systems.push_back(std::move(list[i]));
    }
    if (from == 1) out.push_back(std::move(list[0]));
    std::size_t next = cut;
    if (from == 0) out.push_back(std::move(list[next++]));
    for (auto& sys : systems) out.push_back(std::move(sys));
    for (; next < n; ++next) out.push_back(std::move(list[next]));
    const std::size_t dropped = n - out.size();
    *messages = std::move(out);
    body = json::serialize(root);
    return Trimmed{dropped, estimate.total(), after};
  }
  return std::nullopt;
}

std::string trimmed_header(const Trimmed& t, const Check& c) {
  return "dropped-messages=" + std::to_string(t.dropped) + "; estimated-input-before=" + std::to_string(t.before) +
         "; estimated-input-after=" + std::to_string(t.after) + "; window=" + std::to_string(c.window.tokens);
}

}  // namespace sluice::stages::context
