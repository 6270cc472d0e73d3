#!/usr/bin/env bash
# Configures (once) and builds one preset: scripts/build.sh [release|asan-ubsan|tsan]
# Incremental: a second run with no change compiles nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
case "$preset" in
  release)    dir=build;            extra=() ;;
  asan-ubsan) dir=build-asan-ubsan; extra=(-DSLUICE_SANITIZE=asan-ubsan -DSLUICE_BUILD_BENCH=OFF) ;;
  tsan)       dir=build-tsan;       extra=(-DSLUICE_SANITIZE=tsan -DSLUICE_BUILD_BENCH=OFF) ;;
  *) echo "unknown preset $preset" >&2; exit 2 ;;
esac
# Let ccache hit across checkouts in different folders (CI builds a fresh clone elsewhere).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
if [[ ! -f $dir/build.ninja ]]; then
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_WERROR=ON "${extra[@]}"
fi
# Beast translation units need ~1 GB of compiler memory each; two jobs fit every machine here.
cmake --build "$dir" -j "${SLUICE_BUILD_JOBS:-2}"
