//! OAuth 2.0 Token Exchange (RFC 8693): `soidc_token_exchange` and the token type
//! identifiers of RFC 8693 §3 as header constants.

use crate::core::token_exchange as te;
use crate::ffi::boundary::{self, arg_ref, arg_str, opt_str, to_json, OutString};
use crate::ffi::client::soidc_client;
use crate::ffi::status::*;
use std::os::raw::c_char;

/// Token type identifier (RFC 8693 §3): an OAuth 2.0 access token.
pub const SOIDC_TOKEN_TYPE_ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
/// Token type identifier (RFC 8693 §3): an OAuth 2.0 refresh token.
pub const SOIDC_TOKEN_TYPE_REFRESH_TOKEN: &str = "urn:ietf:params:oauth:token-type:refresh_token";
/// Token type identifier (RFC 8693 §3): an OpenID Connect ID token.
pub const SOIDC_TOKEN_TYPE_ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
/// Token type identifier (RFC 8693 §3): a base64url-encoded SAML 1.1 assertion.
pub const SOIDC_TOKEN_TYPE_SAML1: &str = "urn:ietf:params:oauth:token-type:saml1";
/// Token type identifier (RFC 8693 §3): a base64url-encoded SAML 2.0 assertion.
pub const SOIDC_TOKEN_TYPE_SAML2: &str = "urn:ietf:params:oauth:token-type:saml2";
/// Token type identifier (RFC 8693 §3): a JWT (RFC 7519).
pub const SOIDC_TOKEN_TYPE_JWT: &str = "urn:ietf:params:oauth:token-type:jwt";

// The header's constants and the core's are the same strings.
const _: () = {
    const fn same(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }
    assert!(same(SOIDC_TOKEN_TYPE_ACCESS_TOKEN, te::TOKEN_TYPE_ACCESS_TOKEN));
    assert!(same(SOIDC_TOKEN_TYPE_REFRESH_TOKEN, te::TOKEN_TYPE_REFRESH_TOKEN));
    assert!(same(SOIDC_TOKEN_TYPE_ID_TOKEN, te::TOKEN_TYPE_ID_TOKEN));
    assert!(same(SOIDC_TOKEN_TYPE_SAML1, te::TOKEN_TYPE_SAML1));
    assert!(same(SOIDC_TOKEN_TYPE_SAML2, te::TOKEN_TYPE_SAML2));
    assert!(same(SOIDC_TOKEN_TYPE_JWT, te::TOKEN_TYPE_JWT));
};

/// OAuth 2.0 Token Exchange (RFC 8693 §2.1): trades `subject_token` at the token endpoint,
/// with the client's authentication, for a token for another audience or resource, with
/// fewer scopes, or of another type (delegation with an actor token).
///
/// - `subject_token`: required, not empty, at most 256 KiB; never in errors or logs.
/// - `subject_token_type`: required, a token type identifier: one of the
///   `SOIDC_TOKEN_TYPE_*` constants, or another absolute URI (RFC 8693 §3 allows them); an
///   unregistered name under `urn:ietf:params:oauth:token-type:` is refused as a typo.
/// - `options_json` (nullable): `actor_token` and `actor_token_type` (together or not at
///   all), `requested_token_type` (a token type identifier), `audience` (string or array
///   of strings: logical names of the target services), `resource` (string or array of
///   absolute URIs without fragment), `scope` (space-separated, to downscope),
///   `timeout_ms`. An unknown key is an error.
/// - `out_json` (nullable): the provider's response on success: `access_token` (the issued
///   token, whatever its type), `issued_token_type`, `token_type` (`Bearer`, or `N_A` for a
///   token that is not an access token), and `expires_in`, `scope`, `refresh_token` when
///   sent; or the error document.
///
/// The issued token is not validated by soidc (it is meant for the audience asked for);
/// decode it with `soidc_decode_access_token` or `soidc_decode_id_token` if you consume it.
/// Returns `SOIDC_OK`; `SOIDC_ERR_INVALID_ARGUMENT` (NULL, empty or oversized token, bad
/// token type identifier, bad option); `SOIDC_ERR_PROVIDER` (the provider refused:
/// `invalid_request`, `invalid_target`, `unauthorized_client`, `invalid_client`, ...);
/// `SOIDC_ERR_PROTOCOL` (a success response without `access_token`, `issued_token_type`
/// or `token_type`); `SOIDC_ERR_HTTP`; `SOIDC_ERR_NETWORK`;
/// `SOIDC_ERR_UNSUPPORTED_BY_PROVIDER` (no token endpoint).
#[no_mangle]
pub unsafe extern "C" fn soidc_token_exchange(
    client: *const soidc_client,
    subject_token: *const c_char,
    subject_token_type: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `client` NULL or live, strings NULL or
    // NUL-terminated and unchanged during the call, `out_json` NULL or writable.
    let (client, token, token_type, options, out_json) = unsafe {
        (
            arg_ref(client, "client"),
            arg_str(subject_token, "subject_token"),
            arg_str(subject_token_type, "subject_token_type"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    boundary::call(out_json, || {
        let (c, token, token_type, options) = (client?, token?, token_type?, options?);
        to_json(&c.inner.in_log_scope(|| c.inner.token_exchange(token, token_type, options))?)
    })
}
