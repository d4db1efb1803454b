//! JWT access tokens (RFC 9068).

use crate::core::claims::{self, Claims};
use crate::core::client::{Client, Decoded};
use crate::core::error::{quote_untrusted, Error, Result};
use crate::core::grants::StringOrList;
use crate::core::jose::{self, json_type, typ_is};
use crate::core::keys::KeyPolicy;
use crate::core::options;
use serde::Deserialize;
use serde_json::Value;

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
            audience: Option<StringOrList>,
            required_scopes: Option<Vec<String>>,
            cache_only: Option<bool>,
            require_claims: Option<crate::core::claim_rules::ClaimRules>,
        }
        let o: AccessTokenOptions = options::parse(options_json, "options_json")?;
        let policy = KeyPolicy {
            allow_fetch: o.cache_only != Some(true),
            request: self.request_options(o.timeout_ms)?,
        };
        let audiences: Vec<&str> = match &o.audience {
            None => vec![self.client_id.as_str()],
            Some(StringOrList::One(a)) => vec![a.as_str()],
            Some(StringOrList::Many(list)) if list.is_empty() => {
                return Err(Error::invalid_argument("options_json: audience must not be an empty list"))
            }
            Some(StringOrList::Many(list)) => list.iter().map(String::as_str).collect(),
        };
        let run = || -> Result<Decoded> {
            let jws = jose::parse(raw)?;
            if !typ_is(jws.typ.as_deref(), "at+jwt") {
                return Err(Error::validation(format!(
                    "header typ {} is not at+jwt (RFC 9068 §4)",
                    jws.typ.as_deref().map(quote_untrusted).unwrap_or_else(|| "(absent)".into())
                )));
            }
            self.verify_signature(&jws, policy)?;
            let mut c = jws.claims;
            let mut payload = jws.payload;
            claims::check_issuer(&c, &self.issuer)?;
            claims::check_times(&c, claims::now(), self.config.leeway_s as i64, true, true)?;
            let aud = claims::audiences(&c)?;
            if !audiences.iter().any(|a| aud.contains(a)) {
                let wanted = match audiences.as_slice() {
                    [one] => format!("the audience {}", quote_untrusted(one)),
                    many => format!("any of the audiences {}", claims::show_list(many)),
                };
                return Err(Error::validation(format!(
                    "aud {} does not contain {wanted}",
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
                        quote_untrusted(&have.join(" ")),
                        quote_untrusted(missing)
                    )))
                    .map_err(|e| e.with_detail("error", "insufficient_scope").with_detail("reason", "scope"));
                }
            }
            // Last: the caller's claim rules, on a token accepted otherwise. A token that
            // is valid but fails a rule lacks a privilege the resource needs: RFC 6750
            // §3.1 `insufficient_scope` (HTTP 403), as a missing required scope.
            if let Some(rules) = &o.require_claims {
                rules.check(&c).map_err(|e| e.with_detail("error", "insufficient_scope"))?;
            }
            Ok(Decoded { claims: c, payload })
        };
        run().map_err(|e| if e.kind == crate::core::ErrorKind::Validation { e.context("access token") } else { e })
    }
}
