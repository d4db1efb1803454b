//! Safe wrappers around the C ABI, for tests that go through it: `&str` in,
//! `(status, document)` out, every handed-out string freed with `soidc_string_free`.

use serde_json::Value;
use soidc::ffi::client::{
    soidc_client, soidc_client_free, soidc_client_from_issuer_config, soidc_client_from_issuer_url,
    soidc_client_get_type, soidc_client_provider_config, soidc_client_provider_keys,
};
use soidc::ffi::tokens::{soidc_acr_validator, soidc_decode_id_token};
use soidc::ffi::util::{soidc_status_name, soidc_string_free};
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_void};
use std::ptr;

/// A C string for an optional argument (keep it alive while its pointer is in use).
pub fn cstr(s: &str) -> CString {
    CString::new(s).expect("test strings have no NUL")
}

pub fn opt_ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(ptr::null(), |c| c.as_ptr())
}

/// Takes ownership of a string handed out by soidc, frees it, returns its content.
///
/// # Safety
/// `p` is NULL or a string soidc handed out and nobody freed.
pub unsafe fn take(p: *mut c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    let s = CStr::from_ptr(p)
        .to_str()
        .expect("soidc hands out UTF-8")
        .to_owned();
    soidc_string_free(p);
    Some(s)
}

/// The status name as soidc reports it.
pub fn status_name(status: i32) -> String {
    // SAFETY: soidc_status_name returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(soidc_status_name(status)) }
        .to_str()
        .unwrap()
        .to_owned()
}

/// The outcome of one call: its status and the document it handed out, if any.
#[derive(Debug)]
pub struct Outcome {
    pub status: i32,
    pub doc: Option<String>,
}

impl Outcome {
    /// Asserts success and returns the parsed document.
    #[track_caller]
    pub fn ok(&self) -> Value {
        assert_eq!(
            self.status, 0,
            "expected success, got {}: {:?}",
            self.status, self.doc
        );
        let doc = self.doc.as_deref().expect("a document on success");
        serde_json::from_str(doc).expect("the document is JSON")
    }

    /// Asserts failure with `status`, an error document whose `status` member names it and
    /// whose `message` contains `fragment`; returns the error document.
    #[track_caller]
    pub fn err(&self, status: i32, fragment: &str) -> Value {
        assert_eq!(
            self.status, status,
            "wrong status; document: {:?}",
            self.doc
        );
        let doc = self.doc.as_deref().expect("an error document on failure");
        let v: Value = serde_json::from_str(doc).expect("the error document is JSON");
        assert_eq!(v["status"], status_name(status), "error document {doc}");
        let msg = v["message"].as_str().expect("error document has a message");
        assert!(
            msg.contains(fragment),
            "message {msg:?} does not contain {fragment:?}"
        );
        v
    }
}

/// An owned client handle, freed on drop. The C API makes a client thread-safe.
pub struct FfiClient(pub *mut soidc_client);

// SAFETY: the C contract: any function may be called on one client from many threads.
unsafe impl Send for FfiClient {}
unsafe impl Sync for FfiClient {}

impl Drop for FfiClient {
    fn drop(&mut self) {
        // SAFETY: the pointer came from soidc and is freed once.
        unsafe { soidc_client_free(self.0) }
    }
}

/// Parameters of the two constructors.
#[derive(Default, Clone, Copy)]
pub struct Params<'a> {
    pub redirect_uri: Option<&'a str>,
    pub client_id: &'a str,
    pub client_secret: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub options: Option<&'a str>,
}

type Ctor = unsafe extern "C" fn(
    *const c_char,
    *const c_char,
    *const c_char,
    *const c_char,
    *const c_char,
    *const c_char,
    *mut *mut soidc_client,
    *mut *mut c_char,
) -> i32;

fn create(ctor: Ctor, first: &str, p: Params<'_>) -> (Outcome, Option<FfiClient>) {
    let first = cstr(first);
    let redirect = p.redirect_uri.map(cstr);
    let id = cstr(p.client_id);
    let secret = p.client_secret.map(cstr);
    let scope = p.scope.map(cstr);
    let options = p.options.map(cstr);
    let mut out_client: *mut soidc_client = ptr::null_mut();
    let mut out_json: *mut c_char = ptr::null_mut();
    // SAFETY: valid C strings or NULL, valid out-pointers.
    let status = unsafe {
        ctor(
            first.as_ptr(),
            opt_ptr(&redirect),
            id.as_ptr(),
            opt_ptr(&secret),
            opt_ptr(&scope),
            opt_ptr(&options),
            &mut out_client,
            &mut out_json,
        )
    };
    // SAFETY: out_json is NULL or soidc's string.
    let doc = unsafe { take(out_json) };
    if status == 0 {
        assert!(!out_client.is_null(), "success must hand out a client");
    } else {
        assert!(out_client.is_null(), "failure must leave out_client NULL");
    }
    let client = (!out_client.is_null()).then(|| FfiClient(out_client));
    (Outcome { status, doc }, client)
}

/// `soidc_client_from_issuer_url`.
pub fn from_issuer_url(issuer: &str, p: Params<'_>) -> (Outcome, Option<FfiClient>) {
    create(soidc_client_from_issuer_url, issuer, p)
}

/// `soidc_client_from_issuer_config`.
pub fn from_issuer_config(metadata: &str, p: Params<'_>) -> (Outcome, Option<FfiClient>) {
    create(soidc_client_from_issuer_config, metadata, p)
}

/// `soidc_client_from_issuer_url`, which must succeed.
#[track_caller]
pub fn client(issuer: &str, p: Params<'_>) -> FfiClient {
    let (out, c) = from_issuer_url(issuer, p);
    assert_eq!(out.status, 0, "client creation failed: {:?}", out.doc);
    c.expect("a client")
}

impl FfiClient {
    pub fn get_type(&self) -> i32 {
        // SAFETY: a live client.
        unsafe { soidc_client_get_type(self.0) }
    }

    pub fn provider_config(&self) -> Outcome {
        let mut out: *mut c_char = ptr::null_mut();
        // SAFETY: a live client, a valid out-pointer.
        let status = unsafe { soidc_client_provider_config(self.0, &mut out) };
        Outcome {
            status,
            doc: unsafe { take(out) },
        }
    }

    pub fn provider_keys(&self, options: Option<&str>) -> Outcome {
        let options = options.map(cstr);
        let mut out: *mut c_char = ptr::null_mut();
        // SAFETY: a live client, a valid out-pointer.
        let status = unsafe { soidc_client_provider_keys(self.0, opt_ptr(&options), &mut out) };
        Outcome {
            status,
            doc: unsafe { take(out) },
        }
    }

    pub fn decode_id_token(&self, token: &str, options: Option<&str>) -> Outcome {
        self.decode_id_token_acr(token, options, None, ptr::null_mut())
    }

    pub fn decode_id_token_acr(
        &self,
        token: &str,
        options: Option<&str>,
        acr: soidc_acr_validator,
        user_data: *mut c_void,
    ) -> Outcome {
        decode_id_token_raw(self.0, token, options, acr, user_data)
    }
}

/// `soidc_decode_id_token` on a raw handle (for handles shared across threads).
pub fn decode_id_token_raw(
    client: *const soidc_client,
    token: &str,
    options: Option<&str>,
    acr: soidc_acr_validator,
    user_data: *mut c_void,
) -> Outcome {
    let token = cstr(token);
    let options = options.map(cstr);
    let mut out: *mut c_char = ptr::null_mut();
    // SAFETY: the caller passes a live client; valid strings and out-pointer.
    let status = unsafe {
        soidc_decode_id_token(
            client,
            token.as_ptr(),
            opt_ptr(&options),
            acr,
            user_data,
            &mut out,
        )
    };
    Outcome {
        status,
        doc: unsafe { take(out) },
    }
}

// ---------------------------------------------------------------------------------------
// Dynamic client registration (RFC 7591) and management (RFC 7592)
// ---------------------------------------------------------------------------------------

fn reg_call(f: impl FnOnce(*mut *mut c_char) -> i32) -> Outcome {
    let mut out: *mut c_char = ptr::null_mut();
    let status = f(&mut out);
    // SAFETY: out is NULL or soidc's string.
    Outcome { status, doc: unsafe { take(out) } }
}

/// `soidc_register_client`.
pub fn register_client(target: &str, metadata: &str, options: Option<&str>) -> Outcome {
    let (t, m, o) = (cstr(target), cstr(metadata), options.map(cstr));
    // SAFETY: valid C strings or NULL, a valid out-pointer.
    reg_call(|out| unsafe {
        soidc::ffi::registration::soidc_register_client(t.as_ptr(), m.as_ptr(), opt_ptr(&o), out)
    })
}

/// `soidc_client_read_registration`.
pub fn read_registration(uri: &str, token: &str, options: Option<&str>) -> Outcome {
    let (u, t, o) = (cstr(uri), cstr(token), options.map(cstr));
    // SAFETY: as above.
    reg_call(|out| unsafe {
        soidc::ffi::registration::soidc_client_read_registration(u.as_ptr(), t.as_ptr(), opt_ptr(&o), out)
    })
}

/// `soidc_client_update_registration`.
pub fn update_registration(uri: &str, token: &str, metadata: &str, options: Option<&str>) -> Outcome {
    let (u, t, m, o) = (cstr(uri), cstr(token), cstr(metadata), options.map(cstr));
    // SAFETY: as above.
    reg_call(|out| unsafe {
        soidc::ffi::registration::soidc_client_update_registration(u.as_ptr(), t.as_ptr(), m.as_ptr(), opt_ptr(&o), out)
    })
}

/// `soidc_client_delete_registration`.
pub fn delete_registration(uri: &str, token: &str, options: Option<&str>) -> Outcome {
    let (u, t, o) = (cstr(uri), cstr(token), options.map(cstr));
    // SAFETY: as above.
    reg_call(|out| unsafe {
        soidc::ffi::registration::soidc_client_delete_registration(u.as_ptr(), t.as_ptr(), opt_ptr(&o), out)
    })
}
