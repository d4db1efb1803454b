#!/usr/bin/env bash
# Builds and runs the soidc C++ binding tests (GoogleTest, AddressSanitizer with leak
# checking, UBSan) against the real test OpenID provider, which it starts itself
# through tests/with-provider.sh, after a small program built with -fno-exceptions
# (no_exceptions.cpp). Prints GoogleTest's summary; exits non-zero on failure.
#
# Usage: bindings/cpp/tests/run.sh [gtest arguments, e.g. --gtest_filter=Provider.*]
# Environment: SOIDC_LIBDIR (default target/release), SOIDC_CPP_BUILD_DIR (default
# target/cpp-tests), SOIDC_SANITIZE=0 to build without sanitizers.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
libdir="${SOIDC_LIBDIR:-$root/target/release}"
build="${SOIDC_CPP_BUILD_DIR:-$root/target/cpp-tests}"
sanitize=ON
[ "${SOIDC_SANITIZE:-1}" = "0" ] && sanitize=OFF

# Tools: GoogleTest (Debian's libgtest-dev), CMake and a C++ compiler.
need=()
[ -f /usr/include/gtest/gtest.h ] || need+=(libgtest-dev)
command -v cmake >/dev/null || need+=(cmake)
command -v g++ >/dev/null || need+=(g++)
command -v curl >/dev/null || need+=(curl)
if [ "${#need[@]}" -gt 0 ]; then
  echo "run.sh: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq "${need[@]}") >/dev/null
fi

if [ ! -e "$libdir/libsoidc.so.0" ]; then
  echo "run.sh: $libdir/libsoidc.so.0 is missing; building it with make build"
  make -C "$root" build
fi

cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DSOIDC_LIBDIR="$libdir" \
  -DSOIDC_SANITIZE="$sanitize" >/dev/null
cmake --build "$build" --parallel 2

# LeakSanitizer is part of ASan on Linux; fail on any leak or UB report.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

# The -fno-exceptions program needs no provider.
"$build/soidc_cpp_no_exceptions"

exec "$root/tests/with-provider.sh" "$build/soidc_cpp_tests" --gtest_color=no "$@"
