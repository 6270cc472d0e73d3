#include <sys/resource.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>

#include <boost/asio/signal_set.hpp>

#include "app/commands.hpp"

namespace sluice::app {

void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

void write_port_file(const std::string& path, unsigned short port) {
  if (path.empty()) return;
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << port << "\n";
  }
  std::rename(tmp.c_str(), path.c_str());  // atomic: a reader never sees a half-written file
}

std::size_t run_until_signal(http::Workers& workers, std::vector<DrainStep> servers,
                             std::chrono::milliseconds drain, std::function<void()> on_signal) {
  std::atomic<std::size_t> left{0};
  // Drains the servers one after the other (the client-facing one first, so in-flight streams
  // can still reach an in-process upstream), then stops the workers.
  std::function<void(std::size_t)> drain_next = [&](std::size_t index) {
    if (index == servers.size()) {
      std::fprintf(stderr, "sluice: stopped\n");
      workers.stop();
      return;
    }
    auto budget = index == 0 ? drain : std::chrono::milliseconds(2000);
    if (servers[index].before) servers[index].before();
    servers[index].server->drain(budget, [&, index](std::size_t n) {
      if (n > 0) std::fprintf(stderr, "sluice: %zu connection(s) did not end after the drain deadline\n", n);
      left += n;
      drain_next(index + 1);
    });
  };
  boost::asio::signal_set signals(workers.at(0), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    std::fprintf(stderr, "sluice: signal %d, draining (up to %lld ms)\n", sig, static_cast<long long>(drain.count()));
    if (on_signal) on_signal();
    drain_next(0);
  });
  workers.start();
  workers.join();
  return left.load();
}

void exit_if_stuck(std::size_t left) {
  if (left == 0) return;
  // Coroutines that did not unwind still reference the servers; tearing them down in order is
  // impossible, so the process ends here (logs are flushed by the caller first).
  std::fflush(stderr);
  std::fflush(stdout);
  std::_Exit(0);
}

}  // namespace sluice::app
