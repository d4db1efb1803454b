//! The real test OpenID provider (oidc-provider, tests/provider/server.mjs), started
//! lazily once per test binary.
//!
//! The provider exits by itself on EOF on its stdin. The write end of that pipe lives in
//! a static that is never dropped, so the provider lives exactly as long as the test
//! process: when the process exits the OS closes the pipe and the provider stops.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::tests_path;

const START_TIMEOUT: Duration = Duration::from_secs(20);

pub struct Provider {
    pub issuer: String,
    /// Held open for the life of the process (see the module comment).
    _stdin: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

static PROVIDER: OnceLock<Result<Provider, String>> = OnceLock::new();

/// The shared provider of this test binary, started on first use.
pub fn provider() -> &'static Provider {
    match PROVIDER.get_or_init(start) {
        Ok(p) => p,
        Err(e) => panic!("test provider unavailable: {e}"),
    }
}

/// Its issuer, `http://127.0.0.1:<port>`.
pub fn issuer() -> &'static str {
    &provider().issuer
}

fn npm_ci_if_needed() -> Result<(), String> {
    let dir = tests_path("provider");
    if dir.join("node_modules").is_dir() {
        return Ok(());
    }
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run npm ci in {}: {e}", dir.display()))?;
    if !out.status.success() {
        return Err(format!(
            "npm ci in {} failed ({}): {}",
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

fn start() -> Result<Provider, String> {
    npm_ci_if_needed()?;
    let script = tests_path("provider/server.mjs");
    let mut child = Command::new("node")
        .arg(&script)
        .env("PORT", "0")
        .env_remove("PROVIDER_IGNORE_STDIN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start node {}: {e}", script.display()))?;
    let stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        // Forward the ISSUER line, then keep draining stdout until the provider exits.
        let mut sent = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if !sent {
                if let Some(issuer) = line.strip_prefix("ISSUER=") {
                    let _ = tx.send(issuer.trim().to_owned());
                    sent = true;
                }
            }
        }
    });
    match rx.recv_timeout(START_TIMEOUT) {
        Ok(issuer) => Ok(Provider {
            issuer,
            _stdin: Mutex::new(stdin),
            _child: Mutex::new(child),
        }),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!(
                "the provider did not print its ISSUER line within {START_TIMEOUT:?}"
            ))
        }
    }
}

/// A ureq agent that reads non-2xx answers instead of failing on them.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .new_agent()
}

fn read_json(
    resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    what: &str,
) -> (u16, Value) {
    let mut resp = resp.unwrap_or_else(|e| panic!("{what}: request failed: {e}"));
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .read_to_string()
        .unwrap_or_else(|e| panic!("{what}: cannot read body: {e}"));
    let value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text}"));
    (status, value)
}

/// The `password` grant at the token endpoint with client_secret_basic, as the test
/// provider implements it. Panics unless the provider answers 200.
pub fn password_grant(
    client_id: &str,
    secret: &str,
    user: &str,
    password: &str,
    scope: &str,
    nonce: Option<&str>,
) -> Value {
    let (status, body) = password_grant_raw(client_id, secret, user, password, scope, nonce);
    assert_eq!(
        status, 200,
        "password grant for {client_id}/{user} failed: {body}"
    );
    body
}

/// As [`password_grant`], returning the HTTP status and body whatever they are.
pub fn password_grant_raw(
    client_id: &str,
    secret: &str,
    user: &str,
    password: &str,
    scope: &str,
    nonce: Option<&str>,
) -> (u16, Value) {
    use base64::Engine;
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        enc(client_id),
        enc(secret)
    ));
    let mut form = vec![
        ("grant_type", "password"),
        ("username", user),
        ("password", password),
        ("scope", scope),
    ];
    if let Some(n) = nonce {
        form.push(("nonce", n));
    }
    let resp = agent()
        .post(&format!("{}/token", issuer()))
        .header("Authorization", format!("Basic {basic}"))
        .send_form(form);
    read_json(resp, "password grant")
}

/// The ID token of a password grant for alice with scope `openid email profile`.
pub fn alice_id_token(client_id: &str, nonce: Option<&str>) -> (String, Value) {
    let secret = client_secret(client_id);
    let resp = password_grant(
        client_id,
        &secret,
        "alice",
        "alice-password",
        "openid email profile",
        nonce,
    );
    let token = resp["id_token"]
        .as_str()
        .expect("the response has an id_token")
        .to_owned();
    (token, resp)
}

/// `POST /test/rotate[?drop_old=1]`: new signing keys first; returns the kids in JWKS order.
pub fn rotate(drop_old: bool) -> Vec<String> {
    let url = format!(
        "{}/test/rotate{}",
        issuer(),
        if drop_old { "?drop_old=1" } else { "" }
    );
    let (status, body) = read_json(agent().post(&url).send_empty(), "rotate");
    assert_eq!(status, 200, "rotate: {body}");
    body["kids"]
        .as_array()
        .expect("kids array")
        .iter()
        .map(|k| k.as_str().expect("kid string").to_owned())
        .collect()
}

/// `GET /test/jwks-fetch-count`: how many times `/jwks` was fetched since start.
pub fn jwks_fetch_count() -> u64 {
    let url = format!("{}/test/jwks-fetch-count", issuer());
    let (status, body) = read_json(agent().get(&url).call(), "jwks-fetch-count");
    assert_eq!(status, 200, "jwks-fetch-count: {body}");
    body["count"].as_u64().expect("count number")
}

/// How many discovery requests the provider has answered since it started.
pub fn discovery_fetch_count() -> u64 {
    let url = format!("{}/test/discovery-fetch-count", issuer());
    let (status, body) = read_json(agent().get(&url).call(), "discovery-fetch-count");
    assert_eq!(status, 200, "discovery-fetch-count: {body}");
    body["count"].as_u64().expect("count number")
}

/// tests/provider/clients.json, parsed.
pub fn clients() -> &'static Vec<Value> {
    static CLIENTS: OnceLock<Vec<Value>> = OnceLock::new();
    CLIENTS.get_or_init(|| {
        let path = tests_path("provider/clients.json");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).expect("clients.json is a JSON array")
    })
}

/// One client's registration from clients.json.
pub fn client(client_id: &str) -> &'static Value {
    clients()
        .iter()
        .find(|c| c["client_id"] == client_id)
        .unwrap_or_else(|| panic!("client {client_id} is not in clients.json"))
}

/// A confidential client's secret from clients.json.
pub fn client_secret(client_id: &str) -> String {
    client(client_id)["client_secret"]
        .as_str()
        .unwrap_or_else(|| panic!("client {client_id} has no secret"))
        .to_owned()
}
