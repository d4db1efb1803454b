//! Strict JSON reading. RFC 8259 §4 only says member names "SHOULD be unique"
//! and leaves duplicates to the parser; serde_json keeps the last one. soidc
//! refuses them everywhere it reads JSON (options, provider documents, token
//! headers and payloads): a duplicate lets two readers of the same text see
//! different values (a C caller's `snprintf`-built options overridden by
//! injected input, a claim validated here but read otherwise by the host).

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;

/// Nesting deeper than this is refused (serde_json's own limit is 128; a
/// legitimate OIDC document nests a handful of levels).
pub(crate) const MAX_DEPTH: usize = 64;

/// Parses `text` into a [`Value`], refusing duplicate member names at any depth
/// and trailing characters. The error message names the duplicate (quoted and
/// cut, it may come from an untrusted source).
pub fn parse_slice(text: &[u8]) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_slice(text);
    let v = Strict { depth: 0 }.deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(v)
}

/// As [`parse_slice`] for a `str`.
pub fn parse_str(text: &str) -> Result<Value, String> {
    parse_slice(text.as_bytes())
}

/// As [`parse_slice`], requiring a JSON object.
pub fn parse_object(text: &[u8]) -> Result<Map<String, Value>, String> {
    match parse_slice(text)? {
        Value::Object(m) => Ok(m),
        other => Err(format!("expected a JSON object, found {}", crate::core::jose::json_type(&other))),
    }
}

#[derive(Clone, Copy)]
struct Strict {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl Strict {
    fn deeper<E: de::Error>(self) -> Result<Strict, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format!("JSON nests deeper than {MAX_DEPTH} levels")));
        }
        Ok(Strict { depth: self.depth + 1 })
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.deeper()?;
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element_seed(inner)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Value, A::Error> {
        let inner = self.deeper()?;
        let mut out = Map::new();
        while let Some(k) = m.next_key::<String>()? {
            // One lookup: the slot found free is the one the value goes into.
            match out.entry(k) {
                serde_json::map::Entry::Occupied(e) => {
                    return Err(de::Error::custom(format!(
                        "member {} appears more than once",
                        crate::core::error::quote_untrusted(e.key())
                    )));
                }
                serde_json::map::Entry::Vacant(e) => {
                    e.insert(m.next_value_seed(inner)?);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// A JSON value read by [`scan_object`]: strings borrow from the text when they hold no
/// escape, numbers keep serde_json's kind, objects keep their members in text order.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    Null,
    Bool(bool),
    Num(serde_json::Number),
    Str(Cow<'a, str>),
    Arr(Vec<Val<'a>>),
    Obj(Vec<(Cow<'a, str>, Val<'a>)>),
}

impl Val<'_> {
    /// The member `name` of an object (`None` for another type or an absent member).
    pub fn member(&self, name: &str) -> Option<&Self> {
        match self {
            Val::Obj(members) => members.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The same value as a serde_json [`Value`] (for messages and rare paths only).
    pub fn to_value(&self) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Num(n) => Value::Number(n.clone()),
            Val::Str(s) => Value::String(s.to_string()),
            Val::Arr(items) => Value::Array(items.iter().map(Val::to_value).collect()),
            Val::Obj(members) => Value::Object(members.iter().map(|(k, v)| (k.to_string(), v.to_value())).collect()),
        }
    }

    /// "a string", "an object", ...: the words of [`crate::core::jose::json_type`].
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "a boolean",
            Val::Num(_) => "a number",
            Val::Str(_) => "a string",
            Val::Arr(_) => "an array",
            Val::Obj(_) => "an object",
        }
    }
}

/// Reads a JSON object in one pass under the rules of [`parse_object`] (the same strict
/// grammar, a repeated member name refused at any depth, at most [`MAX_DEPTH`] levels, no
/// trailing text, the same error messages), and keeps only the members that `slot` maps to
/// an index of the result; every other member is checked and dropped without building a
/// value. Strings borrow from `text` unless they hold escapes. A JSON token's registered
/// claims are read this way without building a map of every claim.
pub fn scan_object<'a, const N: usize>(
    text: &'a [u8],
    slot: fn(&str) -> Option<usize>,
) -> Result<[Option<Val<'a>>; N], String> {
    // Valid UTF-8 (every token worth reading): serde_json's reader of a `str`, which does
    // not validate each string again. Otherwise the byte reader, whose error is the very
    // one `parse_object` gives.
    let out = match std::str::from_utf8(text) {
        Ok(s) => scan_with(serde_json::Deserializer::from_str(s), slot),
        Err(_) => scan_with(serde_json::Deserializer::from_slice(text), slot),
    }?;
    match out {
        Scanned::Object(slots) => Ok(slots),
        Scanned::Other(kind) => Err(format!("expected a JSON object, found {kind}")),
    }
}

fn scan_with<'a, R: serde_json::de::Read<'a>, const N: usize>(
    mut de: serde_json::Deserializer<R>,
    slot: fn(&str) -> Option<usize>,
) -> Result<Scanned<'a, N>, String> {
    let out = (&mut de).deserialize_any(ScanTop::<N> { slot }).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(out)
}

fn deeper<E: de::Error>(depth: usize) -> Result<usize, E> {
    if depth >= MAX_DEPTH {
        return Err(E::custom(format!("JSON nests deeper than {MAX_DEPTH} levels")));
    }
    Ok(depth + 1)
}

fn repeated<E: de::Error>(name: &str) -> E {
    de::Error::custom(format!("member {} appears more than once", crate::core::error::quote_untrusted(name)))
}

/// The member names of one object seen so far: the first 32 unescaped ones in place (no
/// allocation for an ordinary object), the rest in a hash set (no quadratic cost for a
/// hostile object of thousands of members). A 128-bit filter of every name's tag answers
/// most "new name?" questions without comparing any text.
struct Seen<'de> {
    filter: u128,
    tags: [u32; 32],
    inline: [&'de str; 32],
    n: usize,
    spill: Option<std::collections::HashSet<Cow<'de, str>>>,
}

/// Length, first, middle and last byte: names that differ there are told apart without
/// comparing their text.
fn tag(name: &str) -> u32 {
    let b = name.as_bytes();
    match b {
        [] => 0,
        [only] => 1 | (*only as u32) << 8,
        [first, .., last] => {
            (b.len() as u32 & 0xff) | (*first as u32) << 8 | (b[b.len() / 2] as u32) << 16 | (*last as u32) << 24
        }
    }
}

impl<'de> Seen<'de> {
    fn new() -> Self {
        Seen { filter: 0, tags: [0; 32], inline: [""; 32], n: 0, spill: None }
    }

    /// Records `name`; `false` if it was already there. (A `Cow`: a borrowed name is kept
    /// in place, an owned one goes to the hash set.)
    #[allow(clippy::ptr_arg)]
    fn insert(&mut self, name: &Cow<'de, str>) -> bool {
        let key: &str = name;
        let t = tag(key);
        let bit = 1u128 << (t.wrapping_mul(0x9E37_79B9) >> 25);
        if self.filter & bit != 0 {
            let inline_hit = self.tags[..self.n].iter().zip(&self.inline[..self.n]).any(|(tg, s)| *tg == t && *s == key);
            if inline_hit || self.spill.as_ref().is_some_and(|s| s.contains(key)) {
                return false;
            }
        }
        self.filter |= bit;
        match name {
            Cow::Borrowed(b) if self.n < self.inline.len() => {
                self.tags[self.n] = t;
                self.inline[self.n] = b;
                self.n += 1;
            }
            _ => {
                self.spill.get_or_insert_with(Default::default).insert(name.clone());
            }
        }
        true
    }
}

/// A member name, borrowed from the text unless it holds escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

enum Scanned<'a, const N: usize> {
    Object([Option<Val<'a>>; N]),
    Other(&'static str),
}

struct ScanTop<const N: usize> {
    slot: fn(&str) -> Option<usize>,
}

impl<'de, const N: usize> Visitor<'de> for ScanTop<N> {
    type Value = Scanned<'de, N>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Scanned::Other("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Scanned::Other("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Scanned::Other("a number"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        // As `Strict`: a float serde_json cannot hold is null.
        Ok(Scanned::Other(if serde_json::Number::from_f64(v).is_some() { "a number" } else { "null" }))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Scanned::Other("a string"))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scanned::Other("null"))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Scanned::Other("null"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Skip { depth: 0 }.visit_seq(seq)?;
        Ok(Scanned::Other("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        let inner = deeper(0)?;
        let mut seen = Seen::new();
        let mut out: [Option<Val<'de>>; N] = std::array::from_fn(|_| None);
        while let Some(k) = m.next_key_seed(Key)? {
            if !seen.insert(&k) {
                return Err(repeated(&k));
            }
            match (self.slot)(&k) {
                Some(i) if i < N => out[i] = Some(m.next_value_seed(Capture { depth: inner })?),
                _ => m.next_value_seed(Skip { depth: inner })?,
            }
        }
        Ok(Scanned::Object(out))
    }
}

/// Checks a value under the strict rules and drops it, allocating nothing but the names
/// of members that hold escapes.
#[derive(Clone, Copy)]
struct Skip {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = Skip { depth: deeper(self.depth)? };
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        let inner = Skip { depth: deeper(self.depth)? };
        let mut seen = Seen::new();
        while let Some(k) = m.next_key_seed(Key)? {
            if !seen.insert(&k) {
                return Err(repeated(&k));
            }
            m.next_value_seed(inner)?;
        }
        Ok(())
    }
}

/// Checks a value under the strict rules and keeps it as a [`Val`].
#[derive(Clone, Copy)]
struct Capture {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Capture {
    type Value = Val<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Val<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Capture {
    type Value = Val<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Val<'de>, E> {
        Ok(Val::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Val<'de>, E> {
        Ok(Val::Num(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Val<'de>, E> {
        Ok(Val::Num(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Val<'de>, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Val::Null, Val::Num))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Val<'de>, E> {
        Ok(Val::Null)
    }
    fn visit_none<E>(self) -> Result<Val<'de>, E> {
        Ok(Val::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val<'de>, A::Error> {
        let inner = Capture { depth: deeper(self.depth)? };
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element_seed(inner)? {
            out.push(v);
        }
        Ok(Val::Arr(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Val<'de>, A::Error> {
        let inner = Capture { depth: deeper(self.depth)? };
        let mut seen = Seen::new();
        let mut out = Vec::new();
        while let Some(k) = m.next_key_seed(Key)? {
            if !seen.insert(&k) {
                return Err(repeated(&k));
            }
            let v = m.next_value_seed(inner)?;
            out.push((k, v));
        }
        Ok(Val::Obj(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_duplicates_at_every_depth() {
        assert!(parse_str(r#"{"a":1,"a":2}"#).unwrap_err().contains("\"a\" appears more than once"));
        assert!(parse_str(r#"{"x":{"b":1,"b":1}}"#).is_err());
        assert!(parse_str(r#"[{"c":[{"d":1,"d":2}]}]"#).is_err());
        assert_eq!(parse_str(r#"{"a":{"a":1},"b":[1,2]}"#).unwrap()["a"]["a"], 1);
    }

    #[test]
    fn refuses_trailing_and_deep() {
        assert!(parse_str(r#"{"a":1} x"#).is_err());
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(parse_str(&deep).is_err());
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse_str(&ok).is_ok());
    }

    fn slot_ab(name: &str) -> Option<usize> {
        ["a", "b"].iter().position(|n| *n == name)
    }

    /// `scan_object` gives `parse_object`'s verdict and message on every input, and the
    /// members it keeps are the map's.
    #[test]
    fn scan_agrees_with_parse_object() {
        let many: String = (0..100).map(|i| format!("\"k{i}\":{i},")).collect();
        let deep_ok = format!("{{\"a\":{}{}}}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
        let deep_bad = format!("{{\"a\":{}{}}}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        let deep_skip = format!("{{\"z\":{}{}}}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        let cases: Vec<Vec<u8>> = vec![
            br#"{"a":1,"b":"x"}"#.to_vec(),
            br#"{"a":1,"a":2}"#.to_vec(),
            br#"{"a":1,"\u0061":2}"#.to_vec(),
            br#"{"\u0061":1,"a":2}"#.to_vec(),
            br#"{"z":{"q":1,"q":2}}"#.to_vec(),
            br#"{"a":{"q":1,"q":2}}"#.to_vec(),
            br#"{"z":[{"q":[{"r":1,"r":2}]}]}"#.to_vec(),
            br#"{"a":[{"q":[{"r":1,"r":2}]}]}"#.to_vec(),
            br#"{"a":"\u00e9t\u00e9","b":["x","\n"],"c":{"d":null}}"#.to_vec(),
            br#"{"a":1} x"#.to_vec(),
            br#"{"a":1"#.to_vec(),
            br#"[1,2]"#.to_vec(),
            br#"[{"a":1,"a":1}]"#.to_vec(),
            br#""s""#.to_vec(),
            b"12".to_vec(),
            b"-1.5e3".to_vec(),
            b"null".to_vec(),
            b"true".to_vec(),
            b"".to_vec(),
            b"{\"a\":\"\xff\"}".to_vec(),
            b"{\"\xc3\xa9\":1,\"b\":2}".to_vec(),
            b"{\"a\":1,\xff}".to_vec(),
            br#"{"a":1e400}"#.to_vec(),
            br#"{"a":18446744073709551615,"b":-9223372036854775808}"#.to_vec(),
            format!("{{{many}\"a\":1}}").into_bytes(),
            format!("{{{many}\"k99\":1}}").into_bytes(),
            format!("{{{many}\"k\\u0030\":1}}").into_bytes(),
            deep_ok.into_bytes(),
            deep_bad.into_bytes(),
            deep_skip.into_bytes(),
        ];
        for text in &cases {
            let shown = String::from_utf8_lossy(text);
            let scanned = scan_object::<2>(text, slot_ab);
            match (parse_object(text), scanned) {
                (Ok(map), Ok([a, b])) => {
                    assert_eq!(map.get("a"), a.map(|v| v.to_value()).as_ref(), "{shown}");
                    assert_eq!(map.get("b"), b.map(|v| v.to_value()).as_ref(), "{shown}");
                }
                (Err(x), Err(y)) => assert_eq!(x, y, "{shown}"),
                (x, y) => panic!("{shown}: parse_object {:?}, scan_object {:?}", x.err(), y.err()),
            }
        }
    }

    fn slot3(name: &str) -> Option<usize> {
        ["iss", "aud", "o"].iter().position(|n| *n == name)
    }

    /// Random edits of a token-like payload: `scan_object` keeps `parse_object`'s verdicts,
    /// messages and values.
    #[test]
    fn scan_agrees_with_parse_object_on_edited_payloads() {
        let base = br#"{"iss":"https://op.example","sub":"248289761001","aud":["c1","c2"],"exp":2112060861,"iat":-5,"n":null,"t":true,"f":false,"o":{"x":[1,{"y":"z"}],"e":{}},"a":[ ],"z":0, "u":18446744073709551615}"#;
        let alphabet = b"{}[]:,\"\\ -0123456789.eEtrufalsn\t\nxyzo\x01";
        let mut seed: u64 = 0x1234_5678_9abc_def0;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut accepted, mut refused) = (0, 0);
        for round in 0..30_000 {
            let mut t = base.to_vec();
            for _ in 0..(1 + next() % 3) {
                let pos = (next() as usize) % (t.len() + 1);
                let c = alphabet[(next() as usize) % alphabet.len()];
                match next() % 3 {
                    0 if pos < t.len() => t[pos] = c,
                    1 if pos < t.len() => {
                        t.remove(pos);
                    }
                    _ => t.insert(pos, c),
                }
            }
            let text = String::from_utf8_lossy(&t);
            match (parse_object(&t), scan_object::<3>(&t, slot3)) {
                (Ok(map), Ok(kept)) => {
                    accepted += 1;
                    for (name, v) in ["iss", "aud", "o"].iter().zip(kept) {
                        assert_eq!(map.get(*name), v.map(|v| v.to_value()).as_ref(), "round {round}: {text}");
                    }
                }
                (Err(x), Err(y)) => {
                    refused += 1;
                    assert_eq!(x, y, "round {round}: {text}");
                }
                (x, y) => panic!("round {round}: {text}: parse_object {:?}, scan_object {:?}", x.err(), y.err()),
            }
        }
        assert!(accepted > 1000 && refused > 1000, "{accepted} / {refused}");
    }

    #[test]
    fn numbers_keep_their_kind() {
        let v = parse_str(r#"{"i":-5,"u":18446744073709551615,"f":1.5}"#).unwrap();
        assert_eq!(v["i"].as_i64(), Some(-5));
        assert_eq!(v["u"].as_u64(), Some(u64::MAX));
        assert_eq!(v["f"].as_f64(), Some(1.5));
    }

}
