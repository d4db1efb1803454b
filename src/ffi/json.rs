//! JSON helpers for C callers: read one value of a result document by an RFC 6901
//! JSON pointer, and quote a string for an options document, so that no C caller
//! writes a JSON parser or builds JSON with `snprintf` from unquoted input.
//!
//! The logic is in `core::json_helpers`; this file only converts pointers. Unlike the
//! OIDC functions these return no error document: a status says what went wrong.

use crate::core::json_helpers;
use crate::core::Error;
use crate::ffi::boundary::{self, arg_str};
use crate::ffi::status::*;
use std::ffi::CString;
use std::os::raw::{c_char, c_int};
use std::ptr;

/// Runs `read` on the document and pointer inside the boundary (panics caught, NULL
/// and invalid UTF-8 refused) and returns its status and, on success, its value.
///
/// # Safety
/// `json` and `pointer` are NULL or NUL-terminated strings valid for the call;
/// `out_is_null` says whether the caller's out-pointer is NULL.
unsafe fn read_with<T>(
    json: *const c_char,
    pointer: *const c_char,
    out_is_null: bool,
    read: impl FnOnce(&str, &str) -> Result<T, Error>,
) -> (soidc_status, Option<T>) {
    let mut value = None;
    // NULL: no error document is wanted (these helpers have none).
    let status = boundary::call(ptr::null_mut(), || {
        // SAFETY: the caller's contract for `json` and `pointer`.
        let json = unsafe { arg_str(json, "json") }?;
        // SAFETY: as above.
        let pointer = unsafe { arg_str(pointer, "pointer") }?;
        if out_is_null {
            return Err(Error::invalid_argument("out_value is NULL"));
        }
        value = Some(read(json, pointer)?);
        Ok(None)
    });
    (status, value)
}

/// Hands `s` to C through `out`; `s` has no NUL (checked by the core or impossible).
///
/// # Safety
/// `out` is valid for one pointer-sized write.
unsafe fn put_string(out: *mut *mut c_char, s: String) -> soidc_status {
    match CString::new(s) {
        Ok(c) => {
            // SAFETY: the caller's contract for `out`.
            unsafe { *out = c.into_raw() };
            SOIDC_OK
        }
        Err(_) => SOIDC_ERR_INVALID_ARGUMENT,
    }
}

/// Reads the string a JSON pointer refers to in a JSON document, unescaped.
///
/// - `json`: required, a NUL-terminated UTF-8 JSON text (any document soidc returns, or
///   the caller's own). It is parsed whole on every call, strictly: malformed JSON,
///   trailing characters, a member name that appears twice in one object (at any depth)
///   and nesting deeper than 64 levels are refused.
/// - `pointer`: required, an RFC 6901 JSON pointer: `""` is the whole document,
///   otherwise `/` before each step, a member name or an array index (`0`, `1`, ...),
///   with `~1` for a `/` and `~0` for a `~` inside a name. Examples: `"/sub"`,
///   `"/id_token_claims/email"`, `"/address/street_address"`, `"/groups/0"`, `"/a~1b"` (the
///   member `a/b`).
/// - `out_value`: required; set to NULL on entry, then receives a copy of the string,
///   to be freed with `soidc_string_free` (never `free()`).
///
/// Returns `SOIDC_OK`; `SOIDC_ERR_NOT_FOUND` when the pointer refers to no value (an
/// absent member, an index past the end of an array or `-`, a name applied to an array,
/// or a step into a string, number, boolean or null); `SOIDC_ERR_INVALID_ARGUMENT` for
/// a NULL argument, invalid UTF-8, a document refused as above, a pointer of bad syntax
/// (not empty and not starting with `/`, or a `~` not followed by `0` or `1`), a value
/// that is not a string (`null` included), or a string containing U+0000 (which a C
/// string cannot hold); `SOIDC_ERR_INTERNAL` for a bug. No error document is produced.
/// No network access; thread-safe.
#[no_mangle]
pub unsafe extern "C" fn soidc_json_get_string(
    json: *const c_char,
    pointer: *const c_char,
    out_value: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: `out_value` is NULL or writable, as documented.
    unsafe { boundary::clear(out_value) };
    // SAFETY: the documented contract for `json` and `pointer`.
    match unsafe { read_with(json, pointer, out_value.is_null(), json_helpers::get_string) } {
        // SAFETY: `read_with` succeeds only for a non-NULL `out_value`.
        (SOIDC_OK, Some(s)) => unsafe { put_string(out_value, s) },
        (status, _) => status,
    }
}

/// Reads the integer a JSON pointer refers to in a JSON document.
///
/// `json` and `pointer` as for `soidc_json_get_string`. `out_value` is required and is
/// written only on success: on failure it keeps what the caller put there, so a default
/// may be preset.
///
/// The value must be a JSON number written without fraction or exponent, within the
/// range of `int64_t` (`exp`, `iat`, `expires_in`, `http_status`, ...); `1.5`, `1e3`, a
/// number beyond the range and every other type are `SOIDC_ERR_INVALID_ARGUMENT`.
/// Statuses otherwise as for `soidc_json_get_string` (`SOIDC_ERR_NOT_FOUND` when absent).
/// No network access; thread-safe.
#[no_mangle]
pub unsafe extern "C" fn soidc_json_get_int64(
    json: *const c_char,
    pointer: *const c_char,
    out_value: *mut i64,
) -> soidc_status {
    // SAFETY: the documented contract for `json` and `pointer`.
    match unsafe { read_with(json, pointer, out_value.is_null(), json_helpers::get_i64) } {
        (SOIDC_OK, Some(v)) => {
            // SAFETY: `read_with` succeeds only for a non-NULL `out_value`, which points to
            // an `int64_t` as documented.
            unsafe { *out_value = v };
            SOIDC_OK
        }
        (status, _) => status,
    }
}

/// Reads the boolean a JSON pointer refers to in a JSON document: `*out_value` becomes 1
/// for `true` and 0 for `false`.
///
/// `json` and `pointer` as for `soidc_json_get_string`. `out_value` is required and is
/// written only on success (a default may be preset). Only the JSON literals `true` and
/// `false` are booleans: `0`, `1`, `"true"` and `null` are `SOIDC_ERR_INVALID_ARGUMENT`.
/// Statuses otherwise as for `soidc_json_get_string` (`SOIDC_ERR_NOT_FOUND` when absent).
/// No network access; thread-safe.
#[no_mangle]
pub unsafe extern "C" fn soidc_json_get_bool(
    json: *const c_char,
    pointer: *const c_char,
    out_value: *mut c_int,
) -> soidc_status {
    // SAFETY: the documented contract for `json` and `pointer`.
    match unsafe { read_with(json, pointer, out_value.is_null(), json_helpers::get_bool) } {
        (SOIDC_OK, Some(v)) => {
            // SAFETY: `read_with` succeeds only for a non-NULL `out_value`, which points to
            // an `int` as documented.
            unsafe { *out_value = c_int::from(v) };
            SOIDC_OK
        }
        (status, _) => status,
    }
}

/// Reads the JSON text of the value a JSON pointer refers to, of any type: an array
/// (`"/groups"`), an object (`"/address"`), a string with its quotes and escapes, a
/// number exactly as written, `true`, `false` or `null`.
///
/// The text is copied from `json` as it is there (member order, spacing inside the value
/// and escapes kept; no whitespace around it), so it may be passed on, stored, or read
/// again with these functions (`""` as the pointer then means the value itself).
///
/// `json`, `pointer` and `out_value` as for `soidc_json_get_string`: `out_value` is set
/// to NULL on entry and receives a string to free with `soidc_string_free`. Returns
/// `SOIDC_OK`, `SOIDC_ERR_NOT_FOUND` when the pointer refers to no value, or
/// `SOIDC_ERR_INVALID_ARGUMENT` (NULL argument, invalid UTF-8, document refused, bad
/// pointer syntax); never a type error. No network access; thread-safe.
#[no_mangle]
pub unsafe extern "C" fn soidc_json_get_raw(
    json: *const c_char,
    pointer: *const c_char,
    out_value: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: `out_value` is NULL or writable, as documented.
    unsafe { boundary::clear(out_value) };
    let raw = |json: &str, pointer: &str| json_helpers::lookup_raw(json, pointer).map(str::to_owned);
    // SAFETY: the documented contract for `json` and `pointer`.
    match unsafe { read_with(json, pointer, out_value.is_null(), raw) } {
        // SAFETY: `read_with` succeeds only for a non-NULL `out_value`; JSON text taken
        // from a C string holds no NUL.
        (SOIDC_OK, Some(s)) => unsafe { put_string(out_value, s) },
        (status, _) => status,
    }
}

/// Quotes a string as a JSON string literal, quotes included, to put any value into an
/// options document safely: `"` and `\` are escaped, and so is every control character
/// (U+0001 to U+001F: `\n`, `\t`, ... or `\u00XX`, as RFC 8259 §7 requires); everything
/// else, non-ASCII included, is copied as UTF-8.
///
/// Build options with it instead of pasting a value between quotes: a `login_hint` of
/// `x","redirect_uri":"https://evil` then stays one string value instead of adding a
/// member.
///
/// ```c
/// char *hint = soidc_json_quote(user_input);
/// if (hint == NULL) { ... }       // NULL or invalid UTF-8
/// snprintf(opts, sizeof opts, "{\"login_hint\":%s}", hint);
/// soidc_string_free(hint);
/// ```
///
/// - `s`: a NUL-terminated UTF-8 string.
///
/// Returns the literal (for `ab"c` the 6 characters `"ab\"c"`), to be freed with
/// `soidc_string_free`; NULL when `s` is NULL or not valid UTF-8. No network access;
/// thread-safe.
#[no_mangle]
pub unsafe extern "C" fn soidc_json_quote(s: *const c_char) -> *mut c_char {
    let mut out: *mut c_char = ptr::null_mut();
    let status = boundary::call(ptr::null_mut(), || {
        // SAFETY: `s` is NULL or a NUL-terminated string, as documented.
        let s = unsafe { arg_str(s, "s") }?;
        // SAFETY: `out` is a local; the quoted text of a C string holds no NUL.
        if unsafe { put_string(&mut out, json_helpers::quote(s)) } != SOIDC_OK {
            return Err(Error::internal("a quoted string contained a NUL byte"));
        }
        Ok(None)
    });
    if status != SOIDC_OK && !out.is_null() {
        // SAFETY: `out` came from `CString::into_raw` above.
        unsafe { crate::ffi::util::soidc_string_free(out) };
        out = ptr::null_mut();
    }
    out
}
