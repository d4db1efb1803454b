// Command protected-api is a small HTTP API whose routes are protected by
// OAuth 2.0 access tokens: RFC 9068 JWT access tokens validated with soidc
// (signature, issuer, expiry, audience and scope) through the soidchttp
// middleware, sent as bearer tokens or DPoP-bound with a proof (RFC 9449).
// It answers 401/400/403 with a WWW-Authenticate challenge as RFC 6750 §3
// and RFC 9449 §7.1 say.
//
//	protected-api -issuer https://id.example.com -audience https://api.example.com [-listen 127.0.0.1:8080] [-state-file /var/lib/api/soidc-state.json]
//
// With -state-file, a replica starts from the provider state another replica
// (or its own previous run) exported: when the file is present and soidc
// accepts it (same issuer, metadata at most a day old, keys parse), the client
// is created from it without discovery, and the keys are fetched only if they
// have expired. Otherwise the replica discovers and writes the file (atomically,
// temporary file + rename). The file holds no secret.
//
//	GET  /api/hello   needs scope api:read
//	POST /api/notes   needs scope api:write
//	GET  /healthz     open
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
	"github.com/soidc/soidc/bindings/go/soidchttp"
)

func main() {
	issuer := flag.String("issuer", os.Getenv("SOIDC_TEST_ISSUER"), "the provider's issuer URL (default $SOIDC_TEST_ISSUER)")
	audience := flag.String("audience", "https://api.soidc.test", "this API's resource identifier (the tokens' aud)")
	clientID := flag.String("client-id", "protected-api", "the client id soidc uses for this API (no secret needed)")
	listen := flag.String("listen", "127.0.0.1:8080", "address to listen on")
	stateFile := flag.String("state-file", "", "start from this provider state file if present and fresh; otherwise discover and write it")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *issuer == "" {
		fmt.Fprintln(os.Stderr, "protected-api: -issuer (or $SOIDC_TEST_ISSUER) is required")
		os.Exit(2)
	}
	if err := run(log, *issuer, *audience, *clientID, *listen, *stateFile); err != nil {
		log.Error("protected-api failed", "error", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, issuer, audience, clientID, listen, stateFile string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	soidc.SetLogger(soidc.SlogLogger(log), soidc.LogWarn)

	setup, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	client, source, err := newClient(setup, log, issuer, clientID, stateFile)
	if err != nil {
		return err
	}
	defer client.Close()
	log.Info("soidc client ready", "from", source)

	server := &http.Server{Addr: listen, Handler: routes(client, audience, log), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = server.Shutdown(shutdown)
	}()
	log.Info("protected-api listening", "address", listen, "issuer", issuer, "audience", audience)
	if err := server.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// routes is the API: each route states the scopes (and claim rules) it
// needs; soidchttp answers 401/400/403 as RFC 6750 §3 says, accepts
// DPoP-bound tokens with a proof (RFC 9449 §7.1) beside bearer tokens, and
// 503 with Retry-After when the token cannot be checked.
func routes(tokens soidchttp.Validator, audience string, log *slog.Logger) http.Handler {
	return routesWith(&soidchttp.Middleware{Client: tokens, Audience: audience, Realm: "protected-api", Timeout: 5 * time.Second, Log: log})
}

func routesWith(mw *soidchttp.Middleware) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /api/hello", mw.Require(http.HandlerFunc(hello), soidchttp.Scopes("api:read")))
	mux.Handle("POST /api/notes", mw.Require(http.HandlerFunc(addNote), soidchttp.Scopes("api:write")))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return mux
}

// callerClaims are the claims this API reads, in its own type.
type callerClaims struct {
	Subject  string `json:"sub"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
}

func hello(w http.ResponseWriter, r *http.Request) {
	c, err := soidchttp.ClaimsFromContext[callerClaims](r.Context())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
		return
	}
	_, dpop := soidchttp.Token(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{
		"message":   "hello, " + c.Subject,
		"client_id": c.ClientID,
		"scopes":    strings.Fields(c.Scope),
		"dpop":      dpop,
	})
}

func addNote(w http.ResponseWriter, r *http.Request) {
	c := soidchttp.AccessTokenClaims(r.Context())
	writeJSON(w, http.StatusCreated, map[string]string{"created_by": c.Subject})
}

// newClient creates the API's soidc client with its keys fetched (so that the
// first request does not wait for them). With a stateFile it first tries the
// state in that file (source "state"); when the file is missing or refused it
// discovers (source "discovery"). Either way it writes the file back when its
// content changed (new discovery, or keys refreshed because they had expired).
func newClient(ctx context.Context, log *slog.Logger, issuer, clientID, stateFile string) (*soidc.Client, string, error) {
	cfg := soidc.Config{ClientID: clientID}
	var client *soidc.Client
	var saved []byte
	source := "discovery"
	if stateFile != "" {
		data, err := os.ReadFile(stateFile)
		switch {
		case errors.Is(err, os.ErrNotExist):
			log.Info("no provider state file yet", "path", stateFile)
		case err != nil:
			log.Warn("provider state file unreadable, discovering", "path", stateFile, "error", err)
		default:
			// Refused when for another issuer, stale, tampered or malformed.
			client, err = soidc.NewClientFromState(ctx, data, issuer, cfg)
			if err != nil {
				log.Warn("provider state file refused, discovering", "path", stateFile, "error", err)
			} else {
				saved, source = data, "state"
			}
		}
	}
	if client == nil {
		var err error
		client, err = soidc.NewClientFromIssuerURL(ctx, issuer, cfg)
		if err != nil {
			return nil, "", fmt.Errorf("discovery: %w", err)
		}
	}
	// Fetches the keys only if none are cached or they have expired.
	if _, err := client.ProviderKeys(ctx, nil); err != nil {
		client.Close()
		return nil, "", fmt.Errorf("provider keys: %w", err)
	}
	if stateFile == "" {
		return client, source, nil
	}
	state, err := client.ExportState(ctx)
	if err == nil && string(state) != string(saved) {
		err = writeFileAtomic(stateFile, state)
	}
	if err != nil {
		// The replica runs without the file; the next one discovers.
		log.Warn("could not write the provider state file", "path", stateFile, "error", err)
	}
	return client, source, nil
}

// writeFileAtomic replaces path with data: readers see the old or the new
// file, never a partial one.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename: nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
