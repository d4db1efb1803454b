#!/usr/bin/env bash
# Builds and runs the C++ example against an OpenID provider.
# Usage: examples/cpp/run.sh [issuer]     (default: $SOIDC_TEST_ISSUER, as set by
#        tests/with-provider.sh, e.g. `tests/with-provider.sh examples/cpp/run.sh`)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
issuer="${1:-${SOIDC_TEST_ISSUER:-}}"
if [ -z "$issuer" ]; then
  echo "usage: $0 <issuer URL>   (or set SOIDC_TEST_ISSUER)" >&2
  exit 2
fi

if [ ! -e "$root/target/release/libsoidc.so.0" ]; then
  make -C "$root" build
fi
make -s -C "$here"
exec "$here/soidc-example" "$issuer"
