package soidc

import (
	"context"
	"encoding/json"
)

// Typed claims: a validated token's claims object decoded into the caller's
// own struct, with encoding/json's rules (field tags, json.Unmarshaler). soidc
// has validated the token before any of this runs; these functions only
// reshape the claims soidc returned.

// Decode decodes the complete claims object (Raw) into v, a pointer to the
// caller's own type, with json.Unmarshal. A claim whose value does not fit
// v's field is an error here (unlike this package's own types, which keep
// such a value in Extra): the caller's struct states what it requires.
func (c *IDTokenClaims) Decode(v any) error { return decodeRaw("ID token claims", c.Raw, v) }

// Decode decodes the complete claims object (Raw) into v, a pointer to the
// caller's own type, with json.Unmarshal (see IDTokenClaims.Decode).
func (c *AccessTokenClaims) Decode(v any) error {
	return decodeRaw("access token claims", c.Raw, v)
}

// Decode decodes the complete claims object (Raw) into v, a pointer to the
// caller's own type, with json.Unmarshal (see IDTokenClaims.Decode).
func (c *LogoutTokenClaims) Decode(v any) error {
	return decodeRaw("logout token claims", c.Raw, v)
}

// Decode decodes the complete UserInfo object (Raw) into v, a pointer to the
// caller's own type, with json.Unmarshal (see IDTokenClaims.Decode).
func (u *Userinfo) Decode(v any) error { return decodeRaw("userinfo", u.Raw, v) }

// decodeRaw is the Decode methods: an *Error with StatusInvalidArgument when
// there is no claims object (a zero value) or v does not fit it.
func decodeRaw(what string, raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return &Error{Status: StatusInvalidArgument, Message: what + ": no claims to decode (Raw is empty)"}
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return &Error{Status: StatusInvalidArgument, Message: what + ": do not fit the destination: " + err.Error()}
	}
	return nil
}

// DecodeAccessTokenAs validates rawToken exactly as Client.DecodeAccessToken
// does (RFC 9068 §4), then decodes its claims into a new T, the caller's own
// type:
//
//	type APIClaims struct {
//		Subject string   `json:"sub"`
//		Tenant  string   `json:"https://example.com/tenant"`
//		Roles   []string `json:"roles"`
//	}
//	claims, err := soidc.DecodeAccessTokenAs[APIClaims](ctx, client, token, opts)
//
// A validation failure is the *Error of DecodeAccessToken; claims that do not
// fit T are an *Error with StatusInvalidArgument (the token itself was valid).
func DecodeAccessTokenAs[T any](ctx context.Context, c *Client, rawToken string, opts *AccessTokenOptions) (*T, error) {
	claims, err := c.DecodeAccessToken(ctx, rawToken, opts)
	if err != nil {
		return nil, err
	}
	return ClaimsAs[T](claims)
}

// DecodeIDTokenAs validates rawToken exactly as Client.DecodeIDToken does,
// then decodes its claims into a new T, the caller's own type.
func DecodeIDTokenAs[T any](ctx context.Context, c *Client, rawToken string, opts *IDTokenOptions) (*T, error) {
	claims, err := c.DecodeIDToken(ctx, rawToken, opts)
	if err != nil {
		return nil, err
	}
	return ClaimsAs[T](claims)
}

// Claims is what every validated claims type of this package has:
// IDTokenClaims, AccessTokenClaims, LogoutTokenClaims and Userinfo.
type Claims interface {
	Decode(v any) error
}

// ClaimsAs decodes validated claims into a new T.
func ClaimsAs[T any](claims Claims) (*T, error) {
	v := new(T)
	if err := claims.Decode(v); err != nil {
		return nil, err
	}
	return v, nil
}
