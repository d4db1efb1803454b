#!/usr/bin/env bash
# Builds the nginx dynamic module ngx_http_soidc_module.so against Debian's nginx-dev
# (bookworm: nginx 1.22.1), the way Debian builds its own libnginx-mod-* packages:
# nginx-dev ships nginx's headers and configure scripts in /usr/share/nginx/src and the
# configure flags of the Debian nginx binary in /usr/share/nginx/src/conf_flags; a module
# configured with exactly those flags (they include --with-compat and --with-threads) has
# the module signature the Debian binary accepts with load_module.
#
# Skips the build when the module is up to date (SOIDC_NGINX_REBUILD=1 forces it).
#
# Output: $SOIDC_NGINX_BUILD_DIR (default <repo>/build/nginx, git-ignored):
#   ngx_http_soidc_module.so   linked with an rpath to $SOIDC_LIBDIR
#   objs/                      nginx's build directory (configure output, objects)
#
# Needs libsoidc.so (run `make build` at the repository root first) and installs the
# Debian packages it lacks (nginx, nginx-dev, gcc, make) when run as root.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${SOIDC_NGINX_BUILD_DIR:-$repo/build/nginx}"
export SOIDC_LIBDIR="${SOIDC_LIBDIR:-$repo/target/release}"
export SOIDC_INCLUDE_DIR="${SOIDC_INCLUDE_DIR:-$repo/include}"
ngx_src=/usr/share/nginx/src

# --- Debian packages --------------------------------------------------------------
need=()
[ -x /usr/sbin/nginx ] || need+=(nginx)
[ -f "$ngx_src/configure" ] && [ -f "$ngx_src/conf_flags" ] || need+=(nginx-dev)
command -v gcc >/dev/null || need+=(gcc)
command -v make >/dev/null || need+=(make)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "build.sh: missing Debian packages: ${need[*]} (run as root, or apt-get install them)" >&2
    exit 1
  fi
  echo "build.sh: apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}") >/dev/null
fi

if [ ! -f "$SOIDC_LIBDIR/libsoidc.so" ]; then
  echo "build.sh: $SOIDC_LIBDIR/libsoidc.so is missing; run 'make build' at $repo first" >&2
  exit 1
fi

# The running nginx and nginx-dev must be the same version, or load_module refuses the
# module ("module ... version X instead of Y").
bin_version="$(/usr/sbin/nginx -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')"
src_version="$(sed -n 's/^#define NGINX_VERSION *"\(.*\)"/\1/p' "$ngx_src/src/core/nginx.h")"
if [ "$bin_version" != "$src_version" ]; then
  echo "build.sh: /usr/sbin/nginx is $bin_version but nginx-dev is $src_version; install matching packages" >&2
  exit 1
fi

# --- up to date? -------------------------------------------------------------------
# Nothing to do when the module is newer than everything it is built from and was built
# for the same library directory (its rpath). SOIDC_NGINX_REBUILD=1 builds anyway.
module="$out/ngx_http_soidc_module.so"
if [ "${SOIDC_NGINX_REBUILD:-0}" != 1 ] && [ -f "$module" ] \
   && [ "$(cat "$out/built-for" 2>/dev/null)" = "$SOIDC_LIBDIR $SOIDC_INCLUDE_DIR" ]; then
  stale=""
  for f in "$here/ngx_http_soidc_module.c" "$here/config" "$here/build.sh" \
           "$SOIDC_INCLUDE_DIR/soidc.h" "$ngx_src/conf_flags" "$ngx_src/src/core/nginx.h"; do
    [ "$f" -nt "$module" ] && stale="$f"
  done
  if [ -z "$stale" ]; then
    echo "build.sh: $module is up to date"
    exit 0
  fi
fi

# --- configure + make modules -----------------------------------------------------
# NGX_CONF_FLAGS: a bash array with the Debian binary's configure arguments.
# shellcheck disable=SC1091
. "$ngx_src/conf_flags"

mkdir -p "$out"
objs="$out/objs"
rm -rf "$objs"

# Debian's C flags (hardening, -fPIC), as dpkg-buildflags gives them for a package
cflags="-g -O2 -fstack-protector-strong -Wformat -Werror=format-security -fPIC -Wdate-time -D_FORTIFY_SOURCE=2"
ldflags="-Wl,-z,relro -Wl,-z,now -fPIC"

echo "build.sh: configuring against nginx $src_version ($ngx_src), build directory $objs"
# configure must run in the source directory (it sources auto/* relatively); with
# --builddir everything it writes goes to $objs.
(
  cd "$ngx_src"
  ./configure "${NGX_CONF_FLAGS[@]}" \
    --with-cc-opt="$cflags" --with-ld-opt="$ldflags" \
    --add-dynamic-module="$here" --builddir="$objs"
) >"$out/configure.log" 2>&1 || {
  echo "build.sh: configure failed; see $out/configure.log" >&2
  tail -20 "$out/configure.log" >&2
  exit 1
}

echo "build.sh: make modules"
(cd "$ngx_src" && make -f "$objs/Makefile" modules) >"$out/make.log" 2>&1 || {
  echo "build.sh: make failed; see $out/make.log" >&2
  grep -E 'error|warning' "$out/make.log" >&2 || tail -30 "$out/make.log" >&2
  exit 1
}

# Installed under a new name, then renamed over the old one: a running nginx that has
# the old file mapped keeps its copy instead of seeing it rewritten under it.
cp "$objs/ngx_http_soidc_module.so" "$module.tmp.$$"
mv -f "$module.tmp.$$" "$module"
echo "$SOIDC_LIBDIR $SOIDC_INCLUDE_DIR" >"$out/built-for"
echo "build.sh: built $module"
