package soidc_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	soidc "github.com/soidc/soidc/bindings/go"
)

// The caller's own claim types.
type apiClaims struct {
	Issuer   string         `json:"iss"`
	Subject  string         `json:"sub"`
	ClientID string         `json:"client_id"`
	Scope    string         `json:"scope"`
	Expiry   int64          `json:"exp"`
	Audience soidc.Audience `json:"aud"`
}

type personClaims struct {
	Subject       string `json:"sub"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Nonce         string `json:"nonce"`
}

// DecodeAccessTokenAs validates a real token of the provider and decodes it
// into the caller's struct; a validation failure stays the library's error.
func TestDecodeAccessTokenAs(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	token := apiToken(t, c, "api:read")
	opts := &soidc.AccessTokenOptions{Audience: apiResource, RequiredScopes: []string{"api:read"}}
	claims, err := soidc.DecodeAccessTokenAs[apiClaims](ctx, c, token, opts)
	if err != nil {
		t.Fatal(err)
	}
	if claims.Issuer != issuer(t) || claims.ClientID != basicID || claims.Scope != "api:read" ||
		claims.Expiry == 0 || !claims.Audience.Contains(apiResource) {
		t.Fatalf("typed claims: %+v", claims)
	}
	// The same as through Claims.Decode on the library's own type.
	generic, err := c.DecodeAccessToken(ctx, token, opts)
	if err != nil {
		t.Fatal(err)
	}
	var again apiClaims
	if err := generic.Decode(&again); err != nil || again.ClientID != claims.ClientID || again.Expiry != claims.Expiry {
		t.Fatalf("Decode: %+v, %v", again, err)
	}
	// A map works too.
	m, err := soidc.ClaimsAs[map[string]any](generic)
	if err != nil || (*m)["jti"] != generic.JWTID {
		t.Fatalf("ClaimsAs map: %v %v", m, err)
	}

	// Refused tokens: the library's validation error, nothing decoded.
	_, err = soidc.DecodeAccessTokenAs[apiClaims](ctx, c, token, &soidc.AccessTokenOptions{Audience: apiResource, RequiredScopes: []string{"api:write"}})
	if e := mustErr(t, err, soidc.ErrValidation); e.Reason != soidc.ReasonScope {
		t.Fatalf("missing scope: %+v", e)
	}
	_, err = soidc.DecodeAccessTokenAs[apiClaims](ctx, c, token, &soidc.AccessTokenOptions{Audience: "https://other.example"})
	if e := mustErr(t, err, soidc.ErrValidation); e.Reason != soidc.ReasonAudience {
		t.Fatalf("other audience: %+v", e)
	}

	// Claims that do not fit the caller's type: ErrInvalidArgument, the message names the field.
	type wrongShape struct {
		Scope []string `json:"scope"` // a string in the token
	}
	_, err = soidc.DecodeAccessTokenAs[wrongShape](ctx, c, token, opts)
	if e := mustErr(t, err, soidc.ErrInvalidArgument); !strings.Contains(e.Message, "scope") {
		t.Fatalf("wrong shape: %+v", e)
	}
	// A zero value has nothing to decode.
	var none soidc.AccessTokenClaims
	if err := none.Decode(&again); !errors.Is(err, soidc.ErrInvalidArgument) {
		t.Fatalf("zero claims: %v", err)
	}
}

// DecodeIDTokenAs and Userinfo.Decode with the provider's ID token and UserInfo.
func TestDecodeIDTokenAsAndUserinfo(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	tokens, err := c.DirectAccessGrant(ctx, "alice", alicePassword, "openid email", nil)
	if err != nil {
		t.Fatal(err)
	}
	person, err := soidc.DecodeIDTokenAs[personClaims](ctx, c, tokens.IDToken, &soidc.IDTokenOptions{IgnoreNonce: true})
	if err != nil {
		t.Fatal(err)
	}
	if person.Subject != "alice" || person.Email != "alice@example.test" || !person.EmailVerified {
		t.Fatalf("ID token as personClaims: %+v", person)
	}
	info, err := c.FetchUserinfo(ctx, tokens.AccessToken, &soidc.UserinfoOptions{ExpectedSub: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	var fromInfo personClaims
	if err := info.Decode(&fromInfo); err != nil || fromInfo.Email != person.Email {
		t.Fatalf("userinfo: %+v %v", fromInfo, err)
	}
	// A token that does not validate decodes nothing.
	if _, err := soidc.DecodeIDTokenAs[personClaims](ctx, c, tokens.IDToken+"x", &soidc.IDTokenOptions{IgnoreNonce: true}); !errors.Is(err, soidc.ErrValidation) {
		t.Fatalf("bad signature: %v", err)
	}
}

// ClaimRule marshals to the shared require_claims rule shape, without value
// and name when unset (the library refuses null).
func TestClaimRuleJSON(t *testing.T) {
	rules := []soidc.ClaimRule{
		{Claim: "realm_access.roles", Op: soidc.ClaimContains, Value: "admin", Name: "admins"},
		{Claim: `https://example\.com/claims.tenant`, Op: soidc.ClaimExists},
		{Claim: "/email_verified", Op: soidc.ClaimEq, Value: false},
	}
	b, err := json.Marshal(soidc.AccessTokenOptions{Audience: "a", RequireClaims: rules})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"audience":"a","require_claims":[{"claim":"realm_access.roles","op":"contains","value":"admin","name":"admins"},` +
		`{"claim":"https://example\\.com/claims.tenant","op":"exists"},{"claim":"/email_verified","op":"eq","value":false}]}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}
