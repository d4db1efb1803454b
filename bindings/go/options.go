package soidc

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
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
	// Mutual TLS (RFC 8705 §2.1, §2.2): need Options.ClientCertFile and ClientKeyFile.
	AuthTLSClientAuth           AuthMethod = "tls_client_auth"
	AuthSelfSignedTLSClientAuth AuthMethod = "self_signed_tls_client_auth"
)

// Options are a client's options. The zero value of a field means soidc's
// default (shown in parentheses); a nil pointer likewise. Durations are sent
// rounded up to whole milliseconds or seconds. soidc checks every value; one
// out of range is an ErrInvalidArgument from the constructor.
type Options struct {
	// Timeout is the time budget of each call that may touch the network (30 s,
	// at most 10 min), counted over the whole call. A call whose context has a
	// deadline uses the time left instead.
	Timeout time.Duration
	// CreateTimeout bounds NewClientFromIssuerURL, discovery included (Timeout).
	// With a context deadline too, the earlier of the two applies.
	CreateTimeout time.Duration
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
	// PrivateKeyFile is a PEM file holding the key, instead of PrivateKeyPEM.
	// Like ClientSecretFile it must be a regular file owned by the process's
	// effective user or root, with no group or other permission bits (0600 or
	// 0400); otherwise the constructor fails with ErrInvalidArgument.
	PrivateKeyFile string
	// ClientSecretFile is a file holding the client secret (one trailing
	// newline is removed), instead of Config.ClientSecret, which must then be
	// "". It keeps the secret out of command lines and environments.
	ClientSecretFile string
	// ClientCertFile and ClientKeyFile are the PEM client certificate (then any
	// intermediates) and its private key for mutual TLS (RFC 8705), read with the
	// rules of ClientSecretFile; set both or neither. With AuthTLSClientAuth or
	// AuthSelfSignedTLSClientAuth (the default when the certificate is the only
	// credential) they authenticate the client; with another method they serve
	// certificate-bound tokens. A client with a certificate uses the provider's
	// mtls_endpoint_aliases.
	ClientCertFile string
	ClientKeyFile  string
	// AllowedAlgs are the JWS algorithms accepted for tokens (the provider's
	// advertised asymmetric ones; "none" is never accepted; HS* only when listed).
	AllowedAlgs []string
	// MaxResponseBytes caps every response body (1 MiB).
	MaxResponseBytes int64
	// AllowInsecureHTTP allows http:// URLs on any host (false: only on loopback).
	AllowInsecureHTTP bool
	// DPoP turns on DPoP (RFC 9449) with this proof algorithm: "ES256",
	// "EdDSA", "PS256" or "RS256" ("": off, unless a DPoP key is given, whose
	// own algorithm is then used). See Client.DPoPProof.
	DPoP string
	// DPoPKeyPEM is the DPoP private key as PEM (default: one generated at
	// creation); DPoPKeyFile reads it from a file checked like ClientSecretFile.
	DPoPKeyPEM  string
	DPoPKeyFile string
	// DPoPReplayCacheEntries and DPoPReplayWindow size the resource server's
	// replay cache of DPoP proof jtis (RFC 9449 §11.1), per client and
	// process (100000 entries, at most 10 million; 300 s, 1 s to 1 h, in
	// whole seconds rounded up): a proof older than the window is refused
	// whatever AccessTokenOptions.DPoPMaxAge says. Replicas behind a load
	// balancer do not share it.
	DPoPReplayCacheEntries int64
	DPoPReplayWindow       time.Duration
	// VerifiedCacheEntries turns on the verified-token cache of a resource
	// server (client option verified_cache_entries; 0: off, at most 1000000):
	// the client remembers this many tokens whose signature verified, and the
	// identical token decoded again skips the signature check, and only it.
	// Expiry, issuer, audience, scopes, the DPoP proof of this request, the
	// certificate binding and claim rules are checked on every call; a token
	// whose key has left the provider's JWKS is checked in full again and
	// refused. HS* tokens, failures and tokens over 16 KiB are not cached. Per client and process;
	// about the token's length plus 150 bytes per entry. soidchttp.Middleware
	// uses it through its Client.
	VerifiedCacheEntries int64

	// Logger, if not nil, is the client's own logger from the start, as
	// Client.SetLogger would install it afterwards: NewClientFromIssuerURL
	// installs it before the discovery, so it also receives the messages of the
	// creation itself (soidc_client_from_issuer_url_with_log).
	// NewClientFromIssuerConfig installs it right after the creation, whose own
	// messages then go to the process-wide logger. It is kept referenced until
	// Close. Logger and LogLevel are not sent to soidc as options.
	Logger LogFunc
	// LogLevel is the most detailed level Logger receives (0 means LogInfo).
	LogLevel LogLevel
}

// logLevel is o.LogLevel, with 0 meaning LogInfo.
func (o Options) logLevel() LogLevel {
	if o.LogLevel == 0 {
		return LogInfo
	}
	return o.LogLevel
}

// MarshalJSON returns the options document soidc reads ({} for the zero value).
func (o Options) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		TimeoutMS               int64      `json:"timeout_ms,omitempty"`
		CreateTimeoutMS         int64      `json:"create_timeout_ms,omitempty"`
		ConnectTimeoutMS        int64      `json:"connect_timeout_ms,omitempty"`
		CAFile                  string     `json:"ca_file,omitempty"`
		Proxy                   string     `json:"proxy,omitempty"`
		LeewayS                 *int64     `json:"leeway_s,omitempty"`
		MinJWKSCacheS           *int64     `json:"min_jwks_cache_s,omitempty"`
		JWKSRefetchMinIntervalS *int64     `json:"jwks_refetch_min_interval_s,omitempty"`
		AuthMethod              AuthMethod `json:"auth_method,omitempty"`
		PrivateKeyPEM           string     `json:"private_key_pem,omitempty"`
		PrivateKeyKID           string     `json:"private_key_kid,omitempty"`
		PrivateKeyFile          string     `json:"private_key_file,omitempty"`
		ClientSecretFile        string     `json:"client_secret_file,omitempty"`
		ClientCertFile          string     `json:"client_cert_file,omitempty"`
		ClientKeyFile           string     `json:"client_key_file,omitempty"`
		AllowedAlgs             []string   `json:"allowed_algs,omitempty"`
		MaxResponseBytes        int64      `json:"max_response_bytes,omitempty"`
		AllowInsecureHTTP       bool       `json:"allow_insecure_http,omitempty"`
		DPoP                    string     `json:"dpop,omitempty"`
		DPoPKeyPEM              string     `json:"dpop_key_pem,omitempty"`
		DPoPKeyFile             string     `json:"dpop_key_file,omitempty"`
		DPoPReplayCacheEntries  int64      `json:"dpop_replay_cache_entries,omitempty"`
		DPoPReplayWindowS       int64      `json:"dpop_replay_window_s,omitempty"`
		VerifiedCacheEntries    int64      `json:"verified_cache_entries,omitempty"`
	}{
		TimeoutMS:               ceilDiv(o.Timeout, time.Millisecond),
		CreateTimeoutMS:         ceilDiv(o.CreateTimeout, time.Millisecond),
		ConnectTimeoutMS:        ceilDiv(o.ConnectTimeout, time.Millisecond),
		CAFile:                  o.CAFile,
		Proxy:                   o.Proxy,
		LeewayS:                 seconds(o.Leeway),
		MinJWKSCacheS:           seconds(o.MinJWKSCache),
		JWKSRefetchMinIntervalS: seconds(o.JWKSRefetchMinInterval),
		AuthMethod:              o.AuthMethod,
		PrivateKeyPEM:           o.PrivateKeyPEM,
		PrivateKeyKID:           o.PrivateKeyKID,
		PrivateKeyFile:          o.PrivateKeyFile,
		ClientSecretFile:        o.ClientSecretFile,
		ClientCertFile:          o.ClientCertFile,
		ClientKeyFile:           o.ClientKeyFile,
		AllowedAlgs:             o.AllowedAlgs,
		MaxResponseBytes:        o.MaxResponseBytes,
		AllowInsecureHTTP:       o.AllowInsecureHTTP,
		DPoP:                    o.DPoP,
		DPoPKeyPEM:              o.DPoPKeyPEM,
		DPoPKeyFile:             o.DPoPKeyFile,
		DPoPReplayCacheEntries:  o.DPoPReplayCacheEntries,
		DPoPReplayWindowS:       ceilDiv(o.DPoPReplayWindow, time.Second),
		VerifiedCacheEntries:    o.VerifiedCacheEntries,
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

// unixTime converts an optional time to Unix seconds with its fraction, as
// an exact decimal number ("1765146012.5"; nil for the zero time), for the
// options that accept fractional seconds (min_iat).
func unixTime(t time.Time) *json.Number {
	if t.IsZero() {
		return nil
	}
	sec, nsec := t.Unix(), int64(t.Nanosecond())
	sign := ""
	if sec < 0 && nsec > 0 {
		// -1.5 s is Unix -2 plus 500 ms: write the magnitude.
		sign, sec, nsec = "-", -(sec + 1), 1e9-nsec
	}
	text := sign + strconv.FormatInt(sec, 10)
	if nsec > 0 {
		text += "." + strings.TrimRight(fmt.Sprintf("%09d", nsec), "0")
	}
	n := json.Number(text)
	return &n
}
