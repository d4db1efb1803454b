#!/usr/bin/env bash
# The Keycloak suites (`make test-keycloak`): soidc against a real Keycloak, the second
# provider beside tests/provider (node oidc-provider).
#
# Fetches org.keycloak:keycloak-quarkus-dist (zip, version pinned below) through Maven
# into a cache outside the repository, finds a JDK that runs it (Java 21+), unpacks it
# into a temporary directory (from the copy built for dev mode that the first run keeps
# in the cache), starts it once in dev mode on 127.0.0.1 with an in-memory
# database and the realm of tests/keycloak/realm.json, waits for discovery, runs the
# suites against it and stops it by PID (also on failure or interrupt).
#
# Usage: tests/keycloak/run.sh                 run every Keycloak suite
#        tests/keycloak/run.sh COMMAND [ARG...] run COMMAND while Keycloak is up
#                                              (e.g. `bash` to develop against it)
# Env:   SOIDC_KC_ISSUER   when set, use that running Keycloak (realm "soidc" of
#                          realm.json) instead of starting one; SOIDC_KC_BCL_PORT must
#                          then be the port the realm's back-channel logout URL names
#        SOIDC_KC_CACHE    cache directory (default ~/.cache/soidc/keycloak)
#        SOIDC_KC_JAVA_HOME a JDK to use (default: the first Java 21+ found)
#        SOIDC_KC_GO=0     skip the Go binding's Keycloak tests
#        SOIDC_LIBDIR      directory with libsoidc.so (default: target/release)
# Exit status: 0 only if Keycloak started and every suite passed.
set -euo pipefail

KC_VERSION=26.7.3
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

say() { printf 'keycloak: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# A free TCP port on 127.0.0.1 (the kernel's choice; released before use).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# java_major JAVA -> the major version the binary reports (17, 21, 25, ...), or nothing.
java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -1
}

# find_java -> a java binary of version 21 or later on stdout.
find_java() {
  local candidates=() c major
  [ -n "${SOIDC_KC_JAVA_HOME:-}" ] && candidates+=("$SOIDC_KC_JAVA_HOME/bin/java")
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME/bin/java")
  for c in /usr/lib/jvm/*/bin/java /opt/*/bin/java /opt/java/*/bin/java; do
    [ -x "$c" ] && candidates+=("$c")
  done
  command -v java >/dev/null && candidates+=("$(command -v java)")
  for c in "${candidates[@]}"; do
    [ -x "$c" ] || continue
    major="$(java_major "$c")"
    if [ -n "$major" ] && [ "$major" -ge 21 ]; then
      printf '%s\n' "$c"
      return 0
    fi
  done
  return 1
}

# The suites, run while Keycloak is up.
run_suites() {
  local failed=0
  say "suite 1/2: C API (tests/keycloak.rs, through soidc's extern \"C\" functions)"
  nice -n 10 cargo test --locked --features test-hooks --test keycloak -- --ignored --test-threads=4 || failed=1
  if [ "${SOIDC_KC_GO:-1}" != 0 ] && [ -x bindings/go/keycloak-tests.sh ]; then
    say "suite 2/2: Go binding"
    bindings/go/keycloak-tests.sh || failed=1
  fi
  return "$failed"
}

if [ -n "${SOIDC_KC_ISSUER:-}" ]; then
  : "${SOIDC_KC_BCL_PORT:?SOIDC_KC_BCL_PORT must be set with SOIDC_KC_ISSUER}"
  if [ $# -gt 0 ]; then exec "$@"; fi
  run_suites
  exit $?
fi

# Tools: Maven fetches, unzip unpacks (Debian's package if missing), python3 picks ports.
if ! command -v unzip >/dev/null; then
  say "installing unzip with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unzip >&2 || die "unzip is missing"
fi
command -v mvn >/dev/null || die "mvn (Maven) is missing: it fetches keycloak-quarkus-dist"

# 1. The distribution, through Maven, cached outside the repository.
cache="${SOIDC_KC_CACHE:-$HOME/.cache/soidc/keycloak}"
zip="$cache/keycloak-quarkus-dist-$KC_VERSION.zip"
mkdir -p "$cache"
if [ ! -s "$zip" ] || ! unzip -tqq "$zip" >/dev/null 2>&1; then
  rm -f "$zip"
  say "fetching org.keycloak:keycloak-quarkus-dist:$KC_VERSION:zip through Maven"
  mvn -q -B dependency:copy "-Dartifact=org.keycloak:keycloak-quarkus-dist:$KC_VERSION:zip" \
    "-DoutputDirectory=$cache" >&2 || die "mvn could not fetch keycloak-quarkus-dist $KC_VERSION"
  [ -s "$zip" ] || die "mvn did not produce $zip"
fi

# 2. A JDK Keycloak 26 accepts (Java 21+); Debian's default JDK is installed if none is found.
if ! java="$(find_java)"; then
  say "no Java 21+ found; installing one with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || true
  for pkg in openjdk-25-jdk-headless openjdk-21-jdk-headless; do
    apt-get install -y -qq "$pkg" >&2 2>/dev/null && break
  done
  java="$(find_java)" || die "no Java 21 or later (Keycloak $KC_VERSION needs one); set SOIDC_KC_JAVA_HOME"
fi
export JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$java")")")"
say "Java $(java_major "$java") from $JAVA_HOME"

# 3. A fresh copy per run (Keycloak writes into its own directory), removed at exit.
work="$(mktemp -d "${TMPDIR:-/tmp}/soidc-keycloak.XXXXXX")"
kc_pid=""
stop() {
  local status=$?
  if [ -n "$kc_pid" ] && kill -0 "$kc_pid" 2>/dev/null; then
    say "stopping Keycloak (PID $kc_pid)"
    kill -TERM "$kc_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$kc_pid" 2>/dev/null || break; sleep 0.2; done
    # Still there after 20 s: its process group (started with setsid, so only Keycloak's).
    if kill -0 "$kc_pid" 2>/dev/null; then kill -KILL -- "-$kc_pid" 2>/dev/null || true; fi
    wait "$kc_pid" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -f "$work/keycloak.log" ]; then
    say "last lines of the Keycloak log:"
    tail -n 40 "$work/keycloak.log" | sed 's/^/      | /' >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap stop EXIT
trap 'exit 130' INT TERM

# The first start-dev of a fresh copy "augments" it (Quarkus rebuilds the distribution for
# dev mode and these build options: about half of the start-up's CPU). A copy so
# augmented is kept in the cache, keyed on the version and the build options, and later
# runs start from it; Keycloak still checks the build options itself and augments again
# if they differ.
kc_build_opts=(--db=dev-mem --cache=local)
built="$cache/keycloak-$KC_VERSION-dev-$(printf '%s\n' "$KC_VERSION" "${kc_build_opts[@]}" "$(java_major "$java")" | sha256sum | cut -c1-12)"
kc_home="$work/keycloak-$KC_VERSION"
if [ -x "$built/bin/kc.sh" ]; then
  cp -a "$built" "$kc_home"
else
  unzip -qq "$zip" -d "$work"
fi
[ -x "$kc_home/bin/kc.sh" ] || die "$zip has no keycloak-$KC_VERSION/bin/kc.sh"

port="$(free_port)"
bcl_port="$(free_port)"
while [ "$bcl_port" = "$port" ]; do bcl_port="$(free_port)"; done
mkdir -p "$kc_home/data/import"
sed "s/@BCL_PORT@/$bcl_port/g" tests/keycloak/realm.json >"$kc_home/data/import/soidc-realm.json"

# 4. Start it: dev mode, loopback only, in-memory database, the realm imported.
admin_password="admin-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
say "starting Keycloak $KC_VERSION on 127.0.0.1:$port (log: $work/keycloak.log)"
start=$(date +%s)
# JIT: C1 only. The JVM starts with about a third less CPU; the tests' few hundred
# requests would not repay C2's compilations.
KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD="$admin_password" \
  JAVA_OPTS_APPEND="-XX:TieredStopAtLevel=1${JAVA_OPTS_APPEND:+ $JAVA_OPTS_APPEND}" \
  setsid "$kc_home/bin/kc.sh" start-dev --http-host=127.0.0.1 --http-port="$port" \
  "${kc_build_opts[@]}" --import-realm --hostname-strict=false \
  >"$work/keycloak.log" 2>&1 </dev/null &
kc_pid=$!

issuer="http://127.0.0.1:$port/realms/soidc"
for _ in $(seq 1 900); do
  if curl -fsS --max-time 2 "$issuer/.well-known/openid-configuration" >/dev/null 2>&1; then
    break
  fi
  kill -0 "$kc_pid" 2>/dev/null || die "Keycloak exited during start-up"
  sleep 0.5
done
curl -fsS --max-time 5 "$issuer/.well-known/openid-configuration" >/dev/null 2>&1 \
  || die "Keycloak did not serve discovery within 450 s"
say "ready after $(( $(date +%s) - start )) s: $issuer (back-channel logout listener port $bcl_port)"

# Augmented in this run: keep the distribution (without data/, which is per run) for the
# next runs. Copied under a temporary name and renamed: runs of other checkouts share the
# cache and never see half a copy; a copy already there (made meanwhile) is kept.
if grep -q 'Updating the configuration' "$work/keycloak.log"; then
  if [ -e "$built" ]; then
    say "the cached distribution $built was augmented again (remove it if this repeats)"
  else
    tmp="$(mktemp -d "$cache/.keycloak-$KC_VERSION.XXXXXX")"
    if (cd "$kc_home" && find . -mindepth 1 -maxdepth 1 ! -name data -exec cp -a {} "$tmp/" \;) \
      && mv -T "$tmp" "$built" 2>/dev/null; then
      say "kept the augmented distribution for the next runs: $built"
    else
      rm -rf "$tmp"
    fi
  fi
fi

export SOIDC_KC_ISSUER="$issuer"
export SOIDC_KC_BCL_PORT="$bcl_port"
export SOIDC_KC_ADMIN_USERNAME=admin
export SOIDC_KC_ADMIN_PASSWORD="$admin_password"

# 5. The suites (or the given command); stop() runs at exit.
if [ $# -gt 0 ]; then
  "$@"
else
  run_suites
fi
