package soidc

import (
	"encoding/json"
	"strings"
	"time"
)

// TokenResponse is a successful token endpoint response (RFC 6749 §5.1) as
// returned by every grant. IDTokenClaims is set when the response carried an
// ID token, which soidc has then validated. Members without a field are in
// Extra; Raw is the complete document (id_token_claims included).
type TokenResponse struct {
	AccessToken   string         `json:"access_token"`
	TokenType     string         `json:"token_type"`
	ExpiresIn     int64          `json:"expires_in,omitempty"` // seconds; 0 when not given
	RefreshToken  string         `json:"refresh_token,omitempty"`
	IDToken       string         `json:"id_token,omitempty"`
	Scope         string         `json:"scope,omitempty"`
	IDTokenClaims *IDTokenClaims `json:"id_token_claims,omitempty"`

	Extra map[string]any  `json:"-"`
	Raw   json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a token response, keeping unknown members in Extra.
func (t *TokenResponse) UnmarshalJSON(b []byte) error {
	*t = TokenResponse{Raw: clone(b)}
	return decodeObject(b, t, &t.Extra)
}

// Scopes returns the space-separated "scope" member as a list (empty when the
// provider did not say, which RFC 6749 allows when it granted what was asked).
func (t *TokenResponse) Scopes() []string { return strings.Fields(t.Scope) }

// DeviceAuthorization is a device authorization response (RFC 8628 §3.2).
// Show the user VerificationURI and UserCode (or VerificationURIComplete),
// then call Client.DeviceAuthorizationPoll with DeviceCode.
type DeviceAuthorization struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete,omitempty"`
	ExpiresIn               int64  `json:"expires_in"`              // seconds
	Interval                int64  `json:"interval,omitempty"`      // seconds; 0 = not given (5 s)
	CodeVerifier            string `json:"code_verifier,omitempty"` // PKCE verifier for the poll (set by soidc when PKCE is on)

	Extra map[string]any  `json:"-"`
	Raw   json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the response, keeping unknown members in Extra.
func (d *DeviceAuthorization) UnmarshalJSON(b []byte) error {
	*d = DeviceAuthorization{Raw: clone(b)}
	return decodeObject(b, d, &d.Extra)
}

// PollOptions returns the poll options that go with this response: its
// interval, expiry and PKCE verifier, and wait as given.
func (d *DeviceAuthorization) PollOptions(wait bool) *DevicePollOptions {
	return &DevicePollOptions{
		Wait:         wait,
		Interval:     time.Duration(d.Interval) * time.Second,
		ExpiresIn:    time.Duration(d.ExpiresIn) * time.Second,
		CodeVerifier: d.CodeVerifier,
	}
}

// AuthCodeRequest is the start of an authorization code flow, as
// Client.AuthCodeStart returns it: send the browser to URL, and keep State,
// Nonce and CodeVerifier in the user's session for Client.AuthCodeHandleResult
// (empty where switched off).
type AuthCodeRequest struct {
	URL          string `json:"url"`
	State        string `json:"state,omitempty"`
	Nonce        string `json:"nonce,omitempty"`
	CodeVerifier string `json:"code_verifier,omitempty"`
	RedirectURI  string `json:"redirect_uri,omitempty"`
	ExpiresIn    int64  `json:"expires_in,omitempty"` // seconds the pushed request (PAR) stays valid; 0 without PAR

	Extra map[string]any  `json:"-"`
	Raw   json.RawMessage `json:"-"`
}

// AuthCodeStart is the former name of AuthCodeRequest (the same type).
//
// Deprecated: use AuthCodeRequest; this name is also that of the method
// Client.AuthCodeStart, which returns it.
type AuthCodeStart = AuthCodeRequest

// UnmarshalJSON decodes the document, keeping unknown members in Extra.
func (s *AuthCodeRequest) UnmarshalJSON(b []byte) error {
	*s = AuthCodeRequest{Raw: clone(b)}
	return decodeObject(b, s, &s.Extra)
}

// ResultOptions returns the options that check the redirect back against this
// start: its state, nonce, PKCE verifier and redirect URI.
func (s *AuthCodeRequest) ResultOptions() *AuthCodeResultOptions {
	return &AuthCodeResultOptions{
		State:        s.State,
		Nonce:        s.Nonce,
		CodeVerifier: s.CodeVerifier,
		RedirectURI:  s.RedirectURI,
	}
}

// Introspection is a token introspection response (RFC 7662 §2.2). An
// inactive (expired, revoked, unknown) token is a success with Active false.
type Introspection struct {
	Active    bool        `json:"active"`
	Scope     string      `json:"scope,omitempty"`
	ClientID  string      `json:"client_id,omitempty"`
	Username  string      `json:"username,omitempty"`
	TokenType string      `json:"token_type,omitempty"`
	Expiry    NumericDate `json:"exp,omitempty"`
	IssuedAt  NumericDate `json:"iat,omitempty"`
	NotBefore NumericDate `json:"nbf,omitempty"`
	Subject   string      `json:"sub,omitempty"`
	Audience  Audience    `json:"aud,omitempty"`
	Issuer    string      `json:"iss,omitempty"`
	JWTID     string      `json:"jti,omitempty"`

	Extra map[string]any  `json:"-"`
	Raw   json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the response, keeping unknown members in Extra.
func (i *Introspection) UnmarshalJSON(b []byte) error {
	*i = Introspection{Raw: clone(b)}
	return decodeObject(b, i, &i.Extra)
}

// ProviderMetadata is the provider's metadata document (OpenID Connect
// Discovery 1.0 §3), exactly as discovered or given. Members without a field
// are in Extra; Raw is the document, which NewClientFromIssuerConfig accepts.
type ProviderMetadata struct {
	Issuer                                 string   `json:"issuer"`
	AuthorizationEndpoint                  string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                          string   `json:"token_endpoint,omitempty"`
	UserinfoEndpoint                       string   `json:"userinfo_endpoint,omitempty"`
	JWKSURI                                string   `json:"jwks_uri,omitempty"`
	RegistrationEndpoint                   string   `json:"registration_endpoint,omitempty"`
	EndSessionEndpoint                     string   `json:"end_session_endpoint,omitempty"`
	IntrospectionEndpoint                  string   `json:"introspection_endpoint,omitempty"`
	RevocationEndpoint                     string   `json:"revocation_endpoint,omitempty"`
	DeviceAuthorizationEndpoint            string   `json:"device_authorization_endpoint,omitempty"`
	ScopesSupported                        []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported                 []string `json:"response_types_supported,omitempty"`
	ResponseModesSupported                 []string `json:"response_modes_supported,omitempty"`
	GrantTypesSupported                    []string `json:"grant_types_supported,omitempty"`
	SubjectTypesSupported                  []string `json:"subject_types_supported,omitempty"`
	IDTokenSigningAlgValuesSupported       []string `json:"id_token_signing_alg_values_supported,omitempty"`
	TokenEndpointAuthMethodsSupported      []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	CodeChallengeMethodsSupported          []string `json:"code_challenge_methods_supported,omitempty"`
	ClaimsSupported                        []string `json:"claims_supported,omitempty"`
	AuthorizationResponseIssParamSupported bool     `json:"authorization_response_iss_parameter_supported,omitempty"`

	Extra map[string]any  `json:"-"`
	Raw   json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the document, keeping unknown members in Extra.
func (m *ProviderMetadata) UnmarshalJSON(b []byte) error {
	*m = ProviderMetadata{Raw: clone(b)}
	return decodeObject(b, m, &m.Extra)
}

// JSONWebKeySet is the provider's JWKS (RFC 7517 §5) as cached by a client.
type JSONWebKeySet struct {
	Keys []JSONWebKey `json:"keys"`

	Extra map[string]any  `json:"-"`
	Raw   json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the set, keeping unknown members in Extra.
func (s *JSONWebKeySet) UnmarshalJSON(b []byte) error {
	*s = JSONWebKeySet{Raw: clone(b)}
	return decodeObject(b, s, &s.Extra)
}

// JSONWebKey is one public key of a JWKS (RFC 7517 §4); the key material
// (n, e, x, y, crv, ...) is in Extra and Raw.
type JSONWebKey struct {
	KeyType   string `json:"kty"`
	Use       string `json:"use,omitempty"`
	KeyID     string `json:"kid,omitempty"`
	Algorithm string `json:"alg,omitempty"`

	Extra map[string]any  `json:"-"`
	Raw   json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the key, keeping the other members in Extra.
func (k *JSONWebKey) UnmarshalJSON(b []byte) error {
	*k = JSONWebKey{Raw: clone(b)}
	return decodeObject(b, k, &k.Extra)
}
