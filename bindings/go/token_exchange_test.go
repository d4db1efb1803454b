package soidc_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	soidc "github.com/soidc/soidc/bindings/go"
)

// TokenExchange's local checks, without a provider (the token endpoint is a port
// nobody listens on); the exchanges themselves are tested against Keycloak.
func TestTokenExchangeBadInput(t *testing.T) {
	md := `{"issuer":"http://127.0.0.1:9","authorization_endpoint":"http://127.0.0.1:9/auth",` +
		`"token_endpoint":"http://127.0.0.1:9/token","jwks_uri":"http://127.0.0.1:9/jwks",` +
		`"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"]}`
	ctx := context.Background()
	c, err := soidc.NewClientFromIssuerConfig(ctx, []byte(md), soidc.Config{ClientID: "rp", ClientSecret: "rp-secret-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if soidc.TokenTypeAccessToken != "urn:ietf:params:oauth:token-type:access_token" || soidc.TokenTypeJWT != "urn:ietf:params:oauth:token-type:jwt" {
		t.Fatal("token type constants")
	}
	for _, tc := range []struct {
		token, typ string
		opts       *soidc.TokenExchangeOptions
		fragment   string
	}{
		{"", soidc.TokenTypeAccessToken, nil, "empty"},
		{"tok\x00en", soidc.TokenTypeAccessToken, nil, "NUL"},
		{"token", "access_token", nil, "token type identifier"},
		{"token", "urn:ietf:params:oauth:token-type:acess_token", nil, "RFC 8693"},
		{"token", soidc.TokenTypeAccessToken, &soidc.TokenExchangeOptions{ActorToken: "actor"}, "actor_token_type"},
		{"token", soidc.TokenTypeAccessToken, &soidc.TokenExchangeOptions{Resource: []string{"no-uri"}}, "absolute URI"},
		{"token", soidc.TokenTypeAccessToken, &soidc.TokenExchangeOptions{RequestedTokenType: "jwt"}, "requested_token_type"},
		{strings.Repeat("a", 300*1024), soidc.TokenTypeAccessToken, nil, "byte limit"},
	} {
		_, err := c.TokenExchange(ctx, tc.token, tc.typ, tc.opts)
		if !errors.Is(err, soidc.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.fragment) {
			t.Errorf("TokenExchange(%.20q, %q, %+v): %v, expected ErrInvalidArgument with %q", tc.token, tc.typ, tc.opts, err, tc.fragment)
		}
	}
	// All valid: the request is made and fails on the network.
	_, err = c.TokenExchange(ctx, "token", soidc.TokenTypeAccessToken, &soidc.TokenExchangeOptions{
		ActorToken: "actor", ActorTokenType: soidc.TokenTypeJWT, Audience: []string{"a", "b"}, Scope: "read",
	})
	if !errors.Is(err, soidc.ErrNetwork) {
		t.Errorf("a valid exchange with nobody listening: %v", err)
	}
}
