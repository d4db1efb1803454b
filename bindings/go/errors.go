package soidc

/*
#include "soidc.h"
*/
import "C"

import (
	"encoding/json"
	"errors"
	"strconv"
)

// Status is soidc's result code (soidc_status). Values are stable: new codes
// are only appended.
type Status int

// The status codes of the C API.
const (
	StatusOK                    Status = C.SOIDC_OK
	StatusInvalidArgument       Status = C.SOIDC_ERR_INVALID_ARGUMENT
	StatusNetwork               Status = C.SOIDC_ERR_NETWORK
	StatusHTTP                  Status = C.SOIDC_ERR_HTTP
	StatusProtocol              Status = C.SOIDC_ERR_PROTOCOL
	StatusProvider              Status = C.SOIDC_ERR_PROVIDER
	StatusValidation            Status = C.SOIDC_ERR_VALIDATION
	StatusUnsupportedByProvider Status = C.SOIDC_ERR_UNSUPPORTED_BY_PROVIDER
	StatusAuthenticationFailed  Status = C.SOIDC_ERR_AUTHENTICATION_FAILED
	StatusPending               Status = C.SOIDC_ERR_PENDING
	StatusInternal              Status = C.SOIDC_ERR_INTERNAL
)

// String returns the lower-case name soidc uses in error documents
// ("validation", "provider", ...), or "unknown(N)" for a code this library
// version does not know.
func (s Status) String() string {
	name := C.GoString(C.soidc_status_name(C.soidc_status(s)))
	if name == "unknown" {
		return "unknown(" + strconv.Itoa(int(s)) + ")"
	}
	return name
}

// Error is every failure reported by soidc: the status and the error
// document's fields. Use errors.Is with the sentinels below to test the
// status, and errors.As to read the details:
//
//	var e *soidc.Error
//	if errors.As(err, &e) && e.ProviderError == "invalid_grant" { ... }
//
// When the call's context was done or its deadline passed, the error also
// wraps the context's error, so errors.Is(err, context.DeadlineExceeded) holds
// for a call that timed out.
type Error struct {
	Status  Status // never StatusOK
	Message string // what failed, with what was expected and what was found; never a secret

	// The provider's OAuth error response (StatusProvider, StatusAuthenticationFailed,
	// and StatusPending in the device flow), verbatim. Despite its name,
	// ProviderError is the error document's "error" member whoever set it: soidc
	// also sets it for some local validation failures ("insufficient_scope" with
	// StatusValidation and ReasonScope), so test Status (or Reason) with it.
	ProviderError    string // "error", e.g. "invalid_grant"
	ErrorDescription string // "error_description"
	ErrorURI         string // "error_uri"
	HTTPStatus       int    // "http_status" of the provider's answer, 0 when there was none

	// Interval is the number of seconds to wait before the next device poll
	// (StatusPending only).
	Interval int

	// Reason is the machine-readable cause of a token validation failure
	// (StatusValidation) or of a call that ran out of time (StatusNetwork,
	// ReasonTimeout), one of the Reason* constants, or "" when the error
	// document has none. ReasonNoKeysCached is not the token's fault: the
	// client has no keys yet (a cache_only decode before the first JWKS fetch),
	// so a server answers 503 and retries, not 401.
	Reason string

	// Raw is the complete error document ({"status": ..., "message": ..., ...}),
	// nil for errors detected by this package.
	Raw json.RawMessage

	cause    error
	sentinel bool
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "soidc: " + e.Status.String()
	}
	return "soidc: " + e.Status.String() + ": " + e.Message
}

// Is reports whether target is the sentinel for e's status (ErrValidation for
// StatusValidation, ...).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.sentinel && t.Status == e.Status
}

// Unwrap returns the context error of a call whose context was done, or nil.
func (e *Error) Unwrap() error { return e.cause }

func sentinel(s Status) *Error { return &Error{Status: s, sentinel: true} }

// Sentinels for errors.Is, one per status: errors.Is(err, soidc.ErrValidation)
// holds for every *Error with StatusValidation.
var (
	ErrInvalidArgument       = sentinel(StatusInvalidArgument)
	ErrNetwork               = sentinel(StatusNetwork)
	ErrHTTP                  = sentinel(StatusHTTP)
	ErrProtocol              = sentinel(StatusProtocol)
	ErrProvider              = sentinel(StatusProvider)
	ErrValidation            = sentinel(StatusValidation)
	ErrUnsupportedByProvider = sentinel(StatusUnsupportedByProvider)
	ErrAuthenticationFailed  = sentinel(StatusAuthenticationFailed)
	ErrPending               = sentinel(StatusPending)
	ErrInternal              = sentinel(StatusInternal)
)

// The values of Error.Reason: why a token did not validate, or why a call
// failed (the "reason" member of soidc's error documents). New reasons may be
// added.
const (
	// ReasonNoKeysCached: a cache_only decode found no keys cached yet. The
	// token was not checked; retry once the keys are fetched (HTTP 503).
	ReasonNoKeysCached = "no_keys_cached"
	// ReasonUnknownKid: no key of the provider's key set has the token's kid.
	ReasonUnknownKid = "unknown_kid"
	// ReasonSignature: the signature does not verify, or the algorithm or key
	// does not fit.
	ReasonSignature = "signature"
	// ReasonExpired: the token's exp has passed (beyond the leeway).
	ReasonExpired = "expired"
	// ReasonIssuer: iss is not the provider's issuer.
	ReasonIssuer = "issuer"
	// ReasonAudience: aud does not contain the expected audience.
	ReasonAudience = "audience"
	// ReasonScope: an access token lacks a required scope (error
	// "insufficient_scope", HTTP 403).
	ReasonScope = "scope"
	// ReasonNonce: the ID token's nonce is missing or different, or present
	// although none was expected (see IDTokenOptions.IgnoreNonce).
	ReasonNonce = "nonce"
	// ReasonSub: sub is empty or longer than 255 bytes (OpenID Connect Core §2).
	ReasonSub = "sub"
	// ReasonACR: acr is not one of the allowed values (ACRValuesAllowed), or
	// the ValidateACR callback refused it.
	ReasonACR = "acr"
	// ReasonExp: a logout token without exp (see
	// LogoutTokenOptions.AllowMissingExp).
	ReasonExp = "exp"
	// ReasonReplay: a logout token without exp whose jti was already accepted.
	ReasonReplay = "replay"
	// ReasonTimeout: the call's time budget (its timeout, or the context's
	// deadline, or CreateTimeout for a constructor) ran out (StatusNetwork).
	ReasonTimeout = "timeout"
	// ReasonDPoPNotBound: a client with DPoP on got a token response whose
	// token_type is not DPoP, a token not bound to its key (ErrProtocol, RFC 9449 §5).
	ReasonDPoPNotBound = "dpop_not_bound"
	// ReasonCnfX5t: a certificate-bound access token (cnf["x5t#S256"], RFC 8705
	// §3) without AccessTokenOptions.ClientCertPEM, or with another certificate.
	ReasonCnfX5t = "cnf_x5t"
)

// ErrClosed is returned by every method of a Client after Close.
var ErrClosed = errors.New("soidc: the client is closed")

// errorDocument is the error document's shape.
type errorDocument struct {
	Message          string `json:"message"`
	ProviderError    string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorURI         string `json:"error_uri"`
	HTTPStatus       int    `json:"http_status"`
	Interval         int    `json:"interval"`
	Reason           string `json:"reason"`
}

// errorFromDocument builds the *Error for a failed call from its status and
// error document.
func errorFromDocument(status Status, doc string) *Error {
	e := &Error{Status: status}
	if doc == "" {
		e.Message = "soidc returned no error document"
		return e
	}
	e.Raw = json.RawMessage(doc)
	var d errorDocument
	var extra map[string]any
	if err := decodeObject([]byte(doc), &d, &extra); err != nil {
		e.Message = "the error document is not a JSON object: " + doc
		return e
	}
	e.Message = d.Message
	e.ProviderError = d.ProviderError
	e.ErrorDescription = d.ErrorDescription
	e.ErrorURI = d.ErrorURI
	e.HTTPStatus = d.HTTPStatus
	e.Interval = d.Interval
	e.Reason = d.Reason
	return e
}

// shapeError reports a success document that does not fit the result type.
func shapeError(what string, err error) *Error {
	return &Error{Status: StatusProtocol, Message: what + ": unexpected result document: " + err.Error()}
}
