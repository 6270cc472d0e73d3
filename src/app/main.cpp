// sluice: a gateway for the Claude API. `sluice serve` runs the gateway, `sluice mock` the fake
// Anthropic/OpenAI API, `sluice chat` the terminal client. See README.md.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "app/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"sluice: a fast gateway for the Claude API and Claude Code"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sluice 0.1.0");
  sluice::app::ServeOptions serve;
  sluice::app::MockCommandOptions mock;
  sluice::app::add_serve_command(app, serve);
  sluice::app::add_mock_command(app, mock);
  sluice::app::StoreCommandOptions store;
  sluice::app::add_store_commands(app, store);
  sluice::app::ChatOptions chat;
  sluice::app::add_chat_command(app, chat);
  CLI11_PARSE(app, argc, argv);
  try {
    if (app.got_subcommand("serve")) return sluice::app::run_serve(serve);
    if (app.got_subcommand("mock")) return sluice::app::run_mock(mock);
    if (app.got_subcommand("chat")) return sluice::app::run_chat(chat);
    if (app.got_subcommand("keys") || app.got_subcommand("projects") || app.got_subcommand("usage")) {
      return sluice::app::run_store_command(app, store);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sluice: %s\n", e.what());
    return 1;
  }
  return 2;
}
