package soidc

/*
#include <stdlib.h>
#include "soidc.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// The grants and endpoints: authorization code flow, client credentials,
// password, refresh, device flow, userinfo, introspection, revocation and
// logout. Every method that may touch the network passes the time left until
// ctx's deadline to soidc as that call's timeout (see Client.do).

// AuthCodeStartOptions are the options of Client.AuthCodeStart. The zero
// value generates state, nonce and a PKCE (S256) verifier.
type AuthCodeStartOptions struct {
	RedirectURI  string         // default: the client's
	Scope        string         // default: the client's
	State        string         // "" generates one (43 characters from the system CSPRNG)
	NoState      bool           // send no state at all
	Nonce        string         // "" generates one
	NoNonce      bool           // send no nonce at all
	DisablePKCE  bool           // PKCE S256 is on by default
	CodeVerifier string         // "" generates one (43-128 characters when given)
	Prompt       []string       // e.g. "login", "consent"
	MaxAge       *time.Duration // max_age, whole seconds; new(time.Duration) asks for a fresh login
	LoginHint    string         //
	ACRValues    []string       //
	UILocales    []string       //
	ResponseMode string         //
	Resource     []string       // RFC 8707 resource indicators
	ExtraParams  map[string]any // more query parameters; arrays become repeated parameters
	// PAR pushes the request to the provider first (RFC 9126): nil is "auto"
	// (push when the provider's metadata or the client option require_par
	// requires it). The URL then holds only client_id and request_uri.
	PAR *bool
	// RequestObject is "signed" (every parameter in a signed request JWT, RFC
	// 9101), "plain", or "" (signed when the provider's metadata requires it).
	RequestObject    string
	RequestObjectAlg string // the request object's JWS alg; "" chooses from the key and the provider
	// DPoPJKT sends dpop_jkt, binding the code to the client's DPoP key (RFC
	// 9449 §10): nil means yes when the client has a DPoP key.
	DPoPJKT *bool
}

// MarshalJSON returns the options document soidc reads.
func (o AuthCodeStartOptions) MarshalJSON() ([]byte, error) {
	var state, nonce any
	if o.NoState {
		state = false
	} else if o.State != "" {
		state = o.State
	}
	if o.NoNonce {
		nonce = false
	} else if o.Nonce != "" {
		nonce = o.Nonce
	}
	var pkce *bool
	if o.DisablePKCE {
		pkce = new(bool)
	}
	return json.Marshal(struct {
		RedirectURI  string         `json:"redirect_uri,omitempty"`
		Scope        string         `json:"scope,omitempty"`
		State        any            `json:"state,omitempty"`
		Nonce        any            `json:"nonce,omitempty"`
		PKCE         *bool          `json:"pkce,omitempty"`
		CodeVerifier string         `json:"code_verifier,omitempty"`
		Prompt       []string       `json:"prompt,omitempty"`
		MaxAge       *int64         `json:"max_age,omitempty"`
		LoginHint    string         `json:"login_hint,omitempty"`
		ACRValues    []string       `json:"acr_values,omitempty"`
		UILocales    []string       `json:"ui_locales,omitempty"`
		ResponseMode string         `json:"response_mode,omitempty"`
		Resource     []string       `json:"resource,omitempty"`
		ExtraParams  map[string]any `json:"extra_params,omitempty"`
		PAR          *bool          `json:"par,omitempty"`
		RequestObj   string         `json:"request_object,omitempty"`
		RequestAlg   string         `json:"request_object_alg,omitempty"`
		DPoPJKT      *bool          `json:"dpop_jkt,omitempty"`
	}{o.RedirectURI, o.Scope, state, nonce, pkce, o.CodeVerifier, o.Prompt, seconds(o.MaxAge),
		o.LoginHint, o.ACRValues, o.UILocales, o.ResponseMode, o.Resource, o.ExtraParams,
		o.PAR, o.RequestObject, o.RequestObjectAlg, o.DPoPJKT})
}

// AuthCodeStart builds the authorization URL to send the browser to. Keep the
// returned State, Nonce and CodeVerifier in the user's session and pass them
// to AuthCodeHandleResult (AuthCodeRequest.ResultOptions does). opts may be nil.
// No network access unless the request is pushed (PAR), which ctx bounds.
// Errors: ErrInvalidArgument (no redirect URI, bad option),
// ErrUnsupportedByProvider (no code response type, PAR without the endpoint),
// and with PAR ErrProvider, ErrHTTP, ErrProtocol, ErrNetwork.
func (c *Client) AuthCodeStart(ctx context.Context, opts *AuthCodeStartOptions) (*AuthCodeRequest, error) {
	o, err := optionsJSON(opts, callTimeout(ctx))
	if err != nil {
		return nil, err
	}
	doc, err := c.do(ctx, true, func(p *C.soidc_client, out **C.char) C.soidc_status {
		var a cStrings
		defer a.free()
		return C.soidc_auth_code_start(p, a.opt(o), out)
	})
	if err != nil {
		return nil, err
	}
	return decodeResult[AuthCodeRequest]("authorization code start", doc)
}

// AuthCodeResultOptions are the options of Client.AuthCodeHandleResult.
type AuthCodeResultOptions struct {
	State          string         // the state from AuthCodeStart
	Nonce          string         // the nonce from AuthCodeStart
	CodeVerifier   string         // the PKCE verifier from AuthCodeStart
	RedirectURI    string         // default: the client's; "auto": currentURL without query and fragment
	MaxAge         *time.Duration // checked against auth_time
	RequireIDToken *bool          // default: when the client's scope contains openid
	// ACRValuesAllowed, if not empty: the ID token's acr must be one of them (ReasonACR).
	ACRValuesAllowed []string
	// ResponseMode is the response_mode asked for: with a JWT mode (jwt,
	// query.jwt, fragment.jwt) a plain response is refused. A JWT response
	// (JARM) is verified whenever it comes.
	ResponseMode string
	// RequireClaims are claim rules on the ID token (require_claims); a
	// response without an ID token then fails with ReasonClaimRule.
	RequireClaims []ClaimRule
}

// MarshalJSON returns the options document soidc reads.
func (o AuthCodeResultOptions) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		State            string      `json:"state,omitempty"`
		Nonce            string      `json:"nonce,omitempty"`
		CodeVerifier     string      `json:"code_verifier,omitempty"`
		RedirectURI      string      `json:"redirect_uri,omitempty"`
		MaxAge           *int64      `json:"max_age,omitempty"`
		RequireIDToken   *bool       `json:"require_id_token,omitempty"`
		ACRValuesAllowed []string    `json:"acr_values_allowed,omitempty"`
		ResponseMode     string      `json:"response_mode,omitempty"`
		RequireClaims    []ClaimRule `json:"require_claims,omitempty"`
	}{o.State, o.Nonce, o.CodeVerifier, o.RedirectURI, seconds(o.MaxAge), o.RequireIDToken, o.ACRValuesAllowed, o.ResponseMode, o.RequireClaims})
}

// AuthCodeHandleResult handles the redirect back from the provider:
// currentURL is the full URL the browser arrived at. It checks the RFC 9207
// iss parameter, an error response (ErrAuthenticationFailed, with the
// provider's ProviderError), the state, exchanges the code with the PKCE
// verifier and validates the ID token (nonce, c_hash, at_hash and all of
// DecodeIDToken's checks). If the response carries a state (or the ID token a
// nonce) that opts lacks, the call fails rather than skip the check.
func (c *Client) AuthCodeHandleResult(ctx context.Context, currentURL string, opts *AuthCodeResultOptions) (*TokenResponse, error) {
	if err := checkStrings("currentURL", currentURL); err != nil {
		return nil, err
	}
	return c.tokenCall(ctx, opts, func(a *cStrings, p *C.soidc_client, o *C.char, out **C.char) C.soidc_status {
		return C.soidc_auth_code_handle_result(p, a.str(currentURL), o, out)
	})
}

// AuthCodeExchangeOptions are the options of Client.AuthCodeExchange.
type AuthCodeExchangeOptions struct {
	RedirectURI  string         // default: the client's
	CodeVerifier string         // the PKCE verifier
	Nonce        string         // the expected nonce of the ID token (without it, one carrying a nonce is refused)
	MaxAge       *time.Duration // checked against auth_time
	// ACRValuesAllowed, if not empty: the ID token's acr must be one of them (ReasonACR).
	ACRValuesAllowed []string
	// RequireClaims are claim rules on the ID token (require_claims).
	RequireClaims []ClaimRule
}

// MarshalJSON returns the options document soidc reads.
func (o AuthCodeExchangeOptions) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		RedirectURI      string      `json:"redirect_uri,omitempty"`
		CodeVerifier     string      `json:"code_verifier,omitempty"`
		Nonce            string      `json:"nonce,omitempty"`
		MaxAge           *int64      `json:"max_age,omitempty"`
		ACRValuesAllowed []string    `json:"acr_values_allowed,omitempty"`
		RequireClaims    []ClaimRule `json:"require_claims,omitempty"`
	}{o.RedirectURI, o.CodeVerifier, o.Nonce, seconds(o.MaxAge), o.ACRValuesAllowed, o.RequireClaims})
}

// AuthCodeExchange exchanges an authorization code at the token endpoint (the
// lower-level step of AuthCodeHandleResult). An ID token in the response is
// validated into IDTokenClaims.
func (c *Client) AuthCodeExchange(ctx context.Context, code string, opts *AuthCodeExchangeOptions) (*TokenResponse, error) {
	if err := checkStrings("code", code); err != nil {
		return nil, err
	}
	return c.tokenCall(ctx, opts, func(a *cStrings, p *C.soidc_client, o *C.char, out **C.char) C.soidc_status {
		return C.soidc_auth_code_exchange(p, a.str(code), o, out)
	})
}

// GrantOptions are the options of the client credentials and password grants
// and of the device authorization request.
type GrantOptions struct {
	Resource    []string       // RFC 8707 resource indicators
	ExtraParams map[string]any // more form parameters; arrays become repeated parameters
	Nonce       string         // password grant: the expected nonce of the ID token (not for the device flow)
	// RequireClaims: password grant only, claim rules on the ID token
	// (require_claims; refused by the client credentials grant, which has no
	// ID token).
	RequireClaims []ClaimRule
}

// MarshalJSON returns the options document soidc reads.
func (o GrantOptions) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Resource      []string       `json:"resource,omitempty"`
		ExtraParams   map[string]any `json:"extra_params,omitempty"`
		Nonce         string         `json:"nonce,omitempty"`
		RequireClaims []ClaimRule    `json:"require_claims,omitempty"`
	}{o.Resource, o.ExtraParams, o.Nonce, o.RequireClaims})
}

// ClientCredentialsGrant runs the client credentials grant (RFC 6749 §4.4).
// scope "" means the client's scope. opts may be nil. Errors: ErrProvider
// (e.g. invalid_client), ErrHTTP, ErrProtocol, ErrNetwork,
// ErrUnsupportedByProvider, ErrInvalidArgument.
func (c *Client) ClientCredentialsGrant(ctx context.Context, scope string, opts *GrantOptions) (*TokenResponse, error) {
	if err := checkStrings("scope", scope); err != nil {
		return nil, err
	}
	return c.tokenCall(ctx, opts, func(a *cStrings, p *C.soidc_client, o *C.char, out **C.char) C.soidc_status {
		return C.soidc_client_credentials_grant(p, a.opt(scope), o, out)
	})
}

// DirectAccessGrant runs the resource owner password credentials grant (RFC
// 6749 §4.3), a legacy grant: prefer the authorization code or device flow
// where a browser exists. scope "" means the client's scope. An ID token is
// validated into IDTokenClaims. The password never appears in errors or logs.
func (c *Client) DirectAccessGrant(ctx context.Context, username, password, scope string, opts *GrantOptions) (*TokenResponse, error) {
	if err := checkStrings("username", username, "password", password, "scope", scope); err != nil {
		return nil, err
	}
	return c.tokenCall(ctx, opts, func(a *cStrings, p *C.soidc_client, o *C.char, out **C.char) C.soidc_status {
		return C.soidc_direct_access_grant(p, a.str(username), a.str(password), a.opt(scope), o, out)
	})
}

// RefreshOptions are the options of Client.ExchangeRefreshToken.
type RefreshOptions struct {
	Scope string // default: the scope of the original grant
	// IDToken is the original ID token: a new ID token must keep its iss, sub,
	// aud and auth_time (OpenID Connect Core §12.2).
	IDToken     string
	Resource    []string
	ExtraParams map[string]any
	// RequireClaims are claim rules on a new ID token (require_claims).
	RequireClaims []ClaimRule
}

// MarshalJSON returns the options document soidc reads.
func (o RefreshOptions) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Scope         string         `json:"scope,omitempty"`
		IDToken       string         `json:"id_token,omitempty"`
		Resource      []string       `json:"resource,omitempty"`
		ExtraParams   map[string]any `json:"extra_params,omitempty"`
		RequireClaims []ClaimRule    `json:"require_claims,omitempty"`
	}{o.Scope, o.IDToken, o.Resource, o.ExtraParams, o.RequireClaims})
}

// ExchangeRefreshToken runs the refresh token grant. A new ID token is
// validated into IDTokenClaims.
func (c *Client) ExchangeRefreshToken(ctx context.Context, refreshToken string, opts *RefreshOptions) (*TokenResponse, error) {
	if err := checkStrings("refreshToken", refreshToken); err != nil {
		return nil, err
	}
	return c.tokenCall(ctx, opts, func(a *cStrings, p *C.soidc_client, o *C.char, out **C.char) C.soidc_status {
		return C.soidc_exchange_refresh_token(p, a.str(refreshToken), o, out)
	})
}

// tokenCall runs a call that answers a token response.
func (c *Client) tokenCall(ctx context.Context, opts any, call func(a *cStrings, p *C.soidc_client, options *C.char, out **C.char) C.soidc_status) (*TokenResponse, error) {
	o, err := optionsJSON(opts, callTimeout(ctx))
	if err != nil {
		return nil, err
	}
	doc, err := c.do(ctx, true, func(p *C.soidc_client, out **C.char) C.soidc_status {
		var a cStrings
		defer a.free()
		return call(&a, p, a.opt(o), out)
	})
	if err != nil {
		return nil, err
	}
	return decodeResult[TokenResponse]("token response", doc)
}

// DeviceAuthorizationStart starts a device authorization (RFC 8628 §3.1).
// scope "" means the client's scope. Show the user the verification URI and
// user code, then call DeviceAuthorizationPoll.
func (c *Client) DeviceAuthorizationStart(ctx context.Context, scope string, opts *GrantOptions) (*DeviceAuthorization, error) {
	if err := checkStrings("scope", scope); err != nil {
		return nil, err
	}
	o, err := optionsJSON(opts, callTimeout(ctx))
	if err != nil {
		return nil, err
	}
	doc, err := c.do(ctx, true, func(p *C.soidc_client, out **C.char) C.soidc_status {
		var a cStrings
		defer a.free()
		return C.soidc_device_authorization_start(p, a.opt(scope), a.opt(o), out)
	})
	if err != nil {
		return nil, err
	}
	return decodeResult[DeviceAuthorization]("device authorization", doc)
}

// DevicePollOptions are the options of Client.DeviceAuthorizationPoll;
// DeviceAuthorization.PollOptions fills them from the start response.
type DevicePollOptions struct {
	// Wait blocks until the user finishes, the device code expires
	// (ErrProvider with ProviderError "expired_token"), the user denies
	// (ErrProvider, "access_denied"), or ctx is done. Without Wait one request
	// is made, and ErrPending returned while the user has not finished (its
	// Interval is the interval to use next).
	Wait      bool
	Interval  time.Duration // from the start response (5 s)
	ExpiresIn time.Duration // from the start response (no limit)
	Nonce     string        // the expected nonce of an ID token
	// CodeVerifier is the start response's PKCE verifier (set when the start
	// sent a code_challenge: by default for a public client at a provider
	// that advertises S256).
	CodeVerifier string
	// MaxAge is checked against the ID token's auth_time; ACRValuesAllowed, if
	// not empty, lists the acr values the ID token may carry (ReasonACR).
	MaxAge           *time.Duration
	ACRValuesAllowed []string
	// RequireClaims are claim rules on the ID token (require_claims).
	RequireClaims []ClaimRule
}

// DeviceAuthorizationPoll polls for the result of a device authorization (RFC
// 8628 §3.4) whose device code is deviceCode. opts may be nil.
//
// With Wait, requests are spaced by the interval (5 s more after each
// slow_down). When ctx has a deadline that the next request would pass,
// ErrPending is returned. soidc's own blocking wait cannot be interrupted, so
// it is used only when ctx can never be cancelled (context.Background);
// otherwise this method waits between single polls itself, with the interval
// soidc computes, and returns ctx.Err() as soon as ctx is cancelled. The last
// poll before ExpiresIn passes goes through soidc's wait, which then reports
// the expiry as soidc's wait does.
func (c *Client) DeviceAuthorizationPoll(ctx context.Context, deviceCode string, opts *DevicePollOptions) (*TokenResponse, error) {
	if err := checkStrings("deviceCode", deviceCode); err != nil {
		return nil, err
	}
	var o DevicePollOptions
	if opts != nil {
		o = *opts
	}
	w := devicePollWire{Wait: o.Wait, Interval: ceilDiv(o.Interval, time.Second), Nonce: o.Nonce, CodeVerifier: o.CodeVerifier,
		MaxAge: seconds(o.MaxAge), ACRValuesAllowed: o.ACRValuesAllowed, RequireClaims: o.RequireClaims}
	if o.ExpiresIn > 0 {
		w.ExpiresIn = new(int64)
		*w.ExpiresIn = ceilDiv(o.ExpiresIn, time.Second)
	}
	if !o.Wait || ctx.Done() == nil {
		return c.pollDevice(ctx, deviceCode, w)
	}
	started := time.Now()
	w.Wait = false
	for {
		tokens, err := c.pollDevice(ctx, deviceCode, w)
		var e *Error
		if !errors.As(err, &e) || e.Status != StatusPending || ctx.Err() != nil {
			return tokens, err
		}
		if e.Interval > 0 {
			w.Interval = int64(e.Interval)
		}
		pause := time.Duration(max(w.Interval, 1)) * time.Second
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < pause {
			return nil, err
		}
		last := o.ExpiresIn > 0 && time.Since(started)+pause >= o.ExpiresIn
		timer := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-timer.C:
		}
		if last {
			final := w
			final.Wait = true
			final.ExpiresIn = new(int64) // expired after this one poll
			return c.pollDevice(ctx, deviceCode, final)
		}
	}
}

type devicePollWire struct {
	Wait         bool   `json:"wait,omitempty"`
	Interval     int64  `json:"interval,omitempty"`
	ExpiresIn    *int64 `json:"expires_in,omitempty"`
	Nonce        string `json:"nonce,omitempty"`
	CodeVerifier string `json:"code_verifier,omitempty"`

	MaxAge           *int64      `json:"max_age,omitempty"`
	ACRValuesAllowed []string    `json:"acr_values_allowed,omitempty"`
	RequireClaims    []ClaimRule `json:"require_claims,omitempty"`
}

func (c *Client) pollDevice(ctx context.Context, deviceCode string, w devicePollWire) (*TokenResponse, error) {
	o, err := optionsJSON(&w, callTimeout(ctx))
	if err != nil {
		return nil, err
	}
	doc, err := c.do(ctx, true, func(p *C.soidc_client, out **C.char) C.soidc_status {
		var a cStrings
		defer a.free()
		return C.soidc_device_authorization_poll(p, a.str(deviceCode), a.opt(o), out)
	})
	if err != nil {
		return nil, err
	}
	return decodeResult[TokenResponse]("token response", doc)
}

// UserinfoOptions are the options of Client.FetchUserinfo.
type UserinfoOptions struct {
	// ExpectedSub is the ID token's sub; a UserInfo response for another
	// subject is ErrValidation.
	ExpectedSub string
	// TokenType is the token response's token_type, "Bearer" or "DPoP" (""
	// means DPoP on a client with a DPoP key, Bearer otherwise).
	TokenType string
	// RequireClaims are claim rules on the UserInfo claims, JSON or signed
	// (require_claims; a failed rule is ErrValidation, ReasonClaimRule).
	RequireClaims []ClaimRule
}

// MarshalJSON returns the options document soidc reads.
func (o UserinfoOptions) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ExpectedSub   string      `json:"expected_sub,omitempty"`
		TokenType     string      `json:"token_type,omitempty"`
		RequireClaims []ClaimRule `json:"require_claims,omitempty"`
	}{o.ExpectedSub, o.TokenType, o.RequireClaims})
}

// FetchUserinfo fetches the UserInfo of the user accessToken was issued for.
// JSON and signed JWT responses are both accepted. A rejected token is
// ErrProvider with ProviderError "invalid_token"; no userinfo endpoint is
// ErrUnsupportedByProvider. opts may be nil.
func (c *Client) FetchUserinfo(ctx context.Context, accessToken string, opts *UserinfoOptions) (*Userinfo, error) {
	if err := checkStrings("accessToken", accessToken); err != nil {
		return nil, err
	}
	o, err := optionsJSON(opts, callTimeout(ctx))
	if err != nil {
		return nil, err
	}
	doc, err := c.do(ctx, true, func(p *C.soidc_client, out **C.char) C.soidc_status {
		var a cStrings
		defer a.free()
		return C.soidc_fetch_userinfo(p, a.str(accessToken), a.opt(o), out)
	})
	if err != nil {
		return nil, err
	}
	return decodeResult[Userinfo]("userinfo", doc)
}

// IntrospectToken asks the provider about token (RFC 7662), with client
// authentication. tokenTypeHint may be "", "access_token" or "refresh_token".
// An inactive token is a success with Active false.
func (c *Client) IntrospectToken(ctx context.Context, token, tokenTypeHint string) (*Introspection, error) {
	if err := checkStrings("token", token, "tokenTypeHint", tokenTypeHint); err != nil {
		return nil, err
	}
	o, err := optionsJSON(nil, callTimeout(ctx))
	if err != nil {
		return nil, err
	}
	doc, err := c.do(ctx, true, func(p *C.soidc_client, out **C.char) C.soidc_status {
		var a cStrings
		defer a.free()
		return C.soidc_introspect_token(p, a.str(token), a.opt(tokenTypeHint), a.opt(o), out)
	})
	if err != nil {
		return nil, err
	}
	return decodeResult[Introspection]("introspection", doc)
}

// RevokeToken revokes token (RFC 7009), with client authentication.
// tokenTypeHint may be "", "access_token" or "refresh_token". A token that was
// already invalid is revoked successfully, as RFC 7009 says.
func (c *Client) RevokeToken(ctx context.Context, token, tokenTypeHint string) error {
	if err := checkStrings("token", token, "tokenTypeHint", tokenTypeHint); err != nil {
		return err
	}
	o, err := optionsJSON(nil, callTimeout(ctx))
	if err != nil {
		return err
	}
	_, err = c.do(ctx, true, func(p *C.soidc_client, out **C.char) C.soidc_status {
		var a cStrings
		defer a.free()
		return C.soidc_revoke_token(p, a.str(token), a.opt(tokenTypeHint), a.opt(o), out)
	})
	return err
}

// LogoutRequest is the request of Client.InitiateLogout.
type LogoutRequest struct {
	IDTokenHint           string
	LogoutHint            string
	PostLogoutRedirectURI string
	State                 string
	UILocales             []string
	OmitClientID          bool // client_id is sent by default
	ExtraParams           map[string]any
}

// MarshalJSON returns the request document soidc reads.
func (r LogoutRequest) MarshalJSON() ([]byte, error) {
	var clientID *bool
	if r.OmitClientID {
		clientID = new(bool)
	}
	return json.Marshal(struct {
		IDTokenHint           string         `json:"id_token_hint,omitempty"`
		LogoutHint            string         `json:"logout_hint,omitempty"`
		PostLogoutRedirectURI string         `json:"post_logout_redirect_uri,omitempty"`
		State                 string         `json:"state,omitempty"`
		UILocales             []string       `json:"ui_locales,omitempty"`
		ClientID              *bool          `json:"client_id,omitempty"`
		ExtraParams           map[string]any `json:"extra_params,omitempty"`
	}{r.IDTokenHint, r.LogoutHint, r.PostLogoutRedirectURI, r.State, r.UILocales, clientID, r.ExtraParams})
}

// InitiateLogout builds the RP-initiated logout URL (OpenID Connect
// RP-Initiated Logout 1.0) to send the browser to. req may be nil. No network
// access. No end_session_endpoint is ErrUnsupportedByProvider.
func (c *Client) InitiateLogout(ctx context.Context, req *LogoutRequest) (string, error) {
	r, err := optionsJSON(req, 0)
	if err != nil {
		return "", err
	}
	return c.do(ctx, false, func(p *C.soidc_client, out **C.char) C.soidc_status {
		var a cStrings
		defer a.free()
		return C.soidc_initiate_logout(p, a.opt(r), out)
	})
}

// Token type identifiers of RFC 8693 §3 (soidc.h's SOIDC_TOKEN_TYPE_*), for
// Client.TokenExchange.
const (
	TokenTypeAccessToken  = C.SOIDC_TOKEN_TYPE_ACCESS_TOKEN
	TokenTypeRefreshToken = C.SOIDC_TOKEN_TYPE_REFRESH_TOKEN
	TokenTypeIDToken      = C.SOIDC_TOKEN_TYPE_ID_TOKEN
	TokenTypeSAML1        = C.SOIDC_TOKEN_TYPE_SAML1
	TokenTypeSAML2        = C.SOIDC_TOKEN_TYPE_SAML2
	TokenTypeJWT          = C.SOIDC_TOKEN_TYPE_JWT
)

// TokenExchangeOptions are the optional parameters of Client.TokenExchange
// (RFC 8693 §2.1). ActorToken and ActorTokenType go together.
type TokenExchangeOptions struct {
	ActorToken         string
	ActorTokenType     string
	RequestedTokenType string
	Audience           []string // logical names of the target services
	Resource           []string // absolute URIs of the target services
	Scope              string   // space-separated, to downscope
}

// MarshalJSON returns the options document soidc reads.
func (o TokenExchangeOptions) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ActorToken         string   `json:"actor_token,omitempty"`
		ActorTokenType     string   `json:"actor_token_type,omitempty"`
		RequestedTokenType string   `json:"requested_token_type,omitempty"`
		Audience           []string `json:"audience,omitempty"`
		Resource           []string `json:"resource,omitempty"`
		Scope              string   `json:"scope,omitempty"`
	}{o.ActorToken, o.ActorTokenType, o.RequestedTokenType, o.Audience, o.Resource, o.Scope})
}

// TokenExchangeResponse is a token exchange response (RFC 8693 §2.2.1).
// AccessToken is the issued token whatever its type (IssuedTokenType);
// TokenType is "Bearer", or "N_A" for a token that is not an access token.
// soidc does not validate the issued token: decode it if you consume it.
type TokenExchangeResponse struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in,omitempty"` // seconds; 0 when not given
	Scope           string `json:"scope,omitempty"`
	RefreshToken    string `json:"refresh_token,omitempty"`

	Extra map[string]any  `json:"-"`
	Raw   json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the response, keeping unknown members in Extra.
func (t *TokenExchangeResponse) UnmarshalJSON(b []byte) error {
	*t = TokenExchangeResponse{Raw: clone(b)}
	return decodeObject(b, t, &t.Extra)
}

// TokenExchange trades subjectToken, of type subjectTokenType (one of the
// TokenType constants or another absolute URI), at the token endpoint with the
// client's authentication (RFC 8693). opts may be nil. Errors: ErrProvider
// (the provider refused, e.g. invalid_request, invalid_target), ErrProtocol,
// ErrHTTP, ErrNetwork, ErrUnsupportedByProvider, ErrInvalidArgument.
func (c *Client) TokenExchange(ctx context.Context, subjectToken, subjectTokenType string, opts *TokenExchangeOptions) (*TokenExchangeResponse, error) {
	if err := checkStrings("subjectToken", subjectToken, "subjectTokenType", subjectTokenType); err != nil {
		return nil, err
	}
	o, err := optionsJSON(opts, callTimeout(ctx))
	if err != nil {
		return nil, err
	}
	doc, err := c.do(ctx, true, func(p *C.soidc_client, out **C.char) C.soidc_status {
		var a cStrings
		defer a.free()
		return C.soidc_token_exchange(p, a.str(subjectToken), a.str(subjectTokenType), a.opt(o), out)
	})
	if err != nil {
		return nil, err
	}
	return decodeResult[TokenExchangeResponse]("token exchange response", doc)
}

// AuthCodeFormPostState is what the session kept from AuthCodeStart, for
// Client.AuthCodeHandleFormPost (AuthCodeRequest.FormPostState builds it).
type AuthCodeFormPostState struct {
	State        string // the state from AuthCodeStart
	Nonce        string // the nonce from AuthCodeStart
	CodeVerifier string // the PKCE verifier from AuthCodeStart
	RedirectURI  string // default: the client's
	ResponseMode string // "form_post", "form_post.jwt" or "jwt"; "" accepts either
}

// MarshalJSON returns the state document soidc reads.
func (o AuthCodeFormPostState) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		State        string `json:"state,omitempty"`
		Nonce        string `json:"nonce,omitempty"`
		CodeVerifier string `json:"code_verifier,omitempty"`
		RedirectURI  string `json:"redirect_uri,omitempty"`
		ResponseMode string `json:"response_mode,omitempty"`
	}{o.State, o.Nonce, o.CodeVerifier, o.RedirectURI, o.ResponseMode})
}

// AuthCodeFormPostOptions are the options of Client.AuthCodeHandleFormPost.
type AuthCodeFormPostOptions struct {
	MaxAge         *time.Duration // checked against auth_time
	RequireIDToken *bool          // default: when the client's scope contains openid
	// ACRValuesAllowed, if not empty: the ID token's acr must be one of them (ReasonACR).
	ACRValuesAllowed []string
	// RequireClaims are claim rules on the ID token (require_claims).
	RequireClaims []ClaimRule
}

// MarshalJSON returns the options document soidc reads.
func (o AuthCodeFormPostOptions) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		MaxAge           *int64      `json:"max_age,omitempty"`
		RequireIDToken   *bool       `json:"require_id_token,omitempty"`
		ACRValuesAllowed []string    `json:"acr_values_allowed,omitempty"`
		RequireClaims    []ClaimRule `json:"require_claims,omitempty"`
	}{seconds(o.MaxAge), o.RequireIDToken, o.ACRValuesAllowed, o.RequireClaims})
}

// FormPostState returns the state that checks a form_post response against
// this start; responseMode is the one asked for ("form_post" or
// "form_post.jwt").
func (s *AuthCodeRequest) FormPostState(responseMode string) *AuthCodeFormPostState {
	return &AuthCodeFormPostState{
		State:        s.State,
		Nonce:        s.Nonce,
		CodeVerifier: s.CodeVerifier,
		RedirectURI:  s.RedirectURI,
		ResponseMode: responseMode,
	}
}

// AuthCodeHandleFormPost handles an authorization response delivered with
// response_mode form_post or form_post.jwt: contentType is the request's
// Content-Type header and body the raw body the browser POSTed to the
// redirect URI (read it with io.ReadAll, not ParseForm). The checks are those
// of AuthCodeHandleResult: repeated parameters, a JWT response (JARM)
// verified first, iss, state, an error (ErrAuthenticationFailed), then the
// code exchange and the ID token.
func (c *Client) AuthCodeHandleFormPost(ctx context.Context, contentType, body string, state *AuthCodeFormPostState, opts *AuthCodeFormPostOptions) (*TokenResponse, error) {
	if err := checkStrings("contentType", contentType, "body", body); err != nil {
		return nil, err
	}
	st, err := optionsJSON(state, 0)
	if err != nil {
		return nil, err
	}
	return c.tokenCall(ctx, opts, func(a *cStrings, p *C.soidc_client, o *C.char, out **C.char) C.soidc_status {
		return C.soidc_auth_code_handle_form_post(p, a.str(contentType), a.str(body), a.opt(st), o, out)
	})
}
