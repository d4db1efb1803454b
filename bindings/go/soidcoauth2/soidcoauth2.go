// Package soidcoauth2 adapts soidc's token sources to golang.org/x/oauth2, so
// that code written for oauth2.TokenSource and oauth2.Transport (and the
// libraries that take them, such as Google's API clients) uses tokens that
// soidc obtains, renews and validates.
//
// It is a module of its own (github.com/soidc/soidc/bindings/go/soidcoauth2)
// so that the soidc package itself stays standard library only: `go get` of
// the core module pulls no dependency; only this adapter requires
// golang.org/x/oauth2.
//
//	source := client.RefreshTokenSource(tokens.Token(), nil)
//	httpClient := oauth2.NewClient(ctx, soidcoauth2.TokenSource(ctx, source))
package soidcoauth2

import (
	"context"
	"strings"

	soidc "github.com/soidc/soidc/bindings/go"
	"golang.org/x/oauth2"
)

// TokenSource returns an oauth2.TokenSource handing out s's tokens. Every
// renewal runs under ctx (oauth2.TokenSource.Token has no context of its
// own): give it a context that lives as long as the source is used, without
// a short deadline. The tokens are already renewed by s before they expire,
// so there is no need for oauth2.ReuseTokenSource around it.
func TokenSource(ctx context.Context, s *soidc.TokenSource) oauth2.TokenSource {
	return &source{ctx: ctx, s: s}
}

type source struct {
	ctx context.Context
	s   *soidc.TokenSource
}

// Token implements oauth2.TokenSource.
func (a *source) Token() (*oauth2.Token, error) {
	t, err := a.s.Token(a.ctx)
	if err != nil {
		return nil, err
	}
	return ToOAuth2(t), nil
}

// ToOAuth2 converts a soidc token. An empty or lower-case "bearer"
// token_type becomes "Bearer" (RFC 6750 §2.1's scheme); the ID token is kept
// as the extra "id_token", as x/oauth2 keeps the token response's members.
func ToOAuth2(t *soidc.Token) *oauth2.Token {
	tokenType := t.TokenType
	if tokenType == "" || strings.EqualFold(tokenType, "bearer") {
		tokenType = "Bearer"
	}
	o := &oauth2.Token{AccessToken: t.AccessToken, TokenType: tokenType, RefreshToken: t.RefreshToken, Expiry: t.Expiry}
	if t.IDToken != "" {
		o = o.WithExtra(map[string]any{"id_token": t.IDToken})
	}
	return o
}

// FromOAuth2 converts a token obtained through x/oauth2 (an oauth2.Config
// code exchange, for instance), so that soidc renews it from then on
// (Client.RefreshTokenSource). The "id_token" extra, if any, is kept.
func FromOAuth2(t *oauth2.Token) *soidc.Token {
	s := &soidc.Token{AccessToken: t.AccessToken, TokenType: t.TokenType, RefreshToken: t.RefreshToken, Expiry: t.Expiry}
	if id, ok := t.Extra("id_token").(string); ok {
		s.IDToken = id
	}
	return s
}
