#!/usr/bin/env bash
# Usage: tests/with-provider.sh <command> [args...]
# Starts the test OpenID provider (tests/provider/server.mjs), exports
# SOIDC_TEST_ISSUER=<issuer>, SOIDC_TEST_PROVIDER_PID (its process) and
# SOIDC_TEST_PROVIDER_LOG (its stderr: with PROVIDER_DEBUG=1 in the environment, a line
# per request), runs the command, stops the provider and exits with the command's status.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 <command> [args...]" >&2
  exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
provider_dir="$here/provider"

# Install the pinned node modules when missing or older than the lock file.
if [ ! -d "$provider_dir/node_modules" ] || [ "$provider_dir/package-lock.json" -nt "$provider_dir/node_modules" ]; then
  (cd "$provider_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || {
    echo "with-provider.sh: npm ci failed in $provider_dir" >&2
    exit 1
  }
  touch "$provider_dir/node_modules"
fi

workdir="$(mktemp -d)"
fifo="$workdir/stdin"
mkfifo "$fifo"
provider_pid=""

cleanup() {
  # Closing our end of the stdin pipe makes the provider exit; SIGTERM as well to be sure.
  exec 3>&- 2>/dev/null || true
  if [ -n "$provider_pid" ] && kill -0 "$provider_pid" 2>/dev/null; then
    kill -TERM "$provider_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$provider_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$provider_pid" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
command_pid=""
on_signal() {
  if [ -n "$command_pid" ]; then
    kill -"$1" "$command_pid" 2>/dev/null || true
    wait "$command_pid" 2>/dev/null || true
  fi
  exit "$2"
}
trap cleanup EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

node "$provider_dir/server.mjs" <"$fifo" >"$workdir/out" 2>"$workdir/err" &
provider_pid=$!
exec 3>"$fifo" # hold the write end open: the provider's stdin stays open while we live

issuer=""
for _ in $(seq 1 200); do
  if issuer="$(sed -n 's/^ISSUER=//p' "$workdir/out" 2>/dev/null)" && [ -n "$issuer" ]; then
    break
  fi
  if ! kill -0 "$provider_pid" 2>/dev/null; then
    break
  fi
  sleep 0.1
done

if [ -z "$issuer" ]; then
  echo "with-provider.sh: the test provider did not print its ISSUER line within 20 s" >&2
  sed 's/^/  provider stderr: /' "$workdir/err" >&2 || true
  exit 1
fi

export SOIDC_TEST_ISSUER="$issuer" SOIDC_TEST_PROVIDER_PID="$provider_pid" SOIDC_TEST_PROVIDER_LOG="$workdir/err"
# Run the command in the background and wait for it, so that a signal to this script is
# handled at once (bash defers traps while a foreground child runs); keep its stdin.
"$@" <&0 &
command_pid=$!
status=0
wait "$command_pid" || status=$?
command_pid=""
exit "$status"
