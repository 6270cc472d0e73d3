#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit, integration and end-to-end
# (official SDKs and the Claude Code CLI) on the release build, then unit and integration
# again under AddressSanitizer + UndefinedBehaviorSanitizer.
#   SLUICE_SKIP_SANITIZERS=1 scripts/test.sh    release build only (quick local loop)
#   SLUICE_TSAN=1 scripts/test.sh                also unit + integration under ThreadSanitizer
#                                                (not in CI: a cold TSan build doubles the run)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
jobs=${SLUICE_TEST_JOBS:-2}

scripts/build.sh release
echo "== release: unit, integration, e2e"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600

if [[ -z "${SLUICE_SKIP_SANITIZERS:-}" ]]; then
  echo "== fuzz targets: replay the corpus (libFuzzer + ASan/UBSan, clang)"
  if [[ ! -f build-fuzz/build.ninja ]]; then
    cmake -S fuzz -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ >/dev/null
  fi
  cmake --build build-fuzz -j "$jobs"
  ctest --test-dir build-fuzz --output-on-failure

  scripts/build.sh asan-ubsan
  echo "== asan-ubsan: unit, integration"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan-ubsan --output-on-failure -j "$jobs" -L 'unit|integration' --timeout 600
fi

if [[ -n "${SLUICE_TSAN:-}" ]]; then
  scripts/build.sh tsan
  echo "== tsan: unit, integration"
  TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/tests/tsan.supp" \
    ctest --test-dir build-tsan --output-on-failure -j "$jobs" -L 'unit|integration' --timeout 600
fi
