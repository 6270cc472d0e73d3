#include <string>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "stages/context/guard.hpp"
#include "stages/context/image_size.hpp"
#include "stages/context/model_table.hpp"
#include "stages/context/request_tokens.hpp"
#include "stages/context/token_estimate.hpp"

namespace sluice::stages::context {
namespace {

namespace json = boost::json;

// --- the model table ---------------------------------------------------------------------

TEST(ModelTable, KnowsCurrentClaudeModels) {
  ModelTable t(ModelTable::default_rules());
  auto w = t.window_for("claude-sonnet-4-5-20250929", "");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->tokens, 200'000);
  EXPECT_FALSE(w->counts_max_tokens);  // 4.5 stops with model_context_window_exceeded instead
  EXPECT_FALSE(w->extended);
  auto opus41 = t.window_for("claude-opus-4-1-20250805", "");
  ASSERT_TRUE(opus41);
  EXPECT_TRUE(opus41->counts_max_tokens);
  EXPECT_FALSE(t.window_for("gpt-4o", ""));  // not in the table: not guarded
}

TEST(ModelTable, TheBetaHeaderOpensTheMillionTokenWindow) {
  ModelTable t(ModelTable::default_rules());
  auto w = t.window_for("claude-sonnet-4-5", "interleaved-thinking-2025-05-14, context-1m-2025-08-07");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->tokens, 1'000'000);
  EXPECT_TRUE(w->extended);
  // Models without a larger window keep theirs.
  EXPECT_EQ(t.window_for("claude-haiku-4-5", "context-1m-2025-08-07")->tokens, 200'000);
  // The context-window-exceeded beta stops max_tokens counting on older models too.
  EXPECT_FALSE(t.window_for("claude-opus-4-1", "model-context-window-exceeded-2025-08-26")->counts_max_tokens);
}

TEST(ModelTable, ConfigRulesComeFirstAndZeroMeansUnguarded) {
  auto rules = ModelTable::default_rules();
  rules.insert(rules.begin(), {{"claude-haiku-4-5*", 0, 0, true}, {"qwen3-*", 32'768, 0, true}});
  ModelTable t(std::move(rules));
  EXPECT_FALSE(t.window_for("claude-haiku-4-5", ""));
  EXPECT_EQ(t.window_for("qwen3-coder", "")->tokens, 32'768);
}

// --- the decision: at, just under and just over the limit --------------------------------

TEST(Guard, RefusesOnlyBeyondTheMargin) {
  const Window w{1'000, true, false};
  // Lowest plausible input = floor(estimate / 1.15); with 100 max_tokens counted it must stay
  // <= 1000, i.e. <= 900: estimates up to 1036 pass (900.9 -> 900), 1037 does not (901.7).
  EXPECT_TRUE(check_request(1'000, 100, w, 0.15).fits);  // the central estimate already at the limit
  EXPECT_TRUE(check_request(1'035, 100, w, 0.15).fits);  // exactly at the limit: 900 + 100
  EXPECT_TRUE(check_request(1'036, 100, w, 0.15).fits);  // just under the next token
  EXPECT_FALSE(check_request(1'037, 100, w, 0.15).fits); // just over
  // Without the margin, the central estimate decides.
  EXPECT_TRUE(check_request(900, 100, w, 0.0).fits);
  EXPECT_FALSE(check_request(901, 100, w, 0.0).fits);
}

TEST(Guard, MaxTokensCountsOnlyWhereTheModelCountsIt) {
  // Claude Code sends max_tokens 128000; a 4.5 model stops at the window instead of refusing.
  const Window stops{200'000, false, false};
  EXPECT_TRUE(check_request(150'000, 128'000, stops, 0.15).fits);
  const Window counts{200'000, true, false};
  auto c = check_request(150'000, 128'000, counts, 0.15);
  EXPECT_FALSE(c.fits);
  EXPECT_EQ(c.counted_output, 128'000u);
}

TEST(Guard, TheRefusalSaysTheEstimateAndTheLimit) {
  auto c = check_request(260'000, 64'000, Window{200'000, true, false}, 0.15);
  auto m = refusal_message("claude-opus-4-1", c, 0.15);
  EXPECT_EQ(m.rfind("prompt is too long: ", 0), 0u) << m;  // the wording Claude Code reacts to
  EXPECT_NE(m.find("260,000 input tokens"), std::string::npos) << m;
  EXPECT_NE(m.find("64,000 max_tokens"), std::string::npos) << m;
  EXPECT_NE(m.find("200,000"), std::string::npos) << m;
  EXPECT_NE(m.find("claude-opus-4-1"), std::string::npos) << m;
  EXPECT_NE(m.find("15%"), std::string::npos) << m;
}

// --- the request estimate ----------------------------------------------------------------

TEST(RequestTokens, CountsEachPartOnce) {
  const std::string text(4000, 'a');  // one long "word": a fixed, known estimate
  TextFeatures f;
  f.add(text);
  const auto t = estimate_tokens(f);
  const std::string body = R"({"model":"m","max_tokens":10,"system":")" + text + R"(",)" +
                           R"("messages":[{"role":"user","content":")" + text + R"("},)" +
                           R"({"role":"assistant","content":[{"type":"text","text":")" + text + R"("}]}]})";
  auto e = estimate_request(body);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->fixed, kRequestOverhead + t);
  ASSERT_EQ(e->messages.size(), 2u);
  EXPECT_EQ(e->messages[0], kMessageOverhead + t);
  EXPECT_EQ(e->messages[1], kMessageOverhead + t);
  EXPECT_EQ(e->total(), kRequestOverhead + 3 * t + 2 * kMessageOverhead);
}

TEST(RequestTokens, ThinkingCountsOnlyInTheLastAssistantTurn) {
  std::string thought;
  for (int i = 0; i < 60; ++i) thought += "Let me check the config file first. ";
  auto turn = [&](const char* id) {
    return R"({"role":"assistant","content":[{"type":"thinking","thinking":")" + thought +
           R"(","signature":"s"},{"type":"tool_use","id":")" + id + R"(","name":"f","input":{}}]})";
  };
  auto result = [](const char* id) {
    return std::string(R"({"role":"user","content":[{"type":"tool_result","tool_use_id":")") + id +
           R"(","content":"ok"}]})";
  };
  const std::string body = R"({"messages":[{"role":"user","content":"go"},)" + turn("t1") + "," + result("t1") + "," +
                           turn("t2") + "," + result("t2") + "]}";
  auto e = estimate_request(body);
  ASSERT_TRUE(e);
  EXPECT_LT(e->messages[1], 50u);   // an earlier turn: its thinking is dropped by the API
  EXPECT_GT(e->messages[3], 300u);  // the last assistant turn: its thinking counts
}

TEST(RequestTokens, ToolsAndImagesCount) {
  const std::string with_tools = R"({"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"read","description":"Reads a file","input_schema":{"type":"object","properties":{"path":{"type":"string"}}}}]})";
  const std::string without = R"({"messages":[{"role":"user","content":"hi"}]})";
  EXPECT_GT(estimate_request(with_tools)->fixed, estimate_request(without)->fixed + kToolsOverhead);
  const std::string image = R"({"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://example.com/a.png"}}]}]})";
  EXPECT_EQ(estimate_request(image)->messages[0], kMessageOverhead + kUnknownImageTokens);
  EXPECT_FALSE(estimate_request("[1,2]"));
  EXPECT_FALSE(estimate_request(R"({"messages":{}})"));
}

// --- trimming ----------------------------------------------------------------------------

// u0 "start"; a1 tool_use t1; u2 tool_result t1; a3 text; u4 "next"; a5 tool_use t2;
// u6 tool_result t2 + text; a7 text; u8 "last". Cuts may fall before u4 and u8 only.
std::string conversation() {
  const std::string pad(400, 'w');
  auto text = [&](const char* role, const char* t) {
    return std::string(R"({"role":")") + role + R"(","content":")" + t + " " + pad + R"("})";
  };
  return R"({"model":"m","max_tokens":100,"system":"be brief","messages":[)" + text("user", "start") + "," +
         R"({"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{"q":")" + pad + R"("}}]},)" +
         R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":")" + pad + R"("}]},)" +
         text("assistant", "answer") + "," + text("user", "next") + "," +
         R"({"role":"assistant","content":[{"type":"tool_use","id":"t2","name":"f","input":{}}]},)" +
         R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"t2","content":"x"},{"type":"text","text":")" +
         pad + R"("}]},)" + text("assistant", "more") + "," + text("user", "last") + "]}";
}

std::size_t message_count(const std::string& body) {
  return json::parse(body).at("messages").as_array().size();
}

TEST(Trim, DropsWholeTurnsAndKeepsToolPairs) {
  std::string body = conversation();
  auto e = estimate_request(body);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->messages.size(), 9u);
  // A window that fits everything from u4 on, but not from u2 on (u2 is not a valid cut anyway).
  const std::uint64_t from4 = e->fixed + e->messages[4] + e->messages[5] + e->messages[6] + e->messages[7] + e->messages[8];
  Check c;
  c.fits = false;
  c.input = e->total();
  c.counted_output = 100;
  c.window = Window{static_cast<std::int64_t>(from4 + 100), true, false};
  auto t = trim_oldest_turns(body, *e, c);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->dropped, 4u);
  EXPECT_EQ(t->before, e->total());
  EXPECT_EQ(t->after, from4);
  auto v = json::parse(body);
  const auto& msgs = v.at("messages").as_array();
  ASSERT_EQ(msgs.size(), 5u);
  EXPECT_EQ(msgs[0].at("role"), "user");
  EXPECT_NE(std::string(msgs[0].at("content").as_string()).find("next"), std::string::npos);
  EXPECT_EQ(v.at("system"), "be brief");  // the system prompt stays
  EXPECT_EQ(trimmed_header(*t, c), "dropped-messages=4; estimated-input-before=" + std::to_string(t->before) +
                                       "; estimated-input-after=" + std::to_string(from4) +
                                       "; window=" + std::to_string(from4 + 100));
}

TEST(Trim, NeverCutsBetweenAToolUseAndItsResult) {
  std::string body = conversation();
  auto e = estimate_request(body);
  // Room for everything from u6 on, but u6 answers t2 in a5, and u5 is an assistant turn: the
  // only cut that fits is before u8.
  const std::uint64_t from6 = e->fixed + e->messages[6] + e->messages[7] + e->messages[8];
  Check c;
  c.window = Window{static_cast<std::int64_t>(from6), false, false};
  auto t = trim_oldest_turns(body, *e, c);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->dropped, 8u);
  EXPECT_EQ(message_count(body), 1u);
}

TEST(Trim, GivesUpWhenNothingFitsAndLeavesTheBodyAlone) {
  std::string body = conversation();
  const std::string original = body;
  auto e = estimate_request(body);
  Check c;
  c.window = Window{static_cast<std::int64_t>(e->fixed + e->messages[8] - 1), false, false};
  EXPECT_FALSE(trim_oldest_turns(body, *e, c));
  EXPECT_EQ(body, original);
  c.window = Window{static_cast<std::int64_t>(e->fixed), false, false};  // not even the system prompt
  EXPECT_FALSE(trim_oldest_turns(body, *e, c));
}

}  // namespace
}  // namespace sluice::stages::context
