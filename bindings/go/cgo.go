package soidc

// Every cgo directive of the package is here. By default the package builds
// against the installed library and header, found by `pkg-config soidc` (what
// `make install` puts in place), so that `go get` + `go build` work in any
// module. With the build tag soidc_intree it uses the library and header of
// this source tree instead (`make build` at the repository root), found at run
// time through an rpath: the tests and examples of this repository build so.
// The former tag soidc_pkgconfig is still accepted and changes nothing.

//
// With the build tag soidc_static the library is linked statically
// (libsoidc.a), so that the binary runs without libsoidc.so: with
// soidc_intree, the tree's target/release/libsoidc.a; without it, the
// installed libsoidc.a found on the linker's search path (/usr/local/lib,
// or a prefix given by CGO_LDFLAGS=-L<prefix>/lib and the header by
// CGO_CFLAGS=-I<prefix>/include; pkg-config is not used then, since its
// -lsoidc would pick the shared library first). The system libraries after
// it are those rustc names for a static link of the library (`make
// native-static-libs`: target/release/native-static-libs.txt), all part of
// the C library's installation.

/*
#cgo soidc_intree CFLAGS: -I${SRCDIR}/../../include
#cgo soidc_intree,!soidc_static LDFLAGS: -L${SRCDIR}/../../target/release -lsoidc -Wl,-rpath,${SRCDIR}/../../target/release
#cgo soidc_intree,soidc_static LDFLAGS: ${SRCDIR}/../../target/release/libsoidc.a
#cgo !soidc_intree,!soidc_static pkg-config: soidc
#cgo !soidc_intree,soidc_static LDFLAGS: -l:libsoidc.a
#cgo soidc_static LDFLAGS: -lgcc_s -lutil -lrt -lpthread -lm -ldl
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// maxTimeout is the largest timeout_ms soidc accepts (10 minutes).
const maxTimeout = 600 * time.Second

// cStrings collects the C copies of one call's Go strings so that they are
// freed together, with C.free, once the call has returned.
type cStrings []*C.char

// str copies s to C memory.
func (a *cStrings) str(s string) *C.char {
	p := C.CString(s)
	*a = append(*a, p)
	return p
}

// opt is str, with the empty string passed as NULL (soidc's "not given").
func (a *cStrings) opt(s string) *C.char {
	if s == "" {
		return nil
	}
	return a.str(s)
}

func (a *cStrings) free() {
	for _, p := range *a {
		C.free(unsafe.Pointer(p))
	}
	*a = nil
}

// takeString copies a string soidc handed out and frees it with soidc_string_free.
func takeString(p *C.char) string {
	if p == nil {
		return ""
	}
	s := C.GoString(p)
	C.soidc_string_free(p)
	return s
}

// checkStrings refuses strings with a NUL byte, which C would silently cut
// short. Arguments come in pairs: a parameter name, then its value.
func checkStrings(namesAndValues ...string) error {
	for i := 0; i+1 < len(namesAndValues); i += 2 {
		if strings.IndexByte(namesAndValues[i+1], 0) >= 0 {
			return &Error{Status: StatusInvalidArgument, Message: namesAndValues[i] + " contains a NUL byte"}
		}
	}
	return nil
}

// callTimeout is the timeout_ms for a call under ctx: the time left until its
// deadline, rounded up to whole milliseconds, at least 1 ms and at most
// soidc's maximum; 0 when ctx has no deadline.
func callTimeout(ctx context.Context) time.Duration {
	deadline, ok := ctx.Deadline()
	if !ok {
		return 0
	}
	return clampTimeout(time.Until(deadline))
}

func clampTimeout(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return time.Millisecond
	}
	if d > maxTimeout {
		return maxTimeout
	}
	return d
}

// ceilDiv converts d to whole units, rounding up (negative values are kept
// negative, so that soidc reports them).
func ceilDiv(d, unit time.Duration) int64 {
	if d <= 0 {
		return int64(d / unit)
	}
	return int64((d + unit - 1) / unit)
}

// optionsJSON marshals an options value (a pointer to one of the *Options
// structs, or nil) and adds timeout_ms when timeout > 0. It returns "" (NULL,
// all defaults) when there is nothing to send.
func optionsJSON(opts any, timeout time.Duration) (string, error) {
	doc := ""
	if opts != nil && !(reflect.ValueOf(opts).Kind() == reflect.Pointer && reflect.ValueOf(opts).IsNil()) {
		b, err := json.Marshal(opts)
		if err != nil {
			return "", &Error{Status: StatusInvalidArgument, Message: "options: " + err.Error()}
		}
		if len(b) < 2 || b[0] != '{' {
			return "", &Error{Status: StatusInvalidArgument, Message: "options: not a JSON object"}
		}
		doc = string(b)
	}
	if timeout > 0 {
		t := `"timeout_ms":` + strconv.FormatInt(ceilDiv(timeout, time.Millisecond), 10)
		switch doc {
		case "", "{}":
			doc = "{" + t + "}"
		default:
			// No options struct has a field for timeout_ms, so there is no duplicate.
			doc = "{" + t + "," + doc[1:]
		}
	}
	if doc == "{}" {
		doc = ""
	}
	return doc, nil
}

// contextCause returns the context error to attach to a failed call: ctx's
// error if it is done, or context.DeadlineExceeded if its deadline has passed
// while soidc was timing out on it.
func contextCause(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// withCause attaches ctx's error to a soidc error, so that errors.Is(err,
// context.DeadlineExceeded) holds for a call that ran out of time.
func withCause(ctx context.Context, err error) error {
	var e *Error
	if err == nil || !errors.As(err, &e) || e.sentinel {
		return err
	}
	if cause := contextCause(ctx); cause != nil {
		e.cause = cause
	}
	return err
}
