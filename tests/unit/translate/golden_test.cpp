// Golden tests of Anthropic <-> OpenAI translation (issue: translation). One folder per case
// under tests/golden/translate/ (an Anthropic client on an OpenAI upstream) and
// tests/golden/translate-openai-client/ (an OpenAI client on an Anthropic upstream):
//   client_request.json    what the client sent, in its dialect
//   options.json           optional: {"upstream_model", "max_tokens_cap", "input_estimate"}
//   upstream_request.json  what sluice must send upstream, in the upstream's dialect, compared
//                          as JSON
//   upstream_response.sse  the upstream's stream, or upstream_response.json its whole answer
//                          (with upstream_status holding a status other than 200)
//   client_response.sse    what the client must receive, compared event by event (type and
//                          data, as JSON when it is), or client_response.json (with client_status)
// Streams are fed to the translator whole, byte by byte and in odd-sized pieces: the output
// must not depend on the chunking. SLUICE_GOLDEN_UPDATE=1 writes the actual outputs into the
// case folders instead (then read every changed file before committing it).
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "stream/sse_parser.hpp"
#include "translate/chat_response.hpp"
#include "translate/chat_stream.hpp"
#include "translate/chat_to_messages.hpp"
#include "translate/message_response.hpp"
#include "translate/messages_stream.hpp"
#include "translate/messages_to_chat.hpp"

namespace sluice::translate {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

bool updating() { return std::getenv("SLUICE_GOLDEN_UPDATE") != nullptr; }

struct Event {
  std::string type, data;
};

std::vector<Event> events_of(std::string_view sse) {
  struct Collect final : stream::SseSink {
    std::vector<Event> all;
    void on_event(const stream::SseEvent& ev) override { all.push_back({std::string(ev.type), std::string(ev.data)}); }
  } sink;
  stream::SseParser p;
  p.feed(sse, sink);
  return sink.all;
}

// Pretty JSON of a value, for readable golden files.
std::string pretty(const json::value& v, int indent = 0) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  if (v.is_object() && !v.as_object().empty()) {
    std::string out = "{\n";
    bool first = true;
    for (const auto& [k, x] : v.as_object()) {
      if (!first) out += ",\n";
      first = false;
      out += pad + "  " + json::serialize(json::string(k)) + ": " + pretty(x, indent + 2);
    }
    return out + "\n" + pad + "}";
  }
  if (v.is_array() && !v.as_array().empty()) {
    std::string out = "[\n";
    bool first = true;
    for (const auto& x : v.as_array()) {
      if (!first) out += ",\n";
      first = false;
      out += pad + "  " + pretty(x, indent + 2);
    }
    return out + "\n" + pad + "]";
  }
  return json::serialize(v);
}

std::string translate_stream(const std::string& upstream, const StreamOptions& o, std::size_t piece) {
  ChatToMessagesStream t(o);
  std::string out;
  for (std::size_t i = 0; i < upstream.size(); i += piece) t.feed(std::string_view(upstream).substr(i, piece), out);
  t.finish(out);
  return out;
}

void expect_same_events(const std::string& expected, const std::string& actual, const std::string& what) {
  auto e = events_of(expected);
  auto a = events_of(actual);
  ASSERT_EQ(e.size(), a.size()) << what << ":\n" << actual;
  for (std::size_t i = 0; i < e.size(); ++i) {
    EXPECT_EQ(e[i].type, a[i].type) << what << " event " << i;
    if (e[i].data == "[DONE]" || a[i].data == "[DONE]") {
      EXPECT_EQ(e[i].data, a[i].data) << what << " event " << i;
    } else {
      EXPECT_EQ(json::parse(e[i].data), json::parse(a[i].data)) << what << " event " << i << ": " << a[i].data;
    }
  }
}

// The translated request against upstream_request.json, or the refusal against expected_error;
// false when the case ends there.
template <class Request>
bool expect_request(const fs::path& dir, const Result<Request>& req) {
  if (fs::exists(dir / "expected_error")) {
    EXPECT_FALSE(req.ok());
    if (!req.ok()) {
      EXPECT_EQ(req.error().message, read(dir / "expected_error"));
    }
    return false;
  }
  if (!req.ok()) {
    ADD_FAILURE() << req.error().message;
    return false;
  }
  const json::value upstream_request = json::parse(req.value().body);
  if (updating()) write(dir / "upstream_request.json", pretty(upstream_request) + "\n");
  EXPECT_EQ(json::parse(read(dir / "upstream_request.json")), upstream_request) << pretty(upstream_request);
  return true;
}

// The translated stream against client_response.sse, fed whole, byte by byte and in 7-byte
// pieces (`translate(upstream, piece)`): the output must not depend on the chunking.
void expect_stream(const fs::path& dir, const std::function<std::string(const std::string&, std::size_t)>& translate) {
  const std::string upstream = read(dir / "upstream_response.sse");
  const std::string whole = translate(upstream, upstream.size() + 1);
  if (updating()) write(dir / "client_response.sse", whole);
  expect_same_events(read(dir / "client_response.sse"), whole, "whole");
  EXPECT_EQ(whole, translate(upstream, 1)) << "byte by byte";
  EXPECT_EQ(whole, translate(upstream, 7)) << "7-byte pieces";
}

// A translated whole answer or error against client_response.json and client_status.
void expect_answer(const fs::path& dir, const json::value& actual, int actual_status) {
  if (updating()) {
    write(dir / "client_response.json", pretty(actual) + "\n");
    if (actual_status != 200) write(dir / "client_status", std::to_string(actual_status) + "\n");
  }
  EXPECT_EQ(json::parse(read(dir / "client_response.json")), actual) << pretty(actual);
  const int expected_status = fs::exists(dir / "client_status") ? std::stoi(read(dir / "client_status")) : 200;
  EXPECT_EQ(expected_status, actual_status);
}

int upstream_status(const fs::path& dir) {
  return fs::exists(dir / "upstream_status") ? std::stoi(read(dir / "upstream_status")) : 200;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, Case) {
  const fs::path dir = fs::path(SLUICE_GOLDEN_DIR) / GetParam();
  json::object options;
  if (fs::exists(dir / "options.json")) options = json::parse(read(dir / "options.json")).as_object();
  auto opt_string = [&](const char* k, std::string d) {
    return options.contains(k) ? std::string(options.at(k).as_string()) : d;
  };

  const json::value client = json::parse(read(dir / "client_request.json"));
  ChatRequestOptions ro;
  ro.model = opt_string("upstream_model", "upstream-model");
  if (options.contains("max_tokens_cap")) ro.max_tokens = options.at("max_tokens_cap").as_int64();
  auto req = messages_to_chat(json::serialize(client), ro);
  if (!expect_request(dir, req)) return;

  StreamOptions so;
  so.model = client.as_object().at("model").as_string().c_str();
  so.input_estimate = options.contains("input_estimate") ? options.at("input_estimate").to_number<std::uint64_t>() : 0;
  so.tools = &req.value().tools;

  if (fs::exists(dir / "upstream_response.sse")) {
    expect_stream(dir, [&](const std::string& up, std::size_t piece) { return translate_stream(up, so, piece); });
    return;
  }
  const std::string upstream = read(dir / "upstream_response.json");
  const int status = upstream_status(dir);
  json::value actual;
  int actual_status = status;
  if (status < 300) {
    auto m = chat_to_message(upstream, so);
    ASSERT_TRUE(m.ok()) << m.error().message;
    actual = json::parse(m.value());
  } else {
    auto e = chat_error_to_anthropic(status, upstream);
    actual_status = e.status;
    actual = json::object{{"type", "error"}, {"error", json::object{{"type", e.type}, {"message", e.message}}}};
  }
  expect_answer(dir, actual, actual_status);
}

std::vector<std::string> cases(const char* dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_directory()) out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Translate, Golden, ::testing::ValuesIn(cases(SLUICE_GOLDEN_DIR)),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

// ---- OpenAI clients on an Anthropic upstream ----------------------------------------------

std::string translate_reverse(const std::string& upstream, const ChatStreamOptions& o, std::size_t piece) {
  MessagesToChatStream t(o);
  std::string out;
  for (std::size_t i = 0; i < upstream.size(); i += piece) t.feed(std::string_view(upstream).substr(i, piece), out);
  return out;
}

class GoldenOpenAIClient : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenOpenAIClient, Case) {
  const fs::path dir = fs::path(SLUICE_GOLDEN_OPENAI_CLIENT_DIR) / GetParam();
  const std::string client = read(dir / "client_request.json");
  auto req = chat_to_messages(client, 4096);
  if (!expect_request(dir, req)) return;

  const ChatStreamOptions so{req.value().model, req.value().include_usage, 1700000000};
  if (fs::exists(dir / "upstream_response.sse")) {
    expect_stream(dir, [&](const std::string& up, std::size_t piece) { return translate_reverse(up, so, piece); });
    return;
  }
  const std::string upstream = read(dir / "upstream_response.json");
  const int status = upstream_status(dir);
  json::value actual;
  int actual_status = status;
  if (status < 300) {
    auto m = message_to_chat_completion(upstream, so.model, so.created);
    ASSERT_TRUE(m.ok()) << m.error().message;
    actual = json::parse(m.value());
  } else {
    auto e = anthropic_error_to_openai(status, upstream);
    actual_status = e.status;
    actual = json::parse(e.body);
  }
  expect_answer(dir, actual, actual_status);
}

INSTANTIATE_TEST_SUITE_P(Translate, GoldenOpenAIClient, ::testing::ValuesIn(cases(SLUICE_GOLDEN_OPENAI_CLIENT_DIR)),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace sluice::translate
