package soidc

// CreateTimeoutUnsupported reports whether the library refused the client
// option create_timeout_ms (a library older than that option), for the tests
// of package soidc_test.
func CreateTimeoutUnsupported() bool { return createTimeoutUnsupported.Load() }
