// OpenAI clients on Claude (issue 7): Chat Completions requests to Messages, Anthropic streams
// and answers back to Chat Completions.
#include <string>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "stream/sse_parser.hpp"
#include "translate/chat_to_messages.hpp"
#include "translate/message_response.hpp"
#include "translate/messages_stream.hpp"
#include "translate/models.hpp"

namespace sluice::translate {
namespace {

namespace json = boost::json;

TEST(ChatToMessages, MapsEveryPart) {
  const std::string chat = R"({"model":"claude-sonnet-4-5","max_completion_tokens":300,"temperature":1.7,"top_p":0.5,
    "stop":"END","user":"u-1","n":1,"parallel_tool_calls":false,"stream":true,"stream_options":{"include_usage":true},
    "tools":[{"type":"function","function":{"name":"get_weather","description":"w","parameters":{"type":"object"}}},
             {"type":"function","function":{"name":"noargs"}}],
    "tool_choice":{"type":"function","function":{"name":"get_weather"}},
    "messages":[{"role":"system","content":"be brief"},{"role":"developer","content":[{"type":"text","text":"and kind"}]},
      {"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},
                               {"type":"image_url","image_url":{"url":"https://e.com/a.jpg"}}]},
      {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Oslo\"}"}},
                                                        {"id":"functions.x:1","type":"function","function":{"name":"noargs","arguments":""}}]},
      {"role":"tool","tool_call_id":"call_1","content":"sunny"},
      {"role":"tool","tool_call_id":"functions.x:1","content":[{"type":"text","text":"done"}]},
      {"role":"user","content":"thanks"}]})";
  auto r = chat_to_messages(chat, 4096);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r.value().stream);
  EXPECT_TRUE(r.value().include_usage);
  const auto m = json::parse(r.value().body).as_object();
  EXPECT_EQ(m.at("max_tokens"), 300);
  EXPECT_EQ(m.at("temperature"), 1.0);  // clamped to Anthropic's range
  EXPECT_EQ(m.at("system"), "be brief\n\nand kind");
  EXPECT_EQ(m.at("stop_sequences"), json::parse(R"(["END"])"));
  EXPECT_EQ(m.at("metadata"), json::parse(R"({"user_id":"u-1"})"));
  EXPECT_EQ(m.at("tool_choice"), json::parse(R"({"type":"tool","name":"get_weather","disable_parallel_tool_use":true})"));
  EXPECT_EQ(m.at("tools").as_array()[1].at("input_schema"), json::parse(R"({"type":"object","properties":{}})"));
  const auto& msgs = m.at("messages").as_array();
  ASSERT_EQ(msgs.size(), 3u);  // user, assistant, user (tool results and "thanks" merged)
  EXPECT_EQ(msgs[0].at("content").as_array()[1].at("source"),
            json::parse(R"({"type":"base64","media_type":"image/png","data":"AAAA"})"));
  EXPECT_EQ(msgs[0].at("content").as_array()[2].at("source"), json::parse(R"({"type":"url","url":"https://e.com/a.jpg"})"));
  const auto& calls = msgs[1].at("content").as_array();
  EXPECT_EQ(calls[0].at("input"), json::parse(R"({"location":"Oslo"})"));
  EXPECT_EQ(calls[1].at("id"), "sluice_66756e6374696f6e732e783a31");  // outside Anthropic's alphabet: encoded
  EXPECT_EQ(calls[1].at("input"), json::object{});
  const auto& results = msgs[2].at("content").as_array();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].at("tool_use_id"), "call_1");
  EXPECT_EQ(results[1].at("tool_use_id"), "sluice_66756e6374696f6e732e783a31");
  EXPECT_EQ(results[1].at("content"), "done");
  EXPECT_EQ(results[2].at("text"), "thanks");
}

TEST(ChatToMessages, RefusesWhatClaudeCannotDo) {
  EXPECT_FALSE(chat_to_messages(R"({"model":"m","n":2,"messages":[{"role":"user","content":"x"}]})", 10).ok());
  EXPECT_FALSE(chat_to_messages(R"({"model":"m","messages":[]})", 10).ok());
  EXPECT_FALSE(chat_to_messages(R"({"messages":[{"role":"user","content":"x"}]})", 10).ok());
  auto bad_args = chat_to_messages(R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"{oops"}}]}]})", 10);
  ASSERT_FALSE(bad_args.ok());
  EXPECT_EQ(bad_args.error().message, "messages: tool_calls arguments must be a JSON object");
  auto d = chat_to_messages(R"({"model":"m","messages":[{"role":"user","content":"x"}]})", 1234);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(json::parse(d.value().body).at("max_tokens"), 1234);
}

std::string anthropic_stream() {
  std::string s;
  auto ev = [&](const char* type, const char* data) { stream::append_event(s, type, data); };
  ev("message_start", R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"usage":{"input_tokens":10,"cache_read_input_tokens":90,"output_tokens":1}}})");
  ev("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}})");
  ev("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}})");
  ev("content_block_stop", R"({"type":"content_block_stop","index":0})");
  ev("ping", R"({"type":"ping"})");
  ev("content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}})");
  ev("content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hi"}})");
  ev("content_block_stop", R"({"type":"content_block_stop","index":1})");
  ev("content_block_start", R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{}}})");
  ev("content_block_delta", R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}})");
  ev("content_block_delta", R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"a\":1}"}})");
  ev("content_block_stop", R"({"type":"content_block_stop","index":2})");
  ev("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":7}})");
  ev("message_stop", R"({"type":"message_stop"})");
  return s;
}

std::vector<json::value> chunks_of(const std::string& out, bool& done) {
  std::vector<json::value> v;
  done = false;
  std::size_t at = 0;
  while ((at = out.find("data: ", at)) != std::string::npos) {
    const auto end = out.find("\n\n", at);
    const std::string data = out.substr(at + 6, end - at - 6);
    if (data == "[DONE]") done = true;
    else v.push_back(json::parse(data));
    at = end;
  }
  return v;
}

TEST(MessagesToChatStream, TextToolCallsFinishUsageAndDone) {
  for (std::size_t piece : {std::size_t{100000}, std::size_t{1}, std::size_t{13}}) {
    MessagesToChatStream t(ChatStreamOptions{"claude-sonnet-4-5", true, 1700000000});
    std::string out;
    const std::string in = anthropic_stream();
    for (std::size_t i = 0; i < in.size(); i += piece) t.feed(std::string_view(in).substr(i, piece), out);
    EXPECT_EQ(out.find("event:"), std::string::npos) << "never an event line for OpenAI clients";
    bool done = false;
    auto c = chunks_of(out, done);
    EXPECT_TRUE(done);
    ASSERT_EQ(c.size(), 6u) << out;  // role, text, tool start, tool args, finish, usage
    EXPECT_EQ(c[0].at("id"), "chatcmpl-msg_1");
    EXPECT_EQ(c[0].at("choices").as_array()[0].at("delta"), json::parse(R"({"role":"assistant","content":""})"));
    EXPECT_EQ(c[1].at("choices").as_array()[0].at("delta"), json::parse(R"({"content":"Hi"})"));
    EXPECT_EQ(c[2].at("choices").as_array()[0].at("delta"),
              json::parse(R"({"tool_calls":[{"index":0,"id":"toolu_1","type":"function","function":{"name":"f","arguments":""}}]})"));
    EXPECT_EQ(c[3].at("choices").as_array()[0].at("delta"),
              json::parse(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1}"}}]})"));
    EXPECT_EQ(c[4].at("choices").as_array()[0].at("finish_reason"), "tool_calls");
    EXPECT_EQ(c[5].at("choices"), json::array{});
    EXPECT_EQ(c[5].at("usage"), json::parse(R"({"prompt_tokens":100,"completion_tokens":7,"total_tokens":107,"prompt_tokens_details":{"cached_tokens":90}})"));
  }
}

TEST(MessagesToChatStream, AnErrorEndsWithoutDone) {
  MessagesToChatStream t(ChatStreamOptions{"m", false, 1});
  std::string in, out;
  stream::append_event(in, "message_start", R"({"type":"message_start","message":{"id":"msg_2","usage":{"input_tokens":1}}})");
  stream::append_event(in, "error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
  stream::append_event(in, "message_stop", R"({"type":"message_stop"})");
  t.feed(in, out);
  bool done = false;
  auto c = chunks_of(out, done);
  EXPECT_FALSE(done);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[1], json::parse(R"({"error":{"message":"Overloaded","type":"server_error","param":null,"code":null}})"));
}

TEST(MessageResponse, AMessageAndAnError) {
  auto r = message_to_chat_completion(
      R"({"id":"msg_9","type":"message","content":[{"type":"thinking","thinking":"x","signature":"s"},{"type":"tool_use","id":"toolu_9","name":"f","input":{"a":[1,2]}}],"stop_reason":"tool_use","usage":{"input_tokens":5,"cache_creation_input_tokens":10,"cache_read_input_tokens":20,"output_tokens":3}})",
      "claude-x", 42);
  ASSERT_TRUE(r.ok());
  const auto v = json::parse(r.value());
  EXPECT_EQ(v.at("id"), "chatcmpl-msg_9");
  const auto& msg = v.at("choices").as_array()[0].at("message");
  EXPECT_TRUE(msg.at("content").is_null());
  EXPECT_EQ(msg.at("tool_calls").as_array()[0].at("function").at("arguments"), R"({"a":[1,2]})");
  EXPECT_EQ(v.at("choices").as_array()[0].at("finish_reason"), "tool_calls");
  EXPECT_EQ(v.at("usage"), json::parse(R"({"prompt_tokens":35,"completion_tokens":3,"total_tokens":38,"prompt_tokens_details":{"cached_tokens":20}})"));

  auto e = anthropic_error_to_openai(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
  EXPECT_EQ(e.status, 503);
  EXPECT_EQ(json::parse(e.body), json::parse(R"({"error":{"message":"Overloaded","type":"server_error","param":null,"code":null}})"));
  auto limited = anthropic_error_to_openai(429, R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(json::parse(limited.body).at("error").at("code"), "rate_limit_exceeded");
  EXPECT_EQ(anthropic_error_to_openai(404, R"({"type":"error","error":{"type":"not_found_error","message":"model: x"}})").status, 404);
}

TEST(Models, TheAnthropicListInOpenAIsShape) {
  auto list = anthropic_models_to_openai(
      R"({"data":[{"type":"model","id":"claude-sonnet-4-5-20250929","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"},
                  {"type":"model","id":"odd","created_at":"not a date"}],"has_more":false})");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(json::parse(list.value()),
            json::parse(R"({"object":"list","data":[{"id":"claude-sonnet-4-5-20250929","object":"model","created":1759104000,"owned_by":"anthropic"},
                                                    {"id":"odd","object":"model","created":0,"owned_by":"anthropic"}]})"));
  auto one = anthropic_models_to_openai(R"({"type":"model","id":"claude-x","created_at":"1970-01-02T00:00:00Z"})");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(json::parse(one.value()), json::parse(R"({"id":"claude-x","object":"model","created":86400,"owned_by":"anthropic"})"));
  EXPECT_FALSE(anthropic_models_to_openai("nope").ok());
}

}  // namespace
}  // namespace sluice::translate
