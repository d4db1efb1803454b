package soidc_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
)

// The validation options added with the library's stricter rules, and the
// reasons it reports for them.

func TestOptionsJSONOfTheNewOptions(t *testing.T) {
	cases := []struct {
		name string
		opts any
		want string
	}{
		{"client options", soidc.Options{CreateTimeout: 1500 * time.Microsecond, ClientSecretFile: "/s", PrivateKeyFile: "/k",
			Logger: func(soidc.LogLevel, string) {}, LogLevel: soidc.LogDebug},
			`{"create_timeout_ms":2,"private_key_file":"/k","client_secret_file":"/s"}`},
		{"min_iat with its fraction", soidc.IDTokenOptions{MinIssuedAt: time.Unix(1765146012, 123456789), IgnoreNonce: true,
			ACRValuesAllowed: []string{"urn:a", "urn:b"}},
			`{"ignore_nonce":true,"min_iat":1765146012.123456789,"acr_values_allowed":["urn:a","urn:b"]}`},
		{"min_iat on a whole second", soidc.IDTokenOptions{MinIssuedAt: time.Unix(1765146012, 0)}, `{"min_iat":1765146012}`},
		{"min_iat half a second", soidc.LogoutTokenOptions{MinIssuedAt: time.Unix(1765146012, 500000000)}, `{"min_iat":1765146012.5}`},
		{"min_iat before 1970", soidc.IDTokenOptions{MinIssuedAt: time.Unix(-2, 500000000)}, `{"min_iat":-1.5}`},
		{"min_iat just before 1970", soidc.IDTokenOptions{MinIssuedAt: time.Unix(-1, 750000000)}, `{"min_iat":-0.25}`},
		{"one audience", soidc.AccessTokenOptions{Audience: "a"}, `{"audience":"a"}`},
		{"audiences", soidc.AccessTokenOptions{Audiences: []string{"a", "b"}}, `{"audience":["a","b"]}`},
		{"logout without exp", soidc.LogoutTokenOptions{AllowMissingExp: true, MaxAge: 1500 * time.Millisecond},
			`{"allow_missing_exp":true,"max_age_s":2}`},
		{"acr in the code flow", soidc.AuthCodeResultOptions{State: "s", ACRValuesAllowed: []string{"x"}},
			`{"state":"s","acr_values_allowed":["x"]}`},
		{"acr in the exchange", soidc.AuthCodeExchangeOptions{ACRValuesAllowed: []string{"x"}}, `{"acr_values_allowed":["x"]}`},
	}
	for _, tc := range cases {
		b, err := json.Marshal(tc.opts)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if string(b) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, b, tc.want)
		}
	}
	if _, err := json.Marshal(soidc.AccessTokenOptions{Audience: "a", Audiences: []string{"b"}}); err == nil {
		t.Error("Audience and Audiences together were accepted")
	}
}

// An ID token carrying a nonce is refused unless that nonce is expected, or
// the check is skipped with IgnoreNonce.
func TestIgnoreNonce(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	tokens, err := c.DirectAccessGrant(ctx, "alice", alicePassword, "openid",
		&soidc.GrantOptions{Nonce: "nonce-go-ignore", ExtraParams: map[string]any{"nonce": "nonce-go-ignore"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DecodeIDToken(ctx, tokens.IDToken, nil)
	if e := mustErr(t, err, soidc.ErrValidation); e.Reason != soidc.ReasonNonce {
		t.Fatalf("a token with a nonce none expected: want reason %q, got %+v", soidc.ReasonNonce, e)
	}
	_, err = c.DecodeIDToken(ctx, tokens.IDToken, &soidc.IDTokenOptions{Nonce: "another"})
	if e := mustErr(t, err, soidc.ErrValidation); e.Reason != soidc.ReasonNonce {
		t.Fatalf("another nonce: want reason %q, got %+v", soidc.ReasonNonce, e)
	}
	claims, err := c.DecodeIDToken(ctx, tokens.IDToken, &soidc.IDTokenOptions{IgnoreNonce: true})
	if err != nil {
		t.Fatal(err)
	}
	if claims.Subject != "alice" || claims.Nonce != "nonce-go-ignore" {
		t.Fatalf("unexpected claims %+v", claims)
	}
	_, err = c.DecodeIDToken(ctx, tokens.IDToken, &soidc.IDTokenOptions{IgnoreNonce: true, Nonce: "nonce-go-ignore"})
	mustErr(t, err, soidc.ErrInvalidArgument)

	// A token without a nonce is accepted without the option.
	plain, err := c.DirectAccessGrant(ctx, "alice", alicePassword, "openid", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DecodeIDToken(ctx, plain.IDToken, nil); err != nil {
		t.Fatal(err)
	}
}

// MinIssuedAt reaches the library with its fraction of a second: half a
// second after the token's iat refuses it, half a second before accepts it.
func TestMinIssuedAtFraction(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	tokens, err := c.DirectAccessGrant(ctx, "alice", alicePassword, "openid", nil)
	if err != nil {
		t.Fatal(err)
	}
	iat := int64(tokens.IDTokenClaims.IssuedAt)
	if _, err := c.DecodeIDToken(ctx, tokens.IDToken, &soidc.IDTokenOptions{MinIssuedAt: time.Unix(iat-1, 5e8)}); err != nil {
		t.Fatalf("min_iat half a second before iat: %v", err)
	}
	if _, err := c.DecodeIDToken(ctx, tokens.IDToken, &soidc.IDTokenOptions{MinIssuedAt: time.Unix(iat, 0)}); err != nil {
		t.Fatalf("min_iat equal to iat: %v", err)
	}
	_, err = c.DecodeIDToken(ctx, tokens.IDToken, &soidc.IDTokenOptions{MinIssuedAt: time.Unix(iat, 5e8)})
	if e := mustErr(t, err, soidc.ErrValidation); !strings.Contains(e.Message, "min_iat") {
		t.Fatalf("min_iat half a second after iat: %+v", e)
	}
}

// An access token's audience may be one of several.
func TestAccessTokenAudiences(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	token := apiToken(t, c, "api:read")
	claims, err := c.DecodeAccessToken(ctx, token, &soidc.AccessTokenOptions{Audiences: []string{"https://other.example", apiResource}})
	if err != nil {
		t.Fatal(err)
	}
	if !claims.Audience.Contains(apiResource) {
		t.Fatalf("unexpected claims %+v", claims)
	}
	_, err = c.DecodeAccessToken(ctx, token, &soidc.AccessTokenOptions{Audiences: []string{"https://other.example", "https://third.example"}})
	if e := mustErr(t, err, soidc.ErrValidation); e.Reason != soidc.ReasonAudience {
		t.Fatalf("want reason %q, got %+v", soidc.ReasonAudience, e)
	}
	_, err = c.DecodeAccessToken(ctx, token, &soidc.AccessTokenOptions{Audience: apiResource, Audiences: []string{apiResource}})
	if e := mustErr(t, err, soidc.ErrInvalidArgument); !strings.Contains(e.Message, "Audiences") {
		t.Fatalf("message does not explain: %q", e.Message)
	}
}

// ACRValuesAllowed refuses a token whose acr is not listed, or that has none.
func TestACRValuesAllowed(t *testing.T) {
	ctx := testContext(t)
	stub := newStubProvider(t)
	c := stub.client(t, soidc.Options{})
	silver := stub.idToken(t, map[string]any{"acr": "urn:example:silver"})
	none := stub.idToken(t, nil)

	claims, err := c.DecodeIDToken(ctx, silver, &soidc.IDTokenOptions{ACRValuesAllowed: []string{"urn:example:gold", "urn:example:silver"}})
	if err != nil || claims.ACR != "urn:example:silver" {
		t.Fatalf("an allowed acr: %+v, %v", claims, err)
	}
	for name, token := range map[string]string{"another acr": silver, "no acr": none} {
		_, err = c.DecodeIDToken(ctx, token, &soidc.IDTokenOptions{ACRValuesAllowed: []string{"urn:example:gold"}})
		if e := mustErr(t, err, soidc.ErrValidation); e.Reason != soidc.ReasonACR {
			t.Errorf("%s: want reason %q, got %+v", name, soidc.ReasonACR, e)
		}
	}
	// With the callback too, both must pass; the list is checked first.
	called := false
	_, err = c.DecodeIDToken(ctx, silver, &soidc.IDTokenOptions{ACRValuesAllowed: []string{"urn:example:silver"},
		ValidateACR: func(string, bool) bool { called = true; return false }})
	if e := mustErr(t, err, soidc.ErrValidation); e.Reason != soidc.ReasonACR || !called {
		t.Fatalf("callback refusing: reason %q, called %v", e.Reason, called)
	}
	called = false
	_, err = c.DecodeIDToken(ctx, silver, &soidc.IDTokenOptions{ACRValuesAllowed: []string{"urn:example:gold"},
		ValidateACR: func(string, bool) bool { called = true; return true }})
	if mustErr(t, err, soidc.ErrValidation); called {
		t.Fatal("the callback ran although the list refused the token")
	}
	_, err = c.DecodeIDToken(ctx, silver, &soidc.IDTokenOptions{ACRValuesAllowed: []string{}})
	if err != nil {
		t.Fatalf("an empty list is not sent: %v", err)
	}
	// A sub beyond 255 bytes (OpenID Connect Core §2).
	_, err = c.DecodeIDToken(ctx, stub.idToken(t, map[string]any{"sub": strings.Repeat("s", 256)}), nil)
	if e := mustErr(t, err, soidc.ErrValidation); e.Reason != soidc.ReasonSub {
		t.Fatalf("a long sub: want reason %q, got %+v", soidc.ReasonSub, e)
	}
}

// logoutToken is a logout token of the stub for "stub-client", plus extra
// claims (a nil value removes a claim).
func (s *stubProvider) logoutToken(t *testing.T, extra map[string]any) string {
	now := time.Now().Unix()
	claims := map[string]any{"iss": s.issuer(), "aud": "stub-client", "iat": now, "exp": now + 120,
		"jti": "jti-" + time.Now().Format(time.RFC3339Nano), "sub": "carol",
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}}
	for k, v := range extra {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	return s.sign(t, "logout+jwt", claims)
}

// A logout token without exp is refused, unless AllowMissingExp; then it
// must be recent and its jti is not accepted twice.
func TestLogoutTokenWithoutExp(t *testing.T) {
	ctx := testContext(t)
	stub := newStubProvider(t)
	c := stub.client(t, soidc.Options{})
	if _, err := c.DecodeLogoutToken(ctx, stub.logoutToken(t, nil), nil); err != nil {
		t.Fatal(err)
	}
	noExp := stub.logoutToken(t, map[string]any{"exp": nil, "jti": "jti-once"})
	_, err := c.DecodeLogoutToken(ctx, noExp, nil)
	if e := mustErr(t, err, soidc.ErrValidation); e.Reason != soidc.ReasonExp {
		t.Fatalf("no exp: want reason %q, got %+v", soidc.ReasonExp, e)
	}
	allow := &soidc.LogoutTokenOptions{AllowMissingExp: true, MaxAge: time.Minute}
	claims, err := c.DecodeLogoutToken(ctx, noExp, allow)
	if err != nil {
		t.Fatal(err)
	}
	if claims.JWTID != "jti-once" || claims.Subject != "carol" {
		t.Fatalf("unexpected claims %+v", claims)
	}
	_, err = c.DecodeLogoutToken(ctx, noExp, allow)
	if e := mustErr(t, err, soidc.ErrValidation); e.Reason != soidc.ReasonReplay {
		t.Fatalf("the same jti again: want reason %q, got %+v", soidc.ReasonReplay, e)
	}
	old := time.Now().Add(-2 * time.Minute).Unix()
	_, err = c.DecodeLogoutToken(ctx, stub.logoutToken(t, map[string]any{"exp": nil, "iat": old, "jti": "jti-old"}), allow)
	if e := mustErr(t, err, soidc.ErrValidation); e.Reason != soidc.ReasonExpired {
		t.Fatalf("older than MaxAge: want reason %q, got %+v", soidc.ReasonExpired, e)
	}
	// MaxAge without AllowMissingExp, or beyond 10 minutes: refused by the library.
	_, err = c.DecodeLogoutToken(ctx, stub.logoutToken(t, nil), &soidc.LogoutTokenOptions{MaxAge: time.Minute})
	mustErr(t, err, soidc.ErrInvalidArgument)
	_, err = c.DecodeLogoutToken(ctx, stub.logoutToken(t, nil), &soidc.LogoutTokenOptions{AllowMissingExp: true, MaxAge: time.Hour})
	mustErr(t, err, soidc.ErrInvalidArgument)
}

// The real provider's logout tokens carry exp: AllowMissingExp changes nothing for them.
func TestLogoutTokenOfTheProviderWithAllowMissingExp(t *testing.T) {
	ctx := testContext(t)
	c := newClient(t, soidc.Config{ClientID: "conf-bcl", ClientSecret: "conf-bcl-secret-0123456789abcdef", RedirectURI: redirectURI})
	var answer struct {
		LogoutTokens []string `json:"logout_tokens"`
	}
	postJSON(t, "/test/backchannel-logout", map[string]string{"user": "alice", "client_id": "conf-bcl"}, &answer)
	if len(answer.LogoutTokens) == 0 {
		t.Fatal("the provider sent no logout token")
	}
	token := answer.LogoutTokens[len(answer.LogoutTokens)-1]
	for i := 0; i < 2; i++ { // tokens with exp are not tracked for replay
		claims, err := c.DecodeLogoutToken(ctx, token, &soidc.LogoutTokenOptions{AllowMissingExp: true})
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if claims.Subject != "alice" || claims.Expiry == 0 {
			t.Fatalf("unexpected claims %+v", claims)
		}
	}
	if _, err := c.DecodeLogoutToken(ctx, token, &soidc.LogoutTokenOptions{MinIssuedAt: time.Now().Add(time.Hour)}); err == nil {
		t.Fatal("a min_iat an hour ahead accepted the token")
	}
}
