//! JWT access tokens (RFC 9068) and back-channel logout tokens (OpenID Connect
//! Back-Channel Logout 1.0 §2.4/§2.6).

use crate::core::claims::{self, Claims};
use crate::core::client::{Client, Decoded};
use crate::core::error::{q, Error, Result};
use crate::core::jose::{self, json_type};
use crate::core::keys::KeyPolicy;
use crate::core::options;
use serde::Deserialize;
use serde_json::Value;

const BCL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

fn typ_is(typ: Option<&str>, expected: &str) -> bool {
    typ.is_some_and(|t| {
        let t = t.to_ascii_lowercase();
        t == expected || t.strip_prefix("application/") == Some(expected)
    })
}

impl Client {
    /// RFC 9068 §4: typ at+jwt, signature, iss, exp, aud, sub, client_id (azp
    /// normalised to client_id as simple_openid_connect does), iat, jti, and
    /// the required scopes.
    pub fn decode_access_token(&self, raw: &str, options_json: Option<&str>) -> Result<Claims> {
        self.decode_access_token_full(raw, options_json).map(|d| d.claims)
    }

    /// As [`Client::decode_access_token`], also returning the claims document.
    pub fn decode_access_token_full(&self, raw: &str, options_json: Option<&str>) -> Result<Decoded> {
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct AccessTokenOptions {
            timeout_ms: Option<u64>,
            audience: Option<String>,
            required_scopes: Option<Vec<String>>,
            cache_only: Option<bool>,
        }
        let o: AccessTokenOptions = options::parse(options_json, "options_json")?;
        let policy = KeyPolicy {
            allow_fetch: o.cache_only != Some(true),
            request: self.request_options(o.timeout_ms)?,
        };
        let audience = o.audience.as_deref().unwrap_or(&self.client_id);
        let run = || -> Result<Decoded> {
            let jws = jose::parse(raw)?;
            if !typ_is(jws.typ.as_deref(), "at+jwt") {
                return Err(Error::validation(format!(
                    "header typ {} is not at+jwt (RFC 9068 §4)",
                    jws.typ.as_deref().map(q).unwrap_or_else(|| "(absent)".into())
                )));
            }
            self.verify_signature(&jws, policy)?;
            let mut c = jws.claims;
            let mut payload = jws.payload;
            claims::check_issuer(&c, &self.issuer)?;
            claims::check_times(&c, claims::now(), self.config.leeway_s as i64, true, true)?;
            let aud = claims::audiences(&c)?;
            if !aud.contains(&audience) {
                return Err(Error::validation(format!(
                    "aud {} does not contain the audience \"{audience}\"",
                    claims::show_list(&aud)
                ))
                .with_detail("reason", "audience"));
            }
            claims::req_str(&c, "sub")?;
            claims::req_str(&c, "jti")?;
            if claims::opt_str(&c, "client_id")?.is_none() {
                match claims::opt_str(&c, "azp")? {
                    Some(azp) => {
                        let azp = azp.to_owned();
                        c.insert("client_id".into(), Value::String(azp));
                        // The document handed out shows the normalised claims.
                        payload = serde_json::to_vec(&c).map_err(|e| Error::internal(e.to_string()))?;
                    }
                    None => return Err(Error::validation("required claim \"client_id\" (or azp) is missing")),
                }
            }
            if let Some(required) = &o.required_scopes {
                let have: Vec<&str> = match c.get("scope") {
                    None => Vec::new(),
                    Some(Value::String(s)) => s.split(' ').filter(|s| !s.is_empty()).collect(),
                    Some(v) => return Err(Error::validation(format!("claim \"scope\" must be a string, found {}", json_type(v)))),
                };
                if let Some(missing) = required.iter().find(|r| !have.contains(&r.as_str())) {
                    return Err(Error::validation(format!(
                        "scope {} lacks the required scope {}",
                        q(&have.join(" ")),
                        q(missing)
                    )))
                    .map_err(|e| e.with_detail("error", "insufficient_scope").with_detail("reason", "scope"));
                }
            }
            Ok(Decoded { claims: c, payload })
        };
        run().map_err(|e| if e.kind == crate::core::ErrorKind::Validation { e.context("access token") } else { e })
    }

    /// Back-Channel Logout 1.0 §2.6: signature, iss, aud (the client id, and
    /// nothing untrusted), iat, jti, the back-channel event, no nonce, sub or sid.
    pub fn decode_logout_token(&self, raw: &str, options_json: Option<&str>) -> Result<Claims> {
        self.decode_logout_token_full(raw, options_json).map(|d| d.claims)
    }

    /// As [`Client::decode_logout_token`], also returning the claims document.
    pub fn decode_logout_token_full(&self, raw: &str, options_json: Option<&str>) -> Result<Decoded> {
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct LogoutTokenOptions {
            timeout_ms: Option<u64>,
            extra_trusted_audiences: Option<Vec<String>>,
            min_iat: Option<i64>,
            cache_only: Option<bool>,
        }
        let o: LogoutTokenOptions = options::parse(options_json, "options_json")?;
        let policy = KeyPolicy {
            allow_fetch: o.cache_only != Some(true),
            request: self.request_options(o.timeout_ms)?,
        };
        let trusted = o.extra_trusted_audiences.unwrap_or_default();
        let run = || -> Result<Decoded> {
            let jws = jose::parse(raw)?;
            if let Some(t) = jws.typ.as_deref() {
                if !typ_is(Some(t), "logout+jwt") && !t.eq_ignore_ascii_case("jwt") {
                    return Err(Error::validation(format!("header typ {} is not logout+jwt", q(t))));
                }
            }
            self.verify_signature(&jws, policy)?;
            let c = jws.claims;
            let payload = jws.payload;
            claims::check_issuer(&c, &self.issuer)?;
            let aud = claims::audiences(&c)?;
            if !aud.contains(&self.client_id.as_str()) {
                return Err(Error::validation(format!(
                    "aud {} does not contain client_id \"{}\"",
                    claims::show_list(&aud),
                    self.client_id
                )));
            }
            if let Some(u) = aud.iter().find(|a| **a != self.client_id && !trusted.iter().any(|t| t == *a)) {
                return Err(Error::validation(format!(
                    "aud {} contains {}, which is neither client_id nor in extra_trusted_audiences",
                    claims::show_list(&aud),
                    q(u)
                )));
            }
            claims::check_times(&c, claims::now(), self.config.leeway_s as i64, false, true)?;
            if let Some(min) = o.min_iat {
                let iat = claims::req_time(&c, "iat")?;
                if iat < min {
                    return Err(Error::validation(format!("iat {iat} is before min_iat {min}")));
                }
            }
            claims::req_str(&c, "jti")?;
            match c.get("events") {
                Some(Value::Object(ev)) => match ev.get(BCL_EVENT) {
                    Some(Value::Object(_)) => {}
                    Some(v) => return Err(Error::validation(format!("events member \"{BCL_EVENT}\" must be a JSON object, found {}", json_type(v)))),
                    None => return Err(Error::validation(format!("events has no \"{BCL_EVENT}\" member"))),
                },
                Some(v) => return Err(Error::validation(format!("claim \"events\" must be an object, found {}", json_type(v)))),
                None => return Err(Error::validation("required claim \"events\" is missing")),
            }
            if c.contains_key("nonce") {
                return Err(Error::validation("a logout token must not contain a nonce"));
            }
            let sub = claims::opt_str(&c, "sub")?;
            let sid = claims::opt_str(&c, "sid")?;
            if sub.is_none() && sid.is_none() {
                return Err(Error::validation("a logout token must contain sub or sid"));
            }
            Ok(Decoded { claims: c, payload })
        };
        run().map_err(|e| if e.kind == crate::core::ErrorKind::Validation { e.context("logout token") } else { e })
    }
}
