#include <cstdio>

#include "app/commands.hpp"
#include "config/config.hpp"
#include "mock/mock_service.hpp"
#include "providers/dialect.hpp"
#include "server/gateway.hpp"

namespace sluice::app {

void add_mock_command(CLI::App& app, MockCommandOptions& opts) {
  auto* cmd = app.add_subcommand("mock", "Run the fake Anthropic + OpenAI API (fault injection by request headers)");
  cmd->add_option("--listen", opts.listen, "HOST:PORT to listen on (port 0 picks a free port)")->capture_default_str();
  cmd->add_option("--tokens-per-second", opts.tokens_per_second, "Pace streamed output (0 = unpaced)")->capture_default_str();
  cmd->add_option("--threads", opts.threads, "Worker threads (0 = one per core)")->capture_default_str();
  cmd->add_option("--port-file", opts.port_file, "Write the bound port to this file");
}

int run_mock(const MockCommandOptions& opts) {
  raise_fd_limit();
  config::Config cfg;
  config::apply_listen(cfg, opts.listen);
  http::Workers workers(opts.threads);
  mock::MockOptions mo;
  mo.tokens_per_second = opts.tokens_per_second;
  mock::MockService service(mo);
  http::ServerLimits limits;
  http::Server server(
      workers, limits, [&service](http::Request& r, http::ResponseWriter& w) { return service.handle(r, w); },
      server::rejection_response);
  auto ep = server.listen(cfg.server.listen_host, cfg.server.listen_port);
  write_port_file(opts.port_file, ep.port());
  std::fprintf(stderr, "sluice mock: listening on %s:%u\n", ep.address().to_string().c_str(), ep.port());
  auto left = run_until_signal(workers, {{&server, [&service] { service.stop(); }}},
                               std::chrono::milliseconds(5000), nullptr);
  exit_if_stuck(left);
  return 0;
}

}  // namespace sluice::app
