package soidctest_test

import (
	"context"
	"errors"
	"fmt"

	soidc "github.com/soidc/soidc/bindings/go"
	"github.com/soidc/soidc/bindings/go/soidctest"
)

// A unit test of code that validates access tokens, without a real provider.
func Example() {
	p := soidctest.New()
	defer p.Close()
	ctx := context.Background()
	client, err := soidc.NewClientFromIssuerURL(ctx, p.Issuer(), soidc.Config{ClientID: "notes-api"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	token := p.AccessToken(soidctest.Claims{"aud": "https://notes.example.com", "sub": "carol", "scope": "notes:read"})
	claims, err := client.DecodeAccessToken(ctx, token, &soidc.AccessTokenOptions{Audience: "https://notes.example.com", RequiredScopes: []string{"notes:read"}})
	fmt.Println(claims.Subject, err)

	_, err = client.DecodeAccessToken(ctx, token, &soidc.AccessTokenOptions{Audience: "https://notes.example.com", RequiredScopes: []string{"notes:write"}})
	var e *soidc.Error
	fmt.Println(errors.As(err, &e) && e.Reason == soidc.ReasonScope)
	// Output:
	// carol <nil>
	// true
}
