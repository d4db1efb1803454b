//! The one boundary helper every export goes through, and the pointer helpers
//! it uses. Nothing here ever dereferences a pointer before checking it for
//! NULL, and no panic leaves this module.

use crate::core::{Error, ErrorKind};
use crate::ffi::status::*;
use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// How deep this thread is inside soidc exports (they do not nest today).
    static INSIDE: Cell<u32> = const { Cell::new(0) };
    /// Set by the test-only hook: this thread's next export panics inside the boundary.
    static PANIC_NEXT: Cell<bool> = const { Cell::new(false) };
}

/// Makes the calling thread's next soidc call panic inside the boundary, to prove
/// that a panic comes back as `SOIDC_ERR_INTERNAL` and the library stays usable.
#[cfg(feature = "test-hooks")]
pub fn force_panic_on_next_call() {
    PANIC_NEXT.with(|p| p.set(true));
}

/// Rust's default panic hook prints to stderr. soidc must never print into its
/// host, so a hook is chained in once: a panic raised inside a soidc export goes
/// to the log callback instead; any other panic (a Rust host's own) reaches the
/// previous hook unchanged.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // try_with: a panic during thread-local teardown must not panic again here.
            if INSIDE.try_with(|d| d.get()).unwrap_or(0) > 0 {
                crate::log_at!(crate::core::log::Level::Error, "soidc internal error: {info}");
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `body` for an export that hands out a JSON document (or nothing).
///
/// `*out_json` (when `out_json` is not NULL) is set to NULL first; afterwards it
/// receives the result document on success or the error document on failure.
/// A panic inside `body` becomes `SOIDC_ERR_INTERNAL` with an error document.
pub(crate) fn call<F>(out_json: *mut *mut c_char, body: F) -> soidc_status
where
    F: FnOnce() -> Result<Option<String>, Error>,
{
    // SAFETY: the caller passes either NULL or a pointer to writable storage
    // for one `char *`, as every function's documentation requires.
    unsafe { clear(out_json) };
    install_panic_hook();
    // try_with, not with: called from a thread-local destructor after Rust's TLS is torn
    // down, `with` would panic outside catch_unwind (review U3).
    let _ = INSIDE.try_with(|d| d.set(d.get() + 1));
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        if PANIC_NEXT.try_with(|p| p.replace(false)).unwrap_or(false) {
            panic!("panic forced by the test hook");
        }
        body()
    }));
    let _ = INSIDE.try_with(|d| d.set(d.get().saturating_sub(1)));
    let outcome = outcome.unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(Error::internal(format!("internal error (a bug in soidc, please report it): {what}")))
    });
    match outcome {
        Ok(doc) => {
            if let Some(doc) = doc {
                // SAFETY: as above.
                unsafe { put(out_json, doc) };
            }
            SOIDC_OK
        }
        Err(e) => {
            // SAFETY: as above.
            unsafe { put(out_json, e.to_json()) };
            e.kind.code()
        }
    }
}

/// Sets `*out` to NULL if `out` is not NULL.
///
/// # Safety
/// `out` is NULL or valid for one pointer-sized write.
pub(crate) unsafe fn clear<T>(out: *mut *mut T) {
    if !out.is_null() {
        *out = std::ptr::null_mut();
    }
}

/// Hands a string to C through `out` (if not NULL). The caller frees it with
/// `soidc_string_free`.
///
/// # Safety
/// `out` is NULL or valid for one pointer-sized write.
pub(crate) unsafe fn put(out: *mut *mut c_char, s: String) {
    if out.is_null() {
        return;
    }
    // JSON documents never contain a raw NUL (serde_json escapes it); the
    // fallback only guards against a future mistake.
    let c = CString::new(s).unwrap_or_else(|_| {
        CString::new(r#"{"status":"internal","message":"document contained a NUL byte"}"#)
            .expect("literal has no NUL")
    });
    *out = c.into_raw();
}

/// A required string argument: NULL and invalid UTF-8 are `InvalidArgument`.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn arg_str<'a>(p: *const c_char, name: &str) -> Result<&'a str, Error> {
    if p.is_null() {
        return Err(Error::invalid_argument(format!("{name} is NULL")));
    }
    CStr::from_ptr(p)
        .to_str()
        .map_err(|e| Error::invalid_argument(format!("{name} is not valid UTF-8 (byte {})", e.valid_up_to())))
}

/// An optional string argument: NULL is `None`.
///
/// # Safety
/// As [`arg_str`].
pub(crate) unsafe fn opt_str<'a>(p: *const c_char, name: &str) -> Result<Option<&'a str>, Error> {
    if p.is_null() {
        Ok(None)
    } else {
        arg_str(p, name).map(Some)
    }
}

/// A required handle argument.
///
/// # Safety
/// `p` is NULL or a pointer obtained from this library and not yet freed.
pub(crate) unsafe fn arg_ref<'a, T>(p: *const T, name: &str) -> Result<&'a T, Error> {
    p.as_ref().ok_or_else(|| Error::invalid_argument(format!("{name} is NULL")))
}

/// Serialises a success document.
pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<Option<String>, Error> {
    serde_json::to_string(v)
        .map(Some)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("could not serialise the result: {e}")))
}
