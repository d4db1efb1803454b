//! The grants and endpoints: authorization code flow, client credentials,
//! password, refresh, device flow, userinfo, introspection, revocation, logout.
//!
//! Every function here takes the client first, `options_json` (nullable, a JSON
//! object; `timeout_ms` bounds that call alone) before the out-pointer, and
//! writes the result or the error document to `out_json`, which the caller frees
//! with `soidc_string_free`. Tokens, codes and passwords passed in never appear in
//! error documents or logs.

use crate::core::{self, Client};
use crate::ffi::boundary::{self, arg_ref, arg_str, opt_str, to_json, OutString};
use crate::ffi::client::soidc_client;
use crate::ffi::status::*;
use std::os::raw::c_char;

/// Runs `f` on the client (in its log scope) inside the boundary and hands its JSON
/// result out. `client` is the checked handle argument; its error, if any, comes first.
fn on_client(
    client: core::Result<&soidc_client>,
    out_json: OutString<'_>,
    f: impl FnOnce(&Client) -> core::Result<serde_json::Value>,
) -> soidc_status {
    boundary::call(out_json, || {
        let c = client?;
        let v = c.inner.in_log_scope(|| f(&c.inner))?;
        to_json(&v)
    })
}

/// Starts the authorization code flow: builds the URL to send the browser to.
///
/// `options_json` (nullable): `redirect_uri` (default: the client's), `scope` (default:
/// the client's), `state` / `nonce` (a string to use, absent to generate 43 characters
/// from the system CSPRNG, `false` to leave out), `pkce` (default true: S256),
/// `code_verifier` (43-128 characters; generated when absent), `prompt`, `acr_values`,
/// `ui_locales` (strings or arrays, sent space-separated), `max_age`, `login_hint`,
/// `response_mode`, `resource` (string or array), `extra_params` (object; arrays become
/// repeated parameters), `par` (pushed authorization request, RFC 9126: `"auto"`, the
/// default, pushes when the provider's metadata says
/// `require_pushed_authorization_requests` or the client option `require_par` is true;
/// `true`; `false`), `timeout_ms` (bounds the push), `request_object` (RFC 9101:
/// `"signed"` puts every authorization parameter in a signed `request` JWT with `typ`
/// `oauth-authz-req+jwt`, `iss` = client_id, `aud` = issuer, `iat`, `nbf`, `exp` (5 minutes)
/// and a random `jti`; `"plain"`; default `"signed"` when the provider's metadata says
/// `require_signed_request_object`, else `"plain"`), `request_object_alg` (default: the
/// first algorithm of the client's private key that the provider lists in
/// `request_object_signing_alg_values_supported`: RS256, then PS256, RS384, PS384, RS512,
/// PS512 for an RSA key; ES256, ES384 or EdDSA for the other keys). A client with only a
/// secret signs with HS256, and only when the provider advertises HS256. Without PAR the URL
/// then carries `response_type`, `client_id`, `scope` and `request`.
///
/// With PAR, every parameter is POSTed to the provider's
/// `pushed_authorization_request_endpoint` with the client's authentication method, and
/// the URL carries only `client_id` and the returned `request_uri`. With a DPoP key the push
/// carries a DPoP proof (RFC 9449 §10.1), which binds the authorization code to the key.
///
/// `dpop_jkt` (RFC 9449 §10): true sends the thumbprint of the client's DPoP key as the
/// `dpop_jkt` parameter, binding the authorization code to the key (the code exchange must
/// then carry a proof of that key); false leaves it out; default true when the client has a
/// DPoP key (client option `dpop`), else false. True on a client without a key is
/// `SOIDC_ERR_INVALID_ARGUMENT`. With `request_object` `"signed"` it goes into the request
/// object with the other parameters.
///
/// Success document: `{"url", "state", "nonce", "code_verifier", "redirect_uri"}` (null
/// where switched off), plus `expires_in` (seconds the pushed request stays valid) with
/// PAR, and `max_age` (number) and `acr_values` (array of strings) when they were asked
/// for. Keep state, nonce and code_verifier in the user's session and pass them to
/// `soidc_auth_code_handle_result`; pass `max_age` on as `max_age` (OIDC Core §3.1.2.1:
/// the ID token must then carry `auth_time`, §3.1.3.7 step 13 checks it) and, to require
/// that the login met one of the requested ACRs, `acr_values` as `acr_values_allowed`.
/// soidc does not refuse an `acr` outside the requested `acr_values` by itself: OIDC Core
/// §3.1.2.1 makes `acr_values` a voluntary claim request, which the provider may answer
/// with another `acr` or none (§5.5.1.1 essential requests aside); the check is the
/// caller's declared choice. No network access without PAR.
/// Returns `SOIDC_OK`, `SOIDC_ERR_INVALID_ARGUMENT` (no redirect URI, bad option),
/// `SOIDC_ERR_UNSUPPORTED_BY_PROVIDER` (no `code` response type; `par` true but no
/// pushed authorization request endpoint; no request object algorithm both sides support),
/// and with PAR `SOIDC_ERR_PROVIDER` (the provider
/// refused the push: its `error`, `error_description`, `error_uri`, `http_status`),
/// `SOIDC_ERR_HTTP`, `SOIDC_ERR_PROTOCOL`, `SOIDC_ERR_NETWORK`.
#[no_mangle]
pub unsafe extern "C" fn soidc_auth_code_start(
    client: *const soidc_client,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `client` NULL or live, strings NULL or
    // NUL-terminated and unchanged during the call, `out_json` NULL or writable.
    let (client, options, out_json) = unsafe {
        (
            arg_ref(client, "client"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    on_client(client, out_json, |c| c.auth_code_start(options?))
}

/// Handles the redirect back from the provider (the full URL the browser arrived at).
///
/// In order: a repeated parameter is refused; the RFC 9207 `iss` parameter must equal
/// the issuer when present, and must be present when the provider advertises
/// `authorization_response_iss_parameter_supported`; `state` must equal the expected one
/// (checked before an error is believed, RFC 6749 §10.12); an `error` parameter becomes
/// `SOIDC_ERR_AUTHENTICATION_FAILED` with the provider's `error`, `error_description`,
/// `error_uri`; then the code is exchanged (with the
/// PKCE verifier) and the ID token validated (nonce, `c_hash`, `at_hash`, and
/// everything `soidc_decode_id_token` checks).
///
/// A JWT-secured response (JARM: a `response` parameter, from `response_mode` `jwt`,
/// `query.jwt` or `fragment.jwt`) is verified before any parameter in it is believed: the
/// signature with the provider's keys (and its `alg` among the client's allowed algorithms
/// and the provider's `authorization_signing_alg_values_supported`), `iss` = the issuer,
/// `aud` containing the client_id, `exp` (with the client's leeway); its claims then stand
/// for the response parameters, and parameters beside `response` are refused. An encrypted
/// (JWE) response is `SOIDC_ERR_UNSUPPORTED_BY_PROVIDER`; `alg: none` is refused.
///
/// `options_json` (nullable): `state`, `nonce`, `code_verifier` (from
/// `soidc_auth_code_start`), `redirect_uri` (default: the client's; `"auto"`: the
/// current URL without query and fragment, as simple_openid_connect does), `max_age`,
/// `acr_values_allowed` (non-empty array: the ID token's `acr` must be one of them,
/// `reason` = `acr`), `require_id_token` (default: when the client's scope contains
/// `openid`), `require_claims` (claim rules on the ID token, as for `soidc_decode_id_token`;
/// a response without an ID token then fails with `reason` = `claim_rule`), `timeout_ms`,
/// `response_mode` (the one asked for in the start: with a JWT
/// mode a plain response is `SOIDC_ERR_VALIDATION`, with a plain mode a JWT response is;
/// `form_post` modes are `SOIDC_ERR_INVALID_ARGUMENT` here: use
/// `soidc_auth_code_handle_form_post`).
/// If the response carries a state that options_json lacks, the call fails with
/// `SOIDC_ERR_INVALID_ARGUMENT` rather than skipping the check; an ID token that carries a
/// nonce options_json lacks fails its validation (`SOIDC_ERR_VALIDATION`, `reason` =
/// `nonce`), as in `soidc_auth_code_exchange` and `soidc_decode_id_token`.
///
/// Success document: the token response plus `id_token_claims`. Returns `SOIDC_OK`,
/// `SOIDC_ERR_AUTHENTICATION_FAILED`, `SOIDC_ERR_VALIDATION`, `SOIDC_ERR_PROVIDER` (the
/// token endpoint refused the code), `SOIDC_ERR_INVALID_ARGUMENT`, `SOIDC_ERR_NETWORK`,
/// `SOIDC_ERR_HTTP`, `SOIDC_ERR_PROTOCOL`.
#[no_mangle]
pub unsafe extern "C" fn soidc_auth_code_handle_result(
    client: *const soidc_client,
    current_url: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `client` NULL or live, strings NULL or
    // NUL-terminated and unchanged during the call, `out_json` NULL or writable.
    let (client, url, options, out_json) = unsafe {
        (
            arg_ref(client, "client"),
            arg_str(current_url, "current_url"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    on_client(client, out_json, |c| c.auth_code_handle_result(url?, options?))
}

/// Handles an authorization response delivered with `response_mode` `form_post` or
/// `form_post.jwt`: the body the browser POSTed to the redirect URI, exactly as the host's
/// HTTP server received it (soidc parses it).
///
/// - `content_type`: required; the request's Content-Type header, which must be
///   `application/x-www-form-urlencoded` (a `charset` parameter other than UTF-8 is refused).
/// - `body`: required; the raw request body (at most 256 KiB).
/// - `state_json` (nullable): what the session kept from `soidc_auth_code_start`: `state`,
///   `nonce`, `code_verifier`, `redirect_uri` (default: the client's; `"auto"` is refused,
///   there is no current URL), `response_mode` (`form_post`, `form_post.jwt` or `jwt`).
/// - `options_json` (nullable): `max_age`, `acr_values_allowed`, `require_id_token`,
///   `require_claims`, `timeout_ms`.
///
/// The checks are those of `soidc_auth_code_handle_result`, in the same order: a repeated
/// parameter is refused, a JARM `response` is verified first, then RFC 9207 `iss`, `state`,
/// an `error` (`SOIDC_ERR_AUTHENTICATION_FAILED` with the provider's fields), the code
/// exchange and the ID token. Success document and statuses as
/// `soidc_auth_code_handle_result`; a wrong content type or an oversized body is
/// `SOIDC_ERR_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn soidc_auth_code_handle_form_post(
    client: *const soidc_client,
    content_type: *const c_char,
    body: *const c_char,
    state_json: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `client` NULL or live, strings NULL or
    // NUL-terminated and unchanged during the call, `out_json` NULL or writable.
    let (client, content_type, body, state, options, out_json) = unsafe {
        (
            arg_ref(client, "client"),
            arg_str(content_type, "content_type"),
            arg_str(body, "body"),
            opt_str(state_json, "state_json"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    on_client(client, out_json, |c| c.auth_code_handle_form_post(content_type?, body?, state?, options?))
}

/// Exchanges an authorization code at the token endpoint (the lower-level step of
/// `soidc_auth_code_handle_result`). `options_json` (nullable): `redirect_uri`,
/// `code_verifier`, `nonce`, `max_age`, `acr_values_allowed`, `require_claims` (as for
/// `soidc_auth_code_handle_result`), `timeout_ms`. An ID token in
/// the response is validated and its claims added as `id_token_claims`; one that carries a
/// nonce although `nonce` is not given is refused (`reason` = `nonce`).
/// Returns as `soidc_auth_code_handle_result`, without `SOIDC_ERR_AUTHENTICATION_FAILED`.
#[no_mangle]
pub unsafe extern "C" fn soidc_auth_code_exchange(
    client: *const soidc_client,
    code: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `client` NULL or live, strings NULL or
    // NUL-terminated and unchanged during the call, `out_json` NULL or writable.
    let (client, code, options, out_json) = unsafe {
        (
            arg_ref(client, "client"),
            arg_str(code, "code"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    on_client(client, out_json, |c| c.auth_code_exchange(code?, options?))
}

/// Client credentials grant (RFC 6749 §4.4). `scope` NULL = the client's scope.
/// `options_json` (nullable): `resource` (RFC 8707, string or array), `extra_params`,
/// `timeout_ms` (`nonce`, `require_claims`, `acr_values`, `acr_values_allowed` and
/// `max_age` are refused: this grant has no user and no ID token). Success: the token response (an ID token, if any, validated; this grant
/// sends no nonce, so an ID token carrying one is refused, `reason` = `nonce`).
/// Returns `SOIDC_OK`, `SOIDC_ERR_PROVIDER` (e.g. `invalid_client`), `SOIDC_ERR_HTTP`,
/// `SOIDC_ERR_PROTOCOL` (no access_token, token_type not Bearer, or an `error` member in a
/// success response: its `error`, `error_description`, `error_uri` are in the error
/// document; this holds for every grant), `SOIDC_ERR_NETWORK`,
/// `SOIDC_ERR_UNSUPPORTED_BY_PROVIDER` (no token endpoint), `SOIDC_ERR_INVALID_ARGUMENT`.
///
/// DPoP (RFC 9449), for every grant (authorization code, refresh, client credentials,
/// password, device poll, token exchange) and the pushed authorization request: when the
/// client option `dpop` is on, each request carries a fresh `DPoP` proof (`htm` POST, `htu`
/// the endpoint, a new `jti`, `iat`, and the server's last nonce for that origin); a
/// `use_dpop_nonce` answer with a new `DPoP-Nonce` is answered by sending the request
/// exactly once more with a proof carrying it, within the same `timeout_ms`. A success
/// must then say `token_type` `DPoP`: a `Bearer` token (one the provider did not bind to
/// the key, RFC 9449 §5) is refused with `SOIDC_ERR_PROTOCOL`, `reason` = `dpop_not_bound`
/// (for token exchange, `N_A` passes too). Turn `dpop` off to accept Bearer tokens.
#[no_mangle]
pub unsafe extern "C" fn soidc_client_credentials_grant(
    client: *const soidc_client,
    scope: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `client` NULL or live, strings NULL or
    // NUL-terminated and unchanged during the call, `out_json` NULL or writable.
    let (client, scope, options, out_json) = unsafe {
        (
            arg_ref(client, "client"),
            opt_str(scope, "scope"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    on_client(client, out_json, |c| c.client_credentials_grant(scope?, options?))
}

/// Resource owner password credentials ("direct access") grant (RFC 6749 §4.3). A legacy
/// grant: prefer the authorization code or device flow where a browser exists.
/// `scope` NULL = the client's scope. `options_json` (nullable): `nonce` (sent as a `nonce`
/// parameter, which this grant does not standardise but servers must ignore when unknown,
/// and required in the ID token; without it, an ID token carrying a nonce is refused),
/// `acr_values` (string or array, sent space-separated as `acr_values`, likewise not
/// standard for this grant; providers such as Keycloak use it to pick the authentication
/// level), `acr_values_allowed` (non-empty array: the ID token's `acr` must be one of
/// them, `reason` = `acr`), `max_age` (seconds: the ID token's `auth_time` must be that
/// recent, with the client's leeway),
/// `resource`, `extra_params`, `timeout_ms`, `require_claims` (claim rules on the ID token, as for `soidc_decode_id_token`; a
/// response without an ID token then fails with `reason` = `claim_rule`). An ID token in the response is
/// validated and its claims added as `id_token_claims`. The password never appears in
/// errors or logs. Returns as `soidc_client_credentials_grant`, plus `SOIDC_ERR_VALIDATION`.
#[no_mangle]
pub unsafe extern "C" fn soidc_direct_access_grant(
    client: *const soidc_client,
    username: *const c_char,
    password: *const c_char,
    scope: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `client` NULL or live, strings NULL or
    // NUL-terminated and unchanged during the call, `out_json` NULL or writable.
    let (client, username, password, scope, options, out_json) = unsafe {
        (
            arg_ref(client, "client"),
            arg_str(username, "username"),
            arg_str(password, "password"),
            opt_str(scope, "scope"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    on_client(client, out_json, |c| c.direct_access_grant(username?, password?, scope?, options?))
}

/// Refresh token grant. `options_json` (nullable): `scope`, `id_token` (the original ID
/// token: a new ID token must keep its `iss`, `sub`, `aud` and `auth_time`, OpenID Connect
/// Core §12.2; and a `nonce` in the new one, which some providers repeat, must be the
/// original's), `resource`, `extra_params`, `timeout_ms`, `require_claims` (claim rules on the ID token, as for `soidc_decode_id_token`; a
/// response without an ID token then fails with `reason` = `claim_rule`). A new ID token is validated and its
/// claims added as `id_token_claims`; its nonce is not checked otherwise (the login's nonce
/// is not at hand: the `ignore_nonce` of `soidc_decode_id_token`).
/// Returns as `soidc_direct_access_grant`.
#[no_mangle]
pub unsafe extern "C" fn soidc_exchange_refresh_token(
    client: *const soidc_client,
    refresh_token: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `client` NULL or live, strings NULL or
    // NUL-terminated and unchanged during the call, `out_json` NULL or writable.
    let (client, token, options, out_json) = unsafe {
        (
            arg_ref(client, "client"),
            arg_str(refresh_token, "refresh_token"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    on_client(client, out_json, |c| c.exchange_refresh_token(token?, options?))
}

/// Starts a device authorization (RFC 8628 §3.1). `scope` NULL = the client's scope.
/// `options_json` (nullable): `acr_values` (string or array) and `max_age` (seconds), the
/// OpenID Connect authentication request parameters (OIDC Core §3.1.2.1) sent with the
/// request (RFC 8628 §3.1 allows extension parameters) and echoed in the success document
/// as `acr_values` (array) and `max_age` for `soidc_device_authorization_poll`; `resource`,
/// `extra_params`, `timeout_ms`, `pkce` (`"auto"`,
/// the default: on when the client is public and the provider advertises `S256` in
/// `code_challenge_methods_supported`; `true`; `false`): sends a PKCE S256
/// `code_challenge` (RFC 8628 does not define it, but Keycloak requires it of clients that
/// enforce PKCE; other providers ignore it).
/// Success: the provider's response (`device_code`, `user_code`, `verification_uri`,
/// `verification_uri_complete`, `expires_in`, `interval`), plus `code_verifier` when PKCE
/// is on. Show the user the URI and code, then call `soidc_device_authorization_poll`
/// (with that `code_verifier`).
/// Returns `SOIDC_OK`, `SOIDC_ERR_UNSUPPORTED_BY_PROVIDER` (no device endpoint),
/// `SOIDC_ERR_PROVIDER`, `SOIDC_ERR_PROTOCOL`, `SOIDC_ERR_HTTP`, `SOIDC_ERR_NETWORK`.
#[no_mangle]
pub unsafe extern "C" fn soidc_device_authorization_start(
    client: *const soidc_client,
    scope: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `client` NULL or live, strings NULL or
    // NUL-terminated and unchanged during the call, `out_json` NULL or writable.
    let (client, scope, options, out_json) = unsafe {
        (
            arg_ref(client, "client"),
            opt_str(scope, "scope"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    on_client(client, out_json, |c| c.device_authorization_start(scope?, options?))
}

/// Polls for the result of a device authorization (RFC 8628 §3.4).
///
/// `options_json` (nullable): `wait` (bool, default false), `interval` and `expires_in`
/// (from the start response; defaults 5 s and unbounded), `nonce` (expected in the ID
/// token; without it an ID token carrying a nonce is refused), `code_verifier` (from the
/// start response when PKCE was on; 43-128 characters of `[A-Za-z0-9-._~]`), `timeout_ms`,
/// `max_age` (the start's: the ID token must carry an `auth_time` at most that old, with
/// the client's leeway), `acr_values_allowed` (non-empty array, e.g. the start's
/// `acr_values`: the ID token's `acr` must be one of them, `reason` = `acr`),
/// `require_claims` (claim rules on the ID token, as for `soidc_decode_id_token`; a
/// response without an ID token then fails with `reason` = `claim_rule`).
/// Without `wait`: asks once and returns `SOIDC_ERR_PENDING` while the user has not
/// finished (the error document's `error` is `authorization_pending` or `slow_down`, and
/// `interval` the interval to use next). With `wait`: blocks the calling thread, sleeping
/// `interval` between requests and adding 5 s on each `slow_down`, until the user finishes,
/// `expires_in` passes (`SOIDC_ERR_PROVIDER`, `error` = `expired_token`), or `timeout_ms`
/// passes for the whole call (`SOIDC_ERR_PENDING`).
/// Success: the token response (an ID token validated into `id_token_claims`).
/// A denial is `SOIDC_ERR_PROVIDER` with `error` = `access_denied`.
#[no_mangle]
pub unsafe extern "C" fn soidc_device_authorization_poll(
    client: *const soidc_client,
    device_code: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `client` NULL or live, strings NULL or
    // NUL-terminated and unchanged during the call, `out_json` NULL or writable.
    let (client, code, options, out_json) = unsafe {
        (
            arg_ref(client, "client"),
            arg_str(device_code, "device_code"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    on_client(client, out_json, |c| c.device_authorization_poll(code?, options?))
}

/// Fetches the UserInfo of the user an access token was issued for (sent as a Bearer
/// header). JSON responses and signed JWT responses (`application/jwt`: signature,
/// `iss`, `aud` checked) are both accepted. `options_json` (nullable): `expected_sub` (the
/// ID token's `sub`; a different `sub` is `SOIDC_ERR_VALIDATION`), `timeout_ms`,
/// `token_type` (`"Bearer"` or `"DPoP"`, case-insensitive: the token response's
/// `token_type`; default `"DPoP"` when the client has a DPoP key, since such a client only
/// accepts DPoP-bound tokens, else `"Bearer"`; `"DPoP"` on a client without a key is
/// `SOIDC_ERR_INVALID_ARGUMENT`). With DPoP (RFC 9449 §7.1) the token goes as
/// `Authorization: DPoP <token>` with a `DPoP` proof carrying `ath`; a 401 challenge
/// `WWW-Authenticate: DPoP error="use_dpop_nonce"` with a new `DPoP-Nonce` (§9) is answered
/// by one more request with a proof carrying that nonce, within `timeout_ms`.
/// `require_claims` (claim rules on the UserInfo claims, JSON or signed, as for
/// `soidc_decode_id_token`). A `sub`
/// longer than 255 bytes (OpenID Connect Core §2) is `SOIDC_ERR_VALIDATION`, `reason` = `sub`.
/// Success: the claims object. A rejected token is `SOIDC_ERR_PROVIDER` with the
/// `WWW-Authenticate` error (`invalid_token`). No userinfo endpoint:
/// `SOIDC_ERR_UNSUPPORTED_BY_PROVIDER`.
#[no_mangle]
pub unsafe extern "C" fn soidc_fetch_userinfo(
    client: *const soidc_client,
    access_token: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `client` NULL or live, strings NULL or
    // NUL-terminated and unchanged during the call, `out_json` NULL or writable.
    let (client, token, options, out_json) = unsafe {
        (
            arg_ref(client, "client"),
            arg_str(access_token, "access_token"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    on_client(client, out_json, |c| c.fetch_userinfo(token?, options?))
}

/// Token introspection (RFC 7662) with client authentication. `token_type_hint` nullable
/// (`access_token`, `refresh_token`). `options_json` (nullable): `timeout_ms`.
/// Success: the provider's response; `active` is always present and boolean (an inactive
/// token is a success with `"active": false`). An answer `"active": true` whose `exp` is
/// past or whose `nbf` is in the future (beyond `leeway_s`) is reported as
/// `{"active": false}` (RFC 7662 §2.2: an expired token is not active), so a caller that
/// checks only `active` gets the safe answer; soidc logs this at info level. An `exp` or
/// `nbf` that is not a number is `SOIDC_ERR_PROTOCOL`. No introspection endpoint:
/// `SOIDC_ERR_UNSUPPORTED_BY_PROVIDER`.
#[no_mangle]
pub unsafe extern "C" fn soidc_introspect_token(
    client: *const soidc_client,
    token: *const c_char,
    token_type_hint: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `client` NULL or live, strings NULL or
    // NUL-terminated and unchanged during the call, `out_json` NULL or writable.
    let (client, token, hint, options, out_json) = unsafe {
        (
            arg_ref(client, "client"),
            arg_str(token, "token"),
            opt_str(token_type_hint, "token_type_hint"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    on_client(client, out_json, |c| c.introspect_token(token?, hint?, options?))
}

/// Token revocation (RFC 7009) with client authentication. `token_type_hint` nullable.
/// `options_json` (nullable): `timeout_ms`. Success document: `{}` (RFC 7009 also answers
/// success for tokens that were already invalid). No revocation endpoint:
/// `SOIDC_ERR_UNSUPPORTED_BY_PROVIDER`.
#[no_mangle]
pub unsafe extern "C" fn soidc_revoke_token(
    client: *const soidc_client,
    token: *const c_char,
    token_type_hint: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `client` NULL or live, strings NULL or
    // NUL-terminated and unchanged during the call, `out_json` NULL or writable.
    let (client, token, hint, options, out_json) = unsafe {
        (
            arg_ref(client, "client"),
            arg_str(token, "token"),
            opt_str(token_type_hint, "token_type_hint"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    on_client(client, out_json, |c| c.revoke_token(token?, hint?, options?))
}

/// Builds the RP-initiated logout URL (OpenID Connect RP-Initiated Logout 1.0) to send the
/// browser to. No network access.
///
/// `request_json` (nullable): `id_token_hint`, `logout_hint`, `post_logout_redirect_uri`,
/// `state`, `ui_locales` (string or array), `client_id` (bool, default true: send the
/// client id), `extra_params`.
/// `out_url` (required): on success the URL; on failure, like every soidc out-parameter,
/// the error document — check the status before using it. Free it with
/// `soidc_string_free`. Returns `SOIDC_OK`, `SOIDC_ERR_INVALID_ARGUMENT`,
/// `SOIDC_ERR_UNSUPPORTED_BY_PROVIDER` (no `end_session_endpoint`).
#[no_mangle]
pub unsafe extern "C" fn soidc_initiate_logout(
    client: *const soidc_client,
    request_json: *const c_char,
    out_url: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `client` NULL or live, `request_json` NULL or
    // NUL-terminated and unchanged during the call, `out_url` NULL or writable.
    let (client, request, out_url) = unsafe {
        (arg_ref(client, "client"), opt_str(request_json, "request_json"), OutString::from_raw(out_url))
    };
    boundary::call_with_required_out(out_url, || {
        let (c, request) = (client?, request?);
        Ok(Some(c.inner.in_log_scope(|| c.inner.initiate_logout(request))?))
    })
}
