#!/usr/bin/env bash
# Usage: examples/go/run.sh <issuer>
# Builds the Go client-credentials example and runs it against <issuer> (default
# $SOIDC_TEST_ISSUER) with the test provider's conf-basic client, asking for a
# JWT access token for the test API (https://api.soidc.test).
# Needs the library: run `make build` at the repository root first (built with
# -tags soidc_intree: the library of this source tree; without the tag the binding
# uses the installed library through pkg-config).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
issuer="${1:-${SOIDC_TEST_ISSUER:-}}"
if [ -z "$issuer" ]; then
  echo "usage: $0 <issuer>" >&2
  exit 2
fi

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
(cd "$here" && go build -tags soidc_intree -o "$bin/client-credentials" ./cmd/client-credentials)

# The test provider's fixed client (tests/provider/README.md); the secret goes
# through the environment, as for a real deployment.
SOIDC_CLIENT_SECRET="conf-basic-secret-0123456789abcdef" \
  "$bin/client-credentials" -issuer "$issuer" -client-id conf-basic \
  -scope "api:read" -resource "https://api.soidc.test"
