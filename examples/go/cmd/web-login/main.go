// Command web-login is a small web application that signs users in with the
// OpenID Connect authorization code flow through soidc, with the response
// delivered as a form POST (response_mode=form_post) and the request pushed to
// the provider when it requires it (PAR "auto").
//
//	web-login -issuer https://id.example.com -client-id web -redirect-uri https://app.example.com/callback [-listen 127.0.0.1:8080]
//
// The client secret comes from $SOIDC_CLIENT_SECRET.
//
//	GET  /login     starts the flow: keeps state, nonce and PKCE verifier in a
//	                server-side session (random cookie) and redirects to the provider
//	POST /callback  the provider's form_post: the raw body goes to soidc with
//	                the kept state; answers the validated sub
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
)

const (
	sessionCookie = "web_login_session"
	sessionTTL    = 10 * time.Minute
	maxBody       = 64 << 10
)

// authCoder is the part of *soidc.Client the handlers use.
type authCoder interface {
	AuthCodeStart(ctx context.Context, opts *soidc.AuthCodeStartOptions) (*soidc.AuthCodeRequest, error)
	AuthCodeHandleFormPost(ctx context.Context, contentType, body string, state *soidc.AuthCodeFormPostState, opts *soidc.AuthCodeFormPostOptions) (*soidc.TokenResponse, error)
}

// pending is a started login waiting for its callback.
type pending struct {
	state   *soidc.AuthCodeFormPostState
	expires time.Time
}

// sessions keeps pending logins in memory, keyed by a random cookie value.
// Each one is used at most once.
type sessions struct {
	mu sync.Mutex
	m  map[string]pending
}

func (s *sessions) put(p pending) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for k, v := range s.m {
		if now.After(v.expires) {
			delete(s.m, k)
		}
	}
	s.m[id] = p
	return id, nil
}

// take returns and forgets the pending login id names.
func (s *sessions) take(id string) (pending, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.m[id]
	delete(s.m, id)
	if !ok || time.Now().After(p.expires) {
		return pending{}, false
	}
	return p, true
}

func routes(c authCoder, log *slog.Logger) http.Handler {
	store := &sessions{m: map[string]pending{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		start, err := c.AuthCodeStart(r.Context(), &soidc.AuthCodeStartOptions{ResponseMode: "form_post"})
		if err != nil {
			log.Error("authorization request", "err", err)
			http.Error(w, "cannot start the login", http.StatusBadGateway)
			return
		}
		id, err := store.put(pending{state: start.FormPostState("form_post"), expires: time.Now().Add(sessionTTL)})
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		// SameSite=None: the provider's form POSTs to /callback cross-site,
		// and a Lax cookie would not be sent with it. (Secure in production.)
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true,
			Secure: r.TLS != nil, SameSite: http.SameSiteNoneMode, MaxAge: int(sessionTTL.Seconds())})
		http.Redirect(w, r, start.URL, http.StatusFound)
	})
	mux.HandleFunc("POST /callback", func(w http.ResponseWriter, r *http.Request) {
		cookie, err := r.Cookie(sessionCookie)
		if err != nil {
			http.Error(w, "no login in progress", http.StatusBadRequest)
			return
		}
		p, ok := store.take(cookie.Value)
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1})
		if !ok {
			http.Error(w, "no login in progress", http.StatusBadRequest)
			return
		}
		// The body goes to soidc as received: no ParseForm.
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		tokens, err := c.AuthCodeHandleFormPost(r.Context(), r.Header.Get("Content-Type"), string(body), p.state, nil)
		if err != nil {
			// The response itself is bad (wrong state, an error from the
			// provider, a malformed body): the browser's request, 400.
			if errors.Is(err, soidc.ErrValidation) || errors.Is(err, soidc.ErrAuthenticationFailed) || errors.Is(err, soidc.ErrInvalidArgument) {
				log.Info("login refused", "err", err)
				http.Error(w, "login failed", http.StatusBadRequest)
				return
			}
			log.Error("login", "err", err)
			http.Error(w, "login failed", http.StatusBadGateway)
			return
		}
		if tokens.IDTokenClaims == nil {
			http.Error(w, "no ID token", http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>Signed in</title><p>Signed in as <code id=\"sub\">%s</code></p>\n",
			html.EscapeString(tokens.IDTokenClaims.Subject))
	})
	return mux
}

func main() {
	issuer := flag.String("issuer", os.Getenv("SOIDC_TEST_ISSUER"), "the provider's issuer URL (default $SOIDC_TEST_ISSUER)")
	clientID := flag.String("client-id", "", "the client id (required); the secret comes from $SOIDC_CLIENT_SECRET")
	redirectURI := flag.String("redirect-uri", "", "this application's /callback URL as registered at the provider (required)")
	listen := flag.String("listen", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	if *issuer == "" || *clientID == "" || *redirectURI == "" {
		fmt.Fprintln(os.Stderr, "web-login: -issuer (or $SOIDC_TEST_ISSUER), -client-id and -redirect-uri are required")
		flag.Usage()
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	client, err := soidc.NewClientFromIssuerURL(ctx, *issuer, soidc.Config{ClientID: *clientID,
		ClientSecret: os.Getenv("SOIDC_CLIENT_SECRET"), RedirectURI: *redirectURI, Scope: "openid"})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "web-login: discovery:", err)
		os.Exit(1)
	}
	defer client.Close()
	srv := &http.Server{Addr: *listen, Handler: routes(client, log), ReadHeaderTimeout: 10 * time.Second}
	log.Info("listening", "addr", *listen)
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "web-login:", err)
		os.Exit(1)
	}
}
