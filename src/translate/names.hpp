#pragma once
// Names and ids that must survive a round trip through an OpenAI-compatible upstream
// (issue: translation; wire-protocols.md §6.8 pitfall 10, §6.2).
//
// Tool names: OpenAI accepts ^[a-zA-Z0-9_-]{1,64}$. Other names (long MCP tool names, dots) are
// sent as their first 55 safe characters, '_' and 8 hex digits of a hash, and mapped back on the
// way out with the ToolNames built for the request.
// Tool call ids: Anthropic accepts ^[a-zA-Z0-9_-]+$. An upstream id outside that set
// ("functions.Bash:0") is sent to the client as "sluice_" + its hex, and decoded when the client
// sends it back, so nothing has to be remembered between requests (ids of printable ASCII;
// others stay encoded).
// Pure functions; ToolNames is immutable once built.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::translate {

class ToolNames {
 public:
  // The name sent upstream for `name`, recorded for the way back.
  std::string to_upstream(std::string_view name);
  // The client's name for an upstream name (unchanged when it was not mapped).
  std::string to_client(std::string_view upstream) const;

 private:
  std::vector<std::pair<std::string, std::string>> mapped_;  // upstream -> client
};

bool is_openai_safe_name(std::string_view name);

// An Anthropic message id from an upstream answer's id: "msg_" + the id, characters outside
// [A-Za-z0-9_-] replaced by '_'.
std::string message_id_for(std::string_view upstream_id);

// An upstream tool call id as the client sees it, and back.
std::string tool_id_to_client(std::string_view upstream_id);
std::string tool_id_to_upstream(std::string_view client_id);

}  // namespace sluice::translate
