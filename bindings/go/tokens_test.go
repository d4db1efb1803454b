package soidc_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
)

// apiToken is a JWT access token (RFC 9068) for the test resource server.
func apiToken(t *testing.T, c *soidc.Client, scope string) string {
	t.Helper()
	tokens, err := c.ClientCredentialsGrant(testContext(t), scope, &soidc.GrantOptions{Resource: []string{apiResource}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(tokens.AccessToken, ".") != 2 {
		t.Fatalf("not a JWT access token: %+v", tokens)
	}
	return tokens.AccessToken
}

func TestDecodeAccessToken(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	token := apiToken(t, c, "api:read")
	claims, err := c.DecodeAccessToken(ctx, token, &soidc.AccessTokenOptions{Audience: apiResource, RequiredScopes: []string{"api:read"}})
	if err != nil {
		t.Fatal(err)
	}
	if claims.Issuer != issuer(t) || claims.ClientID != basicID || !claims.Audience.Contains(apiResource) ||
		!claims.HasScope("api:read") || claims.JWTID == "" || claims.Expiry == 0 {
		t.Fatalf("unexpected access token claims %+v", claims)
	}

	_, err = c.DecodeAccessToken(ctx, token, &soidc.AccessTokenOptions{Audience: apiResource, RequiredScopes: []string{"api:write"}})
	if e := mustErr(t, err, soidc.ErrValidation); e.ProviderError != "insufficient_scope" || e.Reason != soidc.ReasonScope {
		t.Fatalf("want insufficient_scope and reason scope, got %+v", e)
	}
	_, err = c.DecodeAccessToken(ctx, token, &soidc.AccessTokenOptions{Audience: "https://other.example"})
	if e := mustErr(t, err, soidc.ErrValidation); e.Reason != soidc.ReasonAudience {
		t.Fatalf("want reason audience, got %+v", e)
	}
	// Default audience: the client id, which this token is not for.
	_, err = c.DecodeAccessToken(ctx, token, nil)
	mustErr(t, err, soidc.ErrValidation)
	// An ID token is not an access token (typ).
	tokens, err := c.DirectAccessGrant(ctx, "alice", alicePassword, "openid", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DecodeAccessToken(ctx, tokens.IDToken, &soidc.AccessTokenOptions{Audience: basicID})
	mustErr(t, err, soidc.ErrValidation)
	// With the keys cached, no network is needed.
	if _, err := c.DecodeAccessToken(ctx, token, &soidc.AccessTokenOptions{Audience: apiResource, CacheOnly: true}); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeLogoutToken(t *testing.T) {
	ctx := testContext(t)
	c := newClient(t, soidc.Config{ClientID: "conf-bcl", ClientSecret: "conf-bcl-secret-0123456789abcdef", RedirectURI: redirectURI})
	var answer struct {
		LogoutTokens []string `json:"logout_tokens"`
	}
	postJSON(t, "/test/backchannel-logout", map[string]string{"user": "alice", "client_id": "conf-bcl"}, &answer)
	if len(answer.LogoutTokens) == 0 {
		t.Fatal("the provider sent no logout token")
	}
	claims, err := c.DecodeLogoutToken(ctx, answer.LogoutTokens[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if claims.Subject != "alice" || claims.SessionID == "" || claims.JWTID == "" || claims.IssuedAt == 0 ||
		claims.Events["http://schemas.openid.net/event/backchannel-logout"] == nil {
		t.Fatalf("unexpected logout token claims %+v", claims)
	}
	// Another client is not its audience.
	_, err = basicClient(t).DecodeLogoutToken(ctx, answer.LogoutTokens[0], nil)
	mustErr(t, err, soidc.ErrValidation)
	// An ID token is not a logout token.
	tokens, err := basicClient(t).DirectAccessGrant(ctx, "alice", alicePassword, "openid", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = basicClient(t).DecodeLogoutToken(ctx, tokens.IDToken, nil)
	mustErr(t, err, soidc.ErrValidation)
}

func TestConcurrentDecoding(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	tokens, err := c.DirectAccessGrant(ctx, "alice", alicePassword, "openid email", nil)
	if err != nil {
		t.Fatal(err)
	}
	access := apiToken(t, c, "api:read")
	const goroutines, rounds = 16, 40
	var wg sync.WaitGroup
	var decoded atomic.Int64
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				if (g+i)%2 == 0 {
					claims, err := c.DecodeIDToken(ctx, tokens.IDToken, nil)
					if err != nil || claims.Subject != "alice" || claims.Email != "alice@example.test" {
						t.Errorf("goroutine %d: %+v, %v", g, claims, err)
						return
					}
				} else {
					claims, err := c.DecodeAccessToken(ctx, access, &soidc.AccessTokenOptions{Audience: apiResource})
					if err != nil || claims.ClientID != basicID {
						t.Errorf("goroutine %d: %+v, %v", g, claims, err)
						return
					}
				}
				decoded.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := decoded.Load(); n != goroutines*rounds {
		t.Fatalf("decoded %d tokens, want %d", n, goroutines*rounds)
	}
}

func TestACRValidator(t *testing.T) {
	ctx := testContext(t)
	stub := newStubProvider(t)
	c := stub.client(t, soidc.Options{})
	silver := stub.idToken(t, map[string]any{"acr": "urn:example:silver", "email_verified": "true", "x-custom": 7})
	none := stub.idToken(t, nil)

	// A closure that records what it saw.
	var seen []string
	requireSilver := func(acr string, present bool) bool {
		seen = append(seen, fmt.Sprintf("%q/%v", acr, present))
		return present && acr == "urn:example:silver"
	}
	claims, err := c.DecodeIDToken(ctx, silver, &soidc.IDTokenOptions{ValidateACR: requireSilver})
	if err != nil {
		t.Fatal(err)
	}
	if claims.ACR != "urn:example:silver" || !claims.EmailVerified || claims.Extra["x-custom"] != float64(7) {
		t.Fatalf("unexpected claims %+v", claims)
	}
	// A token without acr cannot bypass the requirement.
	_, err = c.DecodeIDToken(ctx, none, &soidc.IDTokenOptions{ValidateACR: requireSilver})
	mustErr(t, err, soidc.ErrValidation)
	if len(seen) != 2 || seen[0] != `"urn:example:silver"/true` || seen[1] != `""/false` {
		t.Fatalf("validator saw %v", seen)
	}
	// A panicking validator rejects, and says so.
	_, err = c.DecodeIDToken(ctx, silver, &soidc.IDTokenOptions{ValidateACR: func(string, bool) bool { panic("boom") }})
	if e := mustErr(t, err, soidc.ErrValidation); !strings.Contains(e.Message, "boom") {
		t.Fatalf("message does not report the panic: %q", e.Message)
	}
	// Concurrent validators each see their own closure.
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := g%2 == 0
			_, err := c.DecodeIDToken(ctx, silver, &soidc.IDTokenOptions{ValidateACR: func(string, bool) bool { return want }})
			if (err == nil) != want {
				t.Errorf("goroutine %d: %v", g, err)
			}
		}()
	}
	wg.Wait()
	// Without a validator acr is not checked.
	if _, err := c.DecodeIDToken(ctx, none, nil); err != nil {
		t.Fatal(err)
	}
	// Expired tokens fail on exp, beyond the leeway.
	old := time.Now().Add(-time.Hour).Unix()
	_, err = c.DecodeIDToken(ctx, stub.idToken(t, map[string]any{"iat": old - 60, "exp": old}), nil)
	if e := mustErr(t, err, soidc.ErrValidation); !strings.Contains(e.Message, "exp") {
		t.Fatalf("message does not name exp: %q", e.Message)
	}
}

func TestLogger(t *testing.T) {
	ctx := testContext(t)
	var mu sync.Mutex
	var messages []string
	soidc.SetLogger(func(level soidc.LogLevel, message string) {
		mu.Lock()
		defer mu.Unlock()
		messages = append(messages, level.String()+": "+message)
	}, soidc.LogDebug)
	defer soidc.SetLogger(nil, 0)
	c := basicClient(t)
	if _, err := c.DirectAccessGrant(ctx, "alice", "wrong-password-4711", "openid", nil); err == nil {
		t.Fatal("wrong password accepted")
	}
	soidc.SetLogger(func(soidc.LogLevel, string) { panic("a logger that panics must not crash") }, soidc.LogDebug)
	if _, err := c.ProviderKeys(ctx, &soidc.ProviderKeysOptions{ForceRefresh: true}); err != nil {
		t.Fatal(err)
	}
	soidc.SetLogger(nil, 0)
	mu.Lock()
	defer mu.Unlock()
	if len(messages) == 0 {
		t.Fatal("no log messages")
	}
	for _, m := range messages {
		if strings.Contains(m, "wrong-password-4711") || strings.Contains(m, basicSecret) {
			t.Fatalf("a secret leaked into the log: %q", m)
		}
	}
}

// Error.Reason carries the "reason" of the library's validation error
// documents, one per cause; the constants match what the library sends.
func TestValidationReasons(t *testing.T) {
	ctx := testContext(t)
	stub := newStubProvider(t)
	c := stub.client(t, soidc.Options{})
	good := stub.idToken(t, nil)

	// No keys fetched yet and the call may not fetch them.
	_, err := c.DecodeIDToken(ctx, good, &soidc.IDTokenOptions{CacheOnly: true})
	if e := mustErr(t, err, soidc.ErrValidation); e.Reason != soidc.ReasonNoKeysCached {
		t.Fatalf("cache_only before any fetch: want reason %q, got %+v", soidc.ReasonNoKeysCached, e)
	}
	if _, err := c.DecodeIDToken(ctx, good, nil); err != nil {
		t.Fatal(err)
	}

	old := time.Now().Add(-time.Hour).Unix()
	other := stub.idToken(t, map[string]any{"sub": "mallory"})
	parts, otherParts := strings.Split(good, "."), strings.Split(other, ".")
	unknownKid := b64([]byte(`{"alg":"RS256","kid":"no-such-key","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2]
	cases := []struct {
		name, token, reason string
	}{
		{"expired", stub.idToken(t, map[string]any{"iat": old - 60, "exp": old}), soidc.ReasonExpired},
		{"another issuer", stub.idToken(t, map[string]any{"iss": "https://elsewhere.example"}), soidc.ReasonIssuer},
		{"another audience", stub.idToken(t, map[string]any{"aud": "someone-else"}), soidc.ReasonAudience},
		{"signature of another token", parts[0] + "." + parts[1] + "." + otherParts[2], soidc.ReasonSignature},
		{"unknown kid", unknownKid, soidc.ReasonUnknownKid},
	}
	for _, tc := range cases {
		_, err := c.DecodeIDToken(ctx, tc.token, nil)
		if e := mustErr(t, err, soidc.ErrValidation); e.Reason != tc.reason {
			t.Errorf("%s: want reason %q, got %q (%s)", tc.name, tc.reason, e.Reason, e.Message)
		}
	}
	// Errors without a reason leave it empty.
	_, err = c.DecodeIDToken(ctx, "not-a-jwt", nil)
	var e *soidc.Error
	if !errors.As(err, &e) || e.Reason != "" {
		t.Fatalf("a malformed token: want an *Error without reason, got %#v", err)
	}
}
