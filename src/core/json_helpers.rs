//! What the C JSON helpers (`soidc_json_*`) need, so that C callers never write a JSON
//! parser or build a JSON string by hand: reading one value of a document by an
//! RFC 6901 JSON pointer, and quoting a string as a JSON string literal.
//!
//! Documents are read with the strict reader ([`crate::core::json`]): malformed JSON,
//! trailing characters, duplicate member names at any depth and nesting deeper than
//! [`crate::core::json::MAX_DEPTH`] are refused before any lookup, so a document whose
//! readers could disagree is never answered.

use crate::core::error::quote_untrusted;
use crate::core::{Error, ErrorKind};
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::BTreeMap;

/// Checks the syntax of an RFC 6901 JSON pointer and returns what follows its first `/`
/// (`None` for `""`, the whole document).
///
/// `""` is the whole document; any other pointer starts with `/`. In a token `~1`
/// stands for `/` and `~0` for `~`; any other `~` is a syntax error, as is a pointer
/// not starting with `/`. Nothing is allocated, so a huge pointer costs one scan.
fn check_pointer(pointer: &str) -> Result<Option<&str>, Error> {
    if pointer.is_empty() {
        return Ok(None);
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(Error::invalid_argument(format!(
            "JSON pointer {} must be empty (the whole document) or start with '/'",
            quote_untrusted(pointer)
        )));
    };
    let bytes = rest.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'~' && !matches!(bytes.get(i + 1), Some(b'0' | b'1')) {
            return Err(Error::invalid_argument(format!(
                "JSON pointer {}: '~' must be followed by '0' or '1'",
                quote_untrusted(pointer)
            )));
        }
    }
    Ok(Some(rest))
}

/// The reference tokens of a checked pointer, unescaped (`~1` to `/`, then `~0` to `~`,
/// so `~01` is `~1`), one at a time.
fn tokens(rest: Option<&str>) -> impl Iterator<Item = String> + '_ {
    rest.into_iter().flat_map(|r| r.split('/')).map(|t| t.replace("~1", "/").replace("~0", "~"))
}

/// Splits an RFC 6901 JSON pointer into its unescaped reference tokens (see
/// [`check_pointer`] for the syntax).
pub fn parse_pointer(pointer: &str) -> Result<Vec<String>, Error> {
    Ok(tokens(check_pointer(pointer)?).collect())
}

/// The array index a reference token denotes: RFC 6901 §4 allows `0` or digits without
/// a leading zero. `-` (the element after the last) and anything else denote no element.
fn array_index(token: &str) -> Option<usize> {
    let digits = token.bytes().all(|b| b.is_ascii_digit());
    if token.is_empty() || !digits || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

fn not_found(pointer: &str) -> Error {
    Error::new(ErrorKind::NotFound, format!("the document has no value at {}", quote_untrusted(pointer)))
}

/// The exact text of the value `pointer` refers to in `json`, as it appears in `json`
/// (no surrounding whitespace).
///
/// Errors: `InvalidArgument` for a document the strict reader refuses or a pointer of
/// bad syntax; `NotFound` when the pointer refers to no value: an absent member, an
/// array index past the end, `-`, a token that is not an index applied to an array, or
/// any token applied to a string, number, boolean or null.
pub fn lookup_raw<'a>(json: &'a str, pointer: &str) -> Result<&'a str, Error> {
    let rest = check_pointer(pointer)?;
    // Validation first: the steps below use serde_json's own reader, which would keep
    // the last of two duplicate members.
    crate::core::json::parse_str(json).map_err(|e| Error::invalid_argument(format!("the JSON document is invalid: {e}")))?;
    let whole: &RawValue = serde_json::from_str(json).map_err(|e| Error::invalid_argument(format!("the JSON document is invalid: {e}")))?;
    let mut current: &'a str = whole.get();
    // Token by token, stopping at the first that refers to nothing.
    for token in tokens(rest) {
        current = step(current, &token).ok_or_else(|| not_found(pointer))?;
    }
    Ok(current)
}

/// One step down: the member `token` of an object, or the element `token` of an array.
/// `text` is one value already validated by the strict reader.
fn step<'a>(text: &'a str, token: &str) -> Option<&'a str> {
    match text.as_bytes().first()? {
        b'{' => {
            let members: BTreeMap<String, &'a RawValue> = serde_json::from_str(text).ok()?;
            members.get(token).map(|v| v.get())
        }
        b'[' => {
            let index = array_index(token)?;
            // Skipping elements with IgnoredAny would be cheaper, but arrays in OIDC
            // documents are short; a borrowed RawValue per element costs no copy.
            let elements: Vec<&'a RawValue> = serde_json::from_str(text).ok()?;
            elements.get(index).map(|v| v.get())
        }
        _ => None,
    }
}

/// The value `pointer` refers to, parsed.
pub fn lookup(json: &str, pointer: &str) -> Result<Value, Error> {
    // One strict parse, then the steps in the parsed value: the same value as
    // `lookup_raw` finds (same reader, same steps), without reading the document three
    // more times (an nginx worker reads three members of every refusal's error
    // document: 5.3 us for them that way, more than the refusal itself).
    let rest = check_pointer(pointer)?;
    let mut current = crate::core::json::parse_str(json)
        .map_err(|e| Error::invalid_argument(format!("the JSON document is invalid: {e}")))?;
    for token in tokens(rest) {
        current = match current {
            Value::Object(mut members) => members.remove(&token),
            Value::Array(mut elements) => array_index(&token).filter(|i| *i < elements.len()).map(|i| elements.swap_remove(i)),
            _ => None,
        }
        .ok_or_else(|| not_found(pointer))?;
    }
    Ok(current)
}

fn wrong_type(pointer: &str, expected: &str, found: &Value) -> Error {
    Error::invalid_argument(format!(
        "the value at {} is {}, not {expected}",
        quote_untrusted(pointer),
        crate::core::jose::json_type(found)
    ))
}

/// The string `pointer` refers to (unescaped). A string containing U+0000 cannot be
/// handed to C as a NUL-terminated string and is `InvalidArgument`, as is any other type.
pub fn get_string(json: &str, pointer: &str) -> Result<String, Error> {
    match lookup(json, pointer)? {
        Value::String(s) if s.contains('\0') => Err(Error::invalid_argument(format!(
            "the string at {} contains a NUL character",
            quote_untrusted(pointer)
        ))),
        Value::String(s) => Ok(s),
        other => Err(wrong_type(pointer, "a string", &other)),
    }
}

/// The integer `pointer` refers to: a JSON number without fraction or exponent, within
/// the range of `i64`. Anything else (`1.5`, `1e3`, `2^63`, a string) is `InvalidArgument`.
pub fn get_i64(json: &str, pointer: &str) -> Result<i64, Error> {
    match lookup(json, pointer)? {
        Value::Number(n) => n.as_i64().ok_or_else(|| {
            Error::invalid_argument(format!("the number at {} is not an integer in the range of int64_t", quote_untrusted(pointer)))
        }),
        other => Err(wrong_type(pointer, "an integer", &other)),
    }
}

/// The boolean `pointer` refers to; anything else (including `0`, `1`, `"true"`) is
/// `InvalidArgument`.
pub fn get_bool(json: &str, pointer: &str) -> Result<bool, Error> {
    match lookup(json, pointer)? {
        Value::Bool(b) => Ok(b),
        other => Err(wrong_type(pointer, "a boolean", &other)),
    }
}

/// `s` as a JSON string literal, quotes included (RFC 8259 §7): `"` and `\` are escaped,
/// and so is every control character (U+0000 to U+001F, as `\n`, `\t`, ... or `\u00XX`).
/// Everything else, non-ASCII included, is copied as UTF-8.
pub fn quote(s: &str) -> String {
    // serde_json escapes exactly the characters RFC 8259 requires; a `&str` always
    // serialises.
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{
        "sub": "alice",
        "exp": 1764160000,
        "email_verified": true,
        "address": {"country": "NL", "street address": "Dam 1"},
        "groups": ["admin", "ops", {"nested": [10, 20]}],
        "a/b": 1, "m~n": 2, "~1": 3, "": 4,
        "neg": -9223372036854775808, "big": 9223372036854775808, "f": 1.5, "e": 1e3,
        "nul": "a\u0000b", "esc": "q\"b\\n\n\u00e9\ud83d\ude00", "null": null
    }"#;

    fn kind<T: std::fmt::Debug>(r: Result<T, Error>) -> ErrorKind {
        r.expect_err("an error").kind
    }

    #[test]
    fn pointer_syntax() {
        assert_eq!(parse_pointer("").unwrap(), Vec::<String>::new());
        assert_eq!(parse_pointer("/").unwrap(), vec![String::new()]);
        assert_eq!(parse_pointer("/a~1b/m~0n/~01").unwrap(), vec!["a/b", "m~n", "~1"]);
        assert_eq!(parse_pointer("/a//b").unwrap(), vec!["a", "", "b"]);
        for bad in ["a", "#/a", "/~", "/a~2", "/~a", "/x~"] {
            assert_eq!(kind(parse_pointer(bad)), ErrorKind::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn array_indices() {
        assert_eq!(array_index("0"), Some(0));
        assert_eq!(array_index("12"), Some(12));
        for none in ["", "-", "01", "+1", "-1", "1a", " 1", "99999999999999999999999"] {
            assert_eq!(array_index(none), None, "{none}");
        }
    }

    #[test]
    fn nested_members_and_escapes() {
        assert_eq!(get_string(DOC, "/sub").unwrap(), "alice");
        assert_eq!(get_string(DOC, "/address/country").unwrap(), "NL");
        assert_eq!(get_string(DOC, "/address/street address").unwrap(), "Dam 1");
        assert_eq!(get_string(DOC, "/groups/1").unwrap(), "ops");
        assert_eq!(get_i64(DOC, "/groups/2/nested/1").unwrap(), 20);
        assert_eq!(get_i64(DOC, "/a~1b").unwrap(), 1);
        assert_eq!(get_i64(DOC, "/m~0n").unwrap(), 2);
        assert_eq!(get_i64(DOC, "/~01").unwrap(), 3);
        assert_eq!(get_i64(DOC, "/").unwrap(), 4);
        assert_eq!(get_string(DOC, "/esc").unwrap(), "q\"b\\n\n\u{e9}\u{1F600}");
    }

    #[test]
    fn raw_text_is_the_documents_own() {
        assert_eq!(lookup_raw(DOC, "/groups").unwrap(), r#"["admin", "ops", {"nested": [10, 20]}]"#);
        assert_eq!(lookup_raw(DOC, "/address").unwrap(), r#"{"country": "NL", "street address": "Dam 1"}"#);
        assert_eq!(lookup_raw(DOC, "/e").unwrap(), "1e3");
        assert_eq!(lookup_raw(DOC, "/sub").unwrap(), r#""alice""#);
        assert_eq!(lookup_raw(DOC, "/null").unwrap(), "null");
        assert_eq!(lookup_raw("  [1, 2] ", "").unwrap(), "[1, 2]");
        assert_eq!(lookup_raw("  7 ", "").unwrap(), "7");
    }

    #[test]
    fn absent_values_are_not_found() {
        for p in ["/nope", "/address/zip", "/groups/3", "/groups/-", "/groups/01", "/groups/x", "/sub/0", "/exp/x", "/null/x", "/a/b"] {
            assert_eq!(kind(lookup_raw(DOC, p)), ErrorKind::NotFound, "{p}");
        }
        assert_eq!(kind(get_string(DOC, "/nope")), ErrorKind::NotFound);
        assert_eq!(kind(get_i64(DOC, "/nope")), ErrorKind::NotFound);
        assert_eq!(kind(get_bool(DOC, "/nope")), ErrorKind::NotFound);
    }

    #[test]
    fn wrong_types_and_ranges_are_invalid() {
        assert_eq!(kind(get_string(DOC, "/exp")), ErrorKind::InvalidArgument);
        assert_eq!(kind(get_string(DOC, "/null")), ErrorKind::InvalidArgument);
        assert_eq!(kind(get_string(DOC, "/groups")), ErrorKind::InvalidArgument);
        assert_eq!(kind(get_string(DOC, "/nul")), ErrorKind::InvalidArgument);
        assert_eq!(kind(get_i64(DOC, "/sub")), ErrorKind::InvalidArgument);
        assert_eq!(kind(get_i64(DOC, "/big")), ErrorKind::InvalidArgument);
        assert_eq!(get_i64(DOC, "/neg").unwrap(), i64::MIN);
        assert_eq!(kind(get_i64(DOC, "/f")), ErrorKind::InvalidArgument);
        assert_eq!(kind(get_i64(DOC, "/e")), ErrorKind::InvalidArgument);
        assert!(get_bool(DOC, "/email_verified").unwrap());
        assert_eq!(kind(get_bool(DOC, "/exp")), ErrorKind::InvalidArgument);
        assert_eq!(kind(get_bool(r#"{"b":"true"}"#, "/b")), ErrorKind::InvalidArgument);
    }

    #[test]
    fn bad_documents_are_invalid_before_any_lookup() {
        for doc in ["", "{", r#"{"a":1,}"#, r#"{"a":1} {}"#, r#"{"a":1,"a":2}"#, r#"{"x":{"b":1,"b":2},"a":1}"#, "nul"] {
            assert_eq!(kind(lookup_raw(doc, "/a")), ErrorKind::InvalidArgument, "{doc}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(kind(lookup_raw(&deep, "")), ErrorKind::InvalidArgument);
        // A bad pointer is reported as such even for a bad document.
        assert!(lookup_raw("{", "x").unwrap_err().message.contains("JSON pointer"));
    }

    #[test]
    fn quoting_round_trips() {
        assert_eq!(quote("plain"), r#""plain""#);
        assert_eq!(quote("a\"b\\c\n\t\u{1}\u{1f}\u{7f}é/"), "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\u{7f}é/\"");
        for s in ["", "x\u{0}y", "\u{2028}\u{1F600}", "\",\"redirect_uri\":\"https://evil", "\\\"}"] {
            let doc = format!("{{\"login_hint\":{}}}", quote(s));
            let v = crate::core::json::parse_str(&doc).unwrap();
            assert_eq!(v.as_object().unwrap().len(), 1, "{doc}");
            assert_eq!(v["login_hint"], s);
        }
        let all: String = (0u32..0x80).filter_map(char::from_u32).collect();
        let quoted = quote(&all);
        assert!(quoted.bytes().skip(1).take(quoted.len() - 2).all(|b| b >= 0x20), "no raw control byte");
        assert_eq!(crate::core::json::parse_str(&quoted).unwrap(), all);
    }
}
