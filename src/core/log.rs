//! Diagnostics. Nothing is ever printed; messages go to a sink only, and are not
//! even formatted when their level is above the configured maximum (see the
//! `log_at!` macro).
//!
//! Two kinds of sink: one process-wide, and one per client. While a thread works
//! for a client that has its own sink (see [`scoped`]), that thread's messages go
//! to the client's sink instead of the process-wide one; so a multi-threaded host
//! can give each client (or module instance) its own destination and context.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, RwLock};

/// Severity, as in the C API: 1 error ... 5 trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

pub type Sink = Arc<dyn Fn(Level, &str) + Send + Sync>;

/// A sink with the highest level it receives (0: nothing).
#[derive(Clone)]
pub struct Target {
    pub sink: Sink,
    pub max_level: u8,
}

static MAX_LEVEL: AtomicU8 = AtomicU8::new(0);
static SINK: RwLock<Option<Sink>> = RwLock::new(None);

thread_local! {
    /// The sink of the client this thread is working for, if it has one.
    static SCOPED: RefCell<Option<Target>> = const { RefCell::new(None) };
    /// Messages held back while this thread does something other callers wait for
    /// (see [`deferred`]).
    static HELD: RefCell<Option<Vec<(Level, String)>>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's messages held back, then delivers them. Used around
/// work that other threads may be waiting for (a shared JWKS fetch): a log callback
/// that calls back into soidc then never runs while that work is unfinished, so it
/// can never wait for it.
pub fn deferred<T>(f: impl FnOnce() -> T) -> T {
    let outer = HELD.with(|h| h.borrow().is_some());
    if outer {
        return f();
    }
    struct Flush;
    impl Drop for Flush {
        fn drop(&mut self) {
            let held = HELD.with(|h| h.borrow_mut().take()).unwrap_or_default();
            for (level, message) in held {
                emit(level, &message);
            }
        }
    }
    HELD.with(|h| *h.borrow_mut() = Some(Vec::new()));
    let flush = Flush;
    let out = f();
    drop(flush);
    out
}

/// Installs (or, with `None`, removes) the process-wide sink. `max_level` 0 disables it.
pub fn set_sink(sink: Option<Sink>, max_level: u8) {
    let mut guard = SINK.write().unwrap_or_else(|e| e.into_inner());
    let level = if sink.is_some() { max_level.min(Level::Trace as u8) } else { 0 };
    *guard = sink;
    MAX_LEVEL.store(level, Ordering::Release);
}

/// Runs `f` with `target` as this thread's sink (restoring the previous one after).
pub fn scoped<T>(target: Option<Target>, f: impl FnOnce() -> T) -> T {
    let Some(target) = target else { return f() };
    struct Restore(Option<Target>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            SCOPED.with(|s| *s.borrow_mut() = previous);
        }
    }
    let _restore = Restore(SCOPED.with(|s| s.borrow_mut().replace(target)));
    f()
}

fn scoped_level() -> Option<u8> {
    SCOPED.with(|s| s.borrow().as_ref().map(|t| t.max_level))
}

/// Whether a message at `level` would be delivered; cheap, lock-free.
#[inline]
pub fn enabled(level: Level) -> bool {
    let max = scoped_level().unwrap_or_else(|| MAX_LEVEL.load(Ordering::Acquire));
    (level as u8) <= max
}

/// Delivers an already formatted message. Use `log_at!` instead so that the
/// message is only built when it will be delivered.
pub fn emit(level: Level, message: &str) {
    let held = HELD.with(|h| match h.borrow_mut().as_mut() {
        Some(buf) if buf.len() < 256 => {
            buf.push((level, message.to_owned()));
            true
        }
        Some(_) => true, // a bounded hold: further messages are dropped
        None => false,
    });
    if held {
        return;
    }
    let scoped = SCOPED.with(|s| s.borrow().as_ref().map(|t| t.sink.clone()));
    let sink = scoped.or_else(|| SINK.read().unwrap_or_else(|e| e.into_inner()).clone());
    if let Some(sink) = sink {
        sink(level, message);
    }
}

/// `log_at!(Level::Info, "fetched {} keys", n)`: formats only when enabled.
#[macro_export]
#[doc(hidden)]
macro_rules! log_at {
    ($level:expr, $($arg:tt)+) => {{
        let level = $level;
        if $crate::core::log::enabled(level) {
            $crate::core::log::emit(level, &format!($($arg)+));
        }
    }};
}
