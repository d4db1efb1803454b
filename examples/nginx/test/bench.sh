#!/usr/bin/env bash
# Benchmark of ngx_http_soidc_module with wrk: requests per second of a location that
# validates a JWT access token (soidc_bearer on, RS256, scope check) next to the same
# location without the module (soidc_bearer off), and their ratio. Not a test: it
# prints figures and fails only if something does not run, or if a token that must be
# refused was accepted (or one that must be accepted was refused).
#
# Two nginx instances, identical but for soidc_verified_cache (B: off, C: 4096 tokens),
# each measured against its own unprotected location in the same run, interleaved:
# - one token: every request carries the same token;
# - token mix (issue 18): 1,000 distinct valid tokens of the provider cycling, and every
#   20th request (5 %) one of 50 invalid ones (a valid token with one signature character
#   changed), chosen per request by mix.lua; wrk's non-2xx count must equal the invalid
#   requests (each one a 401), within the requests in flight at the end. The unprotected
#   location gets the same requests (same headers).
#
# One nginx worker and one wrk thread, so that on a 2-core machine nginx and wrk each
# have a core. Each run also reads the worker's CPU time (/proc/PID/stat, user + system)
# before and after: its CPU per request, and the ratios per worker CPU-second, do not
# move with the machine's load as requests per second do. Environment: BENCH_DURATION
# (default 5s per figure), BENCH_NGINX_ROUNDS (3: every figure measured that often,
# interleaved; the median round is reported), BENCH_CONNECTIONS (32),
# BENCH_VERIFIED_CACHE (entries for C, 4096), SOIDC_NGINX_SKIP_BUILD=1 to reuse the
# built module.
#
# Besides the human-readable lines it prints machine-readable ones for bench/run.sh:
#   RESULT <name> <value> <unit>
# names: open_rps, one_token_rps, open_cached_rps, one_token_cached_rps, mix_open_rps, mix_rps,
# mix_open_cached_rps, mix_cached_rps (req/s); one_token_ratio, one_token_cached_ratio,
# mix_ratio, mix_cached_ratio (x, protected / unprotected of the same instance);
# one_token_cpu_ratio, one_token_cached_cpu_ratio, mix_cpu_ratio, mix_cached_cpu_ratio (x,
# the same per CPU-second of the nginx worker: the unprotected location's worker CPU per
# request divided by the protected one's; load-independent); mix_open_cached_worker_us,
# mix_cached_worker_us (us of worker CPU per request, instance C, token mix);
# mix_invalid_refused (the 401s seen in all rounds, count), load (1-min load average
# before the runs). Each rps pair is the median round's (by its ratio).
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap lib_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

duration="${BENCH_DURATION:-5s}"
conns="${BENCH_CONNECTIONS:-32}"
vcache="${BENCH_VERIFIED_CACHE:-4096}"
rounds="${BENCH_NGINX_ROUNDS:-3}"

lib_install_deps nginx nginx-dev gcc make curl wrk node || exit 1
lib_build_module || exit 1
lib_provider_start A || exit 1
issuer="${PROVIDER_ISSUER[A]}"
quiet() { # no per-request log lines: measure the module, not the disk
  sed -i -e 's|^\(    access_log\) .*|\1 off;|' -e 's|^error_log \(.*\) info;|error_log \1 warn;|' \
    "${NGINX_PREFIX[$1]}/nginx.conf"
}
lib_nginx_conf B "$(lib_free_port)" "$issuer" thread 60s 1s 1
quiet B
lib_nginx_conf C "$(lib_free_port)" "$issuer" thread 60s 1s 1
quiet C
sed -i "s|^\(    soidc_fetch_timeout .*\)$|\1\n    soidc_verified_cache $vcache;|" "${NGINX_PREFIX[C]}/nginx.conf"
grep -q "soidc_verified_cache $vcache;" "${NGINX_PREFIX[C]}/nginx.conf" || { echo "bench: soidc_verified_cache not set" >&2; exit 1; }
lib_nginx_start B || exit 1
lib_nginx_start C || exit 1
token="$(lib_token "$issuer" api:read)"

# the token mix: 1,000 valid tokens, 50 invalid ones
node "$NGX_TEST_DIR/tokens.mjs" "$issuer" "$CLIENT_ID" "$CLIENT_SECRET" "$RESOURCE" api:read 1000 >"$WORK/tokens.txt" || exit 1
[ "$(sort -u "$WORK/tokens.txt" | wc -l)" = 1000 ] || { echo "bench: not 1000 distinct tokens" >&2; exit 1; }
head -n 50 "$WORK/tokens.txt" | while IFS= read -r t; do
  # one signature character changed (not the last, whose low bits may be padding)
  pos=$(( ${#t} - 10 )); c="${t:$pos:1}"; [ "$c" = A ] && r=B || r=A
  printf '%s%s%s\n' "${t:0:$pos}" "$r" "${t:$((pos + 1))}"
done >"$WORK/invalid.txt"
export WRK_TOKENS="$WORK/tokens.txt" WRK_INVALID="$WORK/invalid.txt"

for n in B C; do
  p="${NGINX_PORT[$n]}"
  for t in "$token" "$(sed -n 500p "$WORK/tokens.txt")"; do
    check="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $t" "http://127.0.0.1:$p/bench/protected")"
    [ "$check" = 200 ] || { echo "bench: nginx $n answered $check to a valid token, not 200" >&2; exit 1; }
    check="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $t" "http://127.0.0.1:$p/bench/protected")"
    [ "$check" = 200 ] || { echo "bench: nginx $n answered $check to a valid token again, not 200" >&2; exit 1; }
  done
  check="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(head -n 1 "$WORK/invalid.txt")" "http://127.0.0.1:$p/bench/protected")"
  [ "$check" = 401 ] || { echo "bench: nginx $n answered $check to an invalid token, not 401" >&2; exit 1; }
done

declare -A WORKER=()
for n in B C; do
  WORKER[$n]="$(pgrep -P "${NGINX_PID[$n]}" | head -n 1)"
  [ -n "${WORKER[$n]}" ] || { echo "bench: no worker process of nginx $n" >&2; exit 1; }
done
tck="$(getconf CLK_TCK)"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
run() { # run ID NAME INSTANCE PATH [wrk args]: prints the line, sets RPS, REQS, NON2XX, WUS
  local id="$1" name="$2" inst="$3" path="$4"; shift 4
  local f="$WORK/wrk-$id.txt" t0 t1
  t0="$(cpu_ticks "${WORKER[$inst]}")"
  wrk -t1 -c"$conns" -d"$duration" --latency "$@" "http://127.0.0.1:${NGINX_PORT[$inst]}$path" >"$f" 2>&1
  t1="$(cpu_ticks "${WORKER[$inst]}")"
  RPS="$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$f")"
  REQS="$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$f")"
  local lat p99
  lat="$(awk '/^ +Latency/ { print $2; exit }' "$f")"
  p99="$(awk '$1 == "99%" { print $2; exit }' "$f")"
  NON2XX="$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$f")"
  NON2XX="${NON2XX:-0}"
  # the worker's CPU time per request (user + system, all its threads): what a request
  # costs nginx, whatever else runs on the machine
  WUS="$(awk -v d="$((t1 - t0))" -v t="$tck" -v n="${REQS:-0}" 'BEGIN { printf "%.1f", (n > 0 ? d / t * 1e6 / n : 0) }')"
  printf '%-44s %10s req/s   latency avg %-8s p99 %-8s non-2xx %-6s worker %s us CPU/req\n' "$name" "${RPS:-?}" "$lat" "$p99" "$NON2XX" "$WUS"
  [ -n "$RPS" ] || { echo "bench: wrk gave no figure:" >&2; cat "$f" >&2; exit 1; }
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
# the mix's non-2xx answers must be its invalid requests: every 20th, give or take the
# requests in flight when wrk stopped
check_mix() { # check_mix NAME EXPECT_INVALID(0|1)
  local want=0
  [ "$2" = 1 ] && want=$(( REQS / 20 ))
  if [ $(( NON2XX - want )) -gt $(( conns + 1 )) ] || [ $(( want - NON2XX )) -gt $(( conns + 1 )) ]; then
    echo "bench: $1: $NON2XX non-2xx answers of $REQS requests, expected about $want (the invalid tokens, each a 401)" >&2
    exit 1
  fi
}

load="$(cut -d' ' -f1 /proc/loadavg)"
echo "nginx $("$NGINX_BIN" -v 2>&1 | sed 's/.*\///'), soidc $(sed -n 's/^#define SOIDC_VERSION_STRING "\(.*\)"/\1/p' "$REPO/include/soidc.h"), $(nproc) CPUs, 1 worker, wrk -t1 -c$conns -d$duration, load $load"
echo "one token: RS256 JWT access token, $(printf '%s' "$token" | wc -c) bytes; location requires scope api:read"
echo "token mix: 1000 valid tokens cycling + every 20th request one of 50 invalid ones (mix.lua); B: soidc_verified_cache off, C: soidc_verified_cache $vcache"
run warmup "warm-up" B /bench/open >/dev/null
run warmup-c "warm-up" C /bench/open >/dev/null
# rounds: each round measures every figure once, the unprotected location right before the
# protected one of the same instance; a ratio is taken within a round, and the median
# round's figures are reported (the machine is shared: load changes between runs)
declare -a R_ONE=() R_ONE_C=() R_MIX=() R_MIX_C=() C_ONE=() C_ONE_C=() C_MIX=() C_MIX_C=()
declare -A FIG=() CPU=()
refused=0
for round in $(seq 1 "$rounds"); do
  echo "-- round $round"
  run "open-$round" "B soidc_bearer off (/bench/open)" B /bench/open
  FIG[open,$round]="$RPS"; CPU[open,$round]="$WUS"
  run "one-$round" "B soidc_bearer on, one token" B /bench/protected -H "Authorization: Bearer $token"
  FIG[one,$round]="$RPS"; R_ONE+=("$(ratio "$RPS" "${FIG[open,$round]}") $round")
  C_ONE+=("$(ratio "${CPU[open,$round]}" "$WUS")")
  run "open-c-$round" "C soidc_bearer off (/bench/open)" C /bench/open
  FIG[open_c,$round]="$RPS"; CPU[open_c,$round]="$WUS"
  run "one-c-$round" "C soidc_bearer on, one token, cache" C /bench/protected -H "Authorization: Bearer $token"
  FIG[one_c,$round]="$RPS"; R_ONE_C+=("$(ratio "$RPS" "${FIG[open_c,$round]}") $round")
  C_ONE_C+=("$(ratio "${CPU[open_c,$round]}" "$WUS")")
  run "mix-open-$round" "B soidc_bearer off, token mix" B /bench/open -s "$NGX_TEST_DIR/mix.lua"
  FIG[mix_open,$round]="$RPS"; CPU[mix_open,$round]="$WUS"; check_mix "B open" 0
  run "mix-$round" "B soidc_bearer on, token mix, no cache" B /bench/protected -s "$NGX_TEST_DIR/mix.lua"
  FIG[mix,$round]="$RPS"; check_mix "B protected" 1; refused=$(( refused + NON2XX ))
  R_MIX+=("$(ratio "$RPS" "${FIG[mix_open,$round]}") $round")
  C_MIX+=("$(ratio "${CPU[mix_open,$round]}" "$WUS")")
  run "mix-open-c-$round" "C soidc_bearer off, token mix" C /bench/open -s "$NGX_TEST_DIR/mix.lua"
  FIG[mix_open_c,$round]="$RPS"; CPU[mix_open_c,$round]="$WUS"; check_mix "C open" 0
  run "mix-c-$round" "C soidc_bearer on, token mix, cache" C /bench/protected -s "$NGX_TEST_DIR/mix.lua"
  FIG[mix_c,$round]="$RPS"; CPU[mix_c,$round]="$WUS"; check_mix "C protected" 1; refused=$(( refused + NON2XX ))
  R_MIX_C+=("$(ratio "$RPS" "${FIG[mix_open_c,$round]}") $round")
  C_MIX_C+=("$(ratio "${CPU[mix_open_c,$round]}" "$WUS")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'; }
read -r r_one m_one <<<"$(median "${R_ONE[@]}")"
read -r r_one_c m_one_c <<<"$(median "${R_ONE_C[@]}")"
read -r r_mix m_mix <<<"$(median "${R_MIX[@]}")"
read -r r_mix_c m_mix_c <<<"$(median "${R_MIX_C[@]}")"
open="${FIG[open,$m_one]}" one="${FIG[one,$m_one]}"
open_c="${FIG[open_c,$m_one_c]}" one_c="${FIG[one_c,$m_one_c]}"
mix_open="${FIG[mix_open,$m_mix]}" mix="${FIG[mix,$m_mix]}"
mix_open_c="${FIG[mix_open_c,$m_mix_c]}" mix_c="${FIG[mix_c,$m_mix_c]}"
c_one="$(median "${C_ONE[@]}")"; c_one_c="$(median "${C_ONE_C[@]}")"
c_mix="$(median "${C_MIX[@]}")"; c_mix_c="$(median "${C_MIX_C[@]}")"
echo "median of $rounds rounds, ratio protected/open of the same instance and round:"
echo "  one token: $r_one without the cache, $r_one_c with it"
echo "  token mix: $r_mix without the cache, $r_mix_c with it (issue 18 target: >= 0.9 with it)"
echo "the same per CPU-second of the nginx worker (open's CPU per request / protected's; load-independent):"
echo "  one token: $c_one without the cache, $c_one_c with it"
echo "  token mix: $c_mix without the cache, $c_mix_c with it"
awk -v on="$mix_c" -v off="$mix_open_c" 'BEGIN {
  if (on > 0 && off > 0) printf "token mix with the cache: +%.1f us per request in the worker\n", (1e6 / on - 1e6 / off) }'
printf 'RESULT %s %s %s\n' load "$load" load \
  open_rps "$open" req/s one_token_rps "$one" req/s open_cached_rps "$open_c" req/s one_token_cached_rps "$one_c" req/s \
  mix_open_rps "$mix_open" req/s mix_rps "$mix" req/s mix_open_cached_rps "$mix_open_c" req/s \
  mix_cached_rps "$mix_c" req/s one_token_ratio "$r_one" x one_token_cached_ratio "$r_one_c" x \
  mix_ratio "$r_mix" x mix_cached_ratio "$r_mix_c" x \
  one_token_cpu_ratio "$c_one" x one_token_cached_cpu_ratio "$c_one_c" x \
  mix_cpu_ratio "$c_mix" x mix_cached_cpu_ratio "$c_mix_c" x \
  mix_open_cached_worker_us "${CPU[mix_open_c,$m_mix_c]}" us mix_cached_worker_us "${CPU[mix_c,$m_mix_c]}" us \
  mix_invalid_refused "$refused" count
