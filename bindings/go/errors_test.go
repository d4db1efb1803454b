package soidc_test

import (
	"errors"
	"strings"
	"testing"

	soidc "github.com/soidc/soidc/bindings/go"
)

var sentinels = map[soidc.Status]error{
	soidc.StatusInvalidArgument:       soidc.ErrInvalidArgument,
	soidc.StatusNetwork:               soidc.ErrNetwork,
	soidc.StatusHTTP:                  soidc.ErrHTTP,
	soidc.StatusProtocol:              soidc.ErrProtocol,
	soidc.StatusProvider:              soidc.ErrProvider,
	soidc.StatusValidation:            soidc.ErrValidation,
	soidc.StatusUnsupportedByProvider: soidc.ErrUnsupportedByProvider,
	soidc.StatusAuthenticationFailed:  soidc.ErrAuthenticationFailed,
	soidc.StatusPending:               soidc.ErrPending,
	soidc.StatusInternal:              soidc.ErrInternal,
}

func TestSentinelsMatchTheirStatusOnly(t *testing.T) {
	for status := range sentinels {
		err := error(&soidc.Error{Status: status, Message: "x"})
		wrapped := errors.Join(errors.New("context"), err)
		for other, sentinel := range sentinels {
			if got, want := errors.Is(wrapped, sentinel), other == status; got != want {
				t.Errorf("errors.Is(%v, %v) = %v", err, sentinel, got)
			}
		}
		var e *soidc.Error
		if !errors.As(wrapped, &e) || e.Status != status {
			t.Errorf("errors.As for %v failed", status)
		}
		if errors.Is(err, soidc.ErrClosed) {
			t.Errorf("%v is ErrClosed", err)
		}
	}
	// Two ordinary errors with the same status are not "the same error".
	if errors.Is(&soidc.Error{Status: soidc.StatusHTTP}, &soidc.Error{Status: soidc.StatusHTTP}) {
		t.Error("a non-sentinel target matched")
	}
}

func TestWrongPassword(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	const wrong = "not-alices-password-4711"
	_, err := c.DirectAccessGrant(ctx, "alice", wrong, "openid", nil)
	e := mustErr(t, err, soidc.ErrProvider)
	if errors.Is(err, soidc.ErrValidation) || errors.Is(err, soidc.ErrHTTP) {
		t.Fatalf("%v matches another sentinel", err)
	}
	if e.ProviderError != "invalid_grant" || e.HTTPStatus != 400 || e.ErrorDescription == "" || len(e.Raw) == 0 {
		t.Fatalf("unexpected provider error %+v", e)
	}
	if !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("Error() does not name the provider error: %q", err.Error())
	}
	if strings.Contains(err.Error(), wrong) || strings.Contains(string(e.Raw), wrong) {
		t.Fatal("the password leaked into the error")
	}
}

func TestWrongClientSecret(t *testing.T) {
	ctx := testContext(t)
	c := newClient(t, soidc.Config{ClientID: basicID, ClientSecret: "wrong-secret-value-123"})
	_, err := c.ClientCredentialsGrant(ctx, "", nil)
	if e := mustErr(t, err, soidc.ErrProvider); e.ProviderError != "invalid_client" {
		t.Fatalf("want invalid_client, got %+v", e)
	}
	if strings.Contains(err.Error(), "wrong-secret-value-123") {
		t.Fatal("the secret leaked into the error")
	}
}

func TestWrongNonce(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	// soidc checks the nonce option of the password grant but does not send it,
	// so it goes out as an extra parameter (the test provider echoes it).
	tokens, err := c.DirectAccessGrant(ctx, "alice", alicePassword, "openid",
		&soidc.GrantOptions{Nonce: "nonce-4711", ExtraParams: map[string]any{"nonce": "nonce-4711"}})
	if err != nil {
		t.Fatal(err)
	}
	if tokens.IDTokenClaims.Nonce != "nonce-4711" {
		t.Fatalf("nonce %q", tokens.IDTokenClaims.Nonce)
	}
	if _, err := c.DecodeIDToken(ctx, tokens.IDToken, &soidc.IDTokenOptions{Nonce: "nonce-4711"}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DecodeIDToken(ctx, tokens.IDToken, &soidc.IDTokenOptions{Nonce: "another-nonce"})
	if e := mustErr(t, err, soidc.ErrValidation); !strings.Contains(e.Message, "nonce") {
		t.Fatalf("message does not name the nonce: %q", e.Message)
	}
}
