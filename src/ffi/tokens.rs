//! Token validation: ID tokens, JWT access tokens (RFC 9068) and back-channel logout tokens.

use crate::core::Client;
use crate::ffi::boundary::{self, arg_ref, arg_str, opt_str};
use crate::ffi::client::soidc_client;
use crate::ffi::status::*;
use std::ffi::CString;
use std::os::raw::{c_char, c_int, c_void};

/// Validates the `acr` of an ID token. Called with the token's `acr` as a
/// NUL-terminated string, or with NULL when the token has no `acr`, so that a
/// caller who requires an acr is never bypassed by a token without one. The
/// string is only valid during the call. Return 0 to accept, anything else to
/// reject (the token then fails with `SOIDC_ERR_VALIDATION`).
///
/// Called synchronously on the calling thread, at most once per decode. It must
/// not unwind (no C++ exception, no `longjmp`) through soidc.
pub type soidc_acr_validator =
    Option<unsafe extern "C" fn(acr: *const c_char, user_data: *mut c_void) -> c_int>;

/// Decodes and validates an ID token (OpenID Connect Core 1.0 §3.1.3.7) and returns
/// its claims.
///
/// Checks, in order: a compact JWS (JWE and `alg: none` are refused), an allowed `alg`
/// (see `allowed_algs`), the signature with a key from the provider's JWKS whose `kid`
/// and type fit (an unknown `kid` triggers one rate-limited JWKS refetch), `typ` if
/// present is `JWT`, `iss` equals the issuer, `aud` contains the client id and nothing
/// untrusted, `azp` present for several audiences and equal to the client id, `sub`,
/// `exp`/`iat`/`nbf` with `leeway_s`, `min_iat`, `nonce`, the `validate_acr` callback,
/// `max_age`/`min_auth_time` against `auth_time`, and `at_hash`/`c_hash` when the access
/// token/code are given. A claim of the wrong JSON type fails its check.
///
/// - `raw_token`: required, the compact token.
/// - `options_json`: nullable JSON object: `nonce` (string), `extra_trusted_audiences`
///   (array of strings), `min_iat` (seconds), `min_auth_time` (seconds), `max_age`
///   (seconds), `expect_self_azp` (bool, default true), `access_token` (checks `at_hash`),
///   `code` (checks `c_hash`), `timeout_ms` (for a JWKS fetch), `cache_only` (bool: use
///   cached keys only and never touch the network).
/// - `validate_acr`, `user_data`: nullable callback, see `soidc_acr_validator`.
/// - `out_json`: nullable; receives the claims object (every claim, unknown ones kept)
///   or the error document. Free it with `soidc_string_free`.
///
/// Returns `SOIDC_OK`, `SOIDC_ERR_VALIDATION` (the message names the failed check with
/// the expected and found values), `SOIDC_ERR_INVALID_ARGUMENT`, or `SOIDC_ERR_NETWORK` /
/// `SOIDC_ERR_HTTP` / `SOIDC_ERR_PROTOCOL` when the keys could not be fetched.
/// Thread-safe; the JWKS cache is shared by all threads using the client.
#[no_mangle]
pub unsafe extern "C" fn soidc_decode_id_token(
    client: *const soidc_client,
    raw_token: *const c_char,
    options_json: *const c_char,
    validate_acr: soidc_acr_validator,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
) -> soidc_status {
    boundary::call(out_json, || {
        let c = arg_ref(client, "client")?;
        let token = arg_str(raw_token, "raw_token")?;
        let options = opt_str(options_json, "options_json")?;
        let claims = match validate_acr {
            None => c.inner.in_log_scope(|| c.inner.decode_id_token_full(token, options, None))?,
            Some(cb) => {
                let mut check = |acr: Option<&str>| -> Result<(), String> {
                    let owned = match acr {
                        None => None,
                        Some(a) => Some(CString::new(a).map_err(|_| "acr contains a NUL byte".to_owned())?),
                    };
                    let ptr = owned.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
                    // SAFETY: `cb` is the caller's function; `ptr` is NULL or a
                    // NUL-terminated string alive for the duration of the call.
                    let verdict = unsafe { cb(ptr, user_data) };
                    if verdict == 0 {
                        Ok(())
                    } else {
                        Err(format!("callback returned {verdict}"))
                    }
                };
                c.inner.in_log_scope(|| c.inner.decode_id_token_full(token, options, Some(&mut check)))?
            }
        };
        if out_json.is_null() {
            return Ok(None);
        }
        Ok(Some(claims.into_document()))
    })
}

/// Decodes and validates a JWT access token (RFC 9068 §4) for a resource server.
///
/// Checks: header `typ` is `at+jwt` (or `application/at+jwt`), an allowed `alg` and the
/// signature (as for ID tokens), `iss`, `exp`/`nbf`/`iat` with leeway, `aud` contains the
/// audience, `sub`, `jti`, `client_id` (a token with only `azp` gets `client_id` set from
/// it, as simple_openid_connect normalises), and the required scopes in `scope`.
///
/// `options_json` (nullable): `audience` (default: the client id), `required_scopes` (array
/// of strings; a missing one fails with `error` = `insufficient_scope` in the error
/// document), `cache_only` (true: validate against cached keys only, never touching the
/// network — for request paths such as an nginx worker; prime the cache with
/// `soidc_client_provider_keys`), `timeout_ms`.
/// Success: the claims object. Returns `SOIDC_OK`, `SOIDC_ERR_VALIDATION`,
/// `SOIDC_ERR_INVALID_ARGUMENT`, or a network/HTTP/protocol status when keys were fetched.
///
/// Validation error documents of every decode function carry, for the failures a server
/// reacts to differently, a machine-readable `reason`: `no_keys_cached` (`cache_only` and
/// nothing cached yet: answer 503, not 401), `unknown_kid` (refresh the keys soon),
/// `signature`, `expired`, `issuer`, `audience`, `scope` (with `error` =
/// `insufficient_scope`). Other failures have no `reason`; the message always explains.
#[no_mangle]
pub unsafe extern "C" fn soidc_decode_access_token(
    client: *const soidc_client,
    raw_token: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    decode_with(client, raw_token, options_json, out_json, Client::decode_access_token_full)
}

/// Decodes and validates a back-channel logout token (OpenID Connect Back-Channel Logout
/// 1.0 §2.6), as POSTed by the provider to the client's `backchannel_logout_uri`.
///
/// Checks: `typ` if present is `logout+jwt` (or `JWT`), allowed `alg` and signature, `iss`,
/// `aud` contains the client id and nothing untrusted, `iat` (and `exp`/`nbf` if present)
/// with leeway, `jti`, `events` has the back-channel logout event as an object, no `nonce`,
/// and `sub` or `sid`. Replay of a `jti` is not tracked by soidc: store seen `jti` values
/// until the token's `exp` if you need that.
///
/// `options_json` (nullable): `extra_trusted_audiences`, `min_iat`, `cache_only`, `timeout_ms`.
/// Success: the claims object. Returns as `soidc_decode_access_token`.
#[no_mangle]
pub unsafe extern "C" fn soidc_decode_logout_token(
    client: *const soidc_client,
    raw_token: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    decode_with(client, raw_token, options_json, out_json, Client::decode_logout_token_full)
}

/// The common body of the access- and logout-token exports.
///
/// # Safety
/// As for the exports: `client` NULL or live, strings NULL or NUL-terminated,
/// `out_json` NULL or writable.
unsafe fn decode_with(
    client: *const soidc_client,
    raw_token: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
    decode: fn(&Client, &str, Option<&str>) -> crate::core::Result<crate::core::client::Decoded>,
) -> soidc_status {
    boundary::call(out_json, || {
        let c = arg_ref(client, "client")?;
        let token = arg_str(raw_token, "raw_token")?;
        let options = opt_str(options_json, "options_json")?;
        let decoded = c.inner.in_log_scope(|| decode(&c.inner, token, options))?;
        if out_json.is_null() {
            return Ok(None);
        }
        Ok(Some(decoded.into_document()))
    })
}
