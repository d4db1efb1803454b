//go:build debug

package soidc

// debugForceGC makes Client.ptr run the garbage collector before it returns
// the C pointer, so that a C call not followed by runtime.KeepAlive fails in
// tests (go test -tags debug).
const debugForceGC = true
