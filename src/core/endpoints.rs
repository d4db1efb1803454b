//! UserInfo, token introspection (RFC 7662), token revocation (RFC 7009) and
//! the RP-initiated logout URL.

use crate::core::claims;
use crate::core::client::Client;
use crate::core::error::{quote_untrusted, Error, ErrorKind, Result};
use crate::core::http::check_url;
use crate::core::jose;
use crate::core::keys::KeyPolicy;
use crate::core::options::{self, CallOptions};
use crate::core::token::{error_from_response, json_object};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Parses `error="..."`, `error_description="..."` from a `WWW-Authenticate: Bearer` (or
/// `DPoP`, RFC 9449 §7.1) header.
fn bearer_error(header: &str) -> Map<String, Value> {
    let mut out = Map::new();
    let rest = header.trim_start();
    let rest = ["Bearer", "bearer", "DPoP", "dpop"].iter().find_map(|p| rest.strip_prefix(p)).unwrap_or(rest);
    for part in rest.split(',') {
        if let Some((k, v)) = part.trim().split_once('=') {
            let k = k.trim();
            if ["error", "error_description", "error_uri"].contains(&k) {
                out.insert(k.to_owned(), Value::String(v.trim().trim_matches('"').to_owned()));
            }
        }
    }
    out
}

/// RFC 7662 §2.2: `active` is required and boolean.
pub fn check_introspection_response(body: &Map<String, Value>) -> Result<()> {
    match body.get("active") {
        Some(Value::Bool(_)) => Ok(()),
        Some(v) => Err(Error::protocol(format!("introspection response: active is {}, expected a boolean", jose::json_type(v)))),
        None => Err(Error::protocol("introspection response has no active member")),
    }
}

/// For an `active: true` answer, why its `exp` (past, beyond `leeway`) or `nbf` (future,
/// beyond `leeway`) makes it inactive after all; `None` when the times are fine or absent.
/// A time member that is not a number is a protocol error: the answer cannot be judged.
pub fn active_but_out_of_time(body: &Map<String, Value>, now: i64, leeway: i64) -> Result<Option<String>> {
    if body.get("active") != Some(&Value::Bool(true)) {
        return Ok(None);
    }
    let time = |name: &str| -> Result<Option<i64>> {
        claims::opt_time(body, name).map_err(|e| Error::protocol(format!("introspection response: {}", e.message)))
    };
    if let Some(exp) = time("exp")? {
        if now >= exp.saturating_add(leeway) {
            return Ok(Some(format!("expired at {exp} (now {now}, leeway {leeway} s)")));
        }
    }
    if let Some(nbf) = time("nbf")? {
        if now.saturating_add(leeway) < nbf {
            return Ok(Some(format!("is not valid before {nbf} (now {now}, leeway {leeway} s)")));
        }
    }
    Ok(None)
}

impl Client {
    /// UserInfo request with the access token as a Bearer header. JSON and
    /// signed-JWT (`application/jwt`) responses; `expected_sub` must match.
    pub fn fetch_userinfo(&self, access_token: &str, options_json: Option<&str>) -> Result<Value> {
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct UserinfoOptions {
            timeout_ms: Option<u64>,
            expected_sub: Option<String>,
            /// "Bearer" or "DPoP" (the token response's `token_type`); default: DPoP when
            /// the client has a DPoP key (it then only ever obtains DPoP-bound tokens).
            token_type: Option<String>,
            require_claims: Option<crate::core::claim_rules::ClaimRules>,
        }
        let o: UserinfoOptions = options::parse(options_json, "options_json")?;
        let dpop = match o.token_type.as_deref() {
            None => self.dpop.is_some(),
            Some(t) if t.eq_ignore_ascii_case("bearer") => false,
            Some(t) if t.eq_ignore_ascii_case("dpop") => {
                if self.dpop.is_none() {
                    return Err(Error::invalid_argument(
                        "options_json: token_type DPoP needs a client with a DPoP key (client option dpop)",
                    ));
                }
                true
            }
            Some(t) => {
                return Err(Error::invalid_argument(format!(
                    "options_json: token_type {} is not \"Bearer\" or \"DPoP\"",
                    quote_untrusted(t)
                )))
            }
        };
        let req = self.request_options(o.timeout_ms)?;
        let endpoint = self.endpoint_url(crate::core::mtls::Endpoint::Userinfo).ok_or_else(|| {
            Error::unsupported("the provider has no userinfo_endpoint")
        })?;
        let accept = ("Accept", "application/json, application/jwt");
        let resp = if dpop {
            // RFC 9449 §7.1: `Authorization: DPoP <token>` and a proof with `ath`; a
            // `use_dpop_nonce` challenge (§9) is answered once with the nonce given.
            let auth = zeroize::Zeroizing::new(format!("DPoP {access_token}"));
            self.with_dpop(crate::core::http::Method::Get, endpoint, Some(access_token), |proof| {
                let proof = proof.unwrap_or_default();
                self.http.get(endpoint, "userinfo endpoint", &[("Authorization", &auth), ("DPoP", proof), accept], req)
            })?
        } else {
            let auth = zeroize::Zeroizing::new(format!("Bearer {access_token}"));
            self.http.get(endpoint, "userinfo endpoint", &[("Authorization", &auth), accept], req)?
        };
        if resp.status != 200 {
            if let Some(h) = &resp.www_authenticate {
                let fields = bearer_error(h);
                if let Some(Value::String(code)) = fields.get("error") {
                    let mut e = Error::new(ErrorKind::Provider, format!(
                        "userinfo endpoint at {} answered HTTP {} with error {}", resp.host, resp.status, quote_untrusted(code)
                    ));
                    e.details = fields;
                    return Err(e.with_detail("http_status", resp.status));
                }
            }
            return Err(error_from_response(&resp, "userinfo endpoint"));
        }
        let is_jwt = resp.content_type.as_deref().is_some_and(|ct| {
            ct.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/jwt")
        });
        let claims = if is_jwt {
            let text = std::str::from_utf8(&resp.body).map_err(|_| Error::http("userinfo JWT is not UTF-8"))?.trim();
            let jws = jose::parse(text).map_err(|e| e.context("signed userinfo"))?;
            let signed = jws.claims_map().map_err(|e| e.context("signed userinfo"))?;
            self.verify_signature(&jws, KeyPolicy { allow_fetch: true, request: req }).map_err(|e| e.context("signed userinfo"))?;
            // OIDC Core §5.3.2: a signed response SHOULD carry iss and aud; when present they must be ours.
            if signed.contains_key("iss") {
                claims::check_issuer(&signed, &self.issuer).map_err(|e| e.context("signed userinfo"))?;
            }
            if signed.contains_key("aud") {
                let aud = claims::audiences(&signed).map_err(|e| e.context("signed userinfo"))?;
                if !aud.contains(&self.client_id.as_str()) {
                    return Err(Error::validation(format!(
                        "signed userinfo: aud {} does not contain client_id \"{}\"", claims::show_list(&aud), self.client_id
                    )));
                }
            }
            signed
        } else {
            json_object(&resp, "userinfo endpoint")?
        };
        let sub = claims::req_str(&claims, "sub").map_err(|e| e.context("userinfo"))?;
        claims::check_sub_length(sub).map_err(|e| e.context("userinfo"))?;
        if let Some(expected) = &o.expected_sub {
            if sub != expected {
                return Err(Error::validation(format!(
                    "userinfo: sub {} does not match the expected sub {} (the ID token's)",
                    quote_untrusted(sub),
                    quote_untrusted(expected)
                )));
            }
        }
        // The caller's claim rules, on the UserInfo claims (signed or plain JSON).
        if let Some(rules) = &o.require_claims {
            rules.check(&claims).map_err(|e| e.context("userinfo"))?;
        }
        Ok(Value::Object(claims))
    }

    /// POSTs `token` (and its type hint) with client authentication to an
    /// endpoint of the RFC 7662 / RFC 7009 shape; returns the 200 response.
    fn token_post(
        &self,
        endpoint: Option<&str>,
        what: &str,
        token: &str,
        hint: Option<&str>,
        options_json: Option<&str>,
    ) -> Result<crate::core::http::Response> {
        let o: CallOptions = options::parse(options_json, "options_json")?;
        let req = self.request_options(o.timeout_ms)?;
        let endpoint = endpoint.ok_or_else(|| Error::unsupported(format!("the provider has no {}", what.replace(' ', "_"))))?;
        let mut form = vec![("token".to_owned(), token.to_owned())];
        if let Some(h) = hint {
            form.push(("token_type_hint".into(), h.into()));
        }
        let resp = self.authenticated_post(endpoint, what, &mut form, req)?;
        if resp.status != 200 {
            return Err(error_from_response(&resp, what));
        }
        Ok(resp)
    }

    /// RFC 7662 token introspection.
    pub fn introspect_token(&self, token: &str, hint: Option<&str>, options_json: Option<&str>) -> Result<Value> {
        let endpoint = self.endpoint_url(crate::core::mtls::Endpoint::Introspection);
        let resp = self.token_post(endpoint, "introspection endpoint", token, hint, options_json)?;
        let body = json_object(&resp, "introspection endpoint")?;
        check_introspection_response(&body)?;
        if let Some(why) = active_but_out_of_time(&body, claims::now(), self.config.leeway_s as i64)? {
            // RFC 7662 §2.2: an expired (or not yet valid) token is not active. A host that
            // looks only at `active` gets the safe answer; the rest of the body is dropped
            // as for any inactive token.
            crate::log_at!(crate::core::log::Level::Info, "introspection: the provider answered active: true for a token that {why}; reported as inactive");
            let mut inactive = Map::new();
            inactive.insert("active".into(), Value::Bool(false));
            return Ok(Value::Object(inactive));
        }
        Ok(Value::Object(body))
    }

    /// RFC 7009 token revocation. Success is `{}`.
    pub fn revoke_token(&self, token: &str, hint: Option<&str>, options_json: Option<&str>) -> Result<Value> {
        let endpoint = self.endpoint_url(crate::core::mtls::Endpoint::Revocation);
        self.token_post(endpoint, "revocation endpoint", token, hint, options_json)?;
        Ok(Value::Object(Map::new()))
    }

    /// RP-initiated logout: the URL to send the browser to.
    pub fn initiate_logout(&self, request_json: Option<&str>) -> Result<String> {
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct LogoutRequest {
            id_token_hint: Option<String>,
            logout_hint: Option<String>,
            post_logout_redirect_uri: Option<String>,
            state: Option<String>,
            ui_locales: Option<crate::core::grants::StringOrList>,
            /// Send client_id (default true; OIDC RP-Initiated Logout §2).
            client_id: Option<bool>,
            extra_params: Option<Map<String, Value>>,
        }
        let r: LogoutRequest = options::parse(request_json, "request_json")?;
        let endpoint = self.metadata.end_session_endpoint.as_deref().ok_or_else(|| {
            Error::unsupported("the provider has no end_session_endpoint")
        })?;
        let mut url = check_url(endpoint, "end_session_endpoint", self.http.allow_insecure_http())?;
        let mut form: Vec<(String, String)> = Vec::new();
        let mut opt = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                form.push((k.to_owned(), v));
            }
        };
        opt("id_token_hint", r.id_token_hint);
        opt("logout_hint", r.logout_hint);
        opt("post_logout_redirect_uri", r.post_logout_redirect_uri);
        opt("state", r.state);
        opt("ui_locales", r.ui_locales.as_ref().map(|l| match l {
            crate::core::grants::StringOrList::One(s) => s.clone(),
            crate::core::grants::StringOrList::Many(v) => v.join(" "),
        }));
        if r.client_id.unwrap_or(true) {
            opt("client_id", Some(self.client_id.clone()));
        }
        crate::core::grants::push_extra(&mut form, r.extra_params.as_ref(), &[])?;
        if !form.is_empty() {
            url.query_pairs_mut().extend_pairs(form.iter());
        }
        Ok(url.to_string())
    }
}
