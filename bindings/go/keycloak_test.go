//go:build keycloak

// The Go binding against a real Keycloak (tests/keycloak/run.sh starts it, imports
// tests/keycloak/realm.json and runs these with -tags keycloak through
// bindings/go/keycloak-tests.sh): the same core cases as tests/keycloak.rs, through
// the Go API.

package soidc_test

import (
	"context"
	"errors"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	soidc "github.com/soidc/soidc/bindings/go"
)

const (
	kcConf          = "soidc-conf"
	kcConfSecret    = "soidc-conf-secret-0123456789abcdef"
	kcService       = "soidc-service"
	kcServiceSecret = "soidc-service-secret-0123456789abcdef"
	kcPublic        = "soidc-public"
	kcCallback      = "http://127.0.0.1:9/callback"
	kcLoggedOut     = "http://127.0.0.1:9/logged-out"
	kcScope         = "openid email profile"
)

func kcIssuer(t testing.TB) string {
	t.Helper()
	iss := os.Getenv("SOIDC_KC_ISSUER")
	if iss == "" {
		t.Fatal("SOIDC_KC_ISSUER is not set: run tests/keycloak/run.sh (make test-keycloak)")
	}
	return iss
}

func kcCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func kcClient(t testing.TB, id, secret, scope string) *soidc.Client {
	t.Helper()
	c, err := soidc.NewClientFromIssuerURL(kcCtx(t), kcIssuer(t), soidc.Config{ClientID: id, ClientSecret: secret, RedirectURI: kcCallback, Scope: scope})
	if err != nil {
		t.Fatalf("NewClientFromIssuerURL(%s): %v", id, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func kcPassword(t testing.TB, c *soidc.Client, user string) *soidc.TokenResponse {
	t.Helper()
	tr, err := c.DirectAccessGrant(kcCtx(t), user, user+"-password", "", nil)
	if err != nil {
		t.Fatalf("DirectAccessGrant(%s): %v", user, err)
	}
	return tr
}

func providerError(t testing.TB, err error) *soidc.Error {
	t.Helper()
	var e *soidc.Error
	if !errors.As(err, &e) || !errors.Is(err, soidc.ErrProvider) {
		t.Fatalf("expected a provider error, got %v", err)
	}
	return e
}

// kcBrowser drives Keycloak's HTML pages over HTTP: a cookie jar, no redirects followed
// automatically (those leaving Keycloak are where the flow ends).
type kcBrowser struct {
	t      testing.TB
	client *http.Client
	origin string
}

type kcPage struct {
	status   int
	location string
	body     string
	url      string
}

func newBrowser(t testing.TB) *kcBrowser {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(kcIssuer(t))
	return &kcBrowser{t: t, origin: u.Scheme + "://" + u.Host, client: &http.Client{
		Jar:           jar,
		Timeout:       60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *kcBrowser) do(req *http.Request) kcPage {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := kcPage{status: resp.StatusCode, body: string(body), url: req.URL.String()}
	if loc, err := resp.Location(); err == nil {
		p.location = loc.String()
	}
	return p
}

// follow GETs redirects that stay on Keycloak.
func (b *kcBrowser) follow(p kcPage) kcPage {
	for i := 0; i < 10 && p.status >= 300 && p.status < 400 && strings.HasPrefix(p.location, b.origin); i++ {
		req, _ := http.NewRequest(http.MethodGet, p.location, nil)
		p = b.do(req)
	}
	return p
}

func (b *kcBrowser) get(u string) kcPage {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	return b.follow(b.do(req))
}

var (
	formRe  = regexp.MustCompile(`(?s)<form([^>]*)>(.*?)</form>`)
	inputRe = regexp.MustCompile(`<input([^>]*)>`)
)

func attr(tag, name string) string {
	m := regexp.MustCompile(`\s` + name + `="([^"]*)"`).FindStringSubmatch(tag)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// submit posts the form whose opening tag contains marker, with set added to its fields.
func (b *kcBrowser) submit(p kcPage, marker string, set map[string]string) kcPage {
	b.t.Helper()
	for _, m := range formRe.FindAllStringSubmatch(p.body, -1) {
		if !strings.Contains(m[1], marker) {
			continue
		}
		action, err := url.Parse(p.url)
		if err != nil {
			b.t.Fatal(err)
		}
		action, _ = action.Parse(attr(m[1], "action"))
		form := url.Values{}
		for _, in := range inputRe.FindAllStringSubmatch(m[2], -1) {
			name, typ := attr(in[1], "name"), attr(in[1], "type")
			if name != "" && typ != "submit" && typ != "checkbox" {
				form.Set(name, attr(in[1], "value"))
			}
		}
		for k, v := range set {
			form.Set(k, v)
		}
		req, _ := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return b.follow(b.do(req))
	}
	b.t.Fatalf("no form with %q on %s (HTTP %d):\n%s", marker, p.url, p.status, p.body)
	return kcPage{}
}

// login logs user in at an authorization URL and returns the redirect to the client.
func (b *kcBrowser) login(authURL, user string) string {
	b.t.Helper()
	page := b.get(authURL)
	done := b.submit(page, `id="kc-form-login"`, map[string]string{"username": user, "password": user + "-password"})
	if done.status < 300 || done.status >= 400 || !strings.HasPrefix(done.location, kcCallback) {
		b.t.Fatalf("login should redirect back to the client: HTTP %d %q\n%s", done.status, done.location, done.body)
	}
	return done.location
}

func TestKeycloakDiscoveryAndKeys(t *testing.T) {
	c := kcClient(t, kcConf, kcConfSecret, kcScope)
	md, err := c.ProviderConfig(kcCtx(t))
	if err != nil || md.Issuer != kcIssuer(t) {
		t.Fatalf("ProviderConfig: %v %+v", err, md)
	}
	keys, err := c.ProviderKeys(kcCtx(t), &soidc.ProviderKeysOptions{ForceRefresh: true})
	if err != nil {
		t.Fatalf("ProviderKeys: %v", err)
	}
	uses := map[string]bool{}
	for _, k := range keys.Keys {
		uses[k.Use] = true
	}
	if !uses["enc"] || !uses["sig"] {
		t.Fatalf("expected Keycloak's sig and enc keys, got %+v", keys.Keys)
	}
}

func TestKeycloakClientCredentials(t *testing.T) {
	c := kcClient(t, kcService, kcServiceSecret, "openid")
	tr, err := c.ClientCredentialsGrant(kcCtx(t), "", nil)
	if err != nil {
		t.Fatalf("ClientCredentialsGrant: %v", err)
	}
	// Keycloak's quirk: an ID token in the client credentials response, validated by soidc.
	if tr.IDTokenClaims == nil || tr.IDTokenClaims.AuthorizedParty != kcService {
		t.Fatalf("expected a validated ID token for %s: %s", kcService, tr.Raw)
	}
	at, err := c.DecodeAccessToken(kcCtx(t), tr.AccessToken, nil)
	if err != nil || at.ClientID != kcService {
		t.Fatalf("DecodeAccessToken: %v %+v", err, at)
	}
	_, err = c.DecodeAccessToken(kcCtx(t), tr.AccessToken, &soidc.AccessTokenOptions{Audience: "elsewhere"})
	if !errors.Is(err, soidc.ErrValidation) {
		t.Fatalf("another audience: %v", err)
	}
}

func TestKeycloakPasswordRefreshUserinfo(t *testing.T) {
	c := kcClient(t, kcConf, kcConfSecret, kcScope)
	tr := kcPassword(t, c, "alice")
	if tr.IDTokenClaims == nil || tr.IDTokenClaims.PreferredUsername != "alice" {
		t.Fatalf("password grant: %s", tr.Raw)
	}
	// The nonce quirk: Keycloak leaves it out, soidc refuses the ID token.
	_, err := c.DirectAccessGrant(kcCtx(t), "alice", "alice-password", "", &soidc.GrantOptions{Nonce: "n-0S6_WzA2Mj"})
	if !errors.Is(err, soidc.ErrValidation) || !strings.Contains(err.Error(), "nonce") {
		t.Fatalf("password grant with a nonce: %v", err)
	}
	rt, err := c.ExchangeRefreshToken(kcCtx(t), tr.RefreshToken, &soidc.RefreshOptions{IDToken: tr.IDToken})
	if err != nil || rt.IDTokenClaims == nil || rt.IDTokenClaims.Subject != tr.IDTokenClaims.Subject {
		t.Fatalf("refresh: %v", err)
	}
	info, err := c.FetchUserinfo(kcCtx(t), rt.AccessToken, &soidc.UserinfoOptions{ExpectedSub: tr.IDTokenClaims.Subject})
	if err != nil || info.Email != "alice@example.com" {
		t.Fatalf("userinfo: %v %+v", err, info)
	}
	claims, err := c.DecodeAccessToken(kcCtx(t), rt.AccessToken, &soidc.AccessTokenOptions{RequiredScopes: []string{"email"}})
	if err != nil || claims.ClientID != kcConf || claims.Subject != tr.IDTokenClaims.Subject {
		t.Fatalf("RFC 9068 access token: %v %+v", err, claims)
	}
}

func TestKeycloakIntrospectionAndRevocation(t *testing.T) {
	c := kcClient(t, kcConf, kcConfSecret, kcScope)
	tr := kcPassword(t, c, "bob")
	in, err := c.IntrospectToken(kcCtx(t), tr.AccessToken, "access_token")
	if err != nil || !in.Active || in.Username != "bob" {
		t.Fatalf("introspection: %v %+v", err, in)
	}
	if err := c.RevokeToken(kcCtx(t), tr.RefreshToken, "refresh_token"); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	in, err = c.IntrospectToken(kcCtx(t), tr.RefreshToken, "refresh_token")
	if err != nil || in.Active {
		t.Fatalf("introspection after revocation: %v %+v", err, in)
	}
	_, err = c.ExchangeRefreshToken(kcCtx(t), tr.RefreshToken, nil)
	if e := providerError(t, err); e.ProviderError != "invalid_grant" {
		t.Fatalf("refresh after revocation: %v", err)
	}
}

func TestKeycloakErrors(t *testing.T) {
	bad := kcClient(t, kcConf, "wrong-secret-value-0123", kcScope)
	_, err := bad.ClientCredentialsGrant(kcCtx(t), "", nil)
	if e := providerError(t, err); e.ProviderError != "unauthorized_client" && e.ProviderError != "invalid_client" {
		t.Fatalf("wrong secret: %v", err)
	}
	if strings.Contains(err.Error(), "wrong-secret-value-0123") {
		t.Fatalf("the secret leaks: %v", err)
	}
	c := kcClient(t, kcConf, kcConfSecret, kcScope)
	_, err = c.DirectAccessGrant(kcCtx(t), "alice", "not-her-password", "", nil)
	if e := providerError(t, err); e.ProviderError != "invalid_grant" || strings.Contains(err.Error(), "not-her-password") {
		t.Fatalf("wrong password: %v", err)
	}
}

func TestKeycloakCodeFlowWithPKCE(t *testing.T) {
	c := kcClient(t, kcPublic, "", kcScope)
	start, err := c.AuthCodeStart(kcCtx(t), nil)
	if err != nil {
		t.Fatalf("AuthCodeStart: %v", err)
	}
	back := newBrowser(t).login(start.URL, "alice")
	tr, err := c.AuthCodeHandleResult(kcCtx(t), back, start.ResultOptions())
	if err != nil {
		t.Fatalf("AuthCodeHandleResult: %v", err)
	}
	if tr.IDTokenClaims == nil || tr.IDTokenClaims.Nonce != start.Nonce || tr.IDTokenClaims.PreferredUsername != "alice" {
		t.Fatalf("ID token: %s", tr.Raw)
	}
}

func TestKeycloakDeviceFlow(t *testing.T) {
	c := kcClient(t, kcConf, kcConfSecret, kcScope)
	da, err := c.DeviceAuthorizationStart(kcCtx(t), "", nil)
	if err != nil {
		t.Fatalf("DeviceAuthorizationStart: %v", err)
	}
	_, err = c.DeviceAuthorizationPoll(kcCtx(t), da.DeviceCode, da.PollOptions(false))
	if !errors.Is(err, soidc.ErrPending) {
		t.Fatalf("before approval: %v", err)
	}
	b := newBrowser(t)
	page := b.get(da.VerificationURIComplete)
	page = b.submit(page, `id="kc-form-login"`, map[string]string{"username": "alice", "password": "alice-password"})
	page = b.submit(page, "login-actions/consent", map[string]string{"accept": "Yes"})
	if !strings.Contains(page.body, "Device Login Successful") {
		t.Fatalf("device approval: HTTP %d\n%s", page.status, page.body)
	}
	tr, err := c.DeviceAuthorizationPoll(kcCtx(t), da.DeviceCode, da.PollOptions(true))
	if err != nil || tr.IDTokenClaims == nil || tr.IDTokenClaims.PreferredUsername != "alice" {
		t.Fatalf("DeviceAuthorizationPoll: %v", err)
	}
}

func TestKeycloakLogout(t *testing.T) {
	c := kcClient(t, kcConf, kcConfSecret, kcScope)
	// The back-channel logout URL of the realm names this port (run.sh fills it in).
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("SOIDC_KC_BCL_PORT"))
	if err != nil {
		t.Fatalf("listen for back-channel logout: %v", err)
	}
	// Every delivery is forwarded: another session may end meanwhile, so the test
	// picks its own session's token by sid.
	tokens := make(chan string, 64)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/backchannel-logout" && r.ParseForm() == nil {
			select {
			case tokens <- r.PostForm.Get("logout_token"):
			default:
			}
		}
		w.Header().Set("Cache-Control", "no-store")
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	start, err := c.AuthCodeStart(kcCtx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	tr, err := c.AuthCodeHandleResult(kcCtx(t), b.login(start.URL, "alice"), start.ResultOptions())
	if err != nil {
		t.Fatalf("AuthCodeHandleResult: %v", err)
	}
	logoutURL, err := c.InitiateLogout(kcCtx(t), &soidc.LogoutRequest{IDTokenHint: tr.IDToken, PostLogoutRedirectURI: kcLoggedOut, State: "bye-go"})
	if err != nil {
		t.Fatalf("InitiateLogout: %v", err)
	}
	page := b.get(logoutURL)
	if !strings.HasPrefix(page.location, kcLoggedOut) || !strings.Contains(page.location, "state=bye-go") {
		t.Fatalf("logout should land on the post-logout URI: HTTP %d %q", page.status, page.location)
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case raw := <-tokens:
			claims, err := c.DecodeLogoutToken(kcCtx(t), raw, nil)
			if err != nil {
				t.Fatalf("DecodeLogoutToken: %v", err)
			}
			if claims.SessionID != tr.IDTokenClaims.SessionID {
				continue // another session's logout
			}
			if claims.Subject != tr.IDTokenClaims.Subject {
				t.Fatalf("logout token of another subject: %+v", claims)
			}
			return
		case <-deadline:
			t.Fatal("Keycloak delivered no back-channel logout token for this session")
		}
	}
}

func TestKeycloakTokenExchange(t *testing.T) {
	c := kcClient(t, kcConf, kcConfSecret, kcScope)
	tr := kcPassword(t, c, "alice")
	ex, err := c.TokenExchange(kcCtx(t), tr.AccessToken, soidc.TokenTypeAccessToken, &soidc.TokenExchangeOptions{Audience: []string{"soidc-api"}, Scope: "email"})
	if err != nil {
		t.Fatalf("TokenExchange: %v", err)
	}
	if ex.IssuedTokenType != soidc.TokenTypeAccessToken || ex.TokenType != "Bearer" || ex.Scope != "email" {
		t.Fatalf("exchange response: %s", ex.Raw)
	}
	claims, err := c.DecodeAccessToken(kcCtx(t), ex.AccessToken, &soidc.AccessTokenOptions{Audience: "soidc-api", RequiredScopes: []string{"email"}})
	if err != nil || !claims.Audience.Contains("soidc-api") || claims.Audience.Contains(kcConf) || claims.Subject != tr.IDTokenClaims.Subject {
		t.Fatalf("the exchanged token: %v %+v", err, claims)
	}
	// Refused: a client without token exchange enabled; a token Keycloak never issued.
	svc := kcClient(t, kcService, kcServiceSecret, "openid")
	_, err = svc.TokenExchange(kcCtx(t), tr.AccessToken, soidc.TokenTypeAccessToken, nil)
	if e := providerError(t, err); e.ProviderError != "invalid_request" || !strings.Contains(e.ErrorDescription, "not enabled") {
		t.Fatalf("exchange by a client without it: %v", err)
	}
	_, err = c.TokenExchange(kcCtx(t), "never-issued", soidc.TokenTypeAccessToken, nil)
	if e := providerError(t, err); e.ProviderError != "invalid_request" {
		t.Fatalf("exchange of a token never issued: %v", err)
	}
}
