// Small helpers of the public value types (messages.hpp, result.hpp).

#include "sluice/client/messages.hpp"
#include "sluice/client/result.hpp"

namespace sluice::client {

const char* kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Api: return "api";
    case ErrorKind::Connection: return "connection";
    case ErrorKind::Timeout: return "timeout";
    case ErrorKind::StreamBroken: return "stream_broken";
    case ErrorKind::InvalidResponse: return "invalid_response";
    case ErrorKind::InvalidRequest: return "invalid_request";
  }
  return "unknown";
}

std::string Error::to_string() const {
  std::string s = kind_name(kind);
  if (status != 0) s += " " + std::to_string(status);
  if (!type.empty()) s += " " + type;
  s += ": " + message;
  if (!request_id.empty() || attempts > 0) {
    s += " (";
    if (!request_id.empty()) s += "request_id " + request_id;
    if (!request_id.empty() && attempts > 0) s += ", ";
    if (attempts > 0) s += std::to_string(attempts) + (attempts == 1 ? " attempt" : " attempts");
    s += ")";
  }
  return s;
}

ContentBlock ContentBlock::make_text(std::string text) {
  ContentBlock b;
  b.type = "text";
  b.text = std::move(text);
  return b;
}

ContentBlock ContentBlock::make_tool_result(std::string tool_use_id, std::string content, bool is_error) {
  ContentBlock b;
  b.type = "tool_result";
  b.tool_use_id = std::move(tool_use_id);
  b.text = std::move(content);
  b.is_error = is_error;
  return b;
}

MessageParam MessageParam::user(std::string text) {
  return MessageParam{"user", {ContentBlock::make_text(std::move(text))}};
}

MessageParam MessageParam::assistant(std::string text) {
  return MessageParam{"assistant", {ContentBlock::make_text(std::move(text))}};
}

std::string Message::text() const {
  std::string out;
  for (const auto& b : content) {
    if (b.type == "text") out += b.text;
  }
  return out;
}

std::vector<const ContentBlock*> Message::tool_uses() const {
  std::vector<const ContentBlock*> out;
  for (const auto& b : content) {
    if (b.type == "tool_use") out.push_back(&b);
  }
  return out;
}

MessageParam Message::to_param() const { return MessageParam{"assistant", content}; }

}  // namespace sluice::client
