#pragma once
// Appending JSON to a string by hand (and checking a fragment), for the per-event hot path of stream translation (no DOM,
// no allocation beyond the output). Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/json_text.hpp"

namespace sluice::translate {

// JSON strings and integers (common/json_text.hpp).
using sluice::append_json_string;
using sluice::append_uint;

// The usage objects of the two dialects (the bodies of their "usage" fields).
// Anthropic: {"input_tokens","cache_creation_input_tokens","cache_read_input_tokens","output_tokens"}.
void append_anthropic_usage(std::string& out, std::uint64_t input, std::uint64_t cache_creation,
                            std::uint64_t cache_read, std::uint64_t output);
// OpenAI: {"prompt_tokens","completion_tokens","total_tokens","prompt_tokens_details":{"cached_tokens"}}.
void append_openai_usage(std::string& out, std::uint64_t prompt, std::uint64_t completion, std::uint64_t cached);

// True when `text` is one JSON object. Uses a parser of its own, so a document being read with
// parse_padded() (common/padded_json.hpp) stays valid across the call.
bool is_json_object(std::string_view text);

}  // namespace sluice::translate
