//! Discovery (OpenID Connect Discovery 1.0) against the real provider and against a
//! stub that breaks the protocol in one way per test; `from_issuer_config`; client type.

mod common;

use common::ffi::{self, FfiClient, Params};
use common::provider::{self, client_secret};
use common::stub::{dead_url, Route, StubServer, DISCOVERY_PATH};
use serde_json::json;
use soidc::ffi::client::soidc_client_get_type;
use soidc::ffi::status::*;

fn conf_basic() -> (String, Params<'static>) {
    let secret: &'static str = Box::leak(client_secret("conf-basic").into_boxed_str());
    (
        provider::issuer().to_owned(),
        Params {
            client_id: "conf-basic",
            client_secret: Some(secret),
            ..Default::default()
        },
    )
}

fn stub_params() -> Params<'static> {
    Params {
        client_id: "rp",
        client_secret: Some("rp-secret"),
        ..Default::default()
    }
}

#[test]
fn real_provider_discovery_keeps_the_document_verbatim() {
    let (issuer, params) = conf_basic();
    let client = ffi::client(&issuer, params);
    let doc = client.provider_config().ok();
    assert_eq!(doc["issuer"], issuer);
    assert_eq!(doc["jwks_uri"], format!("{issuer}/jwks"));
    assert_eq!(doc["token_endpoint"], format!("{issuer}/token"));
    // Members soidc does not type are kept, unchanged.
    assert_eq!(
        doc["pushed_authorization_request_endpoint"],
        format!("{issuer}/request")
    );
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert!(doc["claims_supported"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "email"));
}

#[test]
fn real_provider_keys_are_the_three_signing_keys() {
    let (issuer, params) = conf_basic();
    let client = ffi::client(&issuer, params);
    let jwks = client.provider_keys(None).ok();
    let keys = jwks["keys"].as_array().expect("keys array");
    assert_eq!(keys.len(), 3, "{jwks}");
    let algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    assert_eq!(algs, ["RS256", "ES256", "EdDSA"]);
    for k in keys {
        assert_eq!(k["use"], "sig");
        assert!(k.get("d").is_none(), "a private member leaked: {k}");
    }
    // Cached: asking again without options gives the same document.
    assert_eq!(
        client.provider_keys(Some(r#"{"cache_only": true}"#)).ok(),
        jwks
    );
}

#[test]
fn client_type_public_confidential_and_null() {
    let (issuer, params) = conf_basic();
    let confidential = ffi::client(&issuer, params);
    assert_eq!(confidential.get_type(), SOIDC_CLIENT_CONFIDENTIAL);
    assert_eq!(confidential.get_type(), 2);
    let public = ffi::client(
        &issuer,
        Params {
            client_id: "public-pkce",
            ..Default::default()
        },
    );
    assert_eq!(public.get_type(), SOIDC_CLIENT_PUBLIC);
    assert_eq!(public.get_type(), 1);
    // SAFETY: NULL is allowed.
    assert_eq!(
        unsafe { soidc_client_get_type(std::ptr::null()) },
        SOIDC_CLIENT_INVALID
    );
    assert_eq!(SOIDC_CLIENT_INVALID, 0);
}

#[test]
fn core_discovery_against_the_real_provider() {
    let secret = client_secret("conf-basic");
    let params = soidc::core::ClientParams {
        client_id: "conf-basic",
        client_secret: Some(&secret),
        ..Default::default()
    };
    let client =
        soidc::core::Client::from_issuer_url(provider::issuer(), params).expect("discovery");
    assert_eq!(client.issuer(), provider::issuer());
    assert_eq!(client.client_type(), soidc::core::ClientType::Confidential);
    let algs: Vec<&str> = client.allowed_algs().iter().map(|a| a.name()).collect();
    assert_eq!(algs, ["RS256", "ES256", "EdDSA"]);
}

#[test]
fn stub_discovery_works_and_keeps_unknown_members() {
    let stub = StubServer::new();
    let client = ffi::client(&stub.issuer(), stub_params());
    let doc = client.provider_config().ok();
    assert_eq!(doc["issuer"], stub.issuer());
    assert_eq!(doc["x_stub_extension"], json!({"kept": true}));
    assert_eq!(stub.count(DISCOVERY_PATH), 1);
    assert_eq!(
        stub.jwks_count(),
        0,
        "keys are fetched when first needed, not at creation"
    );
}

#[test]
fn issuer_mismatch_is_a_protocol_error() {
    let stub = StubServer::new();
    let mut doc = stub.discovery_doc();
    doc["issuer"] = json!("https://evil.example");
    stub.set_json(DISCOVERY_PATH, 200, &doc);
    let (out, client) = ffi::from_issuer_url(&stub.issuer(), stub_params());
    assert!(client.is_none());
    let err = out.err(SOIDC_ERR_PROTOCOL, "issuer mismatch");
    let msg = err["message"].as_str().unwrap();
    assert!(
        msg.contains("https://evil.example") && msg.contains(&stub.issuer()),
        "{msg}"
    );
}

#[test]
fn trailing_slash_on_the_given_issuer_is_a_mismatch() {
    // The document says http://127.0.0.1:<port>; the client was given a trailing slash.
    let stub = StubServer::new();
    let given = format!("{}/", stub.issuer());
    let (out, _) = ffi::from_issuer_url(&given, stub_params());
    out.err(SOIDC_ERR_PROTOCOL, "issuer mismatch");
    assert_eq!(
        stub.count(DISCOVERY_PATH),
        1,
        "the discovery URL itself is found"
    );
}

#[test]
fn trailing_slash_in_the_document_is_a_mismatch() {
    let stub = StubServer::new();
    let mut doc = stub.discovery_doc();
    doc["issuer"] = json!(format!("{}/", stub.issuer()));
    stub.set_json(DISCOVERY_PATH, 200, &doc);
    let (out, _) = ffi::from_issuer_url(&stub.issuer(), stub_params());
    out.err(SOIDC_ERR_PROTOCOL, "issuer mismatch");
}

#[test]
fn discovery_http_500_is_an_http_error() {
    let stub = StubServer::new();
    stub.set_json(DISCOVERY_PATH, 500, &json!({"error": "server_error"}));
    let (out, _) = ffi::from_issuer_url(&stub.issuer(), stub_params());
    let err = out.err(SOIDC_ERR_HTTP, "HTTP 500");
    assert_eq!(err["http_status"], 500);
}

#[test]
fn discovery_404_is_an_http_error() {
    let stub = StubServer::new();
    stub.remove_route(DISCOVERY_PATH);
    let (out, _) = ffi::from_issuer_url(&stub.issuer(), stub_params());
    out.err(SOIDC_ERR_HTTP, "HTTP 404");
}

#[test]
fn discovery_redirect_is_not_followed() {
    let stub = StubServer::new();
    stub.set_route(
        DISCOVERY_PATH,
        Route::raw(302, "text/plain", b"").with_header(
            "Location",
            "http://127.0.0.1:9/.well-known/openid-configuration",
        ),
    );
    let (out, _) = ffi::from_issuer_url(&stub.issuer(), stub_params());
    out.err(SOIDC_ERR_HTTP, "redirects are never followed");
}

#[test]
fn discovery_non_json_body_is_an_http_error() {
    let stub = StubServer::new();
    stub.set_route(
        DISCOVERY_PATH,
        Route::raw(200, "text/html", b"<html>hello</html>"),
    );
    let (out, _) = ffi::from_issuer_url(&stub.issuer(), stub_params());
    out.err(SOIDC_ERR_HTTP, "not JSON");
}

#[test]
fn discovery_document_not_an_object_is_a_protocol_error() {
    let stub = StubServer::new();
    stub.set_json(DISCOVERY_PATH, 200, &json!(["issuer"]));
    let (out, _) = ffi::from_issuer_url(&stub.issuer(), stub_params());
    out.err(SOIDC_ERR_PROTOCOL, "not a JSON object");
}

#[test]
fn missing_jwks_uri_is_a_protocol_error() {
    let stub = StubServer::new();
    let mut doc = stub.discovery_doc();
    doc.as_object_mut().unwrap().remove("jwks_uri");
    stub.set_json(DISCOVERY_PATH, 200, &doc);
    let (out, _) = ffi::from_issuer_url(&stub.issuer(), stub_params());
    out.err(SOIDC_ERR_PROTOCOL, "jwks_uri");
}

#[test]
fn wrongly_typed_member_is_a_protocol_error_naming_the_member() {
    let stub = StubServer::new();
    let mut doc = stub.discovery_doc();
    doc["scopes_supported"] = json!("openid");
    stub.set_json(DISCOVERY_PATH, 200, &doc);
    let (out, _) = ffi::from_issuer_url(&stub.issuer(), stub_params());
    // The message must say which member is wrong, not only which JSON type was found.
    out.err(SOIDC_ERR_PROTOCOL, "scopes_supported");
}

#[test]
fn wrongly_typed_member_is_a_protocol_error() {
    let stub = StubServer::new();
    let mut doc = stub.discovery_doc();
    doc["scopes_supported"] = json!("openid");
    stub.set_json(DISCOVERY_PATH, 200, &doc);
    let (out, _) = ffi::from_issuer_url(&stub.issuer(), stub_params());
    out.err(SOIDC_ERR_PROTOCOL, "provider metadata is invalid");
}

#[test]
fn insecure_endpoint_in_the_document_is_a_protocol_error() {
    let stub = StubServer::new();
    let mut doc = stub.discovery_doc();
    doc["token_endpoint"] = json!("http://idp.example/token");
    stub.set_json(DISCOVERY_PATH, 200, &doc);
    let (out, _) = ffi::from_issuer_url(&stub.issuer(), stub_params());
    out.err(SOIDC_ERR_PROTOCOL, "token_endpoint");
}

#[test]
fn issuer_with_a_path() {
    let stub = StubServer::new();
    let issuer = format!("{}/realms/test", stub.issuer());
    let mut doc = stub.discovery_doc();
    doc["issuer"] = json!(issuer);
    stub.set_json(&format!("/realms/test{DISCOVERY_PATH}"), 200, &doc);
    let client = ffi::client(&issuer, stub_params());
    assert_eq!(client.provider_config().ok()["issuer"], issuer);
    assert_eq!(stub.count(DISCOVERY_PATH), 0);
}

#[test]
fn issuer_with_a_query_or_fragment_is_refused() {
    let stub = StubServer::new();
    let (out, _) = ffi::from_issuer_url(&format!("{}?tenant=1", stub.issuer()), stub_params());
    out.err(
        SOIDC_ERR_INVALID_ARGUMENT,
        "must not have a query or fragment",
    );
    let (out, _) = ffi::from_issuer_url(&format!("{}#x", stub.issuer()), stub_params());
    out.err(
        SOIDC_ERR_INVALID_ARGUMENT,
        "must not have a query or fragment",
    );
    assert_eq!(stub.count(DISCOVERY_PATH), 0);
}

#[test]
fn oversized_discovery_document_is_an_http_error() {
    let stub = StubServer::new();
    let mut doc = stub.discovery_doc();
    doc["x_padding"] = json!("x".repeat(4096));
    stub.set_json(DISCOVERY_PATH, 200, &doc);
    let params = Params {
        options: Some(r#"{"max_response_bytes": 1024}"#),
        ..stub_params()
    };
    let (out, _) = ffi::from_issuer_url(&stub.issuer(), params);
    out.err(SOIDC_ERR_HTTP, "max_response_bytes");
    // The default limit (1 MiB) lets it through.
    ffi::client(&stub.issuer(), stub_params());
}

#[test]
fn slow_discovery_is_a_network_timeout() {
    let stub = StubServer::new();
    let doc = stub.discovery_doc();
    stub.set_route(
        DISCOVERY_PATH,
        Route::json(200, &doc).with_delay(std::time::Duration::from_secs(5)),
    );
    let params = Params {
        options: Some(r#"{"timeout_ms": 300}"#),
        ..stub_params()
    };
    let (out, _) = ffi::from_issuer_url(&stub.issuer(), params);
    out.err(SOIDC_ERR_NETWORK, "timed out");
}

#[test]
fn nothing_listening_is_a_network_error() {
    let (out, client) = ffi::from_issuer_url(&dead_url(), stub_params());
    assert!(client.is_none());
    out.err(SOIDC_ERR_NETWORK, "discovery");
}

#[test]
fn non_loopback_http_issuer_is_refused_before_any_request() {
    let (out, _) = ffi::from_issuer_url("http://idp.example", stub_params());
    out.err(SOIDC_ERR_INVALID_ARGUMENT, "https is required");
}

#[test]
fn from_issuer_config_uses_the_given_document() {
    let stub = StubServer::new();
    let doc = stub.discovery_doc();
    let (out, client) = ffi::from_issuer_config(&doc.to_string(), stub_params());
    assert_eq!(out.status, SOIDC_OK, "{:?}", out.doc);
    assert!(out.doc.is_none(), "no document on success");
    let client: FfiClient = client.unwrap();
    assert_eq!(
        stub.count(DISCOVERY_PATH),
        0,
        "no network access at creation"
    );
    assert_eq!(client.provider_config().ok(), doc);
    assert_eq!(client.get_type(), SOIDC_CLIENT_CONFIDENTIAL);
    // The JWKS still comes from the document's jwks_uri.
    let keys = client.provider_keys(None).ok();
    assert_eq!(keys["keys"].as_array().unwrap().len(), 4);
    assert_eq!(stub.jwks_count(), 1);
}

#[test]
fn from_issuer_config_with_the_real_providers_document() {
    let (issuer, params) = conf_basic();
    let discovered = ffi::client(&issuer, params).provider_config().ok();
    let (out, client) = ffi::from_issuer_config(&discovered.to_string(), params);
    assert_eq!(out.status, SOIDC_OK, "{:?}", out.doc);
    assert_eq!(client.unwrap().provider_config().ok(), discovered);
}

#[test]
fn from_issuer_config_malformed_json_is_an_invalid_argument() {
    let (out, client) = ffi::from_issuer_config("{\"issuer\": ", stub_params());
    assert!(client.is_none());
    out.err(SOIDC_ERR_INVALID_ARGUMENT, "malformed JSON");
}

#[test]
fn from_issuer_config_incomplete_document_is_an_invalid_argument() {
    let stub = StubServer::new();
    let mut doc = stub.discovery_doc();
    doc.as_object_mut().unwrap().remove("jwks_uri");
    let (out, _) = ffi::from_issuer_config(&doc.to_string(), stub_params());
    out.err(SOIDC_ERR_INVALID_ARGUMENT, "jwks_uri");
}

#[test]
fn core_from_issuer_config_and_errors() {
    use soidc::core::{Client, ClientParams, ErrorKind};
    let stub = StubServer::new();
    let doc = stub.discovery_doc().to_string();
    let params = || ClientParams {
        client_id: "rp",
        ..Default::default()
    };
    let client = Client::from_issuer_config(&doc, params()).expect("config");
    assert_eq!(client.client_type(), soidc::core::ClientType::Public);
    assert_eq!(client.issuer(), stub.issuer());
    common::assert_core_err(
        Client::from_issuer_config("not json", params()),
        ErrorKind::InvalidArgument,
        "malformed JSON",
    );
    common::assert_core_err(
        Client::from_issuer_url(&format!("{}/", stub.issuer()), params()),
        ErrorKind::Protocol,
        "issuer mismatch",
    );
}
