package soidchttp_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
	"github.com/soidc/soidc/bindings/go/soidchttp"
	"github.com/soidc/soidc/bindings/go/soidctest"
)

// clientCert makes a self-signed client certificate.
func clientCert(t *testing.T, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Certificate-bound access tokens (RFC 8705 §3) through the middleware: the
// certificate of the TLS connection is passed to the library, which accepts
// the token only with the certificate it is bound to.
func TestMiddlewareCertificateBound(t *testing.T) {
	p := soidctest.New()
	defer p.Close()
	ctx := testContext(t)
	c := stubAPIClient(t, p, soidc.Options{})
	mine, other := clientCert(t, "mine"), clientCert(t, "other")
	bound := p.CertBoundAccessToken(mine.Certificate[0], soidctest.Claims{"scope": "notes:read"})
	unbound := p.AccessToken(soidctest.Claims{"scope": "notes:read"})
	_, err := c.DecodeAccessToken(ctx, bound, &soidc.AccessTokenOptions{Audience: "https://api.soidc.test", ClientCertPEM: "AAAA"})
	var e *soidc.Error
	if errors.As(err, &e) && strings.Contains(e.Message, "unknown field `client_cert_pem`") {
		t.Skip("this library has no client_cert_pem option yet")
	}

	log, logs := newLog()
	mw := &soidchttp.Middleware{Client: c, Audience: "https://api.soidc.test", Log: log}
	server := httptest.NewUnstartedServer(mw.Require(http.HandlerFunc(echo), soidchttp.Scopes("notes:read")))
	server.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	server.StartTLS()
	defer server.Close()
	with := func(cert *tls.Certificate) *http.Client {
		tr := server.Client().Transport.(*http.Transport).Clone()
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
		}
		return &http.Client{Transport: tr}
	}
	cases := []struct {
		name   string
		client *http.Client
		token  string
		status int
	}{
		{"bound token, its certificate", with(&mine), bound, 200},
		{"bound token, another certificate", with(&other), bound, 401},
		{"bound token, no certificate", with(nil), bound, 401},
		{"unbound token, a certificate", with(&other), unbound, 200},
		{"unbound token, no certificate", with(nil), unbound, 200},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest("GET", server.URL+"/notes", nil)
		req.Header.Set("Authorization", "Bearer "+tc.token)
		resp, err := tc.client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
		if tc.status == 401 && errorOf(resp.Header.Values("WWW-Authenticate")[0]) != "invalid_token" {
			t.Errorf("%s: challenges %q", tc.name, resp.Header.Values("WWW-Authenticate"))
		}
	}
	if n := strings.Count(logs.String(), "cnf_x5t"); n != 2 {
		t.Errorf("want 2 refusals for reason cnf_x5t in the log, found %d: %s", n, logs.String())
	}
}
