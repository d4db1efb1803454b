//! OAuth 2.0 Dynamic Client Registration (RFC 7591) and its management protocol
//! (RFC 7592): a client registers itself at the provider's registration endpoint
//! (found by discovery, or given), then reads, updates or deletes its registration at
//! the `registration_client_uri` with the `registration_access_token` it was given.
//!
//! The metadata sent and the responses returned are the caller's and the provider's
//! documents, unchanged: soidc checks their shape (a JSON object; a response with a
//! `client_id`, RFC 7591 §3.2.1), not their content, which is the provider's policy.
//! The responses hold secrets (`client_secret`, `registration_access_token`): they go
//! to the caller only, never into a log line or an error message.

use crate::core::client::Client;
use crate::core::error::{quote_untrusted, Error, Result};
use crate::core::http::{check_url, Http, Method, RequestOptions, Response};
use crate::core::jose::json_type;
use crate::core::log::Level;
use crate::core::options::{self, ClientOptions};
use crate::core::secret::Secret;
use crate::core::token::{error_from_response, json_object};
use crate::log_at;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The largest metadata document accepted (a registration is a few KiB; JWKS by
/// value and many redirect URIs fit well within this).
pub const MAX_METADATA_BYTES: usize = 256 * 1024;
/// The largest access token (initial or registration) accepted.
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// `options_json` of `soidc_register_client`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterOptions {
    /// The first argument is the registration endpoint itself, not an issuer.
    pub endpoint: Option<bool>,
    /// RFC 7591 §3: the bearer token some providers require to register.
    pub initial_access_token: Option<Secret>,
    pub timeout_ms: Option<u64>,
    pub ca_file: Option<String>,
    pub allow_insecure_http: Option<bool>,
}

/// `options_json` of the RFC 7592 calls (read, update, delete).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagementOptions {
    pub timeout_ms: Option<u64>,
    pub ca_file: Option<String>,
    pub allow_insecure_http: Option<bool>,
}

/// The HTTP layer and the call's budget, built through the client options code
/// (same defaults, same checks, same messages).
fn http_for(timeout_ms: Option<u64>, ca_file: Option<String>, allow_insecure_http: Option<bool>) -> Result<(Http, RequestOptions)> {
    let config = ClientOptions { timeout_ms, ca_file, allow_insecure_http, ..Default::default() }
        .resolve()
        .map_err(|e| Error::invalid_argument(format!("options_json: {}", e.message)))?;
    let http = Http::new(&config)?;
    Ok((http, RequestOptions::starting_now(config.timeout)))
}

/// The metadata document: a JSON object (strict parser: no duplicate member), at most
/// `MAX_METADATA_BYTES`.
fn parse_metadata(metadata_json: &str) -> Result<Map<String, Value>> {
    if metadata_json.len() > MAX_METADATA_BYTES {
        return Err(Error::invalid_argument(format!(
            "metadata_json is {} bytes, more than the {MAX_METADATA_BYTES}-byte limit",
            metadata_json.len()
        )));
    }
    crate::core::json::parse_object(metadata_json.as_bytes())
        .map_err(|e| Error::invalid_argument(format!("metadata_json: {e}")))
}


/// A URL the call is about to use, checked before anything is sent: a bad one is the
/// caller's argument, hence `InvalidArgument`.
fn check_target(raw: &str, what: &str, allow_insecure_http: bool) -> Result<()> {
    let url = check_url(raw, what, allow_insecure_http).map_err(|e| Error::invalid_argument(e.message))?;
    if url.fragment().is_some() {
        return Err(Error::invalid_argument(format!("{what} {} must not have a fragment", quote_untrusted(raw))));
    }
    Ok(())
}

/// A client information response (RFC 7591 §3.2.1, RFC 7592 §3): a JSON object with a
/// non-empty string `client_id`. Returned as sent.
fn client_information(resp: &Response, what: &str) -> Result<Value> {
    let body = json_object(resp, what)?;
    match body.get("client_id") {
        Some(Value::String(id)) if !id.is_empty() => {}
        Some(v) => {
            return Err(Error::protocol(format!(
                "{what} at {}: client_id is {}, expected a non-empty string (RFC 7591 §3.2.1)",
                resp.host,
                json_type(v)
            )))
        }
        None => {
            return Err(Error::protocol(format!(
                "{what} at {} answered HTTP {} without a client_id (RFC 7591 §3.2.1)",
                resp.host, resp.status
            )))
        }
    }
    for name in ["registration_client_uri", "registration_access_token", "client_secret"] {
        if let Some(v) = body.get(name) {
            if !v.is_string() {
                return Err(Error::protocol(format!(
                    "{what} at {}: {name} is {}, expected a string",
                    resp.host,
                    json_type(v)
                )));
            }
        }
    }
    Ok(Value::Object(body))
}

/// The error of a refused call: the provider's OAuth error (RFC 7591 §3.2.2:
/// `invalid_redirect_uri`, `invalid_client_metadata`, ...; RFC 6750 `invalid_token`) as
/// `Provider`, anything else as `Http`.
fn refused(resp: &Response, what: &str) -> Error {
    let e = error_from_response(resp, what);
    log_at!(Level::Info, "{}", e.message);
    e
}

/// `Authorization: Bearer <token>`, wiped when dropped.
fn bearer(token: &str) -> zeroize::Zeroizing<String> {
    zeroize::Zeroizing::new(format!("Bearer {token}"))
}

/// Registers a client (RFC 7591 §3.1). `target` is an issuer (its discovery document
/// names the `registration_endpoint`) or, with the option `endpoint`, the registration
/// endpoint itself.
pub fn register(target: &str, metadata_json: &str, options_json: Option<&str>) -> Result<Value> {
    let o: RegisterOptions = options::parse(options_json, "options_json")?;
    parse_metadata(metadata_json)?;
    if let Some(t) = &o.initial_access_token {
        options::check_token_arg("options_json: initial_access_token", t.expose(), MAX_TOKEN_BYTES)?;
    }
    let insecure = o.allow_insecure_http.unwrap_or(false);
    let by_endpoint = o.endpoint.unwrap_or(false);
    if by_endpoint {
        check_target(target, "registration endpoint", insecure)?;
    } else {
        let url = check_url(target, "issuer", insecure).map_err(|e| Error::invalid_argument(e.message))?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::invalid_argument(format!("issuer {} must not have a query or fragment", quote_untrusted(target))));
        }
    }
    let (http, req) = http_for(o.timeout_ms, o.ca_file, o.allow_insecure_http)?;
    let endpoint = if by_endpoint {
        target.to_owned()
    } else {
        let (metadata, _) = Client::discovery_doc(target, &http, req)?;
        metadata.registration_endpoint.ok_or_else(|| {
            Error::unsupported(format!(
                "the provider {} advertises no registration_endpoint (dynamic registration is not enabled there)",
                quote_untrusted(target)
            ))
        })?
    };
    let auth = o.initial_access_token.as_ref().map(|t| bearer(t.expose()));
    let mut headers: Vec<(&str, &str)> = Vec::new();
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    let what = "registration endpoint";
    let resp = http.send(Method::Post, &endpoint, what, Some(metadata_json.as_bytes()), &headers, req)?;
    // RFC 7591 §3.2.1 says 201; some providers answer 200.
    if resp.status != 201 && resp.status != 200 {
        return Err(refused(&resp, what));
    }
    let info = client_information(&resp, what)?;
    log_at!(Level::Info, "registered client {} at {}", quote_untrusted(info["client_id"].as_str().unwrap_or("")), resp.host);
    Ok(info)
}

/// One RFC 7592 call at the client configuration endpoint.
fn manage(
    method: Method,
    uri: &str,
    token: &str,
    body: Option<&str>,
    options_json: Option<&str>,
) -> Result<Option<Value>> {
    let o: ManagementOptions = options::parse(options_json, "options_json")?;
    options::check_token_arg("registration_access_token", token, MAX_TOKEN_BYTES)?;
    if let Some(body) = body {
        let metadata = parse_metadata(body)?;
        // RFC 7592 §2.2: the request includes the client_id (the provider compares it).
        if !matches!(metadata.get("client_id"), Some(Value::String(s)) if !s.is_empty()) {
            return Err(Error::invalid_argument(
                "metadata_json: an update must include the client's client_id (RFC 7592 §2.2)",
            ));
        }
    }
    let insecure = o.allow_insecure_http.unwrap_or(false);
    check_target(uri, "registration_client_uri", insecure)?;
    let (http, req) = http_for(o.timeout_ms, o.ca_file, o.allow_insecure_http)?;
    let auth = bearer(token);
    let headers = [("Authorization", auth.as_str())];
    let what = "client configuration endpoint";
    let resp = http.send(method, uri, what, body.map(str::as_bytes), &headers, req)?;
    if method == Method::Delete {
        // RFC 7592 §2.3: 204 No Content.
        if resp.status == 204 || resp.status == 200 {
            log_at!(Level::Info, "client registration deleted at {}", resp.host);
            return Ok(None);
        }
        return Err(refused(&resp, what));
    }
    if resp.status != 200 {
        return Err(refused(&resp, what));
    }
    client_information(&resp, what).map(Some)
}

/// Reads a client's registration (RFC 7592 §2.1).
pub fn read(uri: &str, token: &str, options_json: Option<&str>) -> Result<Value> {
    Ok(manage(Method::Get, uri, token, None, options_json)?.unwrap_or_default())
}

/// Replaces a client's metadata (RFC 7592 §2.2).
pub fn update(uri: &str, token: &str, metadata_json: &str, options_json: Option<&str>) -> Result<Value> {
    Ok(manage(Method::Put, uri, token, Some(metadata_json), options_json)?.unwrap_or_default())
}

/// Deletes a client's registration (RFC 7592 §2.3).
pub fn delete(uri: &str, token: &str, options_json: Option<&str>) -> Result<()> {
    manage(Method::Delete, uri, token, None, options_json).map(|_| ())
}
