//! The safe OpenID Connect client. Nothing here knows about C: the `ffi`
//! module turns these types into the C ABI.
#![forbid(unsafe_code)]

pub mod auth;
pub mod authcode;
pub mod claim_rules;
pub mod claims;
pub mod dpop;
pub mod client;
pub mod endpoints;
pub mod error;
pub mod grants;
pub mod http;
pub mod id_token;
pub mod jose;
pub mod json;
pub mod json_helpers;
pub mod keys;
pub mod log;
pub mod metadata;
pub mod mtls;
pub mod options;
pub mod secret;
pub mod state;
pub mod access_token;
pub mod logout_token;
pub mod replay;
pub mod dpop_verify;
pub mod token;
pub mod registration;
pub mod token_exchange;
pub mod verified_cache;

pub use client::{Client, ClientParams, ClientType};
pub use error::{Error, ErrorKind, Result};
