//! OAuth 2.0 Dynamic Client Registration (RFC 7591) and management (RFC 7592):
//! `soidc_register_client`, `soidc_client_read_registration`,
//! `soidc_client_update_registration`, `soidc_client_delete_registration`. They need no
//! client handle: the client does not exist yet, or is managed with its registration
//! access token only.

use crate::core::registration as reg;
use crate::ffi::boundary::{self, arg_str, opt_str, to_json, OutString};
use crate::ffi::status::*;
use std::os::raw::c_char;

/// Dynamic client registration (RFC 7591 §3.1): registers a new client at the provider
/// and hands back the provider's client information response.
///
/// - `issuer_or_registration_endpoint`: required. An issuer URL: its discovery document
///   (`/.well-known/openid-configuration`) names the `registration_endpoint`; or, with the
///   option `"endpoint": true`, the registration endpoint itself. https, except on
///   loopback or with `allow_insecure_http`.
/// - `metadata_json`: required, a JSON object (duplicate member names refused, at most
///   256 KiB) of client metadata (RFC 7591 §2: `redirect_uris`, `grant_types`,
///   `token_endpoint_auth_method`, `client_name`, `scope`, ...), sent as it is: the
///   provider applies its policy and may change or refuse values.
/// - `options_json` (nullable): `endpoint` (boolean, default false, see above),
///   `initial_access_token` (the bearer token a provider may require to register, RFC
///   7591 §3; never in errors or logs), `timeout_ms` (bounds the whole call, discovery
///   included; default 30000), `ca_file`, `allow_insecure_http`. An unknown key is an error.
/// - `out_json` (nullable): on success the provider's response, unchanged: a JSON object
///   with `client_id` and, as the provider sends them, `client_secret`,
///   `client_secret_expires_at`, `registration_access_token`, `registration_client_uri`
///   and the registered metadata; on failure the error document. The response holds
///   secrets: soidc never logs it; keep it as you keep a client secret. The new client
///   can be used at once with `soidc_client_from_issuer_url` (its `client_id` and
///   `client_secret`).
///
/// Returns `SOIDC_OK`; `SOIDC_ERR_INVALID_ARGUMENT` (NULL, bad URL, malformed or
/// oversized metadata, bad option); `SOIDC_ERR_PROVIDER` (the provider refused, RFC 7591
/// §3.2.2: `error` is `invalid_redirect_uri`, `invalid_client_metadata`,
/// `invalid_software_statement`, ..., or `invalid_token` for a missing or wrong initial
/// access token; `error`, `error_description` and `http_status` in the error document);
/// `SOIDC_ERR_PROTOCOL` (a success response without `client_id`, or a discovery document
/// for another issuer); `SOIDC_ERR_UNSUPPORTED_BY_PROVIDER` (discovery names no
/// `registration_endpoint`); `SOIDC_ERR_HTTP`; `SOIDC_ERR_NETWORK`.
#[no_mangle]
pub unsafe extern "C" fn soidc_register_client(
    issuer_or_registration_endpoint: *const c_char,
    metadata_json: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: strings NULL or NUL-terminated and unchanged
    // during the call, `out_json` NULL or writable.
    let (target, metadata, options, out_json) = unsafe {
        (
            arg_str(issuer_or_registration_endpoint, "issuer_or_registration_endpoint"),
            arg_str(metadata_json, "metadata_json"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    boundary::call(out_json, || {
        let (target, metadata, options) = (target?, metadata?, options?);
        to_json(&reg::register(target, metadata, options)?)
    })
}

/// Reads a client's registration (RFC 7592 §2.1): `GET registration_client_uri` with the
/// registration access token.
///
/// - `registration_client_uri`: required, the `registration_client_uri` of the
///   registration response (https, except on loopback or with `allow_insecure_http`).
/// - `registration_access_token`: required, not empty, at most 64 KiB; never in errors
///   or logs.
/// - `options_json` (nullable): `timeout_ms`, `ca_file`, `allow_insecure_http`. An unknown
///   key is an error.
/// - `out_json` (nullable): on success the provider's client information response,
///   unchanged (a JSON object with `client_id`; the provider may rotate `client_secret`
///   or `registration_access_token` in it: use the new values); on failure the error
///   document.
///
/// Returns `SOIDC_OK`; `SOIDC_ERR_INVALID_ARGUMENT` (NULL, bad URL, empty or oversized
/// token, bad option); `SOIDC_ERR_PROVIDER` (the provider refused: `invalid_token` for a
/// wrong token or a deleted client, ...); `SOIDC_ERR_PROTOCOL` (a response without
/// `client_id`); `SOIDC_ERR_HTTP` (a refusal without an OAuth error body, e.g. a bare
/// 401 or 404); `SOIDC_ERR_NETWORK`.
#[no_mangle]
pub unsafe extern "C" fn soidc_client_read_registration(
    registration_client_uri: *const c_char,
    registration_access_token: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: strings NULL or NUL-terminated and unchanged
    // during the call, `out_json` NULL or writable.
    let (uri, token, options, out_json) = unsafe {
        (
            arg_str(registration_client_uri, "registration_client_uri"),
            arg_str(registration_access_token, "registration_access_token"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    boundary::call(out_json, || {
        let (uri, token, options) = (uri?, token?, options?);
        to_json(&reg::read(uri, token, options)?)
    })
}

/// Updates a client's registration (RFC 7592 §2.2): `PUT registration_client_uri` with the
/// new metadata, which replaces the registered metadata as a whole.
///
/// - `registration_client_uri`, `registration_access_token`: as for
///   `soidc_client_read_registration`.
/// - `metadata_json`: required, a JSON object (duplicate member names refused, at most
///   256 KiB) with the client's `client_id` (RFC 7592 §2.2) and every metadata value the
///   client keeps (an omitted value is removed or reset by the provider); sent as it is.
///   RFC 7592 forbids `registration_access_token`, `registration_client_uri`,
///   `client_secret_expires_at` and `client_id_issued_at` in it; `client_secret`, when
///   sent, must equal the current one.
/// - `options_json` (nullable): `timeout_ms`, `ca_file`, `allow_insecure_http`. An unknown
///   key is an error.
/// - `out_json` (nullable): on success the provider's client information response,
///   unchanged; on failure the error document.
///
/// Returns `SOIDC_OK`; `SOIDC_ERR_INVALID_ARGUMENT` (NULL, bad URL, empty or oversized
/// token, malformed or oversized metadata, metadata without `client_id`, bad option);
/// `SOIDC_ERR_PROVIDER` (the provider refused: `invalid_redirect_uri`,
/// `invalid_client_metadata`, `invalid_token`, ...); `SOIDC_ERR_PROTOCOL`;
/// `SOIDC_ERR_HTTP`; `SOIDC_ERR_NETWORK`.
#[no_mangle]
pub unsafe extern "C" fn soidc_client_update_registration(
    registration_client_uri: *const c_char,
    registration_access_token: *const c_char,
    metadata_json: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: strings NULL or NUL-terminated and unchanged
    // during the call, `out_json` NULL or writable.
    let (uri, token, metadata, options, out_json) = unsafe {
        (
            arg_str(registration_client_uri, "registration_client_uri"),
            arg_str(registration_access_token, "registration_access_token"),
            arg_str(metadata_json, "metadata_json"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    boundary::call(out_json, || {
        let (uri, token, metadata, options) = (uri?, token?, metadata?, options?);
        to_json(&reg::update(uri, token, metadata, options)?)
    })
}

/// Deletes a client's registration (RFC 7592 §2.3): `DELETE registration_client_uri`. The
/// client id, its secret and its registration access token stop working.
///
/// - `registration_client_uri`, `registration_access_token`, `options_json`: as for
///   `soidc_client_read_registration`.
/// - `out_json` (nullable): `{}` on success (the provider answers 204 No Content); on
///   failure the error document.
///
/// Returns `SOIDC_OK`; `SOIDC_ERR_INVALID_ARGUMENT`; `SOIDC_ERR_PROVIDER` (the provider
/// refused: `invalid_token`, ...); `SOIDC_ERR_HTTP` (a refusal without an OAuth error
/// body); `SOIDC_ERR_NETWORK`.
#[no_mangle]
pub unsafe extern "C" fn soidc_client_delete_registration(
    registration_client_uri: *const c_char,
    registration_access_token: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: strings NULL or NUL-terminated and unchanged
    // during the call, `out_json` NULL or writable.
    let (uri, token, options, out_json) = unsafe {
        (
            arg_str(registration_client_uri, "registration_client_uri"),
            arg_str(registration_access_token, "registration_access_token"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    boundary::call(out_json, || {
        let (uri, token, options) = (uri?, token?, options?);
        reg::delete(uri, token, options)?;
        Ok(Some("{}".to_owned()))
    })
}
