package soidchttp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
	"github.com/soidc/soidc/bindings/go/soidchttp"
	"github.com/soidc/soidc/bindings/go/soidctest"
)

// The test provider's fixed registrations (tests/provider/README.md).
const (
	basicID     = "conf-basic"
	basicSecret = "conf-basic-secret-0123456789abcdef"
	apiResource = "https://api.soidc.test"
)

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

func newClient(t testing.TB, id, secret string) *soidc.Client {
	t.Helper()
	c, err := soidc.NewClientFromIssuerURL(testContext(t), issuer(t), soidc.Config{ClientID: id, ClientSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// stubAPIClient is the client "api" of the stub provider p, with opts; closed when
// the test ends.
func stubAPIClient(t testing.TB, p *soidctest.Provider, opts soidc.Options) *soidc.Client {
	t.Helper()
	c, err := soidc.NewClientFromIssuerURL(testContext(t), p.Issuer(), soidc.Config{ClientID: "api", Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// quietLog is a middleware log that discards its lines.
func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// apiToken is a real RFC 9068 access token of the provider for the test API.
func apiToken(t testing.TB, caller *soidc.Client, scope string) string {
	t.Helper()
	tokens, err := caller.ClientCredentialsGrant(testContext(t), scope, &soidc.GrantOptions{Resource: []string{apiResource}})
	if err != nil {
		t.Fatal(err)
	}
	return tokens.AccessToken
}

// logBuffer collects the middleware's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newLog() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, nil)), b
}

type answer struct {
	status     int
	challenges []string
	retryAfter string
	body       map[string]any
	raw        string
}

func do(t *testing.T, h http.Handler, method, target string, headers ...string) answer {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	a := answer{status: w.Code, challenges: w.Header().Values("WWW-Authenticate"), retryAfter: w.Header().Get("Retry-After"), raw: w.Body.String()}
	if err := json.Unmarshal(w.Body.Bytes(), &a.body); err != nil {
		t.Fatalf("%s %s: body %q: %v", method, target, w.Body.String(), err)
	}
	if w.Code != http.StatusOK && w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("%s %s: error answer without Cache-Control: no-store", method, target)
	}
	return a
}

// The caller's own claim type.
type apiClaims struct {
	Subject  string `json:"sub"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	JTI      string `json:"jti"`
}

// echo answers with the typed claims of the request.
func echo(w http.ResponseWriter, r *http.Request) {
	claims, err := soidchttp.ClaimsFromContext[apiClaims](r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	again, _ := soidchttp.ClaimsFromContext[apiClaims](r.Context())
	lib, _ := soidchttp.ClaimsFromContext[soidc.AccessTokenClaims](r.Context())
	token, dpop := soidchttp.Token(r.Context())
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"sub": claims.Subject, "client_id": claims.ClientID, "scope": claims.Scope,
		"same_pointer": again == claims, "lib_jti_matches": lib == soidchttp.AccessTokenClaims(r.Context()) && lib.JWTID == claims.JTI,
		"token_len": len(token), "dpop": dpop,
	})
}

// Every RFC 6750 §3 answer of the middleware against real tokens of the
// test provider, validated by the real library.
func TestMiddlewareAnswers(t *testing.T) {
	caller := newClient(t, basicID, basicSecret)
	api := newClient(t, "protected-api", "")
	read, readWrite := apiToken(t, caller, "api:read"), apiToken(t, caller, "api:read api:write")
	idTokens, err := caller.DirectAccessGrant(testContext(t), "alice", "alice-password", "openid", nil)
	if err != nil {
		t.Fatal(err)
	}
	log, logs := newLog()
	mw := &soidchttp.Middleware{Client: api, Audience: apiResource, Realm: "notes", Log: log}
	mux := http.NewServeMux()
	mux.Handle("GET /read", mw.Require(http.HandlerFunc(echo), soidchttp.Scopes("api:read")))
	mux.Handle("POST /write", mw.Require(http.HandlerFunc(echo), soidchttp.Scopes("api:read", "api:write")))

	const (
		bearer = `Bearer realm="notes"`
		dpop   = `DPoP realm="notes"`
	)
	cases := []struct {
		name, method, target string
		headers              []string
		status               int
		challenges           []string // exact WWW-Authenticate values
	}{
		{"no credentials", "GET", "/read", nil, 401,
			[]string{bearer + `, scope="api:read"`, dpop + `, scope="api:read", algs="ES256 ES384 EdDSA PS256 PS384 PS512 RS256 RS384 RS512"`}},
		{"another scheme", "GET", "/read", []string{"Authorization", "Basic Y29uZjpzZWNyZXQ="}, 401,
			[]string{bearer + `, scope="api:read"`, dpop + `, scope="api:read", algs="ES256 ES384 EdDSA PS256 PS384 PS512 RS256 RS384 RS512"`}},
		{"malformed header", "GET", "/read", []string{"Authorization", "Bearer two words"}, 400,
			[]string{bearer + `, error="invalid_request", error_description="malformed Authorization header"`, dpop + `, algs="ES256 ES384 EdDSA PS256 PS384 PS512 RS256 RS384 RS512"`}},
		{"scheme without token", "GET", "/read", []string{"Authorization", "Bearer"}, 400,
			[]string{bearer + `, error="invalid_request", error_description="malformed Authorization header"`, dpop + `, algs="ES256 ES384 EdDSA PS256 PS384 PS512 RS256 RS384 RS512"`}},
		{"two Authorization headers", "GET", "/read", []string{"Authorization", "Bearer " + read, "Authorization", "Bearer " + read}, 400,
			[]string{bearer + `, error="invalid_request", error_description="more than one Authorization header"`, dpop + `, algs="ES256 ES384 EdDSA PS256 PS384 PS512 RS256 RS384 RS512"`}},
		{"token in the query too", "GET", "/read?access_token=" + read, []string{"Authorization", "Bearer " + read}, 400,
			[]string{bearer + `, error="invalid_request", error_description="access tokens are not accepted in the URI"`, dpop + `, algs="ES256 ES384 EdDSA PS256 PS384 PS512 RS256 RS384 RS512"`}},
		{"garbage token", "GET", "/read", []string{"Authorization", "Bearer abc.def.ghi"}, 401,
			[]string{bearer + `, error="invalid_token", error_description="the access token is invalid or expired"`, dpop + `, algs="ES256 ES384 EdDSA PS256 PS384 PS512 RS256 RS384 RS512"`}},
		{"an ID token", "GET", "/read", []string{"Authorization", "Bearer " + idTokens.IDToken}, 401,
			[]string{bearer + `, error="invalid_token", error_description="the access token is invalid or expired"`, dpop + `, algs="ES256 ES384 EdDSA PS256 PS384 PS512 RS256 RS384 RS512"`}},
		{"a token altered by one byte", "GET", "/read", []string{"Authorization", "Bearer " + read[:len(read)-2] + flip(read[len(read)-2])}, 401,
			[]string{bearer + `, error="invalid_token", error_description="the access token is invalid or expired"`, dpop + `, algs="ES256 ES384 EdDSA PS256 PS384 PS512 RS256 RS384 RS512"`}},
		{"read token, write route", "POST", "/write", []string{"Authorization", "Bearer " + read}, 403,
			[]string{bearer + `, error="insufficient_scope", error_description="the access token does not grant access to this resource", scope="api:read api:write"`, dpop + `, algs="ES256 ES384 EdDSA PS256 PS384 PS512 RS256 RS384 RS512"`}},
		{"DPoP scheme without a proof", "GET", "/read", []string{"Authorization", "DPoP " + read}, 401,
			[]string{bearer, dpop + `, error="invalid_dpop_proof", error_description="the DPoP scheme needs a DPoP proof header", algs="ES256 ES384 EdDSA PS256 PS384 PS512 RS256 RS384 RS512"`}},
		{"DPoP scheme, proof not a JWT", "GET", "/read", []string{"Authorization", "DPoP " + read, "DPoP", "not a jwt"}, 401,
			[]string{bearer, dpop + `, error="invalid_dpop_proof", error_description="the DPoP proof is not a JWT", algs="ES256 ES384 EdDSA PS256 PS384 PS512 RS256 RS384 RS512"`}},
		{"DPoP scheme, 1 MB proof", "GET", "/read", []string{"Authorization", "DPoP " + read, "DPoP", strings.Repeat("a", 1<<19) + "." + strings.Repeat("b", 1<<19) + ".c"}, 401,
			[]string{bearer, dpop + `, error="invalid_dpop_proof", error_description="the DPoP proof is not a JWT", algs="ES256 ES384 EdDSA PS256 PS384 PS512 RS256 RS384 RS512"`}},
		{"DPoP scheme, two proofs", "GET", "/read", []string{"Authorization", "DPoP " + read, "DPoP", "a.b.c", "DPoP", "a.b.c"}, 401,
			[]string{bearer, dpop + `, error="invalid_dpop_proof", error_description="more than one DPoP header", algs="ES256 ES384 EdDSA PS256 PS384 PS512 RS256 RS384 RS512"`}},
		{"read token, read route", "GET", "/read", []string{"Authorization", "Bearer " + read}, 200, nil},
		{"lower-case scheme", "GET", "/read", []string{"Authorization", "bearer " + read}, 200, nil},
		{"write token, write route", "POST", "/write", []string{"Authorization", "Bearer " + readWrite}, 200, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, mux, tc.method, tc.target, tc.headers...)
			if a.status != tc.status || strings.Join(a.challenges, "\n") != strings.Join(tc.challenges, "\n") {
				t.Fatalf("got %d\n%s\nwant %d\n%s\nbody %s", a.status, strings.Join(a.challenges, "\n"), tc.status, strings.Join(tc.challenges, "\n"), a.raw)
			}
			switch {
			case tc.status == 200:
				if a.body["sub"] != basicID || a.body["client_id"] != basicID || a.body["same_pointer"] != true ||
					a.body["lib_jti_matches"] != true || a.body["dpop"] != false {
					t.Fatalf("typed claims: %v", a.body)
				}
			case tc.status == 401 && !strings.Contains(strings.Join(tc.challenges, ""), "error="):
				if len(a.body) != 0 {
					t.Fatalf("an error code without credentials: %v", a.body)
				}
			default:
				if a.body["error"] == nil {
					t.Fatalf("no error in the body: %v", a.body)
				}
			}
		})
	}
	// The reason goes to the log, never to the caller.
	if out := logs.String(); !strings.Contains(out, "access token refused") || !strings.Contains(out, "status=403") ||
		!strings.Contains(out, "status=401") {
		t.Fatalf("refusals not logged: %s", out)
	}
	if out := logs.String(); strings.Contains(out, read) {
		t.Fatal("a token was logged")
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// Only one scheme: its challenge alone.
func TestMiddlewareModes(t *testing.T) {
	caller := newClient(t, basicID, basicSecret)
	api := newClient(t, "protected-api", "")
	read := apiToken(t, caller, "api:read")
	log, _ := newLog()

	bearerOnly := (&soidchttp.Middleware{Client: api, Audience: apiResource, DPoP: soidchttp.DPoPDisabled, Log: log}).
		Require(http.HandlerFunc(echo))
	if a := do(t, bearerOnly, "GET", "/x"); a.status != 401 || strings.Join(a.challenges, "|") != "Bearer" {
		t.Fatalf("Bearer only, no credentials: %d %q", a.status, a.challenges)
	}
	// The DPoP scheme is then another scheme: no credentials for this resource.
	if a := do(t, bearerOnly, "GET", "/x", "Authorization", "DPoP "+read, "DPoP", "a.b.c"); a.status != 401 || strings.Join(a.challenges, "|") != "Bearer" {
		t.Fatalf("Bearer only, DPoP scheme: %d %q", a.status, a.challenges)
	}
	if a := do(t, bearerOnly, "GET", "/x", "Authorization", "Bearer "+read); a.status != 200 {
		t.Fatalf("Bearer only, a good token: %d %s", a.status, a.raw)
	}

	dpopOnly := (&soidchttp.Middleware{Client: api, Audience: apiResource, DPoP: soidchttp.DPoPRequired, DPoPAlgs: []string{"ES256"}, Log: log}).
		Require(http.HandlerFunc(echo))
	if a := do(t, dpopOnly, "GET", "/x", "Authorization", "Bearer "+read); a.status != 401 || strings.Join(a.challenges, "|") != `DPoP algs="ES256"` {
		t.Fatalf("DPoP only, a Bearer token: %d %q", a.status, a.challenges)
	}
}

// 503 with Retry-After and no challenge when the token could not be checked:
// a CacheOnly client before its first key fetch (reason no_keys_cached), then
// 200 once the keys are fetched; and a provider that cannot be reached.
func TestMiddlewareUnavailable(t *testing.T) {
	ctx := testContext(t)
	caller := newClient(t, basicID, basicSecret)
	meta, err := caller.ProviderConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	api, err := soidc.NewClientFromIssuerConfig(ctx, meta.Raw, soidc.Config{ClientID: "protected-api"})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	read := apiToken(t, caller, "api:read")
	log, logs := newLog()
	h := (&soidchttp.Middleware{Client: api, Audience: apiResource, CacheOnly: true, RetryAfter: 1500 * time.Millisecond, Log: log}).
		Require(http.HandlerFunc(echo), soidchttp.Scopes("api:read"))
	a := do(t, h, "GET", "/x", "Authorization", "Bearer "+read)
	if a.status != 503 || a.retryAfter != "2" || len(a.challenges) != 0 || a.body["error"] != "temporarily_unavailable" {
		t.Fatalf("no keys cached: %+v", a)
	}
	if !strings.Contains(logs.String(), soidc.ReasonNoKeysCached) && !strings.Contains(logs.String(), "no keys") {
		t.Fatalf("not logged: %s", logs.String())
	}
	if _, err := api.ProviderKeys(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if a := do(t, h, "GET", "/x", "Authorization", "Bearer "+read); a.status != 200 {
		t.Fatalf("after the key fetch: %+v", a)
	}

	// A provider whose JWKS cannot be fetched: the metadata point the keys at a closed port.
	var m map[string]any
	if err := json.Unmarshal(meta.Raw, &m); err != nil {
		t.Fatal(err)
	}
	m["jwks_uri"] = "http://127.0.0.1:9/jwks"
	raw, _ := json.Marshal(m)
	down, err := soidc.NewClientFromIssuerConfig(ctx, raw, soidc.Config{ClientID: "protected-api"})
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	h = (&soidchttp.Middleware{Client: down, Audience: apiResource, Log: log}).Require(http.HandlerFunc(echo))
	if a := do(t, h, "GET", "/x", "Authorization", "Bearer "+read); a.status != 503 || a.retryAfter != "5" || len(a.challenges) != 0 {
		t.Fatalf("keys unreachable: %+v", a)
	}
}

// The library refusing the middleware's own options is a 500 (logged as an
// error), not the caller's fault.
func TestMiddlewareBadOptions(t *testing.T) {
	caller := newClient(t, basicID, basicSecret)
	api := newClient(t, "protected-api", "")
	read := apiToken(t, caller, "api:read")
	log, logs := newLog()
	// Audience and Audiences together are refused by the binding.
	h := (&soidchttp.Middleware{Client: api, Audience: apiResource, Audiences: []string{apiResource}, Log: log}).Require(http.HandlerFunc(echo))
	if a := do(t, h, "GET", "/x", "Authorization", "Bearer "+read); a.status != 500 || len(a.challenges) != 0 || a.body["error"] != "server_error" {
		t.Fatalf("bad options: %+v", a)
	}
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("not logged as an error: %s", logs.String())
	}
	// A scope that would break the challenge is refused when the route is made.
	defer func() {
		if recover() == nil {
			t.Fatal("a scope with a quote was accepted")
		}
	}()
	(&soidchttp.Middleware{Client: api}).Require(http.HandlerFunc(echo), soidchttp.Scopes(`a"b`))
}

// A custom error body, and ClaimsFromContext outside the middleware.
func TestErrorBodyAndNoClaims(t *testing.T) {
	var got *soidchttp.Failure
	log, _ := newLog()
	mw := &soidchttp.Middleware{Client: failing{}, Log: log, ErrorBody: func(w http.ResponseWriter, r *http.Request, f *soidchttp.Failure) {
		got = f
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(`{"custom":true}`))
	}}
	a := do(t, mw.Require(http.HandlerFunc(echo)), "GET", "/x", "Authorization", "Bearer abc")
	if a.status != 401 || a.body["custom"] != true || got == nil || got.Code != "invalid_token" || !errors.Is(got.Err, soidc.ErrValidation) {
		t.Fatalf("custom body: %+v %+v", a, got)
	}
	if _, err := soidchttp.ClaimsFromContext[apiClaims](context.Background()); !errors.Is(err, soidchttp.ErrNoClaims) {
		t.Fatalf("no claims: %v", err)
	}
	if soidchttp.AccessTokenClaims(context.Background()) != nil {
		t.Fatal("claims in an empty context")
	}
}

// failing refuses every token as the library would an expired one.
type failing struct{}

func (failing) DecodeAccessToken(context.Context, string, *soidc.AccessTokenOptions) (*soidc.AccessTokenClaims, error) {
	return nil, &soidc.Error{Status: soidc.StatusValidation, Message: "token expired", Reason: soidc.ReasonExpired}
}

// requireClaimsSupported skips a test when the library in use does not know
// the decode option require_claims yet.
func requireClaimsSupported(t *testing.T, api *soidc.Client, token string) {
	t.Helper()
	_, err := api.DecodeAccessToken(testContext(t), token, &soidc.AccessTokenOptions{Audience: apiResource,
		RequireClaims: []soidc.ClaimRule{{Claim: "sub", Op: soidc.ClaimExists}}})
	var e *soidc.Error
	if errors.As(err, &e) && e.Status == soidc.StatusInvalidArgument && strings.Contains(e.Message, "require_claims") {
		t.Skip("this library has no require_claims option yet: " + e.Message)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// Claim rules per route, checked by the library: a failed rule is 403
// insufficient_scope, and the rule's name is logged, not sent.
func TestMiddlewareClaimRules(t *testing.T) {
	caller := newClient(t, basicID, basicSecret)
	api := newClient(t, "protected-api", "")
	read := apiToken(t, caller, "api:read")
	requireClaimsSupported(t, api, read)
	log, logs := newLog()
	mw := &soidchttp.Middleware{Client: api, Audience: apiResource, Log: log}
	cases := []struct {
		name   string
		rule   soidc.ClaimRule
		status int
	}{
		{"eq passes", soidc.ClaimRule{Claim: "client_id", Op: soidc.ClaimEq, Value: basicID}, 200},
		{"eq fails", soidc.ClaimRule{Claim: "client_id", Op: soidc.ClaimEq, Value: "someone-else", Name: "callers-allow-list"}, 403},
		{"in passes", soidc.ClaimRule{Claim: "client_id", Op: soidc.ClaimIn, Value: []string{"x", basicID}}, 200},
		{"in fails", soidc.ClaimRule{Claim: "client_id", Op: soidc.ClaimIn, Value: []string{"x", "y"}}, 403},
		{"exists passes", soidc.ClaimRule{Claim: "/jti", Op: soidc.ClaimExists}, 200},
		{"exists fails", soidc.ClaimRule{Claim: "realm_access.roles", Op: soidc.ClaimExists}, 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := mw.Require(http.HandlerFunc(echo), soidchttp.Scopes("api:read"), soidchttp.Claims(tc.rule))
			a := do(t, h, "GET", "/x", "Authorization", "Bearer "+read)
			if a.status != tc.status {
				t.Fatalf("got %d %s, want %d", a.status, a.raw, tc.status)
			}
			if tc.status == 403 && (a.body["error"] != "insufficient_scope" || strings.Contains(a.raw, "client_id")) {
				t.Fatalf("refusal: %s %q", a.raw, a.challenges)
			}
		})
	}
	if !strings.Contains(logs.String(), "callers-allow-list") {
		t.Fatalf("the failed rule is not named in the log: %s", logs.String())
	}
	if strings.Contains(logs.String(), basicID+`"`) {
		t.Fatalf("a claim value in the log: %s", logs.String())
	}
}

func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
