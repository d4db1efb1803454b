package soidc

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Calling APIs with the client's tokens: a TokenSource hands out a valid
// access token and renews it (refresh token grant, RFC 6749 §6, or a new
// client credentials grant, §4.4) shortly before it expires; a Transport
// (an http.RoundTripper) sends it on every request (RFC 6750 §2.1) and, when
// the API answers 401 invalid_token (RFC 6750 §3.1), renews it once and
// repeats the request. The adapter to golang.org/x/oauth2's TokenSource is
// in the separate module bindings/go/soidcoauth2, so that this package stays
// standard library only.

// Token is an access token with what it takes to use and renew it.
type Token struct {
	AccessToken  string
	TokenType    string // the token response's token_type ("Bearer")
	RefreshToken string // "" when there is none
	// Expiry is when the access token expires, from expires_in at the time
	// the response arrived; the zero time when the provider did not say.
	Expiry  time.Time
	IDToken string // the ID token of the response, if any
}

// Token returns the response's tokens, with Expiry computed from ExpiresIn
// as of now. Call it right after the grant.
func (t *TokenResponse) Token() *Token {
	tok := &Token{AccessToken: t.AccessToken, TokenType: t.TokenType, RefreshToken: t.RefreshToken, IDToken: t.IDToken}
	if t.ExpiresIn > 0 {
		tok.Expiry = time.Now().Add(time.Duration(t.ExpiresIn) * time.Second)
	}
	return tok
}

// DefaultExpiryMargin is how long before its expiry a TokenSource renews a
// token, so that it does not expire on its way to the API.
const DefaultExpiryMargin = 30 * time.Second

// TokenSource hands out a valid access token, renewing it when it expires
// within ExpiryMargin or after Invalidate. It is safe for concurrent use;
// concurrent callers share one renewal.
type TokenSource struct {
	// ExpiryMargin: renew this long before Expiry (DefaultExpiryMargin when 0).
	// A token without Expiry is used until Invalidate.
	ExpiryMargin time.Duration

	renew func(ctx context.Context, current *Token) (*TokenResponse, error)
	lock  chan struct{} // a mutex that a context can stop waiting for
	mu    sync.Mutex    // guards tok
	tok   *Token
}

func newTokenSource(initial *Token, renew func(ctx context.Context, current *Token) (*TokenResponse, error)) *TokenSource {
	s := &TokenSource{renew: renew, lock: make(chan struct{}, 1)}
	if initial != nil {
		t := *initial
		s.tok = &t
	}
	return s
}

// RefreshTokenSource returns a TokenSource that starts with initial and
// renews it with the refresh token grant (Client.ExchangeRefreshToken with
// opts, which may be nil). A new refresh token in the answer replaces the
// old one (rotation); otherwise the old one is kept (RFC 6749 §6). When
// opts.IDToken is "" the initial ID token is passed, so that a new ID token
// is checked against it (OpenID Connect Core §12.2).
func (c *Client) RefreshTokenSource(initial *Token, opts *RefreshOptions) *TokenSource {
	var o RefreshOptions
	if opts != nil {
		o = *opts
	}
	if o.IDToken == "" && initial != nil {
		o.IDToken = initial.IDToken
	}
	return newTokenSource(initial, func(ctx context.Context, current *Token) (*TokenResponse, error) {
		if current == nil || current.RefreshToken == "" {
			return nil, &Error{Status: StatusInvalidArgument, Message: "RefreshTokenSource: no refresh token to renew the access token with"}
		}
		return c.ExchangeRefreshToken(ctx, current.RefreshToken, &o)
	})
}

// ClientCredentialsTokenSource returns a TokenSource that obtains its tokens
// with the client credentials grant (Client.ClientCredentialsGrant with scope
// and opts), the first when Token is first called.
func (c *Client) ClientCredentialsTokenSource(scope string, opts *GrantOptions) *TokenSource {
	return newTokenSource(nil, func(ctx context.Context, _ *Token) (*TokenResponse, error) {
		return c.ClientCredentialsGrant(ctx, scope, opts)
	})
}

// valid reports whether t can still be used at now.
func (s *TokenSource) valid(t *Token, now time.Time) bool {
	if t == nil || t.AccessToken == "" {
		return false
	}
	if t.Expiry.IsZero() {
		return true
	}
	margin := s.ExpiryMargin
	if margin <= 0 {
		margin = DefaultExpiryMargin
	}
	return now.Add(margin).Before(t.Expiry)
}

// Token returns a valid access token, renewing it first when needed. The
// renewal runs under ctx (its deadline is the grant's timeout); callers
// arriving during a renewal wait for it (or for their own ctx). The result
// is a copy.
func (s *TokenSource) Token(ctx context.Context) (*Token, error) {
	if t := s.current(); s.valid(t, time.Now()) {
		return t, nil
	}
	select {
	case s.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.lock }()
	// Another caller may have renewed it while this one waited.
	current := s.current()
	if s.valid(current, time.Now()) {
		return current, nil
	}
	resp, err := s.renew(ctx, current)
	if err != nil {
		return nil, err
	}
	next := resp.Token()
	if next.AccessToken == "" {
		return nil, &Error{Status: StatusProtocol, Message: "token response without access_token"}
	}
	if next.RefreshToken == "" && current != nil {
		next.RefreshToken = current.RefreshToken // not rotated: keep using it
	}
	if next.IDToken == "" && current != nil {
		next.IDToken = current.IDToken
	}
	s.mu.Lock()
	s.tok = next
	s.mu.Unlock()
	t := *next
	return &t, nil
}

func (s *TokenSource) current() *Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == nil {
		return nil
	}
	t := *s.tok
	return &t
}

// Invalidate marks accessToken as refused (an API answered invalid_token):
// the next Token renews it. A token that has been replaced already is left
// alone, so that concurrent refusals of the same token renew it once.
func (s *TokenSource) Invalidate(accessToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && s.tok.AccessToken == accessToken {
		t := *s.tok
		t.AccessToken = ""
		s.tok = &t
	}
}

// Transport is an http.RoundTripper that sends each request with the access
// token of Source in the Authorization header: "Bearer" (RFC 6750 §2.1), or
// "DPoP" with a fresh proof in the DPoP header for a DPoP-bound token
// (token_type DPoP, RFC 9449 §7.1), which needs DPoPProof.
//
// When the answer is 401 with error="invalid_token" in the challenge of the
// scheme used (RFC 6750 §3.1: expired, revoked, ...), it renews the token once
// and repeats the request; when a DPoP request is answered 401 with
// error="use_dpop_nonce" and a DPoP-Nonce header (RFC 9449 §9), it repeats
// the request once with a proof carrying that nonce. A request is repeated
// only if its body can be replayed (no body, or http.Request.GetBody set, as
// http.NewRequest does for in-memory bodies); otherwise the 401 is returned.
type Transport struct {
	Source *TokenSource
	Base   http.RoundTripper // nil: http.DefaultTransport
	// DPoPProof makes the DPoP proof of one request (RFC 9449 §4.2) for a
	// bound token: with a *Client created with the DPoP option, a closure
	// calling its DPoPProof with the nonce as its option. nonce is "" unless
	// the server asked for one. Without it a DPoP-bound token is an error.
	DPoPProof func(method, url, accessToken, nonce string) (string, error)
}

var errDPoPToken = errors.New("soidc: Transport: the token is DPoP-bound (token_type DPoP) and Transport.DPoPProof is not set")

// RoundTrip implements http.RoundTripper. It does not modify req.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	closeBody := func() {
		if req.Body != nil {
			_ = req.Body.Close()
		}
	}
	tok, err := t.Source.Token(req.Context())
	if err != nil {
		closeBody()
		return nil, err
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	out, scheme, err := t.withToken(req, req.Body, tok, "")
	if err != nil {
		closeBody()
		return nil, err
	}
	resp, err := base.RoundTrip(out)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	code := challengeError(resp.Header, scheme)
	nonce := resp.Header.Get("DPoP-Nonce")
	retryNonce := scheme == "DPoP" && code == "use_dpop_nonce" && nonce != ""
	if code != "invalid_token" && !retryNonce {
		return resp, nil
	}
	var body io.ReadCloser
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return resp, nil // cannot replay: the caller gets the 401
		}
		if body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	next := tok
	if !retryNonce {
		t.Source.Invalidate(tok.AccessToken)
		next, err = t.Source.Token(req.Context())
		if err != nil || next.AccessToken == tok.AccessToken {
			if body != nil {
				_ = body.Close()
			}
			return resp, nil // the 401 stands
		}
		nonce = ""
	}
	again, _, err := t.withToken(req, body, next, nonce)
	if err != nil {
		if body != nil {
			_ = body.Close()
		}
		return resp, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return base.RoundTrip(again)
}

// withToken is a copy of req with body and the Authorization header for tok
// (and its DPoP proof), and the scheme used.
func (t *Transport) withToken(req *http.Request, body io.ReadCloser, tok *Token, nonce string) (*http.Request, string, error) {
	scheme := "Bearer"
	proof := ""
	if strings.EqualFold(tok.TokenType, "DPoP") {
		if t.DPoPProof == nil {
			return nil, "", errDPoPToken
		}
		var err error
		if proof, err = t.DPoPProof(req.Method, req.URL.String(), tok.AccessToken, nonce); err != nil {
			return nil, "", err
		}
		scheme = "DPoP"
	}
	r := req.Clone(req.Context())
	if body != nil {
		r.Body = body
	}
	r.Header.Set("Authorization", scheme+" "+tok.AccessToken)
	if proof != "" {
		r.Header.Set("DPoP", proof)
	}
	return r, scheme, nil
}

// challengeError returns the error parameter of the 401's challenge for
// scheme (RFC 6750 §3, RFC 9449 §7.1), "" when there is none.
func challengeError(h http.Header, scheme string) string {
	for _, v := range h.Values("WWW-Authenticate") {
		for _, c := range splitChallenges(v) {
			name, params, _ := strings.Cut(strings.TrimSpace(c), " ")
			if !strings.EqualFold(name, scheme) {
				continue
			}
			for _, p := range splitParams(params) {
				k, v, _ := strings.Cut(p, "=")
				if strings.EqualFold(strings.TrimSpace(k), "error") {
					return strings.Trim(strings.TrimSpace(v), `"`)
				}
			}
		}
	}
	return ""
}

// splitParams splits auth-params at the commas outside quoted strings.
func splitParams(s string) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// splitChallenges splits one WWW-Authenticate value holding several
// challenges (RFC 9110 §11.6.1) at the commas that start a new scheme: a
// comma outside quotes followed by a token and a space (not "name=").
func splitChallenges(v string) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			rest := strings.TrimLeft(v[i+1:], " ")
			name, _, hasSpace := strings.Cut(rest, " ")
			if hasSpace && !strings.Contains(name, "=") && !strings.Contains(name, ",") {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}
