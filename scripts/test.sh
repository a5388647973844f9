#!/usr/bin/env bash
# The one test command (`npm test`): brings what the tests need onto this machine (Node >= 22.12,
# PostgreSQL, Redis, the Docker engine, Nginx, test images), then typecheck, lint and the vitest suite.
# Works on a fresh machine and again on one where it already ran. Extra arguments go to vitest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

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

set +e
npx vitest run --reporter=default --reporter=json --outputFile=test-results.json "$@"
status=$?
set -e
node scripts/test-summary.ts test-results.json
exit $status
