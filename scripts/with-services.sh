#!/usr/bin/env bash
# Runs a command with Node >= 22.18 on PATH and the test services up (see test-services.sh); used by benchmarks.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/ensure-node.sh
source scripts/test-services.sh
[ -d node_modules ] || npm install --no-audit --no-fund >&2
exec "$@"
