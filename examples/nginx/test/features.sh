#!/usr/bin/env bash
# Integration test of the newer features of ngx_http_soidc_module, with Debian's nginx and
# the real test OpenID provider (tests/provider): soidc_claim_set (nested claims),
# $soidc_reason, soidc_token, the background key refresh on an unknown kid
# (soidc_unknown_kid_refresh / soidc_unknown_kid_status), soidc_require_claim, and the
# configuration errors of these directives at `nginx -t`. Output and environment as
# run.sh ("nginx feature tests: N passed, M failed").
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap lib_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

lib_install_deps nginx nginx-dev gcc make curl node || exit 1
if [ ! -f "$REPO/target/release/libsoidc.so" ]; then
  echo "target/release/libsoidc.so is missing: run 'make build' first" >&2
  exit 1
fi
lib_build_module || exit 1

PASS=0
FAIL=0
SKIP=0
KID_REFRESH_S=2      # soidc_unknown_kid_refresh of features.conf.in
TIMEOUT_MS=2500      # soidc_fetch_timeout (a blocked worker would stall this long)

result() { # result OK NAME EXPECTED OBSERVED
  local tag=FAIL
  if [ "$1" = 1 ]; then tag=PASS; PASS=$((PASS + 1)); else FAIL=$((FAIL + 1)); fi
  printf '%s  %-58s expected: %s | observed: %s\n' "$tag" "$2" "$3" "$4"
}
skip() { SKIP=$((SKIP + 1)); printf 'SKIP  %-58s %s\n' "$1" "$2"; }
info() { printf 'INFO  %-58s %s\n' "$1" "$2"; }

# req PORT PATH [curl args...]: sets STATUS, WWWAUTH, BODY, TIME_MS (total time)
req() {
  local port="$1" path="$2" out; shift 2
  out="$(curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code} %{time_total}' --max-time 10 "$@" \
    "http://127.0.0.1:$port$path")"
  STATUS="${out%% *}"
  TIME_MS="$(awk -v t="${out#* }" 'BEGIN { printf "%d", t * 1000 }')"
  WWWAUTH="$(sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: *//p' "$WORK/headers" | tr -d '\r')"
  BODY="$(cat "$WORK/body")"
}
show() { if [ -n "$WWWAUTH" ]; then echo "$STATUS [${WWWAUTH:0:140}]"; else echo "$STATUS [no WWW-Authenticate]"; fi; }

case_ok() { # case_ok NAME PORT PATH BODY [curl args...]
  local name="$1" port="$2" path="$3" want="$4"; shift 4
  req "$port" "$path" "$@"
  local ok=0
  [ "$STATUS" = 200 ] && [ "$BODY" = "$want" ] && ok=1
  result $ok "$name" "200 \"$want\"" "$STATUS \"${BODY:0:100}\""
}
case_challenge() { # case_challenge NAME PORT PATH STATUS REGEX|NONE DESCRIPTION [curl args...]
  local name="$1" port="$2" path="$3" exp="$4" re="$5" desc="$6"; shift 6
  req "$port" "$path" "$@"
  local ok=1
  [ "$STATUS" = "$exp" ] || ok=0
  if [ "$re" = NONE ]; then [ -z "$WWWAUTH" ] || ok=0
  elif ! [[ "$WWWAUTH" =~ $re ]]; then ok=0; fi
  result $ok "$name" "$exp [$desc]" "$(show)"
}
bearer() { echo "Authorization: Bearer $1"; }
fetch_count() { curl -s "$1/test/jwks-fetch-count" | sed -n 's/.*"count":\([0-9]*\).*/\1/p'; }
b64url_decode() {
  local s; s="$(printf '%s' "$1" | tr '_-' '/+')"
  while [ $(( ${#s} % 4 )) -ne 0 ]; do s="$s="; done
  printf '%s' "$s" | base64 -d 2>/dev/null
}
# the first signature character changed (the last one may only carry padding bits)
bad_signature() {
  local sig repl=A
  sig="$(printf '%s' "$1" | cut -d. -f3)"
  [ "${sig:0:1}" = A ] && repl=B
  echo "$(printf '%s' "$1" | cut -d. -f1-2).$repl${sig:1}"
}
kid_of() { b64url_decode "$(printf '%s' "$1" | cut -d. -f1)" | sed -n 's/.*"kid":"\([^"]*\)".*/\1/p'; }
# user_token ISSUER USER SCOPE: an access token of the password grant (test-only grant of
# the provider), carrying the user's nested test claims
user_token() {
  curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=password -d "username=$2" \
    -d "password=$2-password" --data-urlencode "scope=$3" --data-urlencode "resource=$RESOURCE" \
    "$1/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}
# wait_200 PORT PATH TOKEN LIMIT_S: polls every 100 ms until 200; sets WAITED_MS
wait_200() {
  local port="$1" path="$2" tok="$3" limit_ms=$(( $4 * 1000 )) t0 now
  t0="$(date +%s%3N)"
  while :; do
    req "$port" "$path" -H "$(bearer "$tok")"
    now="$(date +%s%3N)"
    WAITED_MS=$(( now - t0 ))
    [ "$STATUS" = 200 ] && return 0
    [ "$WAITED_MS" -ge "$limit_ms" ] && return 1
    sleep 0.1
  done
}

echo "== starting two OpenID providers (A serves the tests, B issues tokens of foreign kids)"
lib_provider_start A || exit 1
lib_provider_start B || exit 1
ISS_A="${PROVIDER_ISSUER[A]}"; ISS_B="${PROVIDER_ISSUER[B]}"
echo "   A=$ISS_A B=$ISS_B"

# does this libsoidc know the require_claims decode option? (branch claims)
RULES=0
export NGX_CONF_TEMPLATE="$NGX_TEST_DIR/features.conf.in"
# jwks_file PATH: provider A's JWKS written to PATH atomically (rename)
jwks_file() {
  local uri
  uri="$(curl -s "$ISS_A/.well-known/openid-configuration" | sed -n 's/.*"jwks_uri":"\([^"]*\)".*/\1/p')"
  curl -s "$uri" >"$1.tmp" && mv "$1.tmp" "$1"
}
conf_fill() { # the parts lib_nginx_conf does not fill in; the first JWKS file
  sed -i "s|@ISSUER_B@|$ISS_B|g" "${NGINX_PREFIX[$1]}/nginx.conf"
  jwks_file "${NGINX_PREFIX[$1]}/jwks.json"
}
lib_nginx_conf R "$(lib_free_port)" "$ISS_A" inline 300s "${TIMEOUT_MS}ms" 1
conf_fill R
sed -i "/# @RULES@/r $NGX_TEST_DIR/rules.conf" "${NGINX_PREFIX[R]}/nginx.conf"
rules_t="$("$NGINX_BIN" -t -p "${NGINX_PREFIX[R]}" -c "${NGINX_PREFIX[R]}/nginx.conf" -e "${NGINX_PREFIX[R]}/logs/error.log" 2>&1)" && RULES=1

# T: thread-pool refresh; I: inline refresh (timer). Both: 1 worker, periodic refresh
# every 300 s (so that only the unknown-kid refresh can pick up a rotation here).
lib_nginx_conf T "$(lib_free_port)" "$ISS_A" thread 300s "${TIMEOUT_MS}ms" 1
lib_nginx_conf I "$(lib_free_port)" "$ISS_A" inline 300s "${TIMEOUT_MS}ms" 1
conf_fill T; conf_fill I
sed -i "/# @OPAQUE@/r $NGX_TEST_DIR/opaque.conf" "${NGINX_PREFIX[T]}/nginx.conf"
printf '%s\n' "$CLIENT_SECRET" >"${NGINX_PREFIX[T]}/secret"
chmod 600 "${NGINX_PREFIX[T]}/secret"
if [ "$RULES" = 1 ]; then
  sed -i "/# @RULES@/r $NGX_TEST_DIR/rules.conf" "${NGINX_PREFIX[T]}/nginx.conf"
fi
lib_nginx_start T || exit 1
lib_nginx_start I || exit 1
PT="${NGINX_PORT[T]}"; PI="${NGINX_PORT[I]}"

TOK="$(lib_token "$ISS_A" api:read)"
TOK_ALICE="$(user_token "$ISS_A" alice api:read)"
TOK_BOB="$(user_token "$ISS_A" bob api:read)"
TOK_B="$(lib_token "$ISS_B" api:read)"
if [ -z "$TOK" ] || [ -z "$TOK_ALICE" ] || [ -z "$TOK_BOB" ] || [ -z "$TOK_B" ]; then
  echo "could not get access tokens from the providers" >&2
  exit 1
fi

echo "== soidc_claim_set: nested claims"
case_ok "alice: paths, \\. escape, pointers, number, absent" "$PT" /claims \
  'roles=["ssh-login","dev"] first=ssh-login tenant=acme ptr=acme level=3 nothing=[]' -H "$(bearer "$TOK_ALICE")"
case_ok "bob: the same variables" "$PT" /claims \
  'roles=["dev"] first=dev tenant=globex ptr=globex level=1 nothing=[]' -H "$(bearer "$TOK_BOB")"
case_ok "client token without these claims: all empty" "$PT" /claims \
  'roles= first= tenant= ptr= level= nothing=[]' -H "$(bearer "$TOK")"

echo "== soidc_token: the token from a cookie or any variable"
case_ok "token in the cookie access_token" "$PT" /cookie alice -H "Cookie: x=1; access_token=$TOK_ALICE"
case_ok "token in the query argument access_token" "$PT" "/arg?access_token=$TOK_BOB" bob
case_challenge "no cookie (the Authorization header is not read)" "$PT" /cookie 401 \
  '^Bearer realm="soidc-test"$' 'Bearer realm, no error' -H "$(bearer "$TOK")"
case_challenge "cookie with a bad signature" "$PT" /cookie 401 'error="invalid_token"' \
  'invalid_token' -H "Cookie: access_token=$(bad_signature "$TOK_ALICE")"
case_challenge "argument that is not a b64token" "$PT" "/arg?access_token=a%20b" 400 \
  'error="invalid_request"' 'invalid_request'
# the b64token check of a JWT is made only once soidc has refused it: a valid token
# with characters outside b64token around it is still a malformed request (400)
case_challenge "valid token + a character that is not b64token" "$PT" "/arg?access_token=$TOK_BOB%20" 400 \
  'error="invalid_request"' 'invalid_request'
case_challenge "valid token + \"=x\" (padding, then more)" "$PT" "/arg?access_token=$TOK_BOB=x" 400 \
  'error="invalid_request"' 'invalid_request'
case_challenge "header: valid token, a comma and more" "$PT" /api 400 'error="invalid_request"' \
  'invalid_request' -H "Authorization: Bearer $TOK_BOB,x"

echo "== DPoP (RFC 9449): soidc_dpop on / required, proofs made by test/dpop.mjs"
proof() { node "$NGX_TEST_DIR/dpop.mjs" proof "$@"; }
alog="${NGINX_PREFIX[T]}/logs/access.log"
DK="$WORK/dpop-key.json"; DK2="$WORK/dpop-key2.json"
node "$NGX_TEST_DIR/dpop.mjs" key "$DK"; node "$NGX_TEST_DIR/dpop.mjs" key "$DK2"
DTOK="$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -H "DPoP: $(proof "$DK" POST "$ISS_A/token")" \
  -d grant_type=client_credentials --data-urlencode scope=api:read --data-urlencode "resource=$RESOURCE" \
  "$ISS_A/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')"
[ -n "$DTOK" ] || { echo "no DPoP-bound token from the provider" >&2; exit 1; }
U="http://127.0.0.1:$PT/dpop"
dre() { echo "DPoP realm=\"soidc-test\", algs=\"[^\"]*ES256[^\"]*\", error=\"$1\""; }
P1="$(proof "$DK" GET "$U" "$DTOK")"
case_ok "bound token + its proof (DPoP scheme)" "$PT" /dpop conf-basic -H "Authorization: DPoP $DTOK" -H "DPoP: $P1"
case_challenge "the same proof again (replayed jti)" "$PT" /dpop 401 "$(dre invalid_dpop_proof)" \
  'DPoP challenge, invalid_dpop_proof' -H "Authorization: DPoP $DTOK" -H "DPoP: $P1"
case_ok "query string: htu compared without it" "$PT" "/dpop?x=1" conf-basic -H "Authorization: DPoP $DTOK" \
  -H "DPoP: $(proof "$DK" GET "$U" "$DTOK")"
case_challenge "proof for POST (htm)" "$PT" /dpop 401 "$(dre invalid_dpop_proof)" 'invalid_dpop_proof' \
  -H "Authorization: DPoP $DTOK" -H "DPoP: $(proof "$DK" POST "$U" "$DTOK")"
case_challenge "proof for another URI (htu)" "$PT" /dpop 401 "$(dre invalid_dpop_proof)" 'invalid_dpop_proof' \
  -H "Authorization: DPoP $DTOK" -H "DPoP: $(proof "$DK" GET "http://127.0.0.1:$PT/other" "$DTOK")"
case_challenge "proof by another key (cnf.jkt)" "$PT" /dpop 401 "$(dre invalid_dpop_proof)" 'invalid_dpop_proof' \
  -H "Authorization: DPoP $DTOK" -H "DPoP: $(proof "$DK2" GET "$U" "$DTOK")"
case_challenge "proof without ath" "$PT" /dpop 401 "$(dre invalid_dpop_proof)" 'invalid_dpop_proof' \
  -H "Authorization: DPoP $DTOK" -H "DPoP: $(proof "$DK" GET "$U" "$DTOK" noath)"
case_challenge "proof an hour old (iat)" "$PT" /dpop 401 "$(dre invalid_dpop_proof)" 'invalid_dpop_proof' \
  -H "Authorization: DPoP $DTOK" -H "DPoP: $(proof "$DK" GET "$U" "$DTOK" oldiat)"
case_challenge "two DPoP headers" "$PT" /dpop 401 "$(dre invalid_dpop_proof)" 'invalid_dpop_proof' \
  -H "Authorization: DPoP $DTOK" -H "DPoP: $(proof "$DK" GET "$U" "$DTOK")" -H "DPoP: $(proof "$DK" GET "$U" "$DTOK")"
case_challenge "DPoP scheme without a proof" "$PT" /dpop 401 "$(dre invalid_token)" 'DPoP challenge, invalid_token' \
  -H "Authorization: DPoP $DTOK"
case_challenge "bound token with the Bearer scheme" "$PT" /dpop 401 'Bearer realm="soidc-test", error="invalid_token"' \
  'Bearer invalid_token' -H "$(bearer "$DTOK")" -H "DPoP: $(proof "$DK" GET "$U" "$DTOK")"
case_ok "unbound token with the Bearer scheme" "$PT" /dpop conf-basic -H "$(bearer "$TOK")"
case_challenge "unbound token with the DPoP scheme and a proof" "$PT" /dpop 401 'DPoP realm="soidc-test", algs=".*", error=' \
  'DPoP challenge with an error' -H "Authorization: DPoP $TOK" -H "DPoP: $(proof "$DK" GET "$U" "$TOK")"
req "$PT" /dpop
ok=0; [ "$STATUS" = 401 ] && [[ "$WWWAUTH" == *'Bearer realm="soidc-test"'* ]] \
  && [[ "$WWWAUTH" =~ DPoP\ realm=\"soidc-test\",\ algs=\"[^\"]+\" ]] && [[ "$WWWAUTH" != *error=* ]] && ok=1
result $ok "no credentials (soidc_dpop on)" "401, Bearer and DPoP challenges, no error" "$STATUS [$(echo $WWWAUTH)]"
req "$PT" /dpop-only -H "$(bearer "$TOK")"
ok=0; [ "$STATUS" = 401 ] && [[ "$WWWAUTH" == DPoP\ realm=* ]] && [[ "$WWWAUTH" != *Bearer* ]] && ok=1
result $ok "Bearer at a soidc_dpop required location" "401, DPoP challenge only" "$STATUS [$(echo $WWWAUTH)]"
case_ok "bound token + proof at soidc_dpop required" "$PT" /dpop-only conf-basic -H "Authorization: DPoP $DTOK" \
  -H "DPoP: $(proof "$DK" GET "http://127.0.0.1:$PT/dpop-only" "$DTOK")"
sleep 0.3
got="$(grep '"GET /dpop' "$alog" | grep -o 'reason=dpop_[a-z]*' | sort -u | tr '\n' ' ')"
ok=0; for r in dpop_replay dpop_htm dpop_htu dpop_jkt dpop_ath dpop_iat dpop_invalid dpop_missing; do
  [[ "$got" == *"reason=$r "* ]] || ok=2; done; [ $ok = 0 ] && ok=1 || ok=0
result $ok "\$soidc_reason of the DPoP refusals" "dpop_replay, _htm, _htu, _jkt, _ath, _iat, _invalid, _missing" "$got"

echo "== \$soidc_reason in the access log"
req "$PT" /api
req "$PT" /api -H "Authorization: Bearer a b"
req "$PT" /api -H "$(bearer "$(bad_signature "$TOK")")"
req "$PT" /api -H "$(bearer "$TOK")"
sleep 0.3
alog="${NGINX_PREFIX[T]}/logs/access.log"
want="reason=no_token reason=invalid_request reason=signature reason=-"
got="$(grep '"GET /api HTTP/1.1"' "$alog" | tail -4 | grep -o 'reason=[^ ]*' | tr '\n' ' ' | sed 's/ $//')"
ok=0; [ "$got" = "$want" ] && ok=1
result $ok "no token, malformed, bad signature, valid" "$want" "$got"
ok=0; grep -q '"GET /cookie HTTP/1.1" 200 sub=alice reason=- tenant=acme' "$alog" && ok=1
result $ok "a claim_set variable in the access log" "200 sub=alice reason=- tenant=acme" \
  "$(grep '"GET /cookie HTTP/1.1" 200' "$alog" | head -1)"

echo "== several issuers per location (soidc_issuer A B)"
case_ok "token of A" "$PT" /multi "conf-basic $ISS_A" -H "$(bearer "$TOK")"
case_ok "token of B" "$PT" /multi "conf-basic $ISS_B" -H "$(bearer "$TOK_B")"
forged="$(printf '%s' "$TOK" | cut -d. -f1).$(printf '{"iss":"https://other.soidc.test","sub":"x"}' | base64 -w0 | tr '+/' '-_' | tr -d '=').$(printf '%s' "$TOK" | cut -d. -f3)"
case_challenge "token naming a third issuer" "$PT" /multi 401 \
  'error="invalid_token", error_description="the token.s issuer is not accepted here"' 'invalid_token, issuer' \
  -H "$(bearer "$forged")"
case_challenge "token of B at a location of A only" "$PT" /api 401 'error="invalid_token"' 'invalid_token' \
  -H "$(bearer "$TOK_B")"
sleep "$KID_REFRESH_S.2"     # the unknown-kid refresh of that request rate-limits the next

echo "== unknown kid: one rate-limited background refresh (instance T: thread pool)"
c0="$(fetch_count "$ISS_A")"
t0="$(date +%s%3N)"
pids=()
for i in $(seq 1 20); do      # at once, so that they fall into one interval
  curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 -H "$(bearer "$TOK_B")" \
    "http://127.0.0.1:$PT/api" >"$WORK/flood-$i" &
  pids+=($!)
done
wait "${pids[@]}"             # (not a bare wait: the providers and nginx are children too)
elapsed=$(( $(date +%s%3N) - t0 ))
codes="$(cat "$WORK"/flood-* | tr '\n' ' ')"
sleep 0.5
c1="$(fetch_count "$ISS_A")"
# one fetch per started soidc_unknown_kid_refresh interval at most
allowed=$(( 1 + elapsed / (KID_REFRESH_S * 1000) ))
ok=0; [ "$(echo $codes | tr ' ' '\n' | sort -u)" = 401 ] && [ $((c1 - c0)) -ge 1 ] && [ $((c1 - c0)) -le $allowed ] && ok=1
result $ok "20 concurrent tokens of a foreign kid" "401 each, 1 JWKS fetch per ${KID_REFRESH_S} s begun" \
  "$(echo $codes | tr ' ' '\n' | sort | uniq -c | awk '{printf "%sx%s ", $1, $2}')fetches +$((c1 - c0)) in $elapsed ms"
ok=0; grep -q 'reason=unknown_kid' "$alog" && ok=1
result $ok "\$soidc_reason of those requests" "reason=unknown_kid" "$(grep -c 'reason=unknown_kid' "$alog") lines"
sleep "$KID_REFRESH_S.2"

curl -s -X POST "$ISS_A/test/rotate" >/dev/null       # new key first in the JWKS, old kept
TOK2="$(lib_token "$ISS_A" api:read)"
info "A rotated (old key kept)" "kid $(kid_of "$TOK") -> $(kid_of "$TOK2")"
c0="$(fetch_count "$ISS_A")"
req "$PT" /api -H "$(bearer "$TOK2")"
first="$STATUS in ${TIME_MS} ms"
wait_200 "$PT" /api "$TOK2" 5; okw=$?
c1="$(fetch_count "$ISS_A")"
ok=0; [[ "$first" == 401* ]] && [ $okw = 0 ] && [ "$WAITED_MS" -lt 3000 ] && ok=1
result $ok "token of the new key (T)" "401 at once, then 200 within 3 s" \
  "first $first, 200 after $WAITED_MS ms, JWKS fetches +$((c1 - c0))"
case_ok "token of the old key still valid (T)" "$PT" /api conf-basic -H "$(bearer "$TOK")"
ok=0; grep -q 'soidc: token with an unknown kid: refreshing the keys of "'"$ISS_A"'" in the background' \
  "${NGINX_PREFIX[T]}/logs/error.log" && ok=1
result $ok "the refresh is logged (T)" "info: ... refreshing the keys ... in the background" \
  "$(grep -c 'refreshing the keys of' "${NGINX_PREFIX[T]}/logs/error.log") lines"

echo "== unknown kid, inline refresh from a timer (instance I, no thread pool)"
req "$PI" /api -H "$(bearer "$TOK2")"
first="$STATUS in ${TIME_MS} ms"
wait_200 "$PI" /api "$TOK2" 5; okw=$?
ok=0; [[ "$first" == 401* ]] && [ $okw = 0 ] && [ "$WAITED_MS" -lt 3000 ] && ok=1
result $ok "token of the new key (I)" "401 at once, then 200 within 3 s" "first $first, 200 after $WAITED_MS ms"

echo "== the worker is never blocked while the refresh runs (provider A hung by SIGSTOP)"
sleep "$KID_REFRESH_S.2"
curl -s -X POST "$ISS_A/test/rotate" >/dev/null
TOK3="$(lib_token "$ISS_A" api:read)"
kill -STOP "${PROVIDER_PID[A]}"
t_stop="$(date +%s%3N)"
req "$PT" /api -H "$(bearer "$TOK3")"
first="$STATUS in ${TIME_MS} ms"
max=0; codes=""
for _ in $(seq 1 10); do
  req "$PT" /health; codes="$codes$STATUS "; [ "$TIME_MS" -gt "$max" ] && max="$TIME_MS"
  req "$PT" /api -H "$(bearer "$TOK")"; codes="$codes$STATUS "; [ "$TIME_MS" -gt "$max" ] && max="$TIME_MS"
  sleep 0.08
done
t_end="$(date +%s%3N)"
kill -CONT "${PROVIDER_PID[A]}"
# a worker blocked by the refresh would hold some request for the whole fetch timeout
ok=0; [[ "$first" == 401* ]] && [ "$(echo "$first" | awk '{print $3}')" -lt $((TIMEOUT_MS / 2)) ] \
  && [ "$(echo $codes | tr ' ' '\n' | sort -u)" = 200 ] && [ "$max" -lt $((TIMEOUT_MS / 2)) ] && ok=1
result $ok "new kid + 20 requests while the refresh hangs" "401, then 200 each, all < $((TIMEOUT_MS / 2)) ms" \
  "first $first; $(echo $codes | tr ' ' '\n' | sort | uniq -c | awk '{printf "%sx%s ", $1, $2}')max ${max} ms over $((t_end - t_stop)) ms"
wait_200 "$PT" /api "$TOK3" 8; okw=$?
ok=0; [ $okw = 0 ] && ok=1
result $ok "the new key after the provider resumed (T)" "200 within 8 s" "200 after $WAITED_MS ms"

echo "== soidc_unknown_kid_status 503: Retry-After while the refresh runs"
sleep "$KID_REFRESH_S.2"
curl -s -X POST "$ISS_A/test/rotate" >/dev/null
TOK4="$(lib_token "$ISS_A" api:read)"
kill -STOP "${PROVIDER_PID[A]}"
req "$PT" /kid503 -H "$(bearer "$TOK4")"
ra="$(sed -n 's/^[Rr]etry-[Aa]fter: *//p' "$WORK/headers" | tr -d '\r')"
ok=0; [ "$STATUS" = 503 ] && [ "$ra" = $(( (TIMEOUT_MS + 999) / 1000 )) ] && [ "$TIME_MS" -lt $((TIMEOUT_MS / 2)) ] && ok=1
result $ok "new kid, refresh scheduled" "503 + Retry-After: $(( (TIMEOUT_MS + 999) / 1000 )) at once" \
  "$STATUS Retry-After: ${ra:-none} in $TIME_MS ms"
req "$PT" /kid503 -H "$(bearer "$TOK4")"
ra="$(sed -n 's/^[Rr]etry-[Aa]fter: *//p' "$WORK/headers" | tr -d '\r')"
ok=0; [ "$STATUS" = 503 ] && [ -n "$ra" ] && ok=1
result $ok "again while the refresh still runs" "503 + Retry-After" "$STATUS Retry-After: ${ra:-none}"
kill -CONT "${PROVIDER_PID[A]}"
wait_200 "$PT" /kid503 "$TOK4" 8; okw=$?
ok=0; [ $okw = 0 ] && ok=1
result $ok "then the token is accepted" "200 within 8 s" "200 after $WAITED_MS ms"
case_challenge "foreign kid right after a refresh (rate limited)" "$PT" /kid503 401 \
  'error="invalid_token"' 'invalid_token, no refresh pending' -H "$(bearer "$TOK_B")"

echo "== soidc_jwks_file: keys from a file, reloaded when it changed"
c0="$(fetch_count "$ISS_A")"
case_ok "token of a key in the file" "$PT" /file conf-basic -H "$(bearer "$TOK")"
curl -s -X POST "$ISS_A/test/rotate?drop_old=1" >/dev/null
TOK5="$(lib_token "$ISS_A" api:read)"
case_challenge "token of a new key, file not yet changed" "$PT" /file 401 'error="invalid_token"' \
  'invalid_token, unknown kid' -H "$(bearer "$TOK5")"
sleep "$KID_REFRESH_S.2"
ch0="$(fetch_count "$ISS_A")"
jwks_file "${NGINX_PREFIX[T]}/jwks.json"     # (this fetch is the test's, not nginx's)
ch1="$(fetch_count "$ISS_A")"
case_ok "file replaced: the next request reads it and passes" "$PT" /file conf-basic -H "$(bearer "$TOK5")"
case_challenge "token of the key dropped from the file" "$PT" /file 401 'error="invalid_token"' \
  'invalid_token' -H "$(bearer "$TOK")"
c1="$(fetch_count "$ISS_A")"
ok=0; [ $((c1 - c0 - (ch1 - ch0))) = 0 ] && ok=1
result $ok "JWKS fetches by nginx for /file" "+0 (no network)" "+$((c1 - c0 - (ch1 - ch0)))"
ok=0; grep -q "soidc: keys of \"$ISS_A\" loaded from soidc_jwks_file" "${NGINX_PREFIX[T]}/logs/error.log" && ok=1
result $ok "the reload is logged" "info: keys ... loaded from soidc_jwks_file" \
  "$(grep -c 'loaded from soidc_jwks_file' "${NGINX_PREFIX[T]}/logs/error.log") lines"

echo "== opaque tokens: introspection on the thread pool, cache of 2 s"
intro_count() { curl -s "$ISS_A/test/endpoint-requests" | grep -o '"path":"/token/introspection"' | wc -l; }
opaque_token() { lib_token "$ISS_A" openid conf-post conf-post-secret-0123456789abcdef -; }
OP1="$(opaque_token)"
i0="$(intro_count)"
case_ok "opaque token of client conf-post" "$PT" /opaque "conf-post openid" -H "$(bearer "$OP1")"
codes=""
for _ in $(seq 1 5); do req "$PT" /opaque -H "$(bearer "$OP1")"; codes="$codes$STATUS "; done
i1="$(intro_count)"
ok=0; [ "$(echo $codes | tr ' ' '\n' | sort -u)" = 200 ] && [ $((i1 - i0)) -eq 1 ] && ok=1
result $ok "6 requests with that token within the cache time" "200 each, 1 introspection" \
  "$(echo $codes | tr ' ' '\n' | sort | uniq -c | awk '{printf "%sx%s ", $1, $2}')introspections +$((i1 - i0))"
curl -s -u conf-post:conf-post-secret-0123456789abcdef -d "token=$OP1" "$ISS_A/token/revocation" >/dev/null
case_ok "revoked at the provider, answer still cached" "$PT" /opaque "conf-post openid" -H "$(bearer "$OP1")"
sleep 2.3
case_challenge "after the cache time: introspected again, inactive" "$PT" /opaque 401 \
  'error="invalid_token", error_description="the token is not active"' 'invalid_token, not active' \
  -H "$(bearer "$OP1")"
i2="$(intro_count)"
ok=0; [ $((i2 - i1)) -eq 1 ] && grep -q '"GET /opaque HTTP/1.1" 401 sub=- reason=inactive' "$alog" && ok=1
result $ok "the expiry caused one introspection; \$soidc_reason" "+1, reason=inactive" \
  "+$((i2 - i1)), $(grep -c 'reason=inactive' "$alog") inactive lines"
case_challenge "made-up opaque token" "$PT" /opaque 401 'error="invalid_token"' 'invalid_token' \
  -H "Authorization: Bearer madeUpOpaqueToken0123456789"
OP2="$(opaque_token)"
case_challenge "opaque token without scope api:write" "$PT" /opaque-write 403 \
  'error="insufficient_scope".*scope="api:write"' 'insufficient_scope' -H "$(bearer "$OP2")"
wait_200 "$PT" /opaque "$TOK5" 5   # (this location's client may first need the rotated key)
ok=0; [ "$STATUS" = 200 ] && [ "$BODY" = "conf-basic api:read" ] && ok=1
result $ok "a JWT at the same location: validated locally" "200 \"conf-basic api:read\"" "$STATUS \"${BODY:0:60}\""

OP3="$(opaque_token)"
kill -STOP "${PROVIDER_PID[A]}"
( req "$PT" /opaque -H "$(bearer "$OP3")"; echo "$STATUS $TIME_MS $BODY" >"$WORK/pending" ) &
pend=$!
sleep 0.2
max=0; codes=""
t0="$(date +%s%3N)"
while [ $(( $(date +%s%3N) - t0 )) -lt 800 ]; do
  req "$PT" /health; codes="$codes$STATUS "; [ "$TIME_MS" -gt "$max" ] && max="$TIME_MS"
  req "$PT" /multi -H "$(bearer "$TOK_B")"; codes="$codes$STATUS "; [ "$TIME_MS" -gt "$max" ] && max="$TIME_MS"
  sleep 0.05
done
kill -CONT "${PROVIDER_PID[A]}"
wait "$pend"
ok=0; [ "$(echo $codes | tr ' ' '\n' | sort -u)" = 200 ] && [ "$max" -lt $((TIMEOUT_MS / 2)) ] && ok=1
result $ok "requests while an introspection hangs (~1 s)" "200 each < $((TIMEOUT_MS / 2)) ms" \
  "$(echo $codes | tr ' ' '\n' | sort | uniq -c | awk '{printf "%sx%s ", $1, $2}')max $max ms"
read -r pst pms pbody <"$WORK/pending"
ok=0; [ "$pst" = 200 ] && [ "$pms" -ge 500 ] && ok=1
result $ok "the waiting request, answered when the provider resumed" "200 after >= 500 ms" "$pst after $pms ms \"$pbody\""
OP4="$(opaque_token)"
kill -STOP "${PROVIDER_PID[A]}"
req "$PT" /opaque -H "$(bearer "$OP4")"
kill -CONT "${PROVIDER_PID[A]}"
ra="$(sed -n 's/^[Rr]etry-[Aa]fter: *//p' "$WORK/headers" | tr -d '\r')"
ok=0; [ "$STATUS" = 503 ] && [ -n "$ra" ] && [ "$TIME_MS" -ge $((TIMEOUT_MS - 100)) ] && ok=1
result $ok "introspection timing out (provider hung)" "503 + Retry-After after ~$TIMEOUT_MS ms" "$STATUS Retry-After: ${ra:-none} after $TIME_MS ms"

echo "== soidc_require_claim (soidc's require_claims)"
if [ "$RULES" = 1 ]; then
  case_ok "alice: role ssh-login and tenant acme" "$PT" /admin alice -H "$(bearer "$TOK_ALICE")"
  case_challenge "bob: no role ssh-login" "$PT" /admin 403 'error="insufficient_scope"' \
    'insufficient_scope' -H "$(bearer "$TOK_BOB")"
  ok=0; grep -q '"GET /admin HTTP/1.1" 403 sub=- reason=claim_rule' "$alog" && ok=1
  result $ok "\$soidc_reason of the refusal" "reason=claim_rule" "$(grep '"GET /admin HTTP/1.1" 403' "$alog" | tail -1)"
  case_ok "alice: level in [2, 3] (JSON numbers)" "$PT" /level alice -H "$(bearer "$TOK_ALICE")"
  case_challenge "bob: level 1" "$PT" /level 403 'error="insufficient_scope"' 'insufficient_scope' \
    -H "$(bearer "$TOK_BOB")"
  case_ok "alice: groups contains_any ops dev" "$PT" /groups alice -H "$(bearer "$TOK_ALICE")"
  case_challenge "client token: no groups claim" "$PT" /groups 403 'error="insufficient_scope"' \
    'insufficient_scope' -H "$(bearer "$TOK")"
else
  ok=0; [[ "$rules_t" == *'needs a libsoidc with the "require_claims" decode option'* ]] && ok=1
  result $ok "nginx -t with rules, libsoidc without require_claims" "refused, says so" \
    "$(echo "$rules_t" | grep -o 'soidc refuses[^:]*: [^i]*' | head -1)"
  skip "soidc_require_claim requests" "this libsoidc has no require_claims (branch claims)"
fi

echo "== certificate-bound tokens (RFC 8705): soidc_client_cert, nginx with TLS client certificates"
PKI="$WORK/pki"; mkdir -p "$PKI"
ossl() { (cd "$PKI" && openssl "$@") >>"$WORK/openssl.log" 2>&1; }
issue() { # issue NAME SUBJECT EXT KEYARGS...
  local n="$1" subj="$2" ext="$3"; shift 3
  ossl req -newkey "$@" -nodes -keyout "$n.key" -out "$n.csr" -subj "$subj"
  printf '%b' "$ext" >"$PKI/$n.ext"
  ossl x509 -req -in "$n.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$n.pem" -days 2 -extfile "$n.ext"
}
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 \
  -subj "/CN=soidc nginx test CA" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
issue server "/CN=soidc nginx test server" 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' ec -pkeyopt ec_paramgen_curve:P-256
issue client "/CN=soidc mtls client" 'extendedKeyUsage=clientAuth\n' ec -pkeyopt ec_paramgen_curve:P-256
issue other "/CN=soidc other client" 'extendedKeyUsage=clientAuth\n' rsa:2048
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout self-client.key -out self-client.pem \
  -days 2 -subj "/CN=soidc self-client"
chmod 600 "$PKI"/*
PROVIDER_MTLS_DIR="$PKI" lib_provider_start M || exit 1
ISS_M="${PROVIDER_ISSUER[M]}"
MTOKEN_EP="$(curl -s "$ISS_M/.well-known/openid-configuration" | grep -o '"mtls_endpoint_aliases":{[^}]*}' \
  | sed -n 's/.*"token_endpoint":"\([^"]*\)".*/\1/p')"
MTOK="$(curl -s --cacert "$PKI/ca.pem" --cert "$PKI/client.pem" --key "$PKI/client.key" \
  -u mtls-bound-basic:mtls-bound-basic-secret-0123456789abcdef -d grant_type=client_credentials \
  --data-urlencode scope=api:read --data-urlencode "resource=$RESOURCE" "$MTOKEN_EP" \
  | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')"
MUNB="$(lib_token "$ISS_M" api:read)"
if [ -z "$MTOK" ] || [ -z "$MUNB" ]; then echo "no tokens from provider M ($MTOKEN_EP)" >&2; exit 1; fi
lib_nginx_conf M "$(lib_free_port)" "$ISS_M" inline 300s "${TIMEOUT_MS}ms" 1
conf_fill M
MPORT="$(lib_free_port)"
cat >"$WORK/mtls-server.conf" <<EOF2
    server {
        listen 127.0.0.1:$MPORT ssl;
        ssl_certificate $PKI/server.pem;
        ssl_certificate_key $PKI/server.key;
        ssl_client_certificate $PKI/ca.pem;
        ssl_verify_client optional;

        location = /mtls {
            soidc_bearer on;
            soidc_client_cert \$ssl_client_raw_cert;
            return 200 "\$soidc_sub";
        }

        location = /mtls-legacy {
            soidc_bearer on;
            soidc_client_cert \$ssl_client_cert;
            return 200 "\$soidc_sub";
        }
    }
EOF2
sed -i '$d' "${NGINX_PREFIX[M]}/nginx.conf"     # the closing brace of http
cat "$WORK/mtls-server.conf" >>"${NGINX_PREFIX[M]}/nginx.conf"; echo "}" >>"${NGINX_PREFIX[M]}/nginx.conf"
lib_nginx_start M || exit 1
mreq() { # mreq PATH CERT|- TOKEN
  local cert=()
  [ "$2" = - ] || cert=(--cert "$PKI/$2.pem" --key "$PKI/$2.key")
  STATUS="$(curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' --max-time 10 --cacert "$PKI/ca.pem" \
    "${cert[@]}" -H "$(bearer "$3")" "https://127.0.0.1:$MPORT$1")"
  BODY="$(cat "$WORK/body")"
  WWWAUTH="$(sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: *//p' "$WORK/headers" | tr -d '\r')"
}
mcase() { # mcase NAME PATH CERT TOKEN STATUS
  mreq "$2" "$3" "$4"
  local ok=0; [ "$STATUS" = "$5" ] && { [ "$5" != 200 ] || [ "$BODY" = mtls-bound-basic ] || [ "$BODY" = conf-basic ]; } && ok=1
  result $ok "$1" "$5" "$STATUS ${BODY:0:40} ${WWWAUTH:0:110}"
}
mcase "bound token + the certificate it is bound to" /mtls client "$MTOK" 200
mcase "the same through \$ssl_client_cert (tabs dropped)" /mtls-legacy client "$MTOK" 200
mcase "bound token + another CA-signed certificate" /mtls other "$MTOK" 401
mcase "bound token without a client certificate" /mtls - "$MTOK" 401
mcase "unbound token + a certificate" /mtls client "$MUNB" 200
sleep 0.3
ok=0; grep -q '"GET /mtls HTTP/1.1" 401 sub=- reason=cnf_x5t' "${NGINX_PREFIX[M]}/logs/access.log" && ok=1
result $ok "\$soidc_reason of the refusals" "reason=cnf_x5t" "$(grep -c 'reason=cnf_x5t' "${NGINX_PREFIX[M]}/logs/access.log") lines"

echo "== soidc_verified_cache: a hit skips only the signature check (instance V, provider V)"
# its own provider (rotated here) and nginx (1 worker, keys refreshed every 300 s)
lib_provider_start V || exit 1
ISS_V="${PROVIDER_ISSUER[V]}"
lib_nginx_conf V "$(lib_free_port)" "$ISS_V" inline 300s "${TIMEOUT_MS}ms" 1
VCONF="${NGINX_PREFIX[V]}/nginx.conf"
sed -i -e "s|@ISSUER_B@|$ISS_B|g" -e "s|^    soidc_unknown_kid_refresh 2s;|&\n    soidc_verified_cache 64;|" "$VCONF"
sed -i "s|^        # @OPAQUE@|        location = /other-aud { soidc_bearer on; soidc_audience https://other.soidc.test; return 200 \"\$soidc_sub\"; }\n        location = /write { soidc_bearer on; soidc_required_scope api:write; return 200 \"\$soidc_sub\"; }\n&|" "$VCONF"
vjwks() { # the JWKS of provider V into the /file location's file (atomically)
  local uri
  uri="$(curl -s "$ISS_V/.well-known/openid-configuration" | sed -n 's/.*"jwks_uri":"\([^"]*\)".*/\1/p')"
  curl -s "$uri" >"$1.tmp" && mv "$1.tmp" "$1"
}
vjwks "${NGINX_PREFIX[V]}/jwks.json"
lib_nginx_start V || exit 1
PV="${NGINX_PORT[V]}"
VT="$(lib_token "$ISS_V" api:read)"
VT2="$(lib_token "$ISS_V" api:read)"
[ -n "$VT" ] && [ -n "$VT2" ] || { echo "no tokens from provider V" >&2; exit 1; }
case_ok "valid token (a miss: verified, cached)" "$PV" /api conf-basic -H "$(bearer "$VT")"
case_ok "the same token again (a hit)" "$PV" /api conf-basic -H "$(bearer "$VT")"
case_challenge "cached token, location of another audience" "$PV" /other-aud 401 'error="invalid_token"' \
  'invalid_token (aud)' -H "$(bearer "$VT")"
case_challenge "cached token, location requiring api:write" "$PV" /write 403 'error="insufficient_scope"' \
  'insufficient_scope' -H "$(bearer "$VT")"
case_challenge "cached token with one signature character changed" "$PV" /api 401 'error="invalid_token"' \
  'invalid_token' -H "$(bearer "$(bad_signature "$VT")")"
# a small mix, each answer checked: valid tokens cycling (hits), every 4th a changed one
bad=0; codes=""
for i in $(seq 1 24); do
  if [ $((i % 4)) = 0 ]; then t="$(bad_signature "$([ $((i % 8)) = 0 ] && echo "$VT" || echo "$VT2")")"; want=401
  else t="$([ $((i % 2)) = 0 ] && echo "$VT" || echo "$VT2")"; want=200; fi
  req "$PV" /api -H "$(bearer "$t")"
  [ "$STATUS" = "$want" ] || bad=$((bad + 1))
  codes="$codes$STATUS "
done
ok=0; [ $bad = 0 ] && ok=1
result $ok "24 requests: 2 valid tokens cycling, every 4th changed" "18x200 6x401" \
  "$(echo $codes | tr ' ' '\n' | sort | uniq -c | awk '{printf "%sx%s ", $1, $2}')"
# DPoP: the proof of this request is checked on a hit
VDTOK="$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -H "DPoP: $(proof "$DK" POST "$ISS_V/token")" \
  -d grant_type=client_credentials --data-urlencode scope=api:read --data-urlencode "resource=$RESOURCE" \
  "$ISS_V/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')"
VU="http://127.0.0.1:$PV/dpop"
VP1="$(proof "$DK" GET "$VU" "$VDTOK")"
case_ok "bound token + its proof (cached)" "$PV" /dpop conf-basic -H "Authorization: DPoP $VDTOK" -H "DPoP: $VP1"
case_challenge "the same proof again (a hit; replayed jti)" "$PV" /dpop 401 "$(dre invalid_dpop_proof)" \
  'invalid_dpop_proof' -H "Authorization: DPoP $VDTOK" -H "DPoP: $VP1"
case_challenge "bound token without a proof (a hit)" "$PV" /dpop 401 'error="invalid_token"' \
  'invalid_token' -H "$(bearer "$VDTOK")"
case_challenge "bound token + a proof of another key (a hit)" "$PV" /dpop 401 "$(dre invalid_dpop_proof)" \
  'invalid_dpop_proof' -H "Authorization: DPoP $VDTOK" -H "DPoP: $(proof "$DK2" GET "$VU" "$VDTOK")"
case_ok "bound token + a fresh proof (a hit)" "$PV" /dpop conf-basic -H "Authorization: DPoP $VDTOK" \
  -H "DPoP: $(proof "$DK" GET "$VU" "$VDTOK")"
# a key leaving the set: soidc_jwks_file replaced, and a refetch after rotation
case_ok "token in /file (keys from soidc_jwks_file), cached" "$PV" /file conf-basic -H "$(bearer "$VT")"
case_ok "the same again (a hit)" "$PV" /file conf-basic -H "$(bearer "$VT")"
case_ok "token in /api, cached" "$PV" /api conf-basic -H "$(bearer "$VT")"
curl -s -X POST "$ISS_V/test/rotate?drop_old=1" >/dev/null
VT_NEW="$(lib_token "$ISS_V" api:read)"
sleep 1.1    # the file's mtime must differ
vjwks "${NGINX_PREFIX[V]}/jwks.json"
# (the module reads the file again when a token names a kid it lacks)
case_ok "token of the new key in /file: the replaced file is read" "$PV" /file conf-basic -H "$(bearer "$VT_NEW")"
case_challenge "cached token, its key dropped from the file" "$PV" /file 401 'error="invalid_token"' \
  'invalid_token' -H "$(bearer "$VT")"
wait_200 "$PV" /api "$VT_NEW" 6; okw=$?   # an unknown-kid refresh fetches the rotated set
ok=0; [ $okw = 0 ] && ok=1
result $ok "token of the new key in /api (after the unknown-kid refresh)" "200 within 6 s" "$STATUS after $WAITED_MS ms"
case_challenge "cached token, its key gone from the refetched JWKS" "$PV" /api 401 'error="invalid_token"' \
  'invalid_token' -H "$(bearer "$VT")"
sleep 0.3
ok=0; grep -q 'reason=unknown_kid' "${NGINX_PREFIX[V]}/logs/access.log" && ok=1
result $ok "\$soidc_reason of that refusal" "reason=unknown_kid" "$(grep -c 'reason=unknown_kid' "${NGINX_PREFIX[V]}/logs/access.log") lines"

echo "== configuration errors at nginx -t"
conf_error() { # conf_error NAME SED-EXPRESSION EXPECTED-SUBSTRING
  local X="$WORK/nginx-X"; mkdir -p "$X/logs"
  sed "$2" "${NGINX_PREFIX[I]}/nginx.conf" >"$X/nginx.conf"
  local out rc
  out="$("$NGINX_BIN" -t -p "$X" -c "$X/nginx.conf" -e "$X/logs/error.log" 2>&1)"; rc=$?
  local ok=0; [ $rc -ne 0 ] && [[ "$out" == *"$3"* ]] && ok=1
  result $ok "$1" "refused: $3" "exit $rc: $(echo "$out" | grep -o 'emerg\] .*' | head -1 | cut -c8-150)"
}
ins() { echo "s|^    soidc_unknown_kid_refresh 2s;|&\n    $1|"; }
conf_error "soidc_claim_set with an empty name in the path" "$(ins 'soidc_claim_set $x a..b;')" 'has an empty name'
conf_error "soidc_claim_set with a bad escape" "$(ins 'soidc_claim_set $x a\\\\xb;')" 'escapes neither'
conf_error "soidc_claim_set without \$" "$(ins 'soidc_claim_set x a.b;')" 'invalid variable name "x"'
conf_error "soidc_claim_set: variable defined twice" "$(ins 'soidc_claim_set $soidc_roles a;')" 'duplicate'
conf_error "soidc_require_claim: unknown operator" "$(ins 'soidc_require_claim a.b like x;')" 'unknown operator "like"'
conf_error "soidc_require_claim eq without a value" "$(ins 'soidc_require_claim a eq;')" 'takes exactly one value'
conf_error "soidc_require_claim exists with a value" "$(ins 'soidc_require_claim a exists x;')" 'takes no value'
conf_error "soidc_require_claim: bad json: value" "$(ins 'soidc_require_claim a eq json:[1,;')" 'is not a JSON value'
conf_error "soidc_require_claim: bad JSON pointer" "$(ins 'soidc_require_claim /a~2 exists;')" 'not followed by 0 or 1'
conf_error "soidc_token without a variable" "$(ins 'soidc_token abc;')" 'holds no variable'
conf_error "soidc_dpop maybe" "$(ins 'soidc_dpop maybe;')" 'invalid value "maybe"'
conf_error "soidc_unknown_kid_status 402" "$(ins 'soidc_unknown_kid_status 402;')" 'invalid value "402"'
conf_error "soidc_verified_cache 1000001" "$(ins 'soidc_verified_cache 1000001;')" \
  'soidc_verified_cache must be 0 (off) to 1000000'
conf_error "soidc_verified_cache many" "$(ins 'soidc_verified_cache many;')" '"soidc_verified_cache" directive invalid number'
conf_error "soidc_verified_cache in a location" \
  "s|^        location = /api {|&\n            soidc_verified_cache 8;|" '"soidc_verified_cache" directive is not allowed here'
conf_error "soidc_unknown_kid_refresh 10ms" "s|soidc_unknown_kid_refresh 2s;|soidc_unknown_kid_refresh 10ms;|" \
  'invalid soidc_unknown_kid_refresh "10ms"'

conf_error "soidc_ca_file naming a missing file" "$(ins "soidc_ca_file $WORK/no-such-ca.pem;")" \
  'soidc_ca_file "'"$WORK"'/no-such-ca.pem" cannot be opened'
conf_error "soidc_client_secret_file naming a directory" "$(ins "soidc_client_secret_file $WORK;")" \
  'is not a regular file'
conf_error "soidc_jwks_file naming a missing file" "$(ins "soidc_jwks_file $WORK/no-such-jwks.json;")" \
  'no-such-jwks.json" cannot be opened'
echo '{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}' >"$WORK/bad-jwks.json"
conf_error "soidc_jwks_file without a usable key" "$(ins "soidc_jwks_file $WORK/bad-jwks.json;")" \
  'soidc refuses it'
conf_error "soidc_jwks_file with two issuers" \
  "s|soidc_issuer $ISS_A $ISS_B;|&\n            soidc_jwks_file $WORK/bad-jwks.json;|" 'holds the keys of one issuer'
conf_error "soidc_issuer naming one issuer twice" "s|soidc_issuer $ISS_A $ISS_B;|soidc_issuer $ISS_A $ISS_A;|" \
  'is given twice'

printf 'x\n' >"$WORK/secret-644"; chmod 644 "$WORK/secret-644"
conf_error "soidc_introspection without soidc_thread_pool" \
  "$(ins "location = /x { soidc_bearer on; soidc_introspection on; soidc_client_id c; soidc_client_secret_file $WORK/secret-644; }" | sed 's/^s|^    soidc_unknown_kid_refresh 2s;|/s|^        # @OPAQUE@|/')" \
  'needs "soidc_thread_pool"'
conf_error "soidc_introspection without credentials" \
  "$(ins "location = /x { soidc_bearer on; soidc_introspection on; }" | sed 's/^s|^    soidc_unknown_kid_refresh 2s;|/s|^        # @OPAQUE@|/')" \
  'needs "soidc_client_id" and "soidc_client_secret_file"'
conf_error "soidc_client_secret_file readable by others" \
  "$(ins "soidc_client_id c; soidc_client_secret_file $WORK/secret-644;" | sed 's/^s|^    soidc_unknown_kid_refresh 2s;|/s|^        # @OPAQUE@|/')" \
  'accessible by group or others (mode 0644)'

echo "== nginx stops cleanly"
for n in T I M V; do lib_nginx_stop "$n"; done
crit="$(cat "$WORK"/nginx-[TIMV]/logs/error.log | grep -E '\[(alert|emerg|crit)\]' | head -3)"
ok=0; [ -z "$crit" ] && ok=1
result $ok "no alert/crit/emerg in the error logs" "none" "${crit:-none}"

echo "nginx feature tests: $PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" -eq 0 ]
