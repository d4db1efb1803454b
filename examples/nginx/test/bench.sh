#!/usr/bin/env bash
# Benchmark of ngx_http_soidc_module with wrk: requests per second of a location that
# validates a JWT access token (soidc_bearer on, RS256, scope check) next to the same
# location without the module (soidc_bearer off), and their ratio. Not a test: it
# prints figures and fails only if something does not run.
#
# One nginx worker and one wrk thread, so that on a 2-core machine nginx and wrk each
# have a core. Environment: BENCH_DURATION (default 10s), BENCH_CONNECTIONS (32),
# SOIDC_NGINX_SKIP_BUILD=1 to reuse the built module.
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap lib_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

duration="${BENCH_DURATION:-10s}"
conns="${BENCH_CONNECTIONS:-32}"

lib_install_deps nginx nginx-dev gcc make curl wrk node || exit 1
lib_build_module || exit 1
lib_provider_start A || exit 1
issuer="${PROVIDER_ISSUER[A]}"
lib_nginx_conf B "$(lib_free_port)" "$issuer" thread 60s 1s 1
# no per-request log lines: measure the module, not the disk
sed -i -e 's|^\(    access_log\) .*|\1 off;|' -e 's|^error_log \(.*\) info;|error_log \1 warn;|' \
  "${NGINX_PREFIX[B]}/nginx.conf"
lib_nginx_start B || exit 1
port="${NGINX_PORT[B]}"
token="$(lib_token "$issuer" api:read)"

check="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "http://127.0.0.1:$port/bench/protected")"
if [ "$check" != 200 ]; then
  echo "bench: the protected location answered $check, not 200" >&2
  exit 1
fi

run() { # run ID NAME PATH [wrk args]: prints the line, sets RPS
  local id="$1" name="$2" path="$3"; shift 3
  local f="$WORK/wrk-$id.txt"
  wrk -t1 -c"$conns" -d"$duration" --latency "$@" "http://127.0.0.1:$port$path" >"$f" 2>&1
  RPS="$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$f")"
  local lat p99 non2xx
  lat="$(awk '/^ +Latency/ { print $2; exit }' "$f")"
  p99="$(awk '$1 == "99%" { print $2; exit }' "$f")"
  non2xx="$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$f")"
  printf '%-34s %10s req/s   latency avg %-8s p99 %-8s non-2xx %s\n' "$name" "${RPS:-?}" "$lat" "$p99" "${non2xx:-0}"
}

echo "nginx $("$NGINX_BIN" -v 2>&1 | sed 's/.*\///'), soidc $(sed -n 's/^#define SOIDC_VERSION_STRING "\(.*\)"/\1/p' "$REPO/include/soidc.h"), $(nproc) CPUs, 1 worker, wrk -t1 -c$conns -d$duration"
echo "token: RS256 JWT access token, $(printf '%s' "$token" | wc -c) bytes; location requires scope api:read"
run warmup "warm-up" /bench/open >/dev/null
run open "soidc_bearer off (/bench/open)" /bench/open
off="$RPS"
run protected "soidc_bearer on (/bench/protected)" /bench/protected -H "Authorization: Bearer $token"
on="$RPS"
awk -v on="$on" -v off="$off" 'BEGIN {
  if (off > 0) printf "ratio protected/open: %.2f (%.1f%% of the unprotected rate; +%.1f us per request in the worker)\n",
    on / off, 100 * on / off, (1e6 / on - 1e6 / off) }'
