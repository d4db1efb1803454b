#!/usr/bin/env bash
# `make test`'s runner: runs the test suites (Makefile targets test-*) side by side, at
# most SOIDC_TEST_JOBS at a time, each with its output in target/test-logs/SUITE.log.
# Most suites spend much of their time waiting (on a timeout, a provider, a JVM start),
# so on a 2-core machine several fit at once.
#
#   - Start order: longest first, by each suite's wall time of the last run
#     (target/suite-times); a suite never run goes first. Slow start-ups (Keycloak's
#     JVM) thus begin at once and overlap with the others' CPU work.
#   - Output: one line when a suite finishes; each suite's whole log, in the order given
#     on the command line, as soon as it and every suite before it have finished; then
#     the wall time of each suite and one overall line.
#   - Exit status 0 only if every suite passed. A failed suite does not stop the others.
#     INT/TERM stop every running suite (its own traps stop its providers).
#
# The suites are independent: each starts its own providers on ports the kernel picks,
# works in its own temporary and build directories, and the library is built before
# (`make test` runs `make build` first and the suites with SUITE_DEPS= so none rebuilds).
#
# Usage: tests/run-suites.sh SUITE...   (make targets, e.g. test-rust test-c)
# Env:   SOIDC_TEST_JOBS  suites at a time (default: CPUs + 2; 1 runs them one by one,
#                         in the order given)
#        SOIDC_TEST_NICE  suites run under `nice -n 10`: those that mostly compile and
#                         check no tight time bounds, so that they take the CPU the
#                         others leave while waiting rather than slow down the latency
#                         and timeout checks of nginx, PAM, fault injection, Rust, Go
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "$#" -eq 0 ]; then
  echo "usage: $0 SUITE..." >&2
  exit 2
fi
suites=("$@")
jobs="${SOIDC_TEST_JOBS:-$(($(nproc 2>/dev/null || echo 2) + 2))}"
case "$jobs" in '' | *[!0-9]* | 0) echo "run-suites: SOIDC_TEST_JOBS must be a positive number" >&2; exit 2 ;; esac
logs=target/test-logs
times=target/suite-times
mkdir -p "$logs" "$times"

# Start order: the last run's wall time, longest first (a suite without one first);
# one at a time keeps the order given.
order=("${suites[@]}")
if [ "$jobs" -gt 1 ]; then
  mapfile -t order < <(for s in "${suites[@]}"; do
    t="$(sed -n 's/^\([0-9]*\) s.*/\1/p' "$times/$s" 2>/dev/null)"
    echo "${t:-999999} $s"
  done | sort -k1,1nr -s | cut -d' ' -f2)
fi

declare -A pid_of=() suite_of=() status=() began=()
running=0
t0=$(date +%s)
elapsed() { echo $(($(date +%s) - t0)); }

# Each suite runs in a process group of its own (job control), so that an interrupt
# reaches all of its processes; stdin is /dev/null (a background group must not read
# the terminal).
set -m
start() {
  local s="$1"
  rm -f "$times/$s"
  began[$s]=$(date +%s)
  local nice=()
  [[ " ${SOIDC_TEST_NICE:-} " == *" $s "* ]] && nice=(nice -n 10)
  "${nice[@]}" $MAKE_CMD --no-print-directory SUITE_DEPS= "$s" </dev/null >"$logs/$s.log" 2>&1 &
  pid_of[$s]=$!
  suite_of[$!]="$s"
  running=$((running + 1))
  printf '[%4d s] %s started%s\n' "$(elapsed)" "$s" "${nice:+ (nice -n 10)}"
}
MAKE_CMD="${MAKE:-make}"

stop_all() {
  local s
  for s in "${!pid_of[@]}"; do
    [ -z "${status[$s]:-}" ] && kill -TERM -- "-${pid_of[$s]}" 2>/dev/null
  done
  wait
  exit "$1"
}
trap 'stop_all 130' INT
trap 'stop_all 143' TERM

printed=0
# Prints the logs of the finished suites at the head of the command-line order.
print_ready() {
  while [ "$printed" -lt "${#suites[@]}" ]; do
    local s="${suites[$printed]}"
    [ -n "${status[$s]:-}" ] || return 0
    echo
    echo "==================== $s ($([ "${status[$s]}" = 0 ] && echo passed || echo "FAILED, exit ${status[$s]}"); output of $logs/$s.log)"
    cat "$logs/$s.log"
    printed=$((printed + 1))
  done
}

next=0
while [ "$next" -lt "${#order[@]}" ] || [ "$running" -gt 0 ]; do
  while [ "$running" -lt "$jobs" ] && [ "$next" -lt "${#order[@]}" ]; do
    start "${order[$next]}"
    next=$((next + 1))
  done
  done_pid=""
  rc=0
  wait -n -p done_pid || rc=$?
  [ -n "$done_pid" ] || continue
  s="${suite_of[$done_pid]}"
  status[$s]=$rc
  running=$((running - 1))
  printf '[%4d s] %s %s after %d s\n' "$(elapsed)" "$s" \
    "$([ "$rc" = 0 ] && echo passed || echo "FAILED (exit $rc)")" $(($(date +%s) - began[$s]))
  print_ready
done

failed=()
echo
echo "wall time per suite ($(elapsed) s in all, up to $jobs suites at a time):"
for s in "${suites[@]}"; do
  printf '  %-14s %s\n' "$s" "$(cat "$times/$s" 2>/dev/null || echo "?")"
  [ "${status[$s]}" = 0 ] || failed+=("$s")
done
# The machine's load average next to the figures (other work on it slows the suites).
load="load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null | sed 's/ /, /g')"
if [ "${#failed[@]}" -eq 0 ]; then
  echo "make test: all ${#suites[@]} suites passed in $(elapsed) s ($load)"
else
  echo "make test: ${#failed[@]} of ${#suites[@]} suites FAILED: ${failed[*]} (logs in $logs/; $load)"
  exit 1
fi
