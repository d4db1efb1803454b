//! Strings, status names, the version, and the log callback.

use crate::core::log::{self, Level};
use crate::core::ErrorKind;
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
        // SAFETY: by this function's contract `s` is a string soidc handed out
        // (`CString::into_raw`) and is freed only this once.
        drop(unsafe { CString::from_raw(s) });
    }
}

/// The lower-case name of a status code, as used in error documents' `status`
/// member (`"ok"`, `"invalid_argument"`, `"validation"`, ...); `"unknown"` for any
/// other value. The string is static: do not free it. Thread-safe.
#[no_mangle]
pub extern "C" fn soidc_status_name(status: soidc_status) -> *const c_char {
    let name = match ErrorKind::from_code(status) {
        Some(kind) => status_name(kind),
        None if status == SOIDC_OK => c"ok",
        None => c"unknown",
    };
    name.as_ptr()
}

/// Room for the longest status name and its NUL.
const STATUS_NAME_BYTES: usize = 32;

/// `ErrorKind::name` of each kind of `ErrorKind::ALL` (same index), NUL-padded: the names
/// exist once, in the core, and are copied here at compile time into static storage
/// that C may keep pointers to.
static STATUS_NAMES: [[u8; STATUS_NAME_BYTES]; ErrorKind::ALL.len()] = {
    let mut table = [[0; STATUS_NAME_BYTES]; ErrorKind::ALL.len()];
    let mut i = 0;
    while i < table.len() {
        let name = ErrorKind::ALL[i].name().as_bytes();
        assert!(name.len() < STATUS_NAME_BYTES, "a status name does not fit STATUS_NAME_BYTES");
        let mut j = 0;
        while j < name.len() {
            assert!(name[j] != 0, "a status name contains a NUL");
            table[i][j] = name[j];
            j += 1;
        }
        i += 1;
    }
    table
};

/// The name of `kind` as a static C string.
fn status_name(kind: ErrorKind) -> &'static CStr {
    ErrorKind::ALL
        .iter()
        .position(|k| *k == kind)
        .and_then(|i| CStr::from_bytes_until_nul(&STATUS_NAMES[i]).ok())
        .unwrap_or(c"unknown")
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

// SAFETY: `CallbackTarget` is only built by `log_target`, whose callers guarantee that
// the callback and its user data may be used from any thread (the contract documented
// on `soidc_log_callback`).
unsafe impl Send for CallbackTarget {}
// SAFETY: as for `Send`: that contract also allows calls from several threads at once.
unsafe impl Sync for CallbackTarget {}

/// Wraps a C log callback into a core log target (None for a NULL callback), delivering
/// messages up to `max_level` (clamped to 0 ... 5).
///
/// # Safety
/// `cb`, called with `user_data`, follows the `soidc_log_callback` contract: it may be
/// called from any thread, concurrently, for as long as the target is installed, and
/// does not unwind. The sink calls `cb` from safe code, so this is where that promise
/// is taken.
pub(crate) unsafe fn log_target(cb: soidc_log_callback, max_level: c_int, user_data: *mut c_void) -> Option<log::Target> {
    let cb = cb?;
    let target = CallbackTarget { cb, user_data };
    Some(log::Target {
        sink: Arc::new(move |level: Level, message: &str| target.deliver(level, message)),
        max_level: max_level.clamp(0, 5) as u8,
    })
}

impl CallbackTarget {
    fn deliver(&self, level: Level, message: &str) {
        let text = CString::new(message.replace('\0', "\u{FFFD}")).unwrap_or_default();
        // SAFETY: `log_target`'s contract: `cb` may be called with `user_data` from this
        // thread now; `text` is NUL-terminated and outlives the call.
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
        // SAFETY: `cb` with `user_data` follows the `soidc_log_callback` rules and stays
        // usable for the rest of the process (this function's contract).
        match unsafe { log_target(cb, max_level, user_data) } {
            Some(target) => log::set_sink(Some(target.sink), target.max_level),
            None => log::set_sink(None, 0),
        }
    });
}
