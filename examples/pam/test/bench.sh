#!/usr/bin/env bash
# examples/pam/test/bench.sh (make bench-pam): PAM logins per second through pam_soidc
# against the real test provider (tests/provider, node oidc-provider), and the provider
# requests each login costs, with the provider state cache (cache_dir) cold and warm.
# A benchmark, not a test: it fails only when something cannot be built or started, or
# when a login does not succeed.
#
# Logins run in one process (pam_bench.c, built here): pam_start_confdir +
# pam_authenticate + pam_end in a loop, as a PAM host runs transactions (pam_end unloads
# the module, so every login loads it and makes its soidc client again). No process is
# spawned per login and no valgrind. The module's syslog lines are counted, not sent.
#
# Modes (the ones that run unattended; device mode needs a person to approve):
#   password     mode=password: the resource owner password grant (token request, ID
#                token validated against the provider's keys)
#   token-jwt    mode=token with a JWT access token as the password (RFC 9068,
#                validated locally against the keys)
#   token-opaque mode=token with an opaque access token (introspection at the provider)
# (The module takes access tokens only: an ID token typed as the password is refused.)
# Floor: the same transaction through pam_permit.so (libpam and a module load, no soidc).
#
# Cache: cold = the cache directory is emptied before every login (discovery and keys
# are fetched in the login); warm = a state file written by an earlier process.
# Provider requests are counted from the provider's own request log (PROVIDER_DEBUG=1:
# one "METHOD /path" line per request on its stderr; /test/* control requests excluded).
#
# Prints a line per case and machine-readable lines
#   RESULT <name> <value> <unit>
# Environment: PAM_BENCH_ROUNDS (3): rounds over all cases; PAM_BENCH_SECS (1.5): timed
# seconds per case and round at most; PAM_BENCH_LOGINS (1000): logins per case and round
# at most; SOIDC_LIBDIR (target/release).
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
root="$PAM_REPO"
secs="${PAM_BENCH_SECS:-1.5}"
max_logins="${PAM_BENCH_LOGINS:-1000}"
libdir="${SOIDC_LIBDIR:-$root/target/release}"

pam_lib_install_deps
# Run everything below with the test provider up, logging its requests (PROVIDER_DEBUG).
if [ -z "${SOIDC_TEST_PROVIDER_LOG:-}" ]; then
  PROVIDER_DEBUG=1 exec "$root/tests/with-provider.sh" "$0" "$@"
fi
pam_lib_build "$libdir"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

driver="$work/pam_bench"
gcc -O2 -Wall -Wextra -Werror -U_FORTIFY_SOURCE -rdynamic -o "$driver" "$PAM_TEST_DIR/pam_bench.c" -lpam

# --- the provider, with its request log (tests/with-provider.sh started it above) ----------
issuer="$SOIDC_TEST_ISSUER"
provider_pid="$SOIDC_TEST_PROVIDER_PID"
provider_log="$SOIDC_TEST_PROVIDER_LOG"

# requests: the provider's request lines so far, /test/* excluded ("METHOD /path").
requests() { grep -E '^(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS) /' "$provider_log" | grep -v ' /test/' || true; }
request_count() { requests | wc -l; }
clk_tck="$(getconf CLK_TCK)"
provider_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$provider_pid/stat"; }

# --- service files, secret, tokens -----------------------------------------------
client_secret=conf-basic-secret-0123456789abcdef
conf="$work/pam.d"
mkdir -p "$conf"
(umask 077 && printf '%s\n' "$client_secret" >"$work/secret")
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$conf/other"
common="issuer=$issuer client_id=conf-basic client_secret_file=$work/secret timeout_ms=10000"
pam_lib_service "$conf" password "$common [scope=openid profile] cache_dir=$work/cache-password"
pam_lib_service "$conf" token-jwt "$common mode=token audience=https://api.soidc.test cache_dir=$work/cache-token-jwt"
pam_lib_service "$conf" token-opaque "$common mode=token audience=https://api.soidc.test cache_dir=$work/cache-token-opaque"
# The floor: the same transaction through pam_permit.so (libpam's own cost, a module load).
printf 'auth required pam_permit.so\naccount required pam_permit.so\n' >"$conf/pam_permit"

access_token() { # SCOPE: alice's access token from the password grant
  curl -sS --fail-with-body --max-time 10 -u "conf-basic:$client_secret" -d grant_type=password \
    --data-urlencode username=alice --data-urlencode password=alice-password --data-urlencode "scope=$1" "$issuer/token" |
    node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>{const v=JSON.parse(d).access_token;if(typeof v!=="string")process.exit(1);process.stdout.write(v)})'
}
jwt="$(access_token 'openid api:read')"
opaque="$(access_token openid)"
case "$jwt" in *.*.*) ;; *) echo "bench-pam: expected a JWT access token for api:read" >&2; exit 1 ;; esac
case "$opaque" in *.*) echo "bench-pam: expected an opaque access token for scope openid" >&2; exit 1 ;; esac

password_of() {
  case "$1" in
    password) echo alice-password ;;
    token-jwt) echo "$jwt" ;;
    token-opaque) echo "$opaque" ;;
    pam_permit) echo unused ;;
  esac
}

# --- measuring ---------------------------------------------------------------------
# Rounds interleave the seven cases (pam_permit, three modes cold and warm), so that a
# change of the machine's load hits them alike; a case's rate is the median of its
# rounds, its CPU and requests per login are totals over its rounds divided by its logins.
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
declare -A rates med_ms p90_ms first_ms first_cpu logins timed cpu_ms reqs pticks
run_case() { # run_case MODE cold|warm|-
  local mode="$1" cache="$2" key="$1 $2" out r0 r1 c0 c1 n pw
  pw="$(password_of "$mode")"
  if [ "$cache" = warm ]; then
    # an earlier process leaves the state file (its logins are neither timed nor counted)
    PAM_BENCH_PASSWORD="$pw" "$driver" "$conf" "$mode" alice 2 60 >/dev/null ||
      { echo "bench-pam: $mode: the login that fills the cache failed" >&2; exit 1; }
  fi
  r0="$(request_count)"
  c0="$(provider_cpu_ticks)"
  local clear=()
  [ "$cache" = cold ] && clear=("$work/cache-$mode")
  out="$(PAM_BENCH_PASSWORD="$pw" "$driver" "$conf" "$mode" alice "$max_logins" "$secs" "${clear[@]}")" ||
    { echo "bench-pam: $mode, $cache cache: a login failed" >&2; exit 1; }
  c1="$(provider_cpu_ticks)"
  r1="$(request_count)"
  n="$(kv logins "$out")"
  requests | tail -n +$((r0 + 1)) >>"$work/requests-$mode-$cache"
  rates[$key]+=" $(kv rate_logins_per_s "$out")"
  med_ms[$key]+=" $(kv median_ms "$out")"
  p90_ms[$key]+=" $(kv p90_ms "$out")"
  first_ms[$key]+=" $(kv first_ms "$out")"
  first_cpu[$key]+=" $(kv first_cpu_ms "$out")"
  logins[$key]=$((${logins[$key]:-0} + n))
  timed[$key]=$((${timed[$key]:-0} + n - 1))
  cpu_ms[$key]="$(awk -v a="${cpu_ms[$key]:-0}" -v c="$(kv cpu_ms_per_login "$out")" -v m=$((n - 1)) 'BEGIN { printf "%.3f", a + c * m }')"
  reqs[$key]=$((${reqs[$key]:-0} + r1 - r0))
  pticks[$key]=$((${pticks[$key]:-0} + c1 - c0))
  printf '  round %d  %-13s %-5s %8s logins/s  median %6s ms  (%d logins, %d provider requests)\n' \
    "$round" "$mode" "$cache" "$(kv rate_logins_per_s "$out")" "$(kv median_ms "$out")" "$n" $((r1 - r0))
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

rounds="${PAM_BENCH_ROUNDS:-3}"
modes="password token-jwt token-opaque"
load0="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "pam_soidc logins against the test provider (node oidc-provider, $issuer), $(nproc) CPUs, load $load0"
echo "one process per case and round: pam_start_confdir + pam_authenticate + pam_end per login (the module is"
echo "loaded each time), user alice; $rounds rounds of at most $max_logins logins or ${secs} s per case, interleaved"
# Untimed warm-up with cold logins (every endpoint the cases use): node compiles the
# provider's hot paths during the first few hundred requests; without this, round 1
# would measure its JIT.
for mode in $modes; do
  PAM_BENCH_PASSWORD="$(password_of "$mode")" "$driver" "$conf" "$mode" alice 300 0.5 "$work/cache-$mode" >/dev/null ||
    { echo "bench-pam: $mode: a warm-up login failed" >&2; exit 1; }
done
for round in $(seq 1 "$rounds"); do
  run_case pam_permit -
  for mode in $modes; do
    run_case "$mode" cold
    run_case "$mode" warm
  done
done
load1="$(cut -d' ' -f1-3 /proc/loadavg)"

# The request log against the provider's own counters (discovery, JWKS, token requests),
# so that a change of the log format cannot turn into "0 requests per login".
counter() { curl -sS --fail --max-time 10 "$issuer/test/$1" | node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>{const v=JSON.parse(d);console.log(Array.isArray(v)?v.length:v.count)})'; }
logged() { requests | grep -c "^$1\$" || true; }
checked=""
for check in "discovery-fetch-count|GET /.well-known/openid-configuration" "jwks-fetch-count|GET /jwks" "requests|POST /token"; do
  want="$(counter "${check%%|*}")"
  got="$(logged "${check#*|}")"
  if [ "$want" != "$got" ]; then
    echo "bench-pam: the provider counted $want for /test/${check%%|*}, its request log has $got lines '${check#*|}'" >&2
    exit 1
  fi
  checked+="${checked:+, }${check#*|} $got"
done

echo
echo "rate, latency: median of the rounds (logins 2..N of each process)"
echo "CPU: user+system time per timed login of the PAM host process (all threads; 1000 / host_cpu_ms is"
echo "  logins per CPU-second) and of the provider process"
echo "first: the first login of a process (libsoidc loaded for the first time, as in sshd's process per"
echo "  connection), wall and host CPU ms, median of the rounds"
echo "requests: provider requests per login (all logins)"
printf '%-13s %-5s %10s %9s %9s %11s %11s %8s %9s %9s  %s\n' mode cache logins/s median_ms p90_ms host_cpu_ms prov_cpu_ms first_ms first_cpu requests "by endpoint"
results=()
for mode in pam_permit $modes; do
  caches="cold warm"
  [ "$mode" = pam_permit ] && caches=-
  for cache in $caches; do
    key="$mode $cache"
    rate="$(median <<<"${rates[$key]}")"
    med="$(median <<<"${med_ms[$key]}")"
    p90="$(median <<<"${p90_ms[$key]}")"
    first="$(median <<<"${first_ms[$key]}")"
    fcpu="$(median <<<"${first_cpu[$key]}")"
    cpu="$(awk -v a="${cpu_ms[$key]}" -v m="${timed[$key]}" 'BEGIN { printf "%.3f", a / m }')"
    pcpu="$(awk -v t="${pticks[$key]}" -v n="${logins[$key]}" -v hz="$clk_tck" 'BEGIN { printf "%.2f", t * 1000 / hz / n }')"
    rpl="$(awk -v r="${reqs[$key]}" -v n="${logins[$key]}" 'BEGIN { printf "%.2f", r / n }')"
    by="$(awk -v n="${logins[$key]}" '{ c[$1 " " $2]++ } END {
      s = ""; for (k in c) s = s sprintf("%s%s %.2f", s == "" ? "" : ", ", k, c[k] / n); print (s == "" ? "none" : s) }' \
      "$work/requests-$mode-$cache")"
    printf '%-13s %-5s %10.1f %9s %9s %11s %11s %8s %9s %9s  %s\n' "$mode" "$cache" "$rate" "$med" "$p90" "$cpu" "$pcpu" "$first" "$fcpu" "$rpl" "$by"
    name="pam_${mode//-/_}_$cache"
    [ "$mode" = pam_permit ] && name=pam_permit
    results+=("RESULT ${name}_logins_per_s $rate logins/s"
      "RESULT ${name}_logins_per_host_cpu_s $(awk -v c="$cpu" 'BEGIN { printf "%.0f", 1000 / c }') logins/CPU-s"
      "RESULT ${name}_requests_per_login $rpl requests/login"
      "RESULT ${name}_host_cpu_ms_per_login $cpu ms/login"
      "RESULT ${name}_provider_cpu_ms_per_login $pcpu ms/login"
      "RESULT ${name}_first_login_ms $first ms"
      "RESULT ${name}_first_login_host_cpu_ms $fcpu ms")
  done
done
total=0
for key in "${!logins[@]}"; do total=$((total + ${logins[$key]})); done
echo "all $total logins succeeded; the request log agrees with the provider's counters ($checked in all)"
echo "load average: $load0 -> $load1"
printf '%s\n' "${results[@]}"
echo "RESULT pam_load_before ${load0%% *} load"
echo "RESULT pam_load_after ${load1%% *} load"
