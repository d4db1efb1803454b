//! JWT access tokens (RFC 9068).

use crate::core::claims::{self, ClaimSet, Claims, JsonView};
use crate::core::dpop_verify::{self, Mode};
use crate::core::client::{Client, Decoded};
use crate::core::error::{quote_untrusted, Error, Result};
use crate::core::grants::StringOrList;
use crate::core::jose::{self, typ_is};
use crate::core::keys::KeyPolicy;
use crate::core::options;
use serde::Deserialize;
use serde_json::Value;

impl Client {
    /// RFC 9068 §4: typ at+jwt, signature, iss, exp, aud, sub, client_id (azp
    /// normalised to client_id as simple_openid_connect does), iat, jti, and
    /// the required scopes.
    pub fn decode_access_token(&self, raw: &str, options_json: Option<&str>) -> Result<Claims> {
        self.decode_access_token_full(raw, options_json).and_then(|d| d.claims())
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
            // DPoP (RFC 9449 §7.1), see dpop_verify.rs.
            dpop_proof: Option<String>,
            http_method: Option<String>,
            http_uri: Option<String>,
            dpop: Option<String>,
            dpop_max_age_s: Option<u64>,
            dpop_nonce: Option<String>,
            /// RFC 8705 §3: the certificate the request came with (see `mtls.rs`).
            client_cert_pem: Option<String>,
        }
        let o: AccessTokenOptions = options::parse(options_json, "options_json")?;
        let dpop_mode = dpop_verify::Mode::parse(o.dpop.as_deref())?;
        let dpop_request = self.dpop_request(&o.dpop_proof, &o.http_method, &o.http_uri, o.dpop_max_age_s, &o.dpop_nonce)?;
        let policy = KeyPolicy {
            allow_fetch: o.cache_only != Some(true),
            request: self.request_options(o.timeout_ms)?,
        };
        let cert_x5t = o.client_cert_pem.as_deref().map(crate::core::mtls::thumbprint_of_given_cert).transpose()?;
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
            let c = jws.claims()?;
            if !typ_is(jws.typ.as_deref(), "at+jwt") {
                return Err(Error::validation(format!(
                    "header typ {} is not at+jwt (RFC 9068 §4)",
                    jws.typ.as_deref().map(quote_untrusted).unwrap_or_else(|| "(absent)".into())
                )));
            }
            self.verify_signature(&jws, policy)?;
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
            // RFC 9068 §2.2 requires client_id; a token with only azp gets client_id = azp
            // (as simple_openid_connect does), in the document handed out too.
            let normalised_azp = match claims::opt_str(&c, "client_id")? {
                Some(_) => None,
                None => match claims::opt_str(&c, "azp")? {
                    Some(azp) => Some(azp.to_owned()),
                    None => return Err(Error::validation("required claim \"client_id\" (or azp) is missing")),
                },
            };
            if let Some(required) = &o.required_scopes {
                let have: Vec<&str> = match c.claim("scope") {
                    None => Vec::new(),
                    Some(v) => match v.as_str() {
                        Some(s) => s.split(' ').filter(|s| !s.is_empty()).collect(),
                        None => return Err(Error::validation(format!("claim \"scope\" must be a string, found {}", v.type_name()))),
                    },
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
            crate::core::mtls::check_certificate_binding(&c, cert_x5t.as_deref())?;
            // The DPoP proof once the token itself is valid, so that only proofs for valid
            // tokens reach the replay cache; a bad proof (401) comes before a missing
            // privilege (403).
            self.check_dpop_binding(raw, &c, dpop_mode, dpop_request.as_ref())?;
            drop(c);
            // The full claims map only when something needs more than the registered
            // claims: the caller's rules, or the azp normalisation of the document.
            let mut full: Option<Claims> = None;
            let mut payload = jws.payload;
            if let Some(azp) = normalised_azp {
                let mut map = jose_claims_map(&payload)?;
                map.insert("client_id".into(), Value::String(azp));
                // The document handed out shows the normalised claims.
                payload = serde_json::to_vec(&map).map_err(|e| Error::internal(e.to_string()))?;
                full = Some(map);
            }
            // Last, the caller's claim rules, on a token accepted otherwise. A token that
            // is valid but fails a rule lacks a privilege the resource needs: RFC 6750
            // §3.1 `insufficient_scope` (HTTP 403), as a missing required scope.
            if let Some(rules) = &o.require_claims {
                let map = match full {
                    Some(m) => m,
                    None => jose_claims_map(&payload)?,
                };
                rules.check(&map).map_err(|e| e.with_detail("error", "insufficient_scope"))?;
            }
            Ok(Decoded { payload })
        };
        run().map_err(|e| if e.kind == crate::core::ErrorKind::Validation { e.context("access token") } else { e })
    }
}

/// Every claim of a payload already read strictly once (the rare paths that need more than
/// the registered claims).
fn jose_claims_map(payload: &[u8]) -> Result<Claims> {
    crate::core::json::parse_object(payload).map_err(|e| Error::validation(format!("token payload is not a JSON object: {e}")))
}

impl Client {
    /// The DPoP options of one decode, checked: with `dpop_proof`, `http_method` and
    /// `http_uri` are required.
    fn dpop_request<'a>(
        &self,
        proof: &'a Option<String>,
        method: &'a Option<String>,
        uri: &Option<String>,
        max_age_s: Option<u64>,
        nonce: &'a Option<String>,
    ) -> Result<Option<dpop_verify::Request<'a>>> {
        let max_age_s = max_age_s.unwrap_or(dpop_verify::DEFAULT_MAX_AGE_S);
        if !(1..=options::MAX_DPOP_WINDOW_S).contains(&max_age_s) {
            return Err(Error::invalid_argument(format!(
                "options_json: dpop_max_age_s must be between 1 and {}, got {max_age_s}",
                options::MAX_DPOP_WINDOW_S
            )));
        }
        if let Some(n) = nonce {
            if n.is_empty() {
                return Err(Error::invalid_argument("options_json: dpop_nonce must not be empty"));
            }
        }
        // Without a proof, http_method and http_uri are accepted and unused: a server may
        // pass them on every request.
        let Some(proof) = proof else { return Ok(None) };
        let method = match method.as_deref() {
            None => return Err(Error::invalid_argument("options_json: dpop_proof needs http_method (the request's method)")),
            Some(m) if m.is_empty() || !m.bytes().all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b)) => {
                return Err(Error::invalid_argument(format!(
                    "options_json: http_method {} is not an HTTP method token",
                    quote_untrusted(m)
                )))
            }
            Some(m) => m,
        };
        let uri = match uri.as_deref() {
            None => return Err(Error::invalid_argument("options_json: dpop_proof needs http_uri (the request's absolute URI)")),
            Some(u) => dpop_verify::normalise_htu(u)
                .map_err(|e| Error::invalid_argument(format!("options_json: http_uri {}: {e}", quote_untrusted(u))))?,
        };
        // A proof older than the replay window could be replayed once its jti is forgotten:
        // the window bounds the accepted age.
        let max_age_s = max_age_s.min(self.config.dpop_replay_window_s);
        Ok(Some(dpop_verify::Request {
            proof,
            method,
            uri,
            max_age_s,
            replay_window_s: self.config.dpop_replay_window_s,
            leeway_s: self.config.leeway_s,
            nonce: nonce.as_deref(),
        }))
    }

    /// RFC 9449 §7.1: a token bound to a key (`cnf.jkt`) needs a valid proof of that key;
    /// see [`Mode`] for unbound tokens.
    fn check_dpop_binding<C: ClaimSet>(&self, raw: &str, c: &C, mode: Mode, req: Option<&dpop_verify::Request<'_>>) -> Result<()> {
        let jkt = match c.claim("cnf") {
            None => None,
            Some(cnf) if cnf.is_object() => match cnf.member("jkt") {
                None => None,
                Some(j) => match j.as_str() {
                    Some(j) => Some(j),
                    None => {
                        return Err(dpop_verify::fail("dpop_jkt", format!("the token's cnf.jkt is {}, expected a string", j.type_name())))
                    }
                },
            },
            Some(v) => return Err(Error::validation(format!("claim \"cnf\" must be an object, found {}", v.type_name()))),
        };
        match (req, jkt) {
            (None, Some(_)) => Err(dpop_verify::fail(
                "dpop_missing",
                "the token is DPoP-bound (cnf.jkt) and no proof was presented (RFC 9449 §7.1)",
            )),
            (None, None) if mode == Mode::Required => Err(dpop_verify::fail(
                "dpop_jkt",
                "the token is not DPoP-bound (no cnf.jkt) and dpop is \"required\"",
            )),
            (None, None) => Ok(()),
            (Some(_), None) if mode == Mode::Required => Err(dpop_verify::fail(
                "dpop_jkt",
                "the token is not DPoP-bound (no cnf.jkt) and dpop is \"required\"",
            )),
            (Some(_), None) if mode == Mode::Default => Err(dpop_verify::fail(
                "dpop_unexpected",
                "a proof was presented with a token that is not DPoP-bound (no cnf.jkt)",
            )),
            (Some(req), jkt) => {
                dpop_verify::verify(req, raw, jkt, &self.dpop_jtis, &self.dpop_keys, claims::now()).map(|_| ())
            }
        }
    }
}
