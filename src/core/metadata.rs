//! OpenID Provider Metadata (OpenID Connect Discovery 1.0 §3, RFC 8414 and the
//! logout, introspection, revocation and device-flow extensions). Every member
//! simple_openid_connect's `ProviderMetadata` knows is typed here, so a member
//! of the wrong type is reported; the document itself is kept verbatim, unknown
//! members included, for `soidc_client_provider_config`.

use crate::core::error::{Error, Result};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: String,
    pub registration_endpoint: Option<String>,
    pub scopes_supported: Option<Vec<String>>,
    pub response_types_supported: Option<Vec<String>>,
    pub response_modes_supported: Option<Vec<String>>,
    pub grant_types_supported: Option<Vec<String>>,
    pub acr_values_supported: Option<Vec<String>>,
    pub subject_types_supported: Vec<String>,
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub id_token_encryption_alg_values_supported: Option<Vec<String>>,
    pub id_token_encryption_enc_values_supported: Option<Vec<String>>,
    pub userinfo_signing_alg_values_supported: Option<Vec<String>>,
    pub userinfo_encryption_alg_values_supported: Option<Vec<String>>,
    pub userinfo_encryption_enc_values_supported: Option<Vec<String>>,
    pub request_object_signing_alg_values_supported: Option<Vec<String>>,
    pub request_object_encryption_alg_values_supported: Option<Vec<String>>,
    pub request_object_encryption_enc_values_supported: Option<Vec<String>>,
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    pub token_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    pub display_values_supported: Option<Vec<String>>,
    pub claim_types_supported: Option<Vec<String>>,
    pub claims_supported: Option<Vec<String>>,
    pub service_documentation: Option<String>,
    pub claims_locales_supported: Option<Vec<String>>,
    pub ui_locales_supported: Option<Vec<String>>,
    pub claims_parameter_supported: Option<bool>,
    pub request_parameter_supported: Option<bool>,
    pub request_uri_parameter_supported: Option<bool>,
    pub require_request_uri_registration: Option<bool>,
    pub op_policy_uri: Option<String>,
    pub op_tos_uri: Option<String>,
    pub end_session_endpoint: Option<String>,
    pub frontchannel_logout_supported: Option<bool>,
    pub frontchannel_logout_session_supported: Option<bool>,
    pub backchannel_logout_supported: Option<bool>,
    pub backchannel_logout_session_supported: Option<bool>,
    pub introspection_endpoint: Option<String>,
    // Beyond simple_openid_connect:
    pub revocation_endpoint: Option<String>,
    pub device_authorization_endpoint: Option<String>,
    pub introspection_endpoint_auth_methods_supported: Option<Vec<String>>,
    pub revocation_endpoint_auth_methods_supported: Option<Vec<String>>,
    pub code_challenge_methods_supported: Option<Vec<String>>,
    pub authorization_response_iss_parameter_supported: Option<bool>,
    pub check_session_iframe: Option<String>,
    // RFC 9126 (pushed authorization requests)
    pub pushed_authorization_request_endpoint: Option<String>,
    pub require_pushed_authorization_requests: Option<bool>,
    // RFC 9101 (JWT-secured authorization requests)
    pub require_signed_request_object: Option<bool>,
    // JWT-secured authorization responses (JARM)
    pub authorization_signing_alg_values_supported: Option<Vec<String>>,
    // RFC 8705 §3.3 and §5
    pub tls_client_certificate_bound_access_tokens: Option<bool>,
    pub mtls_endpoint_aliases: Option<MtlsEndpointAliases>,
}

/// RFC 8705 §5: the endpoints a client using mutual TLS calls instead of the regular
/// ones. Members soidc does not call are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MtlsEndpointAliases {
    pub token_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    pub introspection_endpoint: Option<String>,
    pub device_authorization_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub pushed_authorization_request_endpoint: Option<String>,
}

impl ProviderMetadata {
    /// Parses and type-checks a discovery document.
    pub fn parse(doc: &Value) -> Result<ProviderMetadata> {
        if !doc.is_object() {
            return Err(Error::protocol("provider metadata is not a JSON object"));
        }
        serde_path_to_error::deserialize(doc).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." {
                Error::protocol(format!("provider metadata is invalid: {inner}"))
            } else {
                Error::protocol(format!("provider metadata is invalid: member \"{path}\": {inner}"))
            }
        })
    }

    /// The endpoints soidc calls or sends a browser to, with their member names.
    pub fn endpoints(&self) -> Vec<(&'static str, &str)> {
        let mut v = vec![
            ("authorization_endpoint", self.authorization_endpoint.as_str()),
            ("jwks_uri", self.jwks_uri.as_str()),
        ];
        let optional = [
            ("token_endpoint", &self.token_endpoint),
            ("userinfo_endpoint", &self.userinfo_endpoint),
            ("end_session_endpoint", &self.end_session_endpoint),
            ("introspection_endpoint", &self.introspection_endpoint),
            ("revocation_endpoint", &self.revocation_endpoint),
            ("device_authorization_endpoint", &self.device_authorization_endpoint),
        ];
        for (name, value) in optional {
            if let Some(u) = value {
                v.push((name, u.as_str()));
            }
        }
        if let Some(a) = &self.mtls_endpoint_aliases {
            let aliases = [
                ("mtls_endpoint_aliases.token_endpoint", &a.token_endpoint),
                ("mtls_endpoint_aliases.revocation_endpoint", &a.revocation_endpoint),
                ("mtls_endpoint_aliases.introspection_endpoint", &a.introspection_endpoint),
                ("mtls_endpoint_aliases.device_authorization_endpoint", &a.device_authorization_endpoint),
                ("mtls_endpoint_aliases.userinfo_endpoint", &a.userinfo_endpoint),
                ("mtls_endpoint_aliases.pushed_authorization_request_endpoint", &a.pushed_authorization_request_endpoint),
            ];
            for (name, value) in aliases {
                if let Some(u) = value {
                    v.push((name, u.as_str()));
                }
            }
        }
        v
    }
}
