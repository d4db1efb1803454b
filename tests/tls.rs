//! TLS against a provider on https with a test CA (made here with the openssl command):
//! trusted through `ca_file`, refused without it, refused for a certificate that names
//! another host. The https server is `openssl s_server -WWW`, serving the discovery
//! document from a temporary directory.

mod common;

use common::ffi::{self, Params};
use soidc::ffi::status::*;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("the openssl command");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A test CA and a server certificate for `san` (e.g. "DNS:localhost,IP:127.0.0.1").
fn make_certs(dir: &Path, name: &str, san: &str) {
    if !dir.join("ca.pem").exists() {
        openssl(dir, &["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=soidc test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"]);
    }
    openssl(dir, &["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", &format!("{name}.key"), "-out", &format!("{name}.csr"), "-subj", "/CN=soidc test server"]);
    std::fs::write(dir.join(format!("{name}.ext")), format!("subjectAltName={san}\nextendedKeyUsage=serverAuth\n")).unwrap();
    openssl(dir, &["x509", "-req", "-in", &format!("{name}.csr"), "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", &format!("{name}.pem"), "-days", "2", "-extfile", &format!("{name}.ext")]);
}

struct Server {
    child: Child,
    issuer: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Serves `<dir>/www` over https with certificate `name` on a free port.
fn serve(dir: &Path, name: &str) -> Server {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let issuer = format!("https://localhost:{port}");
    let www = dir.join(format!("www-{name}"));
    std::fs::create_dir_all(www.join(".well-known")).unwrap();
    let doc = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    });
    std::fs::write(www.join(".well-known/openid-configuration"), doc.to_string()).unwrap();
    let child = Command::new("openssl")
        .args(["s_server", "-quiet", "-WWW", "-accept", &port.to_string(), "-cert"])
        .arg(dir.join(format!("{name}.pem")))
        .arg("-key")
        .arg(dir.join(format!("{name}.key")))
        .current_dir(&www)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "openssl s_server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server { child, issuer }
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("soidc-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn discover(issuer: &str, options: Option<&str>) -> ffi::Outcome {
    ffi::from_issuer_url(issuer, Params { client_id: "rp", client_secret: Some("s"), options, ..Default::default() }).0
}

#[test]
fn https_provider_with_a_test_ca() {
    let dir = temp_dir();
    make_certs(&dir, "good", "DNS:localhost,IP:127.0.0.1");
    make_certs(&dir, "wrong", "DNS:wrong.example");
    let ca = dir.join("ca.pem");
    let with_ca = format!(r#"{{"ca_file": "{}", "timeout_ms": 5000}}"#, ca.display());

    let good = serve(&dir, "good");
    let out = discover(&good.issuer, Some(&with_ca));
    assert_eq!(out.status, SOIDC_OK, "trusted through ca_file: {:?}", out.doc);

    // Without the CA, the system roots do not know this certificate.
    discover(&good.issuer, Some(r#"{"timeout_ms": 5000}"#)).err(SOIDC_ERR_NETWORK, "TLS");

    // A certificate from the trusted CA, but for another host name.
    let wrong = serve(&dir, "wrong");
    discover(&wrong.issuer, Some(&with_ca)).err(SOIDC_ERR_NETWORK, "TLS");

    // A ca_file that is not PEM is refused when the client is created.
    let not_pem = dir.join("not.pem");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    discover(&good.issuer, Some(&format!(r#"{{"ca_file": "{}"}}"#, not_pem.display())))
        .err(SOIDC_ERR_INVALID_ARGUMENT, "ca_file");
    drop(good);
    drop(wrong);
    let _ = std::fs::remove_dir_all(&dir);
}
