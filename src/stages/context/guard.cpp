#include "stages/context/guard.hpp"

#include <cmath>
#include <set>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace sluice::stages::context {
namespace {

namespace json = boost::json;

// Thousands separated by commas, as people read token counts.
std::string grouped(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

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

bool is_user(const json::value& message) {
  const auto* m = message.if_object();
  const auto* role = m ? m->if_contains("role") : nullptr;
  return role && role->is_string() && *role == "user";
}

}  // namespace

Check check_request(std::uint64_t input_estimate, std::int64_t max_tokens, const Window& window, double margin) {
  Check c;
  c.input = input_estimate;
  c.window = window;
  c.counted_output = window.counts_max_tokens && max_tokens > 0 ? static_cast<std::uint64_t>(max_tokens) : 0;
  // The least the input can be if the estimate overshot by the whole margin.
  const auto lowest = static_cast<std::uint64_t>(std::floor(static_cast<double>(input_estimate) / (1.0 + margin)));
  c.fits = lowest + c.counted_output <= static_cast<std::uint64_t>(window.tokens);
  return c;
}

std::string refusal_message(std::string_view model, const Check& c, double margin) {
  std::string m = "prompt is too long: about " + grouped(c.input) + " input tokens";
  if (c.counted_output > 0) m += " + " + grouped(c.counted_output) + " max_tokens";
  m += " > " + grouped(static_cast<std::uint64_t>(c.window.tokens)) + ", the context window of " + std::string(model);
  if (c.window.extended) m += " with the 1M-context beta";
  m += " (sluice's estimate, refused only beyond its " + std::to_string(static_cast<int>(std::lround(margin * 100))) +
       "% error margin); shorten the conversation";
  if (c.counted_output > 0) m += ", lower max_tokens";
  m += " or enable context trimming";
  return m;
}

std::optional<Trimmed> trim_oldest_turns(std::string& body, const RequestTokens& estimate, const Check& c) {
  const auto window = static_cast<std::uint64_t>(c.window.tokens);
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
  // tokens of each suffix. The earliest valid cut that fits drops the least.
  std::set<std::string> unanswered;  // tool_result ids whose tool_use is not in the suffix
  std::vector<bool> valid(n, false);
  std::vector<std::uint64_t> suffix(n + 1, 0);
  for (std::size_t i = n; i-- > 0;) {
    std::vector<std::string> uses, results;
    tool_ids(list[i], uses, results);
    for (auto& r : results) unanswered.insert(std::move(r));
    for (const auto& u : uses) unanswered.erase(u);
    valid[i] = unanswered.empty() && is_user(list[i]);
    suffix[i] = suffix[i + 1] + estimate.messages[i];
  }
  for (std::size_t cut = 1; cut < n; ++cut) {
    if (!valid[cut] || estimate.fixed + suffix[cut] > budget) continue;
    Trimmed t{cut, estimate.total(), estimate.fixed + suffix[cut]};
    list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(cut));
    body = json::serialize(root);
    return t;
  }
  return std::nullopt;
}

std::string trimmed_header(const Trimmed& t, const Check& c) {
  return "dropped-messages=" + std::to_string(t.dropped) + "; estimated-input-before=" + std::to_string(t.before) +
         "; estimated-input-after=" + std::to_string(t.after) + "; window=" + std::to_string(c.window.tokens);
}

}  // namespace sluice::stages::context
