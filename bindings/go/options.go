package soidc

import (
	"encoding/json"
	"time"
)

// Config is one client registration at one provider.
type Config struct {
	ClientID     string // required
	ClientSecret string // "" makes a public client; never appears in errors or logs
	RedirectURI  string // the default redirect URI of the authorization code flow; may be ""
	Scope        string // the default scope; "" means "openid"
	Options      Options
}

// AuthMethod is a client authentication method at the token, introspection,
// revocation and device endpoints.
type AuthMethod string

// The client authentication methods soidc implements.
const (
	AuthClientSecretBasic AuthMethod = "client_secret_basic"
	AuthClientSecretPost  AuthMethod = "client_secret_post"
	AuthClientSecretJWT   AuthMethod = "client_secret_jwt"
	AuthPrivateKeyJWT     AuthMethod = "private_key_jwt"
	AuthNone              AuthMethod = "none"
)

// Options are a client's options. The zero value of a field means soidc's
// default (shown in parentheses); a nil pointer likewise. Durations are sent
// rounded up to whole milliseconds or seconds. soidc checks every value; one
// out of range is an ErrInvalidArgument from the constructor.
type Options struct {
	// Timeout bounds each HTTP request (30 s, at most 10 min). A call whose
	// context has a deadline uses the time left instead.
	Timeout time.Duration
	// ConnectTimeout bounds connection setup (10 s).
	ConnectTimeout time.Duration
	// CAFile is a PEM bundle of extra trusted roots, added to the system's.
	CAFile string
	// Proxy is an HTTP(S) proxy URL (none; proxy environment variables are never read).
	Proxy string
	// Leeway is the clock skew allowed for exp, iat and nbf (30 s, at most 300 s).
	Leeway *time.Duration
	// MinJWKSCache is how long fetched keys are used at least (600 s).
	MinJWKSCache *time.Duration
	// JWKSRefetchMinInterval rate-limits refetching the keys for an unknown kid (10 s).
	JWKSRefetchMinInterval *time.Duration
	// AuthMethod is the client authentication method (chosen from what the
	// provider supports and whether there is a secret or key).
	AuthMethod AuthMethod
	// PrivateKeyPEM and PrivateKeyKID are the key for private_key_jwt.
	PrivateKeyPEM string
	PrivateKeyKID string
	// AllowedAlgs are the JWS algorithms accepted for tokens (the provider's
	// advertised asymmetric ones; "none" is never accepted; HS* only when listed).
	AllowedAlgs []string
	// MaxResponseBytes caps every response body (1 MiB).
	MaxResponseBytes int64
	// AllowInsecureHTTP allows http:// URLs on any host (false: only on loopback).
	AllowInsecureHTTP bool
}

// MarshalJSON returns the options document soidc reads ({} for the zero value).
func (o Options) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		TimeoutMS               int64      `json:"timeout_ms,omitempty"`
		ConnectTimeoutMS        int64      `json:"connect_timeout_ms,omitempty"`
		CAFile                  string     `json:"ca_file,omitempty"`
		Proxy                   string     `json:"proxy,omitempty"`
		LeewayS                 *int64     `json:"leeway_s,omitempty"`
		MinJWKSCacheS           *int64     `json:"min_jwks_cache_s,omitempty"`
		JWKSRefetchMinIntervalS *int64     `json:"jwks_refetch_min_interval_s,omitempty"`
		AuthMethod              AuthMethod `json:"auth_method,omitempty"`
		PrivateKeyPEM           string     `json:"private_key_pem,omitempty"`
		PrivateKeyKID           string     `json:"private_key_kid,omitempty"`
		AllowedAlgs             []string   `json:"allowed_algs,omitempty"`
		MaxResponseBytes        int64      `json:"max_response_bytes,omitempty"`
		AllowInsecureHTTP       bool       `json:"allow_insecure_http,omitempty"`
	}{
		TimeoutMS:               ceilDiv(o.Timeout, time.Millisecond),
		ConnectTimeoutMS:        ceilDiv(o.ConnectTimeout, time.Millisecond),
		CAFile:                  o.CAFile,
		Proxy:                   o.Proxy,
		LeewayS:                 seconds(o.Leeway),
		MinJWKSCacheS:           seconds(o.MinJWKSCache),
		JWKSRefetchMinIntervalS: seconds(o.JWKSRefetchMinInterval),
		AuthMethod:              o.AuthMethod,
		PrivateKeyPEM:           o.PrivateKeyPEM,
		PrivateKeyKID:           o.PrivateKeyKID,
		AllowedAlgs:             o.AllowedAlgs,
		MaxResponseBytes:        o.MaxResponseBytes,
		AllowInsecureHTTP:       o.AllowInsecureHTTP,
	})
}

// seconds converts an optional duration to whole seconds, rounded up.
func seconds(d *time.Duration) *int64 {
	if d == nil {
		return nil
	}
	s := ceilDiv(*d, time.Second)
	return &s
}

// unixSeconds converts an optional time to Unix seconds (nil for the zero time).
func unixSeconds(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	s := t.Unix()
	return &s
}
