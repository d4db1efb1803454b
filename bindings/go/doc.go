// Package soidc is the Go binding of soidc, an OpenID Connect relying-party
// client (the capabilities of Python's simple_openid_connect) implemented in
// Rust behind a C ABI. The binding holds no OpenID Connect logic: every check
// and default lives in the library; this package maps its functions, options
// and JSON documents to Go types.
//
// # Clients
//
// A Client is one client registration at one provider:
//
//	client, err := soidc.NewClientFromIssuerURL(ctx, "https://id.example.com", soidc.Config{
//		ClientID:     "my-app",
//		ClientSecret: secret,
//		RedirectURI:  "https://app.example.com/callback",
//		Scope:        "openid email",
//	})
//	if err != nil { ... }
//	defer client.Close()
//
// A Client is safe for concurrent use; share one per registration. Close is
// explicit and idempotent: it waits for calls in progress, frees the C
// client, and every later call returns ErrClosed. A forgotten client is freed
// by the garbage collector (runtime.AddCleanup), as a safety net only.
//
// # Contexts
//
// Every method takes a context.Context. A context that is already done
// returns its error without calling the library. For calls that may touch the
// network, the time left until the context's deadline (at least 1 ms, at most
// soidc's maximum of 10 minutes) becomes that call's timeout, replacing
// Options.Timeout; a call that runs out of time returns an *Error (usually
// ErrNetwork) that also wraps context.DeadlineExceeded. Library calls cannot
// be interrupted: when a context is cancelled, the method returns ctx.Err() at
// once and the library call finishes in the background, bounded by its
// timeout (Close waits for it). The effect at the provider (a token issued, a
// token revoked) may then still happen.
//
// # Logging
//
// soidc never prints. SetLogger installs a process-wide LogFunc;
// Client.SetLogger gives one client its own; Options.Logger does so before
// NewClientFromIssuerURL's discovery, so that the client's logger receives the
// messages of its creation too. The binding keeps every per-client LogFunc
// referenced until Close, as the C API requires.
//
// # Errors
//
// Failures are *Error values carrying the library's status, message and the
// provider's OAuth error fields. Test the status with errors.Is and the
// sentinels, and read the details with errors.As:
//
//	tokens, err := client.DirectAccessGrant(ctx, user, password, "", nil)
//	var e *soidc.Error
//	switch {
//	case errors.As(err, &e) && e.ProviderError == "invalid_grant":
//		// wrong user name or password
//	case errors.Is(err, soidc.ErrNetwork):
//		// the provider is unreachable
//	}
//
// # Results
//
// Results are typed structs decoded from the library's JSON documents. Each
// keeps the members it has no field for in Extra, and the whole document in
// Raw. A member whose value does not fit its field (a number sent as a string
// by some provider) is left at the zero value and kept in Extra, so a
// successful call never fails in decoding.
//
// # Typed claims, APIs and tests
//
// Claims.Decode, DecodeAccessTokenAs[T] and ClaimAs[T] put validated claims
// into the caller's own types; ClaimRule values (the decode option
// require_claims) are checked by the library. TokenSource and Transport call
// APIs with tokens renewed before they expire. The sub-package soidchttp is an
// http.Handler middleware for APIs (bearer and DPoP-bound tokens, RFC 6750
// answers); soidctest is an in-process provider for unit tests; the module
// soidcoauth2 adapts TokenSource to golang.org/x/oauth2.
//
// # Building
//
// By default the package links the installed library, found by
// `pkg-config soidc` (after `make install`; set PKG_CONFIG_PATH for a private
// prefix). With the build tag soidc_intree it links the library built in this
// source tree instead (`make build` at the repository root:
// target/release/libsoidc.so, found at run time through an rpath relative to
// this directory) and uses include/soidc.h; the repository's own tests and
// examples build with that tag. The build tag soidc_static links
// libsoidc.a instead of the shared library, for a binary that runs without
// libsoidc.so (see cgo.go). The build tag debug makes every
// library call run the garbage collector first, so that a missing
// runtime.KeepAlive shows up in tests.
package soidc
