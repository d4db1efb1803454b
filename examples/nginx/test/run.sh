#!/usr/bin/env bash
# Integration test of ngx_http_soidc_module with Debian's nginx and the real test
# OpenID provider (tests/provider). Prints one line per case with the expected and the
# observed result, then "nginx tests: N passed, M failed"; exits non-zero on failure.
# Every nginx and provider it starts is stopped on exit (trap).
#
# Environment: SOIDC_NGINX_SKIP_BUILD=1 reuses build/nginx/ngx_http_soidc_module.so;
# SOIDC_NGINX_KEEP=1 keeps the temporary prefix (configurations, error and access logs).
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap lib_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

lib_install_deps nginx nginx-dev gcc make curl wrk faketime node || exit 1
if [ ! -f "$REPO/target/release/libsoidc.so" ]; then
  echo "target/release/libsoidc.so is missing: run 'make build' first" >&2
  exit 1
fi
lib_build_module || exit 1

PASS=0
FAIL=0
REFRESH_S=2          # soidc_jwks_refresh of the instances T and I
TIMEOUT_MS=1500      # their soidc_fetch_timeout

result() { # result OK NAME EXPECTED OBSERVED
  local tag=FAIL
  if [ "$1" = 1 ]; then tag=PASS; PASS=$((PASS + 1)); else FAIL=$((FAIL + 1)); fi
  printf '%s  %-58s expected: %s | observed: %s\n' "$tag" "$2" "$3" "$4"
}

info() { # not counted
  printf 'INFO  %-58s %s\n' "$1" "$2"
}

# req PORT PATH [curl args...]: sets STATUS, WWWAUTH (the WWW-Authenticate value), BODY
req() {
  local port="$1" path="$2"; shift 2
  STATUS="$(curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' --max-time 10 "$@" \
    "http://127.0.0.1:$port$path")"
  WWWAUTH="$(sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: *//p' "$WORK/headers" | tr -d '\r')"
  BODY="$(cat "$WORK/body")"
}

show() { # the observed status and challenge, short
  local w="$WWWAUTH"
  [ ${#w} -gt 150 ] && w="${w:0:147}..."
  if [ -n "$w" ]; then echo "$STATUS [$w]"; else echo "$STATUS [no WWW-Authenticate]"; fi
}

# case_challenge NAME PORT PATH STATUS REGEX|NONE DESCRIPTION [curl args...]
case_challenge() {
  local name="$1" port="$2" path="$3" exp="$4" re="$5" desc="$6"; shift 6
  req "$port" "$path" "$@"
  local ok=1
  [ "$STATUS" = "$exp" ] || ok=0
  if [ "$re" = NONE ]; then
    [ -z "$WWWAUTH" ] || ok=0
  elif ! [[ "$WWWAUTH" =~ $re ]]; then
    ok=0
  fi
  result $ok "$name" "$exp [$desc]" "$(show)"
}

# case_ok NAME PORT PATH BODY [curl args...]: 200 with exactly BODY
case_ok() {
  local name="$1" port="$2" path="$3" want="$4"; shift 4
  req "$port" "$path" "$@"
  local ok=0
  [ "$STATUS" = 200 ] && [ "$BODY" = "$want" ] && ok=1
  result $ok "$name" "200 \"$want\"" "$STATUS \"${BODY:0:80}\""
}

bearer() { echo "Authorization: Bearer $1"; }

# --- token surgery (base64url) -------------------------------------------------------
b64url_decode() {
  local s
  s="$(printf '%s' "$1" | tr '_-' '/+')"
  while [ $(( ${#s} % 4 )) -ne 0 ]; do s="$s="; done
  printf '%s' "$s" | base64 -d 2>/dev/null
}
b64url_encode() { base64 -w0 | tr '/+' '_-' | tr -d '='; }
jwt_part() { echo "$1" | cut -d. -f"$2"; }
# the first signature character changed: the signature no longer verifies
bad_signature() {
  local sig first repl=A
  sig="$(jwt_part "$1" 3)"; first="${sig:0:1}"
  [ "$first" = A ] && repl=B
  echo "$(jwt_part "$1" 1).$(jwt_part "$1" 2).$repl${sig:1}"
}
# exp moved 2 h into the past, the original signature kept
backdated_exp() {
  local payload exp
  payload="$(b64url_decode "$(jwt_part "$1" 2)")"
  exp="$(printf '%s' "$payload" | sed -n 's/.*"exp":\([0-9]*\).*/\1/p')"
  payload="$(printf '%s' "$payload" | sed "s/\"exp\":$exp/\"exp\":$((exp - 7200))/")"
  echo "$(jwt_part "$1" 1).$(printf '%s' "$payload" | b64url_encode).$(jwt_part "$1" 3)"
}
kid_of() { b64url_decode "$(jwt_part "$1" 1)" | sed -n 's/.*"kid":"\([^"]*\)".*/\1/p'; }
fetch_count() { curl -s "$1/test/jwks-fetch-count" | sed -n 's/.*"count":\([0-9]*\).*/\1/p'; }

# wrk_max_ms FILE: the "Max" latency of a wrk report in ms
wrk_max_ms() {
  awk '/^ +Latency/ { v = $4;
         if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 }
         else if (v ~ /ms$/) { sub(/ms$/, "", v) }
         else if (v ~ /m$/) { sub(/m$/, "", v); v *= 60000 }
         else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }
         printf "%d", v; exit }' "$1"
}
wrk_non2xx() { sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$1" | head -1; }
wrk_requests() { sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$1" | head -1; }

# --- providers and nginx instances --------------------------------------------------
echo "== starting two OpenID providers (A serves the tests, B is a foreign issuer)"
lib_provider_start A || exit 1
lib_provider_start B || exit 1
ISS_A="${PROVIDER_ISSUER[A]}"
ISS_B="${PROVIDER_ISSUER[B]}"
echo "   A=$ISS_A B=$ISS_B"

FT_SO="$(lib_faketime_so)"
DEAD_PORT="$(lib_free_port)"   # nothing listens there
lib_keyless_issuer_start K "$DEAD_PORT" || exit 1
ISS_K="${PROVIDER_ISSUER[K]}"

# T: thread-pool refresh; I: inline refresh; N: issuer B, refresh every 300 s (so the
# test can count JWKS fetches); E/F: clock 2 h ahead / 1 h behind (libfaketime);
# D: provider unreachable from the start.
lib_nginx_conf T "$(lib_free_port)" "$ISS_A" thread "${REFRESH_S}s" "${TIMEOUT_MS}ms" 2
lib_nginx_conf I "$(lib_free_port)" "$ISS_A" inline "${REFRESH_S}s" "${TIMEOUT_MS}ms" 2
lib_nginx_conf N "$(lib_free_port)" "$ISS_B" thread 300s 1s 1
lib_nginx_conf E "$(lib_free_port)" "$ISS_A" thread 300s 1s 1
lib_nginx_conf F "$(lib_free_port)" "$ISS_A" thread 300s 1s 1
lib_nginx_conf D "$(lib_free_port)" "http://127.0.0.1:$DEAD_PORT" inline 300s 300ms 1
# C: provider A, but soidc_ca_file names a file without a certificate (a missing file
# fails at nginx -t: features.sh)
lib_nginx_conf C "$(lib_free_port)" "$ISS_A" inline 300s 1s 1
# K: discovery succeeds, the JWKS is unreachable: a client without keys (the dead port
# refuses at once; the 1 s budget is for the discovery, which 300 ms missed under load)
lib_nginx_conf K "$(lib_free_port)" "$ISS_K" inline 300s 1s 1
echo "not a certificate" >"$WORK/not-a-ca.pem"
chmod 644 "$WORK/not-a-ca.pem"
sed -i "s|^    soidc_audience .*|&\n    soidc_ca_file $WORK/not-a-ca.pem;|" "${NGINX_PREFIX[C]}/nginx.conf"
# N counts JWKS fetches: without the unknown-kid refresh (features.sh tests that one)
sed -i "s|^    soidc_audience .*|&\n    soidc_unknown_kid_refresh off;|" "${NGINX_PREFIX[N]}/nginx.conf"

echo "== starting nginx instances (Debian $("$NGINX_BIN" -v 2>&1 | sed 's/.*: //') + ngx_http_soidc_module)"
lib_nginx_start T || exit 1
lib_nginx_start I || exit 1
lib_nginx_start N || exit 1
lib_nginx_start E LD_PRELOAD="$FT_SO" FAKETIME=+2h FAKETIME_DONT_FAKE_MONOTONIC=1 || exit 1
lib_nginx_start F LD_PRELOAD="$FT_SO" FAKETIME=-1h FAKETIME_DONT_FAKE_MONOTONIC=1 || exit 1
lib_nginx_start D || exit 1
lib_nginx_start C || exit 1
lib_nginx_start K || exit 1
PT="${NGINX_PORT[T]}"; PI="${NGINX_PORT[I]}"; PN="${NGINX_PORT[N]}"
PE="${NGINX_PORT[E]}"; PF="${NGINX_PORT[F]}"; PD="${NGINX_PORT[D]}"

TOK_READ="$(lib_token "$ISS_A" api:read)"
TOK_RW="$(lib_token "$ISS_A" "api:read api:write")"
TOK_B="$(lib_token "$ISS_B" api:read)"
TOK_OPAQUE="$(lib_token "$ISS_A" openid conf-post conf-post-secret-0123456789abcdef -)"
if [ -z "$TOK_READ" ] || [ -z "$TOK_RW" ] || [ -z "$TOK_B" ]; then
  echo "could not get access tokens from the providers" >&2
  exit 1
fi

echo "== configuration"
X="$WORK/nginx-X"; mkdir -p "$X/logs"
sed '/soidc_audience https/d' "${NGINX_PREFIX[T]}/nginx.conf" >"$X/nginx.conf"
out="$("$NGINX_BIN" -t -p "$X" -c "$X/nginx.conf" -e "$X/logs/error.log" 2>&1)"; rc=$?
ok=0; [ $rc -ne 0 ] && [[ "$out" == *'needs "soidc_audience"'* ]] && ok=1
result $ok "nginx -t: soidc_bearer on without soidc_audience" "refused, names soidc_audience" \
  "exit $rc: $(echo "$out" | grep -o 'needs "soidc_audience"' | head -1)"

echo "== requests (instance T: thread-pool refresh)"
case_ok "valid token -> \$soidc_sub" "$PT" /api conf-basic -H "$(bearer "$TOK_READ")"
case_ok "valid token, scheme written \"bearer\"" "$PT" /api conf-basic -H "Authorization: bearer $TOK_READ"
req "$PT" /claims -H "$(bearer "$TOK_READ")"
want="sub=conf-basic scope=api:read client_id=conf-basic aud=https://api.soidc.test iss=$ISS_A exp="
ok=0; [ "$STATUS" = 200 ] && [[ "$BODY" == "$want"[0-9]*" missing=[]" ]] && ok=1
result $ok "claims as \$soidc_scope, \$soidc_claim_<name>" "200 \"${want}<n> missing=[]\"" "$STATUS \"$BODY\""
case_ok "claims passed on by proxy_set_header" "$PT" /proxy \
  "backend saw sub=conf-basic scope=api:read" -H "$(bearer "$TOK_READ")"
ok=0; grep -q '"GET /api HTTP/1.1" 200 sub=conf-basic scope="api:read" client_id=conf-basic' \
  "${NGINX_PREFIX[T]}/logs/access.log" && ok=1
result $ok "claims in the access log (log_format)" "sub=conf-basic scope=\"api:read\"" \
  "$(grep -c 'sub=conf-basic' "${NGINX_PREFIX[T]}/logs/access.log") matching lines"
case_ok "location without soidc_bearer, no token" "$PT" /bench/open ok

case_challenge "no token" "$PT" /api 401 '^Bearer realm="soidc-test"$' \
  'Bearer realm, no error'
case_challenge "other scheme (Basic)" "$PT" /api 401 '^Bearer realm="soidc-test"$' \
  'Bearer realm, no error' -u user:password
case_challenge "\"Bearer\" without a token" "$PT" /api 400 'error="invalid_request"' \
  'invalid_request' -H "Authorization: Bearer"
case_challenge "\"Bearer a b\" (two tokens)" "$PT" /api 400 'error="invalid_request"' \
  'invalid_request' -H "Authorization: Bearer a b"
case_challenge "malformed token (not a JWT)" "$PT" /api 401 \
  'error="invalid_token", error_description=".*compact JWS' 'invalid_token, not a JWS' \
  -H "Authorization: Bearer not-a-jwt"
# a header whose typ holds quotes, a backslash, control characters and non-ASCII: it
# comes back in soidc's error message, through the module's JSON reader, into the header
hostile_hdr="$(printf '%s' '{"alg":"RS256","typ":"x\"\\\u0001\u00e9\ud83d\ude00\n\r<b>","kid":"k"}' | b64url_encode)"
req "$PT" /api -H "Authorization: Bearer $hostile_hdr.$(jwt_part "$TOK_READ" 2).$(jwt_part "$TOK_READ" 3)"
ok=0
[ "$STATUS" = 401 ] && [[ "$WWWAUTH" =~ ^Bearer\ realm=\"soidc-test\",\ error=\"invalid_token\",\ error_description=\"[^\"\\]*typ[^\"\\]*\"$ ]] \
  && ! LC_ALL=C grep -q $'[^\t -~]' <<<"$WWWAUTH" && ok=1
result $ok "hostile typ header (quotes, controls, UTF-8)" "401 [invalid_token, sanitized description]" "$(show)"
if [ -n "$TOK_OPAQUE" ]; then
  case_challenge "opaque access token (no resource)" "$PT" /api 401 'error="invalid_token"' \
    'invalid_token' -H "$(bearer "$TOK_OPAQUE")"
fi
case_challenge "bad signature (1st signature char changed)" "$PT" /api 401 \
  'error="invalid_token", error_description=".*signature' 'invalid_token, signature' \
  -H "$(bearer "$(bad_signature "$TOK_READ")")"
case_challenge "exp back-dated in payload (signature kept)" "$PT" /api 401 \
  'error="invalid_token", error_description=".*signature' 'invalid_token, signature check' \
  -H "$(bearer "$(backdated_exp "$TOK_READ")")"
case_challenge "wrong audience (location: other audience)" "$PT" /other-audience 401 \
  'error="invalid_token", error_description=".*aud' 'invalid_token, aud' -H "$(bearer "$TOK_READ")"
case_challenge "wrong issuer (token of provider B)" "$PT" /api 401 \
  'error="invalid_token", error_description=".*kid' 'invalid_token, unknown kid' -H "$(bearer "$TOK_B")"
case_challenge "missing scope api:write" "$PT" /write 403 \
  'error="insufficient_scope".*scope="api:read api:write"' 'insufficient_scope, scope=' \
  -H "$(bearer "$TOK_READ")"
case_ok "scope api:write present" "$PT" /write conf-basic -H "$(bearer "$TOK_RW")"

echo "== requests (instance I: inline refresh)"
case_ok "valid token" "$PI" /api conf-basic -H "$(bearer "$TOK_READ")"
case_challenge "no token" "$PI" /api 401 '^Bearer realm="soidc-test"$' 'Bearer realm, no error'
case_challenge "missing scope api:write" "$PI" /write 403 'error="insufficient_scope"' \
  'insufficient_scope' -H "$(bearer "$TOK_READ")"

echo "== time checks (libfaketime in nginx; real signatures)"
case_challenge "expired token (nginx clock +2 h)" "$PE" /api 401 \
  'error="invalid_token", error_description=".*expired' 'invalid_token, expired' \
  -H "$(bearer "$TOK_READ")"
case_challenge "token from the future (nginx clock -1 h)" "$PF" /api 401 \
  'error="invalid_token", error_description=".*iat .* in the future' 'invalid_token, iat' \
  -H "$(bearer "$TOK_READ")"

echo "== the request path never fetches keys (instance N, issuer B, refresh 300 s, soidc_unknown_kid_refresh off)"
case_ok "valid token of B" "$PN" /api conf-basic -H "$(bearer "$TOK_B")"
before="$(fetch_count "$ISS_B")"
codes=""
for _ in $(seq 1 20); do req "$PN" /api -H "$(bearer "$TOK_READ")"; codes="$codes$STATUS "; done
after="$(fetch_count "$ISS_B")"
ok=0; [ "$before" = "$after" ] && [ "$(echo $codes | tr ' ' '\n' | sort -u)" = 401 ] && ok=1
result $ok "20 tokens with an unknown kid" "401 each, JWKS fetches +0" \
  "$(echo $codes | tr ' ' '\n' | sort | uniq -c | awk '{printf "%sx%s ", $1, $2}')fetches $before -> $after"
curl -s -X POST "$ISS_B/test/rotate?drop_old=1" >/dev/null
TOK_B2="$(lib_token "$ISS_B" api:read)"
before="$(fetch_count "$ISS_B")"
req "$PN" /api -H "$(bearer "$TOK_B2")"
after="$(fetch_count "$ISS_B")"
ok=0; [ "$STATUS" = 401 ] && [ "$before" = "$after" ] && ok=1
result $ok "B rotated, new kid before the next refresh" "401, JWKS fetches +0" \
  "$STATUS, fetches $before -> $after"

echo "== provider unreachable at worker start (instance D)"
case_ok "worker serves other locations" "$PD" /health ok
req "$PD" /api -H "$(bearer "$TOK_READ")"
ok=0; [ "$STATUS" = 503 ] && grep -qi '^Retry-After: 5' "$WORK/headers" && ok=1
result $ok "token while no keys are cached" "503 + Retry-After: 5" \
  "$STATUS $(grep -i '^Retry-After' "$WORK/headers" | tr -d '\r')"
ok=0; grep -q 'soidc: discovery for "http://127.0.0.1:'"$DEAD_PORT"'" failed.*network' \
  "${NGINX_PREFIX[D]}/logs/error.log" && ok=1
result $ok "discovery failure in the error log" "warn: discovery ... failed (network)" \
  "$(grep -o 'soidc: discovery for [^:]*:[^:]*:[0-9]*" failed[^(]*([a-z]*)' "${NGINX_PREFIX[D]}/logs/error.log" | head -1)"

echo "== discovery succeeded, JWKS unreachable (instance K): soidc's reason no_keys_cached"
req "${NGINX_PORT[K]}" /api -H "$(bearer "$TOK_READ")"
ok=0; [ "$STATUS" = 503 ] && grep -qi '^Retry-After: 5' "$WORK/headers" \
  && grep -q '(reason no_keys_cached); answering 503' "${NGINX_PREFIX[K]}/logs/error.log" && ok=1
result $ok "token, client without keys (soidc: no_keys_cached)" "503 + Retry-After: 5, logged with the reason" \
  "$STATUS $(grep -i '^Retry-After' "$WORK/headers" | tr -d '\r'), $(grep -c 'reason no_keys_cached' "${NGINX_PREFIX[K]}/logs/error.log") log lines"
ok=0
grep -q 'soidc: JWKS refresh for "'"$ISS_K"'" failed.*requests get 503' "${NGINX_PREFIX[K]}/logs/error.log" \
  && ! grep -q 'soidc: discovery for' "${NGINX_PREFIX[K]}/logs/error.log" && ok=1
result $ok "K: discovery ok, JWKS refresh failure logged" "warn: JWKS refresh ... failed, no discovery failure" \
  "$(grep -o 'soidc: [A-Za-z ]* for "[^"]*" failed after [0-9]* ms ([a-z]*)' "${NGINX_PREFIX[K]}/logs/error.log" | head -1)"

echo "== soidc_ca_file reaches soidc (instance C: the file holds no certificate)"
req "${NGINX_PORT[C]}" /api -H "$(bearer "$TOK_READ")"
line="$(grep -o 'soidc: discovery for .*not-a-ca.pem[^;]*' "${NGINX_PREFIX[C]}/logs/error.log" | head -1)"
ok=0; [ "$STATUS" = 503 ] && [ -n "$line" ] && ok=1
result $ok "token; client creation refused the CA file" "503, error names the file" "$STATUS ${line:0:140}"

echo "== reload (SIGHUP): new workers create their clients, old workers exit"
kill -HUP "${NGINX_PID[T]}"
sleep 1.5
case_ok "valid token after the reload (T)" "$PT" /api conf-basic -H "$(bearer "$TOK_READ")"
n_ready="$(grep -c 'soidc: client ngx_http_soidc_module for issuer .* ready' "${NGINX_PREFIX[T]}/logs/error.log")"
ok=0; [ "$n_ready" -ge 4 ] && ok=1
result $ok "clients created by old and new workers (T)" ">= 4 (2 workers x 2 generations)" "$n_ready"

echo "== key rotation at provider A (drop_old=1), picked up by the refresh timer"
kid_before="$(kid_of "$TOK_READ")"
curl -s -X POST "$ISS_A/test/rotate?drop_old=1" >/dev/null
TOK2="$(lib_token "$ISS_A" api:read)"
info "rotated: kid $kid_before -> $(kid_of "$TOK2")" ""
req "$PT" /api -H "$(bearer "$TOK2")"
info "new token at once (depends on the timer phase)" "$STATUS (200 only if a refresh ran since)"
sleep "$(awk "BEGIN { print $REFRESH_S * 1.1 + 1.6 }")"
case_ok "new token after the refresh interval (T)" "$PT" /api conf-basic -H "$(bearer "$TOK2")"
case_ok "new token after the refresh interval (I)" "$PI" /api conf-basic -H "$(bearer "$TOK2")"
case_challenge "old token, its key dropped (T)" "$PT" /api 401 \
  'error="invalid_token", error_description=".*kid' 'invalid_token, unknown kid' \
  -H "$(bearer "$TOK_READ")"

echo "== provider A hung (SIGSTOP) for 6 s: request latency while refreshes time out"
cat >"$WORK/paced.lua" <<'EOF'
-- one request per connection every 20 ms: a latency probe, not a load test
function delay()
  return 20
end
EOF
kill -STOP "${PROVIDER_PID[A]}"
for n in T I; do
  wrk -t1 -c4 -d6s --timeout 10s -s "$WORK/paced.lua" -H "$(bearer "$TOK2")" \
    "http://127.0.0.1:${NGINX_PORT[$n]}/api" >"$WORK/wrk-hung-$n.txt" 2>&1 &
  eval "wrk_$n=\$!"
done
wait "$wrk_T" "$wrk_I"
kill -CONT "${PROVIDER_PID[A]}"
maxT="$(wrk_max_ms "$WORK/wrk-hung-T.txt")"; maxI="$(wrk_max_ms "$WORK/wrk-hung-I.txt")"
badT="$(wrk_non2xx "$WORK/wrk-hung-T.txt")"; badI="$(wrk_non2xx "$WORK/wrk-hung-I.txt")"
ok=0; [ -n "$maxT" ] && [ "$maxT" -lt 500 ] && [ -z "$badT" ] && ok=1
result $ok "T (thread pool): max latency, all 200" "< 500 ms, no non-2xx" \
  "max ${maxT:-?} ms over $(wrk_requests "$WORK/wrk-hung-T.txt") requests, non-2xx ${badT:-0}"
ok=0; [ -n "$maxI" ] && [ "$maxI" -ge 1000 ] && [ "$maxI" -le $((TIMEOUT_MS + 1000)) ] && [ -z "$badI" ] && ok=1
result $ok "I (inline): worker stalls, bounded by timeout" "1000..$((TIMEOUT_MS + 1000)) ms, no non-2xx" \
  "max ${maxI:-?} ms over $(wrk_requests "$WORK/wrk-hung-I.txt") requests, non-2xx ${badI:-0}"
ok=0; grep -q 'soidc: JWKS refresh for "'"$ISS_A"'" failed after [0-9]* ms (network).*the cached keys stay in use' \
  "${NGINX_PREFIX[T]}/logs/error.log" && ok=1
result $ok "refresh timeout in the error log (T)" "warn: JWKS refresh ... failed (network)" \
  "$(grep -o 'soidc: JWKS refresh for [^ ]* failed after [0-9]* ms ([a-z]*)' "${NGINX_PREFIX[T]}/logs/error.log" | head -1)"

echo "== provider A stopped: nginx keeps serving from the cached keys"
lib_provider_stop A
sleep "$(awk "BEGIN { print $REFRESH_S * 2.2 + 1 }")"
for n in T I; do
  codes=""
  for _ in $(seq 1 10); do req "${NGINX_PORT[$n]}" /api -H "$(bearer "$TOK2")"; codes="$codes$STATUS "; done
  ok=0; [ "$(echo $codes | tr ' ' '\n' | sort -u)" = 200 ] && ok=1
  result $ok "10 requests, provider down for $((REFRESH_S * 2))+ s ($n)" "200 each" \
    "$(echo $codes | tr ' ' '\n' | sort | uniq -c | awk '{printf "%sx%s ", $1, $2}')"
done
ok=0; grep -q 'failed after [0-9]* ms (network).*[Cc]onnection refused.*the cached keys stay in use' \
  "${NGINX_PREFIX[I]}/logs/error.log" && ok=1
result $ok "refused refresh in the error log (I)" "warn: ... Connection refused ..." \
  "$(grep -c 'failed after [0-9]* ms (network)' "${NGINX_PREFIX[I]}/logs/error.log") refresh failures logged"
ok=0; grep -q '\[info\] [0-9#]*: soidc: fetched JWKS from' "${NGINX_PREFIX[T]}/logs/error.log" && ok=1
result $ok "soidc's own log lines via the log callback" "[info] ... soidc: fetched JWKS" \
  "$(grep -c 'soidc: fetched JWKS' "${NGINX_PREFIX[T]}/logs/error.log") lines"

echo "== soidc_keys_zone: 4 workers, one JWKS fetch per interval (provider S)"
lib_provider_start S || exit 1
ISS_S="${PROVIDER_ISSUER[S]}"
# Z: the keys shared through the zone; W: the same without it (the comparison)
lib_nginx_conf Z "$(lib_free_port)" "$ISS_S" thread "${REFRESH_S}s" "${TIMEOUT_MS}ms" 4
lib_nginx_conf W "$(lib_free_port)" "$ISS_S" inline "${REFRESH_S}s" "${TIMEOUT_MS}ms" 4
sed -i "s|^    soidc_audience .*|&\n    soidc_keys_zone 1m;|" "${NGINX_PREFIX[Z]}/nginx.conf"
INTERVALS=5
c0="$(fetch_count "$ISS_S")"
lib_nginx_start Z || exit 1
sleep 1
c1="$(fetch_count "$ISS_S")"
ok=0; [ $((c1 - c0)) -eq 1 ] && ok=1
result $ok "JWKS fetches while 4 workers start (Z)" "1" "$((c1 - c0))"
sleep $((REFRESH_S * INTERVALS))
c2="$(fetch_count "$ISS_S")"
ok=0; [ $((c2 - c1)) -ge $((INTERVALS - 1)) ] && [ $((c2 - c1)) -le $((INTERVALS + 1)) ] && ok=1
result $ok "JWKS fetches in $INTERVALS intervals of ${REFRESH_S} s, 4 workers (Z)" \
  "$INTERVALS +- 1 (one per interval)" "$((c2 - c1))"
zlog="${NGINX_PREFIX[Z]}/logs/error.log"
n_imp="$(grep 'imported from soidc_keys_zone' "$zlog" | sed -n 's/.*\] \([0-9]*\)#.*/\1/p' | sort -u | wc -l)"
ok=0; [ "$n_imp" -ge 3 ] && ok=1
result $ok "workers that imported the shared keys (Z)" ">= 3 of 4" "$n_imp"
TOK_S="$(lib_token "$ISS_S" api:read)"
curl -s -X POST "$ISS_S/test/rotate?drop_old=1" >/dev/null
TOK_S2="$(lib_token "$ISS_S" api:read)"
sleep "$(awk "BEGIN { print $REFRESH_S * 2.2 + 1 }")"
codes=""
for _ in $(seq 1 40); do req "${NGINX_PORT[Z]}" /api -H "$(bearer "$TOK_S2")"; codes="$codes$STATUS "; done
ok=0; [ "$(echo $codes | tr ' ' '\n' | sort -u)" = 200 ] && ok=1
result $ok "rotated key accepted by every worker, 40 requests (Z)" "200 each" \
  "$(echo $codes | tr ' ' '\n' | sort | uniq -c | awk '{printf "%sx%s ", $1, $2}')"
req "${NGINX_PORT[Z]}" /api -H "$(bearer "$TOK_S")"
ok=0; [ "$STATUS" = 401 ] && ok=1
result $ok "token of the dropped key refused (Z)" "401" "$STATUS"
cr0="$(fetch_count "$ISS_S")"
kill -HUP "${NGINX_PID[Z]}"
sleep 1
case_ok "valid token after a reload (Z)" "${NGINX_PORT[Z]}" /api conf-basic -H "$(bearer "$TOK_S2")"
cr1="$(fetch_count "$ISS_S")"
ok=0; [ $((cr1 - cr0)) -le 1 ] && ok=1
result $ok "JWKS fetches across the reload, 4 new workers (Z)" "<= 1 (the zone is kept)" "$((cr1 - cr0))"
lib_nginx_stop Z
c3="$(fetch_count "$ISS_S")"
lib_nginx_start W || exit 1
sleep $((REFRESH_S * INTERVALS + 1))
c4="$(fetch_count "$ISS_S")"
lib_nginx_stop W
info "without soidc_keys_zone (W): JWKS fetches" "$((c4 - c3)) in $((REFRESH_S * INTERVALS + 1)) s incl. start, 4 workers"
crit="$(grep -E '\[(alert|emerg|crit)\]' "$zlog" "${NGINX_PREFIX[W]}/logs/error.log" | head -3)"
ok=0; [ -z "$crit" ] && ok=1
result $ok "no alert/crit/emerg (Z, W)" "none" "${crit:-none}"

echo "== nginx stops cleanly"
for n in T I N E F D C K; do lib_nginx_stop "$n"; done
crit="$(cat "$WORK"/nginx-[TINEFDCK]/logs/error.log | grep -E '\[(alert|emerg|crit)\]' | head -3)"
ok=0; [ -z "$crit" ] && ok=1
result $ok "no alert/crit/emerg in any error log" "none" "${crit:-none}"

echo "nginx tests: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
