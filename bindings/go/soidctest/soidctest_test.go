package soidctest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
	"github.com/soidc/soidc/bindings/go/soidctest"
)

const api = "https://api.soidc.test"

func setup(t *testing.T, opts soidc.Options) (*soidctest.Provider, *soidc.Client, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	p := soidctest.New()
	t.Cleanup(p.Close)
	c, err := soidc.NewClientFromIssuerURL(ctx, p.Issuer(), soidc.Config{ClientID: "test-client", Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return p, c, ctx
}

func reason(t *testing.T, err error) string {
	t.Helper()
	var e *soidc.Error
	if !errors.As(err, &e) || e.Status != soidc.StatusValidation {
		t.Fatalf("want a validation error, got %v", err)
	}
	return e.Reason
}

// Tokens of every algorithm validate through the real library, with the
// claims the test chose; wrong ones are refused for the right reason.
func TestTokensValidateWithSoidc(t *testing.T) {
	p, c, ctx := setup(t, soidc.Options{})
	for _, alg := range []string{soidctest.RS256, soidctest.ES256, soidctest.EdDSA} {
		token := p.AccessTokenAlg(alg, soidctest.Claims{"sub": "bob", "scope": "notes:read notes:write", "roles": []string{"editor"}})
		claims, err := c.DecodeAccessToken(ctx, token, &soidc.AccessTokenOptions{Audience: api, RequiredScopes: []string{"notes:write"}})
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if claims.Subject != "bob" || claims.Issuer != p.Issuer() || claims.ClientID != "test-client" || len(claims.Roles) != 1 {
			t.Fatalf("%s: %+v", alg, claims)
		}
	}
	id := p.IDToken("test-client", soidctest.Claims{"email": "alice@example.test", "nonce": "n-1"})
	idClaims, err := c.DecodeIDToken(ctx, id, &soidc.IDTokenOptions{Nonce: "n-1"})
	if err != nil || idClaims.Email != "alice@example.test" || idClaims.Subject != "alice" {
		t.Fatalf("ID token: %+v %v", idClaims, err)
	}

	past := time.Now().Add(-time.Hour).Unix()
	cases := []struct {
		name, token, reason string
	}{
		{"expired", p.AccessToken(soidctest.Claims{"iat": past - 60, "exp": past}), soidc.ReasonExpired},
		{"another issuer", p.AccessToken(soidctest.Claims{"iss": "https://elsewhere.example"}), soidc.ReasonIssuer},
		{"another audience", p.AccessToken(soidctest.Claims{"aud": "https://other.example"}), soidc.ReasonAudience},
		{"missing scope", p.AccessToken(soidctest.Claims{"scope": "notes:read"}), soidc.ReasonScope},
	}
	for _, tc := range cases {
		_, err := c.DecodeAccessToken(ctx, tc.token, &soidc.AccessTokenOptions{Audience: api, RequiredScopes: []string{"notes:read", "notes:write"}})
		if got := reason(t, err); got != tc.reason {
			t.Errorf("%s: reason %q, want %q", tc.name, got, tc.reason)
		}
	}
	// An ID token (typ JWT) is not an access token (RFC 9068 §4: typ at+jwt).
	_, err = c.DecodeAccessToken(ctx, p.Sign(soidctest.RS256, "JWT", soidctest.Claims{"iss": p.Issuer(), "aud": api, "sub": "x",
		"client_id": "c", "iat": time.Now().Unix(), "exp": time.Now().Unix() + 60, "jti": "j"}), &soidc.AccessTokenOptions{Audience: api})
	reason(t, err)
	// A required claim left out (nil) is refused.
	_, err = c.DecodeAccessToken(ctx, p.AccessToken(soidctest.Claims{"jti": nil}), &soidc.AccessTokenOptions{Audience: api})
	reason(t, err)
}

// Rotated keys: a token signed with a new key validates after soidc
// refetches the JWKS for the unknown kid; dropped keys no longer validate.
func TestRotation(t *testing.T) {
	zero := time.Duration(0)
	p, c, ctx := setup(t, soidc.Options{JWKSRefetchMinInterval: &zero})
	old := p.AccessToken(nil)
	if _, err := c.DecodeAccessToken(ctx, old, &soidc.AccessTokenOptions{Audience: api}); err != nil {
		t.Fatal(err)
	}
	fetches := p.JWKSFetches()
	p.RotateKeys(true)
	fresh := p.AccessToken(nil)
	if _, err := c.DecodeAccessToken(ctx, fresh, &soidc.AccessTokenOptions{Audience: api}); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if p.JWKSFetches() != fetches+1 {
		t.Fatalf("JWKS fetches %d, want %d", p.JWKSFetches(), fetches+1)
	}
	if got := reason(t, func() error {
		_, err := c.DecodeAccessToken(ctx, old, &soidc.AccessTokenOptions{Audience: api})
		return err
	}()); got != soidc.ReasonUnknownKid {
		t.Fatalf("a token of a dropped key: reason %q", got)
	}
}

// The token endpoint: a ClientCredentialsTokenSource gets tokens the library
// validates; a refresh token renews them; wrong client secrets are refused.
func TestTokenEndpoint(t *testing.T) {
	p, c, ctx := setup(t, soidc.Options{})
	p.AddClient("caller", "caller-secret")
	caller, err := soidc.NewClientFromIssuerURL(ctx, p.Issuer(), soidc.Config{ClientID: "caller", ClientSecret: "caller-secret"})
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	resp, err := caller.ClientCredentialsGrant(ctx, "notes:read offline_access", &soidc.GrantOptions{Resource: []string{api}})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := c.DecodeAccessToken(ctx, resp.AccessToken, &soidc.AccessTokenOptions{Audience: api, RequiredScopes: []string{"notes:read"}})
	if err != nil || claims.ClientID != "caller" || resp.RefreshToken == "" || resp.ExpiresIn != 300 {
		t.Fatalf("client credentials: %+v %+v %v", resp, claims, err)
	}
	// Refreshed through a Transport to a test server.
	p.SetTokenTTL(time.Minute)
	tok := resp.Token()
	tok.Expiry = time.Now()
	seen := make(chan string, 1)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen <- r.Header.Get("Authorization") }))
	defer server.Close()
	r, err := (&http.Client{Transport: &soidc.Transport{Source: caller.RefreshTokenSource(tok, nil)}}).Get(server.URL)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	sent := <-seen
	refreshed, err := c.DecodeAccessToken(ctx, sent[len("Bearer "):], &soidc.AccessTokenOptions{Audience: api})
	if err != nil || sent == "Bearer "+resp.AccessToken || refreshed.Expiry-refreshed.IssuedAt != 60 {
		t.Fatalf("refreshed token: %+v %v", refreshed, err)
	}

	wrong, err := soidc.NewClientFromIssuerURL(ctx, p.Issuer(), soidc.Config{ClientID: "caller", ClientSecret: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	_, err = wrong.ClientCredentialsGrant(ctx, "", nil)
	var e *soidc.Error
	if !errors.As(err, &e) || e.ProviderError != "invalid_client" {
		t.Fatalf("wrong secret: %v", err)
	}
}

// A provider that is down: discovery fails with the HTTP status.
func TestDown(t *testing.T) {
	p := soidctest.New()
	defer p.Close()
	p.SetDown(true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := soidc.NewClientFromIssuerURL(ctx, p.Issuer(), soidc.Config{ClientID: "x"}); !errors.Is(err, soidc.ErrHTTP) {
		t.Fatalf("discovery while down: %v", err)
	}
	p.SetDown(false)
	c, err := soidc.NewClientFromIssuerURL(ctx, p.Issuer(), soidc.Config{ClientID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// Thumbprint follows RFC 7638 §3.1's example.
func TestThumbprintRFC7638Example(t *testing.T) {
	// The RSA key of RFC 7638 §3.1 and its thumbprint.
	n := "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	if got := soidctest.ThumbprintOfJWK(map[string]any{"kty": "RSA", "n": n, "e": "AQAB"}); got != want {
		t.Fatalf("thumbprint %q, want %q", got, want)
	}
	k := soidctest.NewDPoPKey(soidctest.ES256)
	if k.Thumbprint() == soidctest.NewDPoPKey(soidctest.ES256).Thumbprint() || len(k.Thumbprint()) != 43 {
		t.Fatal("thumbprints of two keys")
	}
}
