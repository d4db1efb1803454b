package soidc

// The reasons of a DPoP-bound access token refused by DecodeAccessToken with
// AccessTokenOptions.DPoPProof (RFC 9449 §4.3, §7.1): ReasonDPoPMissing (a
// bound token without a proof), ReasonDPoPInvalid (the proof is malformed,
// not one, of the wrong typ or alg, or its signature or jwk is wrong),
// ReasonDPoPHTM / ReasonDPoPHTU (method or URI differ), ReasonDPoPIAT (too
// old or in the future), ReasonDPoPATH (not made for this token),
// ReasonDPoPJKT (the proof's key is not the one the token is bound to),
// ReasonDPoPReplay (its jti was seen before), ReasonDPoPUnexpected (a proof
// for a token that is not bound), ReasonDPoPNonce (the proof lacks the nonce
// of AccessTokenOptions.DPoPNonce: error use_dpop_nonce, RFC 9449 §9).
const (
	ReasonDPoPMissing    = "dpop_missing"
	ReasonDPoPInvalid    = "dpop_invalid"
	ReasonDPoPHTM        = "dpop_htm"
	ReasonDPoPHTU        = "dpop_htu"
	ReasonDPoPIAT        = "dpop_iat"
	ReasonDPoPATH        = "dpop_ath"
	ReasonDPoPJKT        = "dpop_jkt"
	ReasonDPoPReplay     = "dpop_replay"
	ReasonDPoPUnexpected = "dpop_unexpected"
	ReasonDPoPNonce      = "dpop_nonce"
)
