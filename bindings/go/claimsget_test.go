package soidc_test

import (
	"errors"
	"testing"

	soidc "github.com/soidc/soidc/bindings/go"
)

// ClaimAt and ClaimAs read claims with the library's path syntax: on a real
// access token of the provider, and on nested documents (escaped dots,
// collection over arrays, JSON pointers).
func TestClaimAt(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	claims, err := c.DecodeAccessToken(ctx, apiToken(t, c, "api:read"), &soidc.AccessTokenOptions{Audience: apiResource})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := soidc.ClaimAs[string](claims, "client_id"); err != nil || v != basicID {
		t.Fatalf("client_id: %q %v", v, err)
	}
	if v, err := soidc.ClaimAt(claims.Raw, "/aud"); err != nil || string(v) != `"`+apiResource+`"` {
		t.Fatalf("/aud: %s %v", v, err)
	}
	if _, err := soidc.ClaimAs[string](claims, "realm_access.roles"); !errors.Is(err, soidc.ErrNotFound) {
		t.Fatalf("absent claim: %v", err)
	}
	if _, err := soidc.ClaimAs[int](claims, "client_id"); !errors.Is(err, soidc.ErrInvalidArgument) {
		t.Fatalf("a string into an int: %v", err)
	}

	doc := []byte(`{"https://example.com/claims":{"tenant":"t1"},"orgs":[{"id":1},{"id":2},{}],"realm_access":{"roles":["a","b"]}}`)
	cases := []struct{ path, want string }{
		{`https://example\.com/claims.tenant`, `"t1"`},
		{"orgs.id", `[1,2]`},
		{"/orgs/1/id", `2`},
		{"realm_access.roles", `["a","b"]`},
	}
	for _, tc := range cases {
		if v, err := soidc.ClaimAt(doc, tc.path); err != nil || string(v) != tc.want {
			t.Errorf("%s: %s %v, want %s", tc.path, v, err, tc.want)
		}
	}
	if _, err := soidc.ClaimAt(doc, "a..b"); !errors.Is(err, soidc.ErrInvalidArgument) {
		t.Errorf("empty name: %v", err)
	}
	if _, err := soidc.ClaimAt([]byte(`{"a":1,"a":2}`), "a"); !errors.Is(err, soidc.ErrInvalidArgument) {
		t.Errorf("repeated member: %v", err)
	}
}
