// Package soidctest is an in-process OpenID provider for the unit tests of
// code that uses soidc: it generates signing keys, signs ID tokens and RFC
// 9068 access tokens with the claims a test chooses, and serves discovery
// (OpenID Connect Discovery 1.0 §4), the JWKS (RFC 7517) and a token
// endpoint (client credentials and refresh token grants) over an
// httptest.Server on loopback. A soidc.Client made for its Issuer validates
// its tokens exactly as it would a real provider's:
//
//	p := soidctest.New()
//	defer p.Close()
//	client, _ := soidc.NewClientFromIssuerURL(ctx, p.Issuer(), soidc.Config{ClientID: "my-api"})
//	token := p.AccessToken(soidctest.Claims{"aud": "https://api.example", "scope": "notes:read"})
//	// serve a request with "Authorization: Bearer "+token to the handler under test
//
// It is for tests only: it has no login, accepts any client on its token
// endpoint unless clients are registered, and keeps its keys in memory.
package soidctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Claims are a token's claims: JSON member names and values.
type Claims map[string]any

// Signing algorithms of the provider's keys (RFC 7518 §3.1, RFC 8037 §3.1).
const (
	RS256 = "RS256"
	ES256 = "ES256"
	EdDSA = "EdDSA"
)

// Provider is the test provider. Its methods are safe for concurrent use.
type Provider struct {
	server *httptest.Server

	mu          sync.Mutex
	keys        []*signingKey // newest first; tokens are signed with the first of their alg
	generation  int
	clients     map[string]string // client id -> secret; empty: any client
	refresh     map[string]Claims // refresh token -> the access token claims it renews
	tokenTTL    time.Duration
	jwksFetches int
	down        bool
}

type signingKey struct {
	kid    string
	alg    string
	signer crypto.Signer
}

// New starts a provider with one RS256, one ES256 and one EdDSA key. Close
// it when done.
func New() *Provider {
	p := &Provider{clients: map[string]string{}, refresh: map[string]Claims{}, tokenTTL: 5 * time.Minute}
	p.rotate(false)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.serveDiscovery)
	mux.HandleFunc("GET /jwks", p.serveJWKS)
	mux.HandleFunc("POST /token", p.serveToken)
	p.server = httptest.NewUnstartedServer(mux)
	p.server.Start()
	return p
}

// Close shuts the server down.
func (p *Provider) Close() { p.server.Close() }

// Issuer is the provider's issuer URL (http on loopback, which soidc
// accepts without AllowInsecureHTTP).
func (p *Provider) Issuer() string { return p.server.URL }

// AddClient registers a client for the token endpoint (client_secret_basic
// or client_secret_post). Once one is registered, unknown clients and wrong
// secrets are refused with invalid_client (RFC 6749 §5.2).
func (p *Provider) AddClient(id, secret string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clients[id] = secret
}

// SetTokenTTL sets the lifetime of the tokens the token endpoint issues
// (5 minutes by default).
func (p *Provider) SetTokenTTL(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokenTTL = d
}

// SetDown makes discovery and the JWKS answer 503 (true) or work again, to
// test how code behaves while the provider's keys cannot be fetched.
func (p *Provider) SetDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
}

// JWKSFetches is the number of JWKS requests served so far.
func (p *Provider) JWKSFetches() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.jwksFetches
}

// RotateKeys adds a new key of each algorithm, used for the tokens signed
// from now on; the old keys stay in the JWKS unless dropOld. It returns the
// new kids.
func (p *Provider) RotateKeys(dropOld bool) []string {
	return p.rotate(dropOld)
}

func (p *Provider) rotate(dropOld bool) []string {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.generation++
	tag := fmt.Sprintf("%d-%s", p.generation, hex.EncodeToString(suffix))
	fresh := []*signingKey{
		{kid: "rs256-" + tag, alg: RS256, signer: rsaKey},
		{kid: "es256-" + tag, alg: ES256, signer: ecKey},
		{kid: "eddsa-" + tag, alg: EdDSA, signer: edKey},
	}
	if dropOld {
		p.keys = fresh
	} else {
		p.keys = append(fresh, p.keys...)
	}
	return []string{fresh[0].kid, fresh[1].kid, fresh[2].kid}
}

// Metadata is the discovery document.
func (p *Provider) Metadata() map[string]any {
	iss := p.Issuer()
	return map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/authorize",
		"token_endpoint":                        iss + "/token",
		"jwks_uri":                              iss + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{RS256, ES256, EdDSA},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"grant_types_supported":                 []string{"client_credentials", "refresh_token"},
	}
}

func (p *Provider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	down := p.down
	p.mu.Unlock()
	if down {
		http.Error(w, "down for the test", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, http.StatusOK, p.Metadata())
}

func (p *Provider) serveJWKS(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.jwksFetches++
	down := p.down
	keys := make([]any, 0, len(p.keys))
	for _, k := range p.keys {
		jwk := PublicJWK(k.signer.Public())
		jwk["kid"], jwk["alg"], jwk["use"] = k.kid, k.alg, "sig"
		keys = append(keys, jwk)
	}
	p.mu.Unlock()
	if down {
		http.Error(w, "down for the test", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

// Sign signs claims as a JWS (RFC 7515, compact serialisation) with the
// provider's current key for alg (RS256, ES256 or EdDSA) and the header's
// typ (RFC 7515 §4.1.9; omitted when ""). The claims are taken as they are:
// use it for tokens that are wrong on purpose.
func (p *Provider) Sign(alg, typ string, claims Claims) string {
	p.mu.Lock()
	var key *signingKey
	for _, k := range p.keys {
		if k.alg == alg {
			key = k
			break
		}
	}
	p.mu.Unlock()
	if key == nil {
		panic("soidctest: no key for alg " + alg)
	}
	header := map[string]any{"alg": alg, "kid": key.kid}
	if typ != "" {
		header["typ"] = typ
	}
	return signJWS(key.signer, alg, header, claims)
}

// AccessToken returns an RFC 9068 access token signed with RS256: typ
// at+jwt, and the claims §2.2 requires (iss, exp, aud, sub, client_id, iat,
// jti) filled in unless given: aud "https://api.soidc.test", sub "alice",
// client_id "test-client", exp in 5 minutes. A member of claims replaces
// the default; a member set to nil is left out.
func (p *Provider) AccessToken(claims Claims) string {
	return p.AccessTokenAlg(RS256, claims)
}

// AccessTokenAlg is AccessToken signed with alg.
func (p *Provider) AccessTokenAlg(alg string, claims Claims) string {
	now := time.Now().Unix()
	return p.Sign(alg, "at+jwt", merge(Claims{
		"iss": p.Issuer(), "aud": "https://api.soidc.test", "sub": "alice", "client_id": "test-client",
		"iat": now, "exp": now + 300, "jti": randomID(),
	}, claims))
}

// BoundAccessToken is AccessToken bound to a DPoP key (RFC 9449 §6.1: the
// cnf claim with the key's thumbprint as jkt).
func (p *Provider) BoundAccessToken(key *DPoPKey, claims Claims) string {
	c := merge(Claims{"cnf": map[string]any{"jkt": key.Thumbprint()}}, claims)
	return p.AccessToken(c)
}

// CertBoundAccessToken is AccessToken bound to a client certificate (RFC
// 8705 §3.1: the cnf claim with x5t#S256, the base64url SHA-256 of the
// certificate's DER).
func (p *Provider) CertBoundAccessToken(certDER []byte, claims Claims) string {
	sum := sha256.Sum256(certDER)
	return p.AccessToken(merge(Claims{"cnf": map[string]any{"x5t#S256": b64(sum[:])}}, claims))
}

// IDToken returns an ID token for clientID signed with RS256 (typ JWT), with
// the claims OpenID Connect Core §2 requires filled in unless given: iss,
// sub "alice", aud clientID, iat, exp in 5 minutes, auth_time now.
func (p *Provider) IDToken(clientID string, claims Claims) string {
	now := time.Now().Unix()
	return p.Sign(RS256, "JWT", merge(Claims{
		"iss": p.Issuer(), "sub": "alice", "aud": clientID, "iat": now, "exp": now + 300, "auth_time": now,
	}, claims))
}

// merge returns base with over applied; nil values delete.
func merge(base, over Claims) Claims {
	for k, v := range over {
		if v == nil {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	return base
}

// serveToken is the token endpoint (RFC 6749 §3.2): client credentials
// (§4.4) and refresh token (§6) grants, answering RFC 9068 access tokens
// for the resource parameter (RFC 8707; default "https://api.soidc.test").
func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	p.mu.Lock()
	want, known := p.clients[id]
	open := len(p.clients) == 0
	ttl := p.tokenTTL
	p.mu.Unlock()
	if id == "" || !open && (!known || want != secret) {
		w.Header().Set("WWW-Authenticate", `Basic realm="soidctest"`)
		tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	var claims Claims
	switch r.PostForm.Get("grant_type") {
	case "client_credentials":
		aud := r.PostForm.Get("resource")
		if aud == "" {
			aud = "https://api.soidc.test"
		}
		claims = Claims{"sub": id, "client_id": id, "aud": aud}
		if s := r.PostForm.Get("scope"); s != "" {
			claims["scope"] = s
		}
	case "refresh_token":
		p.mu.Lock()
		c, ok := p.refresh[r.PostForm.Get("refresh_token")]
		p.mu.Unlock()
		if !ok || c["client_id"] != id {
			tokenError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		claims = Claims{}
		for k, v := range c {
			claims[k] = v
		}
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	now := time.Now().Unix()
	claims["iat"], claims["exp"], claims["jti"] = now, now+int64(ttl/time.Second), randomID()
	answer := map[string]any{
		"access_token": p.AccessToken(claims),
		"token_type":   "Bearer",
		"expires_in":   int64(ttl / time.Second),
	}
	if s, ok := claims["scope"].(string); ok {
		answer["scope"] = s
		if strings.Contains(" "+s+" ", " offline_access ") || r.PostForm.Get("grant_type") == "refresh_token" {
			rt := randomID()
			p.mu.Lock()
			p.refresh[rt] = Claims{"sub": claims["sub"], "client_id": id, "aud": claims["aud"], "scope": s}
			p.mu.Unlock()
			answer["refresh_token"] = rt
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, answer)
}

func tokenError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// signJWS makes a compact JWS (RFC 7515 §7.1) over header and claims.
func signJWS(signer crypto.Signer, alg string, header map[string]any, claims any) string {
	h, err := json.Marshal(header)
	if err != nil {
		panic(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		panic("soidctest: claims do not marshal: " + err.Error())
	}
	input := b64(h) + "." + b64(c)
	var sig []byte
	switch alg {
	case RS256: // RFC 7518 §3.3
		digest := sha256.Sum256([]byte(input))
		sig, err = rsa.SignPKCS1v15(rand.Reader, signer.(*rsa.PrivateKey), crypto.SHA256, digest[:])
	case ES256: // RFC 7518 §3.4: R and S, 32 bytes each
		digest := sha256.Sum256([]byte(input))
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, signer.(*ecdsa.PrivateKey), digest[:])
		if err == nil {
			sig = make([]byte, 64)
			r.FillBytes(sig[:32])
			s.FillBytes(sig[32:])
		}
	case EdDSA: // RFC 8037 §3.1
		sig = ed25519.Sign(signer.(ed25519.PrivateKey), []byte(input))
	default:
		panic("soidctest: unsupported alg " + alg)
	}
	if err != nil {
		panic(err)
	}
	return input + "." + b64(sig)
}

// PublicJWK returns the public JWK (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2)
// of an RSA, P-256 ECDSA or Ed25519 public key: only its required members.
func PublicJWK(pub crypto.PublicKey) map[string]any {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		e, err := k.ECDH()
		if err != nil {
			panic(err)
		}
		point := e.Bytes() // 0x04 || X || Y (SEC 1 §2.3.3)
		return map[string]any{"kty": "EC", "crv": "P-256", "x": b64(point[1:33]), "y": b64(point[33:65])}
	case ed25519.PublicKey:
		return map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(k)}
	}
	panic(fmt.Sprintf("soidctest: unsupported key type %T", pub))
}

// Thumbprint is the RFC 7638 JWK thumbprint (SHA-256, base64url) of a public
// key: the hash of its required members, in lexicographic order, without
// white space (§3.2).
func Thumbprint(pub crypto.PublicKey) string { return ThumbprintOfJWK(PublicJWK(pub)) }

// ThumbprintOfJWK is the RFC 7638 thumbprint of a public JWK given as its
// members (kty RSA, EC or OKP).
func ThumbprintOfJWK(jwk map[string]any) string {
	var members []string
	switch jwk["kty"] {
	case "RSA":
		members = []string{"e", "kty", "n"}
	case "EC":
		members = []string{"crv", "kty", "x", "y"}
	case "OKP":
		members = []string{"crv", "kty", "x"}
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%q", m, jwk[m])
	}
	b.WriteByte('}')
	sum := sha256.Sum256([]byte(b.String()))
	return b64(sum[:])
}
