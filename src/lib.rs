//! soidc: an OpenID Connect relying-party client with a C ABI.
//!
//! `core` is the safe client (no `unsafe`, no C types); `ffi` is the C ABI
//! around it. The C header `include/soidc.h` is generated from `ffi`.

// An `unsafe fn` does not make its body an unsafe block: every unsafe operation, also
// inside one, gets its own `unsafe {}` with a `// SAFETY:` comment (review U2).
#![deny(unsafe_op_in_unsafe_fn)]

pub mod core;
pub mod ffi;
