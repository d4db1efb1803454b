#!/usr/bin/env bash
# The C test suite (`make test-c`): header checks, then every tests/c/test_*.c built
# with AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer included) and run
# against the real test provider with real tokens.
#
# Usage: tests/c/run.sh [NAME...]   run only these (the header checks always run):
#        NAME = a test_NAME.c file (e.g. decode, threads, json_helpers) or "example"
# Env:   SOIDC_LIBDIR       directory with libsoidc.so (default: target/release)
#        SOIDC_TEST_ISSUER  when set, use that running provider instead of starting one
#        SOIDC_C_TSAN=0     skip the extra ThreadSanitizer builds of test_threads and
#                           test_verified_cache
#        CC, CXX            compilers (default gcc, g++)
# Build products go to build/tests-c/. Exit status: 0 only if every test passed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

# Run everything inside the provider's lifetime: tests/with-provider.sh starts it,
# exports SOIDC_TEST_ISSUER, runs this script again and stops the provider afterwards.
if [ -z "${SOIDC_TEST_ISSUER:-}" ]; then
  exec tests/with-provider.sh "$root/tests/c/run.sh" "$@"
fi

libdir="${SOIDC_LIBDIR:-$root/target/release}"
out="$root/build/tests-c"
CC="${CC:-gcc}"
CXX="${CXX:-g++}"
warn=(-Wall -Wextra -Werror)
cflags=(-std=c11 "${warn[@]}" -fsanitize=address,undefined -fno-omit-frame-pointer -g -O1
        -I "$root/include" -I "$root/tests/c")
ldflags=(-L "$libdir" -lsoidc "-Wl,-rpath,$libdir" -pthread)
tsan_cflags=(-std=c11 "${warn[@]}" -fsanitize=thread -g -O1 -I "$root/include" -I "$root/tests/c")

# Sanitizers: any finding aborts the test (non-zero exit). No suppressions.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="report_objects=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1"

if [ ! -e "$libdir/libsoidc.so" ]; then
  echo "run.sh: $libdir/libsoidc.so not found; run \`make build\` first" >&2
  exit 1
fi
if [ ! -e "$libdir/libsoidc.so.0" ]; then
  # The library's SONAME is libsoidc.so.0; `make build` creates that symlink.
  echo "run.sh: $libdir/libsoidc.so.0 (the SONAME symlink) not found; run \`make build\` first" >&2
  exit 1
fi

mkdir -p "$out"
passed=0
failed=0
failed_names=()

# result NAME STATUS LOGFILE DETAIL: prints the summary line of one test.
result() {
  local name="$1" status="$2" log="$3" detail="$4"
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    printf 'PASS  %-22s %s\n' "$name" "$detail"
  else
    failed=$((failed + 1))
    failed_names+=("$name")
    printf 'FAIL  %-22s %s\n' "$name" "$detail"
    sed 's/^/      | /' "$log"
  fi
}

# check NAME COMMAND...: runs a build/check step, logging its output.
check() {
  local name="$1"; shift
  local log="$out/$name.log" status=0
  "$@" >"$log" 2>&1 || status=$?
  result "$name" "$status" "$log" ""
  return 0
}

# run_test NAME BINARY: runs one test program with a time limit.
run_test() {
  local name="$1" bin="$2"
  local log="$out/$name.log" status=0 start end
  start=$(date +%s%N)
  # The subshell keeps bash's own "Aborted" notice (a sanitizer aborts) off the terminal.
  ( timeout --kill-after=10 300 "$bin" >"$log" 2>&1; exit $? ) 2>/dev/null || status=$?
  end=$(date +%s%N)
  local checks how=""
  checks="$(sed -n 's/^\([0-9]* checks, [0-9]* failed\)$/\1/p' "$log" | tail -n1)"
  if [ "$status" -eq 124 ]; then how="timed out after 300 s; "
  elif [ "$status" -gt 128 ]; then how="killed by SIG$(kill -l $((status - 128)) 2>/dev/null || echo $((status - 128))); "
  elif [ "$status" -ne 0 ]; then how="exit $status; "
  fi
  result "$name" "$status" "$log" "(${checks:-no summary}; $how$(( (end - start) / 1000000 )) ms)"
}

# wanted NAME: whether NAME was selected on the command line (no selection: all).
selected=("$@")
wanted() {
  [ ${#selected[@]} -eq 0 ] || [[ " ${selected[*]} " == *" $1 "* ]]
}

echo "C tests: library $libdir, provider $SOIDC_TEST_ISSUER"

# 1. The header alone compiles as C11 and as C++17, and its extern "C" guards link.
printf '#include "soidc.h"\n' >"$out/header_only.c"
check header-c11 "$CC" -std=c11 "${warn[@]}" -pedantic -fsyntax-only -I "$root/include" "$out/header_only.c"
header_cxx() {
  "$CXX" -std=c++17 "${warn[@]}" -pedantic -I "$root/include" "$root/tests/c/header_check.cpp" \
    -L "$libdir" -lsoidc "-Wl,-rpath,$libdir" -o "$out/header_check" && "$out/header_check"
}
check header-c++17 header_cxx

# 2. Real tokens from the provider (test-only password grant).
tokens_log="$out/fetch-tokens.log"
if ! tokens="$(tests/c/fetch-tokens.sh 2>"$tokens_log")"; then
  result fetch-tokens 1 "$tokens_log" "(no tokens: the remaining tests cannot run)"
  echo "C tests: $passed passed, $failed failed (fetch-tokens)"
  exit 1
fi
eval "$tokens"
# A DPoP-bound token and proofs for test_dpop.c (node's crypto, not soidc).
if wanted dpop || wanted verified_cache; then
  dpop_log="$out/dpop-token.log"
  if dpop_env="$(node tests/c/dpop-token.mjs 2>"$dpop_log")"; then
    eval "$dpop_env"
  else
    result dpop-token 1 "$dpop_log" "(no DPoP-bound token: test_dpop cannot run)"
  fi
fi

# Tokens of a test-only issuer for test_verified_cache.c (node's crypto, tests/keys), made
# right before each run of it: one of them expires 5 s later, while the test holds it.
vcache_tokens() {
  local vc_log="$out/vcache-tokens.log" vc_env
  if vc_env="$(node tests/c/vcache-tokens.mjs 2>"$vc_log")"; then
    eval "$vc_env"
  else
    result vcache-tokens 1 "$vc_log" "(no tokens: test_verified_cache cannot run)"
  fi
}

# 3. Each test_*.c: build with ASan+UBSan, run.
for src in tests/c/test_*.c; do
  name="$(basename "$src" .c)"
  name="${name#test_}"
  wanted "$name" || continue
  bin="$out/test_$name"
  log="$out/$name.build.log"
  if ! "$CC" "${cflags[@]}" "$src" -o "$bin" "${ldflags[@]}" >"$log" 2>&1; then
    result "$name" 1 "$log" "(does not compile)"
    continue
  fi
  [ "$name" = verified_cache ] && vcache_tokens
  run_test "$name" "$bin"

  # The thread tests once more under ThreadSanitizer.
  if { [ "$name" = threads ] || [ "$name" = verified_cache ]; } && [ "${SOIDC_C_TSAN:-1}" != 0 ]; then
    log="$out/$name-tsan.build.log"
    if ! "$CC" "${tsan_cflags[@]}" "$src" -o "$bin-tsan" "${ldflags[@]}" >"$log" 2>&1; then
      result "$name-tsan" 1 "$log" "(does not compile)"
    else
      [ "$name" = verified_cache ] && vcache_tokens
      run_test "$name-tsan" "$bin-tsan"
    fi
  fi
done

# 4. The C example (examples/c) builds warning-free and works, under the sanitizers.
if wanted example; then
  example() {
    "$CC" "${cflags[@]}" -pedantic "$root/examples/c/discover_and_decode.c" \
      -o "$out/discover_and_decode" "${ldflags[@]}" || return 1
    SOIDC_ISSUER="$SOIDC_TEST_ISSUER" SOIDC_CLIENT_ID="$SOIDC_TEST_CLIENT_ID" \
      SOIDC_CLIENT_SECRET="$SOIDC_TEST_CLIENT_SECRET" SOIDC_ID_TOKEN="$SOIDC_TEST_ID_TOKEN" \
      SOIDC_NONCE="$SOIDC_TEST_NONCE" "$out/discover_and_decode" || return 1
    grep -q 'the user is "alice"' "$out/example.log" # its output, written by check()
  }
  check example example
fi

echo "C tests: $passed passed, $failed failed${failed_names[*]:+ (${failed_names[*]})}"
[ "$failed" -eq 0 ]
