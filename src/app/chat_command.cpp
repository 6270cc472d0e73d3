// `sluice chat`: an interactive terminal client on the client library (include/sluice/client).
// Streams each answer as it arrives, then prints usage and cost (the gateway's price table) on
// stderr, so stdout holds only the answer. `-p PROMPT` answers one prompt and exits;
// otherwise the conversation is read from stdin, one user turn per line, and kept across turns.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include <unistd.h>

#include "app/commands.hpp"
#include "sluice/client/client.hpp"
#include "stages/meter/pricing.hpp"

namespace sluice::app {

namespace {

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : std::move(fallback);
}

std::string usage_line(const client::Message& m) {
  stages::meter::Usage u;
  u.input_tokens = m.usage.input_tokens;
  u.output_tokens = m.usage.output_tokens;
  u.cache_creation_tokens = m.usage.cache_creation_input_tokens;
  u.cache_read_tokens = m.usage.cache_read_input_tokens;
  std::string line = "[usage] input " + std::to_string(u.input_tokens) + ", output " + std::to_string(u.output_tokens);
  if (u.cache_creation_tokens || u.cache_read_tokens) {
    line += ", cache write " + std::to_string(u.cache_creation_tokens) + ", cache read " +
            std::to_string(u.cache_read_tokens);
  }
  stages::meter::PriceTable prices(stages::meter::PriceTable::default_rules());
  if (auto micros = prices.cost_micros(m.model, u)) {
    char cost[64];
    std::snprintf(cost, sizeof cost, " | cost $%.6f", static_cast<double>(*micros) / 1e6);
    line += cost;
  } else {
    line += " | cost unknown (no price for " + m.model + ")";
  }
  return line;
}

// Sends the conversation, streaming the answer to stdout. Returns the answer, or nullptr-like
// failure after printing the error.
client::Result<client::Message> ask(client::Client& c, const client::MessageRequest& req) {
  client::StreamCallbacks cb;
  cb.on_text = [](std::size_t, std::string_view t) {
    std::fwrite(t.data(), 1, t.size(), stdout);
    std::fflush(stdout);
  };
  auto msg = c.messages.stream(req, cb);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  if (msg) {
    std::fprintf(stderr, "%s\n", usage_line(msg.value()).c_str());
  } else {
    std::fprintf(stderr, "sluice chat: %s\n", msg.error().to_string().c_str());
  }
  return msg;
}

}  // namespace

void add_chat_command(CLI::App& app, ChatOptions& opts) {
  auto* cmd = app.add_subcommand("chat", "Chat with Claude through sluice (or any Anthropic API) from the terminal");
  cmd->add_option("-p,--prompt", opts.prompt, "Answer this one prompt and exit (non-interactive)");
  cmd->add_option("--model", opts.model, "Model (default: $ANTHROPIC_MODEL, else claude-sonnet-4-5)");
  cmd->add_option("--system", opts.system, "System prompt");
  cmd->add_option("--max-tokens", opts.max_tokens, "max_tokens of each answer")->capture_default_str();
  cmd->add_option("--base-url", opts.base_url,
                  "API base URL (default: $ANTHROPIC_BASE_URL, else the local gateway http://127.0.0.1:8787)");
  cmd->add_option("--api-key", opts.api_key, "API or sluice key (default: $ANTHROPIC_API_KEY)");
  cmd->add_option("--max-retries", opts.max_retries, "Retries of a failed request")->capture_default_str();
  cmd->add_option("-H,--header", opts.headers, "Extra request header \"Name: value\" (repeatable)");
  cmd->add_option("--first-byte-timeout-ms", opts.first_byte_timeout_ms, "Longest wait for the response head")
      ->capture_default_str();
  cmd->add_option("--idle-timeout-ms", opts.idle_timeout_ms, "Longest silence inside a streamed answer")
      ->capture_default_str();
}

int run_chat(const ChatOptions& opts) {
  auto options = client::ClientOptions::from_env();
  options.base_url = opts.base_url.empty() ? env_or("ANTHROPIC_BASE_URL", "http://127.0.0.1:8787") : opts.base_url;
  if (!opts.api_key.empty()) options.api_key = opts.api_key;
  options.retry.max_retries = opts.max_retries;
  options.timeouts.first_byte = std::chrono::milliseconds(opts.first_byte_timeout_ms);
  options.timeouts.idle = std::chrono::milliseconds(opts.idle_timeout_ms);
  for (const auto& h : opts.headers) {
    auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      std::fprintf(stderr, "sluice chat: --header needs \"Name: value\", got \"%s\"\n", h.c_str());
      return 2;
    }
    auto value = h.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    options.default_headers.emplace_back(h.substr(0, colon), value);
  }
  client::Client c(options);

  client::MessageRequest req;
  req.model = opts.model.empty() ? env_or("ANTHROPIC_MODEL", "claude-sonnet-4-5") : opts.model;
  req.max_tokens = opts.max_tokens;
  req.system = opts.system;

  if (!opts.prompt.empty()) {
    req.messages.push_back(client::MessageParam::user(opts.prompt));
    return ask(c, req) ? 0 : 1;
  }
  bool tty = isatty(STDIN_FILENO) != 0;
  if (tty) std::fprintf(stderr, "sluice chat (%s): type a message, /exit or Ctrl-D to quit\n", req.model.c_str());
  std::string line;
  int failures = 0;
  for (;;) {
    if (tty) std::fputs("> ", stderr);
    if (!std::getline(std::cin, line)) break;
    if (line == "/exit" || line == "/quit") break;
    if (line.empty()) continue;
    req.messages.push_back(client::MessageParam::user(line));
    auto msg = ask(c, req);
    if (msg) {
      req.messages.push_back(msg->to_param());
    } else {
      req.messages.pop_back();  // the turn failed: ask again, or go on without it
      ++failures;
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace sluice::app
