package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
)

// The test provider's fixed client and user (tests/provider/README.md).
const (
	clientID     = "conf-basic"
	clientSecret = "conf-basic-secret-0123456789abcdef"
	redirectURI  = "http://127.0.0.1:9/callback"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func providerClient(t *testing.T) *soidc.Client {
	t.Helper()
	issuer := os.Getenv("SOIDC_TEST_ISSUER")
	if issuer == "" {
		if os.Getenv("SOIDC_REQUIRE_PROVIDER") != "" {
			t.Fatal("SOIDC_TEST_ISSUER is not set")
		}
		t.Skip("SOIDC_TEST_ISSUER is not set; run under tests/with-provider.sh")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := soidc.NewClientFromIssuerURL(ctx, issuer, soidc.Config{ClientID: clientID, ClientSecret: clientSecret, RedirectURI: redirectURI, Scope: "openid"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// login does GET /login and drives the provider's login and consent pages as
// alice with tests/provider/browser.mjs (as bindings/go's tests do); it returns
// the session cookie and the form POST the provider's page would send.
func login(t *testing.T, h http.Handler) (cookie *http.Cookie, action, body string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/login", nil))
	if w.Code != http.StatusFound {
		t.Fatalf("GET /login: %d %s", w.Code, w.Body.String())
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != sessionCookie || cookies[0].Value == "" {
		t.Fatalf("GET /login: cookies %v", cookies)
	}
	location := w.Header().Get("Location")
	u, err := url.Parse(location)
	if err != nil || u.Query().Get("response_mode") != "form_post" && u.Query().Get("request_uri") == "" {
		t.Fatalf("GET /login: Location %q is not a form_post authorization request", location)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	browser, _ := filepath.Abs(filepath.Join("..", "..", "..", "..", "tests", "provider", "browser.mjs"))
	cmd := exec.CommandContext(ctx, "node", browser, location, "alice", "alice-password")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("browser.mjs: %v: %s", err, stderr.String())
	}
	// browser.mjs prints "POST <action> <body>" for a form_post answer.
	parts := strings.SplitN(strings.TrimSpace(string(out)), " ", 3)
	if len(parts) != 3 || parts[0] != "POST" {
		t.Fatalf("not a form_post answer: %q", out)
	}
	return cookies[0], parts[1], parts[2]
}

func callback(h http.Handler, cookie *http.Cookie, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/callback", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != nil {
		r.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestLoginWithFormPostAgainstProvider(t *testing.T) {
	h := routes(providerClient(t), quietLog())
	cookie, action, body := login(t, h)
	if action != redirectURI {
		t.Fatalf("form_post action %q, want %q", action, redirectURI)
	}
	w := callback(h, cookie, body)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `<code id="sub">alice</code>`) {
		t.Fatalf("POST /callback: %d %q", w.Code, w.Body.String())
	}
	// The session is used once: the same POST again is refused.
	if w := callback(h, cookie, body); w.Code != http.StatusBadRequest {
		t.Fatalf("replayed POST /callback: %d %q", w.Code, w.Body.String())
	}
}

func TestTamperedStateIsRefusedAgainstProvider(t *testing.T) {
	h := routes(providerClient(t), quietLog())
	cookie, _, body := login(t, h)
	form, err := url.ParseQuery(body)
	if err != nil || form.Get("state") == "" || form.Get("code") == "" {
		t.Fatalf("form_post body %q: %v", body, err)
	}
	form.Set("state", "tampered-"+form.Get("state"))
	if w := callback(h, cookie, form.Encode()); w.Code != http.StatusBadRequest || strings.Contains(w.Body.String(), "alice") {
		t.Fatalf("tampered POST /callback: %d %q", w.Code, w.Body.String())
	}
}

func TestCallbackWithoutSession(t *testing.T) {
	h := routes(providerClient(t), quietLog())
	if w := callback(h, nil, "code=x&state=y"); w.Code != http.StatusBadRequest {
		t.Fatalf("POST /callback without a session: %d", w.Code)
	}
	if w := callback(h, &http.Cookie{Name: sessionCookie, Value: "unknown"}, "code=x&state=y"); w.Code != http.StatusBadRequest {
		t.Fatalf("POST /callback with an unknown session: %d", w.Code)
	}
}
