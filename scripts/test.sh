#!/usr/bin/env bash
# The one test command (`npm test`): brings what the tests need onto this machine (Node >= 22.18, PostgreSQL,
# Redis, the suite's own Docker engine, Nginx, test images), then typecheck, lint and the vitest suite.
# Works on a fresh machine and again on one where it already ran. Extra arguments go to vitest.
# The last line is always `N passed, N failed`, and it agrees with the exit code.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

summary=""
stopped_early() {
  echo "[test] the run stopped before the test runner reported" >&2
  echo "0 passed, 1 failed"
}
trap '[ -n "$summary" ] || stopped_early' EXIT

# No colour codes where nobody reads a terminal (CI logs, files).
if [ -n "${CI:-}" ] || [ ! -t 1 ]; then
  export NO_COLOR=1 npm_config_color=false
  unset FORCE_COLOR
fi

source scripts/ensure-node.sh
source scripts/test-services.sh

# Dependencies: reinstall only when the lockfile changed since the last install. `npm install` (which follows the
# lockfile) rather than `npm ci`: the registry here lacks a few optional platform binaries the lockfile would
# list, which `npm ci` treats as an out-of-sync lockfile.
stamp="node_modules/.lock-stamp"
lock_state() { echo "$(sha256sum package-lock.json | cut -d' ' -f1)-$(node --version)"; }
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$(lock_state)" ]; then
  npm install --no-audit --no-fund >&2
  # npm may rewrite the lockfile's optional entries; stamp what is there now so the next run skips the install.
  lock_state > "$stamp"
fi

npm run --silent typecheck
npm run --silent lint

# What of the machine the suite must leave alone, recorded now and compared by test/machine after every file.
export TEST_MACHINE_BEFORE="$STATE_DIR/machine-before.json"
node test/support/machine.ts > "$TEST_MACHINE_BEFORE"

rm -f test-results.json
set +e
npx vitest run --reporter=default --reporter=json --outputFile=test-results.json "$@"
status=$?
set -e
summary="$(node scripts/test-summary.ts test-results.json "$status")"
echo "$summary"
[ "$status" -eq 0 ] && [[ "$summary" == *" 0 failed" ]]
