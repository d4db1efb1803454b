#!/usr/bin/env bash
# Runs the PAM tests (run.sh) as two halves side by side, each with its own test provider
# and work directory (SOIDC_PAM_PART=a and b): under valgrind every login costs about a
# second of CPU, so one process running the cases one after another is the longest suite
# of `make test`. Prints each half's output in turn (each ends with its "PAM tests: N
# passed, M failed" line) and fails if either half failed.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
# Packages and builds first, once: each half then finds them in place (make: up to date).
. "$here/lib.sh"
pam_lib_install_deps
pam_lib_build "${SOIDC_LIBDIR:-$PAM_REPO/target/release}" || exit 1
out_a="$(mktemp)" out_b="$(mktemp)"
trap 'rm -f "$out_a" "$out_b"' EXIT
SOIDC_PAM_PART=a "$here/run.sh" "$@" >"$out_a" 2>&1 &
pid_a=$!
SOIDC_PAM_PART=b "$here/run.sh" "$@" >"$out_b" 2>&1
rc_b=$?
wait "$pid_a"
rc_a=$?
echo "== PAM tests, part a"
cat "$out_a"
echo "== PAM tests, part b"
cat "$out_b"
[ "$rc_a" = 0 ] && [ "$rc_b" = 0 ]
