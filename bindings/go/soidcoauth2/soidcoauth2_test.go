package soidcoauth2_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
	"github.com/soidc/soidc/bindings/go/soidchttp"
	"github.com/soidc/soidc/bindings/go/soidcoauth2"
	"golang.org/x/oauth2"
)

const apiResource = "https://api.soidc.test"

func issuer(t *testing.T) string {
	t.Helper()
	iss := os.Getenv("SOIDC_TEST_ISSUER")
	if iss == "" {
		if os.Getenv("SOIDC_REQUIRE_PROVIDER") != "" {
			t.Fatal("SOIDC_TEST_ISSUER is not set; run under tests/with-provider.sh")
		}
		t.Skip("SOIDC_TEST_ISSUER is not set; run under tests/with-provider.sh")
	}
	return iss
}

// An x/oauth2 client over a soidc RefreshTokenSource calls an API protected
// by soidchttp: the expired token is refreshed by soidc at the provider, the
// API validates the new one.
func TestOAuth2ClientRefreshes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	iss := issuer(t)
	c, err := soidc.NewClientFromIssuerURL(ctx, iss, soidc.Config{ClientID: "conf-basic", ClientSecret: "conf-basic-secret-0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	api, err := soidc.NewClientFromIssuerURL(ctx, iss, soidc.Config{ClientID: "protected-api"})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	seen := make(chan string, 4)
	mw := &soidchttp.Middleware{Client: api, Audience: apiResource, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	server := httptest.NewServer(mw.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, _ := soidchttp.Token(r.Context())
		seen <- token
		_, _ = w.Write([]byte(soidchttp.AccessTokenClaims(r.Context()).Subject))
	}), soidchttp.Scopes("api:read")))
	defer server.Close()

	tokens, err := c.DirectAccessGrant(ctx, "bob", "bob-password", "openid offline_access api:read", &soidc.GrantOptions{Resource: []string{apiResource}})
	if err != nil {
		t.Fatal(err)
	}
	// Through x/oauth2's types and back: nothing lost.
	o := soidcoauth2.ToOAuth2(tokens.Token())
	if o.TokenType != "Bearer" || o.RefreshToken != tokens.RefreshToken || o.Extra("id_token") != tokens.IDToken || o.Expiry.IsZero() {
		t.Fatalf("ToOAuth2: %+v", o)
	}
	initial := soidcoauth2.FromOAuth2(o)
	if initial.IDToken != tokens.IDToken || initial.AccessToken != tokens.AccessToken {
		t.Fatalf("FromOAuth2: %+v", initial)
	}
	initial.Expiry = time.Now().Add(-time.Minute) // expired: soidc refreshes it first
	source := soidcoauth2.TokenSource(ctx, c.RefreshTokenSource(initial, &soidc.RefreshOptions{Resource: []string{apiResource}}))
	resp, err := oauth2.NewClient(ctx, source).Get(server.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "bob" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	if got := <-seen; got == tokens.AccessToken {
		t.Fatal("the expired token was sent, not a refreshed one")
	}
	tok, err := source.Token()
	if err != nil || !tok.Valid() || tok.Expiry.Before(time.Now()) {
		t.Fatalf("oauth2 token: %+v %v", tok, err)
	}

	// A refused refresh surfaces as soidc's error through x/oauth2.
	bad := soidcoauth2.TokenSource(ctx, c.RefreshTokenSource(&soidc.Token{AccessToken: "x", RefreshToken: "wrong", Expiry: time.Now()}, nil))
	_, err = oauth2.NewClient(ctx, bad).Get(server.URL)
	var e *soidc.Error
	if !errors.As(err, &e) || e.Status != soidc.StatusProvider || e.ProviderError != "invalid_grant" {
		t.Fatalf("want soidc.ErrProvider through x/oauth2, got %v", err)
	}
}
