#!/usr/bin/env python3
"""Writes the synthetic seed inputs of the soidc fuzz targets into
fuzz/seeds/<target>/ (stdlib only: python3 fuzz/seeds/make_seeds.py).

The seeds whose names start with `provider-` were captured once from the test
provider (tests/provider, oidc-provider 8.8.1) and are not generated here.
The constants mirror fuzz/targets_common.rs (issuer, client, secret, options).
"""
import base64
import hashlib
import hmac
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ISSUER = "https://op.example.test"
CLIENT_ID = "fuzz-client"
SECRET = b"fuzz-client-secret-0123456789abcdef"
NONCE = "n-0S6_WzA2Mj"
EXTRA_AUD = "https://api.example.test"
GOOD_ACR = "urn:mace:incommon:iap:silver"
HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def half_hash(alg, value):
    d = HASHES[alg](value.encode()).digest()
    return b64(d[: len(d) // 2])


def dumps(v):
    return json.dumps(v, separators=(",", ":")).encode()


def write(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def hs_token(header, claims, alg="HS256"):
    h = b64(header if isinstance(header, bytes) else dumps(header))
    p = b64(claims if isinstance(claims, bytes) else dumps(claims))
    mac = hmac.new(SECRET, f"{h}.{p}".encode(), HASHES[alg]).digest()
    return f"{h}.{p}.{b64(mac)}"


def good_claims(alg="HS256", **extra):
    c = {
        "iss": ISSUER,
        "sub": "alice",
        "aud": CLIENT_ID,
        "exp": 4102444800,
        "iat": 1700000000,
        "auth_time": 1700000000,
        "nonce": NONCE,
        "at_hash": half_hash(alg, "fuzz-access-token"),
        "c_hash": half_hash(alg, "fuzz-code"),
        "acr": GOOD_ACR,
        "azp": CLIENT_ID,
        "sid": "a5e1b9c2-7f3d-4c21-9a7e-0b6f3d2c1e90",
        "name": "Alice Liddell",
        "email": "alice@example.test",
        "email_verified": True,
    }
    c.update(extra)
    return c


# --- id_token_hs256: [header selector, options selector, claims JSON] --------
def hs_input(hsel, osel, claims):
    return bytes([hsel, osel]) + (claims if isinstance(claims, bytes) else dumps(claims))


ALG_BITS = {"HS256": 0x00, "HS384": 0x10, "HS512": 0x18}
for alg, bits in ALG_BITS.items():
    write("id_token_hs256", f"valid-{alg.lower()}-all-checks", hs_input(bits | 1, 7, good_claims(alg)))
write("id_token_hs256", "valid-minimal-no-options",
      hs_input(0, 0, {"iss": ISSUER, "sub": "bob", "aud": CLIENT_ID, "exp": 4102444800, "iat": 1700000000}))
write("id_token_hs256", "valid-kid-typ-application-jwt", hs_input(0x07, 1, good_claims()))
write("id_token_hs256", "valid-aud-array-extra-trusted",
      hs_input(0x01, 4, good_claims(aud=[CLIENT_ID, EXTRA_AUD], azp="other-client")))
write("id_token_hs256", "valid-float-times", hs_input(0x01, 5, good_claims(exp=4102444800.5, iat=1700000000.25, nbf=1699999999)))
write("id_token_hs256", "valid-max-age", hs_input(0x01, 2, good_claims(auth_time=4102444000)))
write("id_token_hs256", "valid-acr-callback", hs_input(0x01, 6, good_claims()))
write("id_token_hs256", "valid-hashes", hs_input(0x01, 3, good_claims()))
write("id_token_hs256", "refused-corrupt-mac", hs_input(0x41, 7, good_claims()))
write("id_token_hs256", "refused-typ-at-jwt", hs_input(0x02, 0, good_claims()))
write("id_token_hs256", "refused-auth-time-too-old", hs_input(0x01, 2, good_claims(auth_time=-3000000000)))
write("id_token_hs256", "refused-max-age-no-auth-time",
      hs_input(0x01, 2, {k: v for k, v in good_claims().items() if k != "auth_time"}))
write("id_token_hs256", "refused-expired", hs_input(0x01, 0, good_claims(exp=1700000100)))
write("id_token_hs256", "refused-aud-untrusted", hs_input(0x01, 0, good_claims(aud=[CLIENT_ID, "evil"])))
write("id_token_hs256", "refused-wrong-iss", hs_input(0x01, 0, good_claims(iss="https://evil.example")))
write("id_token_hs256", "refused-wrong-nonce", hs_input(0x01, 1, good_claims(nonce="other")))
write("id_token_hs256", "refused-wrong-at-hash", hs_input(0x01, 3, good_claims(at_hash="AAAAAAAAAAAAAAAAAAAAAA")))
write("id_token_hs256", "refused-sub-number", hs_input(0x01, 0, good_claims(sub=42)))
write("id_token_hs256", "refused-not-object", hs_input(0x01, 0, b'["iss","sub"]'))
write("id_token_hs256", "raw-header-rs256",
      bytes([0x20, 0]) + dumps({"alg": "RS256", "kid": "rs256-1"}) + b"\0" + dumps(good_claims()))
write("id_token_hs256", "raw-header-none",
      bytes([0x20, 0]) + dumps({"alg": "none"}) + b"\0" + dumps(good_claims()))
write("id_token_hs256", "raw-header-crit",
      bytes([0x20, 0]) + dumps({"alg": "HS256", "crit": ["exp"], "exp": 1}) + b"\0" + dumps(good_claims()))
write("id_token_hs256", "raw-header-hs512-valid",
      bytes([0x20, 7]) + dumps({"alg": "HS512", "typ": "JWT", "kid": "hs512"}) + b"\0" + dumps(good_claims("HS512")))
write("id_token_hs256", "refused-raw-header-kid-number",
      bytes([0x20, 0]) + dumps({"alg": "HS256", "kid": 7}) + b"\0" + dumps(good_claims()))
write("id_token_hs256", "raw-header-enc",
      bytes([0x20, 0]) + dumps({"alg": "dir", "enc": "A256GCM"}) + b"\0" + dumps(good_claims()))

# --- jose_parse: compact tokens ---------------------------------------------
write("jose_parse", "hs256-valid-for-validate", hs_token({"alg": "HS256", "typ": "JWT"}, good_claims()))
write("jose_parse", "hs384-kid", hs_token({"alg": "HS384", "kid": "k"}, good_claims("HS384"), "HS384"))
write("jose_parse", "alg-none", hs_token({"alg": "none"}, good_claims()))
write("jose_parse", "alg-None-mixed-case", hs_token({"alg": "nOnE"}, good_claims()))
write("jose_parse", "alg-number", hs_token({"alg": 256}, good_claims()))
write("jose_parse", "kid-object", hs_token({"alg": "RS256", "kid": {"a": 1}}, good_claims()))
write("jose_parse", "crit", hs_token({"alg": "ES256", "crit": ["b64"], "b64": False}, good_claims()))
write("jose_parse", "jwe-5-parts", "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGeipsEdY3mx_etLbbWSrFr05kLzcSr4qKAq7YN7e9jwQRb23nfa6c9d-StnImGyFDbSv04uVuxIp5Zms1gNxKKK2Da14B8S4rzVRltdYwam_lDp5XnZAYpQdb76FdIKLaVmqgfwX7XWRxv2322i-vDxRfqNzo_tETKzpVLzfiwQyeyPGLBIO56YJ7eObdv0je81860ppamavo35UgoRdbYaBcoh9QcfylQr66oc6vFWXRcZ_ZT2LawVCWTIy3brGPi6UklfCpIMfIjf7iGdXKHzg.48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A.XFBoMYUZodetZdvTiFvSkQ")
write("jose_parse", "two-parts", "eyJhbGciOiJSUzI1NiJ9.e30")
write("jose_parse", "padded-base64", "eyJhbGciOiJIUzI1NiJ9.e30=.c2ln")
write("jose_parse", "payload-array", hs_token({"alg": "HS256"}, b"[1,2,3]"))
write("jose_parse", "empty-signature", b64(dumps({"alg": "EdDSA"})) + "." + b64(dumps(good_claims())) + ".")
write("jose_parse", "times-odd", hs_token({"alg": "PS256", "typ": "at+jwt"},
      {"iss": ISSUER, "aud": [], "exp": 1e300, "iat": -1, "nbf": 18446744073709551615, "auth_time": "now"}))

# --- authorization_response: redirect URLs -----------------------------------
A = "authorization_response"
write(A, "code-query-iss", "http://127.0.0.1:9/callback?code=bmmh7dIXS5XO2cxSPgtBTjbDNUBrh9OqmfNtzhEk2Xg&state=Kx7lW1Q4YkmpHpPjBQHNhEJcQ8YeFlm4I0NSNbMJ2Zc&iss=http%3A%2F%2F127.0.0.1%3A34733")
write(A, "code-fragment", "https://rp.example.test/cb#code=SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj&iss=https%3A%2F%2Fop.example.test")
write(A, "error-access-denied", "https://rp.example.test/cb?error=access_denied&error_description=End-User%20aborted%20interaction&state=xyz&iss=https%3A%2F%2Fop.example.test")
write(A, "duplicate-code", "https://rp.example.test/cb?code=a&code=b&state=s")
write(A, "query-and-fragment", "https://rp.example.test/cb?foo=bar#code=c&state=s&state=t")
write(A, "relative-params", "code=abc&state=xyz%20+%2B&session_state=e3b0c442.98fc1c")
write(A, "ipv6-idn-percent", "https://[::1]:8443/c%C3%A4llback/?%63ode=%E2%82%AC&x&=y&state=%ZZ#frag")
write(A, "idn-host", "https://bücher.example/cb?code=1")
write(A, "not-a-url", "/callback?code=abc")

# --- discovery ----------------------------------------------------------------
D = "discovery"
full = {
    "issuer": ISSUER,
    "authorization_endpoint": ISSUER + "/authorize",
    "token_endpoint": ISSUER + "/oauth/token",
    "userinfo_endpoint": ISSUER + "/userinfo",
    "jwks_uri": ISSUER + "/.well-known/jwks.json",
    "registration_endpoint": ISSUER + "/register",
    "end_session_endpoint": ISSUER + "/logout",
    "introspection_endpoint": ISSUER + "/introspect",
    "revocation_endpoint": ISSUER + "/revoke",
    "device_authorization_endpoint": ISSUER + "/device",
    "check_session_iframe": ISSUER + "/check",
    "scopes_supported": ["openid", "profile", "email", "offline_access"],
    "response_types_supported": ["code", "id_token", "code id_token"],
    "response_modes_supported": ["query", "fragment", "form_post"],
    "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
    "subject_types_supported": ["public", "pairwise"],
    "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA", "HS256", "none"],
    "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_jwt", "client_secret_post"],
    "code_challenge_methods_supported": ["S256", "plain"],
    "claims_parameter_supported": True,
    "request_parameter_supported": False,
    "frontchannel_logout_supported": True,
    "backchannel_logout_supported": True,
    "authorization_response_iss_parameter_supported": True,
    "ui_locales_supported": ["en-US", "de"],
    "x-vendor-extension": {"nested": [1, 2, None]},
}
write(D, "https-full", json.dumps(full, indent=2))
write(D, "minimal", dumps({k: full[k] for k in ["issuer", "authorization_endpoint", "jwks_uri",
                                                  "subject_types_supported", "id_token_signing_alg_values_supported"]}))
write(D, "only-hs-algs", dumps(dict(full, id_token_signing_alg_values_supported=["HS256"],
                                     token_endpoint_auth_methods_supported=["none"])))
write(D, "http-non-loopback", dumps(dict(full, token_endpoint="http://op.example.test/token")))
write(D, "javascript-endpoint", dumps(dict(full, end_session_endpoint="javascript:alert(1)")))
write(D, "localhost-http", dumps(dict(full, issuer="http://localhost:8080/realms/x", jwks_uri="http://[::1]/jwks")))
write(D, "wrong-types", dumps(dict(full, scopes_supported="openid", claims_parameter_supported="yes")))
write(D, "missing-jwks-uri", dumps({k: v for k, v in full.items() if k != "jwks_uri"}))
write(D, "not-object", b'["issuer"]')

# --- jwks ---------------------------------------------------------------------
J = "jwks"
keydir = os.path.join(HERE, "..", "..", "tests", "keys")
stub = []
for name in sorted(os.listdir(keydir)):
    if name.endswith(".pub.jwk.json"):
        with open(os.path.join(keydir, name)) as f:
            stub.append(json.load(f))
write(J, "test-keys-all", json.dumps({"keys": stub}, indent=1))
rsa = next(k for k in stub if k["kty"] == "RSA")
ec = next(k for k in stub if k.get("crv") == "P-256")
okp = next(k for k in stub if k["kty"] == "OKP")
noalg = [{k: v for k, v in key.items() if k not in ("alg", "use")} for key in (rsa, ec, okp)]
write(J, "no-alg-no-use", dumps({"keys": noalg}))
write(J, "skipped-keys", dumps({"keys": [
    dict(rsa, use="enc", alg="RSA-OAEP"),
    {"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"},
    dict(ec, key_ops=["sign"]),
    dict(ec, key_ops=["verify"], kid=None),
    {"kty": "EC", "crv": "P-521", "x": "AQ", "y": "AQ"},
    {"kty": "OKP", "crv": "X25519", "x": okp["x"]},
    dict(rsa, alg="RS512", x5c=["MIIB"], kid="rs512"),
    "not an object",
    dict(okp, alg="ES256"),
]}))
write(J, "broken-keys", dumps({"keys": [
    dict(rsa, n="AQAB"),
    dict(rsa, e="AA"),
    dict(rsa, n=rsa["n"] + "="),
    dict(ec, x=ec["x"][:-2]),
    dict(ec, y="A" * 43),
    dict(okp, x=okp["x"][1:]),
    {"kty": "RSA"},
    {"kty": 1},
    {"kid": "no-kty"},
]}))
write(J, "keys-not-array", b'{"keys":{"kty":"RSA"}}')
write(J, "no-keys", b'{"Keys":[]}')

# --- token_response / introspection_response ------------------------------------
T = "token_response"
write(T, "hs256-id-token", dumps({"access_token": "fuzz-access-token", "token_type": "bearer", "expires_in": 300,
                                  "id_token": hs_token({"alg": "HS256"}, good_claims()), "scope": "openid"}))
write(T, "no-token-type", b'{"access_token":"x"}')
write(T, "mac-token-type", b'{"access_token":"x","token_type":"mac"}')
write(T, "empty-access-token", b'{"access_token":"","token_type":"Bearer"}')
write(T, "id-token-number", b'{"access_token":"x","token_type":"Bearer","id_token":7}')
write(T, "error-with-uri", dumps({"error": "invalid_client", "error_description": "client authentication failed",
                                  "error_uri": "https://op.example.test/errors#invalid_client"}))
write(T, "error-not-string", b'{"error":{"code":1},"error_description":5}')
write(T, "html", b"<html><body>502 Bad Gateway</body></html>")
write(T, "array", b'[{"access_token":"x"}]')
I = "introspection_response"
write(I, "active-jwt-claims", dumps({"active": True, "client_id": "conf-basic", "username": "alice", "scope": "api:read",
                                     "sub": "alice", "aud": ["https://api.soidc.test"], "iss": ISSUER,
                                     "exp": 4102444800, "iat": 1700000000, "nbf": 1700000000, "jti": "abc",
                                     "token_type": "Bearer", "cnf": {"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}}))
write(I, "active-string", b'{"active":"true"}')
write(I, "no-active", b'{"sub":"alice"}')
write(I, "error", b'{"error":"invalid_request","error_description":"token missing"}')
write(I, "not-json", b"active=true")
