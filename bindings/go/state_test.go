package soidc_test

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	soidc "github.com/soidc/soidc/bindings/go"
)

func TestExportStateAndNewClientFromState(t *testing.T) {
	ctx := testContext(t)
	s := newStubProvider(t)
	c := s.client(t, soidc.Options{})
	if _, err := c.ProviderKeys(ctx, nil); err != nil {
		t.Fatal(err)
	}
	state, err := c.ExportState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(state, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["soidc_state"] != float64(1) || doc["issuer"] != s.issuer() || doc["jwks"] == nil {
		t.Fatalf("state %s", state)
	}
	if strings.Contains(string(state), "stub-secret") {
		t.Fatal("the state holds the client secret")
	}
	var logged []string
	var mu sync.Mutex
	cfg := soidc.Config{ClientID: "stub-client", ClientSecret: "stub-secret"}
	withLogger := cfg
	withLogger.Options.Logger = func(level soidc.LogLevel, msg string) { mu.Lock(); logged = append(logged, msg); mu.Unlock() }
	withLogger.Options.LogLevel = soidc.LogDebug
	r, err := soidc.NewClientFromState(ctx, state, s.issuer(), withLogger)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The keys came with the state: usable without a fetch.
	if _, err := r.ProviderKeys(ctx, &soidc.ProviderKeysOptions{CacheOnly: true}); err != nil {
		t.Fatalf("cache only after import: %v", err)
	}
	claims, err := r.DecodeIDToken(ctx, s.idToken(t, nil), nil)
	if err != nil || claims.Subject != "carol" {
		t.Fatalf("decode: %v %+v", err, claims)
	}
	// A refused token is logged: through Options.Logger.
	if _, err := r.DecodeIDToken(ctx, s.idToken(t, map[string]any{"aud": "someone-else"}), nil); err == nil {
		t.Fatal("a token for another audience was accepted")
	}
	mu.Lock()
	if len(logged) == 0 {
		t.Error("Options.Logger received nothing")
	}
	mu.Unlock()
	again, err := r.ExportState(ctx)
	if err != nil || string(again) != string(state) {
		t.Fatalf("re-export differs: %v\n%s\n%s", err, again, state)
	}

	// Refused: another issuer, a tampered document, garbage, a NUL byte.
	_, err = soidc.NewClientFromState(ctx, state, "https://other.example", cfg)
	mustErr(t, err, soidc.ErrInvalidArgument)
	tampered := strings.Replace(string(state), `"soidc_state":1`, `"soidc_state":2`, 1)
	e := mustErr(t, func() error { _, err := soidc.NewClientFromState(ctx, []byte(tampered), s.issuer(), cfg); return err }(), soidc.ErrInvalidArgument)
	if !strings.Contains(e.Message, "version 2") {
		t.Fatalf("message %q", e.Message)
	}
	_, err = soidc.NewClientFromState(ctx, state[:len(state)/2], s.issuer(), cfg)
	mustErr(t, err, soidc.ErrInvalidArgument)
	_, err = soidc.NewClientFromState(ctx, []byte("{\x00}"), s.issuer(), cfg)
	mustErr(t, err, soidc.ErrInvalidArgument)
	c.Close()
	if _, err := c.ExportState(ctx); !errors.Is(err, soidc.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
