//! The one boundary helper every export goes through, and the pointer helpers
//! it uses. Nothing here ever dereferences a pointer before checking it for
//! NULL, and no panic leaves this module.

use crate::core::{Error, ErrorKind};
use crate::ffi::status::*;
use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::cell::Cell;
use std::mem::MaybeUninit;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// How deep this thread is inside soidc exports (they do not nest today).
    static INSIDE: Cell<u32> = const { Cell::new(0) };
}

#[cfg(feature = "test-hooks")]
thread_local! {
    /// Set by the test-only hook: this thread's next export panics inside the boundary
    /// (compiled out of production builds, which then read no flag per call: review U4).
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

/// Where an export hands out a value: its `char **out_json` / `out_url`,
/// `soidc_client **out_client` or other out-argument, as a safe type, so that the
/// helpers that write through it ([`call`], `create`) are safe functions and the one
/// unsafe step (trusting the caller's pointer) happens once, in the export, under its
/// `SAFETY` comment.
///
/// The slot is `MaybeUninit` because a C caller may pass uninitialised storage
/// (`char *doc; f(..., &doc);`): soidc only ever writes it, never reads it.
pub(crate) struct Out<'a, T>(Option<&'a mut MaybeUninit<T>>);

/// The out-pointer of an export that hands out a string (`char **`).
pub(crate) type OutString<'a> = Out<'a, *mut c_char>;

impl<'a, T> Out<'a, T> {
    /// Takes the caller's out-pointer.
    ///
    /// # Safety
    /// `p` is NULL or valid for writing one `T` (aligned, and not accessed by anything
    /// else) for `'a`: every export's documented contract for its out-pointers.
    pub(crate) unsafe fn from_raw(p: *mut T) -> Self {
        // SAFETY: non-NULL `p` is valid for writes for 'a (this function's contract);
        // MaybeUninit has the layout of `T` and asks nothing of the old content.
        Out(unsafe { p.cast::<MaybeUninit<T>>().as_mut() })
    }

    /// No out-pointer: for an export that hands out nothing.
    pub(crate) fn none() -> Self {
        Out(None)
    }

    /// Whether the caller passed NULL (does not want the value).
    pub(crate) fn is_null(&self) -> bool {
        self.0.is_none()
    }

    /// Stores `value` in the caller's slot (nothing when NULL was passed).
    pub(crate) fn set(&mut self, value: T) {
        if let Some(slot) = self.0.as_mut() {
            slot.write(value);
        }
    }
}

impl<T> Out<'_, *mut T> {
    /// Sets the caller's pointer to NULL (done on entry, so cleanup code may always free it).
    pub(crate) fn clear(&mut self) {
        self.set(std::ptr::null_mut());
    }
}

impl OutString<'_> {
    /// Hands `s` to C (if the caller wants it); the caller frees it with
    /// `soidc_string_free`.
    fn put(&mut self, s: String) {
        if self.is_null() {
            return;
        }
        // JSON documents never contain a raw NUL (serde_json escapes it); the
        // fallback only guards against a future mistake.
        let c = CString::new(s).unwrap_or_else(|_| {
            CString::new(r#"{"status":"internal","message":"document contained a NUL byte"}"#)
                .expect("literal has no NUL")
        });
        self.set(c.into_raw());
    }
}

/// Runs `body` for an export that hands out a JSON document (or nothing).
///
/// `out` is set to NULL first; afterwards it receives the result document on success
/// or the error document on failure. A panic inside `body` becomes
/// `SOIDC_ERR_INTERNAL` with an error document.
pub(crate) fn call<F>(mut out: OutString<'_>, body: F) -> soidc_status
where
    F: FnOnce() -> Result<Option<String>, Error>,
{
    out.clear();
    install_panic_hook();
    // try_with, not with: called from a thread-local destructor after Rust's TLS is torn
    // down, `with` would panic outside catch_unwind (review U3).
    let _ = INSIDE.try_with(|d| d.set(d.get() + 1));
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        #[cfg(feature = "test-hooks")]
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
                out.put(doc);
            }
            SOIDC_OK
        }
        Err(e) => {
            out.put(e.to_json());
            e.kind.code()
        }
    }
}

/// [`call`] for the exports whose only output is the document, where `out_json` (or
/// `out_url`) is required: NULL is `SOIDC_ERR_INVALID_ARGUMENT` and nothing runs. There
/// is nowhere to put an error document then; the status says it all.
pub(crate) fn call_with_required_out<F>(out: OutString<'_>, body: F) -> soidc_status
where
    F: FnOnce() -> Result<Option<String>, Error>,
{
    if out.is_null() {
        return SOIDC_ERR_INVALID_ARGUMENT;
    }
    call(out, body)
}

/// A required string argument: NULL and invalid UTF-8 are `InvalidArgument`.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn arg_str<'a>(p: *const c_char, name: &str) -> Result<&'a str, Error> {
    if p.is_null() {
        return Err(Error::invalid_argument(format!("{name} is NULL")));
    }
    // SAFETY: `p` is not NULL, so by this function's contract it points to a
    // NUL-terminated string that outlives 'a.
    unsafe { CStr::from_ptr(p) }
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
        // SAFETY: this function's contract is `arg_str`'s.
        unsafe { arg_str(p, name) }.map(Some)
    }
}

/// A required handle argument.
///
/// # Safety
/// `p` is NULL or a pointer obtained from this library and not yet freed.
pub(crate) unsafe fn arg_ref<'a, T>(p: *const T, name: &str) -> Result<&'a T, Error> {
    // SAFETY: `p` is NULL (None) or points to a live `T` (this function's contract).
    unsafe { p.as_ref() }.ok_or_else(|| Error::invalid_argument(format!("{name} is NULL")))
}

/// Serialises a success document.
pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<Option<String>, Error> {
    serde_json::to_string(v)
        .map(Some)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("could not serialise the result: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes the string `call` handed out through `slot` back into Rust.
    fn take(slot: MaybeUninit<*mut c_char>) -> String {
        // SAFETY: `call` has written the slot (cleared, then a string from `put`).
        let p = unsafe { slot.assume_init() };
        assert!(!p.is_null());
        // SAFETY: `p` came from `CString::into_raw` in `put` and is freed here once.
        unsafe { CString::from_raw(p) }.into_string().unwrap()
    }

    #[test]
    fn call_writes_into_uninitialised_storage() {
        let mut slot = MaybeUninit::<*mut c_char>::uninit();
        // SAFETY: `slot` is writable and used by nothing else during the call.
        let out = unsafe { OutString::from_raw(slot.as_mut_ptr()) };
        assert_eq!(call(out, || Ok(Some("{}".to_owned()))), SOIDC_OK);
        assert_eq!(take(slot), "{}");
    }

    #[test]
    fn call_clears_the_out_pointer_when_there_is_no_document() {
        let mut p: *mut c_char = c"stale".as_ptr().cast_mut();
        // SAFETY: `p` is writable and used by nothing else during the call.
        let out = unsafe { OutString::from_raw(&mut p) };
        assert_eq!(call(out, || Ok(None)), SOIDC_OK);
        assert!(p.is_null());
    }

    #[test]
    fn an_error_becomes_its_status_and_document() {
        let mut slot = MaybeUninit::<*mut c_char>::uninit();
        // SAFETY: as above.
        let out = unsafe { OutString::from_raw(slot.as_mut_ptr()) };
        let status = call(out, || Err(Error::validation("aud mismatch")));
        assert_eq!(status, SOIDC_ERR_VALIDATION);
        let doc: serde_json::Value = serde_json::from_str(&take(slot)).unwrap();
        assert_eq!(doc, serde_json::json!({"status": "validation", "message": "aud mismatch"}));
    }

    #[test]
    fn a_required_out_pointer_that_is_null_runs_nothing() {
        let mut ran = false;
        let status = call_with_required_out(Out::none(), || {
            ran = true;
            Ok(None)
        });
        assert_eq!(status, SOIDC_ERR_INVALID_ARGUMENT);
        assert!(!ran);
    }

    #[test]
    fn arguments_are_checked_for_null_and_utf8() {
        // SAFETY: NULL, and NUL-terminated literals.
        unsafe {
            assert!(arg_str(std::ptr::null(), "x").unwrap_err().message.contains("x is NULL"));
            assert!(arg_str(c"\xff".as_ptr(), "x").unwrap_err().message.contains("not valid UTF-8"));
            assert_eq!(arg_str(c"ok".as_ptr(), "x").unwrap(), "ok");
            assert_eq!(opt_str(std::ptr::null(), "x").unwrap(), None);
            assert!(arg_ref::<u8>(std::ptr::null(), "client").is_err());
        }
    }
}
