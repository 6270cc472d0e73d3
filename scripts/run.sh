#!/usr/bin/env bash
# The quickstart: installs what is missing, builds, and runs the gateway on 127.0.0.1:8787 in
# front of the built-in simulated provider (no API key, no network). Extra arguments go to
# `sluice serve`, e.g. scripts/run.sh --upstream https://api.anthropic.com
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
if (($#)); then exec build/sluice serve "$@"; fi
exec build/sluice serve --upstream mock
