//! Mutual TLS (RFC 8705) against the real provider: oidc-provider's mTLS feature behind
//! an https listener asking for client certificates (tests/provider/server.mjs with
//! PROVIDER_MTLS_DIR). The test CA, the server certificate and the client certificates
//! are made here with the openssl command.
//!
//! - client authentication tls_client_auth (§2.1) and self_signed_tls_client_auth (§2.2),
//!   with the right and a wrong certificate;
//! - certificate-bound access tokens (§3): the provider's `cnf["x5t#S256"]` is the
//!   thumbprint of our certificate, and `soidc_decode_access_token` accepts the token
//!   with that certificate (PEM and DER base64) and refuses it with another or none;
//! - mtls_endpoint_aliases (§5): the token, introspection, revocation, userinfo, device
//!   authorization and PAR requests of a client with a certificate reach the https
//!   listener (its own request counters), those of a client without one do not;
//! - bad input: wrong option types, unreadable files, wrong modes, a key given as the
//!   certificate, garbage and 1 MB PEM: SOIDC_ERR_INVALID_ARGUMENT, and nothing printed
//!   (checked in a child process).

mod common;
#[path = "common/flows.rs"]
mod flows;

use common::ffi::{self, FfiClient, Params};
use flows::*;
use serde_json::{json, Value};
use soidc::ffi::status::*;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::Duration;

const API: &str = "https://api.soidc.test";
const CHILD_ENV: &str = "SOIDC_TEST_MTLS_CHILD_DIR";

fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("the openssl command");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// A certificate `name`.pem / `name`.key signed by the test CA, with `ext` lines.
fn issue(dir: &Path, name: &str, subject: &str, key: &[&str], ext: &str) {
    let mut args = vec!["req", "-newkey"];
    args.extend_from_slice(key);
    let (k, csr, pem, extf) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"), format!("{name}.ext"));
    args.extend_from_slice(&["-nodes", "-keyout", &k, "-out", &csr, "-subj", subject]);
    openssl(dir, &args);
    std::fs::write(dir.join(&extf), ext).unwrap();
    openssl(dir, &["x509", "-req", "-in", &csr, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", &pem, "-days", "2", "-extfile", &extf]);
}

const EC: &[&str] = &["ec", "-pkeyopt", "ec_paramgen_curve:P-256"];

/// The test PKI, made once per test binary: CA, server (localhost, 127.0.0.1), the client
/// `client` (CN=soidc mtls client, the subject registered for mtls-pki), `other` (another
/// CA-signed client, RSA), `self-client` (self-signed, registered for mtls-self) and
/// `self-other` (self-signed, not registered). Every file is mode 0600.
fn pki() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Under target/ (cargo's temporary directory for integration tests); the
        // directories of earlier runs whose process is gone are removed.
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        for entry in std::fs::read_dir(&base).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("mtls-") {
                if !Path::new("/proc").join(pid).exists() {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let dir = base.join(format!("mtls-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        openssl(&dir, &["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=soidc mtls test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"]);
        issue(&dir, "server", "/CN=soidc mtls server", EC, "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
        issue(&dir, "client", "/CN=soidc mtls client", EC, "extendedKeyUsage=clientAuth\n");
        issue(&dir, "other", "/CN=soidc other client", &["rsa:2048"], "extendedKeyUsage=clientAuth\n");
        for name in ["self-client", "self-other"] {
            openssl(&dir, &["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", &format!("{name}.key"), "-out", &format!("{name}.pem"), "-days", "2",
                "-subj", &format!("/CN=soidc {name}")]);
        }
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        dir
    })
}

fn path(name: &str) -> String {
    pki().join(name).to_str().unwrap().to_owned()
}

fn pem(name: &str) -> String {
    std::fs::read_to_string(pki().join(format!("{name}.pem"))).unwrap()
}

/// RFC 8705 §3.1 computed here, independently of soidc: base64url(SHA-256(DER)), the DER
/// from the openssl command.
fn thumbprint(name: &str) -> String {
    use base64::Engine;
    let der = openssl(pki(), &["x509", "-in", &format!("{name}.pem"), "-outform", "DER"]);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

fn der_base64(name: &str) -> String {
    use base64::Engine;
    let der = openssl(pki(), &["x509", "-in", &format!("{name}.pem"), "-outform", "DER"]);
    base64::engine::general_purpose::STANDARD.encode(der)
}

/// The provider of this binary, with the mTLS listener; stopped when the process exits
/// (EOF on its stdin, as in common/provider.rs).
struct MtlsProvider {
    issuer: String,
    _stdin: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

fn provider() -> &'static MtlsProvider {
    static P: OnceLock<MtlsProvider> = OnceLock::new();
    P.get_or_init(|| {
        let dir = pki();
        let mut child = Command::new("node")
            .arg(common::tests_path("provider/server.mjs"))
            .env("PORT", "0")
            .env("PROVIDER_MTLS_DIR", dir)
            .env_remove("PROVIDER_IGNORE_STDIN")
            .env_remove("PROVIDER_ISSUER")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(i) = line.strip_prefix("ISSUER=") {
                    let _ = tx.send(i.trim().to_owned());
                }
            }
        });
        let issuer = rx.recv_timeout(Duration::from_secs(20)).expect("the mTLS provider printed its ISSUER line");
        MtlsProvider { issuer, _stdin: Mutex::new(stdin), _child: Mutex::new(child) }
    })
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().new_agent()
}

/// `GET /test/mtls-requests` (over plain http): "METHOD /path" -> requests that came in
/// over the mTLS listener.
fn mtls_requests() -> Value {
    let mut r = agent().get(&format!("{}/test/mtls-requests", provider().issuer)).call().unwrap();
    serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
}

fn count(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or(0)
}

/// The counters are shared by the tests of this binary, which run in parallel.
fn counters_lock() -> std::sync::MutexGuard<'static, ()> {
    static L: Mutex<()> = Mutex::new(());
    L.lock().unwrap_or_else(|e| e.into_inner())
}

fn mtls_options(cert: &str, extra: Value) -> String {
    let mut o = json!({
        "client_cert_file": path(&format!("{cert}.pem")),
        "client_key_file": path(&format!("{cert}.key")),
        "ca_file": path("ca.pem"),
    });
    o.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    o.to_string()
}

fn mtls_client(client_id: &str, secret: Option<&str>, cert: &str, extra: Value) -> FfiClient {
    let options = mtls_options(cert, extra);
    let (o, c) = ffi::from_issuer_url(
        &provider().issuer,
        Params {
            client_id,
            client_secret: secret,
            redirect_uri: Some("http://127.0.0.1:9/callback"),
            scope: Some("openid"),
            options: Some(&options),
        },
    );
    assert_eq!(o.status, 0, "{client_id}: {:?}", o.doc);
    c.unwrap()
}

/// A client without any certificate (a plain confidential client), trusting the test CA.
fn plain_client() -> FfiClient {
    let options = json!({"ca_file": path("ca.pem")}).to_string();
    ffi::client(
        &provider().issuer,
        Params {
            client_id: "conf-basic",
            client_secret: Some("conf-basic-secret-0123456789abcdef"),
            redirect_uri: Some("http://127.0.0.1:9/callback"),
            options: Some(&options),
            ..Default::default()
        },
    )
}

/// A client credentials grant for the API (a JWT access token, RFC 9068).
fn api_token(c: &FfiClient) -> String {
    let doc = client_credentials(c, Some("api:read"), Some(&json!({"resource": API}).to_string())).ok();
    s(&doc, "access_token").to_owned()
}

fn payload(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn decode_with(c: &FfiClient, token: &str, cert: Option<&str>) -> ffi::Outcome {
    let mut o = json!({"audience": API});
    if let Some(cert) = cert {
        o["client_cert_pem"] = json!(cert);
    }
    decode_access_token(c, token, Some(&o.to_string()))
}

#[track_caller]
fn assert_cnf_refused(o: &ffi::Outcome, fragment: &str) {
    let e = o.err(SOIDC_ERR_VALIDATION, fragment);
    assert_eq!(e["reason"], "cnf_x5t", "{e}");
}

/// The whole §3 round: the token carries the thumbprint of `cert`; accepted with that
/// certificate as PEM and as DER base64, refused with `other` and with none.
fn check_bound_token(c: &FfiClient, token: &str, cert: &str, other: &str) {
    let claims = payload(token);
    assert_eq!(claims["cnf"]["x5t#S256"], thumbprint(cert), "{claims}");
    let ok = decode_with(c, token, Some(&pem(cert))).ok();
    assert_eq!(ok["cnf"]["x5t#S256"], thumbprint(cert));
    decode_with(c, token, Some(&der_base64(cert))).ok();
    // nginx's $ssl_client_cert form: every line but the first prefixed with a tab.
    decode_with(c, token, Some(&pem(cert).trim_end().replace('\n', "\n\t"))).ok();
    assert_cnf_refused(&decode_with(c, token, Some(&pem(other))), "does not match");
    assert_cnf_refused(&decode_with(c, token, None), "no client_cert_pem");
}

#[test]
fn tls_client_auth_gets_a_certificate_bound_token() {
    let _g = counters_lock();
    let c = mtls_client("mtls-pki", None, "client", json!({"auth_method": "tls_client_auth"}));
    let before = mtls_requests();
    let token = api_token(&c);
    let after = mtls_requests();
    assert_eq!(count(&after, "POST /token"), count(&before, "POST /token") + 1, "{before} {after}");
    check_bound_token(&c, &token, "client", "other");
    // The self-signed certificate of another client is refused as well.
    assert_cnf_refused(&decode_with(&c, &token, Some(&pem("self-client"))), "does not match");
}

#[test]
fn tls_client_auth_is_the_default_for_a_client_whose_only_credential_is_a_certificate() {
    let _g = counters_lock();
    let c = mtls_client("mtls-pki", None, "client", json!({}));
    assert_eq!(c.get_type(), SOIDC_CLIENT_CONFIDENTIAL);
    let token = api_token(&c);
    assert_eq!(payload(&token)["client_id"], "mtls-pki");
}

#[test]
fn self_signed_tls_client_auth_gets_a_certificate_bound_token() {
    let _g = counters_lock();
    let c = mtls_client("mtls-self", None, "self-client", json!({"auth_method": "self_signed_tls_client_auth"}));
    let token = api_token(&c);
    check_bound_token(&c, &token, "self-client", "client");
}

#[test]
fn the_provider_refuses_a_certificate_it_does_not_know() {
    let _g = counters_lock();
    // A CA-signed certificate with another subject for the PKI client.
    let c = mtls_client("mtls-pki", None, "other", json!({"auth_method": "tls_client_auth"}));
    let e = client_credentials(&c, Some("api:read"), Some(&json!({"resource": API}).to_string()));
    let doc = e.err(SOIDC_ERR_PROVIDER, "invalid_client");
    assert_eq!(doc["error"], "invalid_client", "{doc}");
    // An unregistered self-signed certificate for the self-signed client.
    let c = mtls_client("mtls-self", None, "self-other", json!({"auth_method": "self_signed_tls_client_auth"}));
    let e = client_credentials(&c, Some("api:read"), Some(&json!({"resource": API}).to_string()));
    e.err(SOIDC_ERR_PROVIDER, "invalid_client");
}

#[test]
fn a_secret_client_with_a_certificate_gets_bound_tokens_through_the_aliases() {
    let _g = counters_lock();
    let c = mtls_client("mtls-bound-basic", Some("mtls-bound-basic-secret-0123456789abcdef"), "client", json!({}));
    let before = mtls_requests();
    let token = api_token(&c);
    assert_eq!(count(&mtls_requests(), "POST /token"), count(&before, "POST /token") + 1);
    check_bound_token(&c, &token, "client", "self-client");
}

#[test]
fn every_aliased_endpoint_is_used_by_a_client_with_a_certificate_and_none_without() {
    let _g = counters_lock();
    let c = mtls_client("mtls-pki", None, "client", json!({}));
    let before = mtls_requests();
    // token (client credentials: an opaque token, which introspection knows), introspection,
    // revocation
    let doc = client_credentials(&c, None, None).ok();
    let token = s(&doc, "access_token").to_owned();
    let intro = introspect(&c, &token, Some("access_token"), None).ok();
    assert_eq!(intro["active"], true, "{intro}");
    // RFC 8705 §3.2: the provider reports the binding of the token at introspection too.
    assert_eq!(intro["cnf"]["x5t#S256"], thumbprint("client"), "{intro}");
    revoke(&c, &token, Some("access_token"), None).ok();
    // userinfo: a user's token (the test-only password grant) through the alias
    let user = password_grant(&c, "alice", "alice-password", Some("openid email"), None).ok();
    let info = userinfo(&c, s(&user, "access_token"), None).ok();
    assert_eq!(info["sub"], "alice", "{info}");
    // device authorization, pushed authorization request
    device_start(&c, Some("openid"), None).ok();
    let start = auth_code_start(&c, Some(r#"{"par": true}"#)).ok();
    assert!(s(&start, "url").contains("request_uri="), "{start}");
    let after = mtls_requests();
    for key in ["POST /token/introspection", "POST /token/revocation", "GET /me", "POST /device/auth", "POST /request"] {
        assert_eq!(count(&after, key), count(&before, key) + 1, "{key}: {before} -> {after}");
    }
    assert_eq!(count(&after, "POST /token"), count(&before, "POST /token") + 2, "{before} -> {after}");

    // A client without a certificate calls the regular endpoints.
    let plain = plain_client();
    let before = mtls_requests();
    let doc = client_credentials(&plain, None, None).ok();
    introspect(&plain, s(&doc, "access_token"), None, None).ok();
    let user = password_grant(&plain, "alice", "alice-password", Some("openid"), None).ok();
    userinfo(&plain, s(&user, "access_token"), None).ok();
    assert_eq!(mtls_requests(), before, "a client without a certificate used the mTLS listener");
}

#[test]
fn a_certificate_given_for_an_unbound_token_is_accepted() {
    let _g = counters_lock();
    // conf-basic's API token is a bearer token (no cnf): a certificate changes nothing.
    let plain = plain_client();
    let doc = client_credentials(&plain, Some("api:read"), Some(&json!({"resource": API}).to_string())).ok();
    let token = s(&doc, "access_token");
    assert!(payload(token).get("cnf").is_none());
    decode_with(&plain, token, Some(&pem("client"))).ok();
    decode_with(&plain, token, None).ok();
}

// ---------------------------------------------------------------------------------------
// Bad input, in a child process so that anything printed is seen.
// ---------------------------------------------------------------------------------------

fn write_mode(dir: &Path, name: &str, content: &[u8], mode: u32) -> String {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    p.to_str().unwrap().to_owned()
}

const METADATA: &str = r#"{"issuer":"https://op.example","authorization_endpoint":"https://op.example/auth","token_endpoint":"https://op.example/token","jwks_uri":"https://op.example/jwks","response_types_supported":["code"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"],"token_endpoint_auth_methods_supported":["tls_client_auth","self_signed_tls_client_auth"]}"#;

#[track_caller]
fn create_refused(options: &str, fragment: &str) {
    let (o, c) = ffi::from_issuer_config(METADATA, Params { client_id: "c", options: Some(options), ..Default::default() });
    assert!(c.is_none());
    let e = o.err(SOIDC_ERR_INVALID_ARGUMENT, fragment);
    // Never the content of a file.
    let text = e.to_string();
    assert!(!text.contains("BEGIN"), "{text}");
}

#[test]
#[ignore = "run by bad_input_is_refused_and_nothing_is_printed in a child process"]
fn bad_input_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    let dir = PathBuf::from(dir);
    let read = |n: &str| std::fs::read(dir.join(n)).unwrap();
    let p = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    let opts = |cert: &str, key: &str| json!({"client_cert_file": cert, "client_key_file": key}).to_string();
    let work = dir.join("bad");
    std::fs::create_dir_all(&work).unwrap();

    // Good files: accepted (the baseline of the cases below), tls_client_auth chosen.
    let good = opts(&p("client.pem"), &p("client.key"));
    let (o, c) = ffi::from_issuer_config(METADATA, Params { client_id: "c", options: Some(&good), ..Default::default() });
    assert_eq!(o.status, 0, "{:?}", o.doc);
    let c = c.unwrap();
    assert_eq!(c.get_type(), SOIDC_CLIENT_CONFIDENTIAL);

    // Wrong option types.
    create_refused(r#"{"client_cert_file": 5, "client_key_file": "x"}"#, "client_cert_file");
    create_refused(r#"{"client_cert_file": "x", "client_key_file": true}"#, "client_key_file");
    create_refused(r#"{"client_cert_file": ["x"], "client_key_file": "x"}"#, "client_cert_file");
    // One without the other; a certificate method without a certificate.
    create_refused(&json!({"client_cert_file": p("client.pem")}).to_string(), "go together");
    create_refused(&json!({"client_key_file": p("client.key")}).to_string(), "go together");
    create_refused(r#"{"auth_method": "tls_client_auth"}"#, "needs client_cert_file");
    create_refused(r#"{"auth_method": "self_signed_tls_client_auth"}"#, "needs client_cert_file");
    // Unreadable: missing, a directory, empty path.
    create_refused(&opts("/nonexistent/soidc/cert.pem", &p("client.key")), "cannot open");
    create_refused(&opts(&p("client.pem"), "/nonexistent/soidc/key.pem"), "cannot open");
    create_refused(&opts(work.to_str().unwrap(), &p("client.key")), "regular file");
    create_refused(&opts("", &p("client.key")), "must not be empty");
    // Wrong modes (group/world readable) for the key and the certificate.
    let loose_key = write_mode(&work, "loose.key", &read("client.key"), 0o644);
    create_refused(&opts(&p("client.pem"), &loose_key), "chmod 600");
    let loose_cert = write_mode(&work, "loose.pem", &read("client.pem"), 0o640);
    create_refused(&opts(&loose_cert, &p("client.key")), "chmod 600");
    // A key given as the certificate, a certificate given as the key, a mismatched key.
    create_refused(&opts(&p("client.key"), &p("client.key")), "private key but no certificate");
    create_refused(&opts(&p("client.pem"), &p("client.pem")), "no unencrypted PEM private key");
    create_refused(&opts(&p("client.pem"), &p("other.key")), "does not hold the private key");
    // Garbage, broken PEM, a 1 MB file.
    let garbage = write_mode(&work, "garbage.pem", b"this is not PEM at all\n", 0o600);
    create_refused(&opts(&garbage, &p("client.key")), "no PEM certificate");
    create_refused(&opts(&p("client.pem"), &garbage), "no unencrypted PEM private key");
    let broken = write_mode(&work, "broken.pem", b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", 0o600);
    create_refused(&opts(&broken, &p("client.key")), "not valid PEM");
    let not_der = write_mode(&work, "notder.pem", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 0o600);
    create_refused(&opts(&not_der, &p("client.key")), "not a DER X.509 certificate");
    let mut big = b"-----BEGIN CERTIFICATE-----\n".to_vec();
    big.extend(std::iter::repeat_n(b'A', 1024 * 1024));
    big.extend_from_slice(b"\n-----END CERTIFICATE-----\n");
    let big_file = write_mode(&work, "big.pem", &big, 0o600);
    create_refused(&opts(&big_file, &p("client.key")), "larger than");

    // soidc_decode_access_token: client_cert_pem of the wrong type, garbage, a key, 1 MB.
    let token = "eyJhbGciOiJSUzI1NiJ9.e30.c2ln";
    let refused = |options: String, fragment: &str| {
        decode_access_token(&c, token, Some(&options)).err(SOIDC_ERR_INVALID_ARGUMENT, fragment);
    };
    refused(r#"{"client_cert_pem": 5}"#.into(), "client_cert_pem");
    refused(r#"{"client_cert_pem": {"pem": "x"}}"#.into(), "client_cert_pem");
    refused(json!({"client_cert_pem": ""}).to_string(), "empty");
    refused(json!({"client_cert_pem": "garbage!"}).to_string(), "neither PEM nor base64");
    refused(json!({"client_cert_pem": "AAAA"}).to_string(), "not a DER X.509 certificate");
    refused(json!({"client_cert_pem": String::from_utf8(read("client.key")).unwrap()}).to_string(), "private key");
    refused(json!({"client_cert_pem": String::from_utf8(big.clone()).unwrap()}).to_string(), "limit");
    refused(json!({"client_cert_pem": "A".repeat(1024 * 1024)}).to_string(), "limit");
    std::fs::remove_dir_all(&work).unwrap();
}

#[test]
fn bad_input_is_refused_and_nothing_is_printed() {
    let out = common::run_child_test("bad_input_child", CHILD_ENV, pki());
    common::assert_quiet_child(&out);
}

#[test]
fn eight_threads_share_one_mtls_client() {
    let _g = counters_lock();
    let c = mtls_client("mtls-pki", None, "client", json!({}));
    let before = count(&mtls_requests(), "POST /token");
    let want = thumbprint("client");
    let other = pem("other");
    let mine = pem("client");
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..3 {
                    let token = api_token(&c);
                    assert_eq!(payload(&token)["cnf"]["x5t#S256"], want.as_str());
                    decode_with(&c, &token, Some(&mine)).ok();
                    assert_cnf_refused(&decode_with(&c, &token, Some(&other)), "does not match");
                }
            });
        }
    });
    assert_eq!(count(&mtls_requests(), "POST /token"), before + 24);
}

#[test]
fn a_refreshed_access_token_is_bound_to_the_certificate_too() {
    let _g = counters_lock();
    let c = mtls_client("mtls-pki", None, "client", json!({}));
    let before = count(&mtls_requests(), "POST /token");
    let api = json!({"resource": API}).to_string();
    let first = password_grant(&c, "alice", "alice-password", Some("openid offline_access api:read"), Some(&api)).ok();
    let refreshed = refresh(&c, s(&first, "refresh_token"), Some(&api)).ok();
    assert_eq!(count(&mtls_requests(), "POST /token"), before + 2);
    let token = s(&refreshed, "access_token");
    assert_eq!(payload(token)["sub"], "alice");
    check_bound_token(&c, token, "client", "other");
}
