// Tests of the OpenAI renderer (src/mock/openai_render.*): chunk stream shape of
// wire-protocols.md §5.4 and the chat.completion object of §5.3.

#include "mock/openai_render.hpp"

#include <gtest/gtest.h>

#include "mock/openai_request.hpp"
#include "unit/mock/sse_testing.hpp"

namespace sluice::mock {
namespace {

namespace bj = boost::json;
using testing::json;
using testing::parse_sse;

ReplyPlan plan_for(const std::string& request, ChatRequest& req, bj::value& body) {
  body = json(request);
  EXPECT_FALSE(read_chat_request(body, req));
  ReplyPlan plan = make_plan(req.plan);
  assign_ids(plan, "call_");
  return plan;
}

struct Accumulated {
  std::string role, content, reasoning, finish;
  std::vector<bj::object> tool_calls;  // id, name, arguments
  bool usage_chunk = false;
  bj::value usage;
};

Accumulated accumulate(const SseEvents& ev, bool include_usage) {
  Accumulated acc;
  for (std::size_t i = 0; i < ev.size(); ++i) {
    EXPECT_TRUE(ev.at(i).starts_with("data: ")) << "OpenAI streams have only data: lines";
    EXPECT_EQ(ev.at(i).find('\n'), ev.at(i).size() - 2) << "one line per event";
  }
  bool ok = false;
  auto events = parse_sse(ev.bytes, &ok);
  EXPECT_TRUE(ok);
  EXPECT_EQ(events.size(), ev.size());
  if (events.empty()) return acc;
  EXPECT_EQ(events.back().data, "[DONE]");
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    const bj::object chunk = json(events[i].data).as_object();
    EXPECT_EQ(chunk.at("object").as_string(), "chat.completion.chunk");
    EXPECT_EQ(chunk.at("id").as_string(), "chatcmpl-1");
    EXPECT_EQ(chunk.at("model").as_string(), "gpt-test");
    EXPECT_EQ(chunk.at("created").as_int64(), 1700000000);
    EXPECT_EQ(chunk.contains("usage"), include_usage);
    const auto& choices = chunk.at("choices").as_array();
    if (choices.empty()) {
      EXPECT_TRUE(include_usage);
      EXPECT_EQ(i + 2, events.size()) << "the usage chunk directly precedes [DONE]";
      acc.usage_chunk = true;
      acc.usage = chunk.at("usage");
      continue;
    }
    if (include_usage) {
      EXPECT_TRUE(chunk.at("usage").is_null());
    }
    EXPECT_TRUE(acc.finish.empty()) << "nothing after the finish chunk but usage";
    const auto& choice = choices.at(0).as_object();
    const auto& delta = choice.at("delta").as_object();
    if (i == 0) {
      EXPECT_EQ(delta.at("role").as_string(), "assistant");
      acc.role = delta.at("role").as_string();
    } else {
      EXPECT_FALSE(delta.contains("role"));
    }
    if (auto* c = delta.if_contains("content"); c && c->is_string()) acc.content += c->as_string();
    if (auto* r = delta.if_contains("reasoning_content")) acc.reasoning += r->as_string();
    if (auto* tcs = delta.if_contains("tool_calls")) {
      for (const auto& tc : tcs->as_array()) {
        const auto idx = static_cast<std::size_t>(tc.at("index").as_int64());
        if (idx == acc.tool_calls.size()) {
          EXPECT_TRUE(tc.as_object().contains("id")) << "id only in the first fragment";
          acc.tool_calls.push_back(bj::object{{"id", tc.at("id")},
                                              {"name", tc.at("function").at("name")},
                                              {"arguments", tc.at("function").at("arguments")}});
        } else {
          if (idx >= acc.tool_calls.size()) {
            ADD_FAILURE() << "tool call index " << idx << " was never opened";
            continue;
          }
          EXPECT_FALSE(tc.as_object().contains("id"));
          EXPECT_FALSE(tc.at("function").as_object().contains("name"));
          auto& args = acc.tool_calls[idx]["arguments"];
          args = std::string(args.as_string()) + std::string(tc.at("function").at("arguments").as_string());
        }
      }
    }
    if (!choice.at("finish_reason").is_null()) {
      acc.finish = choice.at("finish_reason").as_string();
      EXPECT_TRUE(delta.empty());
    }
  }
  EXPECT_EQ(acc.usage_chunk, include_usage);
  return acc;
}

TEST(OpenAIRender, TextStreamWithAndWithoutUsage) {
  ChatRequest req;
  bj::value body;
  const ReplyPlan plan = plan_for(R"({"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"hello there"}]})",
                                  req, body);
  for (bool include_usage : {false, true}) {
    const ChatMeta meta{"chatcmpl-1", "gpt-test", 1700000000, include_usage};
    const SseEvents ev = render_chat_chunks(plan, meta);
    Accumulated acc = accumulate(ev, include_usage);
    EXPECT_EQ(acc.content, "Hello from sluice mock! You said: hello there");
    EXPECT_EQ(acc.finish, "stop");
    EXPECT_TRUE(ev.bytes.ends_with("data: [DONE]\n\n"));
    if (include_usage) {
      EXPECT_EQ(static_cast<std::uint64_t>(acc.usage.at("completion_tokens").as_int64()), plan.usage.output_tokens);
      EXPECT_EQ(static_cast<std::uint64_t>(acc.usage.at("prompt_tokens").as_int64()), plan.usage.input_tokens);
      EXPECT_EQ(acc.usage.at("total_tokens").as_int64(),
                acc.usage.at("prompt_tokens").as_int64() + acc.usage.at("completion_tokens").as_int64());
    }
  }
}

TEST(OpenAIRender, ToolCallsAndReasoning) {
  ChatRequest req;
  bj::value body;
  const ReplyPlan plan = plan_for(R"({"model":"gpt-test","stream":true,"reasoning_effort":"low",
    "stream_options":{"include_usage":true},
    "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
      "properties":{"location":{"type":"string"}},"required":["location"]}}}],
    "messages":[{"role":"user","content":"get_weather Paris"}]})",
                                  req, body);
  ASSERT_TRUE(req.include_usage);
  const ChatMeta meta{"chatcmpl-1", "gpt-test", 1700000000, true};
  Accumulated acc = accumulate(render_chat_chunks(plan, meta), true);
  EXPECT_FALSE(acc.reasoning.empty());
  EXPECT_EQ(acc.content, "I'll use the get_weather tool.");
  ASSERT_EQ(acc.tool_calls.size(), 1u);
  EXPECT_TRUE(acc.tool_calls[0].at("id").as_string().starts_with("call_"));
  EXPECT_EQ(acc.tool_calls[0].at("name").as_string(), "get_weather");
  EXPECT_EQ(json(acc.tool_calls[0].at("arguments").as_string()), json(R"({"location":"Paris"})"));
  EXPECT_EQ(acc.finish, "tool_calls");
  EXPECT_GT(acc.usage.at("completion_tokens_details").at("reasoning_tokens").as_int64(), 0);

  const bj::object c = json(render_chat_completion(plan, meta)).as_object();
  EXPECT_EQ(c.at("object").as_string(), "chat.completion");
  const auto& choice = c.at("choices").at(0).as_object();
  EXPECT_EQ(choice.at("finish_reason").as_string(), "tool_calls");
  const auto& message = choice.at("message").as_object();
  EXPECT_EQ(message.at("role").as_string(), "assistant");
  EXPECT_EQ(message.at("content").as_string(), "I'll use the get_weather tool.");
  EXPECT_EQ(message.at("reasoning_content").as_string(), acc.reasoning);
  EXPECT_EQ(message.at("tool_calls").at(0).at("function").at("arguments").as_string(), R"({"location":"Paris"})");
  EXPECT_EQ(c.at("usage").at("completion_tokens").as_int64(), static_cast<std::int64_t>(plan.usage.output_tokens));
}

TEST(OpenAIRender, NonStreamingTextAndLength) {
  ChatRequest req;
  bj::value body;
  const ReplyPlan plan = plan_for(R"({"model":"gpt-test","max_tokens":2,"messages":[{"role":"user","content":"hi"}]})", req, body);
  const bj::object c = json(render_chat_completion(plan, ChatMeta{"chatcmpl-1", "gpt-test", 1, false})).as_object();
  EXPECT_EQ(c.at("choices").at(0).at("message").at("content").as_string(), "Hello from");
  EXPECT_EQ(c.at("choices").at(0).at("finish_reason").as_string(), "length");
  EXPECT_FALSE(c.at("choices").at(0).at("message").as_object().contains("tool_calls"));
}

TEST(OpenAIRender, ErrorEventAndValidation) {
  EXPECT_EQ(render_chat_error_event("boom", "server_error"),
            "data: {\"error\":{\"message\":\"boom\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n");
  ChatRequest req;
  auto err = read_chat_request(json(R"({"model":"m"})"), req);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->message, "Missing required parameter: 'messages'.");
  EXPECT_STREQ(err->code, "missing_required_parameter");
  ChatRequest req2;
  err = read_chat_request(json(R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}})"), req2);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->message, "The 'stream_options' parameter is only allowed when 'stream' is enabled.");
}

}  // namespace
}  // namespace sluice::mock
