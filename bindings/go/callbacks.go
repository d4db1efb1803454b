package soidc

// The Go functions soidc calls back, through the C shims in shim.c. This file
// has //export, so its preamble may only declare: the definitions are in shim.c.

/*
#include <stdint.h>
*/
import "C"

import "runtime/cgo"

// soidcGoValidateACR is the acr validator trampoline. handle is the
// cgo.Handle of an *acrCall; acr is NULL when the token has no acr. It returns
// 0 to accept. A panic in the Go validator must not unwind into soidc: it is
// recovered here, recorded, and counts as a rejection.
//
//export soidcGoValidateACR
func soidcGoValidateACR(acr *C.char, handle C.uintptr_t) (verdict C.int) {
	verdict = 1
	var call *acrCall
	defer func() {
		if r := recover(); r != nil {
			verdict = 1
			if call != nil {
				call.panicked = r
			}
		}
	}()
	call = cgo.Handle(handle).Value().(*acrCall)
	present := acr != nil
	value := ""
	if present {
		value = C.GoString(acr)
	}
	if call.validate(value, present) {
		verdict = 0
	}
	return verdict
}

// soidcGoLog is the log callback trampoline; it may run on any thread. A
// panic in the Go log function is recovered and the message dropped.
//
//export soidcGoLog
func soidcGoLog(level C.int, message *C.char) {
	defer func() { _ = recover() }()
	if fn := logFunc.Load(); fn != nil {
		(*fn)(LogLevel(level), C.GoString(message))
	}
}

// soidcGoClientLog is the per-client log callback trampoline: handle is the
// cgo.Handle of the client's LogFunc. It may run on any thread that calls into
// soidc for that client. A panic in the Go log function is recovered and the
// message dropped.
//
//export soidcGoClientLog
func soidcGoClientLog(level C.int, message *C.char, handle C.uintptr_t) {
	defer func() { _ = recover() }()
	if fn, ok := cgo.Handle(handle).Value().(LogFunc); ok && fn != nil {
		fn(LogLevel(level), C.GoString(message))
	}
}
