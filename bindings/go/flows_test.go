package soidc_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
)

func TestClientCredentials(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	tokens, err := c.ClientCredentialsGrant(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if tokens.AccessToken == "" || !strings.EqualFold(tokens.TokenType, "bearer") || tokens.ExpiresIn <= 0 || tokens.IDTokenClaims != nil {
		t.Fatalf("unexpected token response %+v", tokens)
	}
	if len(tokens.Raw) == 0 {
		t.Fatal("Raw is empty")
	}
}

func TestDirectAccessGrantAndDecodeIDToken(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	tokens, err := c.DirectAccessGrant(ctx, "alice", alicePassword, "openid email", nil)
	if err != nil {
		t.Fatal(err)
	}
	claims := tokens.IDTokenClaims
	if tokens.IDToken == "" || claims == nil {
		t.Fatalf("no ID token: %+v", tokens)
	}
	if claims.Issuer != issuer(t) || claims.Subject != "alice" || !claims.Audience.Contains(basicID) ||
		claims.Email != "alice@example.test" || !claims.EmailVerified || claims.AuthTime == 0 ||
		claims.AccessTokenHash == "" {
		t.Fatalf("unexpected ID token claims %+v", claims)
	}
	if exp := claims.Expiry.Time(); exp.Before(time.Now()) || exp.After(time.Now().Add(24*time.Hour)) {
		t.Fatalf("odd exp %v", exp)
	}

	decoded, err := c.DecodeIDToken(ctx, tokens.IDToken, &soidc.IDTokenOptions{AccessToken: tokens.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	if decoded.Subject != "alice" || decoded.Email != claims.Email || decoded.IssuedAt != claims.IssuedAt {
		t.Fatalf("decoded %+v, from the grant %+v", decoded, claims)
	}
	// The at_hash check binds the ID token to its access token.
	other, err := c.DirectAccessGrant(ctx, "alice", alicePassword, "openid", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DecodeIDToken(ctx, tokens.IDToken, &soidc.IDTokenOptions{AccessToken: other.AccessToken})
	mustErr(t, err, soidc.ErrValidation)
	// An authentication older than required.
	_, err = c.DecodeIDToken(ctx, tokens.IDToken, &soidc.IDTokenOptions{MinAuthTime: time.Now().Add(time.Hour)})
	mustErr(t, err, soidc.ErrValidation)
}

func TestRefreshWithOriginalIDToken(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	first, err := c.DirectAccessGrant(ctx, "alice", alicePassword, "openid offline_access email", nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.RefreshToken == "" {
		t.Fatalf("no refresh token: %+v", first)
	}
	refreshed, err := c.ExchangeRefreshToken(ctx, first.RefreshToken, &soidc.RefreshOptions{IDToken: first.IDToken})
	if err != nil {
		t.Fatal(err)
	}
	if refreshed.AccessToken == "" || refreshed.IDTokenClaims == nil || refreshed.IDTokenClaims.Subject != "alice" ||
		refreshed.IDTokenClaims.AuthTime != first.IDTokenClaims.AuthTime {
		t.Fatalf("unexpected refresh response %+v", refreshed)
	}
	// Another user's ID token as "the original" breaks OIDC Core §12.2 continuity.
	bob, err := c.DirectAccessGrant(ctx, "bob", "bob-password", "openid", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ExchangeRefreshToken(ctx, first.RefreshToken, &soidc.RefreshOptions{IDToken: bob.IDToken})
	if e := mustErr(t, err, soidc.ErrValidation); !strings.Contains(e.Message, "sub") {
		t.Fatalf("message does not name sub: %q", e.Message)
	}
}

func TestDeviceFlow(t *testing.T) {
	t.Parallel() // waits for the provider's 5 s interval
	ctx := testContext(t)
	c := basicClient(t)
	start, err := c.DeviceAuthorizationStart(ctx, "openid email", nil)
	if err != nil {
		t.Fatal(err)
	}
	if start.DeviceCode == "" || start.UserCode == "" || start.VerificationURI == "" || start.ExpiresIn <= 0 {
		t.Fatalf("unexpected device authorization %+v", start)
	}

	// One poll before the user acts: pending.
	_, err = c.DeviceAuthorizationPoll(ctx, start.DeviceCode, start.PollOptions(false))
	e := mustErr(t, err, soidc.ErrPending)
	if e.ProviderError != "authorization_pending" || e.Interval <= 0 {
		t.Fatalf("pending error %+v", e)
	}

	// Wait in the background while the user approves: with a context that
	// cannot be cancelled soidc's own wait runs, with a cancellable one the
	// binding's.
	for name, waitCtx := range map[string]context.Context{"background": context.Background(), "cancellable": ctx} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			start := start
			if name != "background" {
				var err error
				if start, err = c.DeviceAuthorizationStart(ctx, "openid email", nil); err != nil {
					t.Fatal(err)
				}
			}
			type result struct {
				tokens *soidc.TokenResponse
				err    error
			}
			done := make(chan result, 1)
			go func() {
				tokens, err := c.DeviceAuthorizationPoll(waitCtx, start.DeviceCode, start.PollOptions(true))
				done <- result{tokens, err}
			}()
			time.Sleep(200 * time.Millisecond)
			postJSON(t, "/test/device/approve", map[string]string{"user_code": start.UserCode, "user": "alice"}, nil)
			r := <-done
			if r.err != nil {
				t.Fatal(r.err)
			}
			if claims := r.tokens.IDTokenClaims; claims == nil || claims.Subject != "alice" || claims.Email != "alice@example.test" {
				t.Fatalf("unexpected device tokens %+v", r.tokens)
			}
		})
	}
}

func TestDeviceCodeExpires(t *testing.T) {
	t.Parallel() // waits for the provider's 5 s interval
	c := newClient(t, soidc.Config{ClientID: "device-short", ClientSecret: "device-short-secret-0123456789abcdef"})
	for name, ctx := range map[string]context.Context{"background": context.Background(), "cancellable": testContext(t)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			start, err := c.DeviceAuthorizationStart(ctx, "openid", nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.DeviceAuthorizationPoll(ctx, start.DeviceCode, start.PollOptions(true))
			if e := mustErr(t, err, soidc.ErrProvider); e.ProviderError != "expired_token" {
				t.Fatalf("want expired_token, got %+v", e)
			}
		})
	}
}

func TestDeviceFlowDenied(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	start, err := c.DeviceAuthorizationStart(ctx, "openid", nil)
	if err != nil {
		t.Fatal(err)
	}
	postJSON(t, "/test/device/deny", map[string]string{"user_code": start.UserCode, "user": "alice"}, nil)
	_, err = c.DeviceAuthorizationPoll(ctx, start.DeviceCode, start.PollOptions(true))
	if e := mustErr(t, err, soidc.ErrProvider); e.ProviderError != "access_denied" {
		t.Fatalf("want access_denied, got %+v", e)
	}
}

func TestDeviceWaitHonoursDeadline(t *testing.T) {
	c := basicClient(t)
	start, err := c.DeviceAuthorizationStart(testContext(t), "openid", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err = c.DeviceAuthorizationPoll(ctx, start.DeviceCode, start.PollOptions(true))
	mustErr(t, err, soidc.ErrPending)
	if d := time.Since(began); d > 2*time.Second {
		t.Fatalf("waited %v past a 1.5 s deadline", d)
	}

	// Cancelling a wait returns at once.
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	began = time.Now()
	_, err = c.DeviceAuthorizationPoll(ctx, start.DeviceCode, start.PollOptions(true))
	if err != context.Canceled {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if d := time.Since(began); d > time.Second {
		t.Fatalf("cancel took %v", d)
	}
	// Nothing runs on in the background: Close does not wait.
	began = time.Now()
	_ = c.Close()
	if d := time.Since(began); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
}

func TestUserinfo(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	tokens, err := c.DirectAccessGrant(ctx, "alice", alicePassword, "openid email", nil)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.FetchUserinfo(ctx, tokens.AccessToken, &soidc.UserinfoOptions{ExpectedSub: tokens.IDTokenClaims.Subject})
	if err != nil {
		t.Fatal(err)
	}
	if info.Subject != "alice" || info.Email != "alice@example.test" || !info.EmailVerified {
		t.Fatalf("unexpected userinfo %+v", info)
	}
	_, err = c.FetchUserinfo(ctx, tokens.AccessToken, &soidc.UserinfoOptions{ExpectedSub: "bob"})
	mustErr(t, err, soidc.ErrValidation)
	_, err = c.FetchUserinfo(ctx, "not-a-token", nil)
	if e := mustErr(t, err, soidc.ErrProvider); e.ProviderError != "invalid_token" || e.HTTPStatus != 401 {
		t.Fatalf("want invalid_token with HTTP 401, got %+v", e)
	}
}

func TestIntrospectionAndRevocation(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	tokens, err := c.DirectAccessGrant(ctx, "alice", alicePassword, "openid offline_access", nil)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.IntrospectToken(ctx, tokens.AccessToken, "access_token")
	if err != nil {
		t.Fatal(err)
	}
	if !info.Active || info.ClientID != basicID || info.Subject != "alice" || info.Expiry == 0 {
		t.Fatalf("unexpected introspection %+v", info)
	}
	if err := c.RevokeToken(ctx, tokens.RefreshToken, "refresh_token"); err != nil {
		t.Fatal(err)
	}
	info, err = c.IntrospectToken(ctx, tokens.RefreshToken, "refresh_token")
	if err != nil {
		t.Fatal(err)
	}
	if info.Active {
		t.Fatalf("revoked refresh token still active: %+v", info)
	}
	if err := c.RevokeToken(ctx, "never-issued", ""); err != nil {
		t.Fatalf("revoking an unknown token: %v", err)
	}
}

func TestLogoutURL(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	tokens, err := c.DirectAccessGrant(ctx, "alice", alicePassword, "openid", nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := c.InitiateLogout(ctx, &soidc.LogoutRequest{
		IDTokenHint: tokens.IDToken, PostLogoutRedirectURI: "http://127.0.0.1:9/logged-out", State: "bye",
		UILocales: []string{"en", "de"},
	})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if !strings.HasPrefix(raw, issuer(t)+"/session/end?") || q.Get("id_token_hint") != tokens.IDToken ||
		q.Get("client_id") != basicID || q.Get("state") != "bye" || q.Get("ui_locales") != "en de" {
		t.Fatalf("unexpected logout URL %s", raw)
	}
	raw, err = c.InitiateLogout(ctx, &soidc.LogoutRequest{OmitClientID: true})
	if err != nil || strings.Contains(raw, "client_id") {
		t.Fatalf("OmitClientID: %s, %v", raw, err)
	}
}

func TestAuthorizationCodeFlow(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	start, err := c.AuthCodeStart(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if start.State == "" || start.Nonce == "" || start.CodeVerifier == "" || start.RedirectURI != redirectURI {
		t.Fatalf("unexpected start %+v", start)
	}
	q := mustQuery(t, start.URL)
	if q.Get("code_challenge_method") != "S256" || q.Get("client_id") != basicID || q.Get("scope") != "openid email" {
		t.Fatalf("unexpected authorization URL %s", start.URL)
	}
	callback := browse(t, start.URL)
	opts := start.ResultOptions()
	opts.RedirectURI = "auto" // the callback URL without its query, as simple_openid_connect does
	tokens, err := c.AuthCodeHandleResult(ctx, callback, opts)
	if err != nil {
		t.Fatal(err)
	}
	if tokens.IDTokenClaims == nil || tokens.IDTokenClaims.Subject != "alice" || tokens.IDTokenClaims.Nonce != start.Nonce {
		t.Fatalf("unexpected tokens %+v", tokens)
	}
	// The code is used up.
	_, err = c.AuthCodeHandleResult(ctx, callback, start.ResultOptions())
	if e := mustErr(t, err, soidc.ErrProvider); e.ProviderError != "invalid_grant" {
		t.Fatalf("reused code: %+v", e)
	}
}

func TestAuthorizationCodeFlowChecks(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)

	// A wrong nonce: the ID token's nonce does not match.
	start, err := c.AuthCodeStart(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	callback := browse(t, start.URL)
	opts := start.ResultOptions()
	opts.Nonce = "not-the-nonce"
	_, err = c.AuthCodeHandleResult(ctx, callback, opts)
	if e := mustErr(t, err, soidc.ErrValidation); !strings.Contains(e.Message, "nonce") {
		t.Fatalf("message does not name the nonce: %q", e.Message)
	}

	// A wrong state is refused before the code is exchanged.
	start, err = c.AuthCodeStart(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	callback = browse(t, start.URL)
	opts = start.ResultOptions()
	opts.State = "forged"
	_, err = c.AuthCodeHandleResult(ctx, callback, opts)
	mustErr(t, err, soidc.ErrValidation)

	// The user cancels: an error response.
	start, err = c.AuthCodeStart(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	callback = browse(t, start.URL, "--deny")
	_, err = c.AuthCodeHandleResult(ctx, callback, start.ResultOptions())
	if e := mustErr(t, err, soidc.ErrAuthenticationFailed); e.ProviderError != "access_denied" {
		t.Fatalf("want access_denied, got %+v", e)
	}
}

func TestAuthorizationCodeExchangePublicClient(t *testing.T) {
	ctx := testContext(t)
	c := newClient(t, soidc.Config{ClientID: "public-pkce", RedirectURI: redirectURI, Scope: "openid"})
	start, err := c.AuthCodeStart(ctx, &soidc.AuthCodeStartOptions{Scope: "openid email", NoState: true, LoginHint: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if start.State != "" || mustQuery(t, start.URL).Has("state") {
		t.Fatalf("state not switched off: %+v", start)
	}
	code := mustQuery(t, browse(t, start.URL)).Get("code")
	tokens, err := c.AuthCodeExchange(ctx, code, &soidc.AuthCodeExchangeOptions{CodeVerifier: start.CodeVerifier, Nonce: start.Nonce})
	if err != nil {
		t.Fatal(err)
	}
	if tokens.IDTokenClaims == nil || tokens.IDTokenClaims.Email != "alice@example.test" {
		t.Fatalf("unexpected tokens %+v", tokens)
	}
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return u.Query()
}

func TestUnsupportedByProvider(t *testing.T) {
	ctx := testContext(t)
	meta, err := basicClient(t).ProviderConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	delete(meta.Extra, "end_session_endpoint")
	bare := map[string]any{
		"issuer": meta.Issuer, "authorization_endpoint": meta.AuthorizationEndpoint, "token_endpoint": meta.TokenEndpoint,
		"jwks_uri": meta.JWKSURI, "subject_types_supported": meta.SubjectTypesSupported,
		"id_token_signing_alg_values_supported": meta.IDTokenSigningAlgValuesSupported,
	}
	c, err := soidc.NewClientFromIssuerConfig(ctx, mustJSON(t, bare), soidc.Config{ClientID: basicID, ClientSecret: basicSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.FetchUserinfo(ctx, "x", nil)
	mustErr(t, err, soidc.ErrUnsupportedByProvider)
	_, err = c.InitiateLogout(ctx, nil)
	mustErr(t, err, soidc.ErrUnsupportedByProvider)
	_, err = c.IntrospectToken(ctx, "x", "")
	mustErr(t, err, soidc.ErrUnsupportedByProvider)
	_, err = c.DeviceAuthorizationStart(ctx, "", nil)
	mustErr(t, err, soidc.ErrUnsupportedByProvider)
}

func TestPushedSignedRequestAndJWTResponse(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	yes := true
	start, err := c.AuthCodeStart(ctx, &soidc.AuthCodeStartOptions{PAR: &yes, RequestObject: "signed", ResponseMode: "query.jwt"})
	if err != nil {
		t.Fatal(err)
	}
	q := mustQuery(t, start.URL)
	if len(q) != 2 || q.Get("client_id") != basicID || !strings.HasPrefix(q.Get("request_uri"), "urn:ietf:params:oauth:request_uri:") || start.ExpiresIn <= 0 {
		t.Fatalf("unexpected pushed start %+v", start)
	}
	callback := browse(t, start.URL)
	if mustQuery(t, callback).Get("response") == "" {
		t.Fatalf("not a JWT response: %s", callback)
	}
	opts := start.ResultOptions()
	opts.ResponseMode = "query.jwt"
	tokens, err := c.AuthCodeHandleResult(ctx, callback, opts)
	if err != nil {
		t.Fatal(err)
	}
	if tokens.IDTokenClaims == nil || tokens.IDTokenClaims.Subject != "alice" || tokens.IDTokenClaims.Nonce != start.Nonce {
		t.Fatalf("unexpected tokens %+v", tokens)
	}
	// Bad option values are the caller's error.
	_, err = c.AuthCodeStart(ctx, &soidc.AuthCodeStartOptions{RequestObject: "yes"})
	mustErr(t, err, soidc.ErrInvalidArgument)
	// A plain response when a JWT mode was asked for is refused.
	plain, err := c.AuthCodeStart(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts = plain.ResultOptions()
	opts.ResponseMode = "jwt"
	_, err = c.AuthCodeHandleResult(ctx, browse(t, plain.URL), opts)
	mustErr(t, err, soidc.ErrValidation)
}

func TestAuthCodeHandleFormPost(t *testing.T) {
	ctx := testContext(t)
	c := basicClient(t)
	for _, mode := range []string{"form_post", "form_post.jwt"} {
		start, err := c.AuthCodeStart(ctx, &soidc.AuthCodeStartOptions{ResponseMode: mode})
		if err != nil {
			t.Fatal(err)
		}
		// browser.mjs prints "POST <action> <body>" for a form_post answer.
		parts := strings.SplitN(browse(t, start.URL), " ", 3)
		if len(parts) != 3 || parts[0] != "POST" || parts[1] != redirectURI {
			t.Fatalf("%s: not a form_post to the redirect URI: %q", mode, parts)
		}
		body := parts[2]
		_, err = c.AuthCodeHandleFormPost(ctx, "text/plain", body, start.FormPostState(mode), nil)
		mustErr(t, err, soidc.ErrInvalidArgument)
		_, err = c.AuthCodeHandleFormPost(ctx, "application/x-www-form-urlencoded", body, &soidc.AuthCodeFormPostState{State: "other"}, nil)
		mustErr(t, err, soidc.ErrValidation)
		_, err = c.AuthCodeHandleFormPost(ctx, "application/x-www-form-urlencoded", "a\x00b", nil, nil)
		mustErr(t, err, soidc.ErrInvalidArgument)
		tokens, err := c.AuthCodeHandleFormPost(ctx, "application/x-www-form-urlencoded", body, start.FormPostState(mode), nil)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if tokens.IDTokenClaims == nil || tokens.IDTokenClaims.Subject != "alice" || tokens.IDTokenClaims.Nonce != start.Nonce {
			t.Fatalf("%s: unexpected tokens %+v", mode, tokens)
		}
	}
}

func TestDeviceFlowPKCEForAPublicClient(t *testing.T) {
	ctx := testContext(t)
	c := newClient(t, soidc.Config{ClientID: "public-pkce", RedirectURI: redirectURI, Scope: "openid"})
	// "auto": on for a public client at a provider that advertises S256.
	start, err := c.DeviceAuthorizationStart(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(start.CodeVerifier) != 43 {
		t.Fatalf("no PKCE verifier in %+v", start)
	}
	opts := start.PollOptions(false)
	if opts.CodeVerifier != start.CodeVerifier {
		t.Fatalf("PollOptions lost the verifier: %+v", opts)
	}
	postJSON(t, "/test/device/approve", map[string]string{"user_code": start.UserCode, "user": "alice"}, nil)
	tokens, err := c.DeviceAuthorizationPoll(ctx, start.DeviceCode, opts)
	if err != nil {
		t.Fatal(err)
	}
	if tokens.IDTokenClaims == nil || tokens.IDTokenClaims.Subject != "alice" {
		t.Fatalf("unexpected tokens %+v", tokens)
	}
	_, err = c.DeviceAuthorizationPoll(ctx, start.DeviceCode, &soidc.DevicePollOptions{CodeVerifier: "short"})
	mustErr(t, err, soidc.ErrInvalidArgument)
}
