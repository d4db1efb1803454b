//! Back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.4/§2.6), with
//! the `jti` replay cache of logout tokens accepted without `exp`.

use crate::core::claims::{self, ClaimSet, Claims, JsonView};
use crate::core::client::{Client, Decoded};
use crate::core::error::{quote_untrusted, Error, Result};
use crate::core::jose::{self, typ_is};
use crate::core::keys::KeyPolicy;
use crate::core::log::Level;
use crate::core::options;
use crate::log_at;
use serde::Deserialize;

/// `max_age_s` of logout tokens without `exp`: default and upper bound.
pub(crate) const DEFAULT_LOGOUT_MAX_AGE_S: u64 = 120;
pub(crate) const MAX_LOGOUT_MAX_AGE_S: u64 = 600;

const BCL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

impl Client {
    /// How many logout-token `jti`s the replay cache holds (for tests of its bound).
    #[doc(hidden)]
    pub fn logout_jtis_held(&self) -> usize {
        self.logout_jtis.len()
    }

    /// Back-Channel Logout 1.0 §2.6: signature, iss, aud (the client id, and
    /// nothing untrusted), iat, jti, the back-channel event, no nonce, sub or sid.
    pub fn decode_logout_token(&self, raw: &str, options_json: Option<&str>) -> Result<Claims> {
        self.decode_logout_token_full(raw, options_json).and_then(|d| d.claims())
    }

    /// As [`Client::decode_logout_token`], also returning the claims document.
    pub fn decode_logout_token_full(&self, raw: &str, options_json: Option<&str>) -> Result<Decoded> {
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct LogoutTokenOptions {
            timeout_ms: Option<u64>,
            extra_trusted_audiences: Option<Vec<String>>,
            min_iat: Option<f64>,
            cache_only: Option<bool>,
            allow_missing_exp: Option<bool>,
            max_age_s: Option<u64>,
            require_claims: Option<crate::core::claim_rules::ClaimRules>,
        }
        let o: LogoutTokenOptions = options::parse(options_json, "options_json")?;
        if let Some(min) = o.min_iat {
            options::check_min_iat(min, "options_json")?;
        }
        let allow_missing_exp = o.allow_missing_exp.unwrap_or(false);
        let max_age_s = match (o.max_age_s, allow_missing_exp) {
            (Some(_), false) => {
                return Err(Error::invalid_argument(
                    "options_json: max_age_s applies only to tokens without exp and needs allow_missing_exp: true",
                ))
            }
            (Some(v), true) if v == 0 || v > MAX_LOGOUT_MAX_AGE_S => {
                return Err(Error::invalid_argument(format!(
                    "options_json: max_age_s must be between 1 and {MAX_LOGOUT_MAX_AGE_S}, got {v}"
                )))
            }
            (v, _) => v.unwrap_or(DEFAULT_LOGOUT_MAX_AGE_S) as i64,
        };
        let policy = KeyPolicy {
            allow_fetch: o.cache_only != Some(true),
            request: self.request_options(o.timeout_ms)?,
        };
        let trusted = o.extra_trusted_audiences.unwrap_or_default();
        let run = || -> Result<Decoded> {
            let jws = jose::parse(raw)?;
            let c = jws.claims()?;
            if let Some(t) = jws.typ.as_deref() {
                if !typ_is(Some(t), "logout+jwt") && !t.eq_ignore_ascii_case("jwt") {
                    return Err(Error::validation(format!("header typ {} is not logout+jwt", quote_untrusted(t))));
                }
            }
            self.verify_signature(&jws, policy)?;
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
                    quote_untrusted(u)
                )));
            }
            // Back-Channel Logout 1.0 (final, incorporating errata set 1) §2.4 lists exp as
            // REQUIRED, and §2.6 step 4 validates "the iss, aud, iat, and exp Claims in the
            // same way they are validated in ID Tokens". Providers built on earlier drafts
            // omit it: `allow_missing_exp` accepts those within a window of their iat.
            let now = claims::now();
            let leeway = self.config.leeway_s as i64;
            let has_exp = claims::opt_time(&c, "exp")?.is_some();
            if !has_exp && !allow_missing_exp {
                return Err(Error::validation(
                    "required claim \"exp\" is missing (Back-Channel Logout 1.0 §2.4; allow_missing_exp accepts such tokens within max_age_s of their iat)",
                )
                .with_detail("reason", "exp"));
            }
            claims::check_times(&c, now, leeway, false, true)?;
            let iat = claims::req_time(&c, "iat")?;
            let window_end = iat.saturating_add(max_age_s).saturating_add(leeway);
            if !has_exp && now >= window_end {
                return Err(Error::validation(format!(
                    "token has no exp and was issued at {iat}, more than max_age_s {max_age_s} s ago (now {now}, leeway {leeway} s)"
                ))
                .with_detail("reason", "expired"));
            }
            if let Some(min) = o.min_iat {
                claims::check_min_iat(&c, min)?;
            }
            let jti = claims::req_str(&c, "jti")?;
            match c.claim("events") {
                Some(ev) if ev.is_object() => match ev.member(BCL_EVENT) {
                    Some(e) if e.is_object() => {}
                    Some(v) => return Err(Error::validation(format!("events member \"{BCL_EVENT}\" must be a JSON object, found {}", v.type_name()))),
                    None => return Err(Error::validation(format!("events has no \"{BCL_EVENT}\" member"))),
                },
                Some(v) => return Err(Error::validation(format!("claim \"events\" must be an object, found {}", v.type_name()))),
                None => return Err(Error::validation("required claim \"events\" is missing")),
            }
            if c.contains("nonce") {
                return Err(Error::validation("a logout token must not contain a nonce"));
            }
            let sub = claims::opt_str(&c, "sub")?;
            let sid = claims::opt_str(&c, "sid")?;
            if sub.is_none() && sid.is_none() {
                return Err(Error::validation("a logout token must contain sub or sid"));
            }
            if let Some(sub) = sub {
                claims::check_sub_length(sub)?;
            }
            // The caller's claim rules, before the replay cache so that a token they
            // refuse never occupies it.
            if let Some(rules) = &o.require_claims {
                rules.check(&jws.claims_map()?)?;
            }
            // Last, once every other check passed, so that a rejected token never
            // occupies the cache: without exp, nothing else stops a replay.
            if !has_exp {
                if !self.logout_jtis.insert_new(&self.issuer, jti, window_end, now) {
                    return Err(Error::validation(format!(
                        "jti {} was already accepted (a replayed logout token without exp)",
                        quote_untrusted(jti)
                    ))
                    .with_detail("reason", "replay"));
                }
                log_at!(Level::Debug, "logout token without exp accepted (allow_missing_exp); its jti is remembered for {} s", window_end - now);
            }
            drop(c);
            Ok(Decoded { payload: jws.payload })
        };
        run().map_err(|e| if e.kind == crate::core::ErrorKind::Validation { e.context("logout token") } else { e })
    }
}
