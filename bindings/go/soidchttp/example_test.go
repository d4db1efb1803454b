package soidchttp_test

import (
	"context"
	"net/http"

	soidc "github.com/soidc/soidc/bindings/go"
	"github.com/soidc/soidc/bindings/go/soidchttp"
)

// An API whose routes need scopes and a group, reading the claims in its own type.
func ExampleMiddleware() {
	client, err := soidc.NewClientFromIssuerURL(context.Background(), "https://id.example.com", soidc.Config{ClientID: "notes-api"})
	if err != nil {
		return
	}
	defer client.Close()

	type noteClaims struct {
		Subject string   `json:"sub"`
		Groups  []string `json:"groups"`
	}
	list := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, err := soidchttp.ClaimsFromContext[noteClaims](r.Context())
		if err != nil {
			http.Error(w, "server error", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("notes of " + claims.Subject))
	})
	remove := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })

	mw := &soidchttp.Middleware{Client: client, Audience: "https://notes.example.com", Realm: "notes",
		BaseURL: "https://notes.example.com"} // the external URL, for DPoP proofs behind a proxy
	mux := http.NewServeMux()
	mux.Handle("GET /notes", mw.Require(list, soidchttp.Scopes("notes:read")))
	mux.Handle("DELETE /notes/{id}", mw.Require(remove, soidchttp.Scopes("notes:write"),
		soidchttp.Claims(soidc.ClaimRule{Claim: "groups", Op: soidc.ClaimContains, Value: "editors", Name: "editors only"})))
	_ = http.ListenAndServe("127.0.0.1:8080", mux)
}
