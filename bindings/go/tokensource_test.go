package soidc_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
	"github.com/soidc/soidc/bindings/go/soidchttp"
)

// refreshGrants counts the provider's refresh token grants so far.
func refreshGrants(t *testing.T) int {
	t.Helper()
	resp, err := http.Get(issuer(t) + "/test/requests")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reqs []struct {
		GrantType string `json:"grant_type"`
		Status    int    `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&reqs); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range reqs {
		if r.GrantType == "refresh_token" && r.Status == 200 {
			n++
		}
	}
	return n
}

// testAPI is a resource server protected by soidchttp with the provider's
// keys. Tokens listed in revoked are answered 401 invalid_token by the real
// middleware (their Authorization header is replaced by a wrong token), as
// an API that learned of a revocation would.
type testAPI struct {
	server  *httptest.Server
	mu      sync.Mutex
	revoked map[string]bool
	seen    []string // access tokens of requests that passed
	bodies  []string // bodies of every request, in order
}

func newTestAPI(t *testing.T) *testAPI {
	api := newClient(t, soidc.Config{ClientID: "protected-api"})
	a := &testAPI{revoked: map[string]bool{}}
	mw := &soidchttp.Middleware{Client: api, Audience: apiResource, Realm: "test-api", Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	protected := mw.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, _ := soidchttp.Token(r.Context())
		a.mu.Lock()
		a.seen = append(a.seen, token)
		a.mu.Unlock()
		_, _ = w.Write([]byte(soidchttp.AccessTokenClaims(r.Context()).Subject))
	}), soidchttp.Scopes("api:read"))
	a.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.bodies = append(a.bodies, string(body))
		if a.revoked[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
			r.Header.Set("Authorization", "Bearer revoked.token.value")
		}
		a.mu.Unlock()
		protected.ServeHTTP(w, r)
	}))
	t.Cleanup(a.server.Close)
	return a
}

func (a *testAPI) revoke(token string) {
	a.mu.Lock()
	a.revoked[token] = true
	a.mu.Unlock()
}

func (a *testAPI) last() (string, []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen[len(a.seen)-1], append([]string(nil), a.bodies...)
}

// A Transport over a RefreshTokenSource: an expired token is refreshed
// before the request; a token the API refuses (401 invalid_token) is
// refreshed once and the request repeated with its body; a body that cannot
// be replayed leaves the 401 to the caller.
func TestRefreshingTransport(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	api := newTestAPI(t)
	first, err := c.DirectAccessGrant(ctx, "alice", alicePassword, "openid offline_access api:read", &soidc.GrantOptions{Resource: []string{apiResource}})
	if err != nil {
		t.Fatal(err)
	}
	initial := first.Token()
	if initial.RefreshToken == "" || initial.Expiry.IsZero() || initial.IDToken == "" {
		t.Fatalf("no refresh token, expiry or ID token: %+v", first)
	}
	initial.Expiry = time.Now().Add(10 * time.Second) // within the 30 s margin: renewed before use
	source := c.RefreshTokenSource(initial, &soidc.RefreshOptions{Resource: []string{apiResource}})
	httpClient := &http.Client{Transport: &soidc.Transport{Source: source}}
	get := func() *http.Response {
		t.Helper()
		resp, err := httpClient.Get(api.server.URL + "/hello")
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	before := refreshGrants(t)
	resp := get()
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	token1, _ := api.last()
	if resp.StatusCode != 200 || string(body) != "alice" || token1 == initial.AccessToken {
		t.Fatalf("first request: %d %q, token renewed: %v", resp.StatusCode, body, token1 != initial.AccessToken)
	}
	if n := refreshGrants(t) - before; n != 1 {
		t.Fatalf("%d refresh grants, want 1", n)
	}
	// Still valid: no new grant.
	resp = get()
	resp.Body.Close()
	if token, _ := api.last(); resp.StatusCode != 200 || token != token1 || refreshGrants(t)-before != 1 {
		t.Fatalf("second request: %d, same token %v, grants %d", resp.StatusCode, token == token1, refreshGrants(t)-before)
	}

	// The API refuses the token: one refresh, the POST repeated with its body.
	api.revoke(token1)
	req, _ := http.NewRequestWithContext(ctx, "POST", api.server.URL+"/notes", strings.NewReader("a note"))
	resp, err = httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	token2, bodies := api.last()
	if resp.StatusCode != 200 || token2 == token1 || refreshGrants(t)-before != 2 {
		t.Fatalf("after a refusal: %d, renewed %v, grants %d", resp.StatusCode, token2 != token1, refreshGrants(t)-before)
	}
	if n := len(bodies); n < 2 || bodies[n-1] != "a note" || bodies[n-2] != "a note" {
		t.Fatalf("bodies: %q", bodies)
	}

	// Refused again with a body that cannot be replayed: the 401 stands, no refresh.
	api.revoke(token2)
	req, _ = http.NewRequestWithContext(ctx, "POST", api.server.URL+"/notes", io.NopCloser(strings.NewReader("once")))
	resp, err = httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(strings.Join(resp.Header.Values("WWW-Authenticate"), " "), `error="invalid_token"`) || refreshGrants(t)-before != 2 {
		t.Fatalf("unreplayable body: %d %q, grants %d", resp.StatusCode, resp.Header.Values("WWW-Authenticate"), refreshGrants(t)-before)
	}
	// The refresh token was kept (the provider does not rotate it for confidential clients).
	tok, err := source.Token(ctx)
	if err != nil || tok.RefreshToken != initial.RefreshToken || tok.IDToken == "" {
		t.Fatalf("source token: %+v %v", tok, err)
	}
}

// A refresh the provider refuses is the library's error; nothing is sent.
func TestRefreshTokenSourceRefused(t *testing.T) {
	c := basicClient(t)
	api := newTestAPI(t)
	source := c.RefreshTokenSource(&soidc.Token{AccessToken: "old", RefreshToken: "not-a-refresh-token", Expiry: time.Now()}, nil)
	_, err := (&http.Client{Transport: &soidc.Transport{Source: source}}).Get(api.server.URL)
	if e := mustErr(t, err, soidc.ErrProvider); e.ProviderError != "invalid_grant" {
		t.Fatalf("want invalid_grant, got %+v", e)
	}
	if _, bodies := api.lastBodies(); len(bodies) != 0 {
		t.Fatalf("a request was sent: %q", bodies)
	}
	noRefresh := c.RefreshTokenSource(&soidc.Token{AccessToken: "old", Expiry: time.Now()}, nil)
	if _, err := noRefresh.Token(testContext(t)); err == nil {
		t.Fatal("renewed without a refresh token")
	}
}

func (a *testAPI) lastBodies() (int, []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.seen), append([]string(nil), a.bodies...)
}

// Concurrent callers of a ClientCredentialsTokenSource share one grant: all
// get the same token (each grant issues a new one).
func TestClientCredentialsTokenSourceConcurrent(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	api := newTestAPI(t)
	source := c.ClientCredentialsTokenSource("api:read", &soidc.GrantOptions{Resource: []string{apiResource}})
	client := &http.Client{Transport: &soidc.Transport{Source: source}}
	var wg sync.WaitGroup
	tokens := make([]string, 8)
	statuses := make([]int, 8)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := source.Token(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			tokens[i] = tok.AccessToken
			resp, err := client.Get(api.server.URL)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i := range tokens {
		if tokens[i] == "" || tokens[i] != tokens[0] || statuses[i] != 200 {
			t.Fatalf("caller %d: status %d, same token %v", i, statuses[i], tokens[i] == tokens[0])
		}
	}
	// Invalidate renews; a stale Invalidate (of a replaced token) does not.
	source.Invalidate(tokens[0])
	next, err := source.Token(ctx)
	if err != nil || next.AccessToken == tokens[0] {
		t.Fatalf("after Invalidate: %v, renewed %v", err, next != nil && next.AccessToken != tokens[0])
	}
	source.Invalidate(tokens[0])
	if again, err := source.Token(ctx); err != nil || again.AccessToken != next.AccessToken {
		t.Fatalf("a stale Invalidate renewed the token: %v", err)
	}
}

// A DPoP-bound token: the Transport sends "Authorization: DPoP" with a fresh
// proof per request, and answers a use_dpop_nonce challenge (RFC 9449 §9) by
// repeating the request once with the server's nonce in the proof.
func TestTransportDPoPNonce(t *testing.T) {
	stub := newStubProvider(t)
	c := stub.client(t, soidc.Options{})
	var mu sync.Mutex
	var nonces, seen []string
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization")+" | "+r.Header.Get("DPoP")+" | "+string(body))
		mu.Unlock()
		if r.Header.Get("DPoP") != "proof-with-nonce-n1" {
			w.Header().Set("DPoP-Nonce", "n1")
			w.Header().Add("WWW-Authenticate", `Bearer realm="api"`)
			w.Header().Add("WWW-Authenticate", `DPoP realm="api", error="use_dpop_nonce", error_description="need a nonce", algs="ES256"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer server.Close()
	source := c.RefreshTokenSource(&soidc.Token{AccessToken: "bound-token", TokenType: "DPoP", Expiry: time.Now().Add(time.Hour)}, nil)
	transport := &soidc.Transport{Source: source, DPoPProof: func(method, url, token, nonce string) (string, error) {
		mu.Lock()
		nonces = append(nonces, method+" "+url+" "+token+" nonce="+nonce)
		mu.Unlock()
		if nonce == "" {
			return "proof-without-nonce", nil
		}
		return "proof-with-nonce-" + nonce, nil
	}}
	req, _ := http.NewRequest("POST", server.URL+"/notes?x=1", strings.NewReader("body"))
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"DPoP bound-token | proof-without-nonce | body",
		"DPoP bound-token | proof-with-nonce-n1 | body",
	}
	if resp.StatusCode != 200 || strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Fatalf("status %d, requests:\n%s", resp.StatusCode, strings.Join(seen, "\n"))
	}
	if nonces[0] != "POST "+server.URL+"/notes?x=1 bound-token nonce=" || nonces[1] != "POST "+server.URL+"/notes?x=1 bound-token nonce=n1" {
		t.Fatalf("proofs asked for: %q", nonces)
	}

	// Without a prover a bound token is an error, and nothing is sent.
	n := len(seen)
	mu.Unlock()
	_, err = (&http.Client{Transport: &soidc.Transport{Source: source}}).Get(server.URL)
	mu.Lock()
	if err == nil || !strings.Contains(err.Error(), "DPoP") || len(seen) != n {
		t.Fatalf("bound token without DPoPProof: %v, %d requests", err, len(seen)-n)
	}
}
