#!/usr/bin/env bash
# The Go binding against a real Keycloak: go test -race -tags keycloak -run '^TestKeycloak'
# (bindings/go/keycloak_test.go). Run by tests/keycloak/run.sh while Keycloak is up
# (SOIDC_KC_ISSUER and SOIDC_KC_BCL_PORT set); needs `make build` first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
: "${SOIDC_KC_ISSUER:?run inside tests/keycloak/run.sh}"
[ -e "$root/target/release/libsoidc.so" ] || { echo "keycloak-tests.sh: run 'make build' first" >&2; exit 1; }
cd "$here"
# The in-tree build: whatever build tag cgo.go attaches to the cgo flags naming this
# source tree (none when the in-tree build is the default).
tags=keycloak
intree="$(sed -n 's/^#cgo \([A-Za-z0-9_]*\) CFLAGS: -I\${SRCDIR}.*/\1/p' cgo.go | head -1)"
[ -n "$intree" ] && tags="$tags,$intree"
export CGO_ENABLED=1
go vet -tags "$tags" ./...
go test -count=1 -race -v -tags "$tags" -run '^TestKeycloak' ./... 2>&1 | grep -vE '^=== (RUN|PAUSE|CONT)'
exit "${PIPESTATUS[0]}"
