//! OAuth 2.0 Token Exchange (RFC 8693): a client trades a token it holds (the subject
//! token, and optionally an actor token) at the token endpoint for another token, for
//! another audience or resource, with fewer scopes, or of another type.
//!
//! The issued token is returned as the provider sent it and is not validated here: it is
//! meant for another party (the audience asked for), which validates it; a caller that
//! consumes it itself decodes it with `decode_access_token` / `decode_id_token`.

use crate::core::client::Client;
use crate::core::error::{quote_untrusted, Error, Result};
use crate::core::grants::StringOrList;
use crate::core::jose::json_type;
use crate::core::log::Level;
use crate::core::options;
use crate::core::token::{error_from_response, json_object};
use crate::log_at;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The grant type of RFC 8693 §2.1.
pub(crate) const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// The token type identifiers registered by RFC 8693 §3.
pub(crate) const TOKEN_TYPE_ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
pub(crate) const TOKEN_TYPE_REFRESH_TOKEN: &str = "urn:ietf:params:oauth:token-type:refresh_token";
pub(crate) const TOKEN_TYPE_ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
pub(crate) const TOKEN_TYPE_SAML1: &str = "urn:ietf:params:oauth:token-type:saml1";
pub(crate) const TOKEN_TYPE_SAML2: &str = "urn:ietf:params:oauth:token-type:saml2";
pub(crate) const TOKEN_TYPE_JWT: &str = "urn:ietf:params:oauth:token-type:jwt";

const REGISTERED: &[&str] = &[
    TOKEN_TYPE_ACCESS_TOKEN,
    TOKEN_TYPE_REFRESH_TOKEN,
    TOKEN_TYPE_ID_TOKEN,
    TOKEN_TYPE_SAML1,
    TOKEN_TYPE_SAML2,
    TOKEN_TYPE_JWT,
];
const IETF_PREFIX: &str = "urn:ietf:params:oauth:token-type:";

/// The largest subject or actor token accepted (the same bound as a JWT to decode).
use crate::core::jose::MAX_TOKEN_BYTES;
/// The largest number of `audience` or `resource` values, and the longest one.
const MAX_VALUES: usize = 64;
const MAX_VALUE_BYTES: usize = 4096;

/// `options_json` of `soidc_token_exchange`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenExchangeOptions {
    pub actor_token: Option<String>,
    pub actor_token_type: Option<String>,
    pub requested_token_type: Option<String>,
    pub audience: Option<StringOrList>,
    pub resource: Option<StringOrList>,
    pub scope: Option<String>,
    pub timeout_ms: Option<u64>,
}

fn values(v: &StringOrList) -> Vec<&str> {
    match v {
        StringOrList::One(s) => vec![s.as_str()],
        StringOrList::Many(list) => list.iter().map(String::as_str).collect(),
    }
}

/// A token type identifier (RFC 8693 §3): one of the registered URNs, or another
/// absolute URI (§3 allows them). A name under the IETF prefix that RFC 8693 does not
/// register is refused as the typo it almost certainly is.
pub fn check_token_type(what: &str, value: &str) -> Result<()> {
    if REGISTERED.contains(&value) {
        return Ok(());
    }
    if value.len() > MAX_VALUE_BYTES {
        return Err(Error::invalid_argument(format!("{what} is {} bytes, more than {MAX_VALUE_BYTES}", value.len())));
    }
    if value.starts_with(IETF_PREFIX) {
        return Err(Error::invalid_argument(format!(
            "{what} {} is not a token type RFC 8693 §3 registers (access_token, refresh_token, id_token, saml1, saml2, jwt under {IETF_PREFIX})",
            quote_untrusted(value)
        )));
    }
    match url::Url::parse(value) {
        Ok(_) if !value.chars().any(char::is_whitespace) => Ok(()),
        _ => Err(Error::invalid_argument(format!(
            "{what} {} is not a token type identifier: expected a URI such as {TOKEN_TYPE_ACCESS_TOKEN}",
            quote_untrusted(value)
        ))),
    }
}


fn check_list<'a>(what: &str, v: &'a StringOrList) -> Result<Vec<&'a str>> {
    let list = values(v);
    if list.is_empty() {
        return Err(Error::invalid_argument(format!("options_json: {what} is an empty list; omit it instead")));
    }
    if list.len() > MAX_VALUES {
        return Err(Error::invalid_argument(format!("options_json: {what} has {} values, more than {MAX_VALUES}", list.len())));
    }
    for item in &list {
        if item.is_empty() || item.len() > MAX_VALUE_BYTES {
            return Err(Error::invalid_argument(format!(
                "options_json: each {what} must be 1 to {MAX_VALUE_BYTES} bytes long"
            )));
        }
    }
    Ok(list)
}

impl Client {
    /// Token exchange (RFC 8693 §2.1) at the token endpoint, with client authentication.
    pub fn token_exchange(&self, subject_token: &str, subject_token_type: &str, options_json: Option<&str>) -> Result<Value> {
        let o: TokenExchangeOptions = options::parse(options_json, "options_json")?;
        let req = self.request_options(o.timeout_ms)?;
        options::check_token_arg("subject_token", subject_token, MAX_TOKEN_BYTES)?;
        check_token_type("subject_token_type", subject_token_type)?;

        let mut form: Vec<(String, String)> = vec![
            ("grant_type".into(), GRANT_TYPE.into()),
            ("subject_token".into(), subject_token.into()),
            ("subject_token_type".into(), subject_token_type.into()),
        ];
        // §2.1: actor_token_type is REQUIRED with an actor_token and MUST NOT be sent without one.
        match (&o.actor_token, &o.actor_token_type) {
            (Some(token), Some(ty)) => {
                options::check_token_arg("options_json: actor_token", token, MAX_TOKEN_BYTES)?;
                check_token_type("options_json: actor_token_type", ty)?;
                form.push(("actor_token".into(), token.clone()));
                form.push(("actor_token_type".into(), ty.clone()));
            }
            (Some(_), None) => {
                return Err(Error::invalid_argument("options_json: actor_token needs actor_token_type (RFC 8693 §2.1)"))
            }
            (None, Some(_)) => {
                return Err(Error::invalid_argument(
                    "options_json: actor_token_type without actor_token (RFC 8693 §2.1: it must not be sent alone)",
                ))
            }
            (None, None) => {}
        }
        if let Some(ty) = &o.requested_token_type {
            check_token_type("options_json: requested_token_type", ty)?;
            form.push(("requested_token_type".into(), ty.clone()));
        }
        if let Some(aud) = &o.audience {
            for a in check_list("audience", aud)? {
                form.push(("audience".into(), a.into()));
            }
        }
        if let Some(res) = &o.resource {
            for r in check_list("resource", res)? {
                // §2.1: an absolute URI without a fragment.
                match url::Url::parse(r) {
                    Ok(u) if u.fragment().is_none() => {}
                    _ => {
                        return Err(Error::invalid_argument(format!(
                            "options_json: resource {} is not an absolute URI without a fragment (RFC 8693 §2.1)",
                            quote_untrusted(r)
                        )))
                    }
                }
                form.push(("resource".into(), r.into()));
            }
        }
        if let Some(scope) = &o.scope {
            if scope.trim().is_empty() || scope.len() > MAX_VALUE_BYTES {
                return Err(Error::invalid_argument(format!(
                    "options_json: scope must be 1 to {MAX_VALUE_BYTES} bytes and not blank; omit it for the default"
                )));
            }
            form.push(("scope".into(), scope.clone()));
        }

        let endpoint = self
            .endpoint_url(crate::core::mtls::Endpoint::Token)
            .ok_or_else(|| Error::unsupported("the provider has no token_endpoint"))?;
        let resp = self.dpop_post(endpoint, "token endpoint", form, req)?;
        if resp.status != 200 {
            let e = error_from_response(&resp, "token endpoint");
            log_at!(Level::Info, "token exchange failed: {}", e.message);
            return Err(e);
        }
        let body = json_object(&resp, "token endpoint")?;
        check_exchange_response(&body)?;
        // RFC 9449 §5: with a proof sent, a Bearer access token is an unbound one (N_A, a
        // token that is not an access token, carries no binding and passes).
        if self.dpop.is_some() && body.get("token_type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("bearer")) {
            return Err(Error::protocol(
                "token exchange response: token_type Bearer although the request carried a DPoP proof: the provider did not bind the token to the client's DPoP key (RFC 9449 §5)",
            )
            .with_detail("reason", "dpop_not_bound"));
        }
        log_at!(Level::Debug, "token exchange succeeded");
        Ok(Value::Object(body))
    }
}

/// The shape RFC 8693 §2.2.1 requires of a successful response: `access_token` (the
/// issued token, whatever its type) a non-empty string, `issued_token_type` a token type
/// identifier, `token_type` a non-empty string (`Bearer`, or `N_A` for a token that is
/// not an access token), `expires_in` a number if present.
pub fn check_exchange_response(body: &Map<String, Value>) -> Result<()> {
    let string = |name: &str| -> Result<&str> {
        match body.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            Some(v) => Err(Error::protocol(format!(
                "token exchange response: {name} is {}, expected a non-empty string",
                json_type(v)
            ))),
            None => Err(Error::protocol(format!("token exchange response has no {name} (RFC 8693 §2.2.1)"))),
        }
    };
    string("access_token")?;
    let issued = string("issued_token_type")?;
    if check_token_type("issued_token_type", issued).is_err() {
        return Err(Error::protocol(format!(
            "token exchange response: issued_token_type {} is not a token type identifier",
            quote_untrusted(issued)
        )));
    }
    string("token_type")?;
    if let Some(v) = body.get("expires_in") {
        if !v.is_u64() {
            return Err(Error::protocol(format!(
                "token exchange response: expires_in is {}, expected a non-negative integer",
                json_type(v)
            )));
        }
    }
    for name in ["refresh_token", "scope"] {
        if let Some(v) = body.get(name) {
            if !v.is_string() {
                return Err(Error::protocol(format!(
                    "token exchange response: {name} is {}, expected a string",
                    json_type(v)
                )));
            }
        }
    }
    Ok(())
}
