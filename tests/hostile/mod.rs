//! The hostile-provider test harness (used by `tests/hostile_*.rs`, each of which
//! declares `mod common; mod hostile;`).
//!
//! - `server`: a small HTTP/1.1 server on 127.0.0.1 that plays an OpenID provider
//!   and misbehaves on request (delays, bodies cut off, floods, redirects, HTML
//!   errors), recording every request and counting connections.
//! - `rp`: FFI wrappers for the client functions, a client of a hostile server,
//!   and the authorization code flow driven through `soidc_auth_code_handle_result`.
#![allow(dead_code)]

pub mod rp;
pub mod server;
