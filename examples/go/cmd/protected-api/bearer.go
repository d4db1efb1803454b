package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
)

// accessTokenDecoder is the part of *soidc.Client the middleware uses.
type accessTokenDecoder interface {
	DecodeAccessToken(ctx context.Context, rawToken string, opts *soidc.AccessTokenOptions) (*soidc.AccessTokenClaims, error)
}

// Bearer protects handlers with RFC 9068 JWT access tokens, answering as RFC
// 6750 §3 says: 401 without an error code when there is no token, 400
// invalid_request for a malformed Authorization header, 401 invalid_token
// for a token that does not validate, 403 insufficient_scope when a scope is
// missing. 503 with Retry-After when the token could not be checked: the
// provider's keys cannot be fetched, or (CacheOnly) none are cached yet
// (reason no_keys_cached), which says nothing about the token.
type Bearer struct {
	Tokens   accessTokenDecoder
	Audience string        // this API's resource identifier, required in aud
	Realm    string        // shown in WWW-Authenticate
	Timeout  time.Duration // bound for validating one token (a key fetch may be needed)
	// CacheOnly validates with the keys already cached and never fetches on a
	// request (keep them fresh with ProviderKeys in the background); before the
	// first fetch every request gets 503, not 401.
	CacheOnly bool
	Log       *slog.Logger
}

type claimsKey struct{}

// Claims returns the validated claims of the request's access token.
func Claims(ctx context.Context) *soidc.AccessTokenClaims {
	c, _ := ctx.Value(claimsKey{}).(*soidc.AccessTokenClaims)
	return c
}

// RFC 6750 §2.1: b64token.
var b64token = regexp.MustCompile(`^[A-Za-z0-9\-._~+/]+=*$`)

// Require lets a request through to next only with a valid access token for
// b.Audience that holds every scope in scopes.
func (b *Bearer) Require(scopes []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		scheme, token, _ := strings.Cut(header, " ")
		if header == "" || !strings.EqualFold(scheme, "Bearer") {
			// No credentials at all: no error code (RFC 6750 §3.1).
			b.challenge(w, http.StatusUnauthorized, "", "", nil)
			return
		}
		token = strings.TrimLeft(token, " ")
		if !b64token.MatchString(token) {
			b.challenge(w, http.StatusBadRequest, "invalid_request", "malformed Authorization header", nil)
			return
		}

		ctx, cancel := context.WithTimeout(r.Context(), b.Timeout)
		defer cancel()
		claims, err := b.Tokens.DecodeAccessToken(ctx, token, &soidc.AccessTokenOptions{
			Audience:       b.Audience,
			RequiredScopes: scopes,
			CacheOnly:      b.CacheOnly,
		})
		var e *soidc.Error
		switch {
		case err == nil:
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
		case errors.As(err, &e) && e.Reason == soidc.ReasonNoKeysCached:
			// Not the token's fault: no keys to check it with yet.
			b.Log.Warn("access token not checked: no provider keys cached yet", "error", err)
			b.unavailable(w)
		case errors.As(err, &e) && e.Reason == soidc.ReasonScope:
			b.challenge(w, http.StatusForbidden, "insufficient_scope", "the access token lacks a required scope", scopes)
		case errors.Is(err, soidc.ErrValidation), errors.Is(err, soidc.ErrInvalidArgument):
			// The details (which check failed) go to the log, not to the caller.
			b.Log.Info("access token rejected", "error", err)
			b.challenge(w, http.StatusUnauthorized, "invalid_token", "the access token is invalid or expired", nil)
		default:
			// Keys unavailable (network, HTTP, protocol), or the request gave up.
			b.Log.Warn("access token could not be validated", "error", err)
			b.unavailable(w)
		}
	})
}

// unavailable answers 503 with Retry-After: the token could not be checked now.
func (b *Bearer) unavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable"})
}

// challenge answers with a WWW-Authenticate: Bearer challenge and the same
// error in a JSON body.
func (b *Bearer) challenge(w http.ResponseWriter, status int, code, description string, scopes []string) {
	params := []string{`realm="` + b.Realm + `"`}
	if code != "" {
		params = append(params, `error="`+code+`"`, `error_description="`+description+`"`)
	}
	if len(scopes) > 0 {
		params = append(params, `scope="`+strings.Join(scopes, " ")+`"`)
	}
	w.Header().Set("WWW-Authenticate", "Bearer "+strings.Join(params, ", "))
	body := map[string]string{}
	if code != "" {
		body["error"], body["error_description"] = code, description
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
