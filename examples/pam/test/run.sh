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

# A port nobody listens on (the provider is "down"). Picked below the kernel's ephemeral
# range (ip_local_port_range): a port there is handed out to every bind(port 0) on the
# machine, so another suite running beside this one (make test runs them side by side)
# could start listening on it.
closed_port=""
eph_low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
for _ in $(seq 1 200); do
  p=$(( 10000 + (RANDOM * 32768 + RANDOM) % (eph_low > 11000 ? eph_low - 10000 : 1000) ))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then closed_port=$p; break; fi
done
[ -n "$closed_port" ] || { echo "pam tests: no closed port found" >&2; exit 1; }
# A "provider" that accepts connections and never answers; it counts them in hang-conns.
echo 0 >"$work/hang-conns"
node -e 'const fs=require("fs");let n=0;const s=require("net").createServer(()=>fs.writeFileSync(process.argv[1],String(++n)));s.listen(0,"127.0.0.1",()=>console.log(s.address().port))' \
  "$work/hang-conns" >"$work/hang-port" 2>/dev/null &
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
service hang-backoff "issuer=http://127.0.0.1:$hang_port client_id=conf-basic client_secret_file=$work/secret timeout_ms=2000 cache_dir=$work/cache-hang provider_down_backoff_s=600"
service hang-nobackoff "issuer=http://127.0.0.1:$hang_port client_id=conf-basic client_secret_file=$work/secret timeout_ms=2000 cache_dir=$work/cache-hang provider_down_backoff_s=0"
service pw-backoff "$common [scope=openid profile] cache_dir=$work/cache-backoff provider_down_backoff_s=600"
service cfg-backoff "$common provider_down_backoff_s=soon"
service cfg-backoff-big "$common provider_down_backoff_s=3601"
service cfg-backoff-nocache "$common no_cache provider_down_backoff_s=30"
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

# Identity mapping: map files (format in README.md).
cat >"$work/map" <<'MAP'
# identity   local user
alice        alice
alice        admin-alice   # alice may also log in as admin-alice
carol        bob
MAP
chmod 0644 "$work/map"
cp "$work/map" "$work/map-0664" && chmod 0664 "$work/map-0664"
printf 'alice alice\nthis line has three words\n' >"$work/map-bad" && chmod 0644 "$work/map-bad"
printf 'alice -rf\n' >"$work/map-baduser" && chmod 0644 "$work/map-baduser"
ln -s "$work/map" "$work/map-link"
service pw-upn "$common [scope=openid pam] username_claim=upn strip_domain=example.test lowercase"
service pw-upn-case "$common [scope=openid pam] username_claim=upn strip_domain=example.test"
service pw-upn-domain "$common [scope=openid pam] username_claim=upn strip_domain=example.com lowercase"
service pw-email-strip "$common [scope=openid email] username_claim=email strip_domain=EXAMPLE.test"
service tok-map "$common mode=token audience=https://api.soidc.test username_claim=sub map_file=$work/map"
service dev-map "$common mode=device username_claim=sub map_file=$work/map qr=off"
service cfg-map-0664 "$common map_file=$work/map-0664"
service cfg-map-bad "$common map_file=$work/map-bad"
service cfg-map-baduser "$common map_file=$work/map-baduser"
service cfg-map-missing "$common map_file=$work/no-such-map"
service cfg-map-link "$common map_file=$work/map-link"
service cfg-map-relative "$common map_file=map"
service cfg-strip-at "$common strip_domain=@example.test"
# Claim rules (soidc's require_claims decode option).
service pw-gate "$common [scope=openid profile roles] [require_claim=realm_access.roles contains ssh-login]"
service pw-gate2 "$common [scope=openid profile email roles pam] [require_claim=groups contains_any wheel,admins] [require_claim=email_verified eq true] [require_claim=/realm_access/roles exists]"
service tok-gate "$common mode=token audience=https://api.soidc.test [require_claim=client_id in conf-basic,other]"
service tok-gate-fail "$common mode=token audience=https://api.soidc.test [require_claim=client_id eq another-client]"
service tok-gate-role "$common mode=token audience=https://api.soidc.test [require_claim=realm_access.roles contains ssh-login]"
service dev-gate "$common mode=device [scope=openid profile roles] [require_claim=realm_access.roles contains ssh-login] qr=off"
service cfg-rule-op "$common [require_claim=groups includes admins]"
service cfg-rule-novalue "$common [require_claim=groups contains]"
service cfg-rule-exists-value "$common [require_claim=groups exists admins]"
service cfg-rule-emptyitem "$common [require_claim=groups in a,,b]"
service cfg-rule-badpath "$common [scope=openid profile] [require_claim=a..b exists]"
# acr and auth_time of the ID token.
service pw-acr "$common [scope=openid profile] require_acr=urn:acr:pwd,urn:acr:mfa"
service pw-acr-mfa "$common [scope=openid profile] require_acr=urn:acr:mfa"
service pw-maxage "$common [scope=openid profile] max_age=300"
service dev-acr-mfa "$common mode=device username_claim=sub require_acr=urn:acr:mfa qr=off"
service dev-maxage "$common mode=device username_claim=sub max_age=300 qr=off"
service cfg-acr-token "$common mode=token audience=https://api.soidc.test require_acr=urn:acr:mfa"
service cfg-acr-list "$common require_acr=a,,b"
service cfg-maxage "$common max_age=ten"
# Device-mode QR code.
service dev-qr-ascii "$common mode=device username_claim=sub qr=ascii"
service dev-qr-off "$common mode=device username_claim=sub qr=off"
service cfg-qr "$common mode=device qr=sixel"
service cfg-qr-password "$common qr=ascii"

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

# SOIDC_PAM_PART=a or b runs one half of the cases (make test runs both halves side by
# side, each with its own provider and work directory); unset or "all": every case.
pam_part() { [ "${SOIDC_PAM_PART:-all}" = all ] || [ "$SOIDC_PAM_PART" = "$1" ]; }
case "${SOIDC_PAM_PART:-all}" in all | a | b) ;; *) echo "pam tests: SOIDC_PAM_PART must be a, b or all" >&2; exit 2 ;; esac

# logged NAME PATTERN: the last case's syslog lines contain PATTERN (grep -E).
logged() {
  if sed -n "/^### case $n (/,\$p" "$work/syslog" | grep -qE -- "$2"; then pass "$1: logged /$2/"; else
    failc "$1: expected a log line matching /$2/"
    sed -n "/^### case $n (/,\$p" "$work/syslog" | sed 's/^/    syslog: /'
  fi
}

if pam_part a; then
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

fi

if pam_part b; then
# --- identity mapping -------------------------------------------------------
case_ "mapping: upn Alice@EXAMPLE.test, strip_domain=example.test lowercase -> alice" PAM_SUCCESS pw-upn alice PAM_DRIVER_PASSWORD=alice-password
logged "mapping: success line" 'user "alice" authenticated \(password mode\): iss "http[^"]*", sub "alice", acr "-", identity "alice" mapped to user "alice"'
case_ "mapping: upn without lowercase (Alice is not alice)" PAM_AUTH_ERR pw-upn-case alice PAM_DRIVER_PASSWORD=alice-password
logged "mapping: refusal names iss and sub" 'the username claim names another user \(iss "http[^"]*", sub "alice"\)'
case_ "mapping: strip_domain=example.com, claim in example.test" PAM_AUTH_ERR pw-upn-domain alice PAM_DRIVER_PASSWORD=alice-password
logged "mapping: foreign domain" 'not a name in the domain of strip_domain='
case_ "mapping: email alice@example.test, strip_domain=EXAMPLE.test (domain case ignored)" PAM_SUCCESS pw-email-strip alice PAM_DRIVER_PASSWORD=alice-password
case_ "mapping: map_file, alice's token as admin-alice" PAM_SUCCESS tok-map admin-alice PAM_DRIVER_PASSWORD="$jwt_alice" PAM_DRIVER_ACCT=1 -- acct=PAM_SUCCESS
logged "mapping: map_file success line" 'user "admin-alice" authenticated \(token mode\): .*identity "alice" mapped to user "admin-alice"'
case_ "mapping: map_file, alice's token as alice" PAM_SUCCESS tok-map alice PAM_DRIVER_PASSWORD="$jwt_alice"
case_ "mapping: map_file, alice's token as bob (alice maps to others)" PAM_AUTH_ERR tok-map bob PAM_DRIVER_PASSWORD="$jwt_alice"
logged "mapping: other users" 'map_file maps this identity to other local users'
case_ "mapping: map_file, bob's token as bob (bob not in the map)" PAM_PERM_DENIED tok-map bob PAM_DRIVER_PASSWORD="$jwt_bob"
logged "mapping: no entry" 'map_file has no entry for this identity \(iss "http[^"]*", sub "bob"\) -> Permission denied'
device_case "mapping: device, approved by alice, PAM user admin-alice (map_file)" PAM_SUCCESS dev-map admin-alice approve alice
device_case "mapping: device, approved by bob, PAM user admin-alice (map_file)" PAM_PERM_DENIED dev-map admin-alice approve bob
case_ "config: map_file mode 0664" PAM_SERVICE_ERR cfg-map-0664 alice PAM_DRIVER_PASSWORD=alice-password
logged "config: map_file mode 0664" 'map_file has mode 0664'
grep -q '^PROMPT_ECHO_OFF' "$msgs" && failc "config: map_file error found before the password prompt" ||
  pass "config: map_file error found before the password prompt"
case_ "config: map_file with a 3-word line" PAM_SERVICE_ERR cfg-map-bad alice PAM_DRIVER_PASSWORD=alice-password
logged "config: map_file line 2" 'map_file line 2: expected "IDENTITY LOCAL_USER"'
case_ "config: map_file local user -rf" PAM_SERVICE_ERR cfg-map-baduser alice PAM_DRIVER_PASSWORD=alice-password
logged "config: map_file local user" 'map_file line 1: the local user name'
case_ "config: map_file missing" PAM_SERVICE_ERR cfg-map-missing alice PAM_DRIVER_PASSWORD=alice-password
logged "config: map_file missing" 'cannot open map_file: No such file'
case_ "config: map_file a symlink" PAM_SERVICE_ERR cfg-map-link alice PAM_DRIVER_PASSWORD=alice-password
logged "config: map_file symlink" 'cannot open map_file'
case_ "config: map_file relative" PAM_SERVICE_ERR cfg-map-relative alice PAM_DRIVER_PASSWORD=alice-password
logged "config: map_file relative" 'map_file= must be an absolute path'
case_ "config: strip_domain=@example.test" PAM_SERVICE_ERR cfg-strip-at alice PAM_DRIVER_PASSWORD=alice-password
logged "config: strip_domain with @" 'strip_domain=@example.test: expected a domain name'

# --- claim rules (require_claim=) -------------------------------------------
# soidc's require_claims decode option comes with the library's claim rules (issue 20);
# a libsoidc without it refuses the option, which the module reports as a configuration
# error (PAM_SERVICE_ERR, logged) rather than ignoring a gate.
if grep -q 'require_claims' "$root/include/soidc.h"; then
  rules_ok=1 gate_pass=PAM_SUCCESS gate_fail=PAM_PERM_DENIED
else
  rules_ok=0 gate_pass=PAM_SERVICE_ERR gate_fail=PAM_SERVICE_ERR
  echo "pam tests: this libsoidc has no require_claims decode option: gates must fail closed (PAM_SERVICE_ERR)"
fi
case_ "rules: alice has role ssh-login" "$gate_pass" pw-gate alice PAM_DRIVER_PASSWORD=alice-password
[ "$rules_ok" = 1 ] || logged "rules: unsupported option reported" 'require_claims'
case_ "rules: bob lacks role ssh-login" "$gate_fail" pw-gate bob PAM_DRIVER_PASSWORD=bob-password
if [ "$rules_ok" = 1 ]; then
  logged "rules: failed rule named" 'claim rule "realm_access.roles contains" failed.* -> Permission denied'
  # bob's own roles (["dev"]) never reach the log, only the rule.
  if sed -n "/^### case $n (/,\$p" "$work/syslog" | grep -q '"dev"'; then failc "rules: a claim value of bob's was logged"; else
    pass "rules: no claim value of bob's in the log"; fi
fi
case_ "rules: three rules (contains_any, eq true, JSON pointer exists), alice" "$gate_pass" pw-gate2 alice PAM_DRIVER_PASSWORD=alice-password
case_ "rules: three rules, bob (not in admins/wheel)" "$gate_fail" pw-gate2 bob PAM_DRIVER_PASSWORD=bob-password
case_ "rules: token mode, client_id in list" "$gate_pass" tok-gate alice PAM_DRIVER_PASSWORD="$jwt_alice"
case_ "rules: token mode, client_id eq another-client" "$gate_fail" tok-gate-fail alice PAM_DRIVER_PASSWORD="$jwt_alice"
case_ "rules: token mode, alice's JWT has role ssh-login" "$gate_pass" tok-gate-role alice PAM_DRIVER_PASSWORD="$jwt_alice"
case_ "rules: token mode, bob's JWT lacks role ssh-login" "$gate_fail" tok-gate-role bob PAM_DRIVER_PASSWORD="$jwt_bob"
case_ "rules: token mode, opaque token cannot be checked" PAM_PERM_DENIED tok-gate alice PAM_DRIVER_PASSWORD="$opaque_alice"
logged "rules: opaque token refused" 'require_claim= needs a JWT access token'
device_case "rules: device, approved by alice (ssh-login)" "$gate_pass" dev-gate alice approve alice
device_case "rules: device, approved by bob as bob (no ssh-login)" "$gate_fail" dev-gate bob approve bob
case_ "config: require_claim with unknown operator" PAM_SERVICE_ERR cfg-rule-op alice PAM_DRIVER_PASSWORD=alice-password
logged "config: unknown operator" 'require_claim=groups includes admins: unknown operator'
case_ "config: require_claim without value" PAM_SERVICE_ERR cfg-rule-novalue alice PAM_DRIVER_PASSWORD=alice-password
logged "config: rule without value" 'this operator needs a value'
case_ "config: require_claim exists with a value" PAM_SERVICE_ERR cfg-rule-exists-value alice PAM_DRIVER_PASSWORD=alice-password
case_ "config: require_claim with an empty list item" PAM_SERVICE_ERR cfg-rule-emptyitem alice PAM_DRIVER_PASSWORD=alice-password
case_ "config: require_claim with a path soidc refuses (a..b)" PAM_SERVICE_ERR cfg-rule-badpath alice PAM_DRIVER_PASSWORD=alice-password
logged "config: bad path reported" 'require_claims.* -> Error in service module|a\.\.b.* -> Error in service module'

# --- acr and auth_time (require_acr=, max_age=) --------------------------------
case_ "acr: require_acr includes the password acr" PAM_SUCCESS pw-acr alice PAM_DRIVER_PASSWORD=alice-password
logged "acr: success line carries acr" 'acr "urn:acr:pwd"'
case_ "acr: require_acr=urn:acr:mfa, password gives another acr" PAM_AUTH_ERR pw-acr-mfa alice PAM_DRIVER_PASSWORD=alice-password
logged "acr: refusal" 'acr "urn:acr:pwd" is not in acr_values_allowed \["urn:acr:mfa"\].* -> Authentication failure'
case_ "max_age=300: fresh password login" PAM_SUCCESS pw-maxage alice PAM_DRIVER_PASSWORD=alice-password
curl -sS --max-time 10 -X POST "$issuer/test/password-auth-age" -H 'content-type: application/json' -d '{"s":3600}' >/dev/null
case_ "max_age=300: auth_time an hour ago" PAM_AUTH_ERR pw-maxage alice PAM_DRIVER_PASSWORD=alice-password
logged "max_age: refusal" 'auth_time [0-9]+ is older than max_age 300 s'
curl -sS --max-time 10 -X POST "$issuer/test/password-auth-age" -H 'content-type: application/json' -d '{"s":0}' >/dev/null
# The device start sends require_acr= as acr_values (soidc's acr_values option); the test
# provider's browser and device logins give the first requested value as acr.
device_case "acr: device, require_acr=urn:acr:mfa (sent as acr_values, the login gives it)" PAM_SUCCESS dev-acr-mfa alice approve alice
logged "acr: device success line carries acr" 'authenticated \(device mode\): .*acr "urn:acr:mfa"'
device_case "max_age=300: device login just now" PAM_SUCCESS dev-maxage alice approve alice
case_ "config: require_acr= in token mode" PAM_SERVICE_ERR cfg-acr-token alice PAM_DRIVER_PASSWORD="$jwt_alice"
case_ "config: require_acr=a,,b" PAM_SERVICE_ERR cfg-acr-list alice PAM_DRIVER_PASSWORD=alice-password
case_ "config: max_age=ten" PAM_SERVICE_ERR cfg-maxage alice PAM_DRIVER_PASSWORD=alice-password
logged "config: max_age" 'max_age= must be a number of seconds'

# --- device-mode QR code ---------------------------------------------------
# qr_case NAME STYLE: the last device case showed the code, then a QR code of
# verification_uri_complete equal, module for module, to qrencode(1)'s.
qr_case() {
  local r
  if r="$(node "$root/examples/pam/test/qr_check.js" "$msgs" "$2" 2>&1)"; then pass "$1: $r"; else
    failc "$1: $r"
    sed 's/^/    conv: /' "$msgs" | head -60
  fi
}
device_case "qr: default (unicode half blocks), approved" PAM_SUCCESS dev alice approve alice
qr_case "qr: unicode drawing" unicode
device_case "qr: qr=ascii, approved" PAM_SUCCESS dev-qr-ascii alice approve alice
qr_case "qr: ascii drawing" ascii
device_case "qr: with device_prompt, approved" PAM_SUCCESS dev-prompt alice approve alice
qr_case "qr: with device_prompt" unicode
last_kind="$(grep -E '^[A-Z_]+: ' "$msgs" | tail -1 | cut -d: -f1)"
[ "$last_kind" = PROMPT_ECHO_ON ] && pass "qr: device_prompt comes after the QR code (sshd shows text with the next prompt)" ||
  failc "qr: expected the prompt last, observed $last_kind last"
device_case "qr: qr=off, approved" PAM_SUCCESS dev-qr-off alice approve alice
if grep -q 'QR code' "$msgs"; then failc "qr=off: expected no QR code, observed one"; else pass "qr=off: expected no QR code, observed none"; fi
case_ "config: qr=sixel" PAM_SERVICE_ERR cfg-qr alice
logged "config: qr value" 'qr=sixel: expected unicode, ascii or off'
case_ "config: qr= in password mode" PAM_SERVICE_ERR cfg-qr-password alice PAM_DRIVER_PASSWORD=alice-password

fi

if pam_part a; then
# --- provider unavailable -------------------------------------------------
# timeout_ms bounds the network; valgrind adds a fixed start-up cost of its own.
hang_limit=$((2000 + (use_valgrind == 1 ? 3000 : 1000)))
case_ "provider down (closed port, timeout_ms=3000)" PAM_AUTHINFO_UNAVAIL down alice PAM_DRIVER_PASSWORD=alice-password -- max_ms=3000
case_ "provider never answers (timeout_ms=2000)" PAM_AUTHINFO_UNAVAIL hang alice PAM_DRIVER_PASSWORD=alice-password -- min_ms=1500 max_ms=$hang_limit

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

# --- fast failure while the provider is known to be down ---------------------
# conns: connections the never-answering provider has accepted so far.
conns() { cat "$work/hang-conns"; }
c0="$(conns)"
case_ "outage: first login waits out timeout_ms=2000 (provider_down_backoff_s=600)" PAM_AUTHINFO_UNAVAIL hang-backoff alice PAM_DRIVER_PASSWORD=alice-password -- min_ms=1500 max_ms=$hang_limit
c1="$(conns)"
down_file="$(ls "$work/cache-hang"/soidc-state-*.down 2>/dev/null | head -1)"
if [ "$c1" -gt "$c0" ] && [ -n "$down_file" ] && [ "$(stat -c %a "$down_file")" = 600 ]; then
  pass "outage: the failure was recorded in cache_dir ($(basename "$down_file"), mode 600; $((c1 - c0)) connection(s))"
else
  failc "outage: expected a connection and a .down record, observed $((c1 - c0)) connection(s), record '${down_file:-none}'"
fi
case_ "outage: second login fails at once" PAM_AUTHINFO_UNAVAIL hang-backoff alice PAM_DRIVER_PASSWORD=alice-password
c2="$(conns)"
[ "$c2" = "$c1" ] && pass "outage: second login made no connection to the provider ($c2 in all), $(elapsed) ms" ||
  failc "outage: second login connected to the provider ($c1 -> $c2)"
logged "outage: reason logged" 'not sent: the provider was unreachable .* provider_down_backoff_s is 600 s.* -> Authentication service cannot retrieve'
case_ "outage: PAM_DRIVER_REPEAT=3, every login fails at once" PAM_AUTHINFO_UNAVAIL hang-backoff alice PAM_DRIVER_PASSWORD=alice-password PAM_DRIVER_REPEAT=3 -- again=PAM_AUTHINFO_UNAVAILx2
[ "$(conns)" = "$c1" ] && pass "outage: 3 more logins, no connection" || failc "outage: 3 more logins connected ($c1 -> $(conns))"
case_ "outage: provider_down_backoff_s=0 ignores the record and waits" PAM_AUTHINFO_UNAVAIL hang-nobackoff alice PAM_DRIVER_PASSWORD=alice-password -- min_ms=1500
[ "$(conns)" -gt "$c1" ] && pass "outage: provider_down_backoff_s=0 connected again" || failc "outage: provider_down_backoff_s=0 did not connect"
# The warm path at the real provider: a fresh state file, then a recorded outage.
case_ "outage: warm cache, provider up" PAM_SUCCESS pw-backoff alice PAM_DRIVER_PASSWORD=alice-password
backoff_state="$(ls "$work/cache-backoff"/soidc-state-*.json | head -1)"
date +%s >"${backoff_state%.json}.down"
chmod 600 "${backoff_state%.json}.down"
count_before="$(counts)"
case_ "outage: warm cache, outage recorded just now" PAM_AUTHINFO_UNAVAIL pw-backoff alice PAM_DRIVER_PASSWORD=alice-password
counted "outage: recorded outage, warm cache (no request at all)" "0 0 0"
echo $(($(date +%s) - 700)) >"${backoff_state%.json}.down"
count_before="$(counts)"
case_ "outage: record older than provider_down_backoff_s" PAM_SUCCESS pw-backoff alice PAM_DRIVER_PASSWORD=alice-password
counted "outage: old record, the token request is sent" "0 0 1"
[ ! -e "${backoff_state%.json}.down" ] && pass "outage: the provider answered, record removed" || failc "outage: record not removed after an answer"
case_ "config: provider_down_backoff_s=soon" PAM_SERVICE_ERR cfg-backoff alice PAM_DRIVER_PASSWORD=alice-password
logged "config: provider_down_backoff_s value" 'provider_down_backoff_s= must be a number of seconds'
case_ "config: provider_down_backoff_s=3601" PAM_SERVICE_ERR cfg-backoff-big alice PAM_DRIVER_PASSWORD=alice-password
case_ "config: provider_down_backoff_s with no_cache" PAM_SERVICE_ERR cfg-backoff-nocache alice PAM_DRIVER_PASSWORD=alice-password

# --- the provider state cache (cache_dir) ----------------------------------
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

fi

# --- logs -----------------------------------------------------------------
if pam_part a; then
if grep -q 'pam_soidc(pw:auth): user "alice" authenticated' "$work/syslog" &&
  grep -q 'pam_soidc(pw:auth): soidc: ' "$work/syslog"; then
  pass "syslog: expected module and soidc messages, observed them"
else
  failc "syslog: expected module and soidc messages, observed none"
fi
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
