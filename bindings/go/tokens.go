package soidc

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/cgo"
	"time"
)

// Token validation: ID tokens, RFC 9068 JWT access tokens and back-channel
// logout tokens. Each may fetch the provider's keys (unless CacheOnly), so each
// passes ctx's remaining time as its timeout.

// IDTokenOptions are the options of Client.DecodeIDToken.
type IDTokenOptions struct {
	// Nonce is the expected nonce. Without it (and without IgnoreNonce) a token
	// that carries a nonce is refused (ReasonNonce).
	Nonce string
	// IgnoreNonce skips the nonce check entirely; use it only where the nonce
	// is no longer at hand (an ID token re-validated after the login, such as
	// one kept in a session). Together with Nonce it is ErrInvalidArgument.
	IgnoreNonce           bool
	ExtraTrustedAudiences []string       // audiences besides the client id that may appear in aud
	MinIssuedAt           time.Time      // reject tokens issued before (sent with its fraction of a second)
	MinAuthTime           time.Time      // reject authentications before
	MaxAge                *time.Duration // reject authentications older than this (auth_time)
	ExpectSelfAZP         *bool          // azp must be the client id (default true)
	// ACRValuesAllowed, if not empty, lists the acceptable acr values: a token
	// without acr, or with another one, is refused (ReasonACR). It is checked
	// before ValidateACR; both must pass.
	ACRValuesAllowed []string
	AccessToken      string // checks at_hash
	Code             string // checks c_hash
	CacheOnly        bool   // use cached keys only, never touch the network

	// ValidateACR, if not nil, decides whether the token's acr is acceptable:
	// it is called with the acr and present true, or with "" and present false
	// when the token has none (so that a token without acr cannot bypass a
	// requirement). Returning false, or panicking, rejects the token with
	// ErrValidation. It runs synchronously during the call, at most once.
	ValidateACR func(acr string, present bool) bool
}

// MarshalJSON returns the options document soidc reads (ValidateACR is passed
// separately).
func (o IDTokenOptions) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Nonce                 string       `json:"nonce,omitempty"`
		IgnoreNonce           bool         `json:"ignore_nonce,omitempty"`
		ExtraTrustedAudiences []string     `json:"extra_trusted_audiences,omitempty"`
		MinIAT                *json.Number `json:"min_iat,omitempty"`
		MinAuthTime           *int64       `json:"min_auth_time,omitempty"`
		MaxAge                *int64       `json:"max_age,omitempty"`
		ExpectSelfAZP         *bool        `json:"expect_self_azp,omitempty"`
		ACRValuesAllowed      []string     `json:"acr_values_allowed,omitempty"`
		AccessToken           string       `json:"access_token,omitempty"`
		Code                  string       `json:"code,omitempty"`
		CacheOnly             bool         `json:"cache_only,omitempty"`
	}{o.Nonce, o.IgnoreNonce, o.ExtraTrustedAudiences, unixTime(o.MinIssuedAt), unixSeconds(o.MinAuthTime),
		seconds(o.MaxAge), o.ExpectSelfAZP, o.ACRValuesAllowed, o.AccessToken, o.Code, o.CacheOnly})
}

// acrCall is what the ACR trampoline (callbacks.go) reaches through its
// cgo.Handle: the Go validator, and the panic it may have raised.
type acrCall struct {
	validate func(acr string, present bool) bool
	panicked any
}

// DecodeIDToken decodes and validates an ID token (OpenID Connect Core
// §3.1.3.7) and returns its claims: signature with the provider's keys, alg,
// typ, iss, aud, azp, sub, exp/iat/nbf with leeway, nonce, acr, max_age and
// auth_time, at_hash and c_hash. opts may be nil; then a token carrying a
// nonce is refused (see IDTokenOptions.IgnoreNonce). Errors: ErrValidation (the
// message names the failed check, the expected and the found value),
// ErrInvalidArgument, or ErrNetwork/ErrHTTP/ErrProtocol when the keys could
// not be fetched.
func (c *Client) DecodeIDToken(ctx context.Context, rawToken string, opts *IDTokenOptions) (*IDTokenClaims, error) {
	if err := checkStrings("rawToken", rawToken); err != nil {
		return nil, err
	}
	o, err := optionsJSON(opts, callTimeout(ctx))
	if err != nil {
		return nil, err
	}
	var call *acrCall
	if opts != nil && opts.ValidateACR != nil {
		call = &acrCall{validate: opts.ValidateACR}
	}
	doc, err := c.do(ctx, true, func(p *C.soidc_client, out **C.char) C.soidc_status {
		var a cStrings
		defer a.free()
		var handle C.uintptr_t // 0: no validator
		if call != nil {
			h := cgo.NewHandle(call)
			defer h.Delete()
			handle = C.uintptr_t(h)
		}
		return C.soidc_go_decode_id_token(p, a.str(rawToken), a.opt(o), handle, out)
	})
	if err != nil {
		if e, ok := err.(*Error); ok && call != nil && call.panicked != nil {
			e.Message += fmt.Sprintf(" (ValidateACR panicked: %v)", call.panicked)
		}
		return nil, err
	}
	return decodeResult[IDTokenClaims]("ID token claims", doc)
}

// AccessTokenOptions are the options of Client.DecodeAccessToken.
type AccessTokenOptions struct {
	// Audience is the resource server's identifier (default: the client id);
	// the token's aud must contain it.
	Audience string
	// Audiences are several acceptable identifiers, instead of Audience: the
	// token's aud must contain at least one of them. Setting both is
	// ErrInvalidArgument.
	Audiences      []string
	RequiredScopes []string // each must be in the token's scope
	CacheOnly      bool     // use cached keys only, never touch the network
	// ClientCertPEM is the request's TLS client certificate (PEM, or base64 DER):
	// a token with cnf["x5t#S256"] is accepted only with that certificate
	// (RFC 8705 §3); otherwise ErrValidation with reason "cnf_x5t". A
	// certificate given for a token without that cnf is accepted.
	ClientCertPEM string
}

// errAudienceTwice is AccessTokenOptions with both Audience and Audiences.
var errAudienceTwice = errors.New("AccessTokenOptions: set Audience or Audiences, not both")

// MarshalJSON returns the options document soidc reads: audience is a string
// (Audience) or an array (Audiences).
func (o AccessTokenOptions) MarshalJSON() ([]byte, error) {
	var audience any
	switch {
	case o.Audience != "" && len(o.Audiences) > 0:
		return nil, errAudienceTwice
	case o.Audience != "":
		audience = o.Audience
	case len(o.Audiences) > 0:
		audience = o.Audiences
	}
	return json.Marshal(struct {
		Audience       any      `json:"audience,omitempty"`
		RequiredScopes []string `json:"required_scopes,omitempty"`
		CacheOnly      bool     `json:"cache_only,omitempty"`
		ClientCertPEM  string   `json:"client_cert_pem,omitempty"`
	}{audience, o.RequiredScopes, o.CacheOnly, o.ClientCertPEM})
}

// DecodeAccessToken decodes and validates a JWT access token (RFC 9068 §4),
// for a resource server: typ at+jwt, alg and signature, iss, exp/nbf/iat with
// leeway, aud contains the audience, sub, jti, client_id, and the required
// scopes. A missing scope is ErrValidation with ProviderError
// "insufficient_scope" (answer 403 then, 401 for other failures). opts may be
// nil.
func (c *Client) DecodeAccessToken(ctx context.Context, rawToken string, opts *AccessTokenOptions) (*AccessTokenClaims, error) {
	if err := checkStrings("rawToken", rawToken); err != nil {
		return nil, err
	}
	o, err := optionsJSON(opts, callTimeout(ctx))
	if err != nil {
		return nil, err
	}
	doc, err := c.do(ctx, true, func(p *C.soidc_client, out **C.char) C.soidc_status {
		var a cStrings
		defer a.free()
		return C.soidc_decode_access_token(p, a.str(rawToken), a.opt(o), out)
	})
	if err != nil {
		return nil, err
	}
	return decodeResult[AccessTokenClaims]("access token claims", doc)
}

// LogoutTokenOptions are the options of Client.DecodeLogoutToken.
type LogoutTokenOptions struct {
	ExtraTrustedAudiences []string
	MinIssuedAt           time.Time // reject tokens issued before (sent with its fraction of a second)
	CacheOnly             bool

	// AllowMissingExp accepts a token without exp (refused by default with
	// ReasonExp: Back-Channel Logout 1.0 §2.4 requires it), for providers
	// built on drafts that did not send one. Such a token must then be at
	// most MaxAge old (else ReasonExpired), and its jti is remembered by the
	// client for that long: the same jti again is refused (ReasonReplay).
	AllowMissingExp bool
	// MaxAge is that window, in whole seconds rounded up, 1 s to 10 min
	// (default 2 min). Only with AllowMissingExp (else ErrInvalidArgument).
	MaxAge time.Duration
}

// MarshalJSON returns the options document soidc reads.
func (o LogoutTokenOptions) MarshalJSON() ([]byte, error) {
	var maxAge *int64
	if o.MaxAge != 0 {
		maxAge = seconds(&o.MaxAge)
	}
	return json.Marshal(struct {
		ExtraTrustedAudiences []string     `json:"extra_trusted_audiences,omitempty"`
		MinIAT                *json.Number `json:"min_iat,omitempty"`
		CacheOnly             bool         `json:"cache_only,omitempty"`
		AllowMissingExp       bool         `json:"allow_missing_exp,omitempty"`
		MaxAgeS               *int64       `json:"max_age_s,omitempty"`
	}{o.ExtraTrustedAudiences, unixTime(o.MinIssuedAt), o.CacheOnly, o.AllowMissingExp, maxAge})
}

// DecodeLogoutToken decodes and validates a back-channel logout token (OpenID
// Connect Back-Channel Logout 1.0 §2.6), as POSTed by the provider to the
// client's backchannel_logout_uri in the form field logout_token. A token
// without exp is refused unless AllowMissingExp; only such tokens are tracked
// for jti replay (per client and process: store the jti of tokens with exp
// yourself if you need replay detection for them). opts may be nil.
func (c *Client) DecodeLogoutToken(ctx context.Context, rawToken string, opts *LogoutTokenOptions) (*LogoutTokenClaims, error) {
	if err := checkStrings("rawToken", rawToken); err != nil {
		return nil, err
	}
	o, err := optionsJSON(opts, callTimeout(ctx))
	if err != nil {
		return nil, err
	}
	doc, err := c.do(ctx, true, func(p *C.soidc_client, out **C.char) C.soidc_status {
		var a cStrings
		defer a.free()
		return C.soidc_decode_logout_token(p, a.str(rawToken), a.opt(o), out)
	})
	if err != nil {
		return nil, err
	}
	return decodeResult[LogoutTokenClaims]("logout token claims", doc)
}
