#!/usr/bin/env bash
# `make bench`: soidc against the crypto limit and against its peers, on identical tokens,
# in one run. A benchmark, not a test: it prints one markdown table (also written to
# bench/results/latest.md) and exits 0 whatever the figures are; it fails only when
# something cannot be built or run, or a token is rejected where it must be accepted.
#
# Usage: bench/run.sh [--profile]
#   --profile   instead of the figures: the C decode bench under valgrind's callgrind
#               (RS256, ES256, EdDSA, access token: bench/results/profile-*.txt, instructions)
#               and, where perf works, sampled natively (RS256, EdDSA decode and the client
#               credentials loop: bench/results/profile-native-*.txt, cost categories)
# Env:   BENCH_ROUNDS (5)  rounds; every figure is measured once per round, medians reported
#        BENCH_SECS (1)    seconds per timed run
#        BENCH_NGINX (1)   0 leaves out examples/nginx/test/bench.sh (wrk against nginx)
#        BENCH_NGINX_DURATION  its BENCH_DURATION per wrk run (default 3 x BENCH_SECS, >= 1 s);
#                          its rounds (and the PAM script's): BENCH_ROUNDS, at most 3
#        BENCH_PAM (1)     0 leaves out examples/pam/test/bench.sh (PAM logins per second)
#        BENCH_CLIENTS (1000)  client handles for the RSS-per-handle figure
#        SOIDC_LIBDIR      directory with libsoidc.so (default: target/release, built here)
#
# Everything it installs stays under bench/ (git-ignored): bench/.venv (PyPI),
# bench/node/node_modules (npm ci), bench/rust/target (cargo), bench/go/go-bench, bench/.build.
# wrk comes from Debian (apt-get) when missing; without it that one row is left out.
set -euo pipefail

started=$(date +%s)
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$bench/.." && pwd)"
cd "$bench"

ROUNDS="${BENCH_ROUNDS:-5}"
SECS="${BENCH_SECS:-1}"
CLIENTS="${BENCH_CLIENTS:-1000}"
PROFILE=0
[ "${1:-}" = "--profile" ] && PROFILE=1
libdir="${SOIDC_LIBDIR:-$root/target/release}"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"

say() { printf '[bench] %s\n' "$*" >&2; }
step_log="$(mktemp)"
# Runs a set-up step quietly; shows its output only if it fails.
quiet() {
  if ! "$@" >"$step_log" 2>&1; then
    cat "$step_log" >&2
    say "failed: $*"
    exit 1
  fi
}

# ------------------------------------------------------------------ install and build
say "installing peers and building (first run: several minutes, mostly aws-lc-sys)"
if ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk (Debian)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; } >"$step_log" 2>&1 \
    || say "wrk could not be installed; its reference row is left out"
fi
if [ "$PROFILE" = 1 ] && ! command -v valgrind >/dev/null 2>&1; then
  quiet bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind'
fi

if [ ! -x .venv/bin/python ] || [ python/requirements.lock -nt .venv/.installed ]; then
  say "pip: simple_openid_connect (bench/.venv)"
  rm -rf .venv
  quiet python3 -m venv .venv
  quiet .venv/bin/pip install --quiet --disable-pip-version-check -r python/requirements.lock
  touch .venv/.installed
fi
if [ ! -d node/node_modules ] || [ node/package-lock.json -nt node/node_modules ]; then
  say "npm ci: jose (bench/node)"
  quiet bash -c 'cd node && npm ci --no-audit --no-fund --silent && touch node_modules'
fi
say "go: go-oidc (bench/go)"
quiet bash -c 'cd go && go mod download && go build -o go-bench .'
say "cargo: bench/rust (aws-lc-rs, openidconnect, ureq)"
quiet cargo build --release --locked --quiet --manifest-path rust/Cargo.toml
B="$bench/rust/target/release/soidc-bench"
if [ -z "${SOIDC_LIBDIR:-}" ]; then
  say "make build: libsoidc"
  quiet make -C "$root" --no-print-directory build
fi
[ -e "$libdir/libsoidc.so" ] || { say "$libdir/libsoidc.so not found"; exit 1; }
mkdir -p .build results
limitdir="$bench/rust/target/release"
quiet gcc -O2 -g -std=c11 -Wall -Wextra -Werror -I "$root/include" c/decode_bench.c -o .build/decode_bench \
  -L "$libdir" -lsoidc "-Wl,-rpath,$libdir" -L "$limitdir" -lsoidc_bench_limit "-Wl,-rpath,$limitdir" -pthread
C="$bench/.build/decode_bench"

# ------------------------------------------------------------------ tokens and the stub server
work="$(mktemp -d /tmp/soidc-bench.XXXXXX)"
server_pid=""
cleanup() {
  exec 9>&- 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work" "$step_log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "signing the benchmark tokens with tests/keys/stub-* into $work"
"$B" gen "$root/tests/keys" "$work"
# The stub server (keep-alive; /jwks.json, /token, /stats) lives as long as fd 9 is open.
mkfifo "$work/hold"
"$B" serve "$work" <"$work/hold" &
server_pid=$!
exec 9>"$work/hold"
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port="$(cat "$work/port")"
issuer="$(sed -n 's/.*"issuer": "\(.*\)".*/\1/p' "$work/params.json")"
cat >"$work/metadata.json" <<EOF
{
  "issuer": "$issuer",
  "authorization_endpoint": "$issuer/auth",
  "token_endpoint": "http://127.0.0.1:$port/token",
  "userinfo_endpoint": "$issuer/userinfo",
  "jwks_uri": "http://127.0.0.1:$port/jwks.json",
  "response_types_supported": ["code"],
  "subject_types_supported": ["public"],
  "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
  "token_endpoint_auth_methods_supported": ["client_secret_basic"],
  "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
  "scopes_supported": ["openid", "profile", "email", "api:read"],
  "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "email", "name"]
}
EOF

if [ "$PROFILE" = 1 ]; then
  for what in RS256 ES256 EdDSA at; do
    say "callgrind: 2000 decodes of $what"
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.$what" "$C" profile "$work" "$what" 2000 \
      >/dev/null 2>"$work/cg.$what.log" || { cat "$work/cg.$what.log" >&2; exit 1; }
    callgrind_annotate --inclusive=yes "$work/cg.$what" >"$work/incl.txt" 2>/dev/null
    callgrind_annotate "$work/cg.$what" >"$work/self.txt" 2>/dev/null
    { echo "2000 decodes (+1 warm-up that fetches the JWKS); Ir = instructions (valgrind's CPU model:"
      echo "no AVX-512, so aws-lc takes other code paths than on the bare machine)"
      echo; echo "=== inclusive ==="; sed -n '/^Ir/,$p' "$work/incl.txt" | awk 'NR <= 90'
      echo; echo "=== self ==="; sed -n '/^Ir/,$p' "$work/self.txt" | awk 'NR <= 60'; } >"results/profile-$what.txt"
    say "wrote bench/results/profile-$what.txt"
  done
  # Natively (valgrind lacks AVX-512, so its instruction mix is not the machine's): perf's
  # cpu-clock sampling of the same decode loop, and of the client credentials loop.
  if command -v perf >/dev/null 2>&1 && perf record -q -e cpu-clock -o "$work/probe.data" true >/dev/null 2>&1; then
    for what in RS256 EdDSA cc; do
      say "perf (native): $what"
      if [ "$what" = cc ]; then cmd=("$C" cc "$work" 3); else cmd=("$C" profile "$work" "$what" 60000); fi
      perf record -q -e cpu-clock -F 4999 -o "$work/perf.$what" "${cmd[@]}" >/dev/null 2>&1
      perf report -i "$work/perf.$what" --no-children --sort dso,symbol --stdio -g none 2>/dev/null \
        | python3 perf_summary.py >"results/profile-native-$what.txt"
      say "wrote bench/results/profile-native-$what.txt"
    done
  else
    say "perf is not usable here; native profiles skipped"
  fi
  exit 0
fi

# ------------------------------------------------------------------ measure
results="$work/results.txt"
: >"$results"
# run CMD...: keeps the figure lines; stderr (a peer saying why it rejects a token) is kept
# for the report, and shown if the command fails.
run() {
  if ! "$@" 2>>"$work/stderr.txt" | grep '^R ' >>"$results"; then
    tail -20 "$work/stderr.txt" >&2
    say "failed: $*"
    exit 1
  fi
}

say "checks once: zero network calls on cached decodes, RSS per client handle"
run "$C" nettest "$work" 2500
run "$C" footprint "$work" "$CLIENTS"

wrk_lua="$work/post.lua"
secret="$(sed -n 's/.*"client_secret": "\(.*\)".*/\1/p' "$work/params.json")"
client_id="$(sed -n 's/.*"client_id": "\(.*\)".*/\1/p' "$work/params.json")"
basic="$(printf '%s:%s' "$client_id" "$secret" | base64 -w0)"
cat >"$wrk_lua" <<EOF
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=api%3Aread"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $basic"
wrk.headers["Accept"] = "application/json"
EOF

# Rounds interleave every implementation, so that load drifting on a shared machine
# hits all of them alike; each figure is the median over the rounds.
for r in $(seq "$ROUNDS"); do
  say "round $r/$ROUNDS (load $(cut -d' ' -f1 /proc/loadavg))"
  run "$C" decode "$work" "$SECS"      # soidc and the limit, in alternating slices
  run "$B" raw "$work" "$SECS" 1        # cross-check: the limit in a Rust process of its own
  run "$B" openidconnect "$work" "$SECS"
  run "$bench/go/go-bench" "$work" "$SECS"
  run node node/bench.mjs "$work" "$SECS"
  run .venv/bin/python python/bench.py "$work" "$SECS"
  run "$C" cc "$work" "$SECS"
  run "$B" ureq "http://127.0.0.1:$port/token" "$SECS"
  run "$B" ureq-timeout "http://127.0.0.1:$port/token" "$SECS"
  run "$B" ureq-timeout-resolver "http://127.0.0.1:$port/token" "$SECS"
  if command -v wrk >/dev/null 2>&1; then
    run "$B" wrk "http://127.0.0.1:$port/token" "$SECS" "$wrk_lua"
  fi
done

# ------------------------------------------------------------------ nginx and PAM
# Their own scripts start the real test provider (tests/provider) and print human-readable
# lines plus machine-readable `RESULT <name> <value> [unit]` lines; report.py turns them into
# rows (bench/report.py NGINX_* / PAM_* say which names it judges). Their output goes to
# $work/{nginx,pam}.txt; a script that fails or is missing gives a row saying so, never a
# silently missing row.
# run_part NAME SCRIPT [VAR=VALUE...]: runs SCRIPT with the variables, records the status.
run_part() {
  local name="$1" script="$2"; shift 2
  local t0; t0=$(date +%s)
  if [ ! -x "$script" ]; then
    echo "R part.$name.missing 1" >>"$results"
    say "$name: ${script#"$root"/} is not on this commit; its rows say so"
    return
  fi
  say "$name: ${script#"$root"/} $* (load $(cut -d' ' -f1 /proc/loadavg))"
  local rc=0
  env "$@" "$script" >"$work/$name.txt" 2>"$work/$name.err" || rc=$?
  echo "R part.$name.status $rc" >>"$results"
  echo "R part.$name.secs $(( $(date +%s) - t0 ))" >>"$results"
  if [ "$rc" != 0 ]; then
    tail -5 "$work/$name.err" >&2
    say "$name: ${script#"$root"/} exited with $rc; its rows say so"
  fi
}
part_rounds=$(( ROUNDS < 3 ? ROUNDS : 3 ))
if [ "${BENCH_NGINX:-1}" = 1 ]; then
  # bench.sh: per round, 8 wrk runs of BENCH_DURATION each (one nginx worker per instance).
  run_part nginx "$root/examples/nginx/test/bench.sh" \
    "BENCH_DURATION=${BENCH_NGINX_DURATION:-$(awk -v s="$SECS" 'BEGIN { d = int(s * 3 + 0.5); print (d < 1 ? 1 : d) "s" }')}" \
    "BENCH_NGINX_ROUNDS=$part_rounds"
fi
if [ "${BENCH_PAM:-1}" = 1 ]; then
  # bench.sh: per round, 7 cases of at most PAM_BENCH_SECS each.
  run_part pam "$root/examples/pam/test/bench.sh" "PAM_BENCH_ROUNDS=$part_rounds" "PAM_BENCH_SECS=$SECS" \
    "SOIDC_LIBDIR=$libdir"
fi

strip -o "$work/libsoidc.stripped.so" "$libdir/libsoidc.so"
echo "R footprint.so_bytes $(stat -c %s "$work/libsoidc.stripped.so")" >>"$results"
echo "R footprint.so_unstripped_bytes $(stat -c %s "$libdir/libsoidc.so")" >>"$results"
echo "R net.token_response_bytes $(stat -c %s "$work/token-response.json")" >>"$results"
for a in RS256 ES256 EdDSA; do echo "R token_bytes.$a $(stat -c %s "$work/$a.jwt")" >>"$results"; done
echo "R token_bytes.at $(stat -c %s "$work/at.jwt")" >>"$results"

# ------------------------------------------------------------------ report
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ] && commit="$commit (+ uncommitted changes)"
# The raw figures and the report's inputs are kept in bench/.build/last-run (git-ignored), so
# that a change to report.py can be seen on the last run's figures without measuring again:
#   (cd bench && set -a && . .build/last-run/env && python3 report.py .build/last-run/results.txt .build/last-run/stderr.txt)
last="$bench/.build/last-run"
rm -rf "$last" && mkdir -p "$last"
for f in results.txt stderr.txt nginx.txt nginx.err pam.txt pam.err; do
  if [ -e "$work/$f" ]; then cp "$work/$f" "$last/$f"; fi
done
{
  printf 'BENCH_DATE=%q\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
  printf 'BENCH_COMMIT=%q\n' "$commit"
  printf 'BENCH_NPROC=%q\n' "$(nproc)"
  printf 'BENCH_CPU=%q\n' "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  printf 'BENCH_LOAD_START=%q\n' "$load_start"
  printf 'BENCH_LOAD_END=%q\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'BENCH_ROUNDS=%q\nBENCH_SECS=%q\n' "$ROUNDS" "$SECS"
  printf 'BENCH_WALL_S=%q\n' "$(( $(date +%s) - started ))"
  printf 'BENCH_VERSIONS=%q\n' "rustc $(rustc --version | cut -d' ' -f2), $(go version | cut -d' ' -f3), node $(node --version), Python $(.venv/bin/python -c 'import platform; print(platform.python_version())')"
  printf 'BENCH_NGINX_OUT=%q\nBENCH_NGINX_ERR=%q\n' "$last/nginx.txt" "$last/nginx.err"
  printf 'BENCH_PAM_OUT=%q\nBENCH_PAM_ERR=%q\n' "$last/pam.txt" "$last/pam.err"
} >"$last/env"
(set -a && . "$last/env" && python3 report.py "$last/results.txt" "$last/stderr.txt") >"results/latest.md"
cat results/latest.md
say "written to bench/results/latest.md; run took $(( $(date +%s) - started )) s"
