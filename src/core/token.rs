//! The token endpoint and its responses, shared by every grant; and the OAuth
//! error-response handling shared by every endpoint that takes client
//! authentication.

use crate::core::claims::Claims;
use crate::core::client::Client;
use crate::core::error::{quote_untrusted, Error, ErrorKind, Result};
use crate::core::http::{RequestOptions, Response};
use crate::core::id_token::IdTokenChecks;
use crate::core::jose::json_type;
use crate::core::keys::KeyPolicy;
use crate::core::log::Level;
use crate::log_at;
use serde_json::{Map, Value};

/// Turns a non-success response into the right error: an OAuth error body
/// becomes `Provider` with its fields, anything else `Http`.
pub fn error_from_response(resp: &Response, what: &str) -> Error {
    if let Ok(Value::Object(body)) = crate::core::json::parse_slice(&resp.body) {
        if let Some(Value::String(code)) = body.get("error") {
            let mut e = Error::new(
                ErrorKind::Provider,
                format!(
                    "{what} at {} answered HTTP {} with error {}{}",
                    resp.host,
                    resp.status,
                    quote_untrusted(code),
                    match body.get("error_description") {
                        Some(Value::String(d)) => format!(": {}", quote_untrusted(d)),
                        _ => String::new(),
                    }
                ),
            );
            for k in ["error", "error_description", "error_uri"] {
                if let Some(v) = body.get(k) {
                    e = e.with_detail(k, v.clone());
                }
            }
            return e.with_detail("http_status", resp.status);
        }
    }
    Error::http(format!(
        "{what} at {} answered HTTP {} ({}) without an OAuth error response",
        resp.host,
        resp.status,
        resp.describe_content_type()
    ))
    .with_detail("http_status", resp.status)
}

/// Parses a success body that must be a JSON object.
pub fn json_object(resp: &Response, what: &str) -> Result<Map<String, Value>> {
    match crate::core::json::parse_slice(&resp.body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(Error::http(format!(
            "{what} at {} answered HTTP {} with {}, expected a JSON object",
            resp.host,
            resp.status,
            json_type(&other)
        ))
        .with_detail("http_status", resp.status)),
        Err(e) => Err(Error::http(format!(
            "{what} at {} answered HTTP {} with a body that is not JSON ({}): {e}",
            resp.host,
            resp.status,
            resp.describe_content_type()
        ))
        .with_detail("http_status", resp.status)),
    }
}

/// How to treat an ID token in a token response.
pub struct IdTokenExpectation<'a> {
    pub checks: IdTokenChecks,
    /// The original ID token's claims, for the OIDC Core §12.2 continuity checks after a refresh.
    pub original: Option<&'a Claims>,
    /// Whether the grant promises an ID token (authorization code with openid).
    pub required: bool,
}

impl Client {
    /// POSTs a grant to the token endpoint with client authentication, checks
    /// the response, and validates any ID token in it (adding
    /// `id_token_claims`).
    pub(crate) fn token_request(
        &self,
        form: Vec<(String, String)>,
        req: RequestOptions,
        expect: IdTokenExpectation<'_>,
    ) -> Result<Value> {
        let endpoint = self.endpoint_url(crate::core::mtls::Endpoint::Token).ok_or_else(|| {
            Error::unsupported("the provider has no token_endpoint")
        })?;
        let grant = form.iter().find(|(k, _)| k == "grant_type").map(|(_, v)| v.clone()).unwrap_or_default();
        let resp = self.dpop_post(endpoint, "token endpoint", form, req)?;
        if resp.status != 200 {
            let e = error_from_response(&resp, "token endpoint");
            log_at!(Level::Info, "{grant} grant failed: {}", e.message);
            return Err(e);
        }
        let mut body = json_object(&resp, "token endpoint")?;
        let id_token = check_token_response_for(&body, self.dpop.is_some())?;
        match id_token {
            None if expect.required => {
                return Err(Error::protocol("token response has no id_token although the openid scope was requested"));
            }
            // Rules asked for on the ID token cannot pass without one: refused rather than
            // skipped, so that a response without an ID token never bypasses them.
            None if expect.checks.require_claims.as_ref().is_some_and(|r| !r.is_empty()) => {
                let rule = expect.checks.require_claims.as_ref().and_then(|r| r.rules().first()).map(|r| r.label.clone());
                return Err(Error::validation(
                    "require_claims was given but the token response carries no ID token to check the rules on",
                )
                .with_detail("reason", "claim_rule")
                .with_detail("rule", rule.unwrap_or_default()));
            }
            None => {}
            Some(raw) => {
                let mut checks = expect.checks;
                if let Some(Value::String(at)) = body.get("access_token") {
                    checks.access_token = Some(at.clone());
                }
                let policy = KeyPolicy { allow_fetch: true, request: req };
                let claims = self.decode_id_token_with(&raw, &checks, policy, None)?.claims()?;
                if let Some(original) = expect.original {
                    check_refresh_continuity(original, &claims)?;
                }
                body.insert("id_token_claims".into(), Value::Object(claims));
            }
        }
        log_at!(Level::Debug, "{grant} grant succeeded");
        Ok(Value::Object(body))
    }

    /// Client-authenticated form POST (token, introspection, revocation, device).
    pub(crate) fn authenticated_post(
        &self,
        endpoint: &str,
        what: &str,
        form: &mut Vec<(String, String)>,
        req: RequestOptions,
    ) -> Result<Response> {
        self.authenticated_post_with(endpoint, what, form, None, req)
    }

    /// As [`Client::authenticated_post`], with a `DPoP` header when `dpop_proof` is given.
    fn authenticated_post_with(
        &self,
        endpoint: &str,
        what: &str,
        form: &mut Vec<(String, String)>,
        dpop_proof: Option<&str>,
        req: RequestOptions,
    ) -> Result<Response> {
        let mut headers: Vec<(String, String)> = Vec::new();
        crate::core::auth::apply(&self.authenticator(), form, &mut headers)?;
        if let Some(proof) = dpop_proof {
            headers.push(("DPoP".into(), proof.into()));
        }
        let form_refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let result = self.http.post_form(endpoint, what, &form_refs, &header_refs, req);
        // The form and headers held passwords, refresh tokens, codes, the client
        // secret or an assertion: wiped now, not merely freed.
        use zeroize::Zeroize;
        for (_, v) in form.iter_mut().chain(headers.iter_mut()) {
            v.zeroize();
        }
        result
    }

    /// A client-authenticated POST to the token endpoint or the pushed authorization
    /// request endpoint: with a DPoP key, it carries a fresh proof (RFC 9449 §5, §10.1)
    /// and is sent once more when the server asks for a nonce (§8). The client
    /// authentication is applied afresh for each send (a client assertion's `jti` is
    /// single-use). `form` is wiped when this returns.
    pub(crate) fn dpop_post(&self, endpoint: &str, what: &str, form: Vec<(String, String)>, req: RequestOptions) -> Result<Response> {
        struct Wiped(Vec<(String, String)>);
        impl Drop for Wiped {
            fn drop(&mut self) {
                use zeroize::Zeroize;
                for (_, v) in self.0.iter_mut() {
                    v.zeroize();
                }
            }
        }
        let mut original = Wiped(form);
        if self.dpop.is_none() {
            // Sent once, as it is: no copy to make (and wipe) for a second send.
            return self.authenticated_post_with(endpoint, what, &mut original.0, None, req);
        }
        self.with_dpop(crate::core::http::Method::Post, endpoint, None, |proof| {
            let mut form = Wiped(original.0.clone());
            self.authenticated_post_with(endpoint, what, &mut form.0, proof, req)
        })
    }
}

/// The shape a successful token response must have (RFC 6749 §5.1): a
/// non-empty `access_token`, a Bearer `token_type` (compared case-insensitively),
/// and an `id_token`, if any, that is a string. Returns the ID token.
pub fn check_token_response(body: &Map<String, Value>) -> Result<Option<String>> {
    check_token_response_for(body, false)
}

/// As [`check_token_response`]; with `dpop` (the request carried a DPoP proof) the
/// `token_type` must be `DPoP` instead. RFC 9449 §5: a `Bearer` answer means the server did
/// not bind the token to the key. soidc refuses it (`SOIDC_ERR_PROTOCOL`, `reason`
/// `dpop_not_bound`) rather than hand an unbound token to a host that asked for bound ones.
pub fn check_token_response_for(body: &Map<String, Value>, dpop: bool) -> Result<Option<String>> {
    // RFC 6749 §5.1/§5.2: a success and an error response are exclusive. A 200 that
    // also carries `error` is not a success to believe, whatever else it holds.
    if let Some(code) = body.get("error") {
        let mut e = Error::protocol(format!(
            "token response carries error {} next to {}; neither a success nor an error response (RFC 6749 §5.1/§5.2)",
            match code {
                Value::String(c) => quote_untrusted(c),
                v => json_type(v).to_owned(),
            },
            if body.contains_key("access_token") { "an access_token" } else { "a success status" }
        ));
        for k in ["error", "error_description", "error_uri"] {
            if let Some(v @ Value::String(_)) = body.get(k) {
                e = e.with_detail(k, v.clone());
            }
        }
        return Err(e);
    }
    match body.get("access_token") {
        Some(Value::String(s)) if !s.is_empty() => {}
        Some(v) => return Err(Error::protocol(format!("token response: access_token is {}, expected a non-empty string", json_type(v)))),
        None => return Err(Error::protocol("token response has no access_token")),
    }
    match body.get("token_type") {
        Some(Value::String(t)) if dpop && t.eq_ignore_ascii_case("dpop") => {}
        Some(Value::String(t)) if dpop => {
            return Err(Error::protocol(format!(
                "token response: token_type {} although the request carried a DPoP proof: the provider did not bind the token to the client's DPoP key (RFC 9449 §5); soidc refuses unbound tokens when the client option dpop is on",
                quote_untrusted(t)
            ))
            .with_detail("reason", "dpop_not_bound"))
        }
        Some(Value::String(t)) if t.eq_ignore_ascii_case("bearer") => {}
        Some(Value::String(t)) => {
            return Err(Error::protocol(format!("token response: token_type {} is not Bearer", quote_untrusted(t))))
        }
        Some(v) => return Err(Error::protocol(format!("token response: token_type is {}, expected a string", json_type(v)))),
        None => return Err(Error::protocol("token response has no token_type")),
    }
    match body.get("id_token") {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(Error::protocol(format!("token response: id_token is {}, expected a string", json_type(v)))),
    }
}

/// OIDC Core §12.2: a refreshed ID token keeps iss, sub, aud, auth_time and azp; and a
/// nonce, which some providers repeat (Keycloak), must be the original's.
fn check_refresh_continuity(original: &Claims, new: &Claims) -> Result<()> {
    for name in ["iss", "sub", "aud", "auth_time", "azp", "nonce"] {
        let (a, b) = (original.get(name), new.get(name));
        let same = match name {
            // "its auth_time Claim, if present, MUST represent the time of the original authentication"
            // A repeated nonce is the original one; none at all is fine too.
            "auth_time" | "nonce" => b.is_none() || a == b,
            // aud as a string or a one-element array is the same audience; order does not matter
            "aud" => {
                let set = |c: &Claims| -> Option<std::collections::BTreeSet<String>> {
                    crate::core::claims::audiences(c).ok().map(|v| v.into_iter().map(str::to_owned).collect())
                };
                set(original).is_some() && set(original) == set(new)
            }
            // azp: the same if present, and absent if the original had none
            _ => a == b,
        };
        if !same {
            return Err(Error::validation(format!(
                "refreshed ID token: {name} {} differs from the original ID token's {}",
                b.map(Value::to_string).unwrap_or_else(|| "(absent)".into()),
                a.map(Value::to_string).unwrap_or_else(|| "(absent)".into())
            )));
        }
    }
    Ok(())
}
