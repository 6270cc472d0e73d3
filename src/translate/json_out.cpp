#include "translate/json_out.hpp"

#include <charconv>
#include <cstring>

#include <simdjson.h>

namespace sluice::translate {

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.substr(run, i - run));
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(s.substr(run));
  out.push_back('"');
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  out.append(buf, static_cast<std::size_t>(end - buf));
}

void append_anthropic_usage(std::string& out, std::uint64_t input, std::uint64_t cache_creation,
                            std::uint64_t cache_read, std::uint64_t output) {
  out += R"({"input_tokens":)";
  append_uint(out, input);
  out += R"(,"cache_creation_input_tokens":)";
  append_uint(out, cache_creation);
  out += R"(,"cache_read_input_tokens":)";
  append_uint(out, cache_read);
  out += R"(,"output_tokens":)";
  append_uint(out, output);
  out += '}';
}

void append_openai_usage(std::string& out, std::uint64_t prompt, std::uint64_t completion, std::uint64_t cached) {
  out += R"({"prompt_tokens":)";
  append_uint(out, prompt);
  out += R"(,"completion_tokens":)";
  append_uint(out, completion);
  out += R"(,"total_tokens":)";
  append_uint(out, prompt + completion);
  out += R"(,"prompt_tokens_details":{"cached_tokens":)";
  append_uint(out, cached);
  out += "}}";
}

bool is_json_object(std::string_view text) {
  thread_local simdjson::dom::parser parser;
  thread_local std::string padded;
  padded.assign(text);
  padded.resize(text.size() + simdjson::SIMDJSON_PADDING);
  simdjson::dom::element v;
  return parser.parse(padded.data(), text.size(), false).get(v) == simdjson::SUCCESS && v.is_object();
}

}  // namespace sluice::translate
