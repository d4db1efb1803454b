package soidchttp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	soidc "github.com/soidc/soidc/bindings/go"
	"github.com/soidc/soidc/bindings/go/soidchttp"
)

// A DPoP-bound access token issued by the real provider to a DPoP client
// (RFC 9449 §5), sent by soidc.Transport with the client's own proofs
// (Client.DPoPProof), accepted by the middleware; the same token sent as
// Bearer, or with a proof by another client's key, is refused.
func TestProviderDPoPTokenThroughMiddleware(t *testing.T) {
	ctx := testContext(t)
	newDPoPClient := func() *soidc.Client {
		c, err := soidc.NewClientFromIssuerURL(ctx, issuer(t), soidc.Config{ClientID: "dpop-bound",
			ClientSecret: "dpop-bound-secret-0123456789abcdef", Options: soidc.Options{DPoP: "ES256"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	caller, other := newDPoPClient(), newDPoPClient()
	api := newClient(t, "protected-api", "")
	log, _ := newLog()
	mw := &soidchttp.Middleware{Client: api, Audience: apiResource, Log: log}
	server := httptest.NewServer(mw.Require(http.HandlerFunc(echo), soidchttp.Scopes("api:read")))
	defer server.Close()

	source := caller.ClientCredentialsTokenSource("api:read", &soidc.GrantOptions{Resource: []string{apiResource}})
	prove := func(c *soidc.Client) func(method, url, token, nonce string) (string, error) {
		return func(method, url, token, nonce string) (string, error) {
			var o *soidc.DPoPProofOptions
			if nonce != "" {
				o = &soidc.DPoPProofOptions{Nonce: nonce}
			}
			return c.DPoPProof(method, url, token, o)
		}
	}
	client := &http.Client{Transport: &soidc.Transport{Source: source, DPoPProof: prove(caller)}}
	for i := 0; i < 2; i++ {
		resp, err := client.Get(server.URL + "/notes")
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != 200 || body["dpop"] != true || body["client_id"] != "dpop-bound" {
			t.Fatalf("request %d: %d %v %q", i, resp.StatusCode, body, resp.Header.Values("WWW-Authenticate"))
		}
	}
	tok, err := source.Token(ctx)
	if err != nil || tok.TokenType != "DPoP" {
		t.Fatalf("token: %+v %v", tok, err)
	}

	// The bound token as Bearer: refused, the DPoP challenge says invalid_token.
	req, _ := http.NewRequest("GET", server.URL+"/notes", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if ch := resp.Header.Values("WWW-Authenticate"); resp.StatusCode != 401 || len(ch) != 2 || errorOf(ch[1]) != "invalid_token" {
		t.Fatalf("bound token as Bearer: %d %q", resp.StatusCode, ch)
	}
	// With a proof by another client's key: refused (dpop_jkt).
	stolen := &http.Client{Transport: &soidc.Transport{Source: source, DPoPProof: prove(other)}}
	resp, err = stolen.Get(server.URL + "/notes")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ch := resp.Header.Values("WWW-Authenticate"); resp.StatusCode != 401 || !strings.Contains(strings.Join(ch, " "), `error="invalid_dpop_proof"`) {
		t.Fatalf("proof by another key: %d %q", resp.StatusCode, ch)
	}
}
