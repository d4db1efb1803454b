package soidc_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	soidc "github.com/soidc/soidc/bindings/go"
)

// A DPoP client (RFC 9449) at the test provider: its client credentials token is
// bound to its key (the provider's introspection says cnf.jkt = DPoPJWK's JKT), and
// DPoPProof gives proofs that verify with the key, with htu, ath and nonce as asked.
func TestDPoPBoundTokenAndProof(t *testing.T) {
	ctx := testContext(t)
	c := newClient(t, soidc.Config{ClientID: "dpop-bound", ClientSecret: "dpop-bound-secret-0123456789abcdef",
		RedirectURI: redirectURI, Options: soidc.Options{DPoP: "ES256"}})
	key, err := c.DPoPJWK()
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := c.ClientCredentialsGrant(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if tokens.TokenType != "DPoP" {
		t.Fatalf("token_type %q", tokens.TokenType)
	}
	seen, err := c.IntrospectToken(ctx, tokens.AccessToken, "access_token")
	if err != nil {
		t.Fatal(err)
	}
	var cnf struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if err := json.Unmarshal(seen.Raw, &cnf); err != nil || cnf.Cnf.JKT != key.JKT || key.JKT == "" {
		t.Fatalf("introspection cnf.jkt %q, our key %q (%v)", cnf.Cnf.JKT, key.JKT, err)
	}

	proof, err := c.DPoPProof("POST", "https://api.example/items?page=2#x", tokens.AccessToken, &soidc.DPoPProofOptions{Nonce: "n-1"})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		t.Fatalf("proof %q", proof)
	}
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var header struct {
		Typ string `json:"typ"`
		Alg string `json:"alg"`
		JWK struct {
			Kty, Crv, X, Y, D string
		} `json:"jwk"`
	}
	var claims map[string]any
	if json.Unmarshal(dec(parts[0]), &header) != nil || json.Unmarshal(dec(parts[1]), &claims) != nil {
		t.Fatal("proof parts are not JSON")
	}
	ath := sha256.Sum256([]byte(tokens.AccessToken))
	if header.Typ != "dpop+jwt" || header.Alg != "ES256" || header.JWK.D != "" ||
		claims["htu"] != "https://api.example/items" || claims["htm"] != "POST" || claims["nonce"] != "n-1" ||
		claims["ath"] != base64.RawURLEncoding.EncodeToString(ath[:]) {
		t.Fatalf("header %+v claims %v", header, claims)
	}
	pub := ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(dec(header.JWK.X)), Y: new(big.Int).SetBytes(dec(header.JWK.Y))}
	sig := dec(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(&pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("the proof does not verify with its jwk")
	}

	// The test provider's password grant does not bind tokens: refused as unbound.
	_, err = c.DirectAccessGrant(ctx, "alice", "alice-password", "openid", nil)
	var se *soidc.Error
	if !errors.Is(err, soidc.ErrProtocol) || !errors.As(err, &se) || se.Reason != soidc.ReasonDPoPNotBound {
		t.Errorf("an unbound token with DPoP on: %v", err)
	}

	// A client without DPoP, a bad method, a NUL byte: ErrInvalidArgument.
	plain := basicClient(t)
	if _, err := plain.DPoPJWK(); !errors.Is(err, soidc.ErrInvalidArgument) {
		t.Errorf("DPoPJWK without DPoP: %v", err)
	}
	for _, bad := range [][2]string{{"GET", "/relative"}, {"GE T", "https://a.example/"}, {"GET", "https://a\x00b"}} {
		if _, err := c.DPoPProof(bad[0], bad[1], "", nil); !errors.Is(err, soidc.ErrInvalidArgument) {
			t.Errorf("DPoPProof(%q, %q): %v", bad[0], bad[1], err)
		}
	}
	if _, err := plain.DPoPProof("GET", "https://a.example/", "", nil); !errors.Is(err, soidc.ErrInvalidArgument) {
		t.Errorf("DPoPProof without DPoP: %v", err)
	}
}
