#!/usr/bin/env bash
# Tests of the Go binding (bindings/go) and the Go examples (examples/go), run by
# `make test-go` after `make build`:
#   gofmt -l (must print nothing), go vet, go test -race, go test -race -tags debug
#   (the debug tag forces a GC in every C call, so a missing KeepAlive crashes),
# for bindings/go, bindings/go/soidcoauth2 (the x/oauth2 adapter, a module of its
# own) and examples/go, all with -tags soidc_intree (the library of this
# source tree), then a build and short run without tags, as a `go get` user builds
# (the library found by pkg-config); all inside tests/with-provider.sh (the test
# OpenID provider).
# Exits non-zero on the first failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if [ "${1:-}" != "--with-provider" ]; then
  if [ ! -e "$root/target/release/libsoidc.so" ]; then
    echo "run-tests.sh: $root/target/release/libsoidc.so is missing; run 'make build' first" >&2
    exit 1
  fi
  exec "$root/tests/with-provider.sh" "$here/run-tests.sh" --with-provider
fi

# Provider tests fail rather than skip when the provider is missing.
export SOIDC_REQUIRE_PROVIDER=1
export CGO_ENABLED=1

step() { printf '\n== %s\n' "$*"; }

# gotest ARGS...: go test -count=1 -v ARGS ./... with its summary lines and the
# number of tests; the whole output when something fails. (-count=1: the test
# binary does not change when libsoidc.so does, so a cached result could hide a
# library change.)
gotest() {
  local log status=0
  log="$(mktemp)"
  go test -count=1 -v "$@" ./... >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    grep -vE '^=== (RUN|PAUSE|CONT)' "$log" || true
    rm -f "$log"
    return "$status"
  fi
  grep -E '^(ok|FAIL|\?) ' "$log" || true
  echo "tests: $(grep -cE '^ *--- PASS' "$log" || true) passed (subtests included), $(grep -cE '^ *--- SKIP' "$log" || true) skipped"
  rm -f "$log"
}

for module in "$root/bindings/go" "$root/bindings/go/soidcoauth2" "$root/examples/go"; do
  cd "$module"
  name="${module#"$root"/}"

  step "$name: gofmt -l"
  unformatted="$(gofmt -l .)"
  if [ -n "$unformatted" ]; then
    echo "not gofmt-formatted:" >&2
    echo "$unformatted" >&2
    exit 1
  fi
  echo "ok"

  step "$name: go vet -tags soidc_intree ./..."
  go vet -tags soidc_intree ./...
  echo "ok"

  step "$name: go test -race -tags soidc_intree ./..."
  gotest -race -tags soidc_intree

  step "$name: go test -race -tags soidc_intree,debug ./..."
  gotest -race -tags soidc_intree,debug
done

# The default build (no tag: the installed library through pkg-config): a throw-away prefix laid
# out as `make install` does (symlinks into this tree), with soidc.pc made from
# the real template pkg/soidc.pc.in. No rpath then: LD_LIBRARY_PATH finds the library.
step "bindings/go: go vet and go test without tags (library found by pkg-config)"
prefix="$(mktemp -d)"
trap 'rm -rf "$prefix"' EXIT
mkdir -p "$prefix/lib/pkgconfig" "$prefix/include"
ln -s "$root/target/release/libsoidc.so" "$prefix/lib/libsoidc.so"
ln -s "$root/target/release/libsoidc.so" "$prefix/lib/libsoidc.so.0"
ln -s "$root/include/soidc.h" "$prefix/include/soidc.h"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" -e "s|@LIBS_PRIVATE@||" \
  "$root/pkg/soidc.pc.in" >"$prefix/lib/pkgconfig/soidc.pc"
(
  cd "$root/bindings/go"
  export PKG_CONFIG_PATH="$prefix/lib/pkgconfig" LD_LIBRARY_PATH="$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # Go's build cache keys cgo packages on CGO_CFLAGS but not on pkg-config's output:
  # naming this prefix there keeps a build against an earlier prefix from being reused.
  export CGO_CFLAGS="-O2 -g -I$prefix/include"
  go vet ./...
  go test -count=1 -run 'TestVersion|TestDiscovery|TestDecodeAccessToken' ./...
)

# The static build (-tags soidc_static, libsoidc.a) for single-binary deployment:
# the client-credentials example built from this tree's libsoidc.a, and as a user
# of an installed prefix builds it (libsoidc.a found through CGO_LDFLAGS, the header
# through CGO_CFLAGS); each binary must not need libsoidc.so (ldd) and must get
# and validate a token at the provider.
step "static build (-tags soidc_static): binaries without libsoidc.so"
ln -s "$root/target/release/libsoidc.a" "$prefix/lib/libsoidc.a"
(
  cd "$root/examples/go"
  bin="$prefix/bin"
  mkdir -p "$bin"
  go build -tags soidc_intree,soidc_static -o "$bin/intree-static" ./cmd/client-credentials
  CGO_CFLAGS="-O2 -g -I$prefix/include" CGO_LDFLAGS="-L$prefix/lib" \
    go build -tags soidc_static -o "$bin/installed-static" ./cmd/client-credentials
  for b in intree-static installed-static; do
    if ldd "$bin/$b" | grep -q libsoidc; then
      echo "$b needs libsoidc.so:" >&2
      ldd "$bin/$b" >&2
      exit 1
    fi
    echo "$b: $(du -h "$bin/$b" | cut -f1), needs: $(ldd "$bin/$b" | awk '{print $1}' | grep -v vdso | tr '\n' ' ')"
    SOIDC_CLIENT_SECRET="conf-basic-secret-0123456789abcdef" \
      "$bin/$b" -issuer "$SOIDC_TEST_ISSUER" -client-id conf-basic -scope "api:read" -resource "https://api.soidc.test" >/dev/null
    echo "$b: token obtained and validated"
  done
)
(
  cd "$root/bindings/go"
  go test -count=1 -tags soidc_intree,soidc_static -run 'TestVersion|TestDecodeAccessToken' .
)

step "Go binding and examples: all checks passed"
