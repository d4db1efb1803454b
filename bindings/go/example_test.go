package soidc_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
)

// A service gets a token for an API and checks it as the API would.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	client, err := soidc.NewClientFromIssuerURL(ctx, "https://id.example.com", soidc.Config{
		ClientID:     "my-service",
		ClientSecret: "from a secret store",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	tokens, err := client.ClientCredentialsGrant(ctx, "api:read", &soidc.GrantOptions{Resource: []string{"https://api.example.com"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	claims, err := client.DecodeAccessToken(ctx, tokens.AccessToken, &soidc.AccessTokenOptions{Audience: "https://api.example.com"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(claims.ClientID, claims.Scopes())
}

// Errors carry the library's status and the provider's OAuth error.
func ExampleError() {
	var client *soidc.Client // from NewClientFromIssuerURL
	_, err := client.DirectAccessGrant(context.Background(), "alice", "wrong", "openid", nil)

	var e *soidc.Error
	switch {
	case errors.As(err, &e) && e.ProviderError == "invalid_grant":
		fmt.Println("wrong user name or password")
	case errors.Is(err, soidc.ErrNetwork), errors.Is(err, context.DeadlineExceeded):
		fmt.Println("the provider did not answer in time")
	case err != nil:
		fmt.Println(err)
	}
}

// The authorization code flow in a web application.
func ExampleClient_AuthCodeStart() {
	var client *soidc.Client // with a RedirectURI in its Config
	ctx := context.Background()

	// On login: send the browser to start.URL; keep start in the user's session.
	start, err := client.AuthCodeStart(ctx, nil)
	if err != nil {
		return
	}

	// On the redirect back (callbackURL is the full URL the browser arrived at):
	var callbackURL string
	tokens, err := client.AuthCodeHandleResult(ctx, callbackURL, start.ResultOptions())
	if err != nil {
		return
	}
	fmt.Println("logged in:", tokens.IDTokenClaims.Subject, tokens.IDTokenClaims.Email)
}
