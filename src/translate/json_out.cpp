#include "translate/json_out.hpp"

#include <charconv>
#include <cstring>

#include <simdjson.h>

namespace sluice::translate {

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
