//! Claim rules (`require_claims`): declarative checks over a token's claims, run by
//! soidc once every protocol check of the token has passed, and the claim paths they
//! (and `soidc_claims_get`) use.
//!
//! A rule is `{"claim": PATH, "op": OP, "value": ANY, "name": STRING}` (`value` and
//! `name` optional as the op allows). Rules are parsed strictly when the options are
//! parsed, before any token work: an unknown member, an unknown op, a missing `value`
//! for an op that needs one, a `value` for `exists`, a non-array (or empty) `value` for
//! `in` / `contains_any`, and anything beyond the limits below are
//! `InvalidArgument`.
//!
//! Paths:
//! - dotted: `realm_access.roles`; `\.` is a dot inside a name and `\\` a backslash
//!   (`https://example\.com/claims.tenant` is the member `tenant` of the member
//!   `https://example.com/claims`); any other `\` and an empty name are refused;
//! - RFC 6901 JSON pointer when the path starts with `/` (`/realm_access/roles`,
//!   `~1` for `/` and `~0` for `~` in a name).
//!
//! A name applied to an array is applied to each of its elements and the values found
//! are collected into an array (elements where nothing is found are skipped; an
//! element that is itself an array is traversed the same way), so `orgs.roles` over
//! `[{"roles":["a"]},{"roles":["b","c"]}]` is `[["a"],["b","c"]]` and `contains "b"`
//! looks into the collected arrays too. In a JSON pointer a token that is an array index
//! (RFC 6901 §4: `0`, or digits without a leading zero) applied to an array selects
//! that element, as RFC 6901 says; in a dotted path every name maps over arrays. A path
//! that finds nothing (including an empty collection) is an absent claim, and every op
//! fails on an absent claim (`exists` included, by definition).
//!
//! Ops (all compare with JSON equality; numbers are equal when they denote the same
//! value, so `1` equals `1.0`):
//! - `eq`: the claim equals `value`;
//! - `in`: the claim equals one of the members of `value` (an array);
//! - `contains`: the claim is an array with a member equal to `value` (for a collected
//!   path, a member of any collected array counts as well), or a string of
//!   space-separated values (as `scope`, RFC 6749 §3.3) one of which equals `value`;
//! - `contains_any`: `contains` for at least one member of `value` (an array);
//! - `exists`: the claim is present (any value, `null` included).
//!
//! A failed rule is `Validation` with `reason` = `claim_rule` and `rule` = the rule's
//! `name`, else its path and op (`"realm_access.roles contains"`); the message names the
//! rule and never shows a claim value (it may be another user's data).

use crate::core::error::{quote_untrusted, Error, Result};
use crate::core::jose::json_type;
use serde::de::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use std::sync::Arc;

/// At most this many rules in one `require_claims`.
pub(crate) const MAX_RULES: usize = 64;
/// A path is at most this many bytes.
pub(crate) const MAX_PATH_BYTES: usize = 512;
/// A path has at most this many names (levels).
pub(crate) const MAX_PATH_SEGMENTS: usize = 32;
/// A rule's `name` is at most this many bytes.
pub(crate) const MAX_NAME_BYTES: usize = 128;
/// A rule's `value` is at most this many bytes once written as JSON.
pub(crate) const MAX_VALUE_BYTES: usize = 16 * 1024;
/// A path that maps over arrays collects at most this many values; beyond that the
/// claim is treated as absent (the rule fails).
pub(crate) const MAX_COLLECTED: usize = 4096;

/// A parsed claim path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPath {
    /// As written, for rule labels.
    pub text: String,
    segments: Vec<String>,
    /// A JSON pointer: a segment that is an array index selects that element.
    pointer: bool,
}

impl ClaimPath {
    /// Parses a path in either syntax (see the module documentation).
    pub fn parse(text: &str) -> std::result::Result<ClaimPath, String> {
        if text.is_empty() {
            return Err("the path is empty".into());
        }
        if text.len() > MAX_PATH_BYTES {
            return Err(format!("the path is {} bytes, more than the limit of {MAX_PATH_BYTES}", text.len()));
        }
        let (segments, pointer) = if text.starts_with('/') {
            let segs = crate::core::json_helpers::parse_pointer(text).map_err(|e| e.message)?;
            (segs, true)
        } else {
            (split_dotted(text)?, false)
        };
        if segments.len() > MAX_PATH_SEGMENTS {
            return Err(format!("the path has {} names, more than the limit of {MAX_PATH_SEGMENTS}", segments.len()));
        }
        Ok(ClaimPath { text: text.to_owned(), segments, pointer })
    }

    /// The value at this path in `claims`: `None` when absent. A path that maps over an
    /// array gives the collected array.
    pub fn resolve(&self, claims: &Value) -> Option<Resolved> {
        let mut current: Vec<&Value> = vec![claims];
        let mut mapped = false;
        for seg in &self.segments {
            let mut next = Vec::new();
            for v in &current {
                if !step(v, seg, self.pointer, &mut next, &mut mapped, 0) {
                    return None; // over the collection limit
                }
            }
            if next.is_empty() {
                return None;
            }
            current = next;
        }
        if mapped {
            Some(Resolved::Collected(current.into_iter().cloned().collect()))
        } else {
            current.into_iter().next().cloned().map(Resolved::One)
        }
    }
}

/// What a path found: one value, or the values collected by mapping over arrays.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    One(Value),
    Collected(Vec<Value>),
}

impl Resolved {
    /// As one JSON value (a collection becomes an array).
    pub fn into_value(self) -> Value {
        match self {
            Resolved::One(v) => v,
            Resolved::Collected(items) => Value::Array(items),
        }
    }
}

/// Applies one name to `v`, pushing what it finds. `false` when the collection limit
/// is reached.
fn step<'a>(v: &'a Value, seg: &str, pointer: bool, out: &mut Vec<&'a Value>, mapped: &mut bool, depth: usize) -> bool {
    match v {
        Value::Object(m) => {
            if let Some(x) = m.get(seg) {
                out.push(x);
            }
        }
        Value::Array(items) => {
            if pointer {
                if let Some(i) = array_index(seg) {
                    if let Some(x) = items.get(i) {
                        out.push(x);
                    }
                    return out.len() <= MAX_COLLECTED;
                }
            }
            // JSON nesting is bounded by the strict reader (64 levels), so is this.
            if depth > crate::core::json::MAX_DEPTH {
                return true;
            }
            *mapped = true;
            for item in items {
                if !step(item, seg, pointer, out, mapped, depth + 1) {
                    return false;
                }
            }
        }
        _ => {}
    }
    out.len() <= MAX_COLLECTED
}

/// RFC 6901 §4 array index: `0` or digits without a leading zero.
fn array_index(token: &str) -> Option<usize> {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_digit()) || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

/// Splits a dotted path: `.` separates names, `\.` is a dot and `\\` a backslash in a
/// name; any other escape and an empty name are errors.
fn split_dotted(text: &str) -> std::result::Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('.') => cur.push('.'),
                Some('\\') => cur.push('\\'),
                _ => return Err("a '\\' in a dotted path must be followed by '.' or '\\'".into()),
            },
            '.' => {
                if cur.is_empty() {
                    return Err("the path has an empty name (two dots in a row, or a dot at either end)".into());
                }
                out.push(std::mem::take(&mut cur));
            }
            c => cur.push(c),
        }
    }
    if cur.is_empty() {
        return Err("the path has an empty name (two dots in a row, or a dot at either end)".into());
    }
    out.push(cur);
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    In,
    Contains,
    ContainsAny,
    Exists,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "eq" => Op::Eq,
            "in" => Op::In,
            "contains" => Op::Contains,
            "contains_any" => Op::ContainsAny,
            "exists" => Op::Exists,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::In => "in",
            Op::Contains => "contains",
            Op::ContainsAny => "contains_any",
            Op::Exists => "exists",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ClaimRule {
    pub path: ClaimPath,
    pub op: Op,
    value: Value,
    /// The rule's `name`, or "PATH OP".
    pub label: String,
}

/// The rules of one `require_claims` option (shared, cheap to clone).
#[derive(Debug, Clone)]
pub struct ClaimRules(Arc<Vec<ClaimRule>>);

impl ClaimRules {
    /// Parses the option's value (a JSON array of rules), strictly.
    pub fn from_value(v: &Value) -> std::result::Result<ClaimRules, String> {
        let Value::Array(items) = v else {
            return Err(format!("must be an array of rules, found {}", json_type(v)));
        };
        if items.len() > MAX_RULES {
            return Err(format!("has {} rules, more than the limit of {MAX_RULES}", items.len()));
        }
        let rules = items
            .iter()
            .enumerate()
            .map(|(i, r)| parse_rule(r).map_err(|e| format!("rule {i}: {e}")))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(ClaimRules(Arc::new(rules)))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn rules(&self) -> &[ClaimRule] {
        &self.0
    }

    /// Checks every rule on `claims`, in order; the first that fails is the error.
    pub fn check(&self, claims: &Map<String, Value>) -> Result<()> {
        let root = ObjectRef(claims);
        for rule in self.0.iter() {
            let found = root.resolve(&rule.path);
            if !evaluate(rule, found.as_ref()) {
                let why = match found {
                    None => "the claim is absent",
                    Some(_) => match rule.op {
                        Op::Eq => "the claim does not equal the value required",
                        Op::In => "the claim is not one of the values allowed",
                        Op::Contains => "the claim does not contain the value required",
                        Op::ContainsAny => "the claim contains none of the values required",
                        Op::Exists => "the claim is absent",
                    },
                };
                return Err(Error::validation(format!(
                    "claim rule {} failed: {why} (path {}, op {})",
                    quote_untrusted(&rule.label),
                    quote_untrusted(&rule.path.text),
                    rule.op.name()
                ))
                .with_detail("reason", "claim_rule")
                .with_detail("rule", rule.label.clone()));
            }
        }
        Ok(())
    }
}

/// A claims map seen as the root object of a path.
struct ObjectRef<'a>(&'a Map<String, Value>);

impl ObjectRef<'_> {
    fn resolve(&self, path: &ClaimPath) -> Option<Resolved> {
        // The first name always applies to the root object (never an array).
        let (first, rest) = path.segments.split_first()?;
        let start = self.0.get(first)?;
        let sub = ClaimPath { text: String::new(), segments: rest.to_vec(), pointer: path.pointer };
        sub.resolve(start)
    }
}

impl<'de> Deserialize<'de> for ClaimRules {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        ClaimRules::from_value(&v).map_err(serde::de::Error::custom)
    }
}

fn parse_rule(r: &Value) -> std::result::Result<ClaimRule, String> {
    let Value::Object(m) = r else {
        return Err(format!("must be an object, found {}", json_type(r)));
    };
    if let Some(k) = m.keys().find(|k| !matches!(k.as_str(), "claim" | "op" | "value" | "name")) {
        return Err(format!("unknown member {} (a rule has claim, op, value, name)", quote_untrusted(k)));
    }
    let path = match m.get("claim") {
        Some(Value::String(s)) => ClaimPath::parse(s).map_err(|e| format!("claim {}: {e}", quote_untrusted(s)))?,
        Some(v) => return Err(format!("claim must be a string, found {}", json_type(v))),
        None => return Err("claim (the path) is missing".into()),
    };
    let op = match m.get("op") {
        Some(Value::String(s)) => Op::parse(s).ok_or_else(|| {
            format!("op {} is not eq, in, contains, contains_any or exists", quote_untrusted(s))
        })?,
        Some(v) => return Err(format!("op must be a string, found {}", json_type(v))),
        None => return Err("op is missing".into()),
    };
    let value = match (op, m.get("value")) {
        (Op::Exists, None) => Value::Null,
        (Op::Exists, Some(_)) => return Err("op exists takes no value".into()),
        (_, None) => return Err(format!("op {} needs a value", op.name())),
        (Op::In | Op::ContainsAny, Some(Value::Array(a))) if a.is_empty() => {
            return Err(format!("op {} needs a non-empty array as value (an empty one fails every token)", op.name()))
        }
        (Op::In | Op::ContainsAny, Some(Value::Array(a))) => Value::Array(a.clone()),
        (Op::In | Op::ContainsAny, Some(v)) => {
            return Err(format!("op {} needs an array as value, found {}", op.name(), json_type(v)))
        }
        (_, Some(v)) => v.clone(),
    };
    let size = value.to_string().len();
    if size > MAX_VALUE_BYTES {
        return Err(format!("value is {size} bytes as JSON, more than the limit of {MAX_VALUE_BYTES}"));
    }
    let label = match m.get("name") {
        Some(Value::String(s)) if s.is_empty() => return Err("name must not be empty".into()),
        Some(Value::String(s)) if s.len() > MAX_NAME_BYTES => {
            return Err(format!("name is {} bytes, more than the limit of {MAX_NAME_BYTES}", s.len()))
        }
        Some(Value::String(s)) => s.clone(),
        Some(v) => return Err(format!("name must be a string, found {}", json_type(v))),
        None => format!("{} {}", path.text, op.name()),
    };
    Ok(ClaimRule { path, op, value, label })
}

/// JSON equality, numbers compared by value (`1` = `1.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                return x == y;
            }
            if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                return x == y;
            }
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Whether `claim` (one value) contains `wanted`: an array member, or a space-separated
/// token of a string.
fn contains_one(claim: &Value, wanted: &Value) -> bool {
    match claim {
        Value::Array(items) => items.iter().any(|i| json_eq(i, wanted)),
        Value::String(s) => match wanted {
            Value::String(w) => s.split(' ').filter(|t| !t.is_empty()).any(|t| t == w),
            _ => false,
        },
        _ => false,
    }
}

fn contains(found: &Resolved, wanted: &Value) -> bool {
    match found {
        Resolved::One(v) => contains_one(v, wanted),
        // A collection: a member itself, or a member of a collected array / list string.
        Resolved::Collected(items) => items.iter().any(|i| json_eq(i, wanted) || contains_one(i, wanted)),
    }
}

fn evaluate(rule: &ClaimRule, found: Option<&Resolved>) -> bool {
    let Some(found) = found else { return false };
    let as_value = || match found {
        Resolved::One(v) => v.clone(),
        Resolved::Collected(items) => Value::Array(items.clone()),
    };
    let list = || rule.value.as_array().map(Vec::as_slice).unwrap_or(&[]);
    match rule.op {
        Op::Exists => true,
        Op::Eq => json_eq(&as_value(), &rule.value),
        Op::In => {
            let v = as_value();
            list().iter().any(|x| json_eq(&v, x))
        }
        Op::Contains => contains(found, &rule.value),
        Op::ContainsAny => list().iter().any(|x| contains(found, x)),
    }
}

/// The JSON text of the value at `path` in the claims document `claims_json` (any JSON
/// object); `NotFound` when absent. The document is read by the strict reader.
pub fn claims_get(claims_json: &str, path: &str) -> Result<String> {
    let path = ClaimPath::parse(path).map_err(|e| Error::invalid_argument(format!("path: {e}")))?;
    let doc = crate::core::json::parse_str(claims_json)
        .map_err(|e| Error::invalid_argument(format!("the claims document is invalid: {e}")))?;
    let Value::Object(m) = &doc else {
        return Err(Error::invalid_argument(format!("the claims document must be a JSON object, found {}", json_type(&doc))));
    };
    match ObjectRef(m).resolve(&path) {
        Some(found) => Ok(found.into_value().to_string()),
        None => Err(Error::new(
            crate::core::ErrorKind::NotFound,
            format!("the claims have no value at {}", quote_untrusted(&path.text)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims() -> Map<String, Value> {
        match json!({
            "sub": "alice",
            "scope": "openid email  profile",
            "realm_access": {"roles": ["ssh-login", "dev"]},
            "https://example.com/claims": {"tenant": "acme"},
            "a.b": 1,
            "groups": ["admin", "ops"],
            "orgs": [{"id": 1, "roles": ["x"]}, {"id": 2, "roles": ["y", "z"]}, {"other": true}],
            "n": 3, "f": 3.0, "nul": null,
            "a/b": {"~c": "t"}
        }) {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn rules(v: Value) -> std::result::Result<ClaimRules, String> {
        ClaimRules::from_value(&v)
    }

    fn pass(rule: Value) -> bool {
        match rules(json!([rule])).expect("valid rule").check(&claims()) {
            Ok(()) => true,
            Err(e) => {
                assert_eq!(e.details["reason"], "claim_rule");
                false
            }
        }
    }

    #[test]
    fn paths() {
        assert_eq!(split_dotted("a.b").unwrap(), vec!["a", "b"]);
        assert_eq!(split_dotted(r"https://example\.com/claims.tenant").unwrap(), vec!["https://example.com/claims", "tenant"]);
        assert_eq!(split_dotted(r"a\\.b").unwrap(), vec![r"a\", "b"]);
        for bad in ["a..b", ".a", "a.", r"a\b", "a\\"] {
            assert!(split_dotted(bad).is_err(), "{bad}");
        }
        assert!(ClaimPath::parse("").is_err());
        assert!(ClaimPath::parse(&"a".repeat(MAX_PATH_BYTES + 1)).is_err());
        assert!(ClaimPath::parse(&vec!["a"; MAX_PATH_SEGMENTS + 1].join(".")).is_err());
        assert!(ClaimPath::parse(&vec!["a"; MAX_PATH_SEGMENTS].join(".")).is_ok());
        assert!(ClaimPath::parse("/a~2").is_err());
    }

    #[test]
    fn ops() {
        assert!(pass(json!({"claim": "sub", "op": "eq", "value": "alice"})));
        assert!(!pass(json!({"claim": "sub", "op": "eq", "value": "bob"})));
        assert!(pass(json!({"claim": "n", "op": "eq", "value": 3.0})));
        assert!(pass(json!({"claim": "f", "op": "in", "value": [1, 3]})));
        assert!(pass(json!({"claim": "realm_access.roles", "op": "contains", "value": "ssh-login"})));
        assert!(!pass(json!({"claim": "realm_access.roles", "op": "contains", "value": "root"})));
        assert!(pass(json!({"claim": "/realm_access/roles", "op": "contains", "value": "dev"})));
        assert!(pass(json!({"claim": "/realm_access/roles/1", "op": "eq", "value": "dev"})));
        assert!(pass(json!({"claim": r"https://example\.com/claims.tenant", "op": "eq", "value": "acme"})));
        assert!(pass(json!({"claim": r"a\.b", "op": "eq", "value": 1})));
        assert!(!pass(json!({"claim": "a.b", "op": "exists"})));
        assert!(pass(json!({"claim": "/a~1b/~0c", "op": "eq", "value": "t"})));
        assert!(pass(json!({"claim": "scope", "op": "contains", "value": "profile"})));
        assert!(!pass(json!({"claim": "scope", "op": "contains", "value": "email profile"})));
        assert!(pass(json!({"claim": "scope", "op": "contains_any", "value": ["x", "email"]})));
        assert!(!pass(json!({"claim": "groups", "op": "contains_any", "value": ["x", "y"]})));
        assert!(pass(json!({"claim": "groups", "op": "eq", "value": ["admin", "ops"]})));
        assert!(pass(json!({"claim": "nul", "op": "exists"})));
        assert!(!pass(json!({"claim": "missing", "op": "exists"})));
        assert!(!pass(json!({"claim": "missing", "op": "eq", "value": null})));
        // mapping over arrays of objects
        assert!(pass(json!({"claim": "orgs.id", "op": "eq", "value": [1, 2]})));
        assert!(pass(json!({"claim": "orgs.id", "op": "contains", "value": 2})));
        assert!(pass(json!({"claim": "orgs.roles", "op": "contains", "value": "z"})));
        assert!(!pass(json!({"claim": "orgs.nothing", "op": "exists"})));
        assert!(pass(json!({"claim": "/orgs/1/id", "op": "eq", "value": 2})));
        assert!(pass(json!({"claim": "/orgs/id", "op": "contains", "value": 1})));
        // a step into a scalar finds nothing
        assert!(!pass(json!({"claim": "sub.x", "op": "exists"})));
    }

    #[test]
    fn failure_names_the_rule_not_the_value() {
        let r = rules(json!([{"claim": "sub", "op": "eq", "value": "bob", "name": "admins only"}])).unwrap();
        let e = r.check(&claims()).unwrap_err();
        assert_eq!(e.details["rule"], "admins only");
        assert!(!e.message.contains("alice") && !e.message.contains("bob"), "{}", e.message);
        let r = rules(json!([{"claim": "sub", "op": "in", "value": ["bob"]}])).unwrap();
        assert_eq!(r.check(&claims()).unwrap_err().details["rule"], "sub in");
    }

    #[test]
    fn strict_parsing() {
        for (bad, want) in [
            (json!({}), "must be an array"),
            (json!([1]), "must be an object"),
            (json!([{"claim": "a", "op": "eq"}]), "needs a value"),
            (json!([{"claim": "a", "op": "like", "value": 1}]), "is not eq"),
            (json!([{"claim": "a", "op": "eq", "value": 1, "extra": 1}]), "unknown member"),
            (json!([{"op": "exists"}]), "missing"),
            (json!([{"claim": "a", "op": "in", "value": "x"}]), "needs an array"),
            (json!([{"claim": "a", "op": "contains_any", "value": []}]), "non-empty"),
            (json!([{"claim": "a", "op": "exists", "value": true}]), "takes no value"),
            (json!([{"claim": "a..b", "op": "exists"}]), "empty name"),
            (json!([{"claim": "a", "op": "exists", "name": ""}]), "must not be empty"),
            (json!([{"claim": 5, "op": "exists"}]), "must be a string"),
        ] {
            let e = rules(bad.clone()).unwrap_err();
            assert!(e.contains(want), "{bad}: {e}");
        }
        let many: Vec<Value> = (0..=MAX_RULES).map(|_| json!({"claim": "a", "op": "exists"})).collect();
        assert!(rules(Value::Array(many)).unwrap_err().contains("limit"));
        let big = json!([{"claim": "a", "op": "eq", "value": "x".repeat(MAX_VALUE_BYTES)}]);
        assert!(rules(big).unwrap_err().contains("limit"));
    }

    #[test]
    fn reader() {
        let doc = Value::Object(claims()).to_string();
        assert_eq!(claims_get(&doc, "realm_access.roles").unwrap(), r#"["ssh-login","dev"]"#);
        assert_eq!(claims_get(&doc, "orgs.id").unwrap(), "[1,2]");
        assert_eq!(claims_get(&doc, r"https://example\.com/claims.tenant").unwrap(), r#""acme""#);
        assert_eq!(claims_get(&doc, "missing").unwrap_err().kind, crate::core::ErrorKind::NotFound);
        assert_eq!(claims_get(&doc, "a..b").unwrap_err().kind, crate::core::ErrorKind::InvalidArgument);
        assert_eq!(claims_get("[1]", "a").unwrap_err().kind, crate::core::ErrorKind::InvalidArgument);
        assert_eq!(claims_get(r#"{"a":1,"a":2}"#, "a").unwrap_err().kind, crate::core::ErrorKind::InvalidArgument);
    }
}
