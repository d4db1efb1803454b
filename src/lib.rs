//! soidc: an OpenID Connect relying-party client with a C ABI.
//!
//! `core` is the safe client (no `unsafe`, no C types); `ffi` is the C ABI
//! around it. The C header `include/soidc.h` is generated from `ffi`.

pub mod core;
pub mod ffi;
