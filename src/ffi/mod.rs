//! The C ABI. Every `unsafe` and every `extern "C"` of soidc lives in this
//! module; each exported function is a visible `#[no_mangle] extern "C" fn`.
//! Every fallible export runs its body inside [`boundary::call`], which catches
//! panics, sets the out-pointers to NULL first, and turns every error into a
//! status code plus an error document; the few infallible ones (`soidc_string_free`,
//! `soidc_client_free`, `soidc_client_get_type`, `soidc_status_name`, `soidc_version`,
//! `soidc_set_log_callback`) catch panics themselves or cannot panic.
//!
//! The shape of an export: one `unsafe` block at the top of the body turns the raw
//! arguments into checked values (`arg_ref`, `arg_str`, `opt_str`: a `Result` each, whose
//! error is reported in argument order) and safe out-parameters (`Out::from_raw`), under
//! one `// SAFETY:` comment naming the caller's documented contract; the rest, including
//! [`boundary::call`] and the helpers it runs, is safe code. `call_with_required_out` is
//! the one place for "this `out_json` (or `out_url`) is required".
//!
//! One file per object family: `client.rs` (lifecycle), `flows.rs` (grants and endpoints),
//! `tokens.rs` (token validation), `json.rs` (reading and quoting JSON), `util.rs`
//! (strings, status names, version, logging).

#![allow(non_camel_case_types)]
// Each export's safety contract (which pointers may be NULL, what they must point to, who
// owns what afterwards) is its doc comment, which is also its documentation in soidc.h.
#![allow(clippy::missing_safety_doc)]
// Every unsafe block and unsafe impl says why it is sound (`// SAFETY:` above it); clippy
// enforces it. Together with `unsafe_op_in_unsafe_fn` (src/lib.rs) no unsafe operation
// goes without one.
#![deny(clippy::undocumented_unsafe_blocks)]

mod boundary;
#[cfg(feature = "test-hooks")]
pub use boundary::force_panic_on_next_call;
pub mod client;
pub mod dpop;
pub mod flows;
pub mod json;
pub mod status;
pub mod registration;
pub mod token_exchange;
pub mod tokens;
pub mod util;

pub use status::*;
