#include <regex>
#include <string>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "stages/context/guard.hpp"
#include "stages/context/media_size.hpp"
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
  EXPECT_TRUE(t.window_for("claude-sonnet-4-20250514", "")->counts_max_tokens);
  // Models this release does not know are not guarded, not given a guessed window: a newer
  // model with Claude Code's max_tokens of 128000 must not be refused at 80K tokens.
  EXPECT_FALSE(t.window_for("gpt-4o", ""));
  EXPECT_FALSE(t.window_for("claude-opus-4-7", ""));
  EXPECT_FALSE(t.window_for("claude-opus-5-5", ""));
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

// Claude Code reads the two numbers of a context overflow out of the message with this pattern
// (its parsePromptTooLongTokenCounts), to size its compaction.
const std::regex kClaudeCodePattern(R"(prompt is too long[^0-9]*(\d+)\s*tokens?\s*>\s*(\d+))", std::regex::icase);

TEST(Guard, TheRefusalSpeaksTheApisWording) {
  // The input alone is over: the API's "prompt is too long: N tokens > W maximum".
  auto over = check_request(260'000, 64'000, Window{200'000, true, false}, 0.15);
  EXPECT_TRUE(over.input_alone_over);
  auto m = refusal_message("claude-opus-4-1", over, 0.15, true);
  EXPECT_EQ(m.rfind("prompt is too long: 260000 tokens > 200000 maximum (", 0), 0u) << m;
  std::smatch g;
  ASSERT_TRUE(std::regex_search(m, g, kClaudeCodePattern)) << m;
  EXPECT_EQ(g[1], "260000");
  EXPECT_EQ(g[2], "200000");
  EXPECT_NE(m.find("claude-opus-4-1"), std::string::npos) << m;
  EXPECT_NE(m.find("15% error margin"), std::string::npos) << m;
  EXPECT_NE(m.find("x-sluice-context-trim: true"), std::string::npos) << m;
  EXPECT_EQ(refusal_message("m", over, 0.15, false).find("x-sluice-context-trim"), std::string::npos);

  // Only input + max_tokens is over: the API's other wording, which Claude Code answers by
  // lowering max_tokens rather than compacting.
  auto both = check_request(180'000, 64'000, Window{200'000, true, false}, 0.15);
  EXPECT_FALSE(both.fits);
  EXPECT_FALSE(both.input_alone_over);
  auto b = refusal_message("claude-opus-4-1", both, 0.15, true);
  EXPECT_EQ(b.rfind("input length and `max_tokens` exceed context limit: 180000 + 64000 > 200000, decrease input "
                    "length or `max_tokens` and try again (",
                    0),
            0u)
      << b;
}

TEST(Guard, CentralFitIsWhatTrimmingAimsFor) {
  const Window w{1'000, false, false};
  auto c = check_request(1'100, 0, w, 0.15);
  EXPECT_TRUE(c.fits);           // within the margin: not refused
  EXPECT_FALSE(c.central_fits);  // but a client that asked for trimming gets it trimmed
  EXPECT_TRUE(check_request(1'000, 0, w, 0.15).central_fits);
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

// A PDF of `pages` pages, base64.
std::string pdf_base64(int pages) {
  std::string pdf = "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Count " +
                    std::to_string(pages) + " >> endobj\n";
  for (int i = 0; i < pages; ++i) pdf += std::to_string(3 + i) + " 0 obj << /Type/Page /Parent 2 0 R >> endobj\n" + std::string(3000, 'x');
  pdf += "%%EOF\n";
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < pdf.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(pdf[i]) << 16;
    if (i + 1 < pdf.size()) v |= static_cast<unsigned char>(pdf[i + 1]) << 8;
    if (i + 2 < pdf.size()) v |= static_cast<unsigned char>(pdf[i + 2]);
    out += a[(v >> 18) & 63];
    out += a[(v >> 12) & 63];
    out += i + 1 < pdf.size() ? a[(v >> 6) & 63] : '=';
    out += i + 2 < pdf.size() ? a[v & 63] : '=';
  }
  return out;
}

TEST(RequestTokens, PdfsCountTheirPagesWhereverTheyAre) {
  const std::string pdf = pdf_base64(30);  // ~90 KB: the page objects straddle decode chunks
  EXPECT_EQ(pdf_pages_from_base64(pdf), 30u);
  const std::string doc = R"({"type":"document","source":{"type":"base64","media_type":"application/pdf","data":")" + pdf + R"("}})";
  auto plain = estimate_request(R"({"messages":[{"role":"user","content":[)" + doc + "]}]}");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->messages[0], kMessageOverhead + 30 * kPdfPageTokens);
  // The same PDF inside a server tool's result (web_fetch) counts the same, not as base64 text.
  auto fetched = estimate_request(
      R"({"messages":[{"role":"user","content":[{"type":"web_fetch_tool_result","tool_use_id":"srvtoolu_1","content":{"type":"web_fetch_result","url":"https://example.com/a.pdf","content":)" +
      doc + "}}]}]}");
  ASSERT_TRUE(fetched);
  EXPECT_LT(fetched->messages[0], plain->messages[0] + 30);
  EXPECT_GE(fetched->messages[0], plain->messages[0]);
}

TEST(RequestTokens, EncryptedContentCostsItsPlainSizeAndSignaturesNothing) {
  const std::string blob(4000, 'Q');
  auto e = estimate_request(R"({"messages":[{"role":"user","content":[{"type":"web_search_tool_result","content":[{"type":"web_search_result","title":"T","encrypted_content":")" +
                            blob + R"("}]},{"type":"mystery","signature":")" + blob + R"("}]}]})");
  ASSERT_TRUE(e);
  EXPECT_GE(e->messages[0], 1000u);
  EXPECT_LT(e->messages[0], 1010u);
}

TEST(RequestTokens, SeesContextEdits) {
  auto none = estimate_request(R"({"messages":[]})");
  EXPECT_FALSE(none->edits_context);
  auto thinking = estimate_request(R"({"messages":[],"context_management":{"edits":[{"type":"clear_thinking_20251015","keep":"all"}]}})");
  EXPECT_TRUE(thinking->edits_context);
  EXPECT_FALSE(thinking->clears_context);
  auto tools = estimate_request(R"({"messages":[],"context_management":{"edits":[{"type":"clear_tool_uses_20250919"}]}})");
  EXPECT_TRUE(tools->clears_context);
}

// --- trimming ----------------------------------------------------------------------------

// u0 "start"; a1 tool_use t1; u2 tool_result t1; a3 text; u4 "next"; a5 tool_use t2;
// u6 tool_result t2 + text; a7 text; u8 "last". Cuts may fall before u4 and u8 (everything
// before goes), or before a3, a5 and a7 (u0 stays).
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
  // Room for the prompt and the last two messages. u6 answers t2 in a5, so no cut before u6;
  // the cut before a7 keeps the prompt u0: [u0, a7, u8].
  Check c;
  c.window = Window{static_cast<std::int64_t>(e->fixed + e->messages[0] + e->messages[7] + e->messages[8]), false, false};
  auto t = trim_oldest_turns(body, *e, c);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->dropped, 6u);
  auto v = json::parse(body);
  const auto& msgs = v.at("messages").as_array();
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_NE(std::string(msgs[0].at("content").as_string()).find("start"), std::string::npos);
  EXPECT_EQ(msgs[1].at("role"), "assistant");
}

// Claude Code's shape: the prompt, its role:"system" environment message, then one long loop
// of tool calls and results — no plain user turn to cut before.
TEST(Trim, AnAgenticLoopKeepsItsPromptAndSystemMessages) {
  const std::string pad(800, 'w');
  std::string body = R"({"messages":[{"role":"user","content":"fix the build"},)"
                     R"({"role":"system","content":[{"type":"text","text":"# Environment","cache_control":{"type":"ephemeral"}}]})";
  for (int i = 1; i <= 3; ++i) {
    const std::string id = "t" + std::to_string(i);
    body += R"(,{"role":"assistant","content":[{"type":"tool_use","id":")" + id + R"(","name":"Bash","input":{"c":"make"}}]})";
    body += R"(,{"role":"user","content":[{"type":"tool_result","tool_use_id":")" + id + R"(","content":")" + pad + R"("}]})";
  }
  body += "]}";
  auto e = estimate_request(body);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->messages.size(), 8u);
  Check c;
  c.window = Window{static_cast<std::int64_t>(e->fixed + e->messages[0] + e->messages[1] + e->messages[6] + e->messages[7]),
                    false, false};
  auto t = trim_oldest_turns(body, *e, c);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->dropped, 4u);  // the first two tool rounds
  auto v = json::parse(body);
  const auto& msgs = v.at("messages").as_array();
  ASSERT_EQ(msgs.size(), 4u);
  EXPECT_EQ(msgs[0].at("content"), "fix the build");
  EXPECT_EQ(msgs[1].at("role"), "system");
  EXPECT_EQ(msgs[2].at("content").as_array()[0].at("id"), "t3");
  EXPECT_EQ(msgs[3].at("content").as_array()[0].at("tool_use_id"), "t3");
}

TEST(Trim, SystemMessagesOfTheDroppedRangeFollowTheFirstKeptUserTurn) {
  const std::string pad(800, 'w');
  std::string body = R"({"messages":[{"role":"user","content":"old )" + pad + R"("},{"role":"system","content":"env"},)"
                     R"({"role":"assistant","content":"old answer )" + pad + R"("},{"role":"user","content":"new question"},)"
                     R"({"role":"assistant","content":"new answer"},{"role":"user","content":"last"}]})";
  auto e = estimate_request(body);
  Check c;
  c.window = Window{static_cast<std::int64_t>(e->fixed + e->messages[1] + e->messages[3] + e->messages[4] + e->messages[5]),
                    false, false};
  auto t = trim_oldest_turns(body, *e, c);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->dropped, 2u);
  auto v = json::parse(body);
  const auto& msgs = v.at("messages").as_array();
  ASSERT_EQ(msgs.size(), 4u);
  EXPECT_EQ(msgs[0].at("content"), "new question");
  EXPECT_EQ(msgs[1].at("content"), "env");
  EXPECT_EQ(msgs[3].at("content"), "last");
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
