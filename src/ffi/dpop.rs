//! DPoP, client side (RFC 9449): the client's public key and proofs for requests the
//! host makes itself. The grants, the pushed authorization request and
//! `soidc_fetch_userinfo` send their proofs by themselves.

use crate::ffi::boundary::{self, arg_ref, arg_str, opt_str, to_json, OutString};
use crate::ffi::client::soidc_client;
use crate::ffi::status::*;
use std::os::raw::c_char;

/// The client's DPoP public key (RFC 9449) and its RFC 7638 thumbprint, as
/// `{"jwk": {...}, "jkt": "..."}`. The JWK holds the public members only (`kty`, `crv`,
/// `x`, `y` for ES256; `kty`, `crv`, `x` for EdDSA; `kty`, `n`, `e` for RSA); `jkt` is the
/// base64url SHA-256 thumbprint, the value a bound access token carries as `cnf.jkt` and
/// the authorization request as `dpop_jkt`. The same key (from `dpop_key_pem` or
/// `dpop_key_file`) gives the same `jkt` in every client and process. No network access.
///
/// `out_json` is required: it receives the document (or the error document); free it with
/// `soidc_string_free`, never with `free()`. Returns `SOIDC_OK`, or
/// `SOIDC_ERR_INVALID_ARGUMENT` (NULL argument, or a client created without the client
/// option `dpop`). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn soidc_client_dpop_jwk(
    client: *const soidc_client,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `client` NULL or live, `out_json` NULL or writable.
    let (client, out_json) = unsafe { (arg_ref(client, "client"), OutString::from_raw(out_json)) };
    boundary::call_with_required_out(out_json, || to_json(&client?.inner.dpop_jwk()?))
}

/// A DPoP proof JWT (RFC 9449 §4.2) for a request the host sends itself, for example to
/// its own API with a DPoP-bound access token: send the result as the `DPoP` header, and
/// the token as `Authorization: DPoP <access_token>` (§7.1).
///
/// The proof is signed with the client's DPoP key (header `typ` `dpop+jwt`, `alg`, `jwk`
/// with the public key) and carries `jti` (192 random bits), `htm` = `method`, `htu` =
/// `url` without its query and fragment (§4.2), `iat` (now), `nonce`, and `ath` (the
/// base64url SHA-256 of `access_token`) when a token is given. Each call makes a new
/// proof; a proof is for one request.
///
/// - `method`: required; the HTTP method (`GET`, `POST`, ...): 1 to 32 token characters.
/// - `url`: required; the absolute http or https URL of the request, at most 8 KiB.
/// - `access_token`: nullable; the access token sent with the request (then `ath` is set);
///   not empty, at most 256 KiB; never in errors or logs.
/// - `options_json` (nullable): `nonce` (the `DPoP-Nonce` the server sent, RFC 9449 §9;
///   printable ASCII without space, `"` and `\`, at most 1024 characters; default: the
///   nonce soidc last received from the URL's origin, if any, else none).
/// - `out_json` is required: `{"proof": "..."}`, or the error document; free it with
///   `soidc_string_free`.
///
/// No network access. Returns `SOIDC_OK`, or `SOIDC_ERR_INVALID_ARGUMENT` (NULL or invalid
/// argument, bad option, a client without DPoP). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn soidc_dpop_proof(
    client: *const soidc_client,
    method: *const c_char,
    url: *const c_char,
    access_token: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `client` NULL or live, strings NULL or
    // NUL-terminated and unchanged during the call, `out_json` NULL or writable.
    let (client, method, url, token, options, out_json) = unsafe {
        (
            arg_ref(client, "client"),
            arg_str(method, "method"),
            arg_str(url, "url"),
            opt_str(access_token, "access_token"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    boundary::call_with_required_out(out_json, || {
        let (c, method, url, token, options) = (client?, method?, url?, token?, options?);
        to_json(&c.inner.in_log_scope(|| c.inner.dpop_proof(method, url, token, options))?)
    })
}
