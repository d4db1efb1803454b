package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func testIssuer(t *testing.T) string {
	issuer := os.Getenv("SOIDC_TEST_ISSUER")
	if issuer == "" {
		if os.Getenv("SOIDC_REQUIRE_PROVIDER") != "" {
			t.Fatal("SOIDC_TEST_ISSUER is not set")
		}
		t.Skip("SOIDC_TEST_ISSUER is not set; run under tests/with-provider.sh")
	}
	return issuer
}

func TestRun(t *testing.T) {
	issuer := testIssuer(t)
	var out bytes.Buffer
	err := run(&out, issuer, "conf-basic", "conf-basic-secret-0123456789abcdef", "api:read", "https://api.soidc.test", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"token_type    Bearer", "a JWT", "validated for audience https://api.soidc.test", "client_id     conf-basic", "scope         api:read"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunWrongSecret(t *testing.T) {
	issuer := testIssuer(t)
	err := run(&bytes.Buffer{}, issuer, "conf-basic", "not-the-secret", "", "", 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "invalid_client") || strings.Contains(err.Error(), "not-the-secret") {
		t.Fatalf("got %v, want invalid_client without the secret", err)
	}
}
