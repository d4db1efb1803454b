//! JSON helpers for C callers: read one value of a result document by an RFC 6901
//! JSON pointer, and quote a string for an options document, so that no C caller
//! writes a JSON parser or builds JSON with `snprintf` from unquoted input.
//!
//! The logic is in `core::json_helpers`; this file only converts pointers. Unlike the
//! OIDC functions these return no error document: a status says what went wrong.

use crate::core::json_helpers;
use crate::core::Error;
use crate::ffi::boundary::{self, arg_str, Out};
use crate::ffi::status::*;
use std::ffi::CString;
use std::os::raw::{c_char, c_int};
use std::ptr;

/// Runs `read` on the checked document and pointer inside the boundary (panics caught)
/// and, on success only, stores its value in `out`. A NULL `out` is
/// `SOIDC_ERR_INVALID_ARGUMENT` and nothing runs (these helpers have no error document).
fn read_into<T>(
    json: Result<&str, Error>,
    pointer: Result<&str, Error>,
    mut out: Out<'_, T>,
    read: impl FnOnce(&str, &str) -> Result<T, Error>,
) -> soidc_status {
    if out.is_null() {
        return SOIDC_ERR_INVALID_ARGUMENT;
    }
    let mut value = None;
    let status = boundary::call(Out::none(), || {
        value = Some(read(json?, pointer?)?);
        Ok(None)
    });
    if let Some(value) = value {
        out.set(value);
    }
    status
}

/// A string for C, to be freed with `soidc_string_free`; one containing a NUL (which a C
/// string cannot hold) is `SOIDC_ERR_INVALID_ARGUMENT`.
fn c_string(s: String) -> Result<*mut c_char, Error> {
    CString::new(s)
        .map(CString::into_raw)
        .map_err(|_| Error::invalid_argument("the string contains U+0000, which a C string cannot hold"))
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
    // SAFETY: this function's contract: `json` and `pointer` NULL or NUL-terminated and
    // unchanged during the call, `out_value` NULL or writable.
    let (json, pointer, mut out_value) =
        unsafe { (arg_str(json, "json"), arg_str(pointer, "pointer"), Out::from_raw(out_value)) };
    out_value.clear();
    read_into(json, pointer, out_value, |json, pointer| c_string(json_helpers::get_string(json, pointer)?))
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
    // SAFETY: this function's contract: `json` and `pointer` NULL or NUL-terminated and
    // unchanged during the call, `out_value` NULL or writable.
    let (json, pointer, out_value) =
        unsafe { (arg_str(json, "json"), arg_str(pointer, "pointer"), Out::from_raw(out_value)) };
    read_into(json, pointer, out_value, json_helpers::get_i64)
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
    // SAFETY: this function's contract: `json` and `pointer` NULL or NUL-terminated and
    // unchanged during the call, `out_value` NULL or writable.
    let (json, pointer, out_value) =
        unsafe { (arg_str(json, "json"), arg_str(pointer, "pointer"), Out::from_raw(out_value)) };
    read_into(json, pointer, out_value, |json, pointer| json_helpers::get_bool(json, pointer).map(c_int::from))
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
    // SAFETY: this function's contract: `json` and `pointer` NULL or NUL-terminated and
    // unchanged during the call, `out_value` NULL or writable.
    let (json, pointer, mut out_value) =
        unsafe { (arg_str(json, "json"), arg_str(pointer, "pointer"), Out::from_raw(out_value)) };
    out_value.clear();
    read_into(json, pointer, out_value, |json, pointer| c_string(json_helpers::lookup_raw(json, pointer)?.to_owned()))
}

/// Reads a claim by a claim path (the paths of the `require_claims` option of the decode
/// functions) and gives its JSON text: the way to read nested claims such as
/// `realm_access.roles` or `https://example\.com/claims.tenant` from the claims a decode
/// returned.
///
/// - `claims_json`: required, a NUL-terminated UTF-8 JSON object (the claims document of
///   `soidc_decode_id_token`, `soidc_decode_access_token`, `id_token_claims`, UserInfo,
///   or the caller's own), read as strictly as by `soidc_json_get_string` (malformed JSON,
///   trailing characters, a repeated member name, nesting deeper than 64 levels are
///   refused; the document must be an object).
/// - `path`: required. A dotted path: names separated by `.`, where `\.` is a dot inside
///   a name and `\\` a backslash (`realm_access.roles`, `https://example\.com/claims.tenant`;
///   any other `\` and an empty name are refused); or, when it starts with `/`, an RFC 6901
///   JSON pointer (`/realm_access/roles`, `/groups/0`, `~1` for `/` and `~0` for `~`). A
///   name applied to an array is applied to each of its elements and the values found are
///   collected into an array: `orgs.id` over `{"orgs":[{"id":1},{"id":2},{}]}` gives
///   `[1,2]`; in a JSON pointer an array index selects that element instead. At most 512
///   bytes and 32 names.
/// - `out_value`: required; set to NULL on entry, then receives the value's JSON text
///   (compact: a string with its quotes, a number, `true`, `false`, `null`, an array or an
///   object; read it further with the `soidc_json_get_*` functions and the pointer `""`),
///   to be freed with `soidc_string_free`.
///
/// Returns `SOIDC_OK`; `SOIDC_ERR_NOT_FOUND` when the path finds nothing (an absent member,
/// a step into a string, number, boolean or null, or an array where no element has the
/// name); `SOIDC_ERR_INVALID_ARGUMENT` for a NULL argument, invalid UTF-8, a document
/// refused as above, or a bad path; `SOIDC_ERR_INTERNAL` for a bug. No error document is
/// produced. No network access; thread-safe.
#[no_mangle]
pub unsafe extern "C" fn soidc_claims_get(
    claims_json: *const c_char,
    path: *const c_char,
    out_value: *mut *mut c_char,
) -> soidc_status {
    // SAFETY: this function's contract: `claims_json` and `path` NULL or NUL-terminated
    // and unchanged during the call, `out_value` NULL or writable.
    let (json, path, mut out_value) =
        unsafe { (arg_str(claims_json, "claims_json"), arg_str(path, "path"), Out::from_raw(out_value)) };
    out_value.clear();
    read_into(json, path, out_value, |json, path| c_string(crate::core::claim_rules::claims_get(json, path)?))
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
    // SAFETY: this function's contract: `s` is NULL or NUL-terminated and unchanged during
    // the call.
    let s = unsafe { arg_str(s, "s") };
    let mut quoted = ptr::null_mut();
    boundary::call(Out::none(), || {
        quoted = c_string(json_helpers::quote(s?))?;
        Ok(None)
    });
    quoted
}
