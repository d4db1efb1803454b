#!/usr/bin/env bash
# The fault-injection suite (`make test-fault`): soidc against the real test provider
# (tests/provider) reached THROUGH Toxiproxy, a fault-injecting TCP proxy. The provider's
# issuer is the proxy's address (PROVIDER_ISSUER), so discovery, JWKS and token requests
# all cross the proxy; the tests reach the provider directly only for its /test/* control
# endpoints and to get tokens while the proxy is down.
#
#   1. tests/fault/test_fault.c (ASan+UBSan): latency, a hung connection, reset mid-body,
#      slow trickle, provider down then back, 16 threads against a hung JWKS fetch, keys
#      rotated while the provider flaps. Each case prints its observed bound and counts.
#   2. tests/fault/test_leak.c: 100,000 decodes + 10,000 failed calls in the ASan+LSan
#      build (heap in use measured before/after, LeakSanitizer at exit), then 10,000 +
#      2,000 under valgrind memcheck (~30x slower) (no definite/indirect loss, no error).
#
# Toxiproxy: github.com/Shopify/toxiproxy/v2 at a pinned version, built once with
# `go install` (Go module proxy) into $SOIDC_CACHE_DIR/toxiproxy/<version>
# (default ~/.cache/soidc) and reused from there.
#
# Usage: tests/fault/run.sh [fault|leak|valgrind ...]   (default: all three)
# Env:   SOIDC_LIBDIR (target/release), CC (gcc), SOIDC_FAULT_MARGIN_MS (500),
#        SOIDC_FAULT_VALGRIND=0 skips the valgrind run.
# Build products and logs go to build/tests-fault/. Exit status 0 only if all passed.
set -euo pipefail

TOXIPROXY_VERSION=v2.5.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="$root/build/tests-fault"
mkdir -p "$out"

# ---------------------------------------------------------------------------------------
# Outer run: Toxiproxy, the proxy, then the provider (tests/with-provider.sh) around the
# inner run of this script.
# ---------------------------------------------------------------------------------------
if [ -z "${SOIDC_FAULT_INNER:-}" ]; then
  # Debian packages a fresh machine may lack (install only what is missing).
  need=()
  command -v valgrind >/dev/null || need+=(valgrind)
  command -v curl >/dev/null || need+=(curl)
  command -v gcc >/dev/null || need+=(gcc)
  command -v node >/dev/null || need+=(nodejs npm)
  command -v go >/dev/null || need+=(golang-go)
  if [ ${#need[@]} -gt 0 ]; then
    echo "fault tests: apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    (apt-get -o DPkg::Lock::Timeout=600 update -qq &&
      apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}") >/dev/null
  fi

  cache="${SOIDC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/soidc}/toxiproxy/$TOXIPROXY_VERSION"
  toxiproxy="$cache/toxiproxy-server"
  if [ ! -x "$toxiproxy" ]; then
    echo "fault tests: building Toxiproxy $TOXIPROXY_VERSION into $cache"
    mkdir -p "$cache/gobin"
    GOBIN="$cache/gobin" go install \
      "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION" >"$out/toxiproxy-build.log" 2>&1 || {
      sed 's/^/  /' "$out/toxiproxy-build.log" >&2
      echo "fault tests: go install of Toxiproxy $TOXIPROXY_VERSION failed" >&2
      exit 1
    }
    mv "$cache/gobin/server" "$toxiproxy"
    rmdir "$cache/gobin" 2>/dev/null || true
  fi

  free_port() {
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
  }

  work="$(mktemp -d)"
  toxi_pid=""
  inner_pid=""
  cleanup() {
    if [ -n "$inner_pid" ] && kill -0 "$inner_pid" 2>/dev/null; then
      kill -TERM "$inner_pid" 2>/dev/null || true
      wait "$inner_pid" 2>/dev/null || true
    fi
    if [ -n "$toxi_pid" ] && kill -0 "$toxi_pid" 2>/dev/null; then
      kill -TERM "$toxi_pid" 2>/dev/null || true
      for _ in $(seq 1 30); do kill -0 "$toxi_pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$toxi_pid" 2>/dev/null || true
    fi
    [ -f "$work/toxiproxy.log" ] && cp "$work/toxiproxy.log" "$out/toxiproxy.log"
    rm -rf "$work"
  }
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  api_port="$(free_port)"
  provider_port="$(free_port)"
  LOG_LEVEL=info "$toxiproxy" -host 127.0.0.1 -port "$api_port" >"$work/toxiproxy.log" 2>&1 &
  toxi_pid=$!
  api="http://127.0.0.1:$api_port"
  for _ in $(seq 1 100); do
    curl -sf --max-time 1 "$api/version" >/dev/null 2>&1 && break
    kill -0 "$toxi_pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! curl -sf --max-time 1 "$api/version" >/dev/null 2>&1; then
    echo "fault tests: Toxiproxy did not answer on $api" >&2
    sed 's/^/  toxiproxy: /' "$work/toxiproxy.log" >&2
    exit 1
  fi
  # The proxy listens on a free port (Toxiproxy reports the address it bound).
  created="$(curl -sf --max-time 5 -X POST "$api/proxies" \
    -d "{\"name\":\"provider\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:$provider_port\",\"enabled\":true}")" || {
    echo "fault tests: could not create the Toxiproxy proxy" >&2
    exit 1
  }
  listen="$(printf '%s' "$created" | sed -n 's/.*"listen":"\([0-9.:]*\)".*/\1/p')"
  [ -n "$listen" ] || { echo "fault tests: no listen address in $created" >&2; exit 1; }

  echo "fault tests: Toxiproxy $TOXIPROXY_VERSION (pid $toxi_pid) api $api, proxy $listen -> provider 127.0.0.1:$provider_port"
  status=0
  SOIDC_FAULT_INNER=1 PORT="$provider_port" PROVIDER_ISSUER="http://$listen" \
    SOIDC_FAULT_TOXIPROXY="$api" SOIDC_FAULT_DIRECT="http://127.0.0.1:$provider_port" \
    SOIDC_FAULT_PROXY_LOG="$work/toxiproxy.log" \
    tests/with-provider.sh "$root/tests/fault/run.sh" "$@" &
  inner_pid=$!
  wait "$inner_pid" || status=$?
  inner_pid=""
  exit "$status"
fi

# ---------------------------------------------------------------------------------------
# Inner run (inside the provider's lifetime): build and run the test programs.
# ---------------------------------------------------------------------------------------
libdir="${SOIDC_LIBDIR:-$root/target/release}"
CC="${CC:-gcc}"
warn=(-Wall -Wextra -Werror)
common=(-std=c11 "${warn[@]}" -g -I "$root/include" -I "$root/tests/c" -I "$root/tests/fault")
asan=(-fsanitize=address,undefined -fno-omit-frame-pointer -O1)
ldflags=(-L "$libdir" -lsoidc "-Wl,-rpath,$libdir" -pthread)
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="report_objects=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

if [ ! -e "$libdir/libsoidc.so.0" ]; then
  echo "fault tests: $libdir/libsoidc.so(.0) not found; run \`make build\` first" >&2
  exit 1
fi

# The provider answers through the proxy before anything starts.
curl -sf --max-time 5 "$SOIDC_TEST_ISSUER/.well-known/openid-configuration" >/dev/null || {
  echo "fault tests: the provider does not answer through the proxy at $SOIDC_TEST_ISSUER" >&2
  exit 1
}

current_pid=""
stop_current() {
  if [ -n "$current_pid" ]; then
    kill -TERM "$current_pid" 2>/dev/null || true
    wait "$current_pid" 2>/dev/null || true
  fi
  exit "$1"
}
trap 'stop_current 130' INT
trap 'stop_current 143' TERM

selected=("$@")
wanted() { [ ${#selected[@]} -eq 0 ] || [[ " ${selected[*]} " == *" $1 "* ]]; }
passed=0
failed=0
failed_names=()

# run NAME LOG COMMAND...: runs one test program (5 min limit); its output stays visible.
run() {
  local name="$1" log="$2" status=0 start end
  shift 2
  start=$(date +%s%N)
  # In the background, so that a TERM/INT to this script stops it at once (trap below).
  timeout --kill-after=10 300 "$@" >"$log" 2>&1 &
  current_pid=$!
  wait "$current_pid" 2>/dev/null || status=$?
  current_pid=""
  end=$(date +%s%N)
  sed 's/^/  | /' "$log"
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1)); echo "PASS  $name ($(( (end - start) / 1000000 )) ms)"
  else
    failed=$((failed + 1)); failed_names+=("$name"); echo "FAIL  $name (exit $status, $(( (end - start) / 1000000 )) ms)"
  fi
}

# build NAME SRC OUT FLAGS...: compiles one program; a failure counts as a failed test.
build() {
  local name="$1" src="$2" bin="$3"
  shift 3
  if ! "$CC" "${common[@]}" "$@" "$src" -o "$bin" "${ldflags[@]}" >"$out/$name.build.log" 2>&1; then
    failed=$((failed + 1)); failed_names+=("$name"); echo "FAIL  $name (does not compile)"
    sed 's/^/  | /' "$out/$name.build.log"
    return 1
  fi
}

echo "fault tests: library $libdir, issuer (proxy) $SOIDC_TEST_ISSUER, provider $SOIDC_FAULT_DIRECT"

if wanted fault && build fault tests/fault/test_fault.c "$out/test_fault" "${asan[@]}"; then
  run fault "$out/fault.log" "$out/test_fault"
fi

if wanted leak && build leak tests/fault/test_leak.c "$out/test_leak" "${asan[@]}"; then
  # A small quarantine: ASan's default (256 MB) would make the RSS figure meaningless.
  run "leak (ASan+LSan, 100000 decodes + 10000 failed calls)" "$out/leak.log" \
    env ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=8" "$out/test_leak" 100000 10000
fi

if wanted valgrind && [ "${SOIDC_FAULT_VALGRIND:-1}" != 0 ]; then
  if build valgrind tests/fault/test_leak.c "$out/test_leak_plain" -O1; then
    run "leak (valgrind memcheck, 10000 decodes + 2000 failed calls)" "$out/valgrind.log" \
      valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
      --errors-for-leak-kinds=definite,indirect --track-origins=no \
      "$out/test_leak_plain" 10000 2000
  fi
fi

echo "fault tests: $passed passed, $failed failed${failed_names[*]:+ (${failed_names[*]})}"
[ "$failed" -eq 0 ]
