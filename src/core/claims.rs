//! Typed access to JWT claims. A claim of the wrong JSON type is a validation
//! error naming the claim and the type found, never treated as absent.

use crate::core::error::{quote_untrusted, Error, Result};
use crate::core::jose::json_type;
use serde_json::{Map, Value};
use std::time::{SystemTime, UNIX_EPOCH};

pub type Claims = Map<String, Value>;

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

pub fn opt_str<'a>(c: &'a Claims, name: &str) -> Result<Option<&'a str>> {
    match c.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(Error::validation(format!("claim \"{name}\" must be a string, found {}", json_type(v)))),
    }
}

pub fn req_str<'a>(c: &'a Claims, name: &str) -> Result<&'a str> {
    opt_str(c, name)?.ok_or_else(|| Error::validation(format!("required claim \"{name}\" is missing")))
}

/// A NumericDate: a JSON number of seconds (fractions are truncated).
pub fn opt_time(c: &Claims, name: &str) -> Result<Option<i64>> {
    match c.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                Ok(Some(i))
            } else if let Some(f) = n.as_f64().filter(|f| f.is_finite() && f.abs() < 1e15) {
                Ok(Some(f.trunc() as i64))
            } else {
                Err(Error::validation(format!("claim \"{name}\" is not a usable NumericDate: {n}")))
            }
        }
        Some(v) => Err(Error::validation(format!(
            "claim \"{name}\" must be a number (NumericDate), found {}",
            json_type(v)
        ))),
    }
}

pub fn req_time(c: &Claims, name: &str) -> Result<i64> {
    opt_time(c, name)?.ok_or_else(|| Error::validation(format!("required claim \"{name}\" is missing")))
}

/// `min_iat` against a token's `iat`, compared exactly: the bound may be fractional
/// (Python's `time.time()`), and so may the claim (a NumericDate may carry fractions).
pub fn check_min_iat(c: &Claims, min_iat: f64) -> Result<()> {
    req_time(c, "iat")?; // presence and type, with the usual messages
    // req_time accepted a finite number, so as_f64 cannot fail; were it to, the token fails.
    let iat = c.get("iat").and_then(Value::as_f64).unwrap_or(f64::NEG_INFINITY);
    if iat < min_iat {
        return Err(Error::validation(format!("iat {} is before min_iat {min_iat}", c["iat"])));
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
pub fn audiences(c: &Claims) -> Result<Vec<&str>> {
    match c.get("aud") {
        None => Err(Error::validation("required claim \"aud\" is missing")),
        Some(Value::String(s)) => Ok(vec![s.as_str()]),
        Some(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) => out.push(s.as_str()),
                    v => {
                        return Err(Error::validation(format!(
                            "claim \"aud\" must hold only strings, found {}",
                            json_type(v)
                        )))
                    }
                }
            }
            if out.is_empty() {
                return Err(Error::validation("claim \"aud\" is an empty array"));
            }
            Ok(out)
        }
        Some(v) => Err(Error::validation(format!(
            "claim \"aud\" must be a string or an array of strings, found {}",
            json_type(v)
        ))),
    }
}

pub fn check_issuer(c: &Claims, issuer: &str) -> Result<()> {
    let iss = req_str(c, "iss")?;
    if iss != issuer {
        return Err(Error::validation(format!("iss {} does not match the issuer {}", quote_untrusted(iss), quote_untrusted(issuer)))
            .with_detail("reason", "issuer"));
    }
    Ok(())
}

/// `exp` (required unless `exp_required` is false), `nbf` and `iat` against
/// the clock with `leeway` seconds of skew allowed in each direction.
pub fn check_times(c: &Claims, now: i64, leeway: i64, exp_required: bool, iat_required: bool) -> Result<()> {
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
