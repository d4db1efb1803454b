package soidc

/*
#include <stdlib.h>
#include "soidc.h"
*/
import "C"

import (
	"context"
	"encoding/json"
)

// DPoP, client side (RFC 9449). A client created with Options.DPoP (or
// DPoPKeyPEM / DPoPKeyFile) holds a DPoP key: every token request and pushed
// authorization request it makes carries a proof, server nonces are answered
// with one retry, and FetchUserinfo uses the DPoP scheme. A token response
// whose token_type is not DPoP is then an ErrProtocol (reason
// "dpop_not_bound"). DPoPProof gives the proofs for the host's own requests.

// DPoPKey is the client's DPoP public key (Client.DPoPJWK).
type DPoPKey struct {
	// JWK is the public JWK (no private member).
	JWK json.RawMessage `json:"jwk"`
	// JKT is its RFC 7638 SHA-256 thumbprint, base64url: a bound token's cnf.jkt.
	JKT string `json:"jkt"`
}

// DPoPJWK returns the client's DPoP public key and its thumbprint
// (soidc_client_dpop_jwk). A client without DPoP is an ErrInvalidArgument.
// No network access.
func (c *Client) DPoPJWK() (*DPoPKey, error) {
	doc, err := c.do(context.Background(), false, func(p *C.soidc_client, out **C.char) C.soidc_status {
		return C.soidc_client_dpop_jwk(p, out)
	})
	if err != nil {
		return nil, err
	}
	return decodeResult[DPoPKey]("DPoP key", doc)
}

// DPoPProofOptions are the options of Client.DPoPProof.
type DPoPProofOptions struct {
	// Nonce is the server's DPoP-Nonce (RFC 9449 §9); "" uses the nonce soidc
	// last received from the URL's origin, if any.
	Nonce string
}

// MarshalJSON returns the options document soidc reads.
func (o DPoPProofOptions) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Nonce string `json:"nonce,omitempty"`
	}{o.Nonce})
}

// DPoPProof returns a DPoP proof JWT (RFC 9449 §4.2, soidc_dpop_proof) for a
// request the host sends itself: set it as the request's DPoP header and the
// token as "Authorization: DPoP <accessToken>". accessToken "" makes a proof
// without ath (a request without a token). Each call makes a new proof (a new
// jti). opts may be nil. No network access. A client without DPoP, a bad
// method or URL: ErrInvalidArgument.
func (c *Client) DPoPProof(method, url, accessToken string, opts *DPoPProofOptions) (string, error) {
	if err := checkStrings("method", method, "url", url, "accessToken", accessToken); err != nil {
		return "", err
	}
	o, err := optionsJSON(opts, 0)
	if err != nil {
		return "", err
	}
	doc, err := c.do(context.Background(), false, func(p *C.soidc_client, out **C.char) C.soidc_status {
		var a cStrings
		defer a.free()
		return C.soidc_dpop_proof(p, a.str(method), a.str(url), a.opt(accessToken), a.opt(o), out)
	})
	if err != nil {
		return "", err
	}
	var v struct {
		Proof string `json:"proof"`
	}
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return "", shapeError("DPoP proof", err)
	}
	if v.Proof == "" {
		return "", &Error{Status: StatusProtocol, Message: "DPoP proof: the result document has no proof"}
	}
	return v.Proof, nil
}
