//! The C ABI. Every `unsafe` and every `extern "C"` of soidc lives in this
//! module; each exported function is a visible `#[no_mangle] extern "C" fn`
//! whose body runs inside [`boundary::call`], which catches panics, sets the
//! out-pointers to NULL first, and turns every error into a status code plus
//! an error document.
//!
//! One file per object family: `client.rs` (lifecycle), `flows.rs` (grants and endpoints),
//! `tokens.rs` (token validation), `util.rs` (strings, status names, version, logging).

#![allow(non_camel_case_types)]
// Each export's safety contract (which pointers may be NULL, what they must point to, who
// owns what afterwards) is its doc comment, which is also its documentation in soidc.h.
#![allow(clippy::missing_safety_doc)]

mod boundary;
#[cfg(feature = "test-hooks")]
pub use boundary::force_panic_on_next_call;
pub mod client;
pub mod flows;
pub mod status;
pub mod tokens;
pub mod util;

pub use status::*;
