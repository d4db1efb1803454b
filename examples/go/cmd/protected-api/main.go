// Command protected-api is a small HTTP API whose routes are protected by
// OAuth 2.0 bearer tokens: RFC 9068 JWT access tokens validated with soidc
// (signature, issuer, expiry, audience and scope). It answers 401/403 with a
// WWW-Authenticate challenge as RFC 6750 says.
//
//	protected-api -issuer https://id.example.com -audience https://api.example.com [-listen 127.0.0.1:8080]
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
	"syscall"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
)

func main() {
	issuer := flag.String("issuer", os.Getenv("SOIDC_TEST_ISSUER"), "the provider's issuer URL (default $SOIDC_TEST_ISSUER)")
	audience := flag.String("audience", "https://api.soidc.test", "this API's resource identifier (the tokens' aud)")
	clientID := flag.String("client-id", "protected-api", "the client id soidc uses for this API (no secret needed)")
	listen := flag.String("listen", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *issuer == "" {
		fmt.Fprintln(os.Stderr, "protected-api: -issuer (or $SOIDC_TEST_ISSUER) is required")
		os.Exit(2)
	}
	if err := run(log, *issuer, *audience, *clientID, *listen); err != nil {
		log.Error("protected-api failed", "error", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, issuer, audience, clientID, listen string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	soidc.SetLogger(soidc.SlogLogger(log), soidc.LogWarn)

	setup, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	client, err := soidc.NewClientFromIssuerURL(setup, issuer, soidc.Config{ClientID: clientID})
	if err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	defer client.Close()
	// Fetch the keys now rather than on the first request.
	if _, err := client.ProviderKeys(setup, nil); err != nil {
		return fmt.Errorf("provider keys: %w", err)
	}

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

// routes is the API: each route states the scopes it needs.
func routes(tokens accessTokenDecoder, audience string, log *slog.Logger) http.Handler {
	bearer := &Bearer{Tokens: tokens, Audience: audience, Realm: "protected-api", Timeout: 5 * time.Second, Log: log}
	mux := http.NewServeMux()
	mux.Handle("GET /api/hello", bearer.Require([]string{"api:read"}, http.HandlerFunc(hello)))
	mux.Handle("POST /api/notes", bearer.Require([]string{"api:write"}, http.HandlerFunc(addNote)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return mux
}

func hello(w http.ResponseWriter, r *http.Request) {
	c := Claims(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{
		"message":   "hello, " + c.Subject,
		"client_id": c.ClientID,
		"scopes":    c.Scopes(),
	})
}

func addNote(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusCreated, map[string]string{"created_by": Claims(r.Context()).Subject})
}
