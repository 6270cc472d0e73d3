#pragma once
// The subcommands of the `sluice` binary. Each returns the process exit code.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "http/server.hpp"
#include "keys/records.hpp"

namespace sluice::app {

struct ServeOptions {
  std::string config_path;
  std::string listen;
  std::string upstream;
  std::string port_file;
};
void add_serve_command(CLI::App& app, ServeOptions& opts);
int run_serve(const ServeOptions& opts);

struct MockCommandOptions {
  std::string listen = "127.0.0.1:8788";
  double tokens_per_second = 0;
  unsigned threads = 0;
  std::string port_file;
};
void add_mock_command(CLI::App& app, MockCommandOptions& opts);
int run_mock(const MockCommandOptions& opts);

// `sluice chat`: the terminal client (chat_command.cpp).
struct ChatOptions {
  std::string prompt;  // -p: one prompt, then exit
  std::string model;
  std::string system;
  std::int64_t max_tokens = 1024;
  std::string base_url;
  std::string api_key;
  int max_retries = 2;
  std::vector<std::string> headers;   // -H "Name: value", sent on every request
  std::int64_t first_byte_timeout_ms = 60'000;
  std::int64_t idle_timeout_ms = 120'000;
};
void add_chat_command(CLI::App& app, ChatOptions& opts);
int run_chat(const ChatOptions& opts);

// Where `sluice keys|projects|usage` find the database: the same resolution as `serve`.
struct StoreOptions {
  std::string config_path;
  std::string data_dir;
};
struct LimitOptions {
  keys::Limits limits;
};
struct StoreCommandOptions {
  StoreOptions store;
  LimitOptions limits;
  std::string project, name, id, since, until;
  std::string by = "day";
  bool all = false;
  bool json = false;
};
void add_store_commands(CLI::App& app, StoreCommandOptions& opts);
// Runs whichever of keys / projects / usage was given.
int run_store_command(CLI::App& app, const StoreCommandOptions& opts);
std::string database_path(const StoreOptions& o);

// Raises RLIMIT_NOFILE to its hard limit: every stream holds two sockets.
void raise_fd_limit();
// Writes the bound port to `path` (when not empty) so tests and scripts can use port 0.
void write_port_file(const std::string& path, unsigned short port);
// Runs the workers until SIGINT/SIGTERM, then drains `servers` in order (the first for up to
// `drain`) and stops. `on_signal` runs first, on a worker thread. Returns the number of sessions
// that had still not ended when the workers stopped.
struct DrainStep {
  http::Server* server;
  std::function<void()> before;  // runs just before this server drains (may be empty)
};
std::size_t run_until_signal(http::Workers& workers, std::vector<DrainStep> servers,
                             std::chrono::milliseconds drain, std::function<void()> on_signal);
// Ends the process at once when sessions were left running (see run_server.cpp).
void exit_if_stuck(std::size_t left);

}  // namespace sluice::app
