//! The limit, callable from C: aws-lc-rs `ParsedPublicKey::verify_sig` with the keys parsed
//! once, exactly as a cached key set holds them. bench/c/decode_bench.c links this cdylib
//! so that the limit and soidc are timed in alternating slices in one process (a paired
//! measurement: load on a shared machine then hits both alike).
//!
//!   int soidc_bench_limit_load(const char *dir);   0 = ok: parses DIR/jwks.json, signs nothing,
//!                                                 reads DIR/{RS256,ES256,EdDSA}.jwt
//!   int soidc_bench_limit_verify(int index);       0 = the signature of token `index` verifies

use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use std::ffi::{c_char, c_int, CStr};
use std::path::Path;
use std::sync::OnceLock;

/// (alg, stub key file stem): the order of the benchmark's tokens.
pub const ALGS: [(&str, &str); 3] = [("RS256", "stub-rs256"), ("ES256", "stub-es256"), ("EdDSA", "stub-ed25519")];

/// Parses a public JWK into the aws-lc-rs key that verifies `alg`.
pub fn parsed_key(alg: &str, jwk: &Value) -> Result<ParsedPublicKey, String> {
    let b = |name: &str| -> Result<Vec<u8>, String> {
        let s = jwk[name].as_str().ok_or(format!("JWK lacks {name}"))?;
        URL_SAFE_NO_PAD.decode(s).map_err(|e| e.to_string())
    };
    match alg {
        "RS256" => {
            let (n, e) = (b("n")?, b("e")?);
            RsaPublicKeyComponents { n: n.as_slice(), e: e.as_slice() }
                .to_parsed_public_key(&signature::RSA_PKCS1_2048_8192_SHA256)
                .map_err(|e| e.to_string())
        }
        "ES256" => {
            let mut point = vec![4u8];
            point.extend(b("x")?);
            point.extend(b("y")?);
            ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point).map_err(|e| e.to_string())
        }
        "EdDSA" => ParsedPublicKey::new(&signature::ED25519, b("x")?).map_err(|e| e.to_string()),
        other => Err(format!("unknown alg {other}")),
    }
}

/// One token ready for raw verification: key, signing input, decoded signature.
pub struct Prepared {
    pub alg: &'static str,
    pub key: ParsedPublicKey,
    pub input: Vec<u8>,
    pub sig: Vec<u8>,
}

impl Prepared {
    #[inline]
    pub fn verify(&self) -> bool {
        self.key.verify_sig(&self.input, &self.sig).is_ok()
    }
}

/// Loads `dir/jwks.json` (keys in ALGS order) and `dir/<ALG>.jwt`.
pub fn prepare(dir: &Path) -> Result<Vec<Prepared>, String> {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).map_err(|e| format!("{name}: {e}"));
    let jwks: Value = serde_json::from_str(&read("jwks.json")?).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (i, (alg, _)) in ALGS.iter().enumerate() {
        let token = read(&format!("{alg}.jwt"))?.trim().to_owned();
        let dot = token.rfind('.').ok_or("token has no signature")?;
        let sig = URL_SAFE_NO_PAD.decode(&token[dot + 1..]).map_err(|e| e.to_string())?;
        let p = Prepared { alg, key: parsed_key(alg, &jwks["keys"][i])?, input: token.as_bytes()[..dot].to_vec(), sig };
        if !p.verify() {
            return Err(format!("{alg}: the signature does not verify"));
        }
        out.push(p);
    }
    Ok(out)
}

static LOADED: OnceLock<Vec<Prepared>> = OnceLock::new();

/// # Safety
/// `dir` is a NUL-terminated path.
#[no_mangle]
pub unsafe extern "C" fn soidc_bench_limit_load(dir: *const c_char) -> c_int {
    if dir.is_null() {
        return -1;
    }
    let Ok(dir) = CStr::from_ptr(dir).to_str() else { return -1 };
    match std::panic::catch_unwind(|| prepare(Path::new(dir))) {
        Ok(Ok(p)) => {
            let _ = LOADED.set(p);
            0
        }
        Ok(Err(e)) => {
            eprintln!("soidc_bench_limit_load: {e}");
            -1
        }
        Err(_) => -1,
    }
}

#[no_mangle]
pub extern "C" fn soidc_bench_limit_verify(index: c_int) -> c_int {
    match LOADED.get().and_then(|p| p.get(index as usize)) {
        Some(p) if p.verify() => 0,
        _ => -1,
    }
}
