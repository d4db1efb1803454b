package soidc

import "encoding/json"

// ClaimRule is one rule of the decode option require_claims: a condition on
// a claim that soidc checks after a token has validated. A token that fails
// a rule is ErrValidation with Reason ReasonClaimRule; the message names the
// rule (Name, or its path and operator), never a claim value.
type ClaimRule struct {
	// Claim is the claim's path: dotted member names ("realm_access.roles"),
	// with `\.` for a dot inside a name (`https://example\.com/claims.tenant`),
	// or, when it starts with "/", an RFC 6901 JSON pointer.
	Claim string
	// Op is the operator, one of the ClaimOp constants.
	Op ClaimOp
	// Value is the operand (a JSON value: string, number, bool, slice, map);
	// nil for ClaimExists.
	Value any
	// Name, if not "", names the rule in errors and logs.
	Name string
}

// ClaimOp is the operator of a ClaimRule.
type ClaimOp string

// The operators of claim rules.
const (
	ClaimEq          ClaimOp = "eq"           // the claim equals Value
	ClaimIn          ClaimOp = "in"           // the claim is one of Value (an array)
	ClaimContains    ClaimOp = "contains"     // the claim (an array, or a string) contains Value
	ClaimContainsAny ClaimOp = "contains_any" // the claim (an array) contains one of Value (an array)
	ClaimExists      ClaimOp = "exists"       // the claim is present
)

// ReasonClaimRule is Error.Reason for a token that failed a ClaimRule.
const ReasonClaimRule = "claim_rule"

// MarshalJSON returns the rule as soidc reads it: {"claim", "op", "value",
// "name"}, without value and name when they are not set (soidc refuses null).
func (r ClaimRule) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Claim string  `json:"claim"`
		Op    ClaimOp `json:"op"`
		Value any     `json:"value,omitempty"`
		Name  string  `json:"name,omitempty"`
	}{r.Claim, r.Op, r.Value, r.Name})
}
