// Package soidchttp protects net/http handlers with OAuth 2.0 access tokens
// validated by soidc: RFC 9068 JWT access tokens sent as bearer tokens
// (RFC 6750 §2.1) or as DPoP-bound tokens with a proof (RFC 9449 §7.1).
//
// The validation is the library's (signature, iss, exp, aud, scopes, claim
// rules, the DPoP proof and its binding); this package reads the request,
// passes it on, and answers as the RFCs say:
//
//   - no credentials: 401 and a challenge without an error code (RFC 6750 §3.1);
//   - a malformed request (a malformed Authorization header, two of them, a
//     token in the URI query): 400 invalid_request;
//   - a token that does not validate: 401 invalid_token;
//   - a certificate-bound token (RFC 8705 §3) without the request's client
//     certificate, or with another: 401 invalid_token;
//   - a DPoP proof that is missing, repeated or does not validate: 401
//     invalid_dpop_proof (RFC 9449 §4.3, §7.1);
//   - a valid token lacking a required scope, or failing a claim rule:
//     403 insufficient_scope, with the required scopes in scope= (RFC 6750 §3);
//   - the token could not be checked (the provider's keys cannot be fetched,
//     or, with CacheOnly, none are cached yet: reason no_keys_cached): 503 with
//     Retry-After, since that says nothing about the token;
//   - the library refused the middleware's own options (a claim rule it
//     cannot parse, a library too old for an option used): 500, logged as an
//     error.
//
// The challenge is WWW-Authenticate: Bearer, DPoP with algs= (RFC 9449 §7.1),
// or both (§7.2) depending on Middleware.DPoP; an error code goes in the
// challenge of the scheme the request used. The reason a token was refused
// is logged, never sent to the caller.
//
// The validated claims are in the request's context: ClaimsFromContext[T]
// decodes them into the caller's own type.
//
// A resource server sees the same token on every request of a session: give
// the Client the verified-token cache (soidc.Options.VerifiedCacheEntries)
// and a token seen before skips the signature check, and only it; every
// other check, the DPoP proof of each request included, still runs.
//
//	mw := &soidchttp.Middleware{Client: client, Audience: "https://api.example.com"}
//	mux.Handle("GET /notes", mw.Require(notes, soidchttp.Scopes("notes:read")))
//	mux.Handle("DELETE /notes/{id}", mw.Require(del, soidchttp.Scopes("notes:write"),
//		soidchttp.Claims(soidc.ClaimRule{Claim: "realm_access.roles", Op: soidc.ClaimContains, Value: "editor"})))
//
//	func notes(w http.ResponseWriter, r *http.Request) {
//		claims, err := soidchttp.ClaimsFromContext[MyClaims](r.Context())
//		...
//	}
package soidchttp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
)

// Validator is the part of *soidc.Client the middleware uses.
type Validator interface {
	DecodeAccessToken(ctx context.Context, rawToken string, opts *soidc.AccessTokenOptions) (*soidc.AccessTokenClaims, error)
}

// DPoPMode says which authorization schemes a Middleware accepts.
type DPoPMode int

const (
	// DPoPAllowed (the default) accepts "Authorization: Bearer" for unbound
	// tokens and "Authorization: DPoP" with a DPoP proof for bound ones
	// (RFC 9449 §7.2). A bound token sent as Bearer is refused.
	DPoPAllowed DPoPMode = iota
	// DPoPRequired accepts only DPoP-bound tokens with a proof.
	DPoPRequired
	// DPoPDisabled accepts only Bearer tokens; the challenge names Bearer only.
	DPoPDisabled
)

// DefaultDPoPAlgs are the proof algorithms named in the DPoP challenge's algs
// parameter when Middleware.DPoPAlgs is empty: those the library accepts for
// proofs (asymmetric only, RFC 9449 §4.3). A refusal by the library names
// them itself (its error document's algs), which then takes precedence.
var DefaultDPoPAlgs = []string{"ES256", "ES384", "EdDSA", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"}

// Middleware validates the access token of each request before its handler
// runs. Its fields are read on every request: set them before serving, and
// do not change them afterwards. The zero value of a field is its default.
type Middleware struct {
	// Client validates the tokens (a *soidc.Client). Required.
	Client Validator
	// Audience is this API's resource identifier, required in the token's
	// aud (default: the client's id). Audiences are several acceptable ones
	// instead (the token needs one of them).
	Audience  string
	Audiences []string
	// Realm, if not "", is the realm parameter of every challenge.
	Realm string
	// Timeout bounds validating one token (5 s), which may need a key fetch.
	Timeout time.Duration
	// CacheOnly validates with the keys already cached and never fetches on
	// a request (keep them fresh with Client.ProviderKeys in the background):
	// before the first fetch every request gets 503, not 401.
	CacheOnly bool
	// RetryAfter is the Retry-After of a 503 answer (5 s; whole seconds).
	RetryAfter time.Duration

	// DPoP says which schemes are accepted (DPoPAllowed).
	DPoP DPoPMode
	// DPoPAlgs are named in the algs of the DPoP challenges the middleware
	// makes itself (DefaultDPoPAlgs); a refusal by the library carries the
	// algorithms the library accepts, which are named then.
	DPoPAlgs []string
	// DPoPMaxAge is how old a proof may be (the library's default, 300 s).
	DPoPMaxAge time.Duration
	// DPoPNonce, if not nil, gives the nonce DPoP proofs must carry (RFC 9449
	// §9), for the request: a proof without it is answered 401 use_dpop_nonce
	// with the nonce in a DPoP-Nonce header, and the client repeats the
	// request with it. Rotate it as often as proofs should be fresh (the
	// function may return the same value for a while); "" means none.
	DPoPNonce func(r *http.Request) string
	// BaseURL is the external origin of this API, such as
	// "https://api.example.com" (no trailing slash), for the URI a DPoP proof
	// must name (htu, RFC 9449 §4.3): BaseURL + the request's path. Set it
	// behind a reverse proxy. Without it the URI is made of the request:
	// https when it came over TLS, http otherwise, its Host and path.
	// Forwarded headers are never read.
	BaseURL string

	// ClientCert returns the DER of the client certificate the request came
	// with, for certificate-bound access tokens (RFC 8705 §3: cnf x5t#S256),
	// or nil. nil (the default) takes the first certificate of the request's
	// own TLS connection (a server whose tls.Config asks for client
	// certificates); behind a TLS-terminating proxy, read the header the proxy
	// sets, and only from the proxy. A bound token without its certificate,
	// or with another, is answered 401 invalid_token.
	ClientCert func(r *http.Request) []byte

	// Log receives why a token was refused or could not be checked (never the
	// token). nil: slog.Default().
	Log *slog.Logger
	// ErrorBody, if not nil, writes the body of each error answer after the
	// middleware has set the status's headers (WWW-Authenticate, Retry-After,
	// Cache-Control); the default writes {"error": ..., "error_description": ...}
	// as JSON. It must call w.WriteHeader(f.Status).
	ErrorBody func(w http.ResponseWriter, r *http.Request, f *Failure)
}

// Failure is an error answer: its status, the OAuth error code ("" for a
// request without credentials, "temporarily_unavailable" for 503) and
// description, and the soidc error behind it (nil when the request was
// refused before validation).
type Failure struct {
	Status      int
	Code        string
	Description string
	Err         error

	onDPoP bool     // the error belongs on the DPoP challenge whatever the scheme used
	algs   []string // the library's accepted proof algorithms, when it named them
}

// A Requirement is what one protected handler demands of a token beyond a
// valid signature, issuer, lifetime and audience.
type Requirement func(*requirements)

type requirements struct {
	scopes []string
	rules  []soidc.ClaimRule
}

// Scopes requires each scope in the token's scope claim (RFC 6750 §3:
// insufficient_scope otherwise).
func Scopes(scopes ...string) Requirement {
	return func(r *requirements) { r.scopes = append(r.scopes, scopes...) }
}

// Claims requires each claim rule, checked by the library (the decode
// option require_claims); a failed rule is answered 403 insufficient_scope.
func Claims(rules ...soidc.ClaimRule) Requirement {
	return func(r *requirements) { r.rules = append(r.rules, rules...) }
}

// Require returns a handler that runs next only for a request whose access
// token validates and meets every requirement; the validated claims are then
// in the request's context (ClaimsFromContext, Token). It panics, when the
// route is set up, on a scope that is not an RFC 6749 §3.3 scope token (it
// would corrupt the challenge).
func (m *Middleware) Require(next http.Handler, reqs ...Requirement) http.Handler {
	var q requirements
	for _, r := range reqs {
		r(&q)
	}
	// Scope tokens are %x21 / %x23-5B / %x5D-7E (RFC 6749 §3.3): a space or
	// quote inside one would corrupt the challenge; refuse it at set-up.
	for _, s := range q.scopes {
		if s == "" || strings.ContainsFunc(s, func(c rune) bool { return c <= ' ' || c == '"' || c == '\\' || c > '~' }) {
			panic("soidchttp: invalid scope token " + strconv.Quote(s))
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.serve(w, r, next, &q)
	})
}

// RFC 6750 §2.1 b64token, RFC 9110 §11.2 token68: the same syntax.
func isToken68(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			break
		}
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// maxProofBytes bounds a DPoP header passed to the library: a proof is a
// header with one public key, a few claims and a signature (RSA 4096: under
// 3 KiB); anything far larger is refused before any parsing.
const maxProofBytes = 16 * 1024

// isCompactJWS checks the shape of a DPoP proof, a JWS in compact
// serialisation (RFC 7515 §7.1): three base64url parts. The library checks
// everything else (RFC 9449 §4.3).
func isCompactJWS(s string) bool {
	if len(s) > maxProofBytes {
		return false
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return false
	}
	for i, p := range parts {
		if p == "" && i < 2 {
			return false
		}
		for j := 0; j < len(p); j++ {
			c := p[j]
			if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// scheme of the request's credentials.
const (
	schemeNone = iota
	schemeBearer
	schemeDPoP
)

func (m *Middleware) serve(w http.ResponseWriter, r *http.Request, next http.Handler, q *requirements) {
	headers := r.Header.Values("Authorization")
	// RFC 6750 §2.3: a token in the URI is not accepted here (SHOULD NOT be
	// used), and together with the header it is more than one method.
	if r.URL.Query().Has("access_token") {
		m.fail(w, r, schemeNone, q, &Failure{Status: http.StatusBadRequest, Code: "invalid_request",
			Description: "access tokens are not accepted in the URI"})
		return
	}
	if len(headers) == 0 {
		// RFC 6750 §3.1: no error code when the request has no credentials.
		m.fail(w, r, schemeNone, q, &Failure{Status: http.StatusUnauthorized})
		return
	}
	if len(headers) > 1 {
		m.fail(w, r, schemeNone, q, &Failure{Status: http.StatusBadRequest, Code: "invalid_request",
			Description: "more than one Authorization header"})
		return
	}
	name, token, _ := strings.Cut(headers[0], " ")
	token = strings.TrimLeft(token, " ")
	scheme := schemeNone
	switch {
	case strings.EqualFold(name, "Bearer") && m.DPoP != DPoPRequired:
		scheme = schemeBearer
	case strings.EqualFold(name, "DPoP") && m.DPoP != DPoPDisabled:
		scheme = schemeDPoP
	}
	if scheme == schemeNone {
		// Another scheme (Basic, ...) is no credentials for this resource.
		m.fail(w, r, schemeNone, q, &Failure{Status: http.StatusUnauthorized})
		return
	}
	if !isToken68(token) {
		m.fail(w, r, scheme, q, &Failure{Status: http.StatusBadRequest, Code: "invalid_request",
			Description: "malformed Authorization header"})
		return
	}

	opts := &soidc.AccessTokenOptions{
		Audience:       m.Audience,
		Audiences:      m.Audiences,
		RequiredScopes: q.scopes,
		RequireClaims:  q.rules,
		CacheOnly:      m.CacheOnly,
	}
	if scheme == schemeDPoP {
		// RFC 9449 §4.3 check 1: exactly one DPoP header.
		proofs := r.Header.Values("DPoP")
		switch {
		case len(proofs) > 1:
			m.fail(w, r, scheme, q, &Failure{Status: http.StatusUnauthorized, Code: "invalid_dpop_proof",
				Description: "more than one DPoP header"})
			return
		case len(proofs) == 0 || proofs[0] == "":
			m.fail(w, r, scheme, q, &Failure{Status: http.StatusUnauthorized, Code: "invalid_dpop_proof",
				Description: "the DPoP scheme needs a DPoP proof header"})
			return
		}
		if !isCompactJWS(proofs[0]) {
			m.fail(w, r, scheme, q, &Failure{Status: http.StatusUnauthorized, Code: "invalid_dpop_proof",
				Description: "the DPoP proof is not a JWT"})
			return
		}
		opts.DPoPProof = proofs[0]
		opts.HTTPMethod = r.Method
		opts.HTTPURI = m.requestURI(r)
		opts.DPoP = "required" // the DPoP scheme is for bound tokens only (RFC 9449 §7.1)
		opts.DPoPMaxAge = m.DPoPMaxAge
		if m.DPoPNonce != nil {
			opts.DPoPNonce = m.DPoPNonce(r)
		}
	}
	if cert := m.clientCert(r); len(cert) > 0 {
		opts.ClientCertPEM = base64.StdEncoding.EncodeToString(cert) // DER as base64: the library's other form
	}
	// With the Bearer scheme no proof is passed, even if a DPoP header came
	// along: a bound token sent as Bearer is refused by the library
	// (dpop_missing), as RFC 9449 §7.2 requires.

	timeout := m.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	claims, err := m.Client.DecodeAccessToken(ctx, token, opts)
	cancel()
	if err != nil {
		f := m.failure(err, scheme == schemeDPoP)
		if f.Code == "use_dpop_nonce" && opts.DPoPNonce != "" {
			w.Header().Set("DPoP-Nonce", opts.DPoPNonce)
		}
		m.fail(w, r, scheme, q, f)
		return
	}
	ctx = context.WithValue(r.Context(), contextKey{}, &validated{claims: claims, token: token, dpop: scheme == schemeDPoP})
	next.ServeHTTP(w, r.WithContext(ctx))
}

// clientCert is the request's client certificate (DER) or nil.
func (m *Middleware) clientCert(r *http.Request) []byte {
	if m.ClientCert != nil {
		return m.ClientCert(r)
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		return r.TLS.PeerCertificates[0].Raw
	}
	return nil
}

// requestURI is the htu a proof must carry: the request's URI without query
// and fragment (RFC 9449 §4.3 check 9; the library normalises both sides).
func (m *Middleware) requestURI(r *http.Request) string {
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	if m.BaseURL != "" {
		return strings.TrimSuffix(m.BaseURL, "/") + path
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

// failure maps a soidc error to the answer.
func (m *Middleware) failure(err error, dpop bool) *Failure {
	var e *soidc.Error
	if !errors.As(err, &e) {
		// The request's own context ended (client gone): nothing useful to say.
		return &Failure{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable",
			Description: "the access token could not be checked", Err: err}
	}
	switch {
	case e.Reason == soidc.ReasonNoKeysCached:
		return &Failure{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable",
			Description: "the access token could not be checked yet", Err: err}
	case e.Status == soidc.StatusValidation && (e.Reason == soidc.ReasonScope || e.Reason == soidc.ReasonClaimRule):
		// RFC 6750 §3.1: the token is valid but does not grant enough.
		return &Failure{Status: http.StatusForbidden, Code: "insufficient_scope",
			Description: "the access token does not grant access to this resource", Err: err}
	case e.Status == soidc.StatusValidation && strings.HasPrefix(e.Reason, "dpop_"):
		return dpopFailure(e)
	case e.Status == soidc.StatusValidation:
		return &Failure{Status: http.StatusUnauthorized, Code: "invalid_token",
			Description: "the access token is invalid or expired", Err: err}
	case e.Status == soidc.StatusInvalidArgument && dpop:
		// The proof, method and URI came from the request.
		return &Failure{Status: http.StatusUnauthorized, Code: "invalid_dpop_proof",
			Description: "the DPoP proof is invalid", Err: err}
	case e.Status == soidc.StatusInvalidArgument:
		// The token was checked for syntax above, so the library refused the
		// middleware's own options: Audience, claim rules, or a library
		// without an option used here. A server error, not the caller's.
		return &Failure{Status: http.StatusInternalServerError, Code: "server_error",
			Description: "the access token could not be checked", Err: err}
	default:
		// Keys unavailable (network, HTTP, protocol) or out of time.
		return &Failure{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable",
			Description: "the access token could not be checked", Err: err}
	}
}

// dpopFailure is the answer to a DPoP refusal (RFC 9449 §7.1), always on the
// DPoP challenge, even for a bound token sent as Bearer (§7.2): that
// challenge tells the client what to use. The error code is the library's
// (its error document's "error": invalid_token when the proof is missing or
// the token is not bound, use_dpop_nonce, else invalid_dpop_proof), and so
// are the algs it names.
func dpopFailure(e *soidc.Error) *Failure {
	f := &Failure{Status: http.StatusUnauthorized, Code: "invalid_dpop_proof", Description: "the DPoP proof is invalid",
		Err: e, onDPoP: true}
	switch {
	case e.ProviderError == "invalid_token" || e.ProviderError == "" && (e.Reason == soidc.ReasonDPoPMissing || e.Reason == soidc.ReasonDPoPUnexpected):
		f.Code, f.Description = "invalid_token", "the access token is DPoP-bound and needs the DPoP scheme with a proof, or is not bound and needs the Bearer scheme"
	case e.ProviderError == "use_dpop_nonce":
		f.Code, f.Description = "use_dpop_nonce", "the DPoP proof needs a nonce"
	}
	var doc struct {
		Algs string `json:"algs"`
	}
	if json.Unmarshal(e.Raw, &doc) == nil && doc.Algs != "" {
		f.algs = strings.Fields(doc.Algs)
	}
	return f
}

// fail writes the error answer f for a request that used scheme.
func (m *Middleware) fail(w http.ResponseWriter, r *http.Request, scheme int, q *requirements, f *Failure) {
	log := m.Log
	if log == nil {
		log = slog.Default()
	}
	var e *soidc.Error
	if errors.As(f.Err, &e) && e.Reason != "" {
		log = log.With("reason", e.Reason)
		if e.Rule != "" {
			log = log.With("rule", e.Rule)
		}
	}
	switch {
	case f.Err != nil && f.Status == http.StatusInternalServerError:
		log.Error("access token not checked: the library refused the middleware's options", "path", r.URL.Path, "error", f.Err)
	case f.Err != nil && f.Status == http.StatusServiceUnavailable:
		log.Warn("access token could not be checked", "path", r.URL.Path, "error", f.Err)
	case f.Err != nil:
		log.Info("access token refused", "path", r.URL.Path, "status", f.Status, "error", f.Err)
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	switch f.Status {
	case http.StatusInternalServerError:
	case http.StatusServiceUnavailable:
		retry := m.RetryAfter
		if retry <= 0 {
			retry = 5 * time.Second
		}
		h.Set("Retry-After", strconv.FormatInt(int64((retry+time.Second-1)/time.Second), 10))
	default:
		for _, c := range m.challenges(scheme, q, f) {
			h.Add("WWW-Authenticate", c)
		}
	}
	if m.ErrorBody != nil {
		m.ErrorBody(w, r, f)
		return
	}
	body := map[string]string{}
	if f.Code != "" {
		body["error"] = f.Code
		body["error_description"] = f.Description
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(f.Status)
	_ = json.NewEncoder(w).Encode(body)
}

// challenges returns the WWW-Authenticate values: one per accepted scheme
// (RFC 9449 §7.2 lets a resource accepting both send both), the error on the
// scheme the request used (or on the only one accepted).
func (m *Middleware) challenges(scheme int, q *requirements, f *Failure) []string {
	var out []string
	errorOn := scheme
	if f.onDPoP && m.DPoP != DPoPDisabled {
		errorOn = schemeDPoP
	}
	if errorOn == schemeNone {
		switch m.DPoP {
		case DPoPRequired:
			errorOn = schemeDPoP
		default:
			errorOn = schemeBearer
		}
	}
	if m.DPoP != DPoPRequired {
		out = append(out, m.challenge("Bearer", errorOn == schemeBearer, q, f))
	}
	if m.DPoP != DPoPDisabled {
		out = append(out, m.challenge("DPoP", errorOn == schemeDPoP, q, f))
	}
	return out
}

func (m *Middleware) challenge(name string, withError bool, q *requirements, f *Failure) string {
	var params []string
	if m.Realm != "" {
		params = append(params, "realm="+quote(m.Realm))
	}
	if withError && f.Code != "" {
		params = append(params, "error="+quote(f.Code), "error_description="+quote(f.Description))
	}
	// RFC 6750 §3: scope names the scopes needed, useful with
	// insufficient_scope and without credentials.
	if len(q.scopes) > 0 && (f.Code == "" || withError && f.Code == "insufficient_scope") {
		params = append(params, "scope="+quote(strings.Join(q.scopes, " ")))
	}
	if name == "DPoP" {
		algs := m.DPoPAlgs
		if len(f.algs) > 0 {
			algs = f.algs
		}
		if len(algs) == 0 {
			algs = DefaultDPoPAlgs
		}
		params = append(params, "algs="+quote(strings.Join(algs, " ")))
	}
	if len(params) == 0 {
		return name
	}
	return name + " " + strings.Join(params, ", ")
}

// quote makes an RFC 9110 §5.6.4 quoted-string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c == 0x7f:
			// Control characters are not allowed in a quoted-string: drop them.
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
