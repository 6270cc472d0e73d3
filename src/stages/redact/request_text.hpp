#pragma once
// Redaction of a request body (issue: secret redaction): applies an Engine to the text a model
// will read — Anthropic `system` (a string or text blocks), `messages[].content` (a string, text
// blocks, and `tool_result` content, itself a string or text blocks); OpenAI
// `messages[].content` (a string or `text` parts) — and to nothing else: not keys or JSON
// structure, not tool definitions, not images or documents.
// The common case costs one simdjson pass plus a scan of each text; only when something must be
// rewritten is the body parsed with Boost.JSON, changed and re-serialised (thinking blocks and
// everything else are carried over as parsed values, signatures untouched).
// Pure functions over an immutable Engine; thread-safe.

#include <string>
#include <utility>
#include <vector>

#include "stages/redact/engine.hpp"

namespace sluice::stages::redact {

enum class BodyDialect { Anthropic, OpenAI };

struct RequestRedaction {
  bool changed = false;       // `body` was rewritten
  bool blocked = false;       // a Block rule matched: refuse the request
  std::string blocked_type;   // the first blocking type (never the secret)
  std::vector<std::pair<std::string, int>> counts;  // findings per type (redacted, blocked or logged)
  int total() const;
};

// `body` must be valid JSON (the validate stage ran). On a rewrite `body` holds the new JSON.
RequestRedaction redact_request(std::string& body, BodyDialect dialect, const Engine& engine);

}  // namespace sluice::stages::redact
