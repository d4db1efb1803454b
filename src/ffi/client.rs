//! Client lifecycle: create from an issuer URL or a metadata document, query,
//! free.

use crate::core::{self, Client, ClientParams, ClientType};
use crate::ffi::boundary::{self, arg_ref, arg_str, opt_str, to_json, Out, OutString};
use crate::ffi::status::*;
use crate::ffi::util::log_target;
use std::os::raw::c_char;

/// An OpenID Connect client for one provider and one client registration.
///
/// Created by `soidc_client_from_issuer_url` or `soidc_client_from_issuer_config`,
/// freed by `soidc_client_free`. Every other function takes it as
/// `const soidc_client *`.
///
/// Thread safety: a client is immutable apart from its internally synchronised
/// caches (the JWKS and the HTTP connection pool). Any function may be called on
/// one client from many threads at once; only `soidc_client_free` must not race
/// with other calls on the same client. A client created before `fork()` keeps
/// working in the child, which opens its own connections.
pub struct soidc_client {
    pub(crate) inner: Client,
}

// The whole thread-safety contract above rests on this: one client is shared by many
// threads at once (review U5). If a field ever makes `Client` lose `Send` or `Sync`, the
// build fails here instead of C callers racing.
const _: fn() = || {
    fn shareable_between_threads<T: Send + Sync>() {}
    shareable_between_threads::<Client>();
    shareable_between_threads::<soidc_client>();
};

/// The arguments every constructor shares, as core `ClientParams` (NULL and UTF-8 checked).
///
/// # Safety
/// Each pointer is NULL or a NUL-terminated string that stays valid for `'a`.
unsafe fn params<'a>(
    redirect_uri: *const c_char,
    client_id: *const c_char,
    client_secret: *const c_char,
    scope: *const c_char,
    options_json: *const c_char,
) -> core::Result<ClientParams<'a>> {
    // SAFETY: this function's contract is exactly what `arg_str`/`opt_str` require.
    unsafe {
        Ok(ClientParams {
            redirect_uri: opt_str(redirect_uri, "redirect_uri")?,
            client_id: arg_str(client_id, "client_id")?,
            client_secret: opt_str(client_secret, "client_secret")?,
            scope: opt_str(scope, "scope")?,
            options: opt_str(options_json, "options_json")?,
        })
    }
}

/// The body of every constructor: runs `make` (in the client's own log scope, if it
/// has one) inside the boundary, and writes the new client on success only.
fn create(
    mut out_client: Out<'_, *mut soidc_client>,
    out_json: OutString<'_>,
    log: Option<core::log::Target>,
    make: impl FnOnce() -> core::Result<Client>,
) -> soidc_status {
    out_client.clear();
    // SAFETY: getauxval has no preconditions; AT_SECURE is set for setuid/setgid
    // processes, whose environment must not choose the trust store.
    let secure = unsafe { libc::getauxval(libc::AT_SECURE) } != 0;
    core::http::set_secure_execution(secure);
    boundary::call(out_json, move || {
        if out_client.is_null() {
            return Err(core::Error::invalid_argument("out_client is NULL"));
        }
        // The client's own log target receives the creation's messages too (discovery).
        let client = core::log::scoped(log.clone(), make)?;
        if log.is_some() {
            client.set_log_target(log);
        }
        out_client.set(Box::into_raw(Box::new(soidc_client { inner: client })));
        Ok(None)
    })
}

/// Creates a client by discovery: fetches `<issuer_url>/.well-known/openid-configuration`
/// and requires its `issuer` member to equal `issuer_url` exactly (no normalisation,
/// not even of a trailing slash).
///
/// - `issuer_url`: required; https, or http on a loopback host (see `allow_insecure_http`).
/// - `redirect_uri`: nullable; the default redirect URI of the authorization code flow.
/// - `client_id`: required, not empty.
/// - `client_secret`: nullable; NULL makes a public client (unless `private_key_pem` gives it
///   a key), a secret a confidential one.
///   The secret is copied; it never appears in error documents or logs.
/// - `scope`: nullable; the default scope, `"openid"` when NULL.
/// - `options_json`: nullable JSON object of client options: `timeout_ms` (default 30000: the
///   budget of each later call that does not pass its own), `create_timeout_ms` (default
///   `timeout_ms`: bounds this creation call, discovery included), `connect_timeout_ms`
///   (10000), `ca_file` (PEM bundle added to the system roots), `proxy` (proxy environment
///   variables are never read), `leeway_s` (30, max 300), `min_jwks_cache_s` (600),
///   `jwks_refetch_min_interval_s` (10; also the cap of the back-off after failed JWKS
///   fetches, which starts at 1 s and doubles), `auth_method`, `private_key_pem`,
///   `private_key_file` (a PEM file instead of `private_key_pem`), `client_secret_file` (the
///   secret from a file instead of the `client_secret` argument, which must then be NULL; one
///   trailing newline is removed), `private_key_kid`, `allowed_algs`, `max_response_bytes`
///   (1 MiB), `allow_insecure_http` (false), `issuer` (the issuer this client is for: when
///   given, it must equal `issuer_url`; required by `soidc_client_from_state`), `cache_dir`
///   (a directory keeping the provider state of each issuer in one file, see below),
///   `require_par` (false; true when the client is registered to use pushed authorization
///   requests only: `soidc_auth_code_start` then pushes by default), `client_cert_file` and
///   `client_key_file` (mutual TLS, RFC 8705, see below), `dpop` (RFC 9449 DPoP:
///   `true` for ES256, or `"ES256"`, `"EdDSA"`, `"PS256"`, `"RS256"`; default false; see
///   below), `dpop_key_pem` (the DPoP private key as PEM: PKCS#8 `PRIVATE KEY` holding a
///   P-256, Ed25519 or RSA key, SEC1 `EC PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`,
///   unencrypted, at most 64 KiB), `dpop_key_file` (the same from a file, checked like
///   `client_secret_file`), and for a resource server checking DPoP proofs (see
///   `soidc_decode_access_token`) `dpop_replay_cache_entries` (100000, 1 to 10000000: how
///   many proof `jti`s the client's replay cache holds) and `dpop_replay_window_s` (300, 1
///   to 3600: how long a `jti` is remembered; older proofs are refused) and
///   `verified_cache_entries` (0 = off, the default; at most 1000000: the verified-token
///   cache, see below), and `provider_down_backoff_s` (1 to 3600, needs `cache_dir`; off by
///   default: see below).
///   Secret files must be regular files owned by the
///   process's effective user or root and not accessible by group or others (mode 0600 or
///   0400), or the call fails with `SOIDC_ERR_INVALID_ARGUMENT`; soidc keeps no copy of
///   their path's content beyond the parsed secret, which is wiped from memory when the
///   client is freed. An unknown key, a repeated key or a `null` value is an error.
/// - `out_client`: required; set to NULL on entry, receives the client on success only.
///   Free it with `soidc_client_free`.
/// - `out_json`: nullable; set to NULL on entry, receives the error document on failure
///   (nothing on success). Free it with `soidc_string_free`, never with `free()`.
///
/// DPoP (RFC 9449): with `dpop` on, the client holds a DPoP key: the one of `dpop_key_pem` /
/// `dpop_key_file` (which turn DPoP on by themselves; its algorithm is the key's: ES256 for
/// P-256, EdDSA for Ed25519, and for RSA the `dpop` value, else PS256 unless the provider
/// lists only RS256), or one generated here from the system CSPRNG (P-256, Ed25519, or RSA
/// 2048 bits), which lives as long as the client. `dpop` false with a key given, a key
/// that does not fit the algorithm asked for, an encrypted or unparsable PEM: all
/// `SOIDC_ERR_INVALID_ARGUMENT`. An algorithm the provider's
/// `dpop_signing_alg_values_supported` does not list: `SOIDC_ERR_UNSUPPORTED_BY_PROVIDER`.
/// The private key never leaves soidc (AWS-LC wipes it when the client is freed; the PEM
/// text is wiped once parsed); `soidc_client_dpop_jwk` gives the public key and its
/// thumbprint. Token requests, pushed authorization requests and `soidc_fetch_userinfo`
/// then carry DPoP proofs (see `soidc_client_credentials_grant`); server nonces are
/// remembered per origin (scheme, host, port; at most 64 origins per client).
///
/// Mutual TLS (RFC 8705): `client_cert_file` (PEM: the client certificate, then any
/// intermediates) and `client_key_file` (PEM: its unencrypted private key, PKCS#8, PKCS#1 or
/// SEC1; RSA, ECDSA or Ed25519) go together. Both files are read with the rules of secret
/// files above (a certificate and key in one file can be given as both) and parsed at once:
/// a file that is missing, unreadable, too loose, larger than 64 KiB, not PEM, a key given
/// as the certificate (or the reverse), or a key that does not belong to the certificate is
/// `SOIDC_ERR_INVALID_ARGUMENT`, naming the option, never the content. The PEM text is wiped
/// from memory once parsed; the TLS stack keeps the key for the client's life. The
/// certificate is presented to every server that asks for one. `auth_method`
/// `tls_client_auth` (§2.1, a certificate from a CA the provider trusts, registered by its
/// subject) and `self_signed_tls_client_auth` (§2.2, a self-signed certificate registered in
/// the client's JWKS) authenticate the client by the certificate and send `client_id` in the
/// request body; they need these options. A client whose only credential is a certificate
/// uses `tls_client_auth` by default (`self_signed_tls_client_auth` when the provider
/// advertises only that); with a secret or a private key too, the certificate serves
/// certificate-bound access tokens (§3) and the other method authenticates. Any client with
/// a certificate sends its token, pushed authorization, introspection, revocation, userinfo
/// and device authorization requests to the provider's `mtls_endpoint_aliases` (§5) when it
/// advertises them, to the regular endpoints otherwise.
///
/// `cache_dir` (for example `/var/cache/soidc` or `$XDG_CACHE_HOME/soidc`): the state of
/// `soidc_client_export_state` is kept per issuer in `soidc-state-<sha256 of the issuer,
/// 32 hex digits>.json` there. A fresh file (keys not expired, metadata at most a day old)
/// makes this call perform no request. Otherwise one process at a time (an advisory lock
/// on the `.lock` file next to it, which must belong to the process's user or root; the
/// others wait at most half of `create_timeout_ms`, then go ahead themselves) discovers, fetches the keys and writes the file, and the processes
/// that waited read it; later key fetches write it back too. The file is written
/// atomically (a temporary file in the same directory, mode 0600, renamed). A file that
/// is a symlink, not a regular file, owned by another user than the process's or root,
/// or writable by group or others is ignored with a warning in the log, never trusted;
/// so is a file that fails the checks of `soidc_client_from_state`. A missing directory
/// is created (mode 0700); an unusable one (not writable, not a directory) skips caching
/// with a warning. When discovery fails (network or HTTP error) and the file holds a state
/// whose keys have expired but whose metadata has not, that state is used (the keys are
/// refreshed on first use). No secret is ever written there.
///
/// `verified_cache_entries` (a resource server seeing the same tokens again): the client
/// remembers up to this many tokens whose signature verified with the provider's keys, so
/// that the same token decoded again skips the signature check, and only it. A hit needs
/// the identical token: the signed part and the signature are kept and compared in full
/// (a hash only picks the slot). Everything else runs on every call, hit or miss, exactly
/// as without the cache: the parsing, `typ`, `iss`, `exp`/`nbf`/`iat` with `leeway_s`, the
/// audience, `required_scopes`, `client_id`, the DPoP proof and its replay check, the
/// certificate binding of this request, `require_claims`, and for ID and logout tokens
/// (cached too, as is a signed userinfo answer) their own checks. Each entry records the
/// key that verified it (a SHA-256 fingerprint of the JWK's `kty`, `kid`, `alg` and key
/// material); a hit counts only while the client's current key set holds that key, so a
/// token whose key left the JWKS (refetch, `soidc_client_import_keys`, a `cache_dir`
/// file) is checked in full again and refused. A token whose signature failed against a
/// key of the current set (reason `signature`, a token with a `kid`) is remembered apart,
/// in a table of a quarter of the capacity, with its exact error document, bound to that
/// very key set: the same bytes fail again without a signature check until the key set
/// changes in any way, then they are checked again. Unknown-kid and network failures are
/// never remembered. HS* tokens (verified with the client secret) and tokens longer than
/// 16 KiB are never cached. The capacity is split over up to 16 shards of at least 64
/// entries (a smaller cache is one shard), each with its own lock, never held during a
/// signature check; a full shard evicts by CLOCK (an entry hit since the last pass
/// survives it). Memory: about the
/// token's length plus 150 bytes per entry. The cache is per client and per process.
///
/// `provider_down_backoff_s` (with `cache_dir`): when a request of this client to the
/// provider fails at the network level (unreachable, TLS failure, no answer within the
/// budget), the time is recorded in `soidc-state-<...>.down` next to the state file (mode
/// 0600, written atomically); while that record is younger than `provider_down_backoff_s`,
/// every request of every client of this issuer with the option and the same `cache_dir`
/// (this process or another) fails at once with `SOIDC_ERR_NETWORK`, error document
/// `reason: "provider_down"`, without being sent: hosts that create a client per request
/// (PAM) stop waiting out a timeout at every login while the provider is down. Any answer
/// of the provider (whatever its HTTP status) removes the record. A record that is not a
/// regular file of the process's user or root, or is writable by group or others, is
/// ignored with a warning. Clients without the option neither read nor write it. `soidc_client_from_state` uses
/// `cache_dir` to write its state back after key fetches; `soidc_client_from_issuer_config`
/// does not use it.
///
/// Returns `SOIDC_OK`; `SOIDC_ERR_INVALID_ARGUMENT` (bad argument or option);
/// `SOIDC_ERR_NETWORK` (provider unreachable, TLS, timeout); `SOIDC_ERR_HTTP` (discovery
/// answered a non-200 status or non-JSON); `SOIDC_ERR_PROTOCOL` (issuer mismatch, a required
/// metadata member missing or of the wrong type, an endpoint violating the https policy).
#[no_mangle]
pub unsafe extern "C" fn soidc_client_from_issuer_url(
    issuer_url: *const c_char,
    redirect_uri: *const c_char,
    client_id: *const c_char,
    client_secret: *const c_char,
    scope: *const c_char,
    options_json: *const c_char,
    out_client: *mut *mut soidc_client,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: as documented above, the strings are NULL or NUL-terminated and only read
    // during this call, and the out-pointers are NULL or writable.
    let (issuer, params, out_client, out_json) = unsafe {
        (
            arg_str(issuer_url, "issuer_url"),
            params(redirect_uri, client_id, client_secret, scope, options_json),
            Out::from_raw(out_client),
            OutString::from_raw(out_json),
        )
    };
    create(out_client, out_json, None, || Client::from_issuer_url(issuer?, params?))
}

/// As `soidc_client_from_issuer_url`, with the client's own log callback installed from
/// the start, so that it also receives the messages of the creation itself (discovery,
/// "client ready"): what `soidc_client_set_log_callback` would install afterwards.
/// `log_cb` NULL is the same as `soidc_client_from_issuer_url`. The callback rules of
/// `soidc_log_callback` apply; `log_user_data` must stay valid until `soidc_client_free`
/// returns (also when this call fails, until it returns).
#[no_mangle]
pub unsafe extern "C" fn soidc_client_from_issuer_url_with_log(
    issuer_url: *const c_char,
    redirect_uri: *const c_char,
    client_id: *const c_char,
    client_secret: *const c_char,
    scope: *const c_char,
    options_json: *const c_char,
    log_cb: crate::ffi::util::soidc_log_callback,
    log_max_level: std::os::raw::c_int,
    log_user_data: *mut std::os::raw::c_void,
    out_client: *mut *mut soidc_client,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: as for `soidc_client_from_issuer_url`; and `log_cb` with `log_user_data`
    // follows the `soidc_log_callback` rules, as documented above.
    let (issuer, params, log, out_client, out_json) = unsafe {
        (
            arg_str(issuer_url, "issuer_url"),
            params(redirect_uri, client_id, client_secret, scope, options_json),
            log_target(log_cb, log_max_level, log_user_data),
            Out::from_raw(out_client),
            OutString::from_raw(out_json),
        )
    };
    create(out_client, out_json, log, || Client::from_issuer_url(issuer?, params?))
}

/// Creates a client from a provider metadata document the caller already has (for
/// example one cached from an earlier discovery). No network access happens here.
///
/// `provider_metadata_json` is required: a JSON object with at least `issuer`,
/// `authorization_endpoint`, `jwks_uri`, `subject_types_supported` and
/// `id_token_signing_alg_values_supported`. The other parameters are those of
/// `soidc_client_from_issuer_url`. A malformed or incomplete document is
/// `SOIDC_ERR_INVALID_ARGUMENT`; an endpoint that violates the https policy is
/// `SOIDC_ERR_PROTOCOL`.
#[no_mangle]
pub unsafe extern "C" fn soidc_client_from_issuer_config(
    provider_metadata_json: *const c_char,
    redirect_uri: *const c_char,
    client_id: *const c_char,
    client_secret: *const c_char,
    scope: *const c_char,
    options_json: *const c_char,
    out_client: *mut *mut soidc_client,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: as for `soidc_client_from_issuer_url`.
    let (metadata, params, out_client, out_json) = unsafe {
        (
            arg_str(provider_metadata_json, "provider_metadata_json"),
            params(redirect_uri, client_id, client_secret, scope, options_json),
            Out::from_raw(out_client),
            OutString::from_raw(out_json),
        )
    };
    create(out_client, out_json, None, || Client::from_issuer_config(metadata?, params?))
}

/// Frees a client and everything it owns (keys, connections, the copied secret).
/// NULL is a no-op. The client must not be in use by another thread, and must not be
/// used afterwards.
#[no_mangle]
pub unsafe extern "C" fn soidc_client_free(client: *mut soidc_client) {
    if client.is_null() {
        return;
    }
    // SAFETY: by this function's contract `client` came from `create` (`Box::into_raw`),
    // is freed once, and no other thread uses it any more.
    let boxed = unsafe { Box::from_raw(client) };
    // Dropping runs no user code; a panic here would be a bug in a dependency,
    // and must still not unwind into C.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(boxed)));
}

/// Whether the client is public (`SOIDC_CLIENT_PUBLIC`, no secret and no private key) or confidential
/// (`SOIDC_CLIENT_CONFIDENTIAL`). Returns `SOIDC_CLIENT_INVALID` for NULL.
/// Thread-safe; no network access.
#[no_mangle]
pub unsafe extern "C" fn soidc_client_get_type(client: *const soidc_client) -> soidc_client_type {
    // SAFETY: `client` is NULL or a live client (this function's contract).
    match unsafe { client.as_ref() } {
        None => SOIDC_CLIENT_INVALID,
        Some(c) => match c.inner.client_type() {
            ClientType::Public => SOIDC_CLIENT_PUBLIC,
            ClientType::Confidential => SOIDC_CLIENT_CONFIDENTIAL,
        },
    }
}

/// The provider metadata document, exactly as discovered or given (unknown members
/// kept). No network access.
///
/// `out_json` is required: it receives the document (or the error document); free it
/// with `soidc_string_free`. Returns `SOIDC_OK` or `SOIDC_ERR_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn soidc_client_provider_config(
    client: *const soidc_client,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: `client` is NULL or a live client, `out_json` NULL or writable (contract).
    let (client, out_json) = unsafe { (arg_ref(client, "client"), OutString::from_raw(out_json)) };
    boundary::call_with_required_out(out_json, || to_json(client?.inner.provider_config()))
}

/// The provider's JSON Web Key Set as cached by the client, fetched from `jwks_uri`
/// first if nothing is cached or the cache is stale.
///
/// `options_json` (nullable): `timeout_ms`; `force_refresh` (true: fetch now even if
/// fresh, for example from a worker's timer); `cache_only` (true: never touch the
/// network, fail if nothing is cached). If a refresh of stale keys fails while older keys
/// are cached, the older keys are returned and stay in use (and the next attempt waits
/// `jwks_refetch_min_interval_s`); with `force_refresh` the failure is returned, and the
/// older keys still stay in use.
///
/// `out_json` is required. Returns `SOIDC_OK`, `SOIDC_ERR_INVALID_ARGUMENT`,
/// `SOIDC_ERR_NETWORK`, `SOIDC_ERR_HTTP`, `SOIDC_ERR_PROTOCOL` (not a JWKS), or
/// `SOIDC_ERR_VALIDATION` (`cache_only` with nothing cached).
#[no_mangle]
pub unsafe extern "C" fn soidc_client_provider_keys(
    client: *const soidc_client,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: `client` is NULL or a live client, `options_json` NULL or a NUL-terminated
    // string, `out_json` NULL or writable (this function's contract).
    let (client, options, out_json) = unsafe {
        (arg_ref(client, "client"), opt_str(options_json, "options_json"), OutString::from_raw(out_json))
    };
    boundary::call_with_required_out(out_json, || {
        let (c, options) = (client?, options?);
        to_json(&c.inner.in_log_scope(|| c.inner.provider_keys(options))?)
    })
}

/// Gives one client its own log callback: messages produced while a thread works
/// on this client go to `cb` with `user_data` instead of the process-wide callback of
/// `soidc_set_log_callback`. NULL `cb` returns the client to the process-wide
/// callback. To receive the messages of the creation too (discovery), create the client
/// with `soidc_client_from_issuer_url_with_log`.
///
/// Use it when several clients in one process need different destinations or
/// contexts, for example a PAM module in a multi-threaded host passing its
/// `pam_handle_t` as `user_data`. `cb` is called on the thread making the soidc
/// call, synchronously; the rules of `soidc_log_callback` apply.
///
/// Lifetime rule: every `user_data` ever installed on a client must stay valid until
/// `soidc_client_free` for that client has returned, even after it was replaced (a call
/// already in progress on another thread may still deliver to the previous callback).
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn soidc_client_set_log_callback(
    client: *const soidc_client,
    cb: crate::ffi::util::soidc_log_callback,
    max_level: std::os::raw::c_int,
    user_data: *mut std::os::raw::c_void,
) -> soidc_status {
    // SAFETY: `client` is NULL or a live client; `cb` with `user_data` follows the
    // `soidc_log_callback` rules (this function's contract).
    let (client, target) = unsafe { (arg_ref(client, "client"), log_target(cb, max_level, user_data)) };
    boundary::call(Out::none(), || {
        client?.inner.set_log_target(target);
        Ok(None)
    })
}

/// Exports the client's provider state as one versioned JSON document, for another
/// process or host to create its client from with `soidc_client_from_state` (or for
/// the host to keep where it keeps things: a file, Redis, a ConfigMap). No network access.
///
/// The document (version 1; times are seconds since the Unix epoch, wall clock):
/// `{"soidc_state": 1, "issuer": ..., "metadata": {the discovery document},
/// "metadata_fetched_at": ..., "jwks": {the JWKS}, "jwks_fetched_at": ...,
/// "jwks_expires_at": ...}`. `jwks_expires_at` is when the keys stop counting as fresh
/// (the JWKS response's `Cache-Control: max-age`, at least `min_jwks_cache_s`, at most a
/// day; for imported keys, their `max_age_s`). The three `jwks` members are absent when
/// the client has no keys cached yet. The document holds no secret (no client secret,
/// no private key): public provider data only.
///
/// `options_json` (nullable): no options are defined yet; any key is an error.
/// `out_json` is required: it receives the document (or the error document); free it
/// with `soidc_string_free`. Returns `SOIDC_OK` or `SOIDC_ERR_INVALID_ARGUMENT`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn soidc_client_export_state(
    client: *const soidc_client,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `client` NULL or live, `options_json` NULL or
    // NUL-terminated and unchanged during the call, `out_json` NULL or writable.
    let (client, options, out_json) = unsafe {
        (arg_ref(client, "client"), opt_str(options_json, "options_json"), OutString::from_raw(out_json))
    };
    boundary::call_with_required_out(out_json, || to_json(&client?.inner.export_state(options?)?))
}

/// Creates a client from a state document written by `soidc_client_export_state`,
/// without network access.
///
/// - `state_json`: required; the document, at most 1 MiB.
/// - `redirect_uri`, `client_id`, `client_secret`, `scope`, `out_client`, `out_json`: as for
///   `soidc_client_from_issuer_url` (the state holds no client registration and no secret).
/// - `options_json`: the client options of `soidc_client_from_issuer_url`; the option
///   `issuer` is required here: the issuer the state must belong to (the state is refused
///   unless its `issuer` equals it exactly). With `cache_dir`, the state is written back
///   there after each later key fetch.
///
/// The state is checked like a fetched one, and refused as a whole (nothing of it is used)
/// with `SOIDC_ERR_INVALID_ARGUMENT` and a message naming the problem when it is: larger
/// than 1 MiB, malformed or truncated JSON, a repeated or unknown member, a `soidc_state`
/// version other than 1, for another issuer, tampered (the metadata's `issuer` differs
/// from the state's; times in the future; `jwks_expires_at` before `jwks_fetched_at` or
/// more than a day after it), stale (`metadata_fetched_at` more than 86400 s ago: discover
/// again), an endpoint violating the https policy (`allow_insecure_http`), or a JWKS with no
/// key usable with the allowed algorithms. Keys past `jwks_expires_at` are accepted: they
/// are used, and refreshed by the first call that may fetch (a `cache_only` decode uses
/// them as they are). A state without keys makes a client that fetches them on first use.
#[no_mangle]
pub unsafe extern "C" fn soidc_client_from_state(
    state_json: *const c_char,
    redirect_uri: *const c_char,
    client_id: *const c_char,
    client_secret: *const c_char,
    scope: *const c_char,
    options_json: *const c_char,
    out_client: *mut *mut soidc_client,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: as for `soidc_client_from_issuer_url`.
    let (state, params, out_client, out_json) = unsafe {
        (
            arg_str(state_json, "state_json"),
            params(redirect_uri, client_id, client_secret, scope, options_json),
            Out::from_raw(out_client),
            OutString::from_raw(out_json),
        )
    };
    create(out_client, out_json, None, || Client::from_state(state?, params?))
}

/// Installs a JSON Web Key Set the host fetched itself (for example an nginx master
/// process handing keys to its workers), replacing the cached keys. No network access.
///
/// `jwks_json` is required: a JWKS document (at most 1 MiB), parsed like a fetched one for
/// the client's allowed algorithms; it must hold at least one usable key. `options_json`
/// (nullable): `max_age_s`, how long the keys count as fresh (default the client option
/// `min_jwks_cache_s`, at most 86400; afterwards the first call that may fetch refreshes
/// them from `jwks_uri`). With `cache_dir`, the state file is rewritten with these keys.
/// `out_json` (nullable) receives the error document on failure.
///
/// An unusable document (malformed JSON, a repeated member, no `keys` array, no usable key)
/// or a bad option changes nothing: `SOIDC_ERR_INVALID_ARGUMENT`. Returns `SOIDC_OK` on
/// success. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn soidc_client_import_keys(
    client: *const soidc_client,
    jwks_json: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `client` NULL or live, strings NULL or
    // NUL-terminated and unchanged during the call, `out_json` NULL or writable.
    let (client, jwks, options, out_json) = unsafe {
        (
            arg_ref(client, "client"),
            arg_str(jwks_json, "jwks_json"),
            opt_str(options_json, "options_json"),
            OutString::from_raw(out_json),
        )
    };
    boundary::call(out_json, || {
        let (c, jwks, options) = (client?, jwks?, options?);
        c.inner.in_log_scope(|| c.inner.import_keys(jwks, options))?;
        Ok(None)
    })
}
