#!/usr/bin/env bash
# examples/pam/test/run.sh: builds pam_soidc.so and the test driver, then runs PAM
# transactions against the real test provider (tests/with-provider.sh) from a private
# PAM configuration directory (pam_start_confdir), each under valgrind.
#
# Prints one line per case (expected and observed PAM result) and
# "PAM tests: N passed, M failed"; exits non-zero on any failure.
#
# Environment: PAM_TEST_VALGRIND=0 runs the driver without valgrind (faster, for
# debugging); PAM_TEST_KEEP=1 keeps the work directory (logs, service files).
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
root="$PAM_REPO"

# --- Debian packages a fresh machine may lack (install only what is missing) ---
pam_lib_install_deps

# Run everything below with the test provider up (it exports SOIDC_TEST_ISSUER).
if [ -z "${SOIDC_TEST_ISSUER:-}" ]; then
  exec "$root/tests/with-provider.sh" "$0" "$@"
fi

issuer="$SOIDC_TEST_ISSUER"
libdir="${SOIDC_LIBDIR:-$root/target/release}"
pam_lib_build "$libdir"

module="$PAM_MODULE"
driver="$PAM_DRIVER"
work="$(mktemp -d)"
conf="$work/pam.d"
mkdir -p "$conf"
hang_pid=""
cleanup() {
  if [ -n "$hang_pid" ]; then kill "$hang_pid" 2>/dev/null || true; fi
  if [ "${PAM_TEST_KEEP:-0}" = 1 ]; then echo "pam tests: work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "$1"; }
failc() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$1"; }

# --- secrets, service files -------------------------------------------------
client_secret=conf-basic-secret-0123456789abcdef
short_secret=device-short-secret-0123456789abcdef
umask 077
printf '%s\n' "$client_secret" >"$work/secret"           # 0600, owned by us (root in CI)
printf '%s\n' "$short_secret" >"$work/secret-short"
printf 'not-the-secret\n' >"$work/secret-wrong"
printf '%s\n' "$client_secret" >"$work/secret-0644"
chmod 0644 "$work/secret-0644"
umask 022
secret_other_owner=""
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
  printf '%s\n' "$client_secret" >"$work/secret-nobody"
  chmod 0600 "$work/secret-nobody"
  chown nobody "$work/secret-nobody"
  secret_other_owner="$work/secret-nobody"
fi

# A port nobody listens on (the provider is "down").
closed_port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
# A "provider" that accepts connections and never answers.
node -e 'const s=require("net").createServer(()=>{});s.listen(0,"127.0.0.1",()=>console.log(s.address().port))' \
  >"$work/hang-port" 2>/dev/null &
hang_pid=$!
for _ in $(seq 1 50); do [ -s "$work/hang-port" ] && break; sleep 0.1; done
hang_port="$(cat "$work/hang-port")"

# The catch-all service: deny.
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$conf/other"
# service NAME ARGS...: auth and account through pam_soidc with these arguments. The
# provider state cache goes to the work directory unless the arguments say otherwise
# (the module's default, /var/cache/soidc, is left alone).
service() {
  local name="$1"
  shift
  case " $* " in
    *" cache_dir="* | *" no_cache "*) pam_lib_service "$conf" "$name" "$@" ;;
    *) pam_lib_service "$conf" "$name" "$@" "cache_dir=$work/cache" ;;
  esac
}
# timeout_ms is generous here: the first call in a process is slow under valgrind.
common="issuer=$issuer client_id=conf-basic client_secret_file=$work/secret timeout_ms=20000"
service pw "$common [scope=openid profile]"
service pw-sub "$common username_claim=sub"
service pw-noprofile "$common"
service pw-email "$common [scope=openid email] username_claim=email"
# pam_unix asks for the password and stores it (PAM_AUTHTOK); pam_soidc reuses it.
{
  echo "auth optional pam_unix.so"
  echo "auth required $module $common [scope=openid profile] use_first_pass cache_dir=$work/cache"
} >"$conf/pw-stacked"
service pw-firstpass-alone "$common [scope=openid profile] use_first_pass"
service pw-wrongsecret "issuer=$issuer client_id=conf-basic client_secret_file=$work/secret-wrong [scope=openid profile]"
service tok "$common mode=token audience=https://api.soidc.test"
service tok-otheraud "$common mode=token audience=https://other.soidc.test"
service dev "$common mode=device username_claim=sub"
service dev-prompt "$common mode=device username_claim=sub device_prompt"
service dev-short "issuer=$issuer client_id=device-short client_secret_file=$work/secret-short mode=device username_claim=sub"
service dev-public "issuer=$issuer client_id=public-pkce mode=device username_claim=sub timeout_ms=20000"
service down "issuer=http://127.0.0.1:$closed_port client_id=conf-basic client_secret_file=$work/secret timeout_ms=3000"
service hang "issuer=http://127.0.0.1:$hang_port client_id=conf-basic client_secret_file=$work/secret timeout_ms=2000"
service cfg-noissuer "client_id=conf-basic client_secret_file=$work/secret"
service cfg-inline-secret "issuer=$issuer client_id=conf-basic client_secret=$client_secret"
service cfg-0644 "issuer=$issuer client_id=conf-basic client_secret_file=$work/secret-0644"
service cfg-typo "$common mode=token audiance=https://api.soidc.test"
service cfg-typo-secret "issuer=$issuer client_id=conf-basic client_secrett=$client_secret"
service cfg-noaud "$common mode=token"
service pw-count "$common [scope=openid profile] cache_dir=$work/cache-count"
service pw-nocache "$common [scope=openid profile] no_cache"
service cfg-cache-relative "$common cache_dir=relative/dir"
service cfg-cache-both "$common cache_dir=$work/cache-x no_cache"
[ -n "$secret_other_owner" ] && service cfg-owner "issuer=$issuer client_id=conf-basic client_secret_file=$secret_other_owner"

# --- tokens from the provider ------------------------------------------------
json_get() { # json_get MEMBER < json
  node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>{const v=JSON.parse(d)[process.argv[1]];if(typeof v!=="string")process.exit(1);process.stdout.write(v)})' "$1"
}
password_grant() { # USER SCOPE -> token response
  curl -sS --fail-with-body --max-time 10 -u "conf-basic:$client_secret" -d grant_type=password \
    --data-urlencode "username=$1" --data-urlencode "password=$1-password" --data-urlencode "scope=$2" "$issuer/token"
}
jwt_alice="$(password_grant alice 'openid api:read' | json_get access_token)"
jwt_bob="$(password_grant bob 'openid api:read' | json_get access_token)"
opaque_alice="$(password_grant alice openid | json_get access_token)"
opaque_bob="$(password_grant bob openid | json_get access_token)"
revoked_alice="$(password_grant alice openid | json_get access_token)"
id_token_alice="$(password_grant alice openid | json_get id_token)"
curl -sS --fail-with-body --max-time 10 -u "conf-basic:$client_secret" -d "token=$revoked_alice" \
  -d token_type_hint=access_token "$issuer/token/revocation" >/dev/null
jwt_client="$(curl -sS --fail-with-body --max-time 10 -u "conf-basic:$client_secret" -d grant_type=client_credentials \
  -d scope=api:read "$issuer/token" | json_get access_token)"
opaque_client="$(curl -sS --fail-with-body --max-time 10 -u "conf-basic:$client_secret" -d grant_type=client_credentials \
  "$issuer/token" | json_get access_token)"
# bob's token with the payload's sub changed to alice (bob's signature kept).
jwt_tampered="$(node -e '
  const [h,p,s]=process.argv[1].split(".");
  const c=JSON.parse(Buffer.from(p,"base64url"));c.sub="alice";
  console.log([h,Buffer.from(JSON.stringify(c)).toString("base64url"),s].join("."))' "$jwt_bob")"
# alice's claims, unsigned (alg none).
jwt_none="$(node -e '
  const p=process.argv[1].split(".")[1];
  console.log([Buffer.from(JSON.stringify({alg:"none",typ:"at+jwt"})).toString("base64url"),p,""].join("."))' "$jwt_alice")"
for v in jwt_alice jwt_bob opaque_alice opaque_bob revoked_alice id_token_alice jwt_client opaque_client jwt_tampered jwt_none; do
  [ -n "${!v}" ] || { echo "pam tests: could not get $v from the provider" >&2; exit 1; }
done

# --- running one transaction ----------------------------------------------
use_valgrind="${PAM_TEST_VALGRIND:-1}"
n=0
# drive NAME SERVICE USER [VAR=value...]: runs the driver; sets $out (its stdout file),
# $msgs (conversation messages), $vg_ok (1 when valgrind found nothing).
drive() {
  local name="$1" svc="$2" user="$3"
  shift 3
  n=$((n + 1))
  out="$work/case$n.out"
  msgs="$work/case$n.msgs"
  : >"$msgs"
  local vg=()
  if [ "$use_valgrind" = 1 ]; then
    vg=(valgrind -q --leak-check=full --keep-debuginfo=yes --errors-for-leak-kinds=definite --error-exitcode=99
      --log-file="$work/case$n.valgrind.%p")
  fi
  local status=0
  echo "### case $n ($name)" >>"$work/syslog"
  env PAM_DRIVER_MESSAGES="$msgs" PAM_DRIVER_SYSLOG="$work/syslog" "$@" \
    "${vg[@]}" "$driver" "$conf" "$svc" "$user" >"$out" 2>"$work/case$n.err" || status=$?
  vg_ok=1
  if [ "$status" = 99 ]; then
    vg_ok=0
    cat "$work/case$n.valgrind".* | sed 's/^/    valgrind: /' | head -40
  elif [ "$status" != 0 ]; then
    vg_ok=0
    echo "    driver exited with status $status:"
    sed 's/^/    /' "$work/case$n.err" | head -20
  fi
}
field() { sed -n "s/^$1=\([A-Z_]*\).*/\1/p" "$out"; }
elapsed() { sed -n 's/.*elapsed_ms=\([0-9]*\).*/\1/p' "$out"; }

# check NAME EXPECTED_AUTH [acct=EXPECTED] [max_ms=N] [min_ms=N]: judges the last drive.
check() {
  local name="$1" want="$2"
  shift 2
  local got ms ok=1 extra=""
  got="$(field authenticate)"
  got="${got:-none}"
  ms="$(elapsed)"
  [ "$got" = "$want" ] || ok=0
  for c in "$@"; do
    case "$c" in
      acct=*)
        local a
        a="$(field acct_mgmt)"
        extra+=", acct_mgmt expected ${c#acct=} observed ${a:-none}"
        [ "$a" = "${c#acct=}" ] || ok=0 ;;
      max_ms=*)
        extra+=", ${ms:-?} ms (limit ${c#max_ms=})"
        [ -n "$ms" ] && [ "$ms" -le "${c#max_ms=}" ] || ok=0 ;;
      child=*)
        local c1 c2
        c1="$(field child_authenticate)"
        c2="$(sed -n 's/^child_exit=//p' "$out")"
        extra+=", forked child expected ${c#child=} observed ${c1:-none} (exit ${c2:-?})"
        [ "$c1" = "${c#child=}" ] && [ "$c2" = 0 ] || ok=0 ;;
      again=*)
        local want_again="${c#again=}" count="${c#*x}" got_again
        want_again="${want_again%x*}"
        got_again="$(sed -n 's/^authenticate_again=\([A-Z_]*\).*/\1/p' "$out" | sort | uniq -c | awk '{print $2 "x" $1}' | paste -sd, -)"
        extra+=", later rounds expected ${want_again}x$count observed ${got_again:-none}"
        [ "$got_again" = "${want_again}x$count" ] || ok=0 ;;
      min_ms=*)
        [ -n "$ms" ] && [ "$ms" -ge "${c#min_ms=}" ] || { ok=0; extra+=", faster than ${c#min_ms=} ms"; } ;;
    esac
  done
  [ "$vg_ok" = 1 ] || { ok=0; extra+=", valgrind/driver error"; }
  local line="$name: expected $want, observed $got$extra"
  if [ "$ok" = 1 ]; then pass "$line"; else
    failc "$line"
    sed 's/^/    driver: /' "$out"
    sed 's/^/    conv: /' "$msgs"
  fi
}

# case NAME EXPECTED SERVICE USER [VAR=value...] -- [check options]
case_() {
  local name="$1" want="$2" svc="$3" user="$4"
  shift 4
  local envs=() checks=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  checks=("$@")
  drive "$name" "$svc" "$user" "${envs[@]}"
  check "$name" "$want" "${checks[@]}"
}

# device_case NAME EXPECTED SERVICE PAM_USER ACTION(approve|deny|none) APPROVER [VAR=value...]
# Approves or denies in the background as soon as the code appears in the messages.
device_case() {
  local name="$1" want="$2" svc="$3" user="$4" action="$5" approver="$6"
  shift 6
  local next=$((n + 1)) approver_pid=""
  : >"$work/case$next.msgs"
  if [ "$action" != none ]; then
    (
      for _ in $(seq 1 300); do
        code="$(sed -n 's/.*enter the code \([A-Za-z0-9-]*\).*/\1/p' "$work/case$next.msgs" | head -1)"
        if [ -n "$code" ]; then
          curl -sS --max-time 30 -X POST "$issuer/test/device/$action" -H 'content-type: application/json' \
            -d "{\"user_code\":\"$code\",\"user\":\"$approver\"}" >"$work/case$next.approver" 2>&1
          exit 0
        fi
        sleep 0.1
      done
      echo "no user code seen" >"$work/case$next.approver"
    ) &
    approver_pid=$!
  fi
  drive "$name" "$svc" "$user" "$@"
  if [ -n "$approver_pid" ]; then wait "$approver_pid" || true; fi
  local seen
  seen="$(grep -c '^TEXT_INFO: To sign in, open .* and enter the code ' "$msgs" || true)"
  if [ "$seen" != 1 ] && [ "$want" != PAM_CONV_ERR ]; then
    vg_ok=0
    echo "    the verification URL and code were not shown through PAM_TEXT_INFO"
  fi
  if [ "$action" != none ] && ! grep -q '"ok":true' "$work/case$next.approver"; then
    vg_ok=0
    echo "    the $action request failed: $(cat "$work/case$next.approver")"
  fi
  check "$name" "$want"
}

echo "pam tests: provider $issuer, valgrind $([ "$use_valgrind" = 1 ] && echo on || echo off)"

# --- password mode --------------------------------------------------------
case_ "password: alice, right password" PAM_SUCCESS pw alice PAM_DRIVER_PASSWORD=alice-password PAM_DRIVER_ACCT=1 -- acct=PAM_SUCCESS
grep -q '^setcred=PAM_SUCCESS' "$out" && pass "setcred after success: expected PAM_SUCCESS, observed PAM_SUCCESS" ||
  failc "setcred after success: expected PAM_SUCCESS, observed $(field setcred)"
case_ "password: in a forked child, after the parent authenticated (sshd)" PAM_SUCCESS pw alice PAM_DRIVER_PASSWORD=alice-password PAM_DRIVER_FORK=1 -- child=PAM_SUCCESS
case_ "password: 3 transactions in one process (module unloaded between)" PAM_SUCCESS pw alice PAM_DRIVER_PASSWORD=alice-password PAM_DRIVER_REPEAT=3 -- again=PAM_SUCCESSx2
case_ "password: alice, wrong password" PAM_AUTH_ERR pw alice PAM_DRIVER_PASSWORD=not-alice-password PAM_DRIVER_ACCT=1 -- acct=PAM_PERM_DENIED
case_ "password: unknown user (mallory)" PAM_AUTH_ERR pw mallory PAM_DRIVER_PASSWORD=mallory-password
case_ "password: empty password" PAM_AUTH_ERR pw alice PAM_DRIVER_PASSWORD=
case_ "password: bob, username_claim=sub" PAM_SUCCESS pw-sub bob PAM_DRIVER_PASSWORD=bob-password
case_ "password: no profile scope, so no preferred_username" PAM_AUTH_ERR pw-noprofile alice PAM_DRIVER_PASSWORD=alice-password
case_ "password: username_claim=email differs from the PAM user" PAM_AUTH_ERR pw-email alice PAM_DRIVER_PASSWORD=alice-password
case_ "password: conversation fails" PAM_CONV_ERR pw alice PAM_DRIVER_CONV_FAIL=1
case_ "password: use_first_pass after pam_unix asked" PAM_SUCCESS pw-stacked alice PAM_DRIVER_PASSWORD=alice-password
prompts="$(grep -c '^PROMPT_ECHO_OFF' "$msgs" || true)"
[ "$prompts" = 1 ] && pass "use_first_pass: expected 1 password prompt, observed $prompts" ||
  failc "use_first_pass: expected 1 password prompt, observed $prompts"
case_ "password: use_first_pass without an earlier password" PAM_AUTH_ERR pw-firstpass-alone alice PAM_DRIVER_PASSWORD=alice-password
case_ "password: wrong client secret (invalid_client)" PAM_SERVICE_ERR pw-wrongsecret alice PAM_DRIVER_PASSWORD=alice-password
case_ "account without authentication (module: PAM_IGNORE)" none pw alice PAM_DRIVER_SKIP_AUTH=1 -- acct=PAM_PERM_DENIED

# --- token mode -----------------------------------------------------------
case_ "token: alice's JWT access token" PAM_SUCCESS tok alice PAM_DRIVER_PASSWORD="$jwt_alice" PAM_DRIVER_ACCT=1 -- acct=PAM_SUCCESS
case_ "token: bob's JWT presented as alice" PAM_AUTH_ERR tok alice PAM_DRIVER_PASSWORD="$jwt_bob"
case_ "token: tampered JWT (sub changed to alice)" PAM_AUTH_ERR tok alice PAM_DRIVER_PASSWORD="$jwt_tampered"
case_ "token: unsigned JWT (alg none)" PAM_AUTH_ERR tok alice PAM_DRIVER_PASSWORD="$jwt_none"
case_ "token: JWT for another audience" PAM_AUTH_ERR tok-otheraud alice PAM_DRIVER_PASSWORD="$jwt_alice"
case_ "token: ID token instead of an access token" PAM_AUTH_ERR tok alice PAM_DRIVER_PASSWORD="$id_token_alice"
case_ "token: client-credentials JWT (sub = client)" PAM_AUTH_ERR tok conf-basic PAM_DRIVER_PASSWORD="$jwt_client"
case_ "token: client-credentials opaque token (no sub)" PAM_AUTH_ERR tok conf-basic PAM_DRIVER_PASSWORD="$opaque_client"
case_ "token: alice's opaque token (introspection)" PAM_SUCCESS tok alice PAM_DRIVER_PASSWORD="$opaque_alice"
case_ "token: bob's opaque token presented as alice" PAM_AUTH_ERR tok alice PAM_DRIVER_PASSWORD="$opaque_bob"
case_ "token: revoked opaque token" PAM_AUTH_ERR tok alice PAM_DRIVER_PASSWORD="$revoked_alice"
case_ "token: unknown opaque token" PAM_AUTH_ERR tok alice PAM_DRIVER_PASSWORD=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA

# --- device mode ----------------------------------------------------------
device_case "device: approved by alice" PAM_SUCCESS dev alice approve alice
device_case "device: denied" PAM_AUTH_ERR dev alice deny alice
device_case "device: approved by bob, PAM user alice" PAM_AUTH_ERR dev alice approve bob
device_case "device: code expires (device-short, 3 s)" PAM_AUTH_ERR dev-short alice none none
device_case "device: public client (PKCE on by default), approved" PAM_SUCCESS dev-public alice approve alice
# The provider records whether each token request carried a code_verifier: the public
# client's polls did (oidc-provider ignores it; Keycloak requires it of PKCE clients).
if curl -sS --max-time 30 "$issuer/test/requests" | grep -q '"code_verifier":true'; then
  pass "device: the public client's poll sent the PKCE code_verifier"
else
  failc "device: the public client's poll sent no PKCE code_verifier"
fi
device_case "device: device_prompt, approved" PAM_SUCCESS dev-prompt alice approve alice
if grep -q '^PROMPT_ECHO_ON: Press Enter' "$msgs"; then pass "device_prompt: expected a prompt after the code, observed one"; else
  failc "device_prompt: expected a prompt after the code, observed none"; fi
device_case "device: conversation fails" PAM_CONV_ERR dev alice none none PAM_DRIVER_CONV_FAIL=1

# --- provider unavailable -------------------------------------------------
# timeout_ms bounds the network; valgrind adds a fixed start-up cost of its own.
hang_limit=$((2000 + (use_valgrind == 1 ? 3000 : 1000)))
case_ "provider down (closed port, timeout_ms=3000)" PAM_AUTHINFO_UNAVAIL down alice PAM_DRIVER_PASSWORD=alice-password -- max_ms=3000
case_ "provider never answers (timeout_ms=2000)" PAM_AUTHINFO_UNAVAIL hang alice PAM_DRIVER_PASSWORD=alice-password -- min_ms=1500 max_ms=$hang_limit

# --- the provider state cache (cache_dir) ----------------------------------
counts() { # discovery JWKS token: requests the provider answered so far
  local d j t
  d="$(curl -sS --max-time 10 "$issuer/test/discovery-fetch-count" | json_get_number count)"
  j="$(curl -sS --max-time 10 "$issuer/test/jwks-fetch-count" | json_get_number count)"
  t="$(curl -sS --max-time 10 "$issuer/test/requests" | node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>console.log(JSON.parse(d).length))')"
  echo "$d $j $t"
}
json_get_number() {
  node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>console.log(JSON.parse(d)[process.argv[1]]))' "$1"
}
# counted NAME EXPECTED "D J T": the last case made D discovery, J JWKS and T token requests.
count_before=""
counted() {
  local after d j t bd bj bt
  after="$(counts)"
  read -r bd bj bt <<<"$count_before"
  read -r d j t <<<"$after"
  local got="$((d - bd)) $((j - bj)) $((t - bt))"
  if [ "$got" = "$2" ]; then pass "$1: expected discovery/JWKS/token requests $2, observed $got"; else
    failc "$1: expected discovery/JWKS/token requests $2, observed $got"; fi
}
outage() { curl -sS --max-time 10 -X POST "$issuer/test/outage" -H 'content-type: application/json' -d "{\"down\":$1}" >/dev/null; }
trap 'outage false 2>/dev/null || true; cleanup' EXIT
count_before="$(counts)"
case_ "cache: cold login" PAM_SUCCESS pw-count alice PAM_DRIVER_PASSWORD=alice-password
counted "cache: cold login" "1 1 1"
state_file="$(ls "$work/cache-count"/soidc-state-*.json 2>/dev/null | head -1)"
if [ -n "$state_file" ] && [ "$(stat -c %a "$work/cache-count")" = 700 ] && [ "$(stat -c %a "$state_file")" = 600 ] &&
  ! grep -qF "$client_secret" "$state_file"; then
  pass "cache: directory 0700 created, state file 0600 without the client secret"
else
  failc "cache: directory 0700 created, state file 0600 without the client secret ($(ls -la "$work/cache-count" 2>&1 | tr '\n' ' '))"
fi
count_before="$(counts)"
case_ "cache: warm login" PAM_SUCCESS pw-count alice PAM_DRIVER_PASSWORD=alice-password
counted "cache: warm login (only the token request)" "0 0 1"
outage true
count_before="$(counts)"
case_ "cache: discovery and JWKS down, warm cache" PAM_SUCCESS pw-count alice PAM_DRIVER_PASSWORD=alice-password
counted "cache: discovery and JWKS down, warm cache" "0 0 1"
case_ "cache: discovery and JWKS down, no_cache" PAM_AUTHINFO_UNAVAIL pw-nocache alice PAM_DRIVER_PASSWORD=alice-password
outage false
count_before="$(counts)"
case_ "no_cache: every login discovers" PAM_SUCCESS pw-nocache alice PAM_DRIVER_PASSWORD=alice-password
counted "no_cache: every login discovers" "1 1 1"
case_ "config: cache_dir= relative" PAM_SERVICE_ERR cfg-cache-relative alice PAM_DRIVER_PASSWORD=alice-password
case_ "config: cache_dir= with no_cache" PAM_SERVICE_ERR cfg-cache-both alice PAM_DRIVER_PASSWORD=alice-password

# --- configuration --------------------------------------------------------
case_ "config: no issuer=" PAM_SERVICE_ERR cfg-noissuer alice PAM_DRIVER_PASSWORD=alice-password
case_ "config: client_secret= on the command line" PAM_SERVICE_ERR cfg-inline-secret alice PAM_DRIVER_PASSWORD=alice-password
case_ "config: secret file mode 0644" PAM_SERVICE_ERR cfg-0644 alice PAM_DRIVER_PASSWORD=alice-password
if [ -n "$secret_other_owner" ]; then
  case_ "config: secret file owned by nobody" PAM_SERVICE_ERR cfg-owner alice PAM_DRIVER_PASSWORD=alice-password
fi
case_ "config: misspelt argument (audiance=)" PAM_SERVICE_ERR cfg-typo alice PAM_DRIVER_PASSWORD="$jwt_alice"
case_ "config: misspelt client_secrett= (value must not be logged)" PAM_SERVICE_ERR cfg-typo-secret alice PAM_DRIVER_PASSWORD=alice-password
case_ "config: mode=token without audience=" PAM_SERVICE_ERR cfg-noaud alice PAM_DRIVER_PASSWORD="$jwt_alice"

# --- logs -----------------------------------------------------------------
if grep -q 'pam_soidc(pw:auth): user "alice" authenticated' "$work/syslog" &&
  grep -q 'pam_soidc(pw:auth): soidc: ' "$work/syslog"; then
  pass "syslog: expected module and soidc messages, observed them"
else
  failc "syslog: expected module and soidc messages, observed none"
fi
leaks=()
for s in alice-password not-alice-password bob-password mallory-password "$client_secret" "$short_secret" \
  not-the-secret "$jwt_alice" "$jwt_bob" "$opaque_alice" "$opaque_bob" "$revoked_alice" "$id_token_alice" \
  "$jwt_client" "$opaque_client" "${jwt_alice##*.}" "${jwt_bob##*.}" "${id_token_alice##*.}"; do
  if grep -qF -- "$s" "$work/syslog"; then leaks+=("${s:0:12}..."); fi
done
if [ ${#leaks[@]} -eq 0 ]; then
  pass "syslog: expected no password, token or client secret, observed none ($(grep -vc '^###' "$work/syslog") lines)"
else
  failc "syslog: expected no password, token or client secret, observed ${leaks[*]}"
fi

# Every service keeps its cache in the work directory: the module's default stays untouched.
if [ -e /var/cache/soidc ] && [ /var/cache/soidc -nt "$work" ] && [ -n "$(find /var/cache/soidc -newer "$work" -print -quit)" ]; then
  failc "cache: the tests wrote to /var/cache/soidc"
fi

echo "PAM tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
