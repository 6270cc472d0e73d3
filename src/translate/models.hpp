#pragma once
// The Anthropic model list (or one ModelInfo) in OpenAI's shape, for OpenAI clients asking
// GET /v1/models (issue: translation): {"object":"list","data":[{"id","object":"model",
// "created","owned_by"}]}. Pure; thread-safe.

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sluice::translate {

Result<std::string> anthropic_models_to_openai(std::string_view body);

}  // namespace sluice::translate
