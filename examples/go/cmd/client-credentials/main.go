// Command client-credentials gets a token with the OAuth 2.0 client
// credentials grant (RFC 6749 §4.4) through soidc and prints the response.
// When the access token is a JWT for the requested resource (RFC 9068), it
// also validates it and prints its claims.
//
//	SOIDC_CLIENT_SECRET=... client-credentials -issuer https://id.example.com \
//	    -client-id my-service [-scope "api:read"] [-resource https://api.example.com]
//
// The issuer defaults to $SOIDC_TEST_ISSUER. The secret is read from the
// environment, not from a flag, so that it does not show in the process list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
)

func main() {
	issuer := flag.String("issuer", os.Getenv("SOIDC_TEST_ISSUER"), "the provider's issuer URL (default $SOIDC_TEST_ISSUER)")
	clientID := flag.String("client-id", "", "the client id (required); the secret comes from $SOIDC_CLIENT_SECRET")
	scope := flag.String("scope", "", "the scope to ask for (default: the provider's default)")
	resource := flag.String("resource", "", "an RFC 8707 resource indicator; also the audience of the access token")
	timeout := flag.Duration("timeout", 10*time.Second, "time limit for the whole run")
	flag.Parse()
	if *issuer == "" || *clientID == "" {
		fmt.Fprintln(os.Stderr, "client-credentials: -issuer (or $SOIDC_TEST_ISSUER) and -client-id are required")
		flag.Usage()
		os.Exit(2)
	}
	if err := run(os.Stdout, *issuer, *clientID, os.Getenv("SOIDC_CLIENT_SECRET"), *scope, *resource, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "client-credentials:", err)
		os.Exit(1)
	}
}

func run(out io.Writer, issuer, clientID, secret, scope, resource string, timeout time.Duration) error {
	// The deadline bounds every call below: soidc gets the time left as its timeout.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	client, err := soidc.NewClientFromIssuerURL(ctx, issuer, soidc.Config{ClientID: clientID, ClientSecret: secret})
	if err != nil {
		return fmt.Errorf("discovery at %s: %w", issuer, err)
	}
	defer client.Close()

	var opts *soidc.GrantOptions
	if resource != "" {
		opts = &soidc.GrantOptions{Resource: []string{resource}}
	}
	tokens, err := client.ClientCredentialsGrant(ctx, scope, opts)
	if err != nil {
		var e *soidc.Error
		if errors.As(err, &e) && e.ProviderError != "" {
			return fmt.Errorf("the provider refused: %s (%s)", e.ProviderError, e.ErrorDescription)
		}
		return err
	}

	fmt.Fprintf(out, "Token response from %s for client %s\n", issuer, clientID)
	fmt.Fprintf(out, "  token_type    %s\n", tokens.TokenType)
	if tokens.ExpiresIn > 0 {
		until := time.Now().Add(time.Duration(tokens.ExpiresIn) * time.Second)
		fmt.Fprintf(out, "  expires_in    %d s (until %s)\n", tokens.ExpiresIn, until.Format(time.RFC3339))
	}
	fmt.Fprintf(out, "  scope         %s\n", orNone(tokens.Scope))
	fmt.Fprintf(out, "  access_token  %s\n", abbreviate(tokens.AccessToken))
	for name, value := range tokens.Extra {
		fmt.Fprintf(out, "  %-13s %v\n", name, value)
	}

	if resource == "" || strings.Count(tokens.AccessToken, ".") != 2 {
		return nil
	}
	claims, err := client.DecodeAccessToken(ctx, tokens.AccessToken, &soidc.AccessTokenOptions{Audience: resource})
	if err != nil {
		return fmt.Errorf("the JWT access token does not validate: %w", err)
	}
	fmt.Fprintf(out, "JWT access token (RFC 9068), validated for audience %s\n", resource)
	fmt.Fprintf(out, "  iss           %s\n", claims.Issuer)
	fmt.Fprintf(out, "  sub           %s\n", claims.Subject)
	fmt.Fprintf(out, "  aud           %s\n", strings.Join(claims.Audience, " "))
	fmt.Fprintf(out, "  client_id     %s\n", claims.ClientID)
	fmt.Fprintf(out, "  scope         %s\n", orNone(claims.Scope))
	fmt.Fprintf(out, "  jti           %s\n", claims.JWTID)
	fmt.Fprintf(out, "  iat           %s\n", claims.IssuedAt.Time().Format(time.RFC3339))
	fmt.Fprintf(out, "  exp           %s\n", claims.Expiry.Time().Format(time.RFC3339))
	return nil
}

// abbreviate shows the start of a token only: enough to recognise it, not
// enough to use it.
func abbreviate(token string) string {
	kind := "opaque"
	if strings.Count(token, ".") == 2 {
		kind = "a JWT"
	}
	short := token
	if len(short) > 16 {
		short = short[:16] + "…"
	}
	return fmt.Sprintf("%s (%d characters, %s)", short, len(token), kind)
}

func orNone(s string) string {
	if s == "" {
		return "(not given)"
	}
	return s
}
