package soidc

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// NumericDate is a JWT time (RFC 7519 §2): seconds since the Unix epoch, UTC.
// Fractions are dropped; 0 means the claim is absent.
type NumericDate int64

// Time returns d as a time.Time, or the zero time.Time when d is 0.
func (d NumericDate) Time() time.Time {
	if d == 0 {
		return time.Time{}
	}
	return time.Unix(int64(d), 0)
}

// UnmarshalJSON accepts an integer or a fractional number.
func (d *NumericDate) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) || math.Abs(f) > 1<<62 {
		return &json.UnsupportedValueError{Str: string(b)}
	}
	*d = NumericDate(math.Floor(f))
	return nil
}

// Audience is an "aud" claim: one string or an array of strings, always
// presented as a slice.
type Audience []string

// UnmarshalJSON accepts a string or an array of strings.
func (a *Audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = Audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// Contains reports whether aud is one of the audiences.
func (a Audience) Contains(aud string) bool { return slices.Contains(a, aud) }

// StandardClaims are the OpenID Connect Core §5.1 claims about the user, found
// in ID tokens and UserInfo responses.
type StandardClaims struct {
	Name                string      `json:"name,omitempty"`
	GivenName           string      `json:"given_name,omitempty"`
	FamilyName          string      `json:"family_name,omitempty"`
	MiddleName          string      `json:"middle_name,omitempty"`
	Nickname            string      `json:"nickname,omitempty"`
	PreferredUsername   string      `json:"preferred_username,omitempty"`
	Profile             string      `json:"profile,omitempty"`
	Picture             string      `json:"picture,omitempty"`
	Website             string      `json:"website,omitempty"`
	Email               string      `json:"email,omitempty"`
	EmailVerified       bool        `json:"email_verified,omitempty"`
	Gender              string      `json:"gender,omitempty"`
	Birthdate           string      `json:"birthdate,omitempty"`
	Zoneinfo            string      `json:"zoneinfo,omitempty"`
	Locale              string      `json:"locale,omitempty"`
	PhoneNumber         string      `json:"phone_number,omitempty"`
	PhoneNumberVerified bool        `json:"phone_number_verified,omitempty"`
	Address             *Address    `json:"address,omitempty"`
	UpdatedAt           NumericDate `json:"updated_at,omitempty"`
}

// Address is the "address" claim (OpenID Connect Core §5.1.1).
type Address struct {
	Formatted     string `json:"formatted,omitempty"`
	StreetAddress string `json:"street_address,omitempty"`
	Locality      string `json:"locality,omitempty"`
	Region        string `json:"region,omitempty"`
	PostalCode    string `json:"postal_code,omitempty"`
	Country       string `json:"country,omitempty"`
}

// IDTokenClaims are the claims of a validated ID token (OpenID Connect Core
// §2 and §5.1). Claims without a field are in Extra; Raw is the complete
// claims object.
type IDTokenClaims struct {
	Issuer          string      `json:"iss"`
	Subject         string      `json:"sub"`
	Audience        Audience    `json:"aud"`
	Expiry          NumericDate `json:"exp"`
	IssuedAt        NumericDate `json:"iat"`
	NotBefore       NumericDate `json:"nbf,omitempty"`
	AuthTime        NumericDate `json:"auth_time,omitempty"`
	Nonce           string      `json:"nonce,omitempty"`
	ACR             string      `json:"acr,omitempty"`
	AMR             []string    `json:"amr,omitempty"`
	AuthorizedParty string      `json:"azp,omitempty"`
	AccessTokenHash string      `json:"at_hash,omitempty"`
	CodeHash        string      `json:"c_hash,omitempty"`
	SessionID       string      `json:"sid,omitempty"`
	StandardClaims

	Extra map[string]any  `json:"-"`
	Raw   json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a claims object, keeping unknown claims in Extra.
func (c *IDTokenClaims) UnmarshalJSON(b []byte) error {
	*c = IDTokenClaims{Raw: clone(b)}
	return decodeObject(b, c, &c.Extra)
}

// AccessTokenClaims are the claims of a validated JWT access token (RFC 9068
// §2.2). Claims without a field are in Extra; Raw is the complete claims object.
type AccessTokenClaims struct {
	Issuer       string      `json:"iss"`
	Subject      string      `json:"sub"`
	Audience     Audience    `json:"aud"`
	Expiry       NumericDate `json:"exp"`
	IssuedAt     NumericDate `json:"iat"`
	NotBefore    NumericDate `json:"nbf,omitempty"`
	JWTID        string      `json:"jti"`
	ClientID     string      `json:"client_id"`
	Scope        string      `json:"scope,omitempty"`
	AuthTime     NumericDate `json:"auth_time,omitempty"`
	ACR          string      `json:"acr,omitempty"`
	AMR          []string    `json:"amr,omitempty"`
	Groups       []string    `json:"groups,omitempty"`
	Roles        []string    `json:"roles,omitempty"`
	Entitlements []string    `json:"entitlements,omitempty"`

	Extra map[string]any  `json:"-"`
	Raw   json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a claims object, keeping unknown claims in Extra.
func (c *AccessTokenClaims) UnmarshalJSON(b []byte) error {
	*c = AccessTokenClaims{Raw: clone(b)}
	return decodeObject(b, c, &c.Extra)
}

// Scopes returns the space-separated "scope" claim as a list.
func (c *AccessTokenClaims) Scopes() []string { return strings.Fields(c.Scope) }

// HasScope reports whether the token was granted scope.
func (c *AccessTokenClaims) HasScope(scope string) bool {
	return slices.Contains(c.Scopes(), scope)
}

// LogoutTokenClaims are the claims of a validated back-channel logout token
// (OpenID Connect Back-Channel Logout 1.0 §2.4). soidc tracks jti replay
// only for tokens accepted without exp (LogoutTokenOptions.AllowMissingExp):
// remember seen JWTID values until Expiry if you need that for the others.
type LogoutTokenClaims struct {
	Issuer    string         `json:"iss"`
	Subject   string         `json:"sub,omitempty"`
	Audience  Audience       `json:"aud"`
	IssuedAt  NumericDate    `json:"iat"`
	Expiry    NumericDate    `json:"exp,omitempty"`
	NotBefore NumericDate    `json:"nbf,omitempty"`
	JWTID     string         `json:"jti"`
	SessionID string         `json:"sid,omitempty"`
	Events    map[string]any `json:"events"`

	Extra map[string]any  `json:"-"`
	Raw   json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a claims object, keeping unknown claims in Extra.
func (c *LogoutTokenClaims) UnmarshalJSON(b []byte) error {
	*c = LogoutTokenClaims{Raw: clone(b)}
	return decodeObject(b, c, &c.Extra)
}

// Userinfo is a UserInfo response (OpenID Connect Core §5.3.2), from JSON or
// from a validated signed JWT. Claims without a field are in Extra.
type Userinfo struct {
	Subject string `json:"sub"`
	StandardClaims

	Extra map[string]any  `json:"-"`
	Raw   json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a claims object, keeping unknown claims in Extra.
func (u *Userinfo) UnmarshalJSON(b []byte) error {
	*u = Userinfo{Raw: clone(b)}
	return decodeObject(b, u, &u.Extra)
}

func clone(b []byte) json.RawMessage { return append(json.RawMessage(nil), b...) }
