// Tests of the deterministic reply planner (src/mock/reply_plan.*) through the Anthropic and
// OpenAI request readers, which is how the service uses it.

#include "mock/reply_plan.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "mock/anthropic_request.hpp"
#include "mock/openai_request.hpp"
#include "mock/token_count.hpp"
#include "unit/mock/sse_testing.hpp"

namespace sluice::mock {
namespace {

using testing::json;

// Claude Code's 12 tools (names and required inputs abridged from a real request).
std::string claude_code_tools() {
  const char* names[] = {"Task", "Bash", "Glob", "Grep", "LS", "ExitPlanMode",
                         "Read", "Edit", "MultiEdit", "Write", "NotebookEdit", "WebFetch"};
  std::string out = "[";
  for (int i = 0; i < 12; ++i) {
    if (i) out += ",";
    out += R"({"name":")" + std::string(names[i]) +
           R"(","description":"A tool.","input_schema":{"type":"object","properties":{"command":{"type":"string"}},"required":["command"]}})";
  }
  return out + "]";
}

struct Planned {
  boost::json::value body;
  MessagesRequest req;
  ReplyPlan plan;
};

Planned plan_for(const std::string& request) {
  Planned p;
  p.body = json(request);
  auto err = read_messages_request(p.body, p.req);
  EXPECT_FALSE(err) << (err ? err->message : "");
  p.plan = make_plan(p.req.plan);
  return p;
}

std::string text_of(const ReplyPlan& plan) {
  for (const auto& b : plan.blocks) {
    if (b.kind == BlockKind::Text) return b.text;
  }
  return {};
}

TEST(ReplyPlan, PlainReplyEchoesTheLastUserText) {
  auto p = plan_for(R"({"model":"claude-sonnet-4-5","max_tokens":100,
    "messages":[{"role":"user","content":"first"},{"role":"assistant","content":"ok"},
                {"role":"user","content":"  say hello  "}]})");
  ASSERT_EQ(p.plan.blocks.size(), 1u);
  EXPECT_EQ(p.plan.blocks[0].kind, BlockKind::Text);
  EXPECT_EQ(p.plan.blocks[0].text, "Hello from sluice mock! You said: say hello");
  EXPECT_EQ(p.plan.stop_reason, StopReason::EndTurn);
  // "Hello" " from" " sluice" " mock!" " You" " said:" " say" " hello" = 8 pieces.
  EXPECT_EQ(p.plan.usage.output_tokens, 8u);
}

TEST(ReplyPlan, SameRequestGivesSameTextAndUsage) {
  const std::string req = R"({"model":"m","max_tokens":50,"system":"be brief","stream":true,
    "thinking":{"type":"enabled","budget_tokens":1000},
    "messages":[{"role":"user","content":[{"type":"text","text":"what is 2+2?"}]}]})";
  auto a = plan_for(req);
  auto b = plan_for(req);
  ASSERT_EQ(a.plan.blocks.size(), b.plan.blocks.size());
  for (std::size_t i = 0; i < a.plan.blocks.size(); ++i) {
    EXPECT_EQ(a.plan.blocks[i].text, b.plan.blocks[i].text);
    EXPECT_EQ(a.plan.blocks[i].signature, b.plan.blocks[i].signature);
    EXPECT_EQ(a.plan.blocks[i].tokens, b.plan.blocks[i].tokens);
  }
  EXPECT_EQ(a.plan.usage.input_tokens, b.plan.usage.input_tokens);
  EXPECT_EQ(a.plan.usage.output_tokens, b.plan.usage.output_tokens);
}

TEST(ReplyPlan, InputTokensAreStringBytesOverFour) {
  // system "abcd" (4) + "hello" (5) + role strings "user" (4) = 13 bytes -> ceil(13/4) = 4.
  auto p = plan_for(R"({"model":"m","max_tokens":5,"system":"abcd","messages":[{"role":"user","content":"hello"}]})");
  EXPECT_EQ(p.plan.usage.input_tokens, 4u);
  auto empty = plan_for(R"({"model":"m","max_tokens":5,"messages":[]})");
  EXPECT_EQ(empty.plan.usage.input_tokens, 1u);
  EXPECT_EQ(text_of(empty.plan), "Hello from sluice mock!");
}

TEST(ReplyPlan, ClaudeCodeSayHelloWithTwelveToolsGetsPlainText) {
  const std::string req = R"({"model":"claude-opus-5-5","max_tokens":128000,"stream":true,
    "system":[{"type":"text","text":"You are Claude Code."}],
    "thinking":{"type":"adaptive","display":"omitted"},
    "tools":)" + claude_code_tools() + R"(,
    "messages":[{"role":"system","content":"per-turn control"},
      {"role":"user","content":[
        {"type":"text","text":"<system-reminder>Use the TodoWrite and Bash tools wisely. Read files.</system-reminder>"},
        {"type":"text","text":"say hello","cache_control":{"type":"ephemeral"}}]}]})";
  auto p = plan_for(req);
  ASSERT_EQ(p.plan.blocks.size(), 2u);
  EXPECT_EQ(p.plan.blocks[0].kind, BlockKind::Thinking);
  EXPECT_EQ(p.plan.blocks[0].text, "");  // display: omitted
  EXPECT_GT(p.plan.blocks[0].tokens, 0u);
  EXPECT_FALSE(p.plan.blocks[0].signature.empty());
  EXPECT_EQ(p.plan.blocks[1].text, "Hello from sluice mock! You said: say hello");
  EXPECT_EQ(p.plan.stop_reason, StopReason::EndTurn);
}

TEST(ReplyPlan, NamingAToolCallsItWithInputFromItsSchema) {
  auto p = plan_for(R"({"model":"m","max_tokens":1000,
    "tools":[{"name":"other","input_schema":{"type":"object"}},
      {"name":"get_weather","input_schema":{"type":"object","properties":{
        "location":{"type":"string"},"units":{"type":"string","enum":["celsius","fahrenheit"]},
        "days":{"type":"integer"},"ratio":{"type":["number","null"]},"verbose":{"type":"boolean"},
        "opts":{"type":"object"},"tags":{"type":"array"},"unused":{"type":"string"}},
        "required":["location","units","days","ratio","verbose","opts","tags","untyped"]}}],
    "messages":[{"role":"user","content":"please call get_weather Paris, France "}]})");
  ASSERT_EQ(p.plan.blocks.size(), 2u);
  EXPECT_EQ(p.plan.blocks[0].text, "I'll use the get_weather tool.");
  const Block& tool = p.plan.blocks[1];
  EXPECT_EQ(tool.kind, BlockKind::ToolUse);
  EXPECT_EQ(tool.name, "get_weather");
  EXPECT_EQ(json(tool.text), json(R"({"location":"Paris, France","units":"celsius","days":1,"ratio":1,
    "verbose":true,"opts":{},"tags":[],"untyped":"Paris, France"})"));
  EXPECT_EQ(p.plan.stop_reason, StopReason::ToolUse);
  EXPECT_EQ(p.plan.usage.output_tokens, p.plan.blocks[0].tokens + tool.tokens);
}

TEST(ReplyPlan, ToolNamesMatchWholeWordsOnly) {
  const std::string tools = claude_code_tools();
  auto bashful = plan_for(R"({"model":"m","max_tokens":100,"tools":)" + tools +
                          R"(,"messages":[{"role":"user","content":"a Bashful reader; grep it"}]})");
  EXPECT_EQ(bashful.plan.blocks.size(), 1u);
  auto bash = plan_for(R"({"model":"m","max_tokens":100,"tools":)" + tools +
                       R"(,"messages":[{"role":"user","content":"run Bash echo hi"}]})");
  ASSERT_EQ(bash.plan.blocks.size(), 2u);
  EXPECT_EQ(bash.plan.blocks[1].name, "Bash");
  EXPECT_EQ(json(bash.plan.blocks[1].text), json(R"({"command":"echo hi"})"));
  // The earliest name wins.
  auto two = plan_for(R"({"model":"m","max_tokens":100,"tools":)" + tools +
                      R"(,"messages":[{"role":"user","content":"Read then Write"}]})");
  EXPECT_EQ(two.plan.blocks[1].name, "Read");
  EXPECT_EQ(json(two.plan.blocks[1].text), json(R"({"command":"then Write"})"));
}

TEST(ReplyPlan, ToolChoiceAnyToolAndNone) {
  const std::string tools = R"([{"name":"alpha","input_schema":{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}},
                                 {"name":"beta","input_schema":{"type":"object"}},
                                 {"type":"web_search_20250305","name":"web_search"}])";
  auto any = plan_for(R"({"model":"m","max_tokens":100,"tools":)" + tools +
                      R"(,"tool_choice":{"type":"any"},"messages":[{"role":"user","content":"hi"}]})");
  ASSERT_EQ(any.plan.blocks.size(), 2u);
  EXPECT_EQ(any.plan.blocks[1].name, "alpha");
  EXPECT_EQ(any.plan.blocks[1].text, R"({"q":"example"})");
  auto forced = plan_for(R"({"model":"m","max_tokens":100,"tools":)" + tools +
                         R"(,"tool_choice":{"type":"tool","name":"beta"},"messages":[{"role":"user","content":"alpha x"}]})");
  ASSERT_EQ(forced.plan.blocks.size(), 2u);
  EXPECT_EQ(forced.plan.blocks[1].name, "beta");
  EXPECT_EQ(forced.plan.blocks[1].text, "{}");
  auto none = plan_for(R"({"model":"m","max_tokens":100,"tools":)" + tools +
                       R"(,"tool_choice":{"type":"none"},"messages":[{"role":"user","content":"alpha x"}]})");
  EXPECT_EQ(none.plan.blocks.size(), 1u);
  // Server tools are never called by the mock.
  auto server = plan_for(R"({"model":"m","max_tokens":100,"tools":)" + tools +
                         R"(,"messages":[{"role":"user","content":"web_search cats"}]})");
  EXPECT_EQ(server.plan.blocks.size(), 1u);
}

TEST(ReplyPlan, ToolResultGetsATextAnswerNeverAnotherCall) {
  auto p = plan_for(R"({"model":"m","max_tokens":100,"tools":)" + claude_code_tools() + R"(,
    "tool_choice":{"type":"any"},
    "messages":[{"role":"user","content":"run Bash ls"},
      {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"ls"}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1",
        "content":[{"type":"text","text":"README.md"},{"type":"text","text":"src"}]}]}]})");
  ASSERT_EQ(p.plan.blocks.size(), 1u);
  EXPECT_EQ(p.plan.blocks[0].text, "Tool result received: README.md\nsrc");
  EXPECT_EQ(p.plan.stop_reason, StopReason::EndTurn);
}

TEST(ReplyPlan, StopSequenceCutsTheText) {
  auto p = plan_for(R"({"model":"m","max_tokens":100,"stop_sequences":["zzz","mock","sluice"],
    "messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(text_of(p.plan), "Hello from ");
  EXPECT_EQ(p.plan.stop_reason, StopReason::StopSequence);
  EXPECT_EQ(p.plan.stop_sequence, "sluice");
  EXPECT_EQ(p.plan.usage.output_tokens, 2u);
}

TEST(ReplyPlan, MaxTokensTruncates) {
  auto p = plan_for(R"({"model":"m","max_tokens":3,"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(text_of(p.plan), "Hello from sluice");
  EXPECT_EQ(p.plan.stop_reason, StopReason::MaxTokens);
  EXPECT_EQ(p.plan.usage.output_tokens, 3u);
  // max_tokens reached before the stop sequence: max_tokens wins.
  auto both = plan_for(R"({"model":"m","max_tokens":2,"stop_sequences":["mock"],"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(text_of(both.plan), "Hello from");
  EXPECT_EQ(both.plan.stop_reason, StopReason::MaxTokens);
  // A tool call that does not fit is dropped.
  auto tool = plan_for(R"({"model":"m","max_tokens":5,"tools":[{"name":"t","input_schema":{}}],
    "messages":[{"role":"user","content":"t now"}]})");
  EXPECT_EQ(tool.plan.blocks.size(), 1u);
  EXPECT_EQ(tool.plan.stop_reason, StopReason::MaxTokens);
}

TEST(ReplyPlan, ThinkingComesFirstAndCounts) {
  auto p = plan_for(R"({"model":"m","max_tokens":100,"thinking":{"type":"enabled","budget_tokens":50},
    "messages":[{"role":"user","content":"hi"}]})");
  ASSERT_EQ(p.plan.blocks.size(), 2u);
  EXPECT_EQ(p.plan.blocks[0].kind, BlockKind::Thinking);
  EXPECT_FALSE(p.plan.blocks[0].text.empty());
  EXPECT_EQ(p.plan.blocks[0].tokens, count_pieces(p.plan.blocks[0].text));
  EXPECT_EQ(p.plan.usage.output_tokens, p.plan.blocks[0].tokens + p.plan.blocks[1].tokens);
  EXPECT_EQ(p.plan.thinking_tokens(), p.plan.blocks[0].tokens);
}

TEST(ReplyPlan, ReplyOverride) {
  auto p = plan_for(R"({"model":"m","max_tokens":100,"messages":[{"role":"user","content":"hi"}]})");
  p.req.plan.reply_override = "Custom answer.";
  auto plan = make_plan(p.req.plan);
  EXPECT_EQ(text_of(plan), "Custom answer.");
  EXPECT_EQ(plan.usage.output_tokens, 2u);
  p.req.plan.reply_override = "";
  plan = make_plan(p.req.plan);
  ASSERT_EQ(plan.blocks.size(), 1u);
  EXPECT_EQ(plan.blocks[0].text, "");
  EXPECT_EQ(plan.usage.output_tokens, 1u);  // never 0
}

TEST(ReplyPlan, LongUserTextIsTruncatedAtACharacterBoundary) {
  std::string long_text;
  for (int i = 0; i < 150; ++i) long_text += "\xC3\xA9";  // é, 2 bytes each
  auto p = plan_for(R"({"model":"m","max_tokens":10000,"messages":[{"role":"user","content":")" + long_text + R"("}]})");
  const std::string t = text_of(p.plan);
  const std::string prefix = "Hello from sluice mock! You said: ";
  ASSERT_TRUE(t.starts_with(prefix));
  EXPECT_EQ(t.size() - prefix.size(), 200u);
}

TEST(ReplyPlan, OpenAIRequestReadsToolsStopAndReasoning) {
  auto body = json(R"({"model":"deepseek-reasoner","max_completion_tokens":500,"stop":"zzz",
    "tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object",
      "properties":{"id":{"type":"integer"}},"required":["id"]}}}],
    "messages":[{"role":"system","content":"sys"},{"role":"user","content":[{"type":"text","text":"lookup 7"}]}]})");
  ChatRequest req;
  ASSERT_FALSE(read_chat_request(body, req));
  EXPECT_TRUE(req.plan.thinking);
  EXPECT_EQ(req.plan.max_tokens, 500u);
  ASSERT_EQ(req.plan.stop_sequences.size(), 1u);
  auto plan = make_plan(req.plan);
  ASSERT_EQ(plan.blocks.size(), 3u);
  EXPECT_EQ(plan.blocks[2].text, R"({"id":1})");
  EXPECT_EQ(plan.stop_reason, StopReason::ToolUse);

  auto tool_turn = json(R"({"model":"gpt-4o","messages":[{"role":"user","content":"lookup 7"},
    {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{}"}}]},
    {"role":"tool","tool_call_id":"call_1","content":"found it"}],
    "tools":[{"type":"function","function":{"name":"lookup"}}],"tool_choice":"required"})");
  ChatRequest req2;
  ASSERT_FALSE(read_chat_request(tool_turn, req2));
  EXPECT_FALSE(req2.plan.thinking);
  auto plan2 = make_plan(req2.plan);
  ASSERT_EQ(plan2.blocks.size(), 1u);
  EXPECT_EQ(plan2.blocks[0].text, "Tool result received: found it");
}

TEST(ReplyPlan, AnthropicValidationMessages) {
  auto check = [](const char* body, const char* message) {
    MessagesRequest req;
    auto err = read_messages_request(json(body), req);
    ASSERT_TRUE(err) << body;
    EXPECT_EQ(err->status, 400);
    EXPECT_EQ(err->type, "invalid_request_error");
    EXPECT_EQ(err->message, message);
  };
  check(R"({"model":"m","messages":[]})", "max_tokens: Field required");
  check(R"({"max_tokens":1,"messages":[]})", "model: Field required");
  check(R"({"model":"m","max_tokens":1})", "messages: Field required");
  check(R"({"model":"m","max_tokens":0,"messages":[]})", "max_tokens: Input should be greater than or equal to 1");
  check(R"({"model":"m","max_tokens":"5","messages":[]})", "max_tokens: Input should be a valid integer");
  check(R"({"model":1,"max_tokens":5,"messages":[]})", "model: Input should be a valid string");
  check(R"({"model":"m","max_tokens":5,"messages":{}})", "messages: Input should be a valid list");
  check(R"([1])", "Input should be a valid dictionary");
  // Unknown fields, unknown blocks and a system role inside messages are accepted.
  MessagesRequest ok;
  EXPECT_FALSE(read_messages_request(json(R"({"model":"m","max_tokens":5.0,"context_management":{},"future":1,
    "messages":[{"role":"system","content":"x"},{"role":"user","content":[{"type":"hologram","data":"?"}]}]})"),
                                     ok));
}

}  // namespace
}  // namespace sluice::mock
