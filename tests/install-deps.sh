#!/usr/bin/env bash
# `make deps` (run first by `make test` and `make demo`): checks what the build and the
# suites need, then installs what it can, quietly and only if missing.
#
#   1. Toolchains it cannot install (Rust, Go, Node.js): each is checked against its
#      minimum version (Rust: rust-version in Cargo.toml; Go: the go line of
#      bindings/go/go.mod; Node.js 20). Everything missing or too old is listed, with how
#      to get it, and the script stops before anything is built.
#   2. Debian packages (compilers, cmake, nginx, PAM headers, valgrind, ...): installed
#      with apt-get, as root or through sudo; without either, the list is printed and the
#      script stops.
#   3. The test provider's pinned npm packages (npm ci in tests/provider).
#
# Usage: tests/install-deps.sh [test|demo]   (default test; demo needs less: no Go tests'
# race detector, valgrind, doxygen, wrk or faketime)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-test}"

problems=()
problem() { problems+=("$1"); }

# version_ge HAVE WANT: true when dotted version HAVE >= WANT.
version_ge() {
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]
}

# --- 1. toolchains -----------------------------------------------------------------------
rust_min="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
go_min="$(sed -n 's/^go \([0-9.]*\)$/\1/p' bindings/go/go.mod | head -1)"
node_min=20

if ! command -v cargo >/dev/null || ! command -v rustc >/dev/null; then
  problem "Rust >= $rust_min (cargo, rustc) is not installed: install it with rustup,
      curl --proto '=https' -sSf https://sh.rustup.rs | sh   (then open a new shell)"
else
  have="$(rustc --version | awk '{print $2}')"
  version_ge "${have%%-*}" "$rust_min" \
    || problem "Rust $have is too old, soidc needs >= $rust_min (rust-version in Cargo.toml): rustup update stable"
fi

if ! command -v go >/dev/null; then
  problem "Go >= $go_min is not installed (the Go binding, its tests and the demo's Go step need it):
      download it from https://go.dev/dl/ (Debian 12's golang package is 1.19, too old)"
else
  have="$(go env GOVERSION 2>/dev/null | sed 's/^go//')"
  version_ge "${have:-0}" "$go_min" \
    || problem "Go ${have:-?} is too old, the Go binding needs >= $go_min (bindings/go/go.mod): https://go.dev/dl/"
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  problem "Node.js >= $node_min with npm is not installed (it runs the test OpenID provider):
      https://nodejs.org/en/download or NodeSource's packages (Debian 12's nodejs is 18, too old)"
else
  have="$(node --version | sed 's/^v//')"
  version_ge "$have" "$node_min" \
    || problem "Node.js $have is too old, the test provider needs >= $node_min: https://nodejs.org/en/download"
fi

if [ ${#problems[@]} -gt 0 ]; then
  echo "make deps: cannot continue, ${#problems[@]} requirement(s) missing (see README.md, Requirements):" >&2
  for p in "${problems[@]}"; do echo "  - $p" >&2; done
  exit 1
fi

# --- 2. Debian packages ------------------------------------------------------------------
# has_pkg PACKAGE: installed according to dpkg.
has_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
need_apt=()
want() { # want PACKAGE [COMMAND]: needed unless the command exists (or the package is installed)
  if [ -n "${2:-}" ]; then command -v "$2" >/dev/null && return 0; fi
  has_pkg "$1" || need_apt+=("$1")
}
want gcc gcc; want g++ g++; want make make; want cmake cmake; want pkg-config pkg-config
want curl curl
want libpam0g-dev; want libqrencode-dev; want nginx; want nginx-dev
if [ "$what" = test ]; then
  want valgrind valgrind; want doxygen doxygen; want wrk wrk; want faketime faketime
  want qrencode qrencode # examples/pam/test: the QR drawing is compared with qrencode(1)
fi
if command -v cmake >/dev/null; then
  have="$(cmake --version | awk 'NR == 1 {print $3}')"
  version_ge "$have" 3.16 || { echo "make deps: cmake $have is too old, the tests need >= 3.16" >&2; exit 1; }
fi

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    echo "make deps: these Debian packages are missing and installing them needs root or sudo:" >&2
    echo "    apt-get install ${need_apt[*]}" >&2
    exit 1
  fi
  echo "install-deps: apt-get install ${need_apt[*]}"
  # Another job may hold the dpkg lock on a shared machine: wait for it.
  ("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
      --no-install-recommends "${need_apt[@]}") >/dev/null
fi

# --- 3. the test provider's npm packages --------------------------------------------------
if [ ! -d tests/provider/node_modules ] || [ tests/provider/package-lock.json -nt tests/provider/node_modules ]; then
  echo "install-deps: npm ci (tests/provider)"
  (cd tests/provider && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch tests/provider/node_modules
fi
