package soidc_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
)

// The claim-rule and acr options of the device poll, UserInfo and form_post
// reach the library (the JSON each sends) and are applied to real answers of
// the provider: a passing rule returns the tokens or claims, a failing one is
// ErrValidation with the rule named and no claim value in the message.
func TestRequireClaimsOnDeviceUserinfoAndFormPost(t *testing.T) {
	hour := time.Hour
	wire := []struct {
		opts any
		want string
	}{
		{soidc.UserinfoOptions{RequireClaims: []soidc.ClaimRule{{Claim: "sub", Op: soidc.ClaimExists}}},
			`{"require_claims":[{"claim":"sub","op":"exists"}]}`},
		{soidc.AuthCodeFormPostOptions{MaxAge: &hour, RequireClaims: []soidc.ClaimRule{{Claim: "sub", Op: soidc.ClaimEq, Value: "alice", Name: "alice"}}},
			`{"max_age":3600,"require_claims":[{"claim":"sub","op":"eq","value":"alice","name":"alice"}]}`},
	}
	for _, w := range wire {
		b, err := json.Marshal(w.opts)
		if err != nil || string(b) != w.want {
			t.Errorf("%T: %s (%v), want %s", w.opts, b, err, w.want)
		}
	}

	ctx := testContext(t)
	c := basicClient(t)
	verified := []soidc.ClaimRule{{Claim: "email_verified", Op: soidc.ClaimEq, Value: true}}
	bob := []soidc.ClaimRule{{Claim: "email", Op: soidc.ClaimEq, Value: "bob@example.test", Name: "bob only"}}
	failedRule := func(what string, err error, rule string) {
		t.Helper()
		e := mustErr(t, err, soidc.ErrValidation)
		if e.Reason != soidc.ReasonClaimRule || e.Rule != rule || strings.Contains(e.Message, "alice@example.test") {
			t.Errorf("%s: reason %q rule %q message %q", what, e.Reason, e.Rule, e.Message)
		}
	}

	// UserInfo.
	tokens, err := c.DirectAccessGrant(ctx, "alice", alicePassword, "openid email", nil)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.FetchUserinfo(ctx, tokens.AccessToken, &soidc.UserinfoOptions{RequireClaims: verified})
	skipWithoutRequireClaims(t, err)
	if err != nil || info.Email != "alice@example.test" {
		t.Fatalf("userinfo, passing rule: %+v %v", info, err)
	}
	_, err = c.FetchUserinfo(ctx, tokens.AccessToken, &soidc.UserinfoOptions{RequireClaims: bob})
	failedRule("userinfo", err, "bob only")

	// Device flow: approved before the first poll, so one poll returns the tokens.
	device := func(opts func(*soidc.DevicePollOptions)) (*soidc.TokenResponse, error) {
		t.Helper()
		start, err := c.DeviceAuthorizationStart(ctx, "openid email", nil)
		if err != nil {
			t.Fatal(err)
		}
		postJSON(t, "/test/device/approve", map[string]string{"user_code": start.UserCode, "user": "alice"}, nil)
		o := start.PollOptions(false)
		opts(o)
		return c.DeviceAuthorizationPoll(ctx, start.DeviceCode, o)
	}
	got, err := device(func(o *soidc.DevicePollOptions) { o.RequireClaims = verified })
	if err != nil || got.IDTokenClaims == nil || got.IDTokenClaims.Subject != "alice" {
		t.Fatalf("device, passing rule: %+v %v", got, err)
	}
	_, err = device(func(o *soidc.DevicePollOptions) { o.RequireClaims = bob })
	failedRule("device", err, "bob only")
	_, err = device(func(o *soidc.DevicePollOptions) { o.ACRValuesAllowed = []string{"urn:soidc:test:never"} })
	if e := mustErr(t, err, soidc.ErrValidation); e.Reason != soidc.ReasonACR {
		t.Errorf("device, acr not allowed: reason %q, %s", e.Reason, e.Message)
	}

	// form_post.
	formPost := func(opts *soidc.AuthCodeFormPostOptions) (*soidc.TokenResponse, error) {
		t.Helper()
		start, err := c.AuthCodeStart(ctx, &soidc.AuthCodeStartOptions{ResponseMode: "form_post"})
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.SplitN(browse(t, start.URL), " ", 3)
		if len(parts) != 3 || parts[0] != "POST" {
			t.Fatalf("not a form_post: %q", parts)
		}
		return c.AuthCodeHandleFormPost(ctx, "application/x-www-form-urlencoded", parts[2], start.FormPostState("form_post"), opts)
	}
	got, err = formPost(&soidc.AuthCodeFormPostOptions{RequireClaims: []soidc.ClaimRule{{Claim: "sub", Op: soidc.ClaimEq, Value: "alice"}}})
	if err != nil || got.IDTokenClaims == nil || got.IDTokenClaims.Subject != "alice" {
		t.Fatalf("form_post, passing rule: %+v %v", got, err)
	}
	_, err = formPost(&soidc.AuthCodeFormPostOptions{RequireClaims: []soidc.ClaimRule{{Claim: "sub", Op: soidc.ClaimEq, Value: "bob", Name: "bob"}}})
	failedRule("form_post", err, "bob")
}
