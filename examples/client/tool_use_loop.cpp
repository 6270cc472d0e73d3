// A tool-use loop: the model may call `get_weather`; each call is answered with a tool_result
// until the model ends its turn. Non-streaming (messages.create).
//
//   ANTHROPIC_BASE_URL=http://127.0.0.1:8787 ANTHROPIC_API_KEY=... ./tool_use_loop "get_weather Paris"

#include <cstdio>
#include <cstdlib>
#include <string>

#include <boost/json/serialize.hpp>
#include <sluice/client/client.hpp>

namespace sc = sluice::client;

namespace {
// The "tool": a canned forecast for whatever place was asked.
std::string get_weather(const boost::json::value& input) {
  std::string place = "somewhere";
  if (const auto* o = input.if_object()) {
    if (const auto* loc = o->if_contains("location"); loc && loc->is_string()) place = loc->get_string();
  }
  return "Sunny, 21 C in " + place;
}
}  // namespace

int main(int argc, char** argv) {
  const char* model = std::getenv("ANTHROPIC_MODEL");
  sc::Client client(sc::ClientOptions::from_env());

  sc::MessageRequest req;
  req.model = model ? model : "claude-sonnet-4-5";
  req.max_tokens = 512;
  req.tools.push_back(sc::Tool{
      "get_weather", "Current weather of a place",
      {{"type", "object"},
       {"properties", {{"location", {{"type", "string"}, {"description", "City name"}}}}},
       {"required", {"location"}}},
      {}});
  req.messages.push_back(sc::MessageParam::user(argc > 1 ? argv[1] : "What is the weather? Use get_weather Paris"));

  for (int turn = 0; turn < 8; ++turn) {
    auto msg = client.messages.create(req);
    if (!msg) {
      std::fprintf(stderr, "error: %s\n", msg.error().to_string().c_str());
      return 1;
    }
    std::printf("[assistant] %s\n", msg->text().c_str());
    if (msg->stop_reason != "tool_use") {
      std::printf("[done] after %d tool round(s), usage input %lld output %lld\n", turn,
                  static_cast<long long>(msg->usage.input_tokens), static_cast<long long>(msg->usage.output_tokens));
      return 0;
    }
    req.messages.push_back(msg->to_param());
    sc::MessageParam results;
    results.role = "user";
    for (const auto* call : msg->tool_uses()) {
      std::printf("[tool] %s(%s)\n", call->name.c_str(), boost::json::serialize(call->input).c_str());
      std::string out = call->name == "get_weather" ? get_weather(call->input) : "unknown tool";
      results.content.push_back(sc::ContentBlock::make_tool_result(call->id, out, call->name != "get_weather"));
    }
    req.messages.push_back(std::move(results));
  }
  std::fprintf(stderr, "error: the model kept calling tools\n");
  return 1;
}
