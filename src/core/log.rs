//! Process-wide diagnostics sink. Nothing is ever printed; messages go to the
//! installed sink only, and are not even formatted when their level is above
//! the configured maximum (see the `log_at!` macro).

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

static MAX_LEVEL: AtomicU8 = AtomicU8::new(0);
static SINK: RwLock<Option<Sink>> = RwLock::new(None);

/// Installs (or, with `None`, removes) the sink. `max_level` 0 disables logging.
pub fn set_sink(sink: Option<Sink>, max_level: u8) {
    let mut guard = SINK.write().unwrap_or_else(|e| e.into_inner());
    let level = if sink.is_some() { max_level.min(Level::Trace as u8) } else { 0 };
    *guard = sink;
    MAX_LEVEL.store(level, Ordering::Release);
}

/// Whether a message at `level` would be delivered; cheap, lock-free.
#[inline]
pub fn enabled(level: Level) -> bool {
    (level as u8) <= MAX_LEVEL.load(Ordering::Acquire)
}

/// Delivers an already formatted message. Use `log_at!` instead so that the
/// message is only built when it will be delivered.
pub fn emit(level: Level, message: &str) {
    let sink = SINK.read().unwrap_or_else(|e| e.into_inner()).clone();
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
