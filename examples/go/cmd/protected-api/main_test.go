package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
	"github.com/soidc/soidc/bindings/go/soidchttp"
)

const audience = "https://api.soidc.test"

// fakeDecoder answers every token with err.
type fakeDecoder struct{ err error }

func (f fakeDecoder) DecodeAccessToken(context.Context, string, *soidc.AccessTokenOptions) (*soidc.AccessTokenClaims, error) {
	return nil, f.err
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type exchange struct {
	status    int
	challenge string
	body      map[string]any
}

func call(t *testing.T, h http.Handler, method, path, authorization string) exchange {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	ex := exchange{status: w.Code, challenge: w.Header().Get("WWW-Authenticate")}
	if err := json.Unmarshal(w.Body.Bytes(), &ex.body); err != nil {
		t.Fatalf("%s %s: body %q: %v", method, path, w.Body.String(), err)
	}
	return ex
}

func TestUnavailableKeysAnswer503(t *testing.T) {
	h := routes(fakeDecoder{&soidc.Error{Status: soidc.StatusNetwork, Message: "connect refused"}}, audience, quietLog())
	if ex := call(t, h, "GET", "/api/hello", "Bearer abc.def.ghi"); ex.status != http.StatusServiceUnavailable || ex.challenge != "" {
		t.Fatalf("got %+v", ex)
	}
}

// A client that has not fetched the provider's keys yet, validating with
// CacheOnly: soidc reports reason no_keys_cached, which is answered 503 with
// Retry-After (the token was not checked), not 401. Once the keys are
// fetched, the same token passes.
func TestNoKeysYetAnswer503AgainstProvider(t *testing.T) {
	issuer := os.Getenv("SOIDC_TEST_ISSUER")
	if issuer == "" {
		if os.Getenv("SOIDC_REQUIRE_PROVIDER") != "" {
			t.Fatal("SOIDC_TEST_ISSUER is not set")
		}
		t.Skip("SOIDC_TEST_ISSUER is not set; run under tests/with-provider.sh")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	caller, err := soidc.NewClientFromIssuerURL(ctx, issuer, soidc.Config{ClientID: "conf-basic", ClientSecret: "conf-basic-secret-0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	meta, err := caller.ProviderConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// From the metadata alone: no discovery, and no keys fetched.
	api, err := soidc.NewClientFromIssuerConfig(ctx, meta.Raw, soidc.Config{ClientID: "protected-api"})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	tokens, err := caller.ClientCredentialsGrant(ctx, "api:read", &soidc.GrantOptions{Resource: []string{audience}})
	if err != nil {
		t.Fatal(err)
	}

	h := routesWith(&soidchttp.Middleware{Client: api, Audience: audience, Realm: "protected-api", Timeout: 5 * time.Second, CacheOnly: true, Log: quietLog()})
	r := httptest.NewRequest("GET", "/api/hello", nil)
	r.Header.Set("Authorization", "Bearer "+tokens.AccessToken)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || w.Header().Get("WWW-Authenticate") != "" {
		t.Fatalf("before the first key fetch: got %d, Retry-After %q, WWW-Authenticate %q, body %s",
			w.Code, w.Header().Get("Retry-After"), w.Header().Get("WWW-Authenticate"), w.Body.String())
	}

	if _, err := api.ProviderKeys(ctx, nil); err != nil {
		t.Fatal(err)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("after the key fetch: got %d %s", w.Code, w.Body.String())
	}
}

func TestAgainstProvider(t *testing.T) {
	issuer := os.Getenv("SOIDC_TEST_ISSUER")
	if issuer == "" {
		if os.Getenv("SOIDC_REQUIRE_PROVIDER") != "" {
			t.Fatal("SOIDC_TEST_ISSUER is not set")
		}
		t.Skip("SOIDC_TEST_ISSUER is not set; run under tests/with-provider.sh")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The API's own client, and a caller (conf-basic) that gets tokens for it.
	api, err := soidc.NewClientFromIssuerURL(ctx, issuer, soidc.Config{ClientID: "protected-api"})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	caller, err := soidc.NewClientFromIssuerURL(ctx, issuer, soidc.Config{ClientID: "conf-basic", ClientSecret: "conf-basic-secret-0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	token := func(scope string) string {
		tokens, err := caller.ClientCredentialsGrant(ctx, scope, &soidc.GrantOptions{Resource: []string{audience}})
		if err != nil {
			t.Fatal(err)
		}
		return tokens.AccessToken
	}
	read, readWrite := token("api:read"), token("api:read api:write")
	idTokens, err := caller.DirectAccessGrant(ctx, "alice", "alice-password", "openid", nil)
	if err != nil {
		t.Fatal(err)
	}

	h := routes(api, audience, quietLog())
	tests := []struct {
		name, method, path, authorization string
		status                            int
		challenge                         string // a prefix of WWW-Authenticate
	}{
		{"open route", "GET", "/healthz", "", 200, ""},
		{"no credentials", "GET", "/api/hello", "", 401, `Bearer realm="protected-api", scope="api:read"`},
		{"another scheme", "GET", "/api/hello", "Basic Y29uZjpzZWNyZXQ=", 401, `Bearer realm="protected-api", scope="api:read"`},
		{"malformed header", "GET", "/api/hello", "Bearer two words", 400, `Bearer realm="protected-api", error="invalid_request"`},
		{"garbage token", "GET", "/api/hello", "Bearer abc.def.ghi", 401, `Bearer realm="protected-api", error="invalid_token"`},
		{"an ID token", "GET", "/api/hello", "Bearer " + idTokens.IDToken, 401, `Bearer realm="protected-api", error="invalid_token"`},
		{"read token, read route", "GET", "/api/hello", "Bearer " + read, 200, ""},
		{"lower-case scheme", "GET", "/api/hello", "bearer " + read, 200, ""},
		{"read token, write route", "POST", "/api/notes", "Bearer " + read, 403,
			`Bearer realm="protected-api", error="insufficient_scope", error_description="the access token does not grant access to this resource", scope="api:write"`},
		{"DPoP scheme without a proof", "GET", "/api/hello", "DPoP " + read, 401, `Bearer realm="protected-api"`},
		{"write token, write route", "POST", "/api/notes", "Bearer " + readWrite, 201, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ex := call(t, h, tc.method, tc.path, tc.authorization)
			if ex.status != tc.status || !strings.HasPrefix(ex.challenge, tc.challenge) || (tc.challenge == "" && ex.challenge != "") {
				t.Fatalf("got %d %q %v, want %d %q", ex.status, ex.challenge, ex.body, tc.status, tc.challenge)
			}
			if tc.status == 401 && strings.HasSuffix(tc.challenge, `scope="api:read"`) && ex.challenge != tc.challenge {
				t.Fatalf("an error code without credentials: %q", ex.challenge)
			}
		})
	}
	ex := call(t, h, "GET", "/api/hello", "Bearer "+read)
	if ex.body["message"] != "hello, conf-basic" || ex.body["client_id"] != "conf-basic" {
		t.Fatalf("unexpected body %v", ex.body)
	}
}

// providerCount reads one of the test provider's request counters
// (/test/jwks-fetch-count, /test/discovery-fetch-count).
func providerCount(t *testing.T, issuer, counter string) int {
	t.Helper()
	resp, err := http.Get(issuer + "/test/" + counter)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ Count int }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v.Count
}

// A replica with -state-file: the first one discovers and writes the file; the
// next one starts from it without any request to the provider and validates
// tokens; a damaged file is refused and replaced by a new discovery.
func TestReplicaStartsFromStateFile(t *testing.T) {
	issuer := os.Getenv("SOIDC_TEST_ISSUER")
	if issuer == "" {
		if os.Getenv("SOIDC_REQUIRE_PROVIDER") != "" {
			t.Fatal("SOIDC_TEST_ISSUER is not set")
		}
		t.Skip("SOIDC_TEST_ISSUER is not set; run under tests/with-provider.sh")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	path := t.TempDir() + "/soidc-state.json"
	counts := func() (int, int) {
		return providerCount(t, issuer, "discovery-fetch-count"), providerCount(t, issuer, "jwks-fetch-count")
	}

	// First replica: no file yet.
	d0, j0 := counts()
	first, source, err := newClient(ctx, quietLog(), issuer, "protected-api", path)
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	d1, j1 := counts()
	if source != "discovery" || d1-d0 != 1 || j1-j0 != 1 {
		t.Fatalf("first replica: source %q, %d discovery and %d JWKS requests, want discovery, 1 and 1", source, d1-d0, j1-j0)
	}
	written, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(written, &doc); err != nil || doc["soidc_state"] != float64(1) || doc["issuer"] != issuer || doc["jwks"] == nil {
		t.Fatalf("state file %s: %v", written, err)
	}

	// Second replica: from the file, no request at all, and it validates tokens.
	second, source, err := newClient(ctx, quietLog(), issuer, "protected-api", path)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	caller, err := soidc.NewClientFromIssuerURL(ctx, issuer, soidc.Config{ClientID: "conf-basic", ClientSecret: "conf-basic-secret-0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	tokens, err := caller.ClientCredentialsGrant(ctx, "api:read", &soidc.GrantOptions{Resource: []string{audience}})
	if err != nil {
		t.Fatal(err)
	}
	d2, j2 := counts()
	ex := call(t, routes(second, audience, quietLog()), "GET", "/api/hello", "Bearer "+tokens.AccessToken)
	d3, j3 := counts()
	// (caller's own discovery happened between d1 and d2)
	if source != "state" || ex.status != http.StatusOK || d3 != d2 || j3 != j2 {
		t.Fatalf("second replica: source %q, status %d %v, requests after start: %d discovery, %d JWKS", source, ex.status, ex.body, d3-d2, j3-j2)
	}
	if d2-d1 != 1 || j2 != j1 {
		t.Fatalf("second replica start: %d discovery (caller's only: want 1) and %d JWKS requests (want 0)", d2-d1, j2-j1)
	}
	after, err := os.ReadFile(path)
	if err != nil || string(after) != string(written) {
		t.Fatalf("the state file changed although the state was fresh: %v", err)
	}

	// A truncated file is refused and replaced.
	if err := os.WriteFile(path, written[:len(written)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	third, source, err := newClient(ctx, quietLog(), issuer, "protected-api", path)
	if err != nil {
		t.Fatal(err)
	}
	third.Close()
	replaced, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if source != "discovery" || json.Unmarshal(replaced, &doc) != nil {
		t.Fatalf("truncated file: source %q, file now %q", source, replaced)
	}

	// A state of another issuer is refused too (never used for this one).
	foreign := strings.Replace(string(written), `"issuer":"`+issuer+`"`, `"issuer":"https://other.soidc.test"`, 1)
	if foreign == string(written) {
		t.Fatal("could not rewrite the issuer of the state")
	}
	if err := os.WriteFile(path, []byte(foreign), 0o600); err != nil {
		t.Fatal(err)
	}
	fourth, source, err := newClient(ctx, quietLog(), issuer, "protected-api", path)
	if err != nil {
		t.Fatal(err)
	}
	fourth.Close()
	if source != "discovery" {
		t.Fatalf("foreign-issuer state: source %q, want discovery", source)
	}
}
