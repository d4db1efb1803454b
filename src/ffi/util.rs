//! Strings, status names, the version, and the log callback.

use crate::core::log::{self, Level};
use crate::ffi::status::*;
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};
use std::sync::Arc;

/// Frees a string handed out by soidc (any `out_json`, `out_url` or `out_value`, and the
/// result of `soidc_json_quote`). NULL is a no-op.
///
/// Never pass such a string to `free()`: soidc's allocator is not necessarily the C
/// library's, and mixing them corrupts the heap. Never free a string twice, and never
/// pass a string that soidc did not hand out (for example `soidc_version()`).
#[no_mangle]
pub unsafe extern "C" fn soidc_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: `s` came from `CString::into_raw` in this library.
        drop(CString::from_raw(s));
    }
}

/// The lower-case name of a status code, as used in error documents' `status`
/// member (`"ok"`, `"invalid_argument"`, `"validation"`, ...); `"unknown"` for any
/// other value. The string is static: do not free it. Thread-safe.
#[no_mangle]
pub extern "C" fn soidc_status_name(status: soidc_status) -> *const c_char {
    let name: &'static CStr = match status {
        SOIDC_OK => c"ok",
        SOIDC_ERR_INVALID_ARGUMENT => c"invalid_argument",
        SOIDC_ERR_NETWORK => c"network",
        SOIDC_ERR_HTTP => c"http",
        SOIDC_ERR_PROTOCOL => c"protocol",
        SOIDC_ERR_PROVIDER => c"provider",
        SOIDC_ERR_VALIDATION => c"validation",
        SOIDC_ERR_UNSUPPORTED_BY_PROVIDER => c"unsupported_by_provider",
        SOIDC_ERR_AUTHENTICATION_FAILED => c"authentication_failed",
        SOIDC_ERR_PENDING => c"pending",
        SOIDC_ERR_NOT_FOUND => c"not_found",
        SOIDC_ERR_INTERNAL => c"internal",
        _ => c"unknown",
    };
    name.as_ptr()
}

const VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
    Ok(v) => v,
    Err(_) => panic!("version contains a NUL"),
};

/// The library's version, `"MAJOR.MINOR.PATCH"`, equal to the `SOIDC_VERSION_*` macros of
/// the header it was built with. Static: do not free it. Thread-safe.
#[no_mangle]
pub extern "C" fn soidc_version() -> *const c_char {
    VERSION.as_ptr()
}

/// Receives diagnostics: `level` is one of `SOIDC_LOG_ERROR` (1) ... `SOIDC_LOG_TRACE` (5),
/// `message` a NUL-terminated UTF-8 string valid only during the call. Messages never
/// contain secrets (client secrets, passwords, tokens, codes).
///
/// It may be called from any thread that calls into soidc, concurrently; it must be
/// thread-safe and must not unwind (no C++ exception, no `longjmp`) through soidc.
/// soidc holds none of its locks while a callback runs, so a callback may call any soidc
/// function (a decode, `soidc_client_provider_keys`, even `soidc_set_log_callback`);
/// such a nested call logs to the same callbacks.
pub type soidc_log_callback =
    Option<unsafe extern "C" fn(level: c_int, message: *const c_char, user_data: *mut c_void)>;

struct CallbackTarget {
    cb: unsafe extern "C" fn(c_int, *const c_char, *mut c_void),
    user_data: *mut c_void,
}

// SAFETY: the caller of `soidc_set_log_callback` promises that the callback and its
// user data may be used from any thread (documented on `soidc_log_callback`).
unsafe impl Send for CallbackTarget {}
unsafe impl Sync for CallbackTarget {}

/// Wraps a C log callback into a core log sink.
pub(crate) fn make_sink(cb: unsafe extern "C" fn(c_int, *const c_char, *mut c_void), user_data: *mut c_void) -> log::Sink {
    let target = CallbackTarget { cb, user_data };
    Arc::new(move |level: Level, message: &str| target.deliver(level, message))
}

impl CallbackTarget {
    fn deliver(&self, level: Level, message: &str) {
        let text = CString::new(message.replace('\0', "\u{FFFD}")).unwrap_or_default();
        // SAFETY: the callback contract on `soidc_log_callback`.
        unsafe { (self.cb)(level as c_int, text.as_ptr(), self.user_data) };
    }
}

/// Installs a process-wide log callback (NULL turns logging off). Messages above
/// `max_level` (1 error ... 5 trace) are not even formatted, so logging costs nothing
/// when off. soidc never prints to stdout or stderr.
///
/// `user_data` is passed to every call of `cb`. Lifetime rule: every `user_data` ever
/// installed here must stay valid for the rest of the process (the library is never
/// unloaded: it is linked with `-z nodelete`), because replacing the callback while other
/// threads log is safe but a message already being delivered may still reach the previous
/// callback and its `user_data`. Install one long-lived callback at start-up; use
/// `soidc_client_set_log_callback` for per-request or per-module context.
#[no_mangle]
pub unsafe extern "C" fn soidc_set_log_callback(cb: soidc_log_callback, max_level: c_int, user_data: *mut c_void) {
    let _ = std::panic::catch_unwind(|| {
        let Some(cb) = cb else {
            log::set_sink(None, 0);
            return;
        };
        log::set_sink(Some(make_sink(cb, user_data)), max_level.clamp(0, 5) as u8);
    });
}
