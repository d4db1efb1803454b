package soidc_test

import (
	"errors"
	"strings"
	"testing"

	soidc "github.com/soidc/soidc/bindings/go"
)

// skipWithoutRequireClaims skips when the library does not know require_claims.
func skipWithoutRequireClaims(t *testing.T, err error) {
	t.Helper()
	var e *soidc.Error
	if errors.As(err, &e) && e.Status == soidc.StatusInvalidArgument && strings.Contains(e.Message, "unknown field `require_claims`") {
		t.Skip("this library has no require_claims option yet: " + e.Message)
	}
}

// Claim rules on real tokens of the provider, checked by the library: rules
// that pass, rules that fail (ReasonClaimRule, the rule named, no claim
// value in the message), and a malformed rule refused before any token work.
func TestRequireClaims(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	token := apiToken(t, c, "api:read")
	decode := func(rules ...soidc.ClaimRule) error {
		_, err := c.DecodeAccessToken(ctx, token, &soidc.AccessTokenOptions{Audience: apiResource, RequireClaims: rules})
		return err
	}
	err := decode(soidc.ClaimRule{Claim: "client_id", Op: soidc.ClaimEq, Value: basicID})
	skipWithoutRequireClaims(t, err)
	if err != nil {
		t.Fatalf("a passing rule: %v", err)
	}
	passing := []soidc.ClaimRule{
		{Claim: "scope", Op: soidc.ClaimContains, Value: "api:read"},
		{Claim: "/aud", Op: soidc.ClaimIn, Value: []string{"x", apiResource}},
		{Claim: "client_id", Op: soidc.ClaimContainsAny, Value: []string{basicID}},
		{Claim: "jti", Op: soidc.ClaimExists},
	}
	for _, r := range passing {
		if err := decode(r); err != nil {
			t.Errorf("%s %s: %v", r.Claim, r.Op, err)
		}
	}
	failing := []struct {
		rule soidc.ClaimRule
		name string
	}{
		{soidc.ClaimRule{Claim: "client_id", Op: soidc.ClaimEq, Value: "someone-else", Name: "trusted callers"}, "trusted callers"},
		{soidc.ClaimRule{Claim: "scope", Op: soidc.ClaimContains, Value: "api:write"}, "scope contains"},
		{soidc.ClaimRule{Claim: "realm_access.roles", Op: soidc.ClaimExists}, "realm_access.roles exists"},
	}
	for _, f := range failing {
		err := decode(passing[0], f.rule)
		e := mustErr(t, err, soidc.ErrValidation)
		if e.Reason != soidc.ReasonClaimRule || e.Rule != f.name || strings.Contains(e.Message, basicID) || strings.Contains(e.Message, "api:read") {
			t.Errorf("%s: reason %q rule %q message %q", f.name, e.Reason, e.Rule, e.Message)
		}
	}
	// A malformed rule: ErrInvalidArgument, whatever the token.
	if err := decode(soidc.ClaimRule{Claim: "sub", Op: "matches", Value: "x"}); !errors.Is(err, soidc.ErrInvalidArgument) {
		t.Errorf("unknown op: %v", err)
	}
	if err := decode(soidc.ClaimRule{Claim: "sub", Op: soidc.ClaimIn, Value: "not an array"}); !errors.Is(err, soidc.ErrInvalidArgument) {
		t.Errorf("in without an array: %v", err)
	}

	// The ID token of a password grant, with rules on its profile claims.
	tokens, err := c.DirectAccessGrant(ctx, "alice", alicePassword, "openid email", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DecodeIDToken(ctx, tokens.IDToken, &soidc.IDTokenOptions{IgnoreNonce: true,
		RequireClaims: []soidc.ClaimRule{{Claim: "email_verified", Op: soidc.ClaimEq, Value: true}}}); err != nil {
		t.Fatalf("ID token rule: %v", err)
	}
	_, err = c.DecodeIDToken(ctx, tokens.IDToken, &soidc.IDTokenOptions{IgnoreNonce: true,
		RequireClaims: []soidc.ClaimRule{{Claim: "email", Op: soidc.ClaimEq, Value: "bob@example.test", Name: "bob only"}}})
	if e := mustErr(t, err, soidc.ErrValidation); e.Rule != "bob only" || strings.Contains(e.Message, "alice@example.test") {
		t.Fatalf("failing ID token rule: %+v", e)
	}
}

// Claim rules on the ID token of a grant: the password grant and the refresh
// that follows it.
func TestRequireClaimsOnGrants(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	verified := []soidc.ClaimRule{{Claim: "email_verified", Op: soidc.ClaimEq, Value: true}}
	tokens, err := c.DirectAccessGrant(ctx, "alice", alicePassword, "openid email offline_access", &soidc.GrantOptions{RequireClaims: verified})
	skipWithoutRequireClaims(t, err)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DirectAccessGrant(ctx, "alice", alicePassword, "openid email", &soidc.GrantOptions{
		RequireClaims: []soidc.ClaimRule{{Claim: "email", Op: soidc.ClaimEq, Value: "bob@example.test", Name: "bob"}}})
	if e := mustErr(t, err, soidc.ErrValidation); e.Reason != soidc.ReasonClaimRule || e.Rule != "bob" {
		t.Fatalf("password grant, failing rule: %+v", e)
	}
	if _, err := c.ExchangeRefreshToken(ctx, tokens.RefreshToken, &soidc.RefreshOptions{IDToken: tokens.IDToken, RequireClaims: verified}); err != nil {
		t.Fatalf("refresh, passing rule: %v", err)
	}
	_, err = c.ExchangeRefreshToken(ctx, tokens.RefreshToken, &soidc.RefreshOptions{IDToken: tokens.IDToken,
		RequireClaims: []soidc.ClaimRule{{Claim: "sub", Op: soidc.ClaimIn, Value: []string{"bob"}}}})
	if e := mustErr(t, err, soidc.ErrValidation); e.Reason != soidc.ReasonClaimRule || e.Rule != "sub in" {
		t.Fatalf("refresh, failing rule: %+v", e)
	}
	// The client credentials grant has no ID token: the option is refused.
	_, err = c.ClientCredentialsGrant(ctx, "api:read", &soidc.GrantOptions{Resource: []string{apiResource}, RequireClaims: verified})
	mustErr(t, err, soidc.ErrInvalidArgument)
}
