package soidc

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
)

// Version returns the version of the soidc library in use, "MAJOR.MINOR.PATCH".
func Version() string { return C.GoString(C.soidc_version()) }

// HeaderVersion is the version of the soidc.h this package was compiled with;
// Version may differ when a newer shared library is loaded.
const HeaderVersion = C.SOIDC_VERSION_STRING

// LogLevel is the severity of a log message.
type LogLevel int

// The log levels, from soidc_log_callback.
const (
	LogError LogLevel = C.SOIDC_LOG_ERROR // errors
	LogWarn  LogLevel = C.SOIDC_LOG_WARN  // a JWKS refresh failed and old keys stay in use, ...
	LogInfo  LogLevel = C.SOIDC_LOG_INFO  // keys fetched, a token rejected and why, ...
	LogDebug LogLevel = C.SOIDC_LOG_DEBUG // each HTTP exchange: host, status, size
	LogTrace LogLevel = C.SOIDC_LOG_TRACE
)

func (l LogLevel) String() string {
	switch l {
	case LogError:
		return "error"
	case LogWarn:
		return "warn"
	case LogInfo:
		return "info"
	case LogDebug:
		return "debug"
	case LogTrace:
		return "trace"
	}
	return "unknown"
}

// LogFunc receives soidc's diagnostics. Messages never contain secrets. It may
// be called from many goroutines (and from threads not started by Go) at once,
// so it must be safe for concurrent use; it must not call SetLogger.
type LogFunc func(level LogLevel, message string)

var (
	logFunc atomic.Pointer[LogFunc]
	logMu   sync.Mutex // serialises SetLogger
)

// SetLogger installs fn as the process-wide receiver of soidc's messages up to
// maxLevel (LogError ... LogTrace). nil turns logging off, which is the
// default; soidc never prints anything itself. Messages above maxLevel are
// not even formatted. A message being delivered while the logger is replaced
// may still reach the previous one.
func SetLogger(fn LogFunc, maxLevel LogLevel) {
	logMu.Lock()
	defer logMu.Unlock()
	if fn == nil {
		C.soidc_go_set_log(0, 0)
		logFunc.Store(nil)
		return
	}
	logFunc.Store(&fn)
	C.soidc_go_set_log(1, C.int(maxLevel))
}

// SlogLogger returns a LogFunc that writes to logger, mapping LogError to
// slog.LevelError, LogWarn to slog.LevelWarn, LogInfo to slog.LevelInfo and
// LogDebug and LogTrace to slog.LevelDebug.
func SlogLogger(logger *slog.Logger) LogFunc {
	return func(level LogLevel, message string) {
		l := slog.LevelDebug
		switch level {
		case LogError:
			l = slog.LevelError
		case LogWarn:
			l = slog.LevelWarn
		case LogInfo:
			l = slog.LevelInfo
		}
		logger.Log(context.Background(), l, message, slog.String("source", "soidc"))
	}
}
