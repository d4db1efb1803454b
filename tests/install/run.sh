#!/usr/bin/env bash
# Installs soidc into a temporary prefix and links it the three documented ways
# (pkg-config shared and static, CMake find_package, Go through pkg-config), plus C++ with
# soidc.hpp; each program runs against the real provider. Also checks the exported symbol
# list, DESTDIR staging and that `make uninstall` removes exactly what was installed,
# and runs the README's private-prefix lines exactly as written (tests/readme/block.sh).
#
# PKG_CONFIG_PATH is set for the pkg-config, compiler and go commands only, never
# exported: cargo (run by every `make install`) would see a changed environment, and the
# crypto library's build script, which tracks it, would rebuild (about a minute), here
# and again at the next plain `make build`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
pass=0; fail=0
check() { # name, command...
  local name="$1"; shift
  if "$@" >"$work/out.txt" 2>&1; then echo "  ok   $name"; pass=$((pass+1));
  else echo "  FAIL $name"; sed 's/^/       /' "$work/out.txt"; fail=$((fail+1)); fi
}

make --no-print-directory install PREFIX="$prefix" >/dev/null
pc_path="$prefix/lib/pkgconfig"
pkgconf() { PKG_CONFIG_PATH="$pc_path" pkg-config "$@"; }
echo "install: $(cd "$prefix" && find . -type f -o -type l | sort | tr '\n' ' ')"
echo "pkg-config --static --libs soidc: $(pkgconf --static --libs soidc)"

check "SONAME links" bash -c "test \"\$(readlink '$prefix/lib/libsoidc.so')\" = libsoidc.so.0 && test -f '$prefix/lib/libsoidc.so.0' && readelf -d '$prefix/lib/libsoidc.so.0' | grep -q 'SONAME.*libsoidc.so.0'"
check "exported symbols are exactly the header's functions" bash -c "
  diff <(nm -D --defined-only '$prefix/lib/libsoidc.so' | awk '{print \$3}' | sort) \
       <(grep -E '^[a-z_]+[ *]+([a-z_]+[ *]+)?soidc_[a-z0-9_]+\\(' include/soidc.h | grep -oE 'soidc_[a-z0-9_]+\\(' | tr -d '(' | sort -u)"

cc -std=c11 -Wall -Wextra -Werror tests/install/consumer.c $(pkgconf --cflags --libs soidc) \
   -Wl,-rpath,"$prefix/lib" -o "$work/consumer_shared"
cc -std=c11 -Wall -Wextra -Werror tests/install/consumer.c $(pkgconf --cflags soidc) \
   "$prefix/lib/libsoidc.a" $(pkgconf --static --libs-only-l soidc | sed 's/-lsoidc//') -o "$work/consumer_static"
check "static binary does not need libsoidc.so" bash -c "! ldd '$work/consumer_static' | grep -q libsoidc"
cmake -S tests/install/cmake -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_RPATH="$prefix/lib" >/dev/null
cmake --build "$work/cmake" >/dev/null
have_cpp=0
if [ -f "$prefix/include/soidc.hpp" ]; then
  g++ -std=c++17 -Wall -Wextra -Werror -pedantic tests/install/consumer.cpp \
      $(pkgconf --cflags --libs soidc) -Wl,-rpath,"$prefix/lib" -o "$work/consumer_cpp"
  have_cpp=1
fi

cat > "$work/run-linked.sh" <<INNER
#!/usr/bin/env bash
set -u
rc=0
for prog in "$work/consumer_shared" "$work/consumer_static" "$work/cmake/consumer" "$work/cmake/consumer_static"; do
  echo "== \$(basename "\$(dirname "\$prog")")/\$(basename "\$prog")"; "\$prog" || rc=1
done
if [ $have_cpp = 1 ]; then echo "== consumer_cpp"; "$work/consumer_cpp" || rc=1; fi
if [ -d "$root/examples/go" ]; then
  echo "== go (no build tag: the installed library through pkg-config)"
  # Go's build cache keys cgo packages on CGO_CFLAGS but not on what pkg-config prints:
  # naming the prefix there keeps a package built against another prefix from being reused.
  (cd "$root/examples/go" && LD_LIBRARY_PATH="$prefix/lib" PKG_CONFIG_PATH="$pc_path" CGO_CFLAGS="-O2 -g -I$prefix/include" \
     SOIDC_CLIENT_SECRET=conf-basic-secret-0123456789abcdef \
     go run ./cmd/client-credentials -issuer "\$SOIDC_TEST_ISSUER" -client-id conf-basic -scope api:read >/dev/null) && echo "ok: Go through pkg-config" || rc=1
fi
exit \$rc
INNER
chmod +x "$work/run-linked.sh"
check "programs linked against the installed library run against the provider" tests/with-provider.sh "$work/run-linked.sh"
cat "$work/out.txt" | sed 's/^/       /'

# The README's lines for a private prefix, exactly as written, in an empty directory
# with the README's C program as app.c and $HOME in the work directory; `make` is run at
# the repository root (the README's reader runs it there). Then the failure the README
# warns about: linked the same way without the rpath, the program cannot find
# libsoidc.so.0 (the prefix is not in the loader's cache).
mkdir -p "$work/readme" "$work/home"
tests/readme/block.sh lang=c >"$work/readme/app.c"
{
  echo 'set -euo pipefail'
  echo "make() { command make -C '$root' --no-print-directory \"\$@\" >/dev/null; }"
  tests/readme/block.sh id=install-private
} >"$work/readme/steps.sh"
cat >"$work/readme/run.sh" <<INNER
#!/usr/bin/env bash
set -euo pipefail
cd "$work/readme"
export ID_TOKEN ISSUER="\$SOIDC_TEST_ISSUER" CLIENT_ID=conf-basic CLIENT_SECRET=conf-basic-secret-0123456789abcdef
nonce="\$(grep -o 'nonce.*' app.c | grep -o 'n-[A-Za-z0-9_]*' | head -1)"
ID_TOKEN="\$(curl -sS --max-time 10 -u "\$CLIENT_ID:\$CLIENT_SECRET" -d grant_type=password -d username=alice \
  -d password=alice-password --data-urlencode "scope=openid email" --data-urlencode "nonce=\$nonce" \
  "\$ISSUER/token" | sed -n 's/.*"id_token":"\([^"]*\)".*/\1/p')"
# cargo and rustup find their homes through HOME: keep them where they are
CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" HOME="$work/home" bash steps.sh
INNER
chmod +x "$work/readme/run.sh"
check "README, private prefix: make install, pkg-config, cc -Wl,-rpath, ./app validates a token" \
  tests/with-provider.sh "$work/readme/run.sh"
grep -q '^claims: {' "$work/out.txt" || { echo "  FAIL README program printed no claims"; fail=$((fail+1)); }
check "README: without the rpath (and no ldconfig) libsoidc.so.0 is not found" bash -c "
  cd '$work/readme' && PKG_CONFIG_PATH='$work/home/.local/lib/pkgconfig' && export PKG_CONFIG_PATH &&
  cc app.c \$(pkg-config --cflags --libs soidc) -o app-norpath &&
  ! ./app-norpath 2>err.txt && grep -q 'libsoidc.so.0: cannot open shared object file' err.txt"
make --no-print-directory uninstall PREFIX="$work/home/.local" >/dev/null

check "DESTDIR staging" bash -c "make --no-print-directory install PREFIX=/usr DESTDIR='$work/stage' >/dev/null && test -f '$work/stage/usr/lib/pkgconfig/soidc.pc' && grep -q '^prefix=/usr$' '$work/stage/usr/lib/pkgconfig/soidc.pc'"
make --no-print-directory uninstall PREFIX="$prefix" >/dev/null
check "uninstall removes everything it installed" bash -c "test -z \"\$(find '$prefix' -type f -o -type l)\""

echo "install tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
