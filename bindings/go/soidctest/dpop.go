package soidctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"net/url"
	"time"
)

// DPoPKey is a client's DPoP key (RFC 9449 §4), for tests of resource
// servers that accept DPoP-bound tokens: BoundAccessToken binds a token to
// it, Proof makes the DPoP header of a request.
type DPoPKey struct {
	alg    string
	signer crypto.Signer
}

// NewDPoPKey generates a key for alg, ES256 (P-256) or EdDSA (Ed25519).
func NewDPoPKey(alg string) *DPoPKey {
	switch alg {
	case ES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return &DPoPKey{alg: alg, signer: k}
	case EdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		return &DPoPKey{alg: alg, signer: k}
	}
	panic("soidctest: unsupported DPoP alg " + alg)
}

// Thumbprint is the key's RFC 7638 thumbprint, the jkt of bound tokens.
func (k *DPoPKey) Thumbprint() string { return Thumbprint(k.signer.Public()) }

// ProofOptions change a proof, to make wrong ones on purpose. The zero value
// makes a correct proof.
type ProofOptions struct {
	IssuedAt time.Time      // iat (now)
	JTI      string         // jti (random)
	Typ      string         // typ ("dpop+jwt")
	Header   map[string]any // extra or replaced header members (e.g. a jwk with "d")
	Claims   Claims         // extra or replaced claims; nil values remove one
	SignWith *DPoPKey       // sign with another key than the one in jwk
}

// Proof returns a DPoP proof (RFC 9449 §4.2) for a request with method and
// uri (its query and fragment are left out of htu, §4.2) presenting
// accessToken (ath: base64url SHA-256 of it, §4.2; none when "").
func (k *DPoPKey) Proof(method, uri, accessToken string, opts *ProofOptions) string {
	var o ProofOptions
	if opts != nil {
		o = *opts
	}
	if o.IssuedAt.IsZero() {
		o.IssuedAt = time.Now()
	}
	if o.JTI == "" {
		o.JTI = randomID()
	}
	if o.Typ == "" {
		o.Typ = "dpop+jwt"
	}
	htu := uri
	if u, err := url.Parse(uri); err == nil {
		u.RawQuery, u.Fragment, u.RawFragment, u.ForceQuery = "", "", "", false
		htu = u.String()
	}
	header := map[string]any{"typ": o.Typ, "alg": k.alg, "jwk": PublicJWK(k.signer.Public())}
	for name, v := range o.Header {
		header[name] = v
	}
	claims := Claims{"jti": o.JTI, "htm": method, "htu": htu, "iat": o.IssuedAt.Unix()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = b64(sum[:])
	}
	claims = merge(claims, o.Claims)
	signer := k
	if o.SignWith != nil {
		signer = o.SignWith
	}
	return signJWS(signer.signer, signer.alg, header, claims)
}
