//! Status codes and other constants of the C ABI.
//!
//! The status numbers are defined once, by `ErrorKind::code` in the core (which is
//! what every export returns). cbindgen can only put a literal into soidc.h, so the
//! constants below are written out as numbers, and `statuses_are_error_kinds!` checks at
//! compile time that each one equals its kind's `code`, that `ErrorKind::from_code` finds
//! the kind again, and that every kind has its constant: the two can never disagree.
//! The names are defined once too (`ErrorKind::name`, used by `soidc_status_name`).

use crate::core::ErrorKind;
use std::os::raw::c_int;

/// The result of every fallible soidc function. Values are stable: new codes
/// are only ever appended, and a value is never renumbered.
///
/// It is a plain `int` (not a C enum) so that any value a caller passes back,
/// for instance to `soidc_status_name`, is well defined.
pub type soidc_status = c_int;

/// Success.
pub const SOIDC_OK: soidc_status = 0;
/// A required argument was NULL, a string was not valid UTF-8, the options JSON was
/// malformed, had an unknown key or a value of the wrong type or out of range.
pub const SOIDC_ERR_INVALID_ARGUMENT: soidc_status = 1;
/// DNS, connect, TLS, timeout or connection reset.
pub const SOIDC_ERR_NETWORK: soidc_status = 2;
/// An unexpected HTTP status (including any redirect, which is never followed), a
/// response over `max_response_bytes`, or a body that is not the JSON the spec requires.
pub const SOIDC_ERR_HTTP: soidc_status = 3;
/// The provider broke the protocol: bad discovery document, issuer mismatch,
/// unusable JWKS, an endpoint URL that violates the https policy.
pub const SOIDC_ERR_PROTOCOL: soidc_status = 4;
/// The provider answered with an OAuth error response; the error document carries
/// its `error`, `error_description`, `error_uri` and `http_status`.
pub const SOIDC_ERR_PROVIDER: soidc_status = 5;
/// A token or response failed validation (signature, iss, aud, azp, exp, iat, nbf,
/// nonce, state, acr, auth_time, ...). The message names the check, what was expected
/// and what was found.
pub const SOIDC_ERR_VALIDATION: soidc_status = 6;
/// The provider does not offer what was asked (no userinfo, introspection,
/// end_session endpoint, ...).
pub const SOIDC_ERR_UNSUPPORTED_BY_PROVIDER: soidc_status = 7;
/// The authorization response (redirect URL) carries an error; the error document
/// carries the provider's fields.
pub const SOIDC_ERR_AUTHENTICATION_FAILED: soidc_status = 8;
/// Device flow: the user has not finished yet: from a single non-blocking poll, or when
/// a blocking wait (`"wait": true`) reaches its `timeout_ms`.
pub const SOIDC_ERR_PENDING: soidc_status = 9;
/// A JSON helper (`soidc_json_get_*`): the JSON pointer refers to no value in the
/// document (an absent member, an array index past the end, or a step into a string,
/// number, boolean or null). Returned by no other function.
pub const SOIDC_ERR_NOT_FOUND: soidc_status = 10;
/// A bug: a Rust panic was caught at the boundary. The library, and the client
/// handle, stay usable.
pub const SOIDC_ERR_INTERNAL: soidc_status = 100;

/// Ties each `SOIDC_ERR_*` constant to its `ErrorKind` at compile time (see the module
/// doc). The match is exhaustive, so a new kind does not compile until it is listed here.
macro_rules! statuses_are_error_kinds {
    ($($constant:ident = $kind:ident,)*) => {
        $(
            const _: () = assert!(
                $constant == ErrorKind::$kind.code()
                    && matches!(ErrorKind::from_code($constant), Some(ErrorKind::$kind)),
                concat!(stringify!($constant), " is not ErrorKind::", stringify!($kind), ".code()")
            );
        )*
        const _: fn(ErrorKind) = |kind| match kind {
            $(ErrorKind::$kind => {})*
        };
    };
}

statuses_are_error_kinds! {
    SOIDC_ERR_INVALID_ARGUMENT = InvalidArgument,
    SOIDC_ERR_NETWORK = Network,
    SOIDC_ERR_HTTP = Http,
    SOIDC_ERR_PROTOCOL = Protocol,
    SOIDC_ERR_PROVIDER = Provider,
    SOIDC_ERR_VALIDATION = Validation,
    SOIDC_ERR_UNSUPPORTED_BY_PROVIDER = UnsupportedByProvider,
    SOIDC_ERR_AUTHENTICATION_FAILED = AuthenticationFailed,
    SOIDC_ERR_PENDING = Pending,
    SOIDC_ERR_NOT_FOUND = NotFound,
    SOIDC_ERR_INTERNAL = Internal,
}

// Success is no error kind.
const _: () = assert!(ErrorKind::from_code(SOIDC_OK).is_none());

/// The kind of client, as simple_openid_connect decides it: confidential when a
/// client secret was given (or, beyond simple_openid_connect, a private key for
/// private_key_jwt), public otherwise.
pub type soidc_client_type = c_int;

/// Returned by `soidc_client_get_type` for a NULL client.
pub const SOIDC_CLIENT_INVALID: soidc_client_type = 0;
/// A public client: no client secret (a browser or native app, a CLI).
pub const SOIDC_CLIENT_PUBLIC: soidc_client_type = 1;
/// A confidential client: it holds a client secret (or a private key).
pub const SOIDC_CLIENT_CONFIDENTIAL: soidc_client_type = 2;

/// Log level: errors.
pub const SOIDC_LOG_ERROR: c_int = 1;
/// Log level: warnings (a JWKS refresh failed and old keys stay in use, ...).
pub const SOIDC_LOG_WARN: c_int = 2;
/// Log level: information (keys fetched, a token rejected and why, ...).
pub const SOIDC_LOG_INFO: c_int = 3;
/// Log level: debugging (each HTTP exchange: host, status, size).
pub const SOIDC_LOG_DEBUG: c_int = 4;
/// Log level: tracing.
pub const SOIDC_LOG_TRACE: c_int = 5;

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    /// The numbers are checked at compile time (above); this checks the static names
    /// `soidc_status_name` hands out against `ErrorKind::name`, for every kind.
    #[test]
    fn error_kinds_agree_with_the_c_statuses() {
        for kind in ErrorKind::ALL {
            // SAFETY: soidc_status_name returns a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(crate::ffi::util::soidc_status_name(kind.code())) };
            assert_eq!(name.to_str().unwrap(), kind.name(), "{kind:?}");
        }
    }
}
