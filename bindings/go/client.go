package soidc

/*
#include <stdlib.h>
#include "soidc.h"
#include "shim.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"runtime/cgo"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Client is an OpenID Connect client for one provider and one client
// registration (a soidc_client).
//
// A Client is safe for concurrent use by any number of goroutines. Close it
// when done: Close waits for calls in progress, frees the C client, and makes
// every later call return ErrClosed. A Client that becomes unreachable without
// Close is freed by the garbage collector, but do not rely on that.
type Client struct {
	// mu is held for reading during every C call and for writing by Close, so
	// that the C client is never freed under a running call.
	mu      sync.RWMutex
	raw     *C.soidc_client // nil after Close
	cleanup runtime.Cleanup
	logs    *logHandles // the per-client loggers installed by SetLogger or Options.Logger
}

// logHandles keeps every per-client LogFunc reachable (as a cgo.Handle) until
// the C client is freed, since soidc may deliver to a replaced callback on
// another thread while it is being replaced.
type logHandles struct {
	mu      sync.Mutex
	handles []cgo.Handle
}

func (l *logHandles) add(h cgo.Handle) {
	l.mu.Lock()
	l.handles = append(l.handles, h)
	l.mu.Unlock()
}

func (l *logHandles) deleteAll() {
	l.mu.Lock()
	for _, h := range l.handles {
		h.Delete()
	}
	l.handles = nil
	l.mu.Unlock()
}

// owned is what a forgotten client's cleanup frees; it never refers to the Client.
type owned struct {
	raw  *C.soidc_client
	logs *logHandles
}

// ClientType says whether a client is public or confidential.
type ClientType int

// The client types, as simple_openid_connect decides them: confidential when
// a client secret (or private key) was given.
const (
	ClientInvalid      ClientType = C.SOIDC_CLIENT_INVALID
	ClientPublic       ClientType = C.SOIDC_CLIENT_PUBLIC
	ClientConfidential ClientType = C.SOIDC_CLIENT_CONFIDENTIAL
)

func (t ClientType) String() string {
	switch t {
	case ClientPublic:
		return "public"
	case ClientConfidential:
		return "confidential"
	default:
		return "invalid"
	}
}

// NewClientFromIssuerURL creates a client by discovery: it fetches
// <issuer>/.well-known/openid-configuration and requires its issuer to equal
// issuer exactly. issuer must be https, or http on a loopback host.
//
// Errors: ErrInvalidArgument (bad config or option), ErrNetwork, ErrHTTP,
// ErrProtocol (issuer mismatch, incomplete metadata, an endpoint violating the
// https policy). The whole creation is bounded by Options.CreateTimeout
// (default Options.Timeout) and by ctx's deadline, whichever comes first: the
// time left is passed to soidc as the client option create_timeout_ms, so the
// library itself gives up by then (a library older than that option is called
// without it, and Options.Timeout bounds each request instead). If ctx is done
// first, ctx.Err() is returned at once; a discovery still running then
// finishes in the background and its client, if any, is freed.
//
// With Options.Logger the client's own logger is installed before the
// discovery starts, so it receives the creation's messages too.
func NewClientFromIssuerURL(ctx context.Context, issuer string, cfg Config) (*Client, error) {
	if err := checkStrings("issuer", issuer); err != nil {
		return nil, err
	}
	return newClient(ctx, cfg, func(a *cStrings) *C.char { return a.str(issuer) }, false)
}

// NewClientFromIssuerConfig creates a client from a provider metadata document
// the caller already has (for instance ProviderMetadata.Raw cached from an
// earlier discovery). There is no network access. A malformed or incomplete
// document is ErrInvalidArgument; an endpoint violating the https policy is
// ErrProtocol. Options.Logger is installed right after the creation.
func NewClientFromIssuerConfig(ctx context.Context, providerMetadata []byte, cfg Config) (*Client, error) {
	if err := checkStrings("providerMetadata", string(providerMetadata)); err != nil {
		return nil, err
	}
	return newClient(ctx, cfg, func(a *cStrings) *C.char { return a.str(string(providerMetadata)) }, true)
}

// creation is what making the C client takes: the configuration, the first
// argument (the issuer or the metadata document) and which C function to call.
type creation struct {
	cfg        Config
	first      func(*cStrings) *C.char
	fromConfig bool
}

func newClient(ctx context.Context, cfg Config, first func(*cStrings) *C.char, fromConfig bool) (*Client, error) {
	if err := checkStrings("ClientID", cfg.ClientID, "ClientSecret", cfg.ClientSecret,
		"RedirectURI", cfg.RedirectURI, "Scope", cfg.Scope); err != nil {
		return nil, err
	}
	opts, err := json.Marshal(cfg.Options)
	if err != nil {
		return nil, &Error{Status: StatusInvalidArgument, Message: "options: " + err.Error()}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Discovery under a deadline: soidc bounds the whole creation call by it,
	// or by Options.CreateTimeout when that ends first.
	withDeadline := ""
	if deadline, ok := ctx.Deadline(); ok && !fromConfig {
		left := clampTimeout(time.Until(deadline))
		switch {
		case cfg.Options.CreateTimeout > 0 && cfg.Options.CreateTimeout <= left:
			// The caller's own bound is the tighter one; opts carries it already.
		case cfg.Options.CreateTimeout > 0:
			o := cfg.Options
			o.CreateTimeout = left
			b, err := json.Marshal(o)
			if err != nil {
				return nil, &Error{Status: StatusInvalidArgument, Message: "options: " + err.Error()}
			}
			opts = b
		case !createTimeoutUnsupported.Load():
			withDeadline = withCreateTimeout(string(opts), left)
		}
	}
	c := creation{cfg: cfg, first: first, fromConfig: fromConfig}
	create := func() (*C.soidc_client, *logHandles, error) {
		if withDeadline != "" {
			raw, logs, err := c.run(withDeadline)
			if !isUnknownCreateTimeout(err) {
				return raw, logs, err
			}
			// A library without create_timeout_ms: the call without it.
			createTimeoutUnsupported.Store(true)
		}
		return c.run(string(opts))
	}
	if fromConfig || ctx.Done() == nil {
		raw, logs, err := create()
		if err != nil {
			return nil, err
		}
		return wrapClient(raw, logs), nil
	}
	// Cancellation cannot interrupt the C call: run it aside and stop waiting when ctx is done.
	type created struct {
		raw  *C.soidc_client
		logs *logHandles
		err  error
	}
	result := make(chan created)
	abandoned := make(chan struct{})
	go func() {
		raw, logs, err := create()
		select {
		case result <- created{raw, logs, err}:
		case <-abandoned:
			if raw != nil {
				freeClient(owned{raw: raw, logs: logs})
			}
		}
	}()
	select {
	case r := <-result:
		if r.err != nil {
			return nil, withCause(ctx, r.err)
		}
		return wrapClient(r.raw, r.logs), nil
	case <-ctx.Done():
		close(abandoned)
		return nil, ctx.Err()
	}
}

// createTimeoutUnsupported records that the library refused create_timeout_ms
// as an unknown option (a library older than that option), so that later
// calls do not try again; tests read it.
var createTimeoutUnsupported atomic.Bool

// withCreateTimeout adds create_timeout_ms (d in whole milliseconds, rounded
// up) to the client options document opts (a JSON object without it).
func withCreateTimeout(opts string, d time.Duration) string {
	t := `"create_timeout_ms":` + strconv.FormatInt(ceilDiv(d, time.Millisecond), 10)
	if opts == "" || opts == "{}" {
		return "{" + t + "}"
	}
	// Only called when Options.CreateTimeout is 0, so opts has no create_timeout_ms.
	return "{" + t + "," + opts[1:]
}

// isUnknownCreateTimeout reports whether err is the library refusing
// create_timeout_ms as an unknown option.
func isUnknownCreateTimeout(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == StatusInvalidArgument &&
		strings.Contains(e.Message, "unknown field") && strings.Contains(e.Message, "create_timeout_ms")
}

// run makes the C client with the options document opts. With
// Options.Logger it returns the handles soidc may still use (the logger's),
// which must stay valid until the client is freed; on failure they are
// released here, after the C call has returned.
func (c creation) run(opts string) (*C.soidc_client, *logHandles, error) {
	var a cStrings
	defer a.free()
	logs := &logHandles{}
	var raw *C.soidc_client
	var out *C.char
	options := a.opt(opts)
	if opts == "{}" {
		options = nil
	}
	cfg := c.cfg
	var status C.soidc_status
	switch {
	case c.fromConfig:
		status = C.soidc_client_from_issuer_config(c.first(&a), a.opt(cfg.RedirectURI), a.str(cfg.ClientID),
			a.opt(cfg.ClientSecret), a.opt(cfg.Scope), options, &raw, &out)
	case cfg.Options.Logger != nil:
		handle := cgo.NewHandle(cfg.Options.Logger)
		logs.add(handle)
		status = C.soidc_go_client_from_issuer_url_with_log(c.first(&a), a.opt(cfg.RedirectURI),
			a.str(cfg.ClientID), a.opt(cfg.ClientSecret), a.opt(cfg.Scope), options,
			C.uintptr_t(handle), C.int(cfg.Options.logLevel()), &raw, &out)
	default:
		status = C.soidc_client_from_issuer_url(c.first(&a), a.opt(cfg.RedirectURI), a.str(cfg.ClientID),
			a.opt(cfg.ClientSecret), a.opt(cfg.Scope), options, &raw, &out)
	}
	doc := takeString(out)
	if status != C.SOIDC_OK {
		// soidc_client_from_issuer_url_with_log uses the handle only until it returns.
		logs.deleteAll()
		return nil, nil, errorFromDocument(Status(status), doc)
	}
	if c.fromConfig && cfg.Options.Logger != nil {
		handle := cgo.NewHandle(cfg.Options.Logger)
		logs.add(handle)
		if s := C.soidc_go_client_set_log(raw, C.uintptr_t(handle), C.int(cfg.Options.logLevel())); s != C.SOIDC_OK {
			freeClient(owned{raw: raw, logs: logs})
			return nil, nil, &Error{Status: Status(s), Message: "soidc_client_set_log_callback failed"}
		}
	}
	return raw, logs, nil
}

// wrapClient makes the Client owning raw and logs (the handles soidc may use
// until raw is freed).
func wrapClient(raw *C.soidc_client, logs *logHandles) *Client {
	c := &Client{raw: raw, logs: logs}
	// A safety net only: Close is the way to free a client.
	c.cleanup = runtime.AddCleanup(c, freeClient, owned{raw: raw, logs: c.logs})
	return c
}

func freeClient(o owned) {
	C.soidc_client_free(o.raw)
	o.logs.deleteAll()
}

// Close frees the client. It waits for calls in progress on other goroutines
// and is idempotent: later calls of Close return nil, calls of other methods
// ErrClosed. It always returns nil.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.raw == nil {
		return nil
	}
	c.cleanup.Stop()
	C.soidc_client_free(c.raw)
	c.raw = nil
	c.logs.deleteAll()
	return nil
}

// SetLogger gives this client its own logger (soidc_client_set_log_callback):
// messages produced while soidc works for this client go to fn instead of the
// process-wide logger of SetLogger; nil returns the client to the process-wide
// one. fn may be called from any goroutine's thread making a call on this
// client, concurrently, and must be safe for that. Every fn installed stays
// referenced until Close.
func (c *Client) SetLogger(fn LogFunc, maxLevel LogLevel) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p := c.ptr()
	if p == nil {
		return ErrClosed
	}
	var handle cgo.Handle
	if fn != nil {
		handle = cgo.NewHandle(fn)
		c.logs.add(handle)
	}
	status := C.soidc_go_client_set_log(p, C.uintptr_t(handle), C.int(maxLevel))
	runtime.KeepAlive(c)
	if status != C.SOIDC_OK {
		return &Error{Status: Status(status), Message: "soidc_client_set_log_callback failed"}
	}
	return nil
}

// ptr is the accessor for the C client; the caller holds c.mu for reading
// and calls runtime.KeepAlive(c) after its C call. With the build tag debug it
// forces a garbage collection first, so that a missing KeepAlive shows up as
// a crash in tests rather than in production.
func (c *Client) ptr() *C.soidc_client {
	p := c.raw
	if debugForceGC {
		runtime.GC()
	}
	return p
}

// cCall is one call into soidc on a live client: it makes its C strings
// (freeing them before it returns) and passes out_json through.
type cCall func(client *C.soidc_client, outJSON **C.char) C.soidc_status

// invoke runs call under the read lock and turns its outcome into the result
// document or an *Error.
func (c *Client) invoke(call cCall) (string, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p := c.ptr()
	if p == nil {
		return "", ErrClosed
	}
	var out *C.char
	status := call(p, &out)
	runtime.KeepAlive(c)
	doc := takeString(out)
	if status != C.SOIDC_OK {
		return "", errorFromDocument(Status(status), doc)
	}
	return doc, nil
}

// do runs a call that is local (no network; network false) or that may touch
// the network and was given ctx's remaining time as timeout_ms.
//
// A done ctx returns ctx.Err() without calling soidc. soidc calls cannot be
// interrupted, so a network call runs on its own goroutine: when ctx is
// cancelled, do returns ctx.Err() at once and the call finishes in the
// background (Close waits for it). When ctx's deadline passes, do waits for
// soidc, which stops at the same time, and returns its answer (a network
// error then also wraps context.DeadlineExceeded).
func (c *Client) do(ctx context.Context, network bool, call cCall) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if !network || ctx.Done() == nil {
		doc, err := c.invoke(call)
		return doc, withCause(ctx, err)
	}
	type answer struct {
		doc string
		err error
	}
	done := make(chan answer, 1)
	go func() {
		doc, err := c.invoke(call)
		done <- answer{doc, err}
	}()
	select {
	case a := <-done:
		return a.doc, withCause(ctx, a.err)
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			a := <-done
			return a.doc, withCause(ctx, a.err)
		}
		return "", ctx.Err()
	}
}

// Type says whether the client is public or confidential. No network access.
func (c *Client) Type(ctx context.Context) (ClientType, error) {
	if err := ctx.Err(); err != nil {
		return ClientInvalid, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	p := c.ptr()
	if p == nil {
		return ClientInvalid, ErrClosed
	}
	t := C.soidc_client_get_type(p)
	runtime.KeepAlive(c)
	return ClientType(t), nil
}

// ProviderConfig returns the provider metadata, exactly as discovered or
// given. No network access.
func (c *Client) ProviderConfig(ctx context.Context) (*ProviderMetadata, error) {
	doc, err := c.do(ctx, false, func(p *C.soidc_client, out **C.char) C.soidc_status {
		return C.soidc_client_provider_config(p, out)
	})
	if err != nil {
		return nil, err
	}
	return decodeResult[ProviderMetadata]("provider metadata", doc)
}

// ProviderKeysOptions are the options of Client.ProviderKeys.
type ProviderKeysOptions struct {
	ForceRefresh bool // fetch now even if the cache is fresh (for a timer)
	CacheOnly    bool // never touch the network; ErrValidation if nothing is cached
}

// MarshalJSON returns the options document soidc reads.
func (o ProviderKeysOptions) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ForceRefresh bool `json:"force_refresh,omitempty"`
		CacheOnly    bool `json:"cache_only,omitempty"`
	}{o.ForceRefresh, o.CacheOnly})
}

// ProviderKeys returns the provider's JWKS as cached by the client, fetched
// first if nothing is cached or the cache is stale. If a refresh fails while
// older keys are cached, the older keys are returned and stay in use.
// opts may be nil.
func (c *Client) ProviderKeys(ctx context.Context, opts *ProviderKeysOptions) (*JSONWebKeySet, error) {
	o, err := optionsJSON(opts, callTimeout(ctx))
	if err != nil {
		return nil, err
	}
	doc, err := c.do(ctx, true, func(p *C.soidc_client, out **C.char) C.soidc_status {
		var a cStrings
		defer a.free()
		return C.soidc_client_provider_keys(p, a.opt(o), out)
	})
	if err != nil {
		return nil, err
	}
	return decodeResult[JSONWebKeySet]("provider keys", doc)
}

// ExportState returns the client's provider state (soidc_client_export_state):
// one versioned JSON document with the discovery document, the cached JWKS and
// when each was fetched and may be used until (seconds since the epoch). It
// holds no secret. Another process or host creates its client from it with
// NewClientFromState, without any request to the provider. No network access.
func (c *Client) ExportState(ctx context.Context) ([]byte, error) {
	doc, err := c.do(ctx, false, func(p *C.soidc_client, out **C.char) C.soidc_status {
		return C.soidc_client_export_state(p, nil, out)
	})
	if err != nil {
		return nil, err
	}
	return []byte(doc), nil
}

// NewClientFromState creates a client from a document of ExportState
// (soidc_client_from_state), without network access. issuer is the issuer the
// state must belong to (passed to soidc as the client option issuer); cfg is as
// for NewClientFromIssuerURL. A state that is larger than 1 MiB, malformed,
// for another issuer, of another version, tampered or stale (metadata older
// than a day) is refused whole with ErrInvalidArgument naming the problem.
// Keys past their expiry are used and refreshed on first use. Options.Logger
// is installed right after the creation, as by NewClientFromIssuerConfig.
func NewClientFromState(ctx context.Context, state []byte, issuer string, cfg Config) (*Client, error) {
	if err := checkStrings("state", string(state), "issuer", issuer, "ClientID", cfg.ClientID,
		"ClientSecret", cfg.ClientSecret, "RedirectURI", cfg.RedirectURI, "Scope", cfg.Scope); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts, err := json.Marshal(cfg.Options)
	if err != nil {
		return nil, &Error{Status: StatusInvalidArgument, Message: "options: " + err.Error()}
	}
	iss, err := json.Marshal(issuer)
	if err != nil {
		return nil, &Error{Status: StatusInvalidArgument, Message: "issuer: " + err.Error()}
	}
	// Options has no field for issuer, so there is no duplicate.
	withIssuer := `{"issuer":` + string(iss) + "}"
	if o := string(opts); o != "" && o != "{}" {
		withIssuer = `{"issuer":` + string(iss) + "," + o[1:]
	}
	var a cStrings
	defer a.free()
	var raw *C.soidc_client
	var out *C.char
	status := C.soidc_client_from_state(a.str(string(state)), a.opt(cfg.RedirectURI), a.str(cfg.ClientID),
		a.opt(cfg.ClientSecret), a.opt(cfg.Scope), a.str(withIssuer), &raw, &out)
	doc := takeString(out)
	if status != C.SOIDC_OK {
		return nil, errorFromDocument(Status(status), doc)
	}
	// As for NewClientFromIssuerConfig: Options.Logger is installed right after the
	// creation (which made no request).
	logs := &logHandles{}
	if cfg.Options.Logger != nil {
		handle := cgo.NewHandle(cfg.Options.Logger)
		logs.add(handle)
		if s := C.soidc_go_client_set_log(raw, C.uintptr_t(handle), C.int(cfg.Options.logLevel())); s != C.SOIDC_OK {
			freeClient(owned{raw: raw, logs: logs})
			return nil, &Error{Status: Status(s), Message: "soidc_client_set_log_callback failed"}
		}
	}
	return wrapClient(raw, logs), nil
}
