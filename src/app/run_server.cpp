#include <sys/resource.h>

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

void run_until_signal(http::Workers& workers, http::Server& server, std::chrono::milliseconds drain,
                      std::function<void()> on_signal) {
  boost::asio::signal_set signals(workers.at(0), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    std::fprintf(stderr, "sluice: signal %d, draining (up to %lld ms)\n", sig, static_cast<long long>(drain.count()));
    if (on_signal) on_signal();
    server.drain(drain, [&workers](std::size_t left) {
      if (left > 0) std::fprintf(stderr, "sluice: drain deadline passed with %zu connection(s) open\n", left);
      std::fprintf(stderr, "sluice: stopped\n");
      workers.stop();
    });
  });
  workers.start();
  workers.join();
}

}  // namespace sluice::app
