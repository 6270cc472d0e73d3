#!/usr/bin/env bash
# Installs what sluice needs on Debian 12, only what is missing: a second run does nothing.
#   scripts/setup.sh            build dependencies (compiler, libraries)
#   scripts/setup.sh --test     also the test and benchmark tools and the Node clients (npm ci)
# Both install web/'s npm packages (npm ci): the build bundles the dashboard into the binary.
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(g++ cmake ninja-build ccache pkg-config libboost1.81-dev libboost-json1.81-dev
  libboost-url1.81-dev libssl-dev libsimdjson-dev libre2-dev libyaml-cpp-dev libsqlite3-dev
  libfmt-dev libcli11-dev libgtest-dev libbenchmark-dev ca-certificates libhiredis-dev libpq-dev)
# vim-runtime: its tutors in many languages are part of the token-calibration corpus.
# chromium: the dashboard's browser test (tests/browser, driven by playwright-core).
# redis-server, postgresql: the scale-out tests start their own (tests/support/servers.mjs).
test_pkgs=(wrk nginx-light openssl procps clang libclang-rt-14-dev prometheus sqlite3 vim-runtime chromium
  redis-server postgresql)
# node and npm bundle the dashboard (web/) at build time; they may come from elsewhere than
# Debian (the machine image ships its own).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then build_pkgs+=(nodejs npm); fi

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm ci only when the lock file changed since the last install.
npm_ci() {
  local dir=$1 stamp=$1/node_modules/.sluice-lock-stamp
  if [[ ! -f $stamp ]] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
    echo "setup: npm ci ($dir)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$stamp"
  fi
}
npm_ci web  # the dashboard's charts and bundler; CMake embeds the bundle (src/dashboard)
if [[ "${1:-}" == "--test" ]]; then
  for dir in tests/e2e tests/browser bench/token-calibration; do npm_ci "$dir"; done
fi
