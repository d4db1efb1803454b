//go:build !debug

package soidc

// debugForceGC: see debug.go.
const debugForceGC = false
