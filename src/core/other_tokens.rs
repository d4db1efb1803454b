//! JWT access tokens (RFC 9068) and back-channel logout tokens (OpenID Connect
//! Back-Channel Logout 1.0 §2.4/§2.6), with the `jti` replay cache of logout
//! tokens accepted without `exp`.

use crate::core::claims::{self, Claims};
use crate::core::client::{Client, Decoded};
use crate::core::error::{q, Error, Result};
use crate::core::jose::{self, json_type};
use crate::core::keys::KeyPolicy;
use crate::core::options;
use crate::core::grants::StringOrList;
use crate::core::log::Level;
use crate::log_at;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// How many `jti`s the replay cache of one client holds at most; the oldest goes first.
pub(crate) const JTI_CACHE_CAP: usize = 10_000;
/// `max_age_s` of logout tokens without `exp`: default and upper bound.
pub(crate) const DEFAULT_LOGOUT_MAX_AGE_S: u64 = 120;
pub(crate) const MAX_LOGOUT_MAX_AGE_S: u64 = 600;

/// The `jti`s of logout tokens accepted without `exp`, each remembered until the end
/// of its acceptance window (iat + max_age_s + leeway), so that the same token cannot
/// be accepted twice within it.
///
/// Trade-offs: the cache lives in one client in one process. Several processes (nginx
/// workers, preforked servers) or several clients for the same provider each keep their
/// own, so a token replayed to another process is not detected; nor is one replayed
/// after a restart (its window is at most `MAX_LOGOUT_MAX_AGE_S` plus leeway, which bounds
/// that). It holds at most [`JTI_CACHE_CAP`] entries of 32 bytes (a SHA-256 of iss and
/// jti, so a long jti costs nothing); beyond that the oldest entry is evicted. Only
/// tokens whose signature and claims were valid reach it, so filling it takes the
/// provider's key.
#[derive(Default)]
pub struct JtiCache {
    inner: Mutex<JtiEntries>,
}

#[derive(Default)]
struct JtiEntries {
    /// key -> (end of window, insertion number)
    map: HashMap<[u8; 32], (i64, u64)>,
    /// insertion order: (key, insertion number)
    order: VecDeque<([u8; 32], u64)>,
    next: u64,
}

impl JtiCache {
    fn key(iss: &str, jti: &str) -> [u8; 32] {
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        ctx.update(&(iss.len() as u64).to_be_bytes());
        ctx.update(iss.as_bytes());
        ctx.update(jti.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        out
    }

    /// Records `(iss, jti)` until `until`; false if it is already recorded and its
    /// window has not ended (a replay). Check and insertion are one atomic step.
    pub fn insert_new(&self, iss: &str, jti: &str, until: i64, now: i64) -> bool {
        let key = Self::key(iss, jti);
        // A panic elsewhere while holding the lock cannot leave the entries inconsistent
        // in a way that matters here, so a poisoned lock is still used.
        let mut e = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(&(end, _)) = e.map.get(&key) {
            if end > now {
                return false;
            }
        }
        // Drop ended entries from the front, then make room.
        while let Some(&(k, n)) = e.order.front() {
            let ended = e.map.get(&k).is_none_or(|&(end, m)| m != n || end <= now);
            if !ended && e.order.len() < JTI_CACHE_CAP {
                break;
            }
            e.order.pop_front();
            if e.map.get(&k).is_some_and(|&(_, m)| m == n) {
                e.map.remove(&k);
            }
        }
        let n = e.next;
        e.next += 1;
        e.map.insert(key, (until, n));
        e.order.push_back((key, n));
        true
    }

    /// How many entries are held (for tests of the bound).
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

const BCL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

fn typ_is(typ: Option<&str>, expected: &str) -> bool {
    typ.is_some_and(|t| {
        let t = t.to_ascii_lowercase();
        t == expected || t.strip_prefix("application/") == Some(expected)
    })
}

impl Client {
    /// How many logout-token `jti`s the replay cache holds (for tests of its bound).
    #[doc(hidden)]
    pub fn logout_jtis_held(&self) -> usize {
        self.logout_jtis.len()
    }

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
                    jws.typ.as_deref().map(q).unwrap_or_else(|| "(absent)".into())
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
                    [one] => format!("the audience {}", q(one)),
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
            min_iat: Option<f64>,
            cache_only: Option<bool>,
            allow_missing_exp: Option<bool>,
            max_age_s: Option<u64>,
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
            if let Some(sub) = sub {
                claims::check_sub_length(sub)?;
            }
            // Last, once every other check passed, so that a rejected token never
            // occupies the cache: without exp, nothing else stops a replay.
            if !has_exp {
                if !self.logout_jtis.insert_new(&self.issuer, jti, window_end, now) {
                    return Err(Error::validation(format!(
                        "jti {} was already accepted (a replayed logout token without exp)",
                        q(jti)
                    ))
                    .with_detail("reason", "replay"));
                }
                log_at!(Level::Debug, "logout token without exp accepted (allow_missing_exp); its jti is remembered for {} s", window_end - now);
            }
            Ok(Decoded { claims: c, payload })
        };
        run().map_err(|e| if e.kind == crate::core::ErrorKind::Validation { e.context("logout token") } else { e })
    }
}
