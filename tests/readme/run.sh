#!/usr/bin/env bash
# `make test-readme`: every fenced code block of README.md must work as shown.
#
# The blocks are extracted from README.md and checked by language:
#   c, cpp   compiled with -Wall -Wextra -Werror and linked against target/release/libsoidc.so
#   go       `go vet` and `go build` in a temporary module that uses the in-tree binding
#   cmake    configured and built in a temporary directory against `make install` in a
#            temporary prefix (the program it links is the README's C block)
#   sh       `bash -n` (syntax); blocks with an id are also run by the test that names it
# Programs that are marked `run` are then run against the real test provider
# (tests/with-provider.sh): they must exit 0 and print nothing on stderr.
#
# Marking blocks. An HTML comment on the line right before the opening fence (invisible
# on GitHub) tells this script how to treat the block:
#
#     <!-- readme-test: KEY[=VALUE] ... -->
#
#   wrap=NAME  the block is a fragment (statements, not a whole program): it is compiled
#              between tests/readme/wrap/NAME.pre and NAME.post, which supply the
#              includes or imports, the enclosing function and the variables the fragment
#              uses (each .pre says which); a C or C++ fragment's #include lines are
#              moved before the wrapper. Anything unmarked must compile on its own.
#   run        run the built program against the test provider; how it is invoked is
#              defined per block kind in run_program below (the wrappers read the issuer
#              from the arguments, the README's C program takes ISSUER and ID_TOKEN).
#   id=NAME    a name another test uses to find the block (tests/install/run.sh runs the
#              shell block id=install-private exactly as written).
# A block in a language this script does not know fails the test, so a new kind of block
# cannot be added to the README unchecked.
#
# Usage: tests/readme/run.sh   (after `make build`; `make test-readme` does both)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
libdir="$root/target/release"
if [ ! -e "$libdir/libsoidc.so.0" ]; then
  echo "readme: $libdir/libsoidc.so(.0) missing; run 'make build' first" >&2
  exit 1
fi

# Inside the provider's lifetime from here on (it exports SOIDC_TEST_ISSUER).
if [ -z "${SOIDC_TEST_ISSUER:-}" ]; then
  exec tests/with-provider.sh "$0" "$@"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pass=0; fail=0
ok() { echo "  ok   $1"; pass=$((pass + 1)); }
bad() { echo "  FAIL $1"; [ -s "$work/log" ] && sed 's/^/       /' "$work/log" | head -40; fail=$((fail + 1)); }

# --- extraction: blocks/N.LANG (the block), blocks/N.meta (the marker, may be empty),
# blocks/N.line (the line of the opening fence in README.md).
mkdir -p "$work/blocks"
awk -v dir="$work/blocks" '
  /^```/ && !inside {
    inside = 1; n++; lang = substr($0, 4); gsub(/[ \t]/, "", lang)
    if (lang == "") lang = "none"
    file = sprintf("%s/%02d.%s", dir, n, lang)
    printf "" > file
    printf "%s", marker > sprintf("%s/%02d.meta", dir, n)
    print NR > sprintf("%s/%02d.line", dir, n)
    marker = ""; next
  }
  /^```/ && inside { inside = 0; close(file); next }
  inside { print > file; next }
  /^<!-- readme-test:.*-->$/ { marker = $0; sub(/^<!-- readme-test: */, "", marker); sub(/ *-->$/, "", marker); next }
  NF { marker = "" }
' README.md

# meta N KEY: prints VALUE for KEY=VALUE, "1" for a bare KEY, nothing when absent.
meta() {
  local word
  for word in $(cat "$work/blocks/$1.meta"); do
    case "$word" in
      "$2") echo 1; return ;;
      "$2"=*) echo "${word#*=}"; return ;;
    esac
  done
}

# source_for N LANG EXT: writes the compilable source (the block, wrapped if marked) to
# $work/bN/main.EXT and prints its path.
source_for() {
  local n="$1" lang="$2" ext="$3" wrap dir="$work/b$1"
  mkdir -p "$dir"
  wrap="$(meta "$n" wrap)"
  if [ -n "$wrap" ]; then
    for part in pre post; do
      if [ ! -f "tests/readme/wrap/$wrap.$part" ]; then
        echo "no tests/readme/wrap/$wrap.$part for block $n" >&2
        return 1
      fi
    done
    # the fragment's #include lines go first, before the wrapper's function
    { grep '^#include' "$work/blocks/$n.$lang" || true
      cat "tests/readme/wrap/$wrap.pre"
      grep -v '^#include' "$work/blocks/$n.$lang" || true
      cat "tests/readme/wrap/$wrap.post"; } >"$dir/main.$ext"
  else
    cp "$work/blocks/$n.$lang" "$dir/main.$ext"
  fi
  echo "$dir/main.$ext"
}

# A token for the README's C program: alice at client conf-basic, with the nonce the
# README's C block expects (the test provider's test-only password grant).
readme_nonce="$(grep -o '\\"nonce\\": \\"[^\\]*' README.md | head -1 | sed 's/.*\\"//')"
client_id=conf-basic
client_secret=conf-basic-secret-0123456789abcdef
id_token="$(curl -sS --max-time 10 -u "$client_id:$client_secret" -d grant_type=password \
  -d username=alice -d password=alice-password --data-urlencode "scope=openid email" \
  --data-urlencode "nonce=$readme_nonce" "$SOIDC_TEST_ISSUER/token" \
  | sed -n 's/.*"id_token":"\([^"]*\)".*/\1/p')"

# run_program N LANG BINARY: runs a built block against the provider.
run_program() {
  local n="$1" lang="$2" bin="$3" status=0
  case "$lang" in
    c)  # the README's C program: CLIENT_ID and CLIENT_SECRET in the environment
      CLIENT_ID="$client_id" CLIENT_SECRET="$client_secret" \
        "$bin" "$SOIDC_TEST_ISSUER" "$id_token" >"$work/run.out" 2>"$work/run.err" || status=$? ;;
    go) # built through pkg-config against the throw-away prefix, which is not in the
        # loader's path (the README says ldconfig for /usr/local, rpath for other prefixes)
      LD_LIBRARY_PATH="$prefix/lib" "$bin" "$SOIDC_TEST_ISSUER" >"$work/run.out" 2>"$work/run.err" || status=$? ;;
    *)  # the wrappers: the issuer as the argument
      "$bin" "$SOIDC_TEST_ISSUER" >"$work/run.out" 2>"$work/run.err" || status=$? ;;
  esac
  { echo "exit status $status"; echo "stdout:"; cat "$work/run.out"; echo "stderr:"; cat "$work/run.err"; } >"$work/log"
  [ "$status" = 0 ] && [ ! -s "$work/run.err" ] && [ -s "$work/run.out" ]
}

# A throw-away prefix laid out as `make install` lays it out (for the CMake block).
prefix="$work/prefix"
make --no-print-directory install PREFIX="$prefix" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log" >&2; exit 1; }

# The Go module the Go blocks are built in: the in-tree binding through a replace line.
# pkg-config finds the library in the throw-away prefix in case the binding is built
# against the installed library (the soidc_pkgconfig tag).
go_env=(env PKG_CONFIG_PATH="$prefix/lib/pkgconfig" LD_LIBRARY_PATH="$prefix/lib" CGO_CFLAGS="-O2 -g -I$prefix/include")

c_program=""   # the README's C program: the CMake block builds it
for file in "$work"/blocks/*; do
  case "$file" in *.meta|*.line) continue ;; esac
  base="$(basename "$file")"; n="${base%%.*}"; lang="${base#*.}"
  line="$(cat "$work/blocks/$n.line")"
  name="README.md:$line $lang block"
  [ -n "$(meta "$n" wrap)" ] && name="$name (fragment, wrap=$(meta "$n" wrap))"
  [ -n "$(meta "$n" id)" ] && name="$name (id=$(meta "$n" id))"
  : >"$work/log"
  built=""
  case "$lang" in
    c)
      src="$(source_for "$n" c c)"
      if cc -std=c11 -Wall -Wextra -Werror -I include "$src" -L "$libdir" -lsoidc \
           -Wl,-rpath,"$libdir" -o "$work/b$n/prog" >"$work/log" 2>&1; then
        ok "$name: compiles and links"; built="$work/b$n/prog"
        # the first complete C program is the one the CMake block builds
        [ -z "$(meta "$n" wrap)" ] && [ -z "$c_program" ] && c_program="$src"
      else bad "$name: compiles and links"; fi ;;
    cpp)
      src="$(source_for "$n" cpp cpp)"
      if g++ -std=c++17 -Wall -Wextra -Werror -pedantic -I include -I bindings/cpp/include "$src" \
           -L "$libdir" -lsoidc -Wl,-rpath,"$libdir" -o "$work/b$n/prog" >"$work/log" 2>&1; then
        ok "$name: compiles and links"; built="$work/b$n/prog"
      else bad "$name: compiles and links"; fi ;;
    go)
      src="$(source_for "$n" go go)"
      cat >"$work/b$n/go.mod" <<EOF
module readme.test/block$n

go 1.24

require github.com/soidc/soidc/bindings/go v0.0.0-00010101000000-000000000000

replace github.com/soidc/soidc/bindings/go => $root/bindings/go
EOF
      if (cd "$work/b$n" && "${go_env[@]}" go vet . && "${go_env[@]}" go build -o prog .) >"$work/log" 2>&1; then
        ok "$name: go vet, go build"; built="$work/b$n/prog"
      else bad "$name: go vet, go build"; fi ;;
    cmake)
      src="$(source_for "$n" cmake txt)"
      mv "$src" "$work/b$n/CMakeLists.txt"
      if [ -z "$c_program" ]; then
        echo "the CMake block builds the README's C program, which must come first" >"$work/log"
        bad "$name: configures and builds"
      else
        cp "$c_program" "$work/b$n/app.c"
        if { cmake -S "$work/b$n" -B "$work/b$n/build" -DCMAKE_PREFIX_PATH="$prefix" \
               -DCMAKE_BUILD_RPATH="$prefix/lib" && cmake --build "$work/b$n/build"; } >"$work/log" 2>&1; then
          ok "$name: configures and builds against the installed package"
          built="$work/b$n/build/app"; lang=c
        else bad "$name: configures and builds against the installed package"; fi
      fi ;;
    sh|bash)
      if bash -n "$file" >"$work/log" 2>&1; then ok "$name: bash -n"; else bad "$name: bash -n"; fi ;;
    *)
      echo "no check for blocks of language \"$lang\" (see the top of tests/readme/run.sh)" >"$work/log"
      bad "$name" ;;
  esac
  if [ -n "$built" ] && [ -n "$(meta "$n" run)" ]; then
    if run_program "$n" "$lang" "$built"; then
      ok "$name: runs against the test provider (prints: $(head -1 "$work/run.out" | cut -c1-50))"
    else bad "$name: runs against the test provider"; fi
  fi
done

[ "$pass" -gt 0 ] || { echo "readme: no code block found in README.md" >&2; exit 1; }
echo "README code blocks: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
