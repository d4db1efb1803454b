//! Typed access to JWT claims. A claim of the wrong JSON type is a validation
//! error naming the claim and the type found, never treated as absent.
//!
//! The checks read claims through [`ClaimSet`]: a serde_json map (userinfo, JARM, the
//! Rust API), or the [`TokenClaims`] a token decode reads in one pass from the payload,
//! borrowing its strings, without building a map of every claim.

use crate::core::error::{quote_untrusted, Error, Result};
use crate::core::json::Val;
use serde_json::{Map, Number, Value};
use std::time::{SystemTime, UNIX_EPOCH};

pub type Claims = Map<String, Value>;

/// A JSON value as the claim checks look at it.
pub trait JsonView: Sized {
    fn as_str(&self) -> Option<&str>;
    fn as_number(&self) -> Option<&Number>;
    fn as_array(&self) -> Option<&[Self]>;
    fn is_object(&self) -> bool;
    /// The member `name` of an object (`None` for another type or an absent member).
    fn member(&self, name: &str) -> Option<&Self>;
    /// "a string", "an object", ...: as [`crate::core::jose::json_type`].
    fn type_name(&self) -> &'static str;
}

impl JsonView for Value {
    fn as_str(&self) -> Option<&str> {
        Value::as_str(self)
    }
    fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }
    fn as_array(&self) -> Option<&[Self]> {
        Value::as_array(self).map(Vec::as_slice)
    }
    fn is_object(&self) -> bool {
        Value::is_object(self)
    }
    fn member(&self, name: &str) -> Option<&Self> {
        Value::as_object(self).and_then(|m| m.get(name))
    }
    fn type_name(&self) -> &'static str {
        crate::core::jose::json_type(self)
    }
}

impl JsonView for Val<'_> {
    fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }
    fn as_number(&self) -> Option<&Number> {
        match self {
            Val::Num(n) => Some(n),
            _ => None,
        }
    }
    fn as_array(&self) -> Option<&[Self]> {
        match self {
            Val::Arr(items) => Some(items),
            _ => None,
        }
    }
    fn is_object(&self) -> bool {
        matches!(self, Val::Obj(_))
    }
    fn member(&self, name: &str) -> Option<&Self> {
        Val::member(self, name)
    }
    fn type_name(&self) -> &'static str {
        Val::type_name(self)
    }
}

/// Claims looked up by name.
pub trait ClaimSet {
    type V: JsonView;
    fn claim(&self, name: &str) -> Option<&Self::V>;
}

impl ClaimSet for Claims {
    type V = Value;
    fn claim(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

/// Every claim a token decode checks: what [`TokenClaims`] keeps of a payload.
const REGISTERED: [&str; 18] = [
    "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "nonce", "acr", "auth_time", "azp", "at_hash", "c_hash",
    "client_id", "scope", "cnf", "events", "sid",
];

/// The index of `name` in `REGISTERED`, asked for every member of every payload: a
/// three-letter name (eleven of them) is one integer switch, the others a comparison by
/// length first.
fn registered_slot(name: &str) -> Option<usize> {
    const fn three(n: &[u8; 3]) -> u32 {
        u32::from_le_bytes([n[0], n[1], n[2], 0])
    }
    const ISS: u32 = three(b"iss");
    const SUB: u32 = three(b"sub");
    const AUD: u32 = three(b"aud");
    const EXP: u32 = three(b"exp");
    const NBF: u32 = three(b"nbf");
    const IAT: u32 = three(b"iat");
    const JTI: u32 = three(b"jti");
    const ACR: u32 = three(b"acr");
    const AZP: u32 = three(b"azp");
    const CNF: u32 = three(b"cnf");
    const SID: u32 = three(b"sid");
    match *name.as_bytes() {
        [a, b, c] => Some(match three(&[a, b, c]) {
            ISS => 0,
            SUB => 1,
            AUD => 2,
            EXP => 3,
            NBF => 4,
            IAT => 5,
            JTI => 6,
            ACR => 8,
            AZP => 10,
            CNF => 15,
            SID => 17,
            _ => return None,
        }),
        _ => Some(match name {
            "nonce" => 7,
            "auth_time" => 9,
            "at_hash" => 11,
            "c_hash" => 12,
            "client_id" => 13,
            "scope" => 14,
            "events" => 16,
            _ => return None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_slots_follow_the_list() {
        for (i, name) in REGISTERED.iter().enumerate() {
            assert_eq!(registered_slot(name), Some(i), "{name}");
        }
        for other in ["", "is", "isss", "ISS", "email", "events ", "cnf\u{0}"] {
            assert_eq!(registered_slot(other), None, "{other}");
        }
    }

    /// The one-pass reading and the map answer alike, types and messages included.
    #[test]
    fn token_claims_answer_as_the_map() {
        // The first has an escape and a fraction (serde_json reads it), the second not (the
        // fast reader does).
        for payload in [
            &br#"{"iss":"https://op","sub":"","aud":["a",1],"exp":1.5,"nbf":"x","iat":-3,"jti":null,"nonce":{"a":1},"acr":[],"auth_time":18446744073709551615,"azp":"a\u0062","at_hash":true,"c_hash":false,"client_id":"c","scope":"s t","cnf":{"jkt":"k","x5t#S256":2},"events":{"e":{}},"sid":"s","other":[{"deep":[1,2,{"x":null}]}]}"#[..],
            &br#"{"iss":"https://op","sub":"","aud":["a",1],"exp":7,"nbf":"x","iat":-3,"jti":null,"nonce":{"a":1},"acr":[],"auth_time":18446744073709551615,"azp":"ab","at_hash":true,"c_hash":false,"client_id":"c","scope":"s t","cnf":{"jkt":"k","x5t#S256":2},"events":{"e":{}},"sid":"s","other":[{"deep":[1,2,{"x":null}]}]}"#[..],
        ] {
            check_both(payload);
        }
    }

    fn check_both(payload: &[u8]) {
        let view = TokenClaims::scan(payload).unwrap();
        let map = crate::core::json::parse_object(payload).unwrap();
        fn msg(r: Result<Option<&str>>) -> std::result::Result<Option<&str>, String> {
            r.map_err(|e| e.message)
        }
        for name in REGISTERED {
            assert_eq!(msg(opt_str(&view, name)), msg(opt_str(&map, name)), "{name}");
            assert_eq!(opt_time(&view, name).map_err(|e| e.message), opt_time(&map, name).map_err(|e| e.message), "{name}");
            assert_eq!(view.claim(name).map(|v| v.to_value()).as_ref(), map.get(name), "{name}");
        }
        assert_eq!(audiences(&view).map_err(|e| e.message), audiences(&map).map_err(|e| e.message));
        assert_eq!(check_min_iat(&view, 0.5).map_err(|e| e.message), check_min_iat(&map, 0.5).map_err(|e| e.message));
    }
}

/// The registered claims of a token payload, read in one pass by [`TokenClaims::scan`]:
/// the whole payload is checked as strictly as [`crate::core::json::parse_object`] does
/// (a repeated member refused at any depth), but only the claims in `REGISTERED` are kept,
/// their strings borrowed from the payload.
#[derive(Debug)]
pub struct TokenClaims<'a> {
    slots: [Option<Val<'a>>; REGISTERED.len()],
}

impl<'a> TokenClaims<'a> {
    /// Reads `payload`; the error is `parse_object`'s message.
    pub fn scan(payload: &'a [u8]) -> std::result::Result<Self, String> {
        crate::core::json::scan_object(payload, registered_slot).map(|slots| TokenClaims { slots })
    }

    /// Whether the claim is present (any type).
    pub fn contains(&self, name: &str) -> bool {
        self.claim(name).is_some()
    }
}

impl<'a> ClaimSet for TokenClaims<'a> {
    type V = Val<'a>;
    /// # Panics
    /// For a name outside `REGISTERED`: the reader did not keep it, and answering "absent"
    /// could pass a check that should fail. A panic (caught at the C boundary as an
    /// internal error) fails closed; the test suites exercise every name the checks use.
    fn claim(&self, name: &str) -> Option<&Val<'a>> {
        match registered_slot(name) {
            Some(i) => self.slots[i].as_ref(),
            None => panic!("claim {name:?} is not read by the one-pass claim reader (add it to REGISTERED)"),
        }
    }
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

pub fn opt_str<'a, C: ClaimSet>(c: &'a C, name: &str) -> Result<Option<&'a str>> {
    match c.claim(name) {
        None => Ok(None),
        Some(v) => match v.as_str() {
            Some(s) => Ok(Some(s)),
            None => Err(Error::validation(format!("claim \"{name}\" must be a string, found {}", v.type_name()))),
        },
    }
}

pub fn req_str<'a, C: ClaimSet>(c: &'a C, name: &str) -> Result<&'a str> {
    opt_str(c, name)?.ok_or_else(|| Error::validation(format!("required claim \"{name}\" is missing")))
}

/// A NumericDate: a JSON number of seconds (fractions are truncated).
pub fn opt_time<C: ClaimSet>(c: &C, name: &str) -> Result<Option<i64>> {
    let Some(v) = c.claim(name) else { return Ok(None) };
    match v.as_number() {
        Some(n) => {
            if let Some(i) = n.as_i64() {
                Ok(Some(i))
            } else if let Some(f) = n.as_f64().filter(|f| f.is_finite() && f.abs() < 1e15) {
                Ok(Some(f.trunc() as i64))
            } else {
                Err(Error::validation(format!("claim \"{name}\" is not a usable NumericDate: {n}")))
            }
        }
        None => Err(Error::validation(format!(
            "claim \"{name}\" must be a number (NumericDate), found {}",
            v.type_name()
        ))),
    }
}

pub fn req_time<C: ClaimSet>(c: &C, name: &str) -> Result<i64> {
    opt_time(c, name)?.ok_or_else(|| Error::validation(format!("required claim \"{name}\" is missing")))
}

/// `min_iat` against a token's `iat`, compared exactly: the bound may be fractional
/// (Python's `time.time()`), and so may the claim (a NumericDate may carry fractions).
pub fn check_min_iat<C: ClaimSet>(c: &C, min_iat: f64) -> Result<()> {
    req_time(c, "iat")?; // presence and type, with the usual messages
    // req_time accepted a finite number, so as_f64 cannot fail; were it to, the token fails.
    let n = c.claim("iat").and_then(JsonView::as_number);
    let iat = n.and_then(Number::as_f64).unwrap_or(f64::NEG_INFINITY);
    if iat < min_iat {
        let shown = n.map(Number::to_string).unwrap_or_default();
        return Err(Error::validation(format!("iat {shown} is before min_iat {min_iat}")));
    }
    Ok(())
}

/// OpenID Connect Core 1.0 §2: `sub` "MUST NOT exceed 255 ASCII [RFC20] characters in
/// length". The limit is applied to the UTF-8 length in octets, which equals the
/// character count for an ASCII `sub`. A non-ASCII `sub` is not refused for being
/// non-ASCII (Core states a length limit, not a character set), only for being longer
/// than 255 octets, so that an RP can rely on a 255-byte column whatever the provider sends.
pub(crate) const MAX_SUB_LEN: usize = 255;

pub fn check_sub_length(sub: &str) -> Result<()> {
    if sub.len() > MAX_SUB_LEN {
        return Err(Error::validation(format!(
            "claim \"sub\" is {} bytes long; OpenID Connect Core §2 allows at most {MAX_SUB_LEN}",
            sub.len()
        ))
        .with_detail("reason", "sub"));
    }
    Ok(())
}

/// `aud`: a string or an array of strings, never empty.
pub fn audiences<C: ClaimSet>(c: &C) -> Result<Vec<&str>> {
    let Some(v) = c.claim("aud") else { return Err(Error::validation("required claim \"aud\" is missing")) };
    if let Some(s) = v.as_str() {
        return Ok(vec![s]);
    }
    match v.as_array() {
        Some(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item.as_str() {
                    Some(s) => out.push(s),
                    None => {
                        return Err(Error::validation(format!(
                            "claim \"aud\" must hold only strings, found {}",
                            item.type_name()
                        )))
                    }
                }
            }
            if out.is_empty() {
                return Err(Error::validation("claim \"aud\" is an empty array"));
            }
            Ok(out)
        }
        None => Err(Error::validation(format!(
            "claim \"aud\" must be a string or an array of strings, found {}",
            v.type_name()
        ))),
    }
}

pub fn check_issuer<C: ClaimSet>(c: &C, issuer: &str) -> Result<()> {
    let iss = req_str(c, "iss")?;
    if iss != issuer {
        return Err(Error::validation(format!("iss {} does not match the issuer {}", quote_untrusted(iss), quote_untrusted(issuer)))
            .with_detail("reason", "issuer"));
    }
    Ok(())
}

/// `exp` (required unless `exp_required` is false), `nbf` and `iat` against
/// the clock with `leeway` seconds of skew allowed in each direction.
pub fn check_times<C: ClaimSet>(c: &C, now: i64, leeway: i64, exp_required: bool, iat_required: bool) -> Result<()> {
    let exp = if exp_required { Some(req_time(c, "exp")?) } else { opt_time(c, "exp")? };
    if let Some(exp) = exp {
        if now >= exp.saturating_add(leeway) {
            return Err(Error::validation(format!(
                "token expired at {exp} (now {now}, leeway {leeway} s)"
            ))
            .with_detail("reason", "expired"));
        }
    }
    if let Some(nbf) = opt_time(c, "nbf")? {
        if now.saturating_add(leeway) < nbf {
            return Err(Error::validation(format!(
                "token is not valid before {nbf} (now {now}, leeway {leeway} s)"
            )));
        }
    }
    let iat = if iat_required { Some(req_time(c, "iat")?) } else { opt_time(c, "iat")? };
    if let Some(iat) = iat {
        if iat > now.saturating_add(leeway) {
            return Err(Error::validation(format!(
                "iat {iat} is in the future (now {now}, leeway {leeway} s)"
            )));
        }
    }
    Ok(())
}

/// Renders a list of audiences for messages: `["a", "b"]`, each quoted with
/// [`quote_untrusted`] and at most 8 shown.
pub fn show_list(items: &[&str]) -> String {
    let mut parts: Vec<String> = items.iter().take(8).map(|s| quote_untrusted(s)).collect();
    if items.len() > 8 {
        parts.push(format!("... ({} in all)", items.len()));
    }
    format!("[{}]", parts.join(", "))
}
