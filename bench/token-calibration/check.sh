#!/usr/bin/env bash
# The calibration check run by CTest (test token_calibration): counts the corpus with the
# reference tokenizers and fails if sluice's estimate drifts outside the bounds documented in
# docs/context-guard.md for any kind of text.
#   bench/token-calibration/check.sh <token_calibrate binary> [LOW HIGH]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin=$1
low=${2:-0.75}
high=${3:-1.15}
if [[ ! -d "$here/node_modules" ]]; then
  echo "token calibration: $here/node_modules is missing (scripts/setup.sh --test installs it)" >&2
  exit 1
fi
if [[ ! -d /usr/share/vim/vim90/tutor ]]; then
  echo "token calibration: the vim tutors (package vim-runtime) are missing: no non-English samples" >&2
  exit 1
fi
samples=$(mktemp)
trap 'rm -f "$samples"' EXIT
node "$here/count.mjs" "$here/../.." >"$samples"
"$bin" "$samples" --check claude "$low" "$high"
