#!/usr/bin/env bash
# Installs what the test suites need on a fresh machine, quietly, only if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v node >/dev/null || need_apt+=(nodejs npm)
command -v curl >/dev/null || need_apt+=(curl)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq "${need_apt[@]}") >/dev/null
fi

if [ ! -d tests/provider/node_modules ] || [ tests/provider/package-lock.json -nt tests/provider/node_modules ]; then
  echo "install-deps: npm ci (tests/provider)"
  (cd tests/provider && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch tests/provider/node_modules
fi
