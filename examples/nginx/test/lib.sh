# Shared helpers of examples/nginx/test/run.sh and bench.sh (sourced, not run).
# Starts test OpenID providers (tests/provider/server.mjs) and nginx instances under a
# private temporary prefix; every process started here is remembered and stopped by
# lib_cleanup (call it from an EXIT trap).

NGX_TEST_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NGX_EXAMPLE_DIR="$(cd "$NGX_TEST_DIR/.." && pwd)"
REPO="$(cd "$NGX_EXAMPLE_DIR/../.." && pwd)"
NGX_BUILD_DIR="${SOIDC_NGINX_BUILD_DIR:-$REPO/build/nginx}"
NGX_MODULE="$NGX_BUILD_DIR/ngx_http_soidc_module.so"
NGINX_BIN="${NGINX_BIN:-/usr/sbin/nginx}"

CLIENT_ID=conf-basic
CLIENT_SECRET=conf-basic-secret-0123456789abcdef
RESOURCE=https://api.soidc.test

WORK="$(mktemp -d /tmp/soidc-nginx-test.XXXXXX)"
chmod 755 "$WORK"   # nginx workers run as "nobody" when started by root

declare -A PROVIDER_PID=() PROVIDER_ISSUER=() NGINX_PID=() NGINX_PORT=() NGINX_PREFIX=()

# --- dependencies -------------------------------------------------------------------
# Installs the Debian packages the tests need (a fresh CI machine has none of them).
lib_install_deps() {
  local need=() p
  for p in "$@"; do
    case "$p" in
      nginx) [ -x /usr/sbin/nginx ] || need+=(nginx) ;;
      nginx-dev) [ -f /usr/share/nginx/src/conf_flags ] || need+=(nginx-dev) ;;
      wrk) command -v wrk >/dev/null || need+=(wrk) ;;
      curl) command -v curl >/dev/null || need+=(curl) ;;
      faketime) [ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 ] \
                  || [ -n "$(lib_faketime_so 2>/dev/null)" ] || need+=(faketime) ;;
      gcc) command -v gcc >/dev/null || need+=(gcc) ;;
      make) command -v make >/dev/null || need+=(make) ;;
      node) command -v node >/dev/null || need+=(nodejs npm) ;;
      *) need+=("$p") ;;
    esac
  done
  if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "missing Debian packages: ${need[*]} (run as root or install them)" >&2
      return 1
    fi
    echo "apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    (apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}") >/dev/null
  fi
  if [ ! -d "$REPO/tests/provider/node_modules" ] \
     || [ "$REPO/tests/provider/package-lock.json" -nt "$REPO/tests/provider/node_modules" ]; then
    "$REPO/tests/install-deps.sh"
  fi
}

lib_faketime_so() {
  local f
  for f in /usr/lib/*/faketime/libfaketimeMT.so.1; do
    [ -e "$f" ] && { echo "$f"; return 0; }
  done
  return 1
}

# Builds the module unless SOIDC_NGINX_SKIP_BUILD=1.
lib_build_module() {
  if [ "${SOIDC_NGINX_SKIP_BUILD:-0}" != 1 ] || [ ! -f "$NGX_MODULE" ]; then
    "$NGX_EXAMPLE_DIR/build.sh" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; return 1; }
  fi
}

# --- ports ----------------------------------------------------------------------------
# A port nothing listens on, and not handed out before by this script (nginx instances
# are configured before they start listening). Called in a subshell $(...), so the
# ports handed out are remembered in a file.
lib_free_port() {
  local port low span
  # Below the kernel's ephemeral range (ip_local_port_range): ports there are handed out
  # to every bind(port 0) and outgoing connection on the machine, so one found free here
  # could be taken by another suite (make test runs them side by side) before nginx binds it.
  low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  span=$(( low - 10000 ))
  [ "$span" -ge 1000 ] || span=30000
  for _ in $(seq 1 200); do
    port=$(( 10000 + (RANDOM * 32768 + RANDOM) % span ))
    grep -qx "$port" "$WORK/ports" 2>/dev/null && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port" >>"$WORK/ports"
      echo "$port"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

# --- OpenID providers -----------------------------------------------------------------
# lib_provider_start NAME: starts tests/provider/server.mjs with a held stdin pipe;
# sets PROVIDER_ISSUER[NAME] and PROVIDER_PID[NAME].
lib_provider_start() {
  local name="$1" dir="$WORK/provider-$1" issuer=""
  mkdir -p "$dir"
  mkfifo "$dir/stdin"
  node "$REPO/tests/provider/server.mjs" <"$dir/stdin" >"$dir/out" 2>"$dir/err" &
  PROVIDER_PID[$name]=$!
  # hold the write end open on a spare fd so that the provider's stdin stays open
  eval "exec {fd_$name}>\"$dir/stdin\""
  for _ in $(seq 1 200); do
    issuer="$(sed -n 's/^ISSUER=//p' "$dir/out" 2>/dev/null)"
    [ -n "$issuer" ] && break
    kill -0 "${PROVIDER_PID[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$issuer" ]; then
    echo "provider $name did not start:" >&2
    cat "$dir/err" >&2
    return 1
  fi
  PROVIDER_ISSUER[$name]="$issuer"
}

lib_provider_stop() {
  local name="$1" pid="${PROVIDER_PID[$1]:-}"
  [ -n "$pid" ] || return 0
  kill -CONT "$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local fdvar="fd_$name"
  [ -n "${!fdvar:-}" ] && eval "exec ${!fdvar}>&-" 2>/dev/null || true
  unset "PROVIDER_PID[$name]"
}

# lib_keyless_issuer_start NAME DEAD_PORT: a minimal issuer that answers discovery only,
# with a jwks_uri on DEAD_PORT (nothing listens there): soidc creates the client but
# never gets keys. Sets PROVIDER_ISSUER[NAME] and PROVIDER_PID[NAME] (stopped by
# lib_cleanup).
lib_keyless_issuer_start() {
  local name="$1" dead="$2" dir="$WORK/provider-$1" issuer=""
  mkdir -p "$dir"
  node -e '
    const http = require("http");
    const dead = process.argv[1];
    const srv = http.createServer((req, res) => {
      const iss = `http://127.0.0.1:${srv.address().port}`;
      if (req.url !== "/.well-known/openid-configuration") { res.writeHead(404); return res.end(); }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ issuer: iss, authorization_endpoint: `${iss}/auth`,
        token_endpoint: `${iss}/token`, jwks_uri: `http://127.0.0.1:${dead}/jwks`,
        response_types_supported: ["code"], subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"] }));
    });
    srv.listen(0, "127.0.0.1", () => console.log(`ISSUER=http://127.0.0.1:${srv.address().port}`));
  ' "$dead" >"$dir/out" 2>"$dir/err" &
  PROVIDER_PID[$name]=$!
  for _ in $(seq 1 100); do
    issuer="$(sed -n 's/^ISSUER=//p' "$dir/out" 2>/dev/null)"
    [ -n "$issuer" ] && break
    kill -0 "${PROVIDER_PID[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$issuer" ]; then
    echo "keyless issuer $name did not start:" >&2
    cat "$dir/err" >&2
    return 1
  fi
  PROVIDER_ISSUER[$name]="$issuer"
}

# lib_token ISSUER SCOPE [CLIENT SECRET [RESOURCE|-]]: an access token by client_credentials.
lib_token() {
  local issuer="$1" scope="$2" client="${3:-$CLIENT_ID}" secret="${4:-$CLIENT_SECRET}" resource="${5:-$RESOURCE}"
  local args=(-s -u "$client:$secret" -d grant_type=client_credentials --data-urlencode "scope=$scope")
  [ "$resource" = - ] || args+=(--data-urlencode "resource=$resource")
  curl "${args[@]}" "$issuer/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}

# --- nginx ------------------------------------------------------------------------------
# lib_nginx_conf NAME PORT ISSUER MODE(thread|inline) [REFRESH] [TIMEOUT] [WORKERS]
# writes $WORK/nginx-NAME/nginx.conf from $NGX_CONF_TEMPLATE (default nginx.conf.in).
lib_nginx_conf() {
  local name="$1" port="$2" issuer="$3" mode="$4" refresh="${5:-2s}" timeout="${6:-1500ms}" workers="${7:-2}"
  local prefix="$WORK/nginx-$name" pool_main="" pool_http=""
  mkdir -p "$prefix/logs" "$prefix/tmp"
  chmod 755 "$prefix" "$prefix/tmp"
  if [ "$mode" = thread ]; then
    pool_main="thread_pool soidc threads=1;"
    pool_http="soidc_thread_pool soidc;"
  fi
  NGINX_PREFIX[$name]="$prefix"
  NGINX_PORT[$name]="$port"
  sed -e "s|@MODULE@|$NGX_MODULE|g" -e "s|@PREFIX@|$prefix|g" -e "s|@PORT@|$port|g" \
      -e "s|@ISSUER@|$issuer|g" -e "s|@REFRESH@|$refresh|g" -e "s|@TIMEOUT@|$timeout|g" \
      -e "s|@WORKERS@|$workers|g" -e "s|@POOL_MAIN@|$pool_main|g" -e "s|@POOL_HTTP@|$pool_http|g" \
      -e "s|@RESOURCE@|$RESOURCE|g" \
      "${NGX_CONF_TEMPLATE:-$NGX_TEST_DIR/nginx.conf.in}" >"$prefix/nginx.conf"
}

# lib_nginx_start NAME [env...]: runs nginx (daemon off, master + workers) in the
# background under the given environment (e.g. LD_PRELOAD=... for faketime), waits
# until it answers on its port.
lib_nginx_start() {
  local name="$1"; shift
  local prefix="${NGINX_PREFIX[$name]}" port="${NGINX_PORT[$name]}"
  env "$@" "$NGINX_BIN" -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/logs/error.log" \
    >"$prefix/logs/stdout.log" 2>&1 &
  NGINX_PID[$name]=$!
  # up to 30 s: a worker fetches its keys before it serves (slow on a loaded machine)
  for _ in $(seq 1 300); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/health"; then
      return 0
    fi
    kill -0 "${NGINX_PID[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "nginx $name did not answer on port $port within 30 s:" >&2
  cat "$prefix/logs/stdout.log" "$prefix/logs/error.log" >&2 2>/dev/null
  return 1
}

lib_nginx_stop() {
  local name="$1" pid="${NGINX_PID[$1]:-}"
  [ -n "$pid" ] || return 0
  kill -QUIT "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "NGINX_PID[$name]"
}

lib_cleanup() {
  local n
  for n in "${!NGINX_PID[@]}"; do lib_nginx_stop "$n"; done
  for n in "${!PROVIDER_PID[@]}"; do lib_provider_stop "$n"; done
  if [ "${SOIDC_NGINX_KEEP:-0}" = 1 ]; then
    echo "kept $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
