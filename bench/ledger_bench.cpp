// CPU per ledger row of the SQLite engine (issue 4, bench/README.md "The floor"): rows of the
// foundation bench's shape appended and committed in the gateway's batches (100 ms window, up
// to 2000 rows per transaction). Process CPU — user and system apart, every thread — so the
// figure covers append, the writer, SQLite and the WAL's writes; building the rows is measured
// alone and taken off.
//
//   build/bench/ledger_bench [rows=200000] [dir=/tmp]
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "ledger/sqlite_ledger.hpp"

namespace {

struct Cpu {
  double user = 0, system = 0;
  static Cpu now() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    auto s = [](timeval t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return {s(u.ru_utime), s(u.ru_stime)};
  }
  Cpu operator-(const Cpu& o) const { return {user - o.user, system - o.system}; }
};

sluice::ledger::Row row(long i) {
  sluice::ledger::Row r;
  r.ts_ms = 1'764'000'000'000 + i / 25;
  r.request_id = "req_01JABCDEF" + std::to_string(1'000'000'000'000 + i);
  r.project = "none";
  r.model = "claude-sonnet-4-5";
  r.provider = "anthropic";
  r.route = "/v1/messages";
  r.status = 200;
  r.attempts = 1;
  r.input_tokens = 12;
  r.output_tokens = 40;
  r.cost_micros = 612;
  r.latency_ms = 0.43;
  r.ttft_ms = 0.41;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 200'000;
  const std::filesystem::path dir = argc > 2 ? argv[2] : "/tmp";
  const auto path = (dir / ("ledger_bench_" + std::to_string(::getpid()) + ".db")).string();
  const auto per_row = [n](double seconds) { return seconds * 1e6 / static_cast<double>(n); };

  auto t0 = Cpu::now();
  std::size_t bytes = 0;
  for (long i = 0; i < n; ++i) bytes += row(i).request_id.size();
  const Cpu build = Cpu::now() - t0;

  Cpu ledger_cpu;
  {
    sluice::ledger::SqliteLedger ledger({.path = path, .commit_window = std::chrono::milliseconds(100)});
    t0 = Cpu::now();
    for (long i = 0; i < n; ++i) ledger.append(row(i));
    ledger.flush();
    ledger_cpu = Cpu::now() - t0;
  }
  std::printf("%ld rows (%zu id bytes): %.2f us CPU per row (user %.2f, system %.2f), building the rows taken off\n", n,
              bytes, per_row(ledger_cpu.user + ledger_cpu.system - build.user - build.system),
              per_row(ledger_cpu.user - build.user), per_row(ledger_cpu.system - build.system));
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return 0;
}
