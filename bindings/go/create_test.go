package soidc_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
)

// recorder is a LogFunc that keeps what it receives.
type recorder struct {
	mu       sync.Mutex
	messages []string
}

func (r *recorder) log(level soidc.LogLevel, message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.messages = append(r.messages, level.String()+": "+message)
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.messages...)
}

// find returns the first message containing every part, or "".
func (r *recorder) find(parts ...string) string {
	for _, m := range r.all() {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(m, p)
		}
		if ok {
			return m
		}
	}
	return ""
}

// Options.Logger is the client's own logger from before the discovery: it
// receives the discovery's messages, the process-wide logger none of them,
// and it stays the client's logger afterwards.
func TestCreationLogger(t *testing.T) {
	ctx := testContext(t)
	var global, own recorder
	soidc.SetLogger(global.log, soidc.LogTrace)
	defer soidc.SetLogger(nil, 0)

	c, err := soidc.NewClientFromIssuerURL(ctx, issuer(t), soidc.Config{ClientID: basicID, ClientSecret: basicSecret,
		Options: soidc.Options{Logger: own.log, LogLevel: soidc.LogDebug}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if m := own.find("debug: discovery", "HTTP 200"); m == "" {
		t.Fatalf("the creation logger did not receive the discovery message; it got %q", own.all())
	}
	if m := own.find("info: client "+basicID, "ready"); m == "" {
		t.Fatalf("the creation logger did not receive the ready message; it got %q", own.all())
	}
	if m := global.find(basicID); m != "" {
		t.Fatalf("the process-wide logger received the client's message %q", m)
	}
	for _, m := range own.all() {
		if strings.Contains(m, basicSecret) {
			t.Fatalf("the secret leaked into the log: %q", m)
		}
	}
	// Still the client's logger after the creation.
	before := len(own.all())
	if _, err := c.ProviderKeys(ctx, &soidc.ProviderKeysOptions{ForceRefresh: true}); err != nil {
		t.Fatal(err)
	}
	if len(own.all()) == before {
		t.Fatal("the creation logger received nothing from a later call")
	}

	// LogLevel 0 means info: no debug messages.
	var info recorder
	c2, err := soidc.NewClientFromIssuerURL(ctx, issuer(t), soidc.Config{ClientID: basicID, ClientSecret: basicSecret,
		Options: soidc.Options{Logger: info.log}})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if info.find("ready") == "" || info.find("debug:") != "" {
		t.Fatalf("with the default level the logger got %q", info.all())
	}

	// A failed creation reports to the logger too, and releases it.
	var failed recorder
	_, err = soidc.NewClientFromIssuerURL(ctx, issuer(t)+"/no-such-tenant", soidc.Config{ClientID: basicID,
		Options: soidc.Options{Logger: failed.log, LogLevel: soidc.LogDebug}})
	if err == nil {
		t.Fatal("discovery at a wrong issuer succeeded")
	}
	if failed.find("discovery") == "" {
		t.Fatalf("the failed creation logged nothing about the discovery: %q", failed.all())
	}

	// From metadata: the logger is installed right after the creation.
	meta, err := c.ProviderConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var fromConfig recorder
	c3, err := soidc.NewClientFromIssuerConfig(ctx, meta.Raw, soidc.Config{ClientID: basicID, ClientSecret: basicSecret,
		Options: soidc.Options{Logger: fromConfig.log, LogLevel: soidc.LogDebug}})
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if _, err := c3.ProviderKeys(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if fromConfig.find("debug: ", "HTTP 200") == "" {
		t.Fatalf("the logger of a client made from metadata got %q", fromConfig.all())
	}
}

// A creation abandoned by its context goes on in the background and still
// logs to Options.Logger, whose handle the binding keeps until it has freed
// the client that creation made (the race detector and the debug tag's
// forced GCs watch this).
func TestCreationLoggerAbandoned(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		iss := "http://" + r.Host
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss, "authorization_endpoint": iss + "/auth", "jwks_uri": iss + "/jwks",
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	}))
	defer srv.Close()
	var own recorder
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	began := time.Now()
	_, err := soidc.NewClientFromIssuerURL(ctx, srv.URL, soidc.Config{ClientID: "abandoned-client",
		Options: soidc.Options{Logger: own.log, LogLevel: soidc.LogDebug}})
	if err != context.Canceled {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if elapsed := time.Since(began); elapsed > 250*time.Millisecond {
		t.Fatalf("cancel took %v", elapsed)
	}
	for deadline := time.Now().Add(5 * time.Second); own.find("abandoned-client", "ready") == ""; {
		if time.Now().After(deadline) {
			t.Fatalf("the abandoned creation never logged its client; the logger got %q", own.all())
		}
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
}

// silentServer accepts connections, reads the requests and never answers. It
// reports when the client drops a connection.
func silentServer(t *testing.T) (addr string, dropped <-chan time.Time) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan time.Time, 16)
	var conns sync.WaitGroup
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				defer conn.Close()
				buf := make([]byte, 4096)
				for {
					if _, err := conn.Read(buf); err != nil {
						closed <- time.Now()
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		conns.Wait()
	})
	return l.Addr().String(), closed
}

// Options.CreateTimeout bounds the creation in the library, without any
// context deadline; with a deadline too, the earlier one applies.
func TestCreateTimeout(t *testing.T) {
	addr, dropped := silentServer(t)
	began := time.Now()
	_, err := soidc.NewClientFromIssuerURL(context.Background(), "http://"+addr, soidc.Config{ClientID: "x",
		Options: soidc.Options{Timeout: 20 * time.Second, CreateTimeout: 300 * time.Millisecond}})
	elapsed := time.Since(began)
	e := mustErr(t, err, soidc.ErrNetwork)
	if e.Reason != soidc.ReasonTimeout {
		t.Fatalf("want reason %q, got %+v", soidc.ReasonTimeout, e)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("no context deadline was involved")
	}
	if elapsed < 250*time.Millisecond || elapsed > 2*time.Second {
		t.Fatalf("creation took %v with CreateTimeout 300 ms", elapsed)
	}
	select {
	case at := <-dropped:
		if d := at.Sub(began); d > 2*time.Second {
			t.Fatalf("the library dropped the connection after %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the library still holds the connection 5 s after CreateTimeout")
	}

	// A context deadline later than CreateTimeout: CreateTimeout applies.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	began = time.Now()
	_, err = soidc.NewClientFromIssuerURL(ctx, "http://"+addr, soidc.Config{ClientID: "x",
		Options: soidc.Options{CreateTimeout: 300 * time.Millisecond}})
	mustErr(t, err, soidc.ErrNetwork)
	if elapsed := time.Since(began); elapsed > 2*time.Second {
		t.Fatalf("creation took %v with CreateTimeout 300 ms and a 20 s deadline", elapsed)
	}

	// A context deadline earlier than CreateTimeout: the deadline applies, in the library.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	began = time.Now()
	_, err = soidc.NewClientFromIssuerURL(ctx2, "http://"+addr, soidc.Config{ClientID: "x",
		Options: soidc.Options{CreateTimeout: 20 * time.Second}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want an error wrapping context.DeadlineExceeded", err)
	}
	for len(dropped) > 1 { // the second creation's connection
		<-dropped
	}
	select {
	case at := <-dropped:
		if d := at.Sub(began); d > 2*time.Second {
			t.Fatalf("the library dropped the connection after %v, for a 300 ms deadline", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the library still holds the connection 5 s after a 300 ms deadline")
	}

	// Out of range: the library's error, not a fallback.
	_, err = soidc.NewClientFromIssuerURL(context.Background(), issuer(t), soidc.Config{ClientID: basicID,
		Options: soidc.Options{CreateTimeout: time.Hour}})
	if e := mustErr(t, err, soidc.ErrInvalidArgument); !strings.Contains(e.Message, "create_timeout_ms") {
		t.Fatalf("message does not name the option: %q", e.Message)
	}
}

// writeSecret writes content to a new file of the given mode in a fresh directory.
func writeSecret(t *testing.T, name, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile's mode is subject to the umask
		t.Fatal(err)
	}
	return path
}

// Options.ClientSecretFile and PrivateKeyFile read the credentials from files
// that only their owner may read.
func TestSecretFiles(t *testing.T) {
	ctx := testContext(t)
	secretFile := writeSecret(t, "secret", basicSecret+"\n", 0o600)
	c := newClient(t, soidc.Config{ClientID: basicID, Options: soidc.Options{ClientSecretFile: secretFile}})
	if typ, err := c.Type(ctx); err != nil || typ != soidc.ClientConfidential {
		t.Fatalf("Type = %v, %v", typ, err)
	}
	if tokens, err := c.ClientCredentialsGrant(ctx, "", nil); err != nil || tokens.AccessToken == "" {
		t.Fatalf("client credentials with the secret from a file: %+v, %v", tokens, err)
	}

	// Readable by others: refused, without showing the content.
	open := writeSecret(t, "secret", basicSecret+"\n", 0o644)
	_, err := soidc.NewClientFromIssuerURL(ctx, issuer(t), soidc.Config{ClientID: basicID,
		Options: soidc.Options{ClientSecretFile: open}})
	e := mustErr(t, err, soidc.ErrInvalidArgument)
	if strings.Contains(string(e.Raw), basicSecret) {
		t.Fatal("the secret leaked into the error")
	}
	// The argument and the file together: refused.
	_, err = soidc.NewClientFromIssuerURL(ctx, issuer(t), soidc.Config{ClientID: basicID, ClientSecret: basicSecret,
		Options: soidc.Options{ClientSecretFile: secretFile}})
	mustErr(t, err, soidc.ErrInvalidArgument)

	// private_key_jwt with the key from a file (conf-pkjwt knows tests/keys/client-rs256).
	pem, err := os.ReadFile(filepath.Join(repoRoot, "tests", "keys", "client-rs256.pem"))
	if err != nil {
		t.Fatal(err)
	}
	keyFile := writeSecret(t, "key.pem", string(pem), 0o400)
	pk := newClient(t, soidc.Config{ClientID: "conf-pkjwt", Options: soidc.Options{
		PrivateKeyFile: keyFile, PrivateKeyKID: "client-rs256", AuthMethod: soidc.AuthPrivateKeyJWT}})
	if tokens, err := pk.ClientCredentialsGrant(ctx, "", nil); err != nil || tokens.AccessToken == "" {
		t.Fatalf("private_key_jwt with the key from a file: %+v, %v", tokens, err)
	}
	groupReadable := writeSecret(t, "key.pem", string(pem), 0o640)
	_, err = soidc.NewClientFromIssuerURL(ctx, issuer(t), soidc.Config{ClientID: "conf-pkjwt", Options: soidc.Options{
		PrivateKeyFile: groupReadable, PrivateKeyKID: "client-rs256"}})
	if e := mustErr(t, err, soidc.ErrInvalidArgument); strings.Contains(string(e.Raw), "PRIVATE KEY") {
		t.Fatal("the key leaked into the error")
	}
}
