package soidchttp

import (
	"context"
	"errors"
	"sync"

	soidc "github.com/soidc/soidc/bindings/go"
)

type contextKey struct{}

// validated is what the middleware puts in a request's context.
type validated struct {
	claims *soidc.AccessTokenClaims
	token  string
	dpop   bool

	mu    sync.Mutex
	typed map[any]any // decoded claims per destination type (a *T keyed by a nil *T)
}

// ErrNoClaims is returned by ClaimsFromContext for a context that did not
// come through Middleware.Require.
var ErrNoClaims = errors.New("soidchttp: no validated access token in the context")

// ClaimsFromContext returns the validated access token's claims decoded into
// a T, the caller's own type (with encoding/json's rules), or the library's
// own soidc.AccessTokenClaims. The value is decoded once per request and
// type, and shared by later calls: do not modify it. Claims that do not fit
// T are an *soidc.Error with StatusInvalidArgument.
func ClaimsFromContext[T any](ctx context.Context) (*T, error) {
	v, ok := ctx.Value(contextKey{}).(*validated)
	if !ok {
		return nil, ErrNoClaims
	}
	if c, ok := any(v.claims).(*T); ok {
		return c, nil
	}
	var key *T
	v.mu.Lock()
	defer v.mu.Unlock()
	if t, ok := v.typed[key]; ok {
		return t.(*T), nil
	}
	t, err := soidc.ClaimsAs[T](v.claims)
	if err != nil {
		return nil, err
	}
	if v.typed == nil {
		v.typed = map[any]any{}
	}
	v.typed[key] = t
	return t, nil
}

// AccessTokenClaims returns the validated access token's claims, or nil
// for a context that did not come through Middleware.Require.
func AccessTokenClaims(ctx context.Context) *soidc.AccessTokenClaims {
	v, _ := ctx.Value(contextKey{}).(*validated)
	if v == nil {
		return nil
	}
	return v.claims
}

// Token returns the validated access token itself (to pass on, for instance
// to a token exchange), and whether it was DPoP-bound (sent with the DPoP
// scheme and a valid proof). "" for a context that did not come through
// Middleware.Require.
func Token(ctx context.Context) (token string, dpop bool) {
	v, _ := ctx.Value(contextKey{}).(*validated)
	if v == nil {
		return "", false
	}
	return v.token, v.dpop
}
