#!/usr/bin/env bash
# The soidc demo (`make demo`, which builds the library first): starts the local test
# OpenID provider, gets a real ID token from it, builds the C example and runs it, runs
# the grants, the C++ and Go bindings, the nginx module protecting a location and the PAM
# module logging a user in, narrating each step.
#
# Structure: each step is one shell function `step_<name>` registered in STEPS below,
# run in order. To add a step (a flow, the C++ or Go example), write a function that
# starts with `step "Title"` and add its name to STEPS. Steps share these variables:
#   root              the repository
#   SOIDC_TEST_ISSUER the provider (exported by tests/with-provider.sh)
#   SOIDC_TEST_*      the tokens and test clients, after step_get_token (see
#                     tests/c/fetch-tokens.sh for the list)
#
# Usage: examples/run-demo.sh        (the library must be built: `make build`)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Outside the provider's lifetime: start it and run this script again inside it.
# tests/with-provider.sh stops the provider when the demo ends, however it ends.
if [ -z "${SOIDC_DEMO_INSIDE_PROVIDER:-}" ]; then
  cat <<'TEXT'
soidc demo
==========
soidc is an OpenID Connect relying-party client with a C API. This demo runs against
a real OpenID provider (oidc-provider, started locally on 127.0.0.1 for the demo only;
it has fixed test users and clients, see tests/provider/README.md).

Starting the test provider ...
TEXT
  export SOIDC_DEMO_INSIDE_PROVIDER=1
  exec tests/with-provider.sh "$root/examples/run-demo.sh" "$@"
fi

# The nginx and PAM steps reuse the set-up functions of their test suites.
# shellcheck source=nginx/test/lib.sh
. "$root/examples/nginx/test/lib.sh"
# shellcheck source=pam/test/lib.sh
. "$root/examples/pam/test/lib.sh"

step_number=0
# step TITLE: prints a step header.
step() {
  step_number=$((step_number + 1))
  printf '\n--- Step %d: %s ---\n' "$step_number" "$1"
}
# say TEXT...: one line of narration.
say() { printf '%s\n' "$*"; }
# show CMD...: prints a command line as a user would type it (the caller elides secrets).
show() { printf '  $ %s\n' "$*"; }
# indent: indents a program's output under the narration.
indent() { sed 's/^/  | /'; }
# short TOKEN: the first 24 characters of a token, for display only.
short() { printf '%s...(%d chars)' "${1:0:24}" "${#1}"; }

# ---- the steps -----------------------------------------------------------------------

step_provider() {
  step "The OpenID provider"
  say "The provider is running at $SOIDC_TEST_ISSUER."
  say "Its discovery document is at $SOIDC_TEST_ISSUER/.well-known/openid-configuration."
}

step_get_token() {
  step "Getting an ID token from the provider (test-only password grant)"
  say "A real application gets its ID token from the authorization code flow (a browser"
  say "login). For the demo we use the provider's TEST-ONLY password grant instead:"
  say "user alice, client conf-basic (client_secret_basic), scope \"openid email\", a nonce."
  show "tests/c/fetch-tokens.sh   # POST $SOIDC_TEST_ISSUER/token grant_type=password ..."
  local tokens
  tokens="$(tests/c/fetch-tokens.sh)"
  eval "$tokens"
  say "Got an ID token for alice: $(short "$SOIDC_TEST_ID_TOKEN")"
  say "Nonce sent with the request: $SOIDC_TEST_NONCE"
}

step_build_c_example() {
  step "Building the C example (examples/c/discover_and_decode.c)"
  if [ ! -e target/release/libsoidc.so ]; then
    say "target/release/libsoidc.so is missing: run \`make build\` (or \`make demo\`) first." >&2
    return 1
  fi
  show "make -C examples/c discover_and_decode"
  make --no-print-directory -C examples/c discover_and_decode 2>&1 | indent
  say "It links target/release/libsoidc.so through a relative rpath (\$ORIGIN)."
}

step_run_c_example() {
  step "Discovering the provider and validating the ID token in C"
  say "The example discovers the provider, prints the client type and the endpoints,"
  say "then validates the ID token (signature, issuer, audience, expiry, nonce)."
  say "The client secret and the token are passed in the environment, not on the command line."
  show "SOIDC_ISSUER=... SOIDC_CLIENT_ID=conf-basic SOIDC_CLIENT_SECRET=... SOIDC_ID_TOKEN=... SOIDC_NONCE=... examples/c/discover_and_decode"
  SOIDC_ISSUER="$SOIDC_TEST_ISSUER" SOIDC_CLIENT_ID="$SOIDC_TEST_CLIENT_ID" \
    SOIDC_CLIENT_SECRET="$SOIDC_TEST_CLIENT_SECRET" SOIDC_ID_TOKEN="$SOIDC_TEST_ID_TOKEN" \
    SOIDC_NONCE="$SOIDC_TEST_NONCE" examples/c/discover_and_decode 2>&1 | indent
}

step_rejected_token() {
  step "A replayed token is rejected (wrong nonce)"
  say "The same token, but the application expects a different nonce (as it would for a"
  say "token replayed into another login): validation fails with status \"validation\"."
  show "SOIDC_NONCE=another-login examples/c/discover_and_decode   # (other variables as above)"
  local status=0
  SOIDC_ISSUER="$SOIDC_TEST_ISSUER" SOIDC_CLIENT_ID="$SOIDC_TEST_CLIENT_ID" \
    SOIDC_CLIENT_SECRET="$SOIDC_TEST_CLIENT_SECRET" SOIDC_ID_TOKEN="$SOIDC_TEST_ID_TOKEN" \
    SOIDC_NONCE="another-login" examples/c/discover_and_decode >"$demo_tmp/rejected.out" 2>&1 || status=$?
  grep -E '^(error|3\.)' "$demo_tmp/rejected.out" | indent
  if [ "$status" -ne 1 ]; then
    say "UNEXPECTED: the example exited with status $status (expected 1)." >&2
    return 1
  fi
  say "The example exited with status 1, as it should."
}

step_flows() {
  step "The grants in C: client credentials, password, introspection, device flow"
  say "examples/c/flows.c runs one grant after the other with client conf-basic."
  say "The device flow prints a code for the user; this script plays the user and"
  say "approves it at the provider (POST /test/device/approve, a test-only endpoint)."
  show "make -C examples/c flows && examples/c/flows \$ISSUER conf-basic <secret> alice <password>"
  make --no-print-directory -C examples/c flows >/dev/null
  local out="$demo_tmp/flows.out" code="" status=0
  examples/c/flows "$SOIDC_TEST_ISSUER" "$SOIDC_TEST_CLIENT_ID" "$SOIDC_TEST_CLIENT_SECRET" \
    alice alice-password >"$out" 2>&1 &
  local pid=$!
  for _ in $(seq 1 200); do
    code="$(grep -o 'enter the code [A-Z0-9-]*' "$out" | awk '{print $4}' || true)"
    [ -n "$code" ] && break
    sleep 0.1
  done
  if [ -n "$code" ]; then
    curl -s -X POST "$SOIDC_TEST_ISSUER/test/device/approve" -H 'content-type: application/json' \
      -d "{\"user_code\":\"$code\",\"user\":\"alice\"}" >/dev/null
  fi
  wait "$pid" || status=$?
  indent <"$out"
  if [ -n "$code" ]; then say "(the script approved the code $code as alice)"; fi
  return "$status"
}

step_cpp_example() {
  step "The C++ binding (examples/cpp/soidc_example.cpp)"
  say "soidc.hpp wraps the C API in RAII, typed results and exceptions (or soidc::Result):"
  say "discovery, client credentials, a password grant and the ID token validation, in C++17."
  show "examples/cpp/run.sh \$ISSUER"
  examples/cpp/run.sh "$SOIDC_TEST_ISSUER" 2>&1 | indent
}

step_go_example() {
  step "The Go binding (examples/go/cmd/client-credentials)"
  if [ ! -x examples/go/run.sh ]; then
    say "(examples/go is not present in this checkout)"
    return 0
  fi
  say "The cgo package turns the C API into typed Go results, errors.Is-able errors and"
  say "context deadlines; this command runs the client credentials grant."
  show "examples/go/run.sh \$ISSUER"
  examples/go/run.sh "$SOIDC_TEST_ISSUER" 2>&1 | indent
}

step_nginx() {
  step "The nginx module protecting a location (examples/nginx)"
  say "ngx_http_soidc_module validates bearer tokens (RFC 9068 JWT access tokens) in nginx,"
  say "from keys it fetched in the background: a request never waits for the provider."
  lib_install_deps nginx nginx-dev gcc make curl >/dev/null
  show "examples/nginx/build.sh   # builds the module against Debian's nginx-dev"
  lib_build_module
  say "Built $(realpath --relative-to="$root" "$NGX_MODULE") for Debian's nginx $("$NGINX_BIN" -v 2>&1 | sed 's|.*nginx/||')."
  lib_nginx_conf demo "$(lib_free_port)" "$SOIDC_TEST_ISSUER" thread
  local port="${NGINX_PORT[demo]}" conf="${NGINX_PREFIX[demo]}/nginx.conf"
  say "The configuration (http level, and the protected location):"
  grep -E '^    soidc_(issuer|audience|realm)' "$conf" | indent
  sed -n '/location = \/api {/,/}/p' "$conf" | indent
  lib_nginx_start demo
  say "nginx is running on 127.0.0.1:$port."
  say ""
  say "A request without a token is refused with a challenge:"
  show "curl -i http://127.0.0.1:$port/api"
  curl -s -i "http://127.0.0.1:$port/api" | tr -d '\r' | grep -E '^(HTTP/|WWW-Authenticate)' | indent
  say "A client gets an access token for the API (client credentials, resource $RESOURCE):"
  local token
  token="$(lib_token "$SOIDC_TEST_ISSUER" api:read)"
  [ -n "$token" ] || { say "could not get an access token" >&2; return 1; }
  say "  token: $(short "$token")"
  say "With the token, nginx lets the request through (the location returns \$soidc_sub):"
  show "curl -i -H 'Authorization: Bearer <token>' http://127.0.0.1:$port/api"
  local out status
  out="$(curl -s -i -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api" | tr -d '\r')"
  { grep '^HTTP/' <<<"$out"; printf '\n%s\n' "${out##*$'\n\n'}"; } | indent
  status="$(head -1 <<<"$out" | awk '{print $2}')"
  lib_nginx_stop demo
  [ "$status" = 200 ] || { say "UNEXPECTED: status $status (expected 200)" >&2; return 1; }
}

step_pam() {
  step "The PAM module logging a user in (examples/pam)"
  say "pam_soidc.so authenticates a PAM user at the provider (here: password mode, which"
  say "checks alice's password with the provider; token and device modes exist too)."
  pam_lib_install_deps >/dev/null
  show "make -C examples/pam all driver"
  pam_lib_build "$root/target/release"
  local conf="$demo_tmp/pam.d" secret="$demo_tmp/client-secret"
  mkdir -p "$conf"
  (umask 077; printf '%s\n' "$SOIDC_TEST_CLIENT_SECRET" >"$secret")
  printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$conf/other"
  pam_lib_service "$conf" soidc-demo "issuer=$SOIDC_TEST_ISSUER client_id=$SOIDC_TEST_CLIENT_ID" \
    "client_secret_file=$secret [scope=openid profile]"
  say "The PAM service (in a private directory, not /etc/pam.d; the secret is in a 0600 file):"
  sed "s|$root/||g; s|$demo_tmp|\$TMP|g" "$conf/soidc-demo" | indent
  say "examples/pam/test/pam_driver runs one PAM transaction (pam_authenticate, then"
  say "pam_acct_mgmt) as a login program would, answering the password prompt itself."
  show "PAM_DRIVER_PASSWORD=alice-password PAM_DRIVER_ACCT=1 examples/pam/test/pam_driver \$TMP/pam.d soidc-demo alice"
  local out="$demo_tmp/pam.out" msgs="$demo_tmp/pam.msgs" log="$demo_tmp/pam.log"
  PAM_DRIVER_PASSWORD=alice-password PAM_DRIVER_ACCT=1 PAM_DRIVER_MESSAGES="$msgs" PAM_DRIVER_SYSLOG="$log" \
    "$PAM_DRIVER" "$conf" soidc-demo alice >"$out" 2>&1
  sed 's/^/conversation: /' "$msgs" | indent
  indent <"$out"
  say "What the module logged (through syslog):"
  grep -o 'pam_soidc.*' "$log" | grep -v ': soidc: ' | indent
  grep -q '^authenticate=PAM_SUCCESS' "$out" || { say "UNEXPECTED: alice was not logged in" >&2; return 1; }
  say "The same with a wrong password:"
  show "PAM_DRIVER_PASSWORD=not-her-password examples/pam/test/pam_driver \$TMP/pam.d soidc-demo alice"
  PAM_DRIVER_PASSWORD=not-her-password "$PAM_DRIVER" "$conf" soidc-demo alice >"$out" 2>&1
  indent <"$out"
  grep -q '^authenticate=PAM_AUTH_ERR' "$out" || { say "UNEXPECTED: the wrong password was not refused" >&2; return 1; }
}

STEPS=(
  step_provider
  step_get_token
  step_build_c_example
  step_run_c_example
  step_rejected_token
  step_flows
  step_cpp_example
  step_go_example
  step_nginx
  step_pam
)

# ---- run them ------------------------------------------------------------------------

demo_tmp="$(mktemp -d)"
current=""
finish() {
  local status=$?
  lib_cleanup   # stops nginx if a step left it running; removes its work directory
  rm -rf "$demo_tmp"
  if [ "$status" -ne 0 ]; then
    printf '\nThe demo stopped: step %d (%s) failed with status %d.\n' "$step_number" "$current" "$status" >&2
  fi
}
trap finish EXIT

# Each step runs under `set -e`: its first failing command ends the demo.
for current in "${STEPS[@]}"; do
  "$current"
done

printf '\nDemo finished: %d steps. tests/with-provider.sh stops the provider now.\n' "$step_number"
