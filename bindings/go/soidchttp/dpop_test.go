package soidchttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
	"github.com/soidc/soidc/bindings/go/soidchttp"
	"github.com/soidc/soidc/bindings/go/soidctest"
)

// dpopSupported skips a test when the library does not know the DPoP
// decode options yet (branch dpop-rs).
func dpopSupported(t *testing.T, c *soidc.Client, token, proof string) {
	t.Helper()
	_, err := c.DecodeAccessToken(context.Background(), token, &soidc.AccessTokenOptions{Audience: "https://api.soidc.test",
		DPoPProof: proof, HTTPMethod: "GET", HTTPURI: "https://probe.example/"})
	var e *soidc.Error
	if errors.As(err, &e) && e.Status == soidc.StatusInvalidArgument && strings.Contains(e.Message, "dpop_proof") {
		t.Skip("this library has no DPoP resource-server options yet: " + e.Message)
	}
}

// DPoP-bound tokens through the middleware, validated by the real library
// (RFC 9449 §4.3, §7.1): accepted with a right proof, refused with each
// wrong one, with the challenge RFC 9449 §7.1 gives.
func TestMiddlewareDPoP(t *testing.T) {
	p := soidctest.New()
	defer p.Close()
	c := stubAPIClient(t, p, soidc.Options{})
	key, other := soidctest.NewDPoPKey(soidctest.ES256), soidctest.NewDPoPKey(soidctest.EdDSA)
	bound := p.BoundAccessToken(key, soidctest.Claims{"scope": "notes:read"})
	unbound := p.AccessToken(soidctest.Claims{"scope": "notes:read"})
	dpopSupported(t, c, bound, key.Proof("GET", "https://probe.example/", bound, nil))

	const base = "https://api.example.com"
	var refusal string // the library's reason for the last refusal
	mw := &soidchttp.Middleware{Client: c, Audience: "https://api.soidc.test", BaseURL: base,
		Log: quietLog(),
		ErrorBody: func(w http.ResponseWriter, r *http.Request, f *soidchttp.Failure) {
			refusal = ""
			var e *soidc.Error
			if errors.As(f.Err, &e) {
				refusal = e.Reason
			}
			w.WriteHeader(f.Status)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": f.Code})
		}}
	h := mw.Require(http.HandlerFunc(echo), soidchttp.Scopes("notes:read"))
	url := base + "/notes"
	proof := func(o *soidctest.ProofOptions) string { return key.Proof("GET", url+"?page=2", bound, o) }
	replayed := proof(nil)

	const algs = `algs="ES256 ES384 EdDSA PS256 PS384 PS512 RS256 RS384 RS512"` // the library's
	cases := []struct {
		name          string
		authorization string
		proof         string
		status        int
		dpopError     string // error= of the DPoP challenge ("" none)
		bearerError   string
		reason        string // the library's reason ("" when the middleware refused on its own)
	}{
		{"right proof", "DPoP " + bound, replayed, 200, "", "", ""},
		{"replayed proof", "DPoP " + bound, replayed, 401, "invalid_dpop_proof", "", "dpop_replay"},
		{"EdDSA key", "DPoP " + p.BoundAccessToken(other, soidctest.Claims{"scope": "notes:read"}), "", 200, "", "", ""},
		{"wrong method", "DPoP " + bound, key.Proof("POST", url, bound, nil), 401, "invalid_dpop_proof", "", "dpop_htm"},
		{"wrong URI", "DPoP " + bound, key.Proof("GET", base+"/other", bound, nil), 401, "invalid_dpop_proof", "", "dpop_htu"},
		{"proof for another token", "DPoP " + bound, key.Proof("GET", url, unbound, nil), 401, "invalid_dpop_proof", "", "dpop_ath"},
		{"proof without ath", "DPoP " + bound, key.Proof("GET", url, "", nil), 401, "invalid_dpop_proof", "", "dpop_ath"},
		{"proof by another key", "DPoP " + bound, other.Proof("GET", url, bound, nil), 401, "invalid_dpop_proof", "", "dpop_jkt"},
		{"expired iat", "DPoP " + bound, proof(&soidctest.ProofOptions{IssuedAt: time.Now().Add(-time.Hour)}), 401, "invalid_dpop_proof", "", "dpop_iat"},
		{"iat in the future", "DPoP " + bound, proof(&soidctest.ProofOptions{IssuedAt: time.Now().Add(time.Hour)}), 401, "invalid_dpop_proof", "", "dpop_iat"},
		{"wrong typ", "DPoP " + bound, proof(&soidctest.ProofOptions{Typ: "JWT"}), 401, "invalid_dpop_proof", "", "dpop_invalid"},
		{"private key in jwk", "DPoP " + bound, proof(&soidctest.ProofOptions{Header: map[string]any{"jwk": map[string]any{
			"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA", "d": "AAAA"}}}), 401, "invalid_dpop_proof", "", "dpop_invalid"},
		{"signed by a key not in jwk", "DPoP " + bound, proof(&soidctest.ProofOptions{SignWith: soidctest.NewDPoPKey(soidctest.ES256)}), 401, "invalid_dpop_proof", "", "dpop_invalid"},
		{"alg none", "DPoP " + bound, unsigned(proof(nil), `{"typ":"dpop+jwt","alg":"none"}`), 401, "invalid_dpop_proof", "", "dpop_invalid"},
		{"alg HS256", "DPoP " + bound, unsigned(proof(nil), `{"typ":"dpop+jwt","alg":"HS256"}`) + "c2lnbmF0dXJl", 401, "invalid_dpop_proof", "", "dpop_invalid"},
		{"missing proof", "DPoP " + bound, "", 401, "invalid_dpop_proof", "", ""},
		{"bound token as Bearer", "Bearer " + bound, "", 401, "invalid_token", "", "dpop_missing"},
		{"bound token as Bearer with a proof", "Bearer " + bound, proof(nil), 401, "invalid_token", "", "dpop_missing"},
		{"unbound token as DPoP", "DPoP " + unbound, key.Proof("GET", url, unbound, nil), 401, "*", "", "*"},
		{"unbound token as Bearer", "Bearer " + unbound, "", 200, "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			headers := []string{"Authorization", tc.authorization}
			switch {
			case tc.proof != "":
				headers = append(headers, "DPoP", tc.proof)
			case tc.name == "EdDSA key":
				token := strings.TrimPrefix(tc.authorization, "DPoP ")
				headers = append(headers, "DPoP", other.Proof("GET", url, token, nil))
			}
			a := do(t, h, "GET", "http://internal:8080/notes?page=2", headers...)
			if a.status != tc.status {
				t.Fatalf("status %d, want %d: %q %s", a.status, tc.status, a.challenges, a.raw)
			}
			if tc.status == 200 {
				if a.body["dpop"] != strings.HasPrefix(tc.authorization, "DPoP ") {
					t.Fatalf("Token(ctx) dpop: %v", a.body)
				}
				return
			}
			if len(a.challenges) != 2 || !strings.HasPrefix(a.challenges[0], "Bearer") || !strings.HasPrefix(a.challenges[1], "DPoP") ||
				!strings.HasSuffix(a.challenges[1], algs) {
				t.Fatalf("challenges %q", a.challenges)
			}
			if tc.reason == "*" && refusal == "" || tc.reason != "*" && refusal != tc.reason {
				t.Fatalf("refused for reason %q, want %q", refusal, tc.reason)
			}
			got := errorOf(a.challenges[1])
			if tc.dpopError == "*" && got == "" || tc.dpopError != "*" && got != tc.dpopError || errorOf(a.challenges[0]) != tc.bearerError {
				t.Fatalf("challenges %q, want DPoP error %q, Bearer error %q", a.challenges, tc.dpopError, tc.bearerError)
			}
		})
	}
}

// unsigned replaces a JWS's header and drops its signature.
func unsigned(jws, header string) string {
	parts := strings.Split(jws, ".")
	return b64url(header) + "." + parts[1] + "."
}

func errorOf(challenge string) string {
	_, after, ok := strings.Cut(challenge, `error="`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, `"`)
	return v
}

// soidc.Transport with a DPoP-bound token calls a soidchttp API: proofs made
// per request (here by a soidctest key) pass the library's checks, twice in
// a row (no replay), and the handler sees a DPoP-bound request.
func TestTransportToMiddlewareDPoP(t *testing.T) {
	p := soidctest.New()
	defer p.Close()
	c := stubAPIClient(t, p, soidc.Options{})
	key := soidctest.NewDPoPKey(soidctest.ES256)
	bound := p.BoundAccessToken(key, soidctest.Claims{"scope": "notes:read"})
	dpopSupported(t, c, bound, key.Proof("GET", "https://probe.example/", bound, nil))

	mw := &soidchttp.Middleware{Client: c, Audience: "https://api.soidc.test", Log: quietLog()}
	server := httptest.NewServer(mw.Require(http.HandlerFunc(echo), soidchttp.Scopes("notes:read")))
	defer server.Close()
	source := c.RefreshTokenSource(&soidc.Token{AccessToken: bound, TokenType: "DPoP", Expiry: time.Now().Add(time.Hour)}, nil)
	client := &http.Client{Transport: &soidc.Transport{Source: source, DPoPProof: func(method, url, token, nonce string) (string, error) {
		return key.Proof(method, url, token, nil), nil
	}}}
	for i := 0; i < 2; i++ {
		resp, err := client.Get(server.URL + "/notes?page=" + strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != 200 || body["dpop"] != true || body["sub"] != "alice" {
			t.Fatalf("request %d: %d %v %q", i, resp.StatusCode, body, resp.Header.Values("WWW-Authenticate"))
		}
	}
}

// Server nonces (RFC 9449 §9): a proof without the API's nonce is answered
// 401 use_dpop_nonce with a DPoP-Nonce header; soidc.Transport repeats the
// request with a proof carrying it, which passes.
func TestMiddlewareDPoPNonce(t *testing.T) {
	p := soidctest.New()
	defer p.Close()
	c := stubAPIClient(t, p, soidc.Options{})
	key := soidctest.NewDPoPKey(soidctest.ES256)
	bound := p.BoundAccessToken(key, soidctest.Claims{"scope": "notes:read"})
	dpopSupported(t, c, bound, key.Proof("GET", "https://probe.example/", bound, nil))

	mw := &soidchttp.Middleware{Client: c, Audience: "https://api.soidc.test", Log: quietLog(),
		DPoPNonce: func(*http.Request) string { return "nonce-42" }}
	h := mw.Require(http.HandlerFunc(echo))
	r := httptest.NewRequest("GET", "http://api.test/notes", nil)
	r.Header.Set("Authorization", "DPoP "+bound)
	r.Header.Set("DPoP", key.Proof("GET", "http://api.test/notes", bound, nil))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 401 || w.Header().Get("DPoP-Nonce") != "nonce-42" || errorOf(w.Header().Values("WWW-Authenticate")[1]) != "use_dpop_nonce" {
		t.Fatalf("proof without the nonce: %d %q %q", w.Code, w.Header().Get("DPoP-Nonce"), w.Header().Values("WWW-Authenticate"))
	}

	server := httptest.NewServer(h)
	defer server.Close()
	var asked []string
	source := c.RefreshTokenSource(&soidc.Token{AccessToken: bound, TokenType: "DPoP", Expiry: time.Now().Add(time.Hour)}, nil)
	client := &http.Client{Transport: &soidc.Transport{Source: source, DPoPProof: func(method, url, token, nonce string) (string, error) {
		asked = append(asked, nonce)
		var o *soidctest.ProofOptions
		if nonce != "" {
			o = &soidctest.ProofOptions{Claims: soidctest.Claims{"nonce": nonce}}
		}
		return key.Proof(method, url, token, o), nil
	}}}
	resp, err := client.Get(server.URL + "/notes")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Join(asked, ",") != ",nonce-42" {
		t.Fatalf("through the Transport: %d, nonces asked %q", resp.StatusCode, asked)
	}
}

// The replay cache is the client's (Options.DPoPReplayCacheEntries and
// DPoPReplayWindow): a proof seen by one client is refused by it again, and
// out-of-range sizes are refused when the client is made.
func TestDPoPReplayCacheOptions(t *testing.T) {
	p := soidctest.New()
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, bad := range []soidc.Options{{DPoPReplayCacheEntries: 20_000_000}, {DPoPReplayWindow: 2 * time.Hour}} {
		if _, err := soidc.NewClientFromIssuerURL(ctx, p.Issuer(), soidc.Config{ClientID: "api", Options: bad}); !errors.Is(err, soidc.ErrInvalidArgument) {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
	c, err := soidc.NewClientFromIssuerURL(ctx, p.Issuer(), soidc.Config{ClientID: "api",
		Options: soidc.Options{DPoPReplayCacheEntries: 10, DPoPReplayWindow: 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	key := soidctest.NewDPoPKey(soidctest.EdDSA)
	bound := p.BoundAccessToken(key, nil)
	proof := key.Proof("GET", "https://api.example/x", bound, nil)
	opts := &soidc.AccessTokenOptions{Audience: "https://api.soidc.test", DPoPProof: proof, HTTPMethod: "GET", HTTPURI: "https://api.example/x"}
	if _, err := c.DecodeAccessToken(ctx, bound, opts); err != nil {
		t.Fatal(err)
	}
	_, err = c.DecodeAccessToken(ctx, bound, opts)
	var e *soidc.Error
	if !errors.As(err, &e) || e.Reason != soidc.ReasonDPoPReplay {
		t.Fatalf("replayed proof: %v", err)
	}
	// A proof older than the 30 s window is refused even within dpop_max_age_s.
	old := key.Proof("GET", "https://api.example/x", bound, &soidctest.ProofOptions{IssuedAt: time.Now().Add(-2 * time.Minute)})
	opts.DPoPProof = old
	if _, err := c.DecodeAccessToken(ctx, bound, opts); !errors.As(err, &e) || e.Reason != soidc.ReasonDPoPIAT {
		t.Fatalf("a proof older than the replay window: %v", err)
	}
	// With the default window (300 s) the same proof passes.
	d, err := soidc.NewClientFromIssuerURL(ctx, p.Issuer(), soidc.Config{ClientID: "api"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.DecodeAccessToken(ctx, bound, opts); err != nil {
		t.Fatalf("the same proof with the default window: %v", err)
	}
}
