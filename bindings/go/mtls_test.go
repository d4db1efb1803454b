package soidc_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
)

// selfSignedPEM makes a P-256 key and a self-signed certificate for it, as PEM.
func selfSignedPEM(t *testing.T) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "soidc go mtls client"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
}

// Options.ClientCertFile/ClientKeyFile and AccessTokenOptions.ClientCertPEM reach
// soidc; the provider of these tests has no mTLS listener (tests/mtls.rs runs the
// full RFC 8705 round against one), so a certificate here changes nothing for a
// secret client, and a token without cnf is accepted with a certificate.
func TestMutualTLSOptions(t *testing.T) {
	ctx := testContext(t)
	certPEM, keyPEM := selfSignedPEM(t)
	certFile := writeSecret(t, "cert.pem", certPEM, 0o600)
	keyFile := writeSecret(t, "key.pem", keyPEM, 0o600)
	c := newClient(t, soidc.Config{ClientID: basicID, ClientSecret: basicSecret,
		Options: soidc.Options{ClientCertFile: certFile, ClientKeyFile: keyFile}})
	token := apiToken(t, c, "api:read")
	if _, err := c.DecodeAccessToken(ctx, token, &soidc.AccessTokenOptions{Audience: apiResource, ClientCertPEM: certPEM}); err != nil {
		t.Fatalf("an unbound token with a certificate: %v", err)
	}

	bad := []struct {
		name string
		opts soidc.Options
	}{
		{"cert without key", soidc.Options{ClientCertFile: certFile}},
		{"key without cert", soidc.Options{ClientKeyFile: keyFile}},
		{"tls_client_auth without a certificate", soidc.Options{AuthMethod: soidc.AuthTLSClientAuth}},
		{"self_signed_tls_client_auth without a certificate", soidc.Options{AuthMethod: soidc.AuthSelfSignedTLSClientAuth}},
		{"cert readable by others", soidc.Options{ClientCertFile: writeSecret(t, "open.pem", certPEM, 0o644), ClientKeyFile: keyFile}},
		{"key readable by the group", soidc.Options{ClientCertFile: certFile, ClientKeyFile: writeSecret(t, "open.key", keyPEM, 0o640)}},
		{"the key as the certificate", soidc.Options{ClientCertFile: keyFile, ClientKeyFile: keyFile}},
		{"the certificate as the key", soidc.Options{ClientCertFile: certFile, ClientKeyFile: certFile}},
		{"garbage", soidc.Options{ClientCertFile: writeSecret(t, "garbage.pem", "not PEM\n", 0o600), ClientKeyFile: keyFile}},
		{"missing file", soidc.Options{ClientCertFile: certFile + ".missing", ClientKeyFile: keyFile}},
	}
	for _, b := range bad {
		_, err := soidc.NewClientFromIssuerURL(ctx, issuer(t), soidc.Config{ClientID: basicID, ClientSecret: basicSecret, Options: b.opts})
		e := mustErr(t, err, soidc.ErrInvalidArgument)
		if strings.Contains(string(e.Raw), "PRIVATE KEY") || strings.Contains(string(e.Raw), "BEGIN") {
			t.Fatalf("%s: the file content leaked into the error: %s", b.name, e.Raw)
		}
	}

	for _, cert := range []string{"garbage!", "AAAA", keyPEM, strings.Repeat("A", 1<<20)} {
		_, err := c.DecodeAccessToken(ctx, token, &soidc.AccessTokenOptions{Audience: apiResource, ClientCertPEM: cert})
		mustErr(t, err, soidc.ErrInvalidArgument)
	}
}
