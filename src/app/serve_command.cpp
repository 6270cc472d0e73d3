#include <csignal>
#include <cstdio>
#include <optional>

#include "app/commands.hpp"
#include "config/config.hpp"
#include "mock/mock_service.hpp"
#include "server/gateway.hpp"

namespace sluice::app {

void add_serve_command(CLI::App& app, ServeOptions& opts) {
  auto* cmd = app.add_subcommand("serve", "Run the gateway");
  cmd->add_option("--config", opts.config_path, "YAML config file (default: embedded defaults)");
  cmd->add_option("--listen", opts.listen, "HOST:PORT to listen on (default 127.0.0.1:8787; port 0 picks one)");
  cmd->add_option("--upstream", opts.upstream,
                  "Base URL of the Anthropic provider, or 'mock' for the built-in simulated provider");
  cmd->add_option("--port-file", opts.port_file, "Write the bound port to this file");
}

int run_serve(const ServeOptions& opts) {
  raise_fd_limit();
  // hiredis (the shared limits' Redis client) writes with write(2): a Redis that closed the
  // connection must give EPIPE and a reconnect, not kill the gateway. Asio's sockets already
  // send with MSG_NOSIGNAL, and libpq guards its own sends.
  std::signal(SIGPIPE, SIG_IGN);
  auto env = config::process_env();
  config::Config cfg = opts.config_path.empty() ? config::default_config()
                                                : config::load_config_file(opts.config_path, env);
  config::apply_env_overrides(cfg, env);
  // Flags beat the environment, which beats the file.
  if (!opts.upstream.empty()) config::apply_upstream(cfg, opts.upstream);
  if (!opts.listen.empty()) config::apply_listen(cfg, opts.listen);

  http::Workers workers(cfg.server.threads);
  http::ServerLimits limits{cfg.server.max_header_bytes, cfg.server.max_body_bytes, cfg.server.header_timeout,
                            cfg.server.body_timeout,     cfg.server.idle_timeout,   cfg.server.write_timeout};

  // The built-in provider: `sluice mock` served inside this process on a loopback port, so the
  // gateway reaches it through exactly the same upstream path as a real provider.
  std::optional<mock::MockService> mock_service;
  std::optional<http::Server> mock_server;
  auto& provider = cfg.providers.front();
  bool any_mock = false;
  for (const auto& p : cfg.providers) any_mock = any_mock || p.kind == config::ProviderKind::Mock;
  if (any_mock) {
    mock::MockOptions mo;
    mo.tokens_per_second = cfg.mock.tokens_per_second;
    mo.require_auth = false;  // the quickstart works with no key at all
    mock_service.emplace(mo);
    mock_server.emplace(
        workers, http::ServerLimits{},
        [&](http::Request& r, http::ResponseWriter& w) { return mock_service->handle(r, w); },
        server::rejection_response);
    auto mep = mock_server->listen("127.0.0.1", 0);
    for (auto& p : cfg.providers) {
      if (p.kind == config::ProviderKind::Mock) p.base_url = "http://127.0.0.1:" + std::to_string(mep.port());
    }
  }
  config::validate(cfg);

  server::AccessLog access_log(cfg.access_log);
  server::Gateway gateway(cfg, workers.size(),
                          server::Deps{SystemClock::instance(), SystemRandom::instance(), access_log, &workers});
  http::Server server(
      workers, limits, [&gateway](http::Request& r, http::ResponseWriter& w) { return gateway.handle(r, w); },
      [&gateway](const http::Rejection& r) { return gateway.reject(r); });
  auto ep = server.listen(cfg.server.listen_host, cfg.server.listen_port);
  write_port_file(opts.port_file, ep.port());
  std::fprintf(stderr, "sluice: listening on %s:%u (provider %s -> %s%s), %u worker thread(s)\n",
               ep.address().to_string().c_str(), ep.port(), provider.name.c_str(),
               provider.kind == config::ProviderKind::Mock ? "built-in mock at " : "", provider.base_url.c_str(),
               workers.size());
  if (!cfg.admin.key.empty()) {
    std::fprintf(stderr, "sluice: dashboard at http://%s:%u/admin/dashboard (sign in with the admin key)\n",
                 ep.address().to_string().c_str(), ep.port());
  }
  // The in-process mock is drained after the gateway, so the gateway's in-flight streams can
  // finish; only then are its stalled or paced replies cut short.
  std::vector<DrainStep> servers{{&server, nullptr}};
  if (mock_server) servers.push_back({&*mock_server, [&] { mock_service->stop(); }});
  auto left = run_until_signal(workers, servers, cfg.server.drain_timeout, [&] { gateway.set_draining(); });
  access_log.flush();
  gateway.accounting().ledger().flush_for(std::chrono::seconds(10));  // every answered request has its row
  exit_if_stuck(left);
  return 0;
}

}  // namespace sluice::app
