//! The authorization code flow with PKCE, state and nonce: building the
//! authorization URL, handling the redirect, and exchanging the code.

use crate::core::client::Client;
use crate::core::error::{quote_untrusted, Error, ErrorKind, Result};
use crate::core::grants::{push_extra, StringOrList};
use crate::core::http::{check_url, RequestOptions};
use crate::core::id_token::IdTokenChecks;
use crate::core::jose::b64_encode;
use crate::core::options;
use crate::core::token::{error_from_response, json_object, IdTokenExpectation};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use url::Url;

/// How `state` or `nonce` is chosen: the caller's value (a string), or a switch
/// (`true`: soidc generates one, as when absent; `false`: none is sent).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ValueChoice {
    Given(String),
    Generate(bool),
}

/// A switch with an automatic default: `"auto"` (the default), `true` or `false`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum AutoOrBool {
    Switch(bool),
    Text(String),
}

impl AutoOrBool {
    /// The switch's value; `auto` decides when absent or `"auto"`.
    pub fn resolve(choice: Option<&AutoOrBool>, what: &str, auto: impl FnOnce() -> bool) -> Result<bool> {
        match choice {
            None => Ok(auto()),
            Some(AutoOrBool::Switch(b)) => Ok(*b),
            Some(AutoOrBool::Text(t)) if t == "auto" => Ok(auto()),
            Some(AutoOrBool::Text(t)) => Err(Error::invalid_argument(format!(
                "option {what}: {} is not \"auto\", true or false",
                quote_untrusted(t)
            ))),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartOptions {
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<ValueChoice>,
    nonce: Option<ValueChoice>,
    /// PKCE S256; default on. `false` switches it off.
    pkce: Option<bool>,
    code_verifier: Option<String>,
    prompt: Option<StringOrList>,
    max_age: Option<u64>,
    login_hint: Option<String>,
    acr_values: Option<StringOrList>,
    ui_locales: Option<StringOrList>,
    response_mode: Option<String>,
    resource: Option<StringOrList>,
    extra_params: Option<Map<String, Value>>,
    /// RFC 9126: push the request to the provider first.
    par: Option<AutoOrBool>,
    /// RFC 9101: `"signed"` puts every parameter in a signed `request` JWT; `"plain"` not.
    request_object: Option<String>,
    /// The JWS algorithm of the request object (default: chosen from the key and
    /// the provider's request_object_signing_alg_values_supported).
    request_object_alg: Option<String>,
    /// Bounds the push (the only network access of the start).
    timeout_ms: Option<u64>,
    /// RFC 9449 §10: send `dpop_jkt` (the DPoP key's thumbprint) to bind the code to the
    /// key; default: when the client has a DPoP key.
    dpop_jkt: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultOptions {
    timeout_ms: Option<u64>,
    state: Option<String>,
    nonce: Option<String>,
    code_verifier: Option<String>,
    redirect_uri: Option<String>,
    max_age: Option<u64>,
    /// Whether an ID token is required (default: when the client's scope has openid).
    require_id_token: Option<bool>,
    /// The ID token's acr must be one of these.
    acr_values_allowed: Option<Vec<String>>,
    /// The response_mode asked for: a JWT mode requires a JARM response.
    response_mode: Option<String>,
    /// Claim rules on the ID token.
    require_claims: Option<crate::core::claim_rules::ClaimRules>,
}

/// `state_json` of the form_post handler: what `soidc_auth_code_start` returned.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FormPostState {
    state: Option<String>,
    nonce: Option<String>,
    code_verifier: Option<String>,
    redirect_uri: Option<String>,
    response_mode: Option<String>,
}

/// `options_json` of the form_post handler.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FormPostOptions {
    timeout_ms: Option<u64>,
    max_age: Option<u64>,
    require_id_token: Option<bool>,
    acr_values_allowed: Option<Vec<String>>,
    require_claims: Option<crate::core::claim_rules::ClaimRules>,
}

/// The largest form_post body accepted (a JARM response is a few kilobytes).
const MAX_FORM_POST_BYTES: usize = 256 * 1024;

/// Whether a response_mode is a JARM mode; `None` for an unknown one.
fn jwt_mode(mode: &str) -> Option<bool> {
    match mode {
        "query" | "fragment" | "form_post" => Some(false),
        "jwt" | "query.jwt" | "fragment.jwt" | "form_post.jwt" => Some(true),
        _ => None,
    }
}

/// Parses a form_post body (application/x-www-form-urlencoded) into its
/// parameters; a repeated parameter is refused.
fn form_post_params(content_type: &str, body: &str) -> Result<Map<String, Value>> {
    let mut parts = content_type.split(';');
    let media = parts.next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(Error::invalid_argument(format!(
            "content_type {} is not application/x-www-form-urlencoded",
            quote_untrusted(content_type)
        )));
    }
    for p in parts {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        if k.trim().eq_ignore_ascii_case("charset") && !v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8") {
            return Err(Error::invalid_argument(format!("content_type {}: only UTF-8 is supported", quote_untrusted(content_type))));
        }
    }
    if body.len() > MAX_FORM_POST_BYTES {
        return Err(Error::invalid_argument(format!(
            "body is {} bytes, more than the {MAX_FORM_POST_BYTES}-byte limit of a form_post response",
            body.len()
        )));
    }
    let mut map = Map::new();
    for (k, v) in url::form_urlencoded::parse(body.as_bytes()).into_owned() {
        if map.insert(k.clone(), Value::String(v)).is_some() {
            return Err(Error::validation(format!("authorization response repeats the parameter {}", quote_untrusted(&k))));
        }
    }
    Ok(map)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExchangeOptions {
    timeout_ms: Option<u64>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    nonce: Option<String>,
    max_age: Option<u64>,
    acr_values_allowed: Option<Vec<String>>,
    require_claims: Option<crate::core::claim_rules::ClaimRules>,
}

/// Lifetime of a request object: it is used within the login.
const REQUEST_OBJECT_LIFETIME_S: i64 = 300;
/// RFC 9101 §10.8.
const REQUEST_OBJECT_TYP: &str = "oauth-authz-req+jwt";

/// 32 bytes from the system CSPRNG, base64url: 43 characters.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("system RNG");
    b64_encode(&bytes)
}

pub(crate) fn pkce_challenge(verifier: &str) -> String {
    b64_encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref())
}

pub(crate) fn check_verifier(v: &str) -> Result<()> {
    let ok_chars = v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !(43..=128).contains(&v.len()) || !ok_chars {
        return Err(Error::invalid_argument(
            "code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)",
        ));
    }
    Ok(())
}

/// `acr_values` as a list (a string is space-separated, OIDC Core §3.1.2.1).
pub(crate) fn acr_list(v: &StringOrList) -> Vec<String> {
    match v {
        StringOrList::One(s) => s.split(' ').filter(|x| !x.is_empty()).map(str::to_owned).collect(),
        StringOrList::Many(items) => items.clone(),
    }
}

fn space_list(v: &StringOrList) -> String {
    match v {
        StringOrList::One(s) => s.clone(),
        StringOrList::Many(items) => items.join(" "),
    }
}

/// Parses the redirect URL of an authorization response into its parameters.
pub fn parse_authorization_response(current_url: &str) -> Result<Map<String, Value>> {
    let url = Url::parse(current_url)
        .map_err(|e| Error::invalid_argument(format!("current_url is not an absolute URL: {e}")))?;
    response_params(&url)
}

/// Parameters of an authorization response: from the query, or from the
/// fragment when the response mode put them there. A repeated parameter is
/// refused (RFC 6749 §3.1).
fn response_params(url: &Url) -> Result<Map<String, Value>> {
    let from_query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let pairs = if from_query.iter().any(|(k, _)| k == "code" || k == "error" || k == "response") || url.fragment().is_none() {
        from_query
    } else {
        url::form_urlencoded::parse(url.fragment().unwrap_or("").as_bytes()).into_owned().collect()
    };
    let mut map = Map::new();
    for (k, v) in pairs {
        if map.insert(k.clone(), Value::String(v)).is_some() {
            return Err(Error::validation(format!("authorization response repeats the parameter {}", quote_untrusted(&k))));
        }
    }
    Ok(map)
}

/// The authorization response's own checks, before the code is used: the issuer
/// (RFC 9207 §2.4), the state (RFC 6749 §10.12), then an error response (RFC 6749
/// §4.1.2.1), whose text is believed only once iss and state matched.
fn check_response(params: &Map<String, Value>, expected_state: Option<&str>, issuer: &str, iss_required: bool) -> Result<()> {
    let get = |k: &str| params.get(k).and_then(Value::as_str);
    // RFC 9207: the mix-up defence comes first, errors included.
    match get("iss") {
        Some(iss) if iss != issuer => {
            return Err(Error::validation(format!(
                "authorization response iss {} is not the issuer {} (RFC 9207 mix-up defence)",
                quote_untrusted(iss),
                quote_untrusted(issuer)
            )))
        }
        Some(_) => {}
        None if iss_required => {
            return Err(Error::validation(
                "authorization response has no iss parameter although the provider advertises authorization_response_iss_parameter_supported (RFC 9207)",
            ))
        }
        None => {}
    }
    // state before error: an error response with a wrong state is not the
    // provider's (RFC 6749 §10.12), so its text must not be believed.
    match (expected_state, get("state")) {
        (Some(expected), Some(got)) if expected == got => {}
        (Some(expected), Some(got)) => {
            return Err(Error::validation(format!("state {} does not match the expected state {}", quote_untrusted(got), quote_untrusted(expected))))
        }
        (Some(_), None) => return Err(Error::validation("state was expected but the response has none")),
        (None, Some(_)) => {
            return Err(Error::invalid_argument(
                "the response carries a state but options_json has none: pass the state from soidc_auth_code_start",
            ))
        }
        (None, None) => {}
    }
    if let Some(code) = get("error") {
        let mut e = Error::new(
            ErrorKind::AuthenticationFailed,
            format!(
                "the provider returned error {}{}",
                quote_untrusted(code),
                get("error_description").map(|d| format!(": {}", quote_untrusted(d))).unwrap_or_default()
            ),
        );
        for k in ["error", "error_description", "error_uri"] {
            if let Some(v) = get(k) {
                e = e.with_detail(k, v);
            }
        }
        return Err(e);
    }
    Ok(())
}

/// An authorization request's parameters and the secrets it carries.
struct AuthParams {
    form: Vec<(String, String)>,
    state: Option<String>,
    nonce: Option<String>,
    verifier: Option<String>,
}

impl Client {
    fn redirect_uri_or(&self, given: Option<&str>) -> Result<String> {
        given
            .or(self.redirect_uri.as_deref())
            .map(str::to_owned)
            .ok_or_else(|| Error::invalid_argument("no redirect_uri: give one to the client or in options_json"))
    }

    /// Builds the authorization URL, pushing the request first when PAR is on;
    /// returns `{url, state, nonce, code_verifier, redirect_uri[, expires_in]}`.
    pub fn auth_code_start(&self, options_json: Option<&str>) -> Result<Value> {
        let o: StartOptions = options::parse(options_json, "options_json")?;
        if let Some(types) = &self.metadata.response_types_supported {
            if !types.iter().any(|t| t == "code") {
                return Err(Error::unsupported("the provider does not support response_type code"));
            }
        }
        let redirect_uri = self.redirect_uri_or(o.redirect_uri.as_deref())?;
        let mut url = check_url(&self.metadata.authorization_endpoint, "authorization_endpoint", self.http.allow_insecure_http())?;
        let AuthParams { mut form, state, nonce, verifier } = self.authorization_params(&o, &redirect_uri)?;
        self.apply_request_object(&o, &mut form)?;
        // The request is pushed when asked, or when the provider or the client's
        // registration requires it (RFC 9126 §5, §6).
        let par = AutoOrBool::resolve(o.par.as_ref(), "par", || {
            self.config.require_par || self.metadata.require_pushed_authorization_requests == Some(true)
        })?;
        let mut result = json!({
            "state": state,
            "nonce": nonce,
            "code_verifier": verifier,
            "redirect_uri": redirect_uri,
        });
        // What the callback checks the ID token against (OIDC Core §3.1.2.1, §3.1.3.7
        // steps 12 and 13): kept with the state so that the session has it at hand.
        if let Some(m) = o.max_age {
            result["max_age"] = json!(m);
        }
        if let Some(a) = &o.acr_values {
            result["acr_values"] = json!(acr_list(a));
        }
        if par {
            let req = self.request_options(o.timeout_ms)?;
            let (request_uri, expires_in) = self.push_authorization_request(form, req)?;
            url.query_pairs_mut()
                .append_pair("client_id", &self.client_id)
                .append_pair("request_uri", &request_uri);
            result["expires_in"] = json!(expires_in);
        } else {
            url.query_pairs_mut().extend_pairs(form.iter());
        }
        result["url"] = json!(url.as_str());
        Ok(result)
    }

    /// The authorization request's parameters (OIDC Core §3.1.2.1, RFC 7636 §4.3), with
    /// the state, nonce and PKCE verifier it uses (each generated unless given or off).
    fn authorization_params(&self, o: &StartOptions, redirect_uri: &str) -> Result<AuthParams> {
        let pick = |v: &Option<ValueChoice>, what: &str| -> Result<Option<String>> {
            match v {
                None | Some(ValueChoice::Generate(true)) => Ok(Some(random_token())),
                Some(ValueChoice::Generate(false)) => Ok(None),
                Some(ValueChoice::Given(s)) if s.is_empty() => Err(Error::invalid_argument(format!("{what} must not be empty (use false to switch it off)"))),
                Some(ValueChoice::Given(s)) => Ok(Some(s.clone())),
            }
        };
        let state = pick(&o.state, "state")?;
        let nonce = pick(&o.nonce, "nonce")?;
        let verifier = match (o.pkce, &o.code_verifier) {
            (Some(false), Some(_)) => return Err(Error::invalid_argument("code_verifier given but pkce is false")),
            (Some(false), None) => None,
            (_, Some(v)) => {
                check_verifier(v)?;
                Some(v.clone())
            }
            (_, None) => Some(random_token()),
        };
        let scope = o.scope.clone().unwrap_or_else(|| self.scope.clone());
        let mut form: Vec<(String, String)> = vec![
            ("response_type".into(), "code".into()),
            ("client_id".into(), self.client_id.clone()),
            ("redirect_uri".into(), redirect_uri.to_owned()),
            ("scope".into(), scope),
        ];
        let mut opt = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                form.push((k.to_owned(), v));
            }
        };
        opt("state", state.clone());
        opt("nonce", nonce.clone());
        if let Some(v) = &verifier {
            opt("code_challenge", Some(pkce_challenge(v)));
            opt("code_challenge_method", Some("S256".into()));
        }
        opt("prompt", o.prompt.as_ref().map(space_list));
        opt("max_age", o.max_age.map(|m| m.to_string()));
        opt("login_hint", o.login_hint.clone());
        opt("acr_values", o.acr_values.as_ref().map(space_list));
        opt("ui_locales", o.ui_locales.as_ref().map(space_list));
        opt("response_mode", o.response_mode.clone());
        if let Some(r) = &o.resource {
            match r {
                StringOrList::One(s) => form.push(("resource".into(), s.clone())),
                StringOrList::Many(v) => form.extend(v.iter().map(|s| ("resource".to_owned(), s.clone()))),
            }
        }
        // RFC 9449 §10: binds the authorization code to the DPoP key, so that a code
        // injected into another client's session cannot be redeemed without the key.
        let jkt = match o.dpop_jkt {
            Some(true) => Some(self.dpop_jkt()?),
            Some(false) => None,
            None => self.dpop.as_ref().map(|k| k.thumbprint().to_owned()),
        };
        if let Some(jkt) = jkt {
            form.push(("dpop_jkt".into(), jkt));
        }
        push_extra(
            &mut form,
            o.extra_params.as_ref(),
            &["code_challenge", "code_challenge_method", "request", "request_uri", "dpop_jkt"],
        )?;
        Ok(AuthParams { form, state, nonce, verifier })
    }

    /// RFC 9101 §5: replaces the parameters by a signed request object when asked, or
    /// when the provider requires one (`require_signed_request_object`).
    fn apply_request_object(&self, o: &StartOptions, form: &mut Vec<(String, String)>) -> Result<()> {
        let signed = match o.request_object.as_deref() {
            None => self.metadata.require_signed_request_object == Some(true),
            Some("signed") => true,
            Some("plain") => false,
            Some(other) => {
                return Err(Error::invalid_argument(format!(
                    "option request_object: {} is not \"signed\" or \"plain\"",
                    quote_untrusted(other)
                )))
            }
        };
        if o.request_object_alg.is_some() && !signed {
            return Err(Error::invalid_argument("option request_object_alg needs request_object \"signed\""));
        }
        if signed {
            let jwt = self.request_object(form, o.request_object_alg.as_deref())?;
            // RFC 9101 §5: client_id and request; response_type and scope repeated
            // as OpenID Connect Core §6.1 asks (the provider uses the JWT's values).
            let keep = |k: &str| matches!(k, "client_id" | "response_type" | "scope");
            form.retain(|(k, _)| keep(k));
            form.push(("request".into(), jwt));
        }
        Ok(())
    }

    /// RFC 9101: the authorization parameters as a signed request object
    /// (`typ` oauth-authz-req+jwt, iss = client_id, aud = issuer, short exp).
    fn request_object(&self, form: &[(String, String)], wanted: Option<&str>) -> Result<String> {
        use jsonwebtoken::Algorithm;
        let mut claims = Map::new();
        for (k, v) in form {
            let value = if k == "max_age" {
                v.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::String(v.clone()))
            } else {
                Value::String(v.clone())
            };
            match claims.get_mut(k) {
                None => {
                    claims.insert(k.clone(), value);
                }
                Some(Value::Array(items)) => items.push(value),
                Some(first) => *first = Value::Array(vec![first.take(), value]),
            }
        }
        let now = crate::core::claims::now();
        claims.insert("iss".into(), json!(self.client_id));
        claims.insert("aud".into(), json!(self.issuer));
        claims.insert("iat".into(), json!(now));
        claims.insert("nbf".into(), json!(now));
        claims.insert("exp".into(), json!(now + REQUEST_OBJECT_LIFETIME_S));
        claims.insert("jti".into(), json!(crate::core::auth::random_jti()));
        let claims = Value::Object(claims);
        let advertised = self.metadata.request_object_signing_alg_values_supported.as_ref();
        let name = |a: Algorithm| format!("{a:?}");
        let offered = |a: Algorithm| advertised.is_none_or(|list| list.iter().any(|x| *x == name(a)));
        let auth = self.authenticator();
        if let Some(key) = auth.key {
            let algs = key.algs();
            let candidates: Vec<Algorithm> = match wanted {
                Some(w) => match algs.iter().find(|a| name(**a) == w) {
                    Some(a) => vec![*a],
                    None => {
                        return Err(Error::invalid_argument(format!(
                            "option request_object_alg: the client's private key cannot sign with {} (it signs {})",
                            quote_untrusted(w),
                            algs.iter().map(|a| name(*a)).collect::<Vec<_>>().join(", ")
                        )))
                    }
                },
                None => algs,
            };
            let alg = candidates.into_iter().find(|a| offered(*a)).ok_or_else(|| {
                Error::unsupported(
                    "the provider's request_object_signing_alg_values_supported has no algorithm the client's private key signs with",
                )
            })?;
            return key.sign(alg, REQUEST_OBJECT_TYP, &claims);
        }
        if let Some(secret) = auth.secret {
            if wanted.is_some_and(|w| w != "HS256") {
                return Err(Error::invalid_argument(
                    "option request_object_alg: a client with only a secret signs request objects with HS256",
                ));
            }
            if !advertised.is_some_and(|list| list.iter().any(|x| x == "HS256")) {
                return Err(Error::unsupported(
                    "a signed request object needs a private key: the client has only a secret, and the provider does not advertise HS256 in request_object_signing_alg_values_supported",
                ));
            }
            return crate::core::auth::sign_hs256(secret, REQUEST_OBJECT_TYP, &claims);
        }
        Err(Error::invalid_argument(
            "request_object \"signed\" needs a private key (private_key_pem) or a client secret",
        ))
    }

    /// RFC 9126 §2: POSTs the authorization parameters to the pushed
    /// authorization request endpoint with client authentication; returns the
    /// `request_uri` and its `expires_in`.
    fn push_authorization_request(&self, mut form: Vec<(String, String)>, req: RequestOptions) -> Result<(String, u64)> {
        const WHAT: &str = "pushed authorization request endpoint";
        let endpoint = self.endpoint_url(crate::core::mtls::Endpoint::PushedAuthorization).ok_or_else(|| {
            Error::unsupported("the provider has no pushed_authorization_request_endpoint (par was asked for)")
        })?;
        // client_id is an authorization parameter and stays in the body (RFC 9126
        // §2.1; oidc-provider requires it even with client_secret_basic); the
        // methods that send it themselves must not send it twice.
        if self.auth_method() != crate::core::options::AuthMethod::ClientSecretBasic {
            form.retain(|(k, _)| k != "client_id");
        }
        // RFC 9449 §10.1: with a DPoP key the push carries a proof, which binds the code.
        let resp = self.dpop_post(endpoint, WHAT, form, req)?;
        // 201 Created (RFC 9126 §2.2); 200 is taken too.
        if resp.status != 201 && resp.status != 200 {
            return Err(error_from_response(&resp, WHAT));
        }
        let body = json_object(&resp, WHAT)?;
        let request_uri = match body.get("request_uri") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(Error::protocol("pushed authorization response: \"request_uri\" is missing or not a non-empty string")),
        };
        let expires_in = match body.get("expires_in").and_then(Value::as_u64) {
            Some(n) if n > 0 => n,
            _ => return Err(Error::protocol("pushed authorization response: \"expires_in\" is missing or not a positive integer")),
        };
        Ok((request_uri, expires_in))
    }

    /// Handles the redirect back from the provider: error, iss (RFC 9207),
    /// state, then the code exchange and the ID token validation.
    pub fn auth_code_handle_result(&self, current_url: &str, options_json: Option<&str>) -> Result<Value> {
        let o: ResultOptions = options::parse(options_json, "options_json")?;
        if o.response_mode.as_deref().is_some_and(|m| m.starts_with("form_post")) {
            return Err(Error::invalid_argument(
                "response_mode form_post: hand the POSTed body to soidc_auth_code_handle_form_post",
            ));
        }
        let url = Url::parse(current_url)
            .map_err(|e| Error::invalid_argument(format!("current_url is not an absolute URL: {e}")))?;
        let params = response_params(&url)?;
        let mut base = url.clone();
        base.set_query(None);
        base.set_fragment(None);
        self.finish_authorization(params, Some(base.to_string()), o)
    }

    /// Handles a form_post (or form_post.jwt) authorization response: the
    /// POSTed body as received, with the checks of the redirect handler.
    pub fn auth_code_handle_form_post(
        &self,
        content_type: &str,
        body: &str,
        state_json: Option<&str>,
        options_json: Option<&str>,
    ) -> Result<Value> {
        let st: FormPostState = options::parse(state_json, "state_json")?;
        let op: FormPostOptions = options::parse(options_json, "options_json")?;
        if st.redirect_uri.as_deref() == Some("auto") {
            return Err(Error::invalid_argument("redirect_uri \"auto\" needs the current URL: give the redirect URI itself"));
        }
        if let Some(m) = st.response_mode.as_deref() {
            if !matches!(m, "form_post" | "form_post.jwt" | "jwt") {
                return Err(Error::invalid_argument(format!(
                    "state_json: response_mode {} does not POST its response (use soidc_auth_code_handle_result)",
                    quote_untrusted(m)
                )));
            }
        }
        let params = form_post_params(content_type, body)?;
        let o = ResultOptions {
            timeout_ms: op.timeout_ms,
            state: st.state,
            nonce: st.nonce,
            code_verifier: st.code_verifier,
            redirect_uri: st.redirect_uri,
            max_age: op.max_age,
            require_id_token: op.require_id_token,
            acr_values_allowed: op.acr_values_allowed,
            response_mode: st.response_mode,
            require_claims: op.require_claims,
        };
        self.finish_authorization(params, None, o)
    }

    /// JARM: a `response` parameter is verified (signature with the provider's
    /// keys, alg among authorization_signing_alg_values_supported, iss, aud,
    /// exp) and its claims become the response parameters; nothing outside it
    /// is believed.
    fn open_jarm(&self, params: Map<String, Value>, jwt_expected: Option<bool>, req: RequestOptions) -> Result<Map<String, Value>> {
        let raw = match (params.get("response"), jwt_expected) {
            (None, Some(true)) => {
                return Err(Error::validation(
                    "a JWT response mode was asked for but the authorization response is plain (no response parameter)",
                ))
            }
            (None, _) => return Ok(params),
            (Some(_), Some(false)) => {
                return Err(Error::validation(
                    "the authorization response is a JWT (response parameter) but a plain response mode was asked for",
                ))
            }
            (Some(Value::String(r)), _) => r.clone(),
            (Some(_), _) => return Err(Error::validation("the response parameter is not a string")),
        };
        if params.len() > 1 {
            let others: Vec<&str> = params.keys().map(String::as_str).filter(|k| *k != "response").collect();
            return Err(Error::validation(format!(
                "the JWT authorization response comes with other parameters ({}) outside the JWT",
                crate::core::claims::show_list(&others)
            )));
        }
        if raw.bytes().filter(|b| *b == b'.').count() == 4 {
            return Err(Error::unsupported(
                "the authorization response is encrypted (a JWE); encrypted JARM responses are not supported: register the client for signed responses only",
            ));
        }
        let what = "JWT authorization response";
        let jws = crate::core::jose::parse(&raw).map_err(|e| e.context(what))?;
        let claims = &jws.claims_map().map_err(|e| e.context(what))?;
        if let Some(list) = &self.metadata.authorization_signing_alg_values_supported {
            if !list.iter().any(|a| a == jws.alg.name()) {
                return Err(Error::validation(format!(
                    "{what}: alg {} is not in the provider's authorization_signing_alg_values_supported",
                    quote_untrusted(jws.alg.name())
                )));
            }
        }
        let policy = crate::core::keys::KeyPolicy { allow_fetch: true, request: req };
        self.verify_signature(&jws, policy).map_err(|e| e.context(what))?;
        crate::core::claims::check_issuer(claims, &self.issuer).map_err(|e| e.context(what))?;
        let aud = crate::core::claims::audiences(claims).map_err(|e| e.context(what))?;
        if !aud.contains(&self.client_id.as_str()) {
            return Err(Error::validation(format!(
                "{what}: aud {} does not contain client_id {}",
                crate::core::claims::show_list(&aud),
                quote_untrusted(&self.client_id)
            ))
            .with_detail("reason", "audience"));
        }
        let leeway = self.config.leeway_s as i64;
        crate::core::claims::check_times(claims, crate::core::claims::now(), leeway, true, false).map_err(|e| e.context(what))?;
        let mut out = Map::new();
        for (k, v) in claims {
            if matches!(k.as_str(), "aud" | "exp" | "iat" | "nbf") {
                continue;
            }
            match v {
                Value::String(_) => {
                    out.insert(k.clone(), v.clone());
                }
                other => {
                    return Err(Error::validation(format!(
                        "{what}: parameter {} is {}, expected a string",
                        quote_untrusted(k),
                        crate::core::jose::json_type(other)
                    )))
                }
            }
        }
        Ok(out)
    }

    /// The checks of an authorization response and the code exchange, shared
    /// by the redirect and form_post handlers. `auto_base`: the current URL
    /// without query and fragment, for `redirect_uri: "auto"`.
    fn finish_authorization(&self, params: Map<String, Value>, auto_base: Option<String>, o: ResultOptions) -> Result<Value> {
        let acr_values_allowed = options::check_acr_values_allowed(o.acr_values_allowed.clone(), "options_json")?;
        let jwt_expected = match o.response_mode.as_deref() {
            None => None,
            Some(m) => Some(jwt_mode(m).ok_or_else(|| {
                Error::invalid_argument(format!(
                    "option response_mode: {} is not query, fragment, form_post, jwt, query.jwt, fragment.jwt or form_post.jwt",
                    quote_untrusted(m)
                ))
            })?),
        };
        let req = self.request_options(o.timeout_ms)?;
        let params = self.open_jarm(params, jwt_expected, req)?;
        let get = |k: &str| params.get(k).and_then(Value::as_str);
        check_response(&params, o.state.as_deref(), &self.issuer, self.metadata.authorization_response_iss_parameter_supported == Some(true))?;
        let code = get("code").ok_or_else(|| Error::validation("authorization response has neither code nor error"))?;
        let redirect_uri = match (o.redirect_uri.as_deref(), auto_base) {
            (Some("auto"), Some(base)) => base,
            (Some("auto"), None) => {
                return Err(Error::invalid_argument("redirect_uri \"auto\" needs the current URL: give the redirect URI itself"))
            }
            (other, _) => self.redirect_uri_or(other)?,
        };
        let require_id = o.require_id_token.unwrap_or_else(|| self.scope.split(' ').any(|s| s == "openid"));
        // An ID token with a nonce although options_json has none is refused by the
        // ID token checks (reason "nonce"), as in soidc_auth_code_exchange.
        let checks = IdTokenChecks {
            nonce: o.nonce.clone(),
            max_age: o.max_age,
            code: Some(code.to_owned()),
            expect_self_azp: true,
            acr_values_allowed,
            require_claims: o.require_claims.clone(),
            ..Default::default()
        };
        self.exchange_code(code, &redirect_uri, o.code_verifier.as_deref(), checks, require_id, req)
    }

    /// The code exchange alone (RFC 6749 §4.1.3).
    pub fn auth_code_exchange(&self, code: &str, options_json: Option<&str>) -> Result<Value> {
        let o: ExchangeOptions = options::parse(options_json, "options_json")?;
        let acr_values_allowed = options::check_acr_values_allowed(o.acr_values_allowed, "options_json")?;
        let redirect_uri = self.redirect_uri_or(o.redirect_uri.as_deref())?;
        let checks = IdTokenChecks {
            nonce: o.nonce,
            max_age: o.max_age,
            expect_self_azp: true,
            acr_values_allowed,
            require_claims: o.require_claims,
            ..Default::default()
        };
        let req = self.request_options(o.timeout_ms)?;
        self.exchange_code(code, &redirect_uri, o.code_verifier.as_deref(), checks, false, req)
    }

    fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        verifier: Option<&str>,
        checks: IdTokenChecks,
        require_id: bool,
        req: RequestOptions,
    ) -> Result<Value> {
        let mut form = vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), code.to_owned()),
            ("redirect_uri".to_owned(), redirect_uri.to_owned()),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier".into(), v.into()));
        }
        self.token_request(form, req, IdTokenExpectation { checks, original: None, required: require_id })
    }
}
