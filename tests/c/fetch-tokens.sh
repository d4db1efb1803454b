#!/usr/bin/env bash
# Gets real tokens from the test provider for the C tests and the demo, using the
# provider's TEST-ONLY `password` grant (see tests/provider/README.md). It talks to the
# provider with curl, not through soidc (which has soidc_direct_access_grant), so that the
# tokens the C tests validate do not depend on the library under test.
#
# Usage (SOIDC_TEST_ISSUER must be set, e.g. inside tests/with-provider.sh):
#     eval "$(tests/c/fetch-tokens.sh)"
# Prints `export NAME='value'` lines on stdout, diagnostics on stderr:
#   SOIDC_TEST_CLIENT_ID, SOIDC_TEST_CLIENT_SECRET   conf-basic (client_secret_basic)
#   SOIDC_TEST_NONCE                                 the nonce sent with every request
#   SOIDC_TEST_ID_TOKEN, SOIDC_TEST_ACCESS_TOKEN     alice, conf-basic, RS256
#   SOIDC_TEST_ID_TOKEN_BOB                          bob, conf-basic, RS256
#   SOIDC_TEST_ES256_CLIENT_ID/_SECRET, SOIDC_TEST_ID_TOKEN_ES256   alice, conf-es256
#   SOIDC_TEST_EDDSA_CLIENT_ID/_SECRET, SOIDC_TEST_ID_TOKEN_EDDSA   alice, conf-eddsa
# All tokens are requested with scope "openid email".
set -euo pipefail

issuer="${SOIDC_TEST_ISSUER:?SOIDC_TEST_ISSUER is not set (run inside tests/with-provider.sh)}"

# Fixed test clients of tests/provider/clients.json.
basic_id=conf-basic;  basic_secret=conf-basic-secret-0123456789abcdef
es256_id=conf-es256;  es256_secret=conf-es256-secret-0123456789abcdef
eddsa_id=conf-eddsa;  eddsa_secret=conf-eddsa-secret-0123456789abcdef
nonce="nonce-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

# token_response CLIENT_ID SECRET USER -> the token endpoint's JSON answer on stdout.
token_response() {
  local body status
  body="$(curl -sS --max-time 10 -u "$1:$2" -w '\n%{http_code}' \
    --data-urlencode grant_type=password \
    --data-urlencode "username=$3" --data-urlencode "password=$3-password" \
    --data-urlencode "scope=openid email" --data-urlencode "nonce=$nonce" \
    "$issuer/token")" || { echo "fetch-tokens.sh: POST $issuer/token failed" >&2; return 1; }
  status="${body##*$'\n'}"
  body="${body%$'\n'*}"
  if [ "$status" != 200 ]; then
    echo "fetch-tokens.sh: token endpoint answered HTTP $status for $1/$3: $body" >&2
    return 1
  fi
  printf '%s' "$body"
}

# member JSON NAME -> the value of a string member made of base64url/JWS characters.
member() {
  local value
  value="$(printf '%s' "$1" | sed -n "s/.*\"$2\":\"\([A-Za-z0-9._~+\/=-]*\)\".*/\1/p")"
  if [ -z "$value" ]; then
    echo "fetch-tokens.sh: no \"$2\" in the token response" >&2
    return 1
  fi
  printf '%s' "$value"
}

alice="$(token_response "$basic_id" "$basic_secret" alice)"
bob="$(token_response "$basic_id" "$basic_secret" bob)"
es256="$(token_response "$es256_id" "$es256_secret" alice)"
eddsa="$(token_response "$eddsa_id" "$eddsa_secret" alice)"

alice_id_token="$(member "$alice" id_token)"
alice_access_token="$(member "$alice" access_token)"
bob_id_token="$(member "$bob" id_token)"
es256_id_token="$(member "$es256" id_token)"
eddsa_id_token="$(member "$eddsa" id_token)"

# Every value consists of [A-Za-z0-9._~+/=-] only, so single quotes are safe.
cat <<VARS
export SOIDC_TEST_CLIENT_ID='$basic_id'
export SOIDC_TEST_CLIENT_SECRET='$basic_secret'
export SOIDC_TEST_NONCE='$nonce'
export SOIDC_TEST_ID_TOKEN='$alice_id_token'
export SOIDC_TEST_ACCESS_TOKEN='$alice_access_token'
export SOIDC_TEST_ID_TOKEN_BOB='$bob_id_token'
export SOIDC_TEST_ES256_CLIENT_ID='$es256_id'
export SOIDC_TEST_ES256_CLIENT_SECRET='$es256_secret'
export SOIDC_TEST_ID_TOKEN_ES256='$es256_id_token'
export SOIDC_TEST_EDDSA_CLIENT_ID='$eddsa_id'
export SOIDC_TEST_EDDSA_CLIENT_SECRET='$eddsa_secret'
export SOIDC_TEST_ID_TOKEN_EDDSA='$eddsa_id_token'
VARS
