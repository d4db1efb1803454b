//! Strict JSON reading. RFC 8259 §4 only says member names "SHOULD be unique"
//! and leaves duplicates to the parser; serde_json keeps the last one. soidc
//! refuses them everywhere it reads JSON (options, provider documents, token
//! headers and payloads): a duplicate lets two readers of the same text see
//! different values (a C caller's `snprintf`-built options overridden by
//! injected input, a claim validated here but read otherwise by the host).

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
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
            if out.contains_key(&k) {
                return Err(de::Error::custom(format!(
                    "member {} appears more than once",
                    crate::core::error::quote_untrusted(&k)
                )));
            }
            let v = m.next_value_seed(inner)?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
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

    #[test]
    fn numbers_keep_their_kind() {
        let v = parse_str(r#"{"i":-5,"u":18446744073709551615,"f":1.5}"#).unwrap();
        assert_eq!(v["i"].as_i64(), Some(-5));
        assert_eq!(v["u"].as_u64(), Some(u64::MAX));
        assert_eq!(v["f"].as_f64(), Some(1.5));
    }
}
