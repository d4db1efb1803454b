package soidc

/*
#include <stdlib.h>
#include "soidc.h"
*/
import "C"

import (
	"encoding/json"
)

// Reading claims by path: the path syntax of ClaimRule.Claim, applied by the
// library (soidc_claims_get), for nested claims such as realm_access.roles or
// https://example\.com/claims.tenant.

// ClaimAt returns the JSON text of the claim at path in a claims object
// (Raw of a claims type, or any JSON object): a dotted path, with `\.` for a
// dot inside a name, where a name applied to an array collects it over the
// elements; or, starting with "/", an RFC 6901 JSON pointer. A path that
// finds nothing is ErrNotFound; a bad path or document, ErrInvalidArgument.
// No network access.
func ClaimAt(claims json.RawMessage, path string) (json.RawMessage, error) {
	if err := checkStrings("claims", string(claims), "path", path); err != nil {
		return nil, err
	}
	var a cStrings
	defer a.free()
	var out *C.char
	status := C.soidc_claims_get(a.str(string(claims)), a.str(path), &out)
	value := takeString(out)
	if status != C.SOIDC_OK {
		msg := "claim path " + path
		if Status(status) == StatusNotFound {
			msg += ": no such claim"
		} else {
			msg += ": refused (a malformed path or claims document)"
		}
		return nil, &Error{Status: Status(status), Message: msg}
	}
	return json.RawMessage(value), nil
}

// ClaimAs reads the claim at path (as ClaimAt) into a T:
//
//	roles, err := soidc.ClaimAs[[]string](claims, "realm_access.roles")
//
// where claims is any validated claims value of this package. A value that
// does not fit T is ErrInvalidArgument.
func ClaimAs[T any](claims interface{ rawClaims() json.RawMessage }, path string) (T, error) {
	var v T
	raw, err := ClaimAt(claims.rawClaims(), path)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, &Error{Status: StatusInvalidArgument, Message: "claim " + path + ": does not fit the destination: " + err.Error()}
	}
	return v, nil
}

func (c *IDTokenClaims) rawClaims() json.RawMessage     { return c.Raw }
func (c *AccessTokenClaims) rawClaims() json.RawMessage { return c.Raw }
func (c *LogoutTokenClaims) rawClaims() json.RawMessage { return c.Raw }
func (u *Userinfo) rawClaims() json.RawMessage          { return u.Raw }
