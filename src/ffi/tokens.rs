//! Token validation: ID tokens, JWT access tokens (RFC 9068) and back-channel logout tokens.

use crate::core::{self, Client};
use crate::ffi::boundary::{self, arg_ref, arg_str, opt_str, OutString};
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
/// untrusted, `azp` present for several audiences and equal to the client id, `sub`
/// (non-empty, at most 255 bytes: OpenID Connect Core §2 caps it at 255 ASCII characters;
/// a non-ASCII `sub` is accepted within 255 bytes of UTF-8), `exp`/`iat`/`nbf` with
/// `leeway_s`, `min_iat`, `nonce`, `acr_values_allowed`, the `validate_acr` callback,
/// `max_age`/`min_auth_time` against `auth_time`, and `at_hash`/`c_hash` when the access
/// token/code are given. A claim of the wrong JSON type fails its check.
///
/// The nonce check is strict both ways, as simple_openid_connect's: with `nonce` the token
/// must carry that nonce; without it, a token that carries a nonce is refused (it answers
/// an authentication request whose nonce the caller did not keep, or belongs to another
/// login). `ignore_nonce: true` skips the check entirely; use it only where the nonce is
/// no longer at hand: an ID token re-validated after the login (e.g. one kept in a
/// session), or one from a refresh response, where some providers repeat the original
/// nonce (OpenID Connect Core §12.2). `soidc_exchange_refresh_token` does this itself.
///
/// - `raw_token`: required, the compact token.
/// - `options_json`: nullable JSON object: `nonce` (string), `ignore_nonce` (bool, default
///   false; together with `nonce` it is `SOIDC_ERR_INVALID_ARGUMENT`),
///   `extra_trusted_audiences` (array of strings), `min_iat` (seconds since the epoch,
///   fractions allowed, e.g. Python's `time.time()`; compared exactly with `iat`),
///   `min_auth_time` (seconds), `max_age` (seconds), `expect_self_azp` (bool, default
///   true), `acr_values_allowed` (non-empty array of strings: the token must carry an
///   `acr` that is one of them; checked before the callback, and both must pass),
///   `access_token` (checks `at_hash`), `code` (checks `c_hash`), `timeout_ms` (for a JWKS
///   fetch), `cache_only` (bool: use cached keys only and never touch the network),
///   `require_claims` (claim rules, below).
/// - `validate_acr`, `user_data`: nullable callback, see `soidc_acr_validator`.
/// - `out_json`: nullable; receives the claims object (every claim, unknown ones kept)
///   or the error document. Free it with `soidc_string_free`.
///
/// `require_claims` (every decode and every call that validates an ID token accepts it):
/// an array of rules `{"claim": PATH, "op": OP, "value": ANY, "name": STRING}`, checked in
/// order after every other check has passed. PATH is a dotted path (`realm_access.roles`;
/// `\.` is a dot inside a name and `\\` a backslash, as in
/// `https://example\.com/claims.tenant`) or, when it starts with `/`, an RFC 6901 JSON
/// pointer (`/realm_access/roles`, `/groups/0`). A name applied to an array is applied to
/// each element and the values found are collected into an array (`orgs.id` over
/// `[{"id":1},{"id":2}]` is `[1,2]`); in a pointer, an array index selects one element.
/// OP: `eq` (JSON equality; `1` equals `1.0`), `in` (`value` is a non-empty array; the
/// claim equals one of its members), `contains` (the claim is an array with a member
/// equal to `value`, or a string of space-separated values such as `scope` with one equal
/// to `value`; over a collected path a member of a collected array counts),
/// `contains_any` (`value` is a non-empty array; `contains` holds for one of its
/// members), `exists` (present, whatever the value; no `value`). An absent claim fails
/// every op. `name` (optional) labels the rule in errors. Limits: 64 rules, paths of at
/// most 512 bytes and 32 names, names of at most 128 bytes, each `value` at most 16 KiB as
/// JSON; a path that collects more than 4,096 values counts as absent. A malformed rule
/// (unknown member, unknown op, missing or misshapen `value`, bad path, a limit exceeded)
/// is `SOIDC_ERR_INVALID_ARGUMENT` before any token work. A failed rule is
/// `SOIDC_ERR_VALIDATION` with `reason` = `claim_rule` and `rule` = the rule's `name`,
/// else its path and op (`"realm_access.roles contains"`); the message names the rule and
/// the kind of failure, never a claim value. Read claims with the same paths with
/// `soidc_claims_get`.
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
    // SAFETY: this function's contract: `client` NULL or live, strings NULL or
    // NUL-terminated and unchanged during the call, `out_json` NULL or writable.
    let (client, token, options, out_json) = unsafe {
        (
            arg_ref(client, "client"),
            arg_str(raw_token, "raw_token"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    let wanted = !out_json.is_null();
    boundary::call(out_json, || {
        let (c, token, options) = (client?, token?, options?);
        let claims = match validate_acr {
            None => c.inner.in_log_scope(|| c.inner.decode_id_token_full(token, options, None))?,
            Some(cb) => {
                let mut check = |acr: Option<&str>| -> Result<(), String> {
                    let owned = match acr {
                        None => None,
                        Some(a) => Some(CString::new(a).map_err(|_| "acr contains a NUL byte".to_owned())?),
                    };
                    let ptr = owned.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
                    // SAFETY: `cb` is the caller's validator, callable with `user_data` on
                    // this thread during this call (the contract of `soidc_acr_validator`);
                    // `ptr` is NULL or a NUL-terminated string that outlives the call.
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
        // With a NULL out_json only the verdict is wanted: the claims are not serialised.
        Ok(wanted.then(|| claims.into_document()))
    })
}

/// Decodes and validates a JWT access token (RFC 9068 §4) for a resource server.
///
/// Checks: header `typ` is `at+jwt` (or `application/at+jwt`), an allowed `alg` and the
/// signature (as for ID tokens), `iss`, `exp`/`nbf`/`iat` with leeway, `aud` contains the
/// audience, `sub`, `jti`, `client_id` (a token with only `azp` gets `client_id` set from
/// it, as simple_openid_connect normalises), and the required scopes in `scope`.
///
/// `options_json` (nullable): `audience` (a string, or a non-empty array of strings: the
/// token's `aud` must contain at least one of them; default: the client id), `required_scopes` (array
/// of strings; a missing one fails with `error` = `insufficient_scope` in the error
/// document), `cache_only` (true: validate against cached keys only, never touching the
/// network — for request paths such as an nginx worker; prime the cache with
/// `soidc_client_provider_keys`), `timeout_ms`, the DPoP options below, `require_claims` (claim rules, as for
/// `soidc_decode_id_token`; checked last, and a failed rule also carries `error` =
/// `insufficient_scope`, RFC 6750 §3.1: the token is valid but lacks a privilege, HTTP 403).
///
/// Certificate-bound tokens (RFC 8705 §3): option `client_cert_pem` is the client
/// certificate of the request (its TLS client certificate, e.g. nginx's
/// `$ssl_client_cert`): PEM (the first certificate is used), or, without PEM armour, the
/// standard base64 of its DER (as in `x5c`; whitespace ignored, padding optional); at most
/// 64 KiB, and a private key, garbage or anything that is not a DER certificate is
/// `SOIDC_ERR_INVALID_ARGUMENT`. A token whose `cnf` has `x5t#S256` is accepted only when
/// that is the base64url SHA-256 of the certificate's DER; with another certificate or none
/// it fails with `reason` = `cnf_x5t`. A certificate given for a token without
/// `cnf["x5t#S256"]` is accepted (the token is not certificate-bound, or bound otherwise, e.g.
/// DPoP: a resource server that accepts only certificate-bound tokens checks that the
/// returned claims have `cnf["x5t#S256"]`).
///
/// Success: the claims object, untouched (for a DPoP-bound token, its `cnf.jkt` is the
/// thumbprint of the key whose proof was just verified). Returns `SOIDC_OK`,
/// `SOIDC_ERR_VALIDATION`, `SOIDC_ERR_INVALID_ARGUMENT`, or a network/HTTP/protocol status
/// when keys were fetched.
///
/// DPoP (RFC 9449 §7.1), for a request with `Authorization: DPoP <token>` and a `DPoP` header:
/// - `dpop_proof` (string): the `DPoP` header value, as received. Omit it when the request
///   has no `DPoP` header (an empty string is an invalid proof). With it, `http_method`
///   (string, the request's method, compared case-sensitively with `htm`) and `http_uri`
///   (string, the request's absolute `http`/`https` URI as the client addressed it, e.g.
///   `https://api.example.com/items?page=2`; query and fragment are ignored, and both it and
///   `htu` are normalised per RFC 3986 §6.2.2 and §6.2.3) are required.
/// - `dpop` (string): `"required"`: only DPoP-bound tokens (with `cnf.jkt`), each with a valid
///   proof; `"allowed"`: as the default, and a proof presented with an unbound token is
///   checked (all but the key binding) and then accepted instead of refused. Default: a
///   token with `cnf.jkt` needs a valid proof, a proof with a token without `cnf.jkt` is
///   refused, an unbound token without proof is accepted (Bearer). A bound token is never
///   accepted without its proof.
/// - `dpop_max_age_s` (1 to 3600, default 300): the oldest proof `iat` accepted, plus the
///   client's `leeway_s`; a proof may be at most `leeway_s` in the future. The client option
///   `dpop_replay_window_s` caps it.
/// - `dpop_nonce` (string, optional): the nonce the server gave the client (RFC 9449 §9):
///   the proof must carry it.
///
/// The proof checks (RFC 9449 §4.3), each with its `reason` in the error document: exactly
/// one proof (a comma in the header value means several), a compact JWS of at most 16 KiB,
/// `typ` `dpop+jwt`, `alg` one of ES256 ES384 EdDSA PS256 PS384 PS512 RS256 RS384 RS512
/// (`none` and HS* are refused), a `jwk` header that is a public key (no `d`, `p`, `q`, `dp`,
/// `dq`, `qi`, `oth`, `k`) verifying the signature, `jti`, `htm`, `htu`, `iat` present
/// (`dpop_invalid` for all of these), `htm` (`dpop_htm`), `htu` (`dpop_htu`), `nonce` when
/// `dpop_nonce` is given (`dpop_nonce`), `iat` in the window (`dpop_iat`), `ath` =
/// base64url(SHA-256(token)) (`dpop_ath`), the RFC 7638 thumbprint of `jwk` equal to the
/// token's `cnf.jkt` (`dpop_jkt`, also for an unbound token with `dpop: "required"`), and,
/// once all else passed, the `jti` not seen before (`dpop_replay`). A bound token without
/// a proof fails with `dpop_missing`, a proof with an unbound token with `dpop_unexpected`.
/// DPoP error documents also carry `error`, the code for the `WWW-Authenticate: DPoP`
/// challenge (`invalid_dpop_proof`; `invalid_token` for `dpop_missing` and
/// `dpop_unexpected`; `use_dpop_nonce` for `dpop_nonce`), and `algs`, the space-separated
/// algorithms accepted, for the challenge's `algs` parameter.
///
/// Replay cache (RFC 9449 §11.1): each client keeps the `jti`s of the proofs it accepted,
/// scoped by the proof key's thumbprint, until no call on that client could accept the proof
/// any more (`iat` + `dpop_replay_window_s` + `leeway_s`); checking and recording is one
/// atomic step, so of several threads presenting one proof exactly one succeeds. The cache holds at most
/// `dpop_replay_cache_entries` (client option, default 100000, about 100 bytes each); when
/// full, the oldest entry is evicted and a replay of that proof within its window is no
/// longer detected: size it for your request rate times the window. It is per client and
/// per process, in memory only: with several processes (nginx workers, a preforked
/// server) or several clients, or across a restart, a replay reaching another cache is not
/// detected; share a store of seen `(jkt, jti)` pairs yourself, or use server nonces
/// (`dpop_nonce`), if that matters. Only proofs that passed every other check, with a
/// valid token, reach the cache. No DPoP check touches the network.
///
/// With the client option `verified_cache_entries` (see `soidc_client_from_issuer_url`), a
/// token seen before with a valid signature skips the signature check; every check listed
/// here still runs on that call, for this call's options and request.
///
/// Validation error documents of every decode function carry, for the failures a server
/// reacts to differently, a machine-readable `reason`: `no_keys_cached` (`cache_only` and
/// nothing cached yet: answer 503, not 401), `unknown_kid` (refresh the keys soon),
/// `signature`, `expired`, `issuer`, `audience`, `cnf_x5t` (certificate binding), `scope` (with `error` =
/// `insufficient_scope`), `nonce` (missing, different, or present although none was
/// expected), `sub` (empty or longer than 255 bytes), `acr` (not in `acr_values_allowed`,
/// or refused by the callback), `exp` (a logout token without `exp`), `replay` (a logout
/// token without `exp` whose `jti` was already accepted), `claim_rule` (a `require_claims`
/// rule failed; `rule` names it), `cnf_x5t`, and the DPoP reasons above (`dpop_*`). Other
/// failures have no `reason`; the message always explains.
#[no_mangle]
pub unsafe extern "C" fn soidc_decode_access_token(
    client: *const soidc_client,
    raw_token: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `client` NULL or live, strings NULL or
    // NUL-terminated and unchanged during the call, `out_json` NULL or writable.
    let (client, token, options, out_json) = unsafe {
        (
            arg_ref(client, "client"),
            arg_str(raw_token, "raw_token"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    decode_with(client, token, options, out_json, Client::decode_access_token_full)
}

/// Decodes and validates a back-channel logout token (OpenID Connect Back-Channel Logout
/// 1.0 §2.6), as POSTed by the provider to the client's `backchannel_logout_uri`.
///
/// Checks: `typ` if present is `logout+jwt` (or `JWT`), allowed `alg` and signature, `iss`,
/// `aud` contains the client id and nothing untrusted, `exp` (REQUIRED by §2.4 of the final
/// specification; a token without it fails with `reason` = `exp` unless
/// `allow_missing_exp`), `iat` and `nbf` if present with leeway, `jti`, `events` has the
/// back-channel logout event as an object, no `nonce`, `sub` or `sid` (a `sub` of at most
/// 255 bytes).
///
/// `options_json` (nullable): `extra_trusted_audiences`, `min_iat` (seconds, fractions
/// allowed), `cache_only`, `timeout_ms`, `allow_missing_exp` (bool, default false: for
/// providers built on drafts that did not send `exp`), `max_age_s` (with
/// `allow_missing_exp` only, 1 to 600, default 120), `require_claims` (claim rules, as for
/// `soidc_decode_id_token`, checked after every other check and before the `jti` is
/// remembered).
///
/// With `allow_missing_exp`, a token without `exp` is accepted only if its `iat` is at
/// most `max_age_s` (plus `leeway_s`) old (else `reason` = `expired`) and its `jti` was not
/// accepted before within that window (else `reason` = `replay`): soidc remembers the
/// `jti`s of the tokens it accepted without `exp` in a per-client cache of at most 10,000
/// entries (the oldest evicted first), kept in memory only. The cache is per client and per
/// process: with several processes (nginx workers, a preforked server) or clients, or across
/// a restart, a replay reaching another cache is not detected; share a store of seen
/// `jti`s yourself if that matters. Tokens with `exp` are not tracked (store their `jti`
/// until `exp` if you need replay detection for them).
///
/// Success: the claims object. Returns as `soidc_decode_access_token`.
#[no_mangle]
pub unsafe extern "C" fn soidc_decode_logout_token(
    client: *const soidc_client,
    raw_token: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `client` NULL or live, strings NULL or
    // NUL-terminated and unchanged during the call, `out_json` NULL or writable.
    let (client, token, options, out_json) = unsafe {
        (
            arg_ref(client, "client"),
            arg_str(raw_token, "raw_token"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    decode_with(client, token, options, out_json, Client::decode_logout_token_full)
}

/// The common body of the access- and logout-token exports, on their checked arguments.
fn decode_with(
    client: core::Result<&soidc_client>,
    token: core::Result<&str>,
    options: core::Result<Option<&str>>,
    out_json: OutString<'_>,
    decode: fn(&Client, &str, Option<&str>) -> core::Result<core::client::Decoded>,
) -> soidc_status {
    let wanted = !out_json.is_null();
    boundary::call(out_json, || {
        let (c, token, options) = (client?, token?, options?);
        let decoded = c.inner.in_log_scope(|| decode(&c.inner, token, options))?;
        // With a NULL out_json only the verdict is wanted: the claims are not serialised.
        Ok(wanted.then(|| decoded.into_document()))
    })
}
