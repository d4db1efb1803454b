//! The one error type of the core. Every failure carries a kind (which becomes the
//! C status code), a message that says what was expected and what was found, and,
//! for OAuth error responses, the provider's own fields.

use serde_json::{Map, Value};
use std::fmt;

/// What went wrong, coarsely. The numeric values are the C ABI's status codes.
///
/// `code` and `name` are the one definition of the status numbers and names: the C
/// constants in `ffi/status.rs` are checked against `code` at compile time, and
/// `soidc_status_name` is built from `from_code` and `name`. To add a kind: append it
/// here with the next free code (codes are never reused or renumbered), to `ALL`, and
/// its `SOIDC_ERR_*` constant to `ffi/status.rs`; the build fails until all agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    InvalidArgument,
    Network,
    Http,
    Protocol,
    Provider,
    Validation,
    UnsupportedByProvider,
    AuthenticationFailed,
    Pending,
    /// A JSON helper's pointer refers to no value in the document (appended: code 10).
    NotFound,
    Internal,
}

impl ErrorKind {
    /// Every kind, in the order of their codes. Crate-private: cbindgen would turn a
    /// public associated constant into a declaration in soidc.h.
    pub(crate) const ALL: [ErrorKind; 11] = [
        ErrorKind::InvalidArgument,
        ErrorKind::Network,
        ErrorKind::Http,
        ErrorKind::Protocol,
        ErrorKind::Provider,
        ErrorKind::Validation,
        ErrorKind::UnsupportedByProvider,
        ErrorKind::AuthenticationFailed,
        ErrorKind::Pending,
        ErrorKind::NotFound,
        ErrorKind::Internal,
    ];

    /// The stable numeric code used by the C ABI.
    pub const fn code(self) -> i32 {
        match self {
            ErrorKind::InvalidArgument => 1,
            ErrorKind::Network => 2,
            ErrorKind::Http => 3,
            ErrorKind::Protocol => 4,
            ErrorKind::Provider => 5,
            ErrorKind::Validation => 6,
            ErrorKind::UnsupportedByProvider => 7,
            ErrorKind::AuthenticationFailed => 8,
            ErrorKind::Pending => 9,
            ErrorKind::NotFound => 10,
            ErrorKind::Internal => 100,
        }
    }

    /// The kind whose `code` is `code`; `None` for 0 (success) and unknown values.
    pub const fn from_code(code: i32) -> Option<ErrorKind> {
        let mut i = 0;
        while i < Self::ALL.len() {
            if Self::ALL[i].code() == code {
                return Some(Self::ALL[i]);
            }
            i += 1;
        }
        None
    }

    /// The lower-case name used in error documents (their `status` member) and by
    /// `soidc_status_name`.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::Network => "network",
            ErrorKind::Http => "http",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Provider => "provider",
            ErrorKind::Validation => "validation",
            ErrorKind::UnsupportedByProvider => "unsupported_by_provider",
            ErrorKind::AuthenticationFailed => "authentication_failed",
            ErrorKind::Pending => "pending",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Internal => "internal",
        }
    }
}

// `ALL` is in code order with no code used twice (so `from_code` is a function) and 0
// (success) never used by a kind.
const _: () = {
    let mut i = 0;
    while i < ErrorKind::ALL.len() {
        assert!(ErrorKind::ALL[i].code() > 0, "0 is success, not an error kind");
        if i > 0 {
            assert!(ErrorKind::ALL[i - 1].code() < ErrorKind::ALL[i].code(), "ALL out of code order");
        }
        i += 1;
    }
};

/// A failure with a human-readable message. Messages never contain secrets
/// (client secrets, passwords, tokens, codes): callers build them from names,
/// claim values and URLs only.
#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// Extra members of the error document (`error`, `error_description`,
    /// `error_uri`, `http_status`, ...), copied verbatim from the provider.
    pub details: Map<String, Value>,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), details: Map::new() }
    }
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Validation, message)
    }
    pub fn protocol(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Protocol, message)
    }
    pub fn http(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Http, message)
    }
    pub fn network(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Network, message)
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::UnsupportedByProvider, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    pub fn with_detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// Prefixes the message with context ("ID token: ...").
    pub fn context(mut self, what: &str) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// The error document handed to callers:
    /// `{"status": "...", "message": "...", ...details}`.
    pub fn to_document(&self) -> Value {
        let mut doc = Map::with_capacity(2 + self.details.len());
        doc.insert("status".into(), Value::from(self.kind.name()));
        doc.insert("message".into(), Value::from(self.message.clone()));
        for (k, v) in &self.details {
            if k != "status" && k != "message" {
                doc.insert(k.clone(), v.clone());
            }
        }
        Value::Object(doc)
    }

    pub fn to_json(&self) -> String {
        self.to_document().to_string()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

impl std::error::Error for Error {}

/// The longest untrusted value quoted in a message, in characters.
const QUOTE_MAX: usize = 96;

/// Quotes an untrusted value (a claim, a kid, a parameter from a redirect URL)
/// for a message: in double quotes, control characters and quotes escaped so that
/// it cannot forge log lines, and cut after `QUOTE_MAX` characters so that one
/// request cannot make the host log megabytes.
pub fn quote_untrusted(value: &str) -> String {
    let mut out = String::with_capacity(value.len().min(QUOTE_MAX) + 8);
    out.push('"');
    for (i, c) in value.chars().enumerate() {
        if i == QUOTE_MAX {
            out.push_str("...");
            out.push('"');
            out.push_str(&format!(" ({} characters)", value.chars().count()));
            return out;
        }
        out.extend(c.escape_debug());
    }
    out.push('"');
    out
}
