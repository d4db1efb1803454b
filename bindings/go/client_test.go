package soidc_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
)

func TestVersion(t *testing.T) {
	if v := soidc.Version(); v != soidc.HeaderVersion {
		t.Fatalf("Version() = %q, header says %q", v, soidc.HeaderVersion)
	}
	for status, name := range map[soidc.Status]string{
		soidc.StatusOK: "ok", soidc.StatusValidation: "validation",
		soidc.StatusUnsupportedByProvider: "unsupported_by_provider", soidc.StatusInternal: "internal",
		soidc.Status(77): "unknown(77)",
	} {
		if got := status.String(); got != name {
			t.Errorf("Status(%d).String() = %q, want %q", int(status), got, name)
		}
	}
}

func TestDiscovery(t *testing.T) {
	ctx := testContext(t)
	iss := issuer(t)
	c := basicClient(t)
	if typ, err := c.Type(ctx); err != nil || typ != soidc.ClientConfidential {
		t.Fatalf("Type = %v, %v; want confidential", typ, err)
	}
	meta, err := c.ProviderConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if meta.Issuer != iss || meta.TokenEndpoint != iss+"/token" || meta.JWKSURI == "" || !meta.AuthorizationResponseIssParamSupported {
		t.Fatalf("unexpected metadata: %+v", meta)
	}
	if len(meta.Extra) == 0 || len(meta.Raw) == 0 {
		t.Fatalf("metadata Extra/Raw empty: %d members, %d bytes", len(meta.Extra), len(meta.Raw))
	}

	// The same metadata, given rather than discovered, for a public client.
	pub, err := soidc.NewClientFromIssuerConfig(ctx, meta.Raw, soidc.Config{ClientID: "public-pkce", RedirectURI: redirectURI})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if typ, err := pub.Type(ctx); err != nil || typ != soidc.ClientPublic || typ.String() != "public" {
		t.Fatalf("Type = %v, %v; want public", typ, err)
	}
	meta2, err := pub.ProviderConfig(ctx)
	if err != nil || meta2.Issuer != iss {
		t.Fatalf("ProviderConfig from config: %+v, %v", meta2, err)
	}
}

func TestNewClientErrors(t *testing.T) {
	ctx := testContext(t)
	iss := issuer(t)

	_, err := soidc.NewClientFromIssuerConfig(ctx, []byte(`{"issuer": "x"}`), soidc.Config{ClientID: "a"})
	mustErr(t, err, soidc.ErrInvalidArgument)

	_, err = soidc.NewClientFromIssuerURL(ctx, iss, soidc.Config{ClientID: ""})
	mustErr(t, err, soidc.ErrInvalidArgument)

	leeway := 301 * time.Second
	_, err = soidc.NewClientFromIssuerURL(ctx, iss, soidc.Config{ClientID: "a", Options: soidc.Options{Leeway: &leeway}})
	if e := mustErr(t, err, soidc.ErrInvalidArgument); !strings.Contains(e.Message, "leeway_s") {
		t.Fatalf("message does not name the option: %q", e.Message)
	}

	_, err = soidc.NewClientFromIssuerURL(ctx, iss, soidc.Config{ClientID: "a", Options: soidc.Options{AuthMethod: "magic"}})
	mustErr(t, err, soidc.ErrInvalidArgument)

	_, err = soidc.NewClientFromIssuerURL(ctx, iss, soidc.Config{ClientID: "a\x00b"})
	mustErr(t, err, soidc.ErrInvalidArgument)

	// Nothing listens on port 9 of loopback.
	_, err = soidc.NewClientFromIssuerURL(ctx, "http://127.0.0.1:9", soidc.Config{ClientID: "a"})
	mustErr(t, err, soidc.ErrNetwork)

	// A discovery document for another issuer.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"issuer":"https://elsewhere.example","authorization_endpoint":"https://elsewhere.example/a","jwks_uri":"https://elsewhere.example/j","subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"]}`))
	}))
	defer srv.Close()
	_, err = soidc.NewClientFromIssuerURL(ctx, srv.URL, soidc.Config{ClientID: "a"})
	mustErr(t, err, soidc.ErrProtocol)
}

func TestOptionsJSON(t *testing.T) {
	zero := time.Duration(0)
	leeway := 1500 * time.Millisecond
	b, err := json.Marshal(soidc.Options{
		Timeout: 2500 * time.Microsecond, Leeway: &leeway, MinJWKSCache: &zero,
		AuthMethod: soidc.AuthClientSecretPost, AllowedAlgs: []string{"RS256"}, AllowInsecureHTTP: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"timeout_ms":3,"leeway_s":2,"min_jwks_cache_s":0,"auth_method":"client_secret_post","allowed_algs":["RS256"],"allow_insecure_http":true}`
	if string(b) != want {
		t.Fatalf("options JSON\n got %s\nwant %s", b, want)
	}
	if b, _ := json.Marshal(soidc.Options{}); string(b) != "{}" {
		t.Fatalf("zero options: %s", b)
	}
	b, _ = json.Marshal(soidc.AuthCodeStartOptions{NoState: true, Nonce: "n", DisablePKCE: true, MaxAge: &zero, Prompt: []string{"login"}})
	if want := `{"state":false,"nonce":"n","pkce":false,"prompt":["login"],"max_age":0}`; string(b) != want {
		t.Fatalf("start options JSON\n got %s\nwant %s", b, want)
	}
}

func TestProviderKeys(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	_, err := c.ProviderKeys(ctx, &soidc.ProviderKeysOptions{CacheOnly: true})
	mustErr(t, err, soidc.ErrValidation) // nothing cached yet
	keys, err := c.ProviderKeys(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.Keys) < 3 {
		t.Fatalf("want the RS256, ES256 and EdDSA keys, got %+v", keys.Keys)
	}
	for _, k := range keys.Keys {
		if k.KeyID == "" || k.KeyType == "" || k.Algorithm == "" || len(k.Extra) == 0 {
			t.Errorf("incomplete key %+v", k)
		}
	}
	if _, err := c.ProviderKeys(ctx, &soidc.ProviderKeysOptions{CacheOnly: true}); err != nil {
		t.Fatalf("cache only after a fetch: %v", err)
	}
	if _, err := c.ProviderKeys(ctx, &soidc.ProviderKeysOptions{ForceRefresh: true}); err != nil {
		t.Fatalf("force refresh: %v", err)
	}
}

func TestCloseIsIdempotentAndFinal(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	calls := map[string]func() error{
		"Type":           func() error { _, err := c.Type(ctx); return err },
		"ProviderConfig": func() error { _, err := c.ProviderConfig(ctx); return err },
		"ProviderKeys":   func() error { _, err := c.ProviderKeys(ctx, nil); return err },
		"AuthCodeStart":  func() error { _, err := c.AuthCodeStart(ctx, nil); return err },
		"AuthCodeHandleResult": func() error {
			_, err := c.AuthCodeHandleResult(ctx, redirectURI+"?code=x", nil)
			return err
		},
		"AuthCodeExchange":       func() error { _, err := c.AuthCodeExchange(ctx, "x", nil); return err },
		"ClientCredentialsGrant": func() error { _, err := c.ClientCredentialsGrant(ctx, "", nil); return err },
		"DirectAccessGrant":      func() error { _, err := c.DirectAccessGrant(ctx, "alice", alicePassword, "", nil); return err },
		"ExchangeRefreshToken":   func() error { _, err := c.ExchangeRefreshToken(ctx, "x", nil); return err },
		"DeviceAuthorizationStart": func() error {
			_, err := c.DeviceAuthorizationStart(ctx, "", nil)
			return err
		},
		"DeviceAuthorizationPoll": func() error {
			_, err := c.DeviceAuthorizationPoll(ctx, "x", &soidc.DevicePollOptions{Wait: true})
			return err
		},
		"FetchUserinfo":     func() error { _, err := c.FetchUserinfo(ctx, "x", nil); return err },
		"IntrospectToken":   func() error { _, err := c.IntrospectToken(ctx, "x", ""); return err },
		"RevokeToken":       func() error { return c.RevokeToken(ctx, "x", "") },
		"InitiateLogout":    func() error { _, err := c.InitiateLogout(ctx, nil); return err },
		"DecodeIDToken":     func() error { _, err := c.DecodeIDToken(ctx, "x", nil); return err },
		"DecodeAccessToken": func() error { _, err := c.DecodeAccessToken(ctx, "x", nil); return err },
		"DecodeLogoutToken": func() error { _, err := c.DecodeLogoutToken(ctx, "x", nil); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, soidc.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

func TestCloseWaitsForCallsInProgress(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	tokens, err := c.DirectAccessGrant(ctx, "alice", alicePassword, "openid email", nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for {
				_, err := c.DecodeIDToken(ctx, tokens.IDToken, nil)
				if errors.Is(err, soidc.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("decode: %v", err)
					return
				}
			}
		}()
	}
	close(start)
	time.Sleep(50 * time.Millisecond)
	var closers sync.WaitGroup
	for i := 0; i < 4; i++ { // Close from several goroutines at once
		closers.Add(1)
		go func() { defer closers.Done(); _ = c.Close() }()
	}
	closers.Wait()
	wg.Wait()
}

func TestInvalidArguments(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	_, err := c.DecodeIDToken(ctx, "a\x00b", nil)
	mustErr(t, err, soidc.ErrInvalidArgument)
	_, err = c.DecodeIDToken(ctx, "not-a-jwt", nil)
	mustErr(t, err, soidc.ErrValidation)
	_, err = c.AuthCodeStart(ctx, &soidc.AuthCodeStartOptions{CodeVerifier: "short"})
	mustErr(t, err, soidc.ErrInvalidArgument)
	_, err = c.ClientCredentialsGrant(ctx, "", &soidc.GrantOptions{ExtraParams: map[string]any{"grant_type": "x"}})
	mustErr(t, err, soidc.ErrInvalidArgument)
}

func TestGarbageCollectedClient(t *testing.T) {
	// A client that is never closed is freed by its cleanup; this must not crash.
	ctx := testContext(t)
	iss := issuer(t)
	for i := 0; i < 3; i++ {
		c, err := soidc.NewClientFromIssuerURL(ctx, iss, soidc.Config{ClientID: basicID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Type(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // let the cleanups run
	}
}

func TestPerClientLogger(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	var mu sync.Mutex
	var mine []string
	if err := c.SetLogger(func(level soidc.LogLevel, message string) {
		mu.Lock()
		mine = append(mine, message)
		mu.Unlock()
	}, soidc.LogTrace); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ProviderKeys(ctx, &soidc.ProviderKeysOptions{ForceRefresh: true}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := len(mine)
	mu.Unlock()
	if got == 0 {
		t.Fatal("the client's own logger received nothing")
	}
	if err := c.SetLogger(nil, soidc.LogTrace); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ProviderKeys(ctx, &soidc.ProviderKeysOptions{ForceRefresh: true}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(mine) != got {
		t.Fatalf("messages arrived after the logger was removed: %v", mine[got:])
	}
	c.Close()
	if err := c.SetLogger(nil, soidc.LogTrace); !errors.Is(err, soidc.ErrClosed) {
		t.Fatalf("SetLogger after Close: %v", err)
	}
}
