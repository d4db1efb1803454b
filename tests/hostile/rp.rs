//! The relying party's side of the hostile tests: FFI wrappers for every exported
//! function that takes a client (free functions over a raw handle, so that they work
//! with any handle and never clash with `tests/common`), a client for a
//! [`HostileServer`], and the authorization code flow driven the way a C caller
//! drives it: the test builds the redirect URL (`http://rp.example/cb?code=...`)
//! and passes it to `soidc_auth_code_handle_result`, while the hostile server's
//! token endpoint answers with whatever ID token the test signed.

use crate::common::ffi::{self, cstr, opt_ptr, take, FfiClient, Outcome, Params};
use crate::common::jwt;
use crate::hostile::server::{HostileServer, TOKEN_PATH};
use serde_json::{json, Value};
use soidc::ffi::client::soidc_client;
use soidc::ffi::flows as f;
use soidc::ffi::tokens as t;
use std::os::raw::c_char;
use std::ptr;

pub const CLIENT_ID: &str = "rp-client";
/// A client secret with characters that need form-urlencoding before Basic
/// encoding (RFC 6749 §2.3.1): ':' '+' '/' ' ' '&'.
pub const SECRET: &str = "s3cr3t:+/ &-0123456789abcdefghij";
pub const REDIRECT_URI: &str = "http://rp.example/cb";
pub const STATE: &str = "state-7Qm2xv9KpLz4";
pub const NONCE: &str = "nonce-Hk3sZ8qPw1Rt";
pub const VERIFIER: &str = "verifier-0123456789-0123456789-0123456789-0123456789";
pub const CODE: &str = "code-Yb6TnW2eQx";
pub const ACCESS_TOKEN: &str = "at-Jm4Ls9Vd2Kq7Xw1Z";
pub const REFRESH_TOKEN: &str = "rt-Pe5Ua8Hs3Nc6Bf0G";

/// Runs one C call that writes `out_json` and collects the status and document.
pub fn call(f: impl FnOnce(*mut *mut c_char) -> i32) -> Outcome {
    let mut out: *mut c_char = ptr::null_mut();
    let status = f(&mut out);
    // SAFETY: out is NULL or a string soidc handed out.
    let doc = unsafe { take(out) };
    Outcome { status, doc }
}

pub type C = *const soidc_client;

pub fn auth_code_start(c: C, options: Option<&str>) -> Outcome {
    let o = options.map(cstr);
    // SAFETY (all wrappers): a live client or NULL, valid C strings or NULL, a valid out-pointer.
    call(|out| unsafe { f::soidc_auth_code_start(c, opt_ptr(&o), out) })
}

pub fn handle_result(c: C, url: &str, options: Option<&str>) -> Outcome {
    let u = cstr(url);
    let o = options.map(cstr);
    call(|out| unsafe { f::soidc_auth_code_handle_result(c, u.as_ptr(), opt_ptr(&o), out) })
}

pub fn handle_form_post(c: C, content_type: &str, body: &str, state: Option<&str>, options: Option<&str>) -> Outcome {
    let ct = cstr(content_type);
    let b = cstr(body);
    let st = state.map(cstr);
    let o = options.map(cstr);
    call(|out| unsafe { f::soidc_auth_code_handle_form_post(c, ct.as_ptr(), b.as_ptr(), opt_ptr(&st), opt_ptr(&o), out) })
}

pub fn auth_code_exchange(c: C, code: &str, options: Option<&str>) -> Outcome {
    let code = cstr(code);
    let o = options.map(cstr);
    call(|out| unsafe { f::soidc_auth_code_exchange(c, code.as_ptr(), opt_ptr(&o), out) })
}

pub fn client_credentials(c: C, scope: Option<&str>, options: Option<&str>) -> Outcome {
    let s = scope.map(cstr);
    let o = options.map(cstr);
    call(|out| unsafe { f::soidc_client_credentials_grant(c, opt_ptr(&s), opt_ptr(&o), out) })
}

pub fn direct_access(c: C, user: &str, password: &str, scope: Option<&str>, options: Option<&str>) -> Outcome {
    let (u, p) = (cstr(user), cstr(password));
    let s = scope.map(cstr);
    let o = options.map(cstr);
    call(|out| unsafe {
        f::soidc_direct_access_grant(c, u.as_ptr(), p.as_ptr(), opt_ptr(&s), opt_ptr(&o), out)
    })
}

pub fn refresh(c: C, refresh_token: &str, options: Option<&str>) -> Outcome {
    let r = cstr(refresh_token);
    let o = options.map(cstr);
    call(|out| unsafe { f::soidc_exchange_refresh_token(c, r.as_ptr(), opt_ptr(&o), out) })
}

pub fn device_start(c: C, scope: Option<&str>, options: Option<&str>) -> Outcome {
    let s = scope.map(cstr);
    let o = options.map(cstr);
    call(|out| unsafe { f::soidc_device_authorization_start(c, opt_ptr(&s), opt_ptr(&o), out) })
}

pub fn device_poll(c: C, device_code: &str, options: Option<&str>) -> Outcome {
    let d = cstr(device_code);
    let o = options.map(cstr);
    call(|out| unsafe { f::soidc_device_authorization_poll(c, d.as_ptr(), opt_ptr(&o), out) })
}

pub fn userinfo(c: C, access_token: &str, options: Option<&str>) -> Outcome {
    let a = cstr(access_token);
    let o = options.map(cstr);
    call(|out| unsafe { f::soidc_fetch_userinfo(c, a.as_ptr(), opt_ptr(&o), out) })
}

pub fn introspect(c: C, token: &str, hint: Option<&str>, options: Option<&str>) -> Outcome {
    let tk = cstr(token);
    let h = hint.map(cstr);
    let o = options.map(cstr);
    call(|out| unsafe { f::soidc_introspect_token(c, tk.as_ptr(), opt_ptr(&h), opt_ptr(&o), out) })
}

pub fn revoke(c: C, token: &str, hint: Option<&str>, options: Option<&str>) -> Outcome {
    let tk = cstr(token);
    let h = hint.map(cstr);
    let o = options.map(cstr);
    call(|out| unsafe { f::soidc_revoke_token(c, tk.as_ptr(), opt_ptr(&h), opt_ptr(&o), out) })
}

pub fn initiate_logout(c: C, request: Option<&str>) -> Outcome {
    let r = request.map(cstr);
    call(|out| unsafe { f::soidc_initiate_logout(c, opt_ptr(&r), out) })
}

pub fn decode_id_token(c: C, token: &str, options: Option<&str>) -> Outcome {
    ffi::decode_id_token_raw(c, token, options, None, ptr::null_mut())
}

pub fn decode_access_token(c: C, token: &str, options: Option<&str>) -> Outcome {
    let tk = cstr(token);
    let o = options.map(cstr);
    call(|out| unsafe { t::soidc_decode_access_token(c, tk.as_ptr(), opt_ptr(&o), out) })
}

pub fn decode_logout_token(c: C, token: &str, options: Option<&str>) -> Outcome {
    let tk = cstr(token);
    let o = options.map(cstr);
    call(|out| unsafe { t::soidc_decode_logout_token(c, tk.as_ptr(), opt_ptr(&o), out) })
}

pub fn provider_keys(c: C, options: Option<&str>) -> Outcome {
    let o = options.map(cstr);
    call(|out| unsafe { soidc::ffi::client::soidc_client_provider_keys(c, opt_ptr(&o), out) })
}

// ---------------------------------------------------------------------------------------
// A relying party against a hostile server
// ---------------------------------------------------------------------------------------

/// A confidential client (secret [`SECRET`]) of a hostile provider, made by discovery.
pub struct Rp {
    pub server: HostileServer,
    pub client: FfiClient,
}

/// Discovery against `server` with the client options `options`.
#[track_caller]
pub fn rp(server: HostileServer, options: Option<&str>) -> Rp {
    rp_with_secret(server, Some(SECRET), options)
}

#[track_caller]
pub fn rp_with_secret(server: HostileServer, secret: Option<&str>, options: Option<&str>) -> Rp {
    let issuer = server.issuer();
    let client = ffi::client(
        &issuer,
        Params {
            redirect_uri: Some(REDIRECT_URI),
            client_id: CLIENT_ID,
            client_secret: secret,
            scope: Some("openid profile"),
            options,
        },
    );
    Rp { server, client }
}

/// The options of `soidc_auth_code_handle_result` matching [`Rp::callback_url`].
pub fn result_options() -> Value {
    json!({"state": STATE, "nonce": NONCE, "code_verifier": VERIFIER, "timeout_ms": 5000})
}

impl Rp {
    pub fn c(&self) -> C {
        self.client.0
    }

    pub fn issuer(&self) -> String {
        self.server.issuer()
    }

    /// ID token claims that pass every check: iss, sub `user-1`, aud, exp, iat,
    /// auth_time, the nonce of the flow, and `at_hash` / `c_hash` of the flow's access
    /// token and code for RS256.
    pub fn claims(&self) -> Value {
        let mut c = jwt::good_claims(&self.issuer(), CLIENT_ID, Some(NONCE));
        c["at_hash"] = json!(jwt::half_hash("RS256", ACCESS_TOKEN));
        c["c_hash"] = json!(jwt::half_hash("RS256", CODE));
        c
    }

    /// [`Rp::claims`] with `changes` applied (a `null` removes the claim).
    pub fn claims_with(&self, changes: Value) -> Value {
        let mut c = self.claims();
        for (k, v) in changes.as_object().expect("an object of changes") {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    }

    /// An RS256 ID token with the kid `stub-rs256`, signed by that key.
    pub fn rs256(&self, claims: &Value) -> String {
        jwt::sign("RS256", "stub-rs256", &json!({}), claims)
    }

    /// The redirect the browser brings back: code, state and the RFC 9207 iss.
    pub fn callback_url(&self) -> String {
        callback_url(&[("code", CODE), ("state", STATE), ("iss", &self.issuer())])
    }

    /// The token endpoint's success response around `id_token`.
    pub fn token_response(&self, id_token: &str) -> Value {
        json!({
            "access_token": ACCESS_TOKEN,
            "token_type": "Bearer",
            "expires_in": 300,
            "refresh_token": REFRESH_TOKEN,
            "scope": "openid profile",
            "id_token": id_token
        })
    }

    /// A whole login: the token endpoint returns `id_token`; the redirect is handled.
    pub fn login(&self, id_token: &str) -> Outcome {
        self.server.set_token_response(&self.token_response(id_token));
        self.handle(&self.callback_url(), &result_options())
    }

    pub fn handle(&self, url: &str, options: &Value) -> Outcome {
        handle_result(self.c(), url, Some(&options.to_string()))
    }

    /// The token requests received so far.
    pub fn token_requests(&self) -> usize {
        self.server.count(TOKEN_PATH)
    }
}

/// `http://rp.example/cb?<params>` (form-urlencoded).
pub fn callback_url(params: &[(&str, &str)]) -> String {
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish();
    format!("{REDIRECT_URI}?{q}")
}

/// Parses a document.
pub fn doc(o: &Outcome) -> Value {
    serde_json::from_str(o.doc.as_deref().expect("a document")).expect("JSON document")
}
