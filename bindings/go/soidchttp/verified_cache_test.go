package soidchttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
	"github.com/soidc/soidc/bindings/go/soidchttp"
	"github.com/soidc/soidc/bindings/go/soidctest"
)

// changedSignature is token with one character of its signature changed (not the
// last, whose low bits may be padding).
func changedSignature(token string) string {
	i := len(token) - 10
	return token[:i] + flip(token[i]) + token[i+1:]
}

// The middleware with a client whose verified-token cache is on
// (Options.VerifiedCacheEntries): a token seen before is still refused, on what
// is a cache hit, when it has expired, is for another audience, lacks a scope,
// comes without its DPoP proof or with a replayed one, or its key has left the
// provider's JWKS.
func TestMiddlewareVerifiedCache(t *testing.T) {
	p := soidctest.New()
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	zero := time.Duration(0)
	if _, err := soidc.NewClientFromIssuerURL(ctx, p.Issuer(), soidc.Config{ClientID: "api",
		Options: soidc.Options{VerifiedCacheEntries: 1_000_001}}); !errors.Is(err, soidc.ErrInvalidArgument) {
		t.Fatalf("verified_cache_entries above the bound: %v", err)
	}
	c, err := soidc.NewClientFromIssuerURL(ctx, p.Issuer(), soidc.Config{ClientID: "api",
		Options: soidc.Options{VerifiedCacheEntries: 8, Leeway: &zero}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	quiet := quietLog()
	const base = "https://api.example.com"
	mw := &soidchttp.Middleware{Client: c, Audience: "https://api.soidc.test", BaseURL: base, Log: quiet}
	other := &soidchttp.Middleware{Client: c, Audience: "https://other.soidc.test", BaseURL: base, Log: quiet}
	read := mw.Require(http.HandlerFunc(echo), soidchttp.Scopes("notes:read"))
	write := mw.Require(http.HandlerFunc(echo), soidchttp.Scopes("notes:write"))
	otherAud := other.Require(http.HandlerFunc(echo))
	status := func(h http.Handler, authorization, proof string) int {
		r := httptest.NewRequest("GET", base+"/notes", nil)
		r.Header.Set("Authorization", authorization)
		if proof != "" {
			r.Header.Set("DPoP", proof)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	expect := func(name string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s: HTTP %d, want %d", name, got, want)
		}
	}

	tok := p.AccessToken(soidctest.Claims{"scope": "notes:read"})
	expect("valid token", status(read, "Bearer "+tok, ""), 200)
	expect("the same token again", status(read, "Bearer "+tok, ""), 200)
	expect("cached token, scope notes:write", status(write, "Bearer "+tok, ""), 403)
	expect("cached token, another audience", status(otherAud, "Bearer "+tok, ""), 401)
	expect("one signature character changed", status(read, "Bearer "+changedSignature(tok), ""), 401)

	// Expiry on a hit (leeway 0).
	exp := time.Now().Unix() + 2
	short := p.AccessToken(soidctest.Claims{"scope": "notes:read", "exp": exp})
	expect("short-lived token", status(read, "Bearer "+short, ""), 200)
	expect("short-lived token again", status(read, "Bearer "+short, ""), 200)
	for time.Now().Unix() < exp {
		time.Sleep(100 * time.Millisecond)
	}
	expect("the cached token once expired", status(read, "Bearer "+short, ""), 401)

	// DPoP: this request's proof is checked on a hit.
	key, otherKey := soidctest.NewDPoPKey(soidctest.ES256), soidctest.NewDPoPKey(soidctest.EdDSA)
	bound := p.BoundAccessToken(key, soidctest.Claims{"scope": "notes:read"})
	dpopSupported(t, c, bound, key.Proof("GET", "https://probe.example/", bound, nil))
	proof := key.Proof("GET", base+"/notes", bound, nil)
	expect("bound token with its proof", status(read, "DPoP "+bound, proof), 200)
	expect("the same proof again", status(read, "DPoP "+bound, proof), 401)
	expect("bound token without a proof", status(read, "DPoP "+bound, ""), 401)
	expect("bound token as Bearer", status(read, "Bearer "+bound, ""), 401)
	expect("a proof of another key", status(read, "DPoP "+bound, otherKey.Proof("GET", base+"/notes", bound, nil)), 401)
	expect("a fresh proof", status(read, "DPoP "+bound, key.Proof("GET", base+"/notes", bound, nil)), 200)

	// The key leaves the JWKS: the cached token is refused.
	p.RotateKeys(true)
	if _, err := c.ProviderKeys(ctx, &soidc.ProviderKeysOptions{ForceRefresh: true}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DecodeAccessToken(ctx, tok, &soidc.AccessTokenOptions{Audience: "https://api.soidc.test"})
	var e *soidc.Error
	if !errors.As(err, &e) || e.Reason != "unknown_kid" {
		t.Fatalf("a cached token whose key left the JWKS: %v", err)
	}
	expect("the same through the middleware", status(read, "Bearer "+tok, ""), 401)
	expect("a token of the new key", status(read, "Bearer "+p.AccessToken(soidctest.Claims{"scope": "notes:read"}), ""), 200)
}

// Many goroutines through one middleware whose client's cache (8 entries) is
// smaller than the set of valid tokens (24): every answer must be the one its
// token deserves, with the cache full and evicting (go test -race).
func TestMiddlewareVerifiedCacheConcurrent(t *testing.T) {
	p := soidctest.New()
	defer p.Close()
	c := stubAPIClient(t, p, soidc.Options{VerifiedCacheEntries: 8})
	mw := &soidchttp.Middleware{Client: c, Audience: "https://api.soidc.test",
		Log: quietLog()}
	h := mw.Require(http.HandlerFunc(echo), soidchttp.Scopes("notes:read"))
	valid := make([]string, 24)
	for i := range valid {
		valid[i] = p.AccessTokenAlg([]string{soidctest.RS256, soidctest.ES256, soidctest.EdDSA}[i%3],
			soidctest.Claims{"scope": "notes:read", "sub": fmt.Sprintf("user%d", i)})
	}
	invalid := []string{
		changedSignature(valid[0]),
		p.AccessToken(soidctest.Claims{"scope": "notes:read", "exp": time.Now().Unix() - 120}),
		p.AccessToken(soidctest.Claims{"scope": "notes:read", "aud": "https://other.soidc.test"}),
	}
	const goroutines, rounds = 8, 60
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*rounds)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				n := (g*rounds + i*7) % 30
				r := httptest.NewRequest("GET", "/notes", nil)
				w := httptest.NewRecorder()
				if n >= len(valid) {
					r.Header.Set("Authorization", "Bearer "+invalid[n%len(invalid)])
					h.ServeHTTP(w, r)
					if w.Code != 401 {
						errs <- fmt.Errorf("goroutine %d: invalid token %d: HTTP %d", g, n%len(invalid), w.Code)
					}
					continue
				}
				r.Header.Set("Authorization", "Bearer "+valid[n])
				h.ServeHTTP(w, r)
				var body struct {
					Sub string `json:"sub"`
				}
				_ = json.Unmarshal(w.Body.Bytes(), &body)
				if w.Code != 200 || body.Sub != fmt.Sprintf("user%d", n) {
					errs <- fmt.Errorf("goroutine %d: token %d: HTTP %d, sub %q", g, n, w.Code, body.Sub)
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
