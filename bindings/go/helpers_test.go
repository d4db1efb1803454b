package soidc_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
)

// The test provider's fixed registrations and users (tests/provider/README.md).
const (
	basicID       = "conf-basic"
	basicSecret   = "conf-basic-secret-0123456789abcdef"
	redirectURI   = "http://127.0.0.1:9/callback"
	apiResource   = "https://api.soidc.test"
	alicePassword = "alice-password"
)

// repoRoot is the repository root, two levels above this package.
var repoRoot, _ = filepath.Abs(filepath.Join("..", ".."))

// issuer returns the test provider's issuer. Without one the test is skipped,
// unless SOIDC_REQUIRE_PROVIDER is set (run-tests.sh sets it), then it fails.
func issuer(t testing.TB) string {
	t.Helper()
	iss := os.Getenv("SOIDC_TEST_ISSUER")
	if iss == "" {
		if os.Getenv("SOIDC_REQUIRE_PROVIDER") != "" {
			t.Fatal("SOIDC_TEST_ISSUER is not set; run under tests/with-provider.sh")
		}
		t.Skip("SOIDC_TEST_ISSUER is not set; run under tests/with-provider.sh")
	}
	return iss
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newClient creates a client at the test provider, closed when the test ends.
func newClient(t testing.TB, cfg soidc.Config) *soidc.Client {
	t.Helper()
	c, err := soidc.NewClientFromIssuerURL(testContext(t), issuer(t), cfg)
	if err != nil {
		t.Fatalf("NewClientFromIssuerURL(%s): %v", cfg.ClientID, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// basicClient is conf-basic with scope "openid email".
func basicClient(t testing.TB) *soidc.Client {
	return newClient(t, soidc.Config{ClientID: basicID, ClientSecret: basicSecret, RedirectURI: redirectURI, Scope: "openid email"})
}

// postJSON posts body to the test provider's control endpoint path and decodes the answer.
func postJSON(t testing.TB, path string, body any, answer any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(issuer(t)+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: HTTP %d", path, resp.StatusCode)
	}
	if answer != nil {
		if err := json.NewDecoder(resp.Body).Decode(answer); err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
	}
}

// browse drives the provider's login and consent pages with
// tests/provider/browser.mjs and returns the URL it was redirected to.
func browse(t testing.TB, url string, args ...string) string {
	t.Helper()
	ctx := testContext(t)
	argv := append([]string{filepath.Join(repoRoot, "tests", "provider", "browser.mjs")}, args...)
	argv = append(argv, url, "alice", alicePassword)
	cmd := exec.CommandContext(ctx, "node", argv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("browser.mjs: %v: %s", err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// mustErr fails unless err is an *soidc.Error matching target with errors.Is.
func mustErr(t testing.TB, err error, target error) *soidc.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", target)
	}
	var e *soidc.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want an *soidc.Error", err, err)
	}
	if !errors.Is(err, target) {
		t.Fatalf("got %v, want errors.Is(err, %v)", err, target)
	}
	return e
}

// stubProvider is a tiny provider on loopback whose tokens the tests sign
// themselves, and whose token endpoint is a TCP listener that accepts
// connections and never answers.
type stubProvider struct {
	server   *httptest.Server
	key      *rsa.PrivateKey
	hang     net.Listener
	accepted atomic.Int64
}

func newStubProvider(t testing.TB) *stubProvider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stubProvider{key: key, hang: hang}
	held := make(chan net.Conn, 64)
	go func() {
		for {
			conn, err := hang.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			held <- conn // keep it open, never answer
		}
	}()
	mux := http.NewServeMux()
	s.server = httptest.NewServer(mux)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.metadata())
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]any{
			"kty": "RSA", "kid": "stub", "alg": "RS256", "use": "sig",
			"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	t.Cleanup(func() {
		s.server.Close()
		_ = hang.Close()
		close(held)
		for conn := range held {
			_ = conn.Close()
		}
	})
	return s
}

func (s *stubProvider) issuer() string { return s.server.URL }

func (s *stubProvider) metadata() map[string]any {
	return map[string]any{
		"issuer":                                s.server.URL,
		"authorization_endpoint":                s.server.URL + "/auth",
		"token_endpoint":                        "http://" + s.hang.Addr().String() + "/token",
		"jwks_uri":                              s.server.URL + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
	}
}

// sign makes an RS256 JWT with the stub's key.
func (s *stubProvider) sign(t testing.TB, typ string, claims map[string]any) string {
	t.Helper()
	header, _ := json.Marshal(map[string]any{"alg": "RS256", "kid": "stub", "typ": typ})
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	input := b64(header) + "." + b64(payload)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

// idToken is a valid ID token of the stub for client "stub-client", plus extra claims.
func (s *stubProvider) idToken(t testing.TB, extra map[string]any) string {
	now := time.Now().Unix()
	claims := map[string]any{"iss": s.issuer(), "sub": "carol", "aud": "stub-client", "iat": now, "exp": now + 300}
	for k, v := range extra {
		claims[k] = v
	}
	return s.sign(t, "JWT", claims)
}

func (s *stubProvider) client(t testing.TB, opts soidc.Options) *soidc.Client {
	t.Helper()
	c, err := soidc.NewClientFromIssuerURL(testContext(t), s.issuer(), soidc.Config{ClientID: "stub-client", ClientSecret: "stub-secret", Options: opts})
	if err != nil {
		t.Fatalf("stub client: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
