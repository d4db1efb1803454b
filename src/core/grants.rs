//! The grants: client credentials, resource owner password (direct access),
//! refresh, and the device authorization grant (RFC 8628).

use crate::core::authcode::{check_verifier, pkce_challenge, random_token, AutoOrBool};
use crate::core::client::Client;
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::http::RequestOptions;
use crate::core::id_token::IdTokenChecks;
use crate::core::options;
use crate::core::token::{error_from_response, json_object, IdTokenExpectation};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::time::{Duration, Instant};

/// `options_json` of the client credentials and password grants.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantOptions {
    pub timeout_ms: Option<u64>,
    /// RFC 8707 resource indicator(s).
    pub resource: Option<StringOrList>,
    /// Extra form parameters sent to the token endpoint.
    pub extra_params: Option<Map<String, Value>>,
    /// Expected nonce of an ID token in the response (password grant).
    pub nonce: Option<String>,
    /// Claim rules on the ID token of the response (password grant).
    pub require_claims: Option<crate::core::claim_rules::ClaimRules>,
    /// Password grant: sent as `acr_values` (OIDC Core §3.1.2.1; not a parameter of RFC
    /// 6749 §4.3, which servers that do not know it ignore).
    pub acr_values: Option<StringOrList>,
    /// Password grant: the ID token's `acr` must be one of these.
    pub acr_values_allowed: Option<Vec<String>>,
    /// Password grant: the ID token's `auth_time` must be at most this many seconds old.
    pub max_age: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum StringOrList {
    One(String),
    Many(Vec<String>),
}

impl StringOrList {
    fn values(&self) -> Vec<&str> {
        match self {
            StringOrList::One(s) => vec![s.as_str()],
            StringOrList::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// Appends `extra_params`: strings, numbers and booleans as text, arrays as
/// repeated parameters; the protocol's own parameters cannot be overridden.
pub(crate) fn push_extra(form: &mut Vec<(String, String)>, extra: Option<&Map<String, Value>>, reserved: &[&str]) -> Result<()> {
    let Some(extra) = extra else { return Ok(()) };
    for (k, v) in extra {
        if reserved.contains(&k.as_str()) || form.iter().any(|(existing, _)| existing == k) {
            return Err(Error::invalid_argument(format!(
                "extra_params: \"{k}\" is set by soidc itself and cannot be overridden"
            )));
        }
        let mut push = |v: &Value| -> Result<()> {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => {
                    return Err(Error::invalid_argument(format!(
                        "extra_params: \"{k}\" must be a string, number, boolean or an array of those"
                    )))
                }
            };
            form.push((k.clone(), text));
            Ok(())
        };
        match v {
            Value::Array(items) => items.iter().try_for_each(&mut push)?,
            other => push(other)?,
        }
    }
    Ok(())
}

const RESERVED: &[&str] = &[
    "grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type",
    "code", "code_verifier", "redirect_uri", "refresh_token", "username", "password", "device_code", "scope",
];

impl Client {
    fn grant_form(&self, grant: &str, scope: Option<&str>, o: &GrantOptions) -> Result<Vec<(String, String)>> {
        let mut form = vec![("grant_type".to_owned(), grant.to_owned())];
        if let Some(scope) = scope {
            form.push(("scope".into(), scope.into()));
        }
        if let Some(r) = &o.resource {
            for v in r.values() {
                form.push(("resource".into(), v.into()));
            }
        }
        push_extra(&mut form, o.extra_params.as_ref(), RESERVED)?;
        Ok(form)
    }

    /// Client credentials grant. `scope` NULL = the client's scope.
    pub fn client_credentials_grant(&self, scope: Option<&str>, options_json: Option<&str>) -> Result<Value> {
        let o: GrantOptions = options::parse(options_json, "options_json")?;
        if o.nonce.is_some() {
            return Err(Error::invalid_argument("options_json: nonce does not apply to the client credentials grant"));
        }
        for (given, name) in [
            (o.require_claims.is_some(), "require_claims"),
            (o.acr_values.is_some(), "acr_values"),
            (o.acr_values_allowed.is_some(), "acr_values_allowed"),
            (o.max_age.is_some(), "max_age"),
        ] {
            if given {
                return Err(Error::invalid_argument(format!(
                    "options_json: {name} does not apply to the client credentials grant (no user, no ID token; check the access token with soidc_decode_access_token)"
                )));
            }
        }
        let req = self.request_options(o.timeout_ms)?;
        let scope = scope.unwrap_or(&self.scope);
        let form = self.grant_form("client_credentials", Some(scope), &o)?;
        let checks = IdTokenChecks { nonce: o.nonce.clone(), expect_self_azp: true, ..Default::default() };
        self.token_request(form, req, IdTokenExpectation { checks, original: None, required: false })
    }

    /// Resource owner password credentials grant (legacy; RFC 6749 §4.3).
    pub fn direct_access_grant(&self, username: &str, password: &str, scope: Option<&str>, options_json: Option<&str>) -> Result<Value> {
        let o: GrantOptions = options::parse(options_json, "options_json")?;
        let acr_values_allowed = options::check_acr_values_allowed(o.acr_values_allowed.clone(), "options_json")?;
        let req = self.request_options(o.timeout_ms)?;
        let scope = scope.unwrap_or(&self.scope);
        let mut form = self.grant_form("password", Some(scope), &o)?;
        if let Some(a) = &o.acr_values {
            let list = crate::core::authcode::acr_list(a);
            if list.is_empty() {
                return Err(Error::invalid_argument("options_json: acr_values must not be empty"));
            }
            if !form.iter().any(|(k, _)| k == "acr_values") {
                form.push(("acr_values".into(), list.join(" ")));
            }
        }
        form.push(("username".into(), username.into()));
        form.push(("password".into(), password.into()));
        // Not a standard parameter of this grant, but servers must ignore unknown
        // parameters (RFC 6749 §3.2), and those that support it put it in the ID token.
        if let Some(n) = &o.nonce {
            if !form.iter().any(|(k, _)| k == "nonce") {
                form.push(("nonce".into(), n.clone()));
            }
        }
        let checks = IdTokenChecks {
            nonce: o.nonce.clone(),
            expect_self_azp: true,
            require_claims: o.require_claims.clone(),
            acr_values_allowed,
            max_age: o.max_age,
            ..Default::default()
        };
        // The password grant does not promise an ID token even with openid.
        self.token_request(form, req, IdTokenExpectation { checks, original: None, required: false })
    }

    /// Refresh token grant; an ID token in the response is validated and, when
    /// the caller passes the original, must keep its iss, sub, aud and auth_time.
    pub fn exchange_refresh_token(&self, refresh_token: &str, options_json: Option<&str>) -> Result<Value> {
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct RefreshOptions {
            timeout_ms: Option<u64>,
            scope: Option<String>,
            id_token: Option<String>,
            resource: Option<StringOrList>,
            extra_params: Option<Map<String, Value>>,
            require_claims: Option<crate::core::claim_rules::ClaimRules>,
        }
        let o: RefreshOptions = options::parse(options_json, "options_json")?;
        // Check the original ID token before the refresh token is spent: a provider
        // that rotates refresh tokens would otherwise have consumed it for nothing.
        let original = match o.id_token.as_deref() {
            Some(raw) => Some(crate::core::jose::parse(raw).and_then(|jws| jws.claims_map()).map_err(|e| {
                Error::invalid_argument(format!("options id_token (the original ID token) cannot be parsed: {}", e.message))
            })?),
            None => None,
        };
        let req = self.request_options(o.timeout_ms)?;
        let g = GrantOptions {
            timeout_ms: None,
            resource: o.resource,
            extra_params: o.extra_params,
            nonce: None,
            require_claims: None,
            acr_values: None,
            acr_values_allowed: None,
            max_age: None,
        };
        let mut form = self.grant_form("refresh_token", o.scope.as_deref(), &g)?;
        form.push(("refresh_token".into(), refresh_token.into()));
        // Some providers (Keycloak) repeat the original nonce in a refreshed ID token; the
        // nonce of the login is not at hand here, so the check is skipped (with the original
        // ID token, its nonce must be the original's: see check_refresh_continuity).
        let checks = IdTokenChecks { expect_self_azp: true, ignore_nonce: true, require_claims: o.require_claims, ..Default::default() };
        self.token_request(form, req, IdTokenExpectation { checks, original: original.as_ref(), required: false })
    }

    /// RFC 8628 §3.1: starts a device authorization; with PKCE (not part of
    /// RFC 8628, but Keycloak requires it of PKCE-enforcing clients) the result
    /// carries the `code_verifier` to pass to the poll.
    pub fn device_authorization_start(&self, scope: Option<&str>, options_json: Option<&str>) -> Result<Value> {
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct DeviceStartOptions {
            timeout_ms: Option<u64>,
            resource: Option<StringOrList>,
            extra_params: Option<Map<String, Value>>,
            nonce: Option<String>,
            pkce: Option<AutoOrBool>,
            /// OIDC parameters of the device authorization request (RFC 8628 §3.1 allows
            /// extension parameters; OIDC Core §3.1.2.1 defines these).
            acr_values: Option<StringOrList>,
            max_age: Option<u64>,
        }
        let o: DeviceStartOptions = options::parse(options_json, "options_json")?;
        if o.nonce.is_some() {
            return Err(Error::invalid_argument("options_json: nonce does not apply to the device authorization request"));
        }
        // auto: for a public client, when the provider advertises S256.
        let pkce = AutoOrBool::resolve(o.pkce.as_ref(), "pkce", || {
            self.client_type() == crate::core::client::ClientType::Public
                && self
                    .metadata
                    .code_challenge_methods_supported
                    .as_ref()
                    .is_some_and(|m| m.iter().any(|x| x == "S256"))
        })?;
        let req = self.request_options(o.timeout_ms)?;
        let endpoint = self.endpoint_url(crate::core::mtls::Endpoint::DeviceAuthorization).ok_or_else(|| {
            Error::unsupported("the provider has no device_authorization_endpoint")
        })?;
        let scope = scope.unwrap_or(&self.scope);
        let mut form = vec![("scope".to_owned(), scope.to_owned())];
        if let Some(r) = &o.resource {
            for v in r.values() {
                form.push(("resource".into(), v.into()));
            }
        }
        let verifier = pkce.then(random_token);
        if let Some(v) = &verifier {
            form.push(("code_challenge".into(), pkce_challenge(v)));
            form.push(("code_challenge_method".into(), "S256".into()));
        }
        let acr_values = match &o.acr_values {
            Some(a) => {
                let list = crate::core::authcode::acr_list(a);
                if list.is_empty() {
                    return Err(Error::invalid_argument("options_json: acr_values must not be empty"));
                }
                form.push(("acr_values".into(), list.join(" ")));
                Some(list)
            }
            None => None,
        };
        if let Some(m) = o.max_age {
            form.push(("max_age".into(), m.to_string()));
        }
        push_extra(
            &mut form,
            o.extra_params.as_ref(),
            &[RESERVED, &["code_challenge", "code_challenge_method", "acr_values", "max_age"]].concat(),
        )?;
        let resp = self.authenticated_post(endpoint, "device authorization endpoint", &mut form, req)?;
        if resp.status != 200 {
            return Err(error_from_response(&resp, "device authorization endpoint"));
        }
        let body = json_object(&resp, "device authorization endpoint")?;
        for name in ["device_code", "user_code", "verification_uri"] {
            if !matches!(body.get(name), Some(Value::String(s)) if !s.is_empty()) {
                return Err(Error::protocol(format!("device authorization response: \"{name}\" is missing or not a string")));
            }
        }
        if !matches!(body.get("expires_in"), Some(Value::Number(_))) {
            return Err(Error::protocol("device authorization response: \"expires_in\" is missing or not a number"));
        }
        let mut body = body;
        if let Some(v) = verifier {
            body.insert("code_verifier".into(), Value::String(v));
        }
        // Echoed for the poll, which checks the ID token against them when asked.
        if let Some(list) = acr_values {
            body.insert("acr_values".into(), Value::from(list));
        }
        if let Some(m) = o.max_age {
            body.insert("max_age".into(), Value::from(m));
        }
        Ok(Value::Object(body))
    }

    /// RFC 8628 §3.4/3.5: polls the token endpoint. With `wait` it blocks,
    /// honouring `interval` and `slow_down`, until the user finishes, the code
    /// expires (`expires_in`), or `timeout_ms` (whole call) passes; without it,
    /// it asks once and returns `Pending` while the user has not finished.
    pub fn device_authorization_poll(&self, device_code: &str, options_json: Option<&str>) -> Result<Value> {
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct PollOptions {
            timeout_ms: Option<u64>,
            wait: Option<bool>,
            interval: Option<u64>,
            expires_in: Option<u64>,
            nonce: Option<String>,
            code_verifier: Option<String>,
            require_claims: Option<crate::core::claim_rules::ClaimRules>,
            acr_values_allowed: Option<Vec<String>>,
            max_age: Option<u64>,
        }
        let o: PollOptions = options::parse(options_json, "options_json")?;
        if let Some(v) = &o.code_verifier {
            check_verifier(v)?;
        }
        let wait = o.wait == Some(true);
        let expires = o.expires_in.map(Duration::from_secs);
        // The whole call, sleeps included, is bounded by timeout_ms; a blocking wait
        // without one lasts until the device code expires (expires_in), or the client's
        // default timeout when that is unknown too.
        let req = match (o.timeout_ms, wait, expires) {
            (None, true, Some(exp)) if !exp.is_zero() => RequestOptions::starting_now(exp),
            _ => self.request_options(o.timeout_ms)?,
        };
        let mut interval = Duration::from_secs(o.interval.unwrap_or(5).clamp(1, 300));
        let started = Instant::now();
        let checks = IdTokenChecks {
            nonce: o.nonce.clone(),
            expect_self_azp: true,
            require_claims: o.require_claims.clone(),
            acr_values_allowed: options::check_acr_values_allowed(o.acr_values_allowed.clone(), "options_json")?,
            max_age: o.max_age,
            ..Default::default()
        };
        loop {
            let mut form = vec![
                ("grant_type".to_owned(), "urn:ietf:params:oauth:grant-type:device_code".to_owned()),
                ("device_code".to_owned(), device_code.to_owned()),
            ];
            if let Some(v) = &o.code_verifier {
                form.push(("code_verifier".into(), v.clone()));
            }
            match self.token_request(form, req, IdTokenExpectation { checks: checks.clone(), original: None, required: false }) {
                Ok(v) => return Ok(v),
                Err(e) if e.kind == ErrorKind::Provider => {
                    let code = e.details.get("error").and_then(Value::as_str).unwrap_or("");
                    let slow_down = code == "slow_down";
                    if code != "authorization_pending" && !slow_down {
                        return Err(e); // access_denied, expired_token, ...
                    }
                    if slow_down {
                        interval += Duration::from_secs(5);
                    }
                    if !wait {
                        let mut p = Error::new(
                            ErrorKind::Pending,
                            if slow_down {
                                "the user has not finished yet; the provider asked to slow down (poll 5 s less often)"
                            } else {
                                "the user has not finished yet (authorization_pending)"
                            },
                        );
                        p.details = e.details;
                        return Err(p.with_detail("interval", interval.as_secs()));
                    }
                }
                Err(e) => return Err(e),
            }
            if let Some(exp) = expires {
                if started.elapsed() + interval >= exp {
                    return Err(Error::new(ErrorKind::Provider, format!(
                        "the device code expired: the user did not finish within expires_in ({} s)", exp.as_secs()
                    ))
                    .with_detail("error", "expired_token")
                    .with_detail("error_description", "expired locally (expires_in reached)"));
                }
            }
            // Another poll would start after the call's budget: stop now, not later.
            if req.remaining() <= interval {
                return Err(Error::new(ErrorKind::Pending, format!(
                    "the user has not finished within timeout_ms ({} ms)", req.budget.as_millis()
                ))
                .with_detail("interval", interval.as_secs()));
            }
            std::thread::sleep(interval);
        }
    }
}
