// False alarms of the default redaction rules on real text (issue 5): scans every text file under
// the given directories (skipping node_modules, .git and build*), and reports bytes scanned, hits
// per type, hits per MB, and the first hits with file:offset and the start of the matched text, so
// that a human can judge them. Not a test; the figures of the last run are below.
//
//   build/bench/redact_corpus src tests /usr/include            # summary + first 20 hits
//   build/bench/redact_corpus --show 200 --type base64_blob /usr/include
//   build/bench/redact_corpus --check /usr/include   # also compare with the reference scan
//
// 2026-11-26, default rules (hits = findings; every one was looked at):
//   /usr/include          266.2 MB    0 hits   0.00/MB
//   src/                    0.6 MB    4 hits   all in src/stages/redact comments that show example
//                                              config (`DB_PASSWORD=changeme`, `?token=abc&page=2`)
//   tests/                  0.7 MB   70 hits   planted: the redaction tests' own cases, and fake
//                                              keys of the integration tests (sk-ant-api03-...)
//   /usr/lib/python3       17.8 MB   19 hits   oauthlib docstrings (RFC 6749 example tokens),
//                                              test_oauth.py, a Basic credential in a docstring
//   /usr/lib/python3.11    11.5 MB    1 hit    urllib docstring: password "geheim$parole"
//   /usr/share/perl        17.3 MB    0 hits
//   /etc                    1.3 MB    2 hits   /etc/maven/settings.xml sample <password>s
//   /usr/lib/node_modules   4.2 MB    4 hits   corepack: an inlined WebAssembly module, two key ids
//   tests/e2e/node_modules 43.2 MB   10 hits   one random-looking example id in the Anthropic SDK
//                                              (x10 files), no other
//   all                   362.7 MB  110 hits   0.30/MB; scan (fast path) 1.0-1.3 GB/s; the
//                                              reference scan agreed on every file (--check)
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "stages/redact/engine.hpp"

namespace fs = std::filesystem;
using sluice::stages::redact::Engine;

namespace {

bool skipped_dir(const fs::path& p) {
  std::string name = p.filename().string();
  return name == "node_modules" || name == ".git" || name.rfind("build", 0) == 0;
}

std::string preview(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 60)) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (static_cast<unsigned char>(c) < 0x20) out += '?';
    else out += c;
  }
  if (s.size() > 60) out += "...";
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t show = 20;
  std::string only_type;
  bool check = false;
  std::size_t mismatches = 0;
  std::vector<fs::path> roots;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--show" && i + 1 < argc) show = std::stoul(argv[++i]);
    else if (a == "--type" && i + 1 < argc) only_type = argv[++i];
    else if (a == "--check") check = true;
    else roots.emplace_back(a);
  }
  if (roots.empty()) {
    std::fprintf(stderr, "usage: redact_corpus [--show N] [--type TYPE] [--check] DIR...\n");
    return 2;
  }
  const Engine engine = Engine::compile(sluice::stages::redact::default_rules());

  std::size_t files = 0, bytes = 0, hits = 0, shown = 0;
  std::map<std::string, std::size_t> per_type;
  double seconds = 0;
  for (const fs::path& root : roots) {
    std::size_t root_bytes = 0, root_hits = 0;
    std::error_code ec;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
    for (; it != end; it.increment(ec)) {
      if (ec) break;
      const fs::directory_entry& entry = *it;
      if (entry.is_directory(ec) && !entry.is_symlink(ec) && skipped_dir(entry.path())) {
        it.disable_recursion_pending();
        continue;
      }
      if (!entry.is_regular_file(ec) || entry.is_symlink(ec) || entry.file_size(ec) > (16u << 20)) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream buf;
      buf << in.rdbuf();
      std::string text = buf.str();
      if (text.substr(0, 8192).find('\0') != std::string::npos) continue;  // binary
      ++files;
      bytes += text.size();
      root_bytes += text.size();
      auto t0 = std::chrono::steady_clock::now();
      auto findings = engine.scan(text);
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (check) {
        auto reference = engine.scan_reference_for_test(text);
        bool same = reference.size() == findings.size();
        for (std::size_t k = 0; same && k < findings.size(); ++k) {
          same = reference[k].offset == findings[k].offset && reference[k].length == findings[k].length &&
                 reference[k].type == findings[k].type;
        }
        if (!same) {
          ++mismatches;
          std::printf("MISMATCH %s: fast %zu findings, reference %zu\n", entry.path().c_str(), findings.size(),
                      reference.size());
        }
      }
      for (const auto& f : findings) {
        ++hits;
        ++root_hits;
        ++per_type[std::string(f.type)];
        if (shown < show && (only_type.empty() || f.type == only_type)) {
          ++shown;
          std::printf("%s:%zu  %-14.*s  %s\n", entry.path().c_str(), f.offset, static_cast<int>(f.type.size()),
                      f.type.data(), preview(std::string_view(text).substr(f.offset, f.length)).c_str());
        }
      }
    }
    std::printf("# %s: %.1f MB, %zu hits, %.2f hits/MB\n", root.c_str(), root_bytes / 1e6, root_hits,
                root_bytes ? root_hits / (root_bytes / 1e6) : 0.0);
  }
  double mb = bytes / 1e6;
  std::printf("\nfiles %zu, bytes %zu (%.1f MB), hits %zu, %.3f hits/MB, scan %.0f MB/s\n", files, bytes, mb, hits,
              mb > 0 ? hits / mb : 0.0, seconds > 0 ? mb / seconds : 0.0);
  if (check) std::printf("reference check: %zu files differ\n", mismatches);
  for (const auto& [type, n] : per_type) {
    std::printf("  %-16s %6zu  %.3f/MB\n", type.c_str(), n, mb > 0 ? n / mb : 0.0);
  }
  return mismatches == 0 ? 0 : 1;
}
