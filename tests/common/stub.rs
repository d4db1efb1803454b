//! A small, deliberately dumb HTTP/1.1 server of the tests' own, standing in for a
//! (possibly hostile) OpenID provider: each route (a path, query ignored) answers a
//! fixed status, headers and body that a test may change at any time; every request is
//! counted per path. Every answer carries `Connection: close`.
//!
//! By default it serves a discovery document whose issuer is its own
//! `http://127.0.0.1:<port>` and a JWKS made of the stub keys of tests/keys.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::tests_path;

pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
pub const JWKS_PATH: &str = "/jwks";

/// The stub keys whose public JWKs the default JWKS holds, in order.
pub const STUB_KEYS: [&str; 4] = ["stub-rs256", "stub-es256", "stub-es384", "stub-ed25519"];

/// One canned answer.
#[derive(Clone, Debug)]
pub struct Route {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering (for timeout tests).
    pub delay: Duration,
}

impl Route {
    pub fn json(status: u16, body: &Value) -> Route {
        Route {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
            delay: Duration::ZERO,
        }
    }
    pub fn raw(status: u16, content_type: &str, body: &[u8]) -> Route {
        Route {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.to_vec(),
            delay: Duration::ZERO,
        }
    }
    pub fn with_header(mut self, name: &str, value: &str) -> Route {
        self.headers.push((name.into(), value.into()));
        self
    }
    pub fn with_delay(mut self, delay: Duration) -> Route {
        self.delay = delay;
        self
    }
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    counts: HashMap<String, usize>,
}

pub struct StubServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

/// A public JWK of tests/keys (`<name>.pub.jwk.json`).
pub fn public_jwk(name: &str) -> Value {
    let path = tests_path(&format!("keys/{name}.pub.jwk.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("JWK is JSON")
}

/// A JWKS document holding the public JWKs of the given key names.
pub fn jwks_of(names: &[&str]) -> Value {
    json!({ "keys": names.iter().map(|n| public_jwk(n)).collect::<Vec<_>>() })
}

impl StubServer {
    /// A stub provider advertising RS256, PS256, ES256, ES384 and EdDSA ID tokens.
    pub fn new() -> StubServer {
        Self::with_algs(&["RS256", "PS256", "ES256", "ES384", "EdDSA"])
    }

    /// A stub provider advertising the given ID token signing algorithms.
    pub fn with_algs(algs: &[&str]) -> StubServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let server = StubServer {
            addr,
            state: state.clone(),
            stop: stop.clone(),
        };
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::Acquire) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let state = state.clone();
                std::thread::spawn(move || handle(conn, &state));
            }
        });
        let mut doc = server.discovery_doc();
        doc["id_token_signing_alg_values_supported"] = json!(algs);
        server.set_json(DISCOVERY_PATH, 200, &doc);
        server.set_json(JWKS_PATH, 200, &jwks_of(&STUB_KEYS));
        server
    }

    /// `http://127.0.0.1:<port>`: the issuer of the default discovery document.
    pub fn issuer(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer())
    }

    /// A complete, valid discovery document for this stub (what it serves by default,
    /// with all algorithms), for tests to alter.
    pub fn discovery_doc(&self) -> Value {
        let base = self.issuer();
        json!({
            "issuer": base,
            "authorization_endpoint": format!("{base}/auth"),
            "token_endpoint": format!("{base}/token"),
            "userinfo_endpoint": format!("{base}/me"),
            "jwks_uri": format!("{base}{JWKS_PATH}"),
            "scopes_supported": ["openid", "email", "profile"],
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "PS256", "ES256", "ES384", "EdDSA"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "x_stub_extension": {"kept": true}
        })
    }

    pub fn set_route(&self, path: &str, route: Route) {
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(path.to_owned(), route);
    }

    pub fn set_json(&self, path: &str, status: u16, body: &Value) {
        self.set_route(path, Route::json(status, body));
    }

    pub fn set_jwks(&self, jwks: &Value) {
        self.set_json(JWKS_PATH, 200, jwks);
    }

    pub fn remove_route(&self, path: &str) {
        self.state.lock().unwrap().routes.remove(path);
    }

    /// How many requests reached `path` so far.
    pub fn count(&self, path: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .counts
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    pub fn jwks_count(&self) -> usize {
        self.count(JWKS_PATH)
    }
}

impl Drop for StubServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

fn handle(mut conn: TcpStream, state: &Mutex<State>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    if content_length > 0 {
        let mut body = vec![0u8; content_length.min(1 << 20)];
        let _ = reader.read_exact(&mut body);
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split(['?', '#']).next().unwrap_or("/").to_owned();
    let route = {
        let mut st = state.lock().unwrap();
        *st.counts.entry(path.clone()).or_default() += 1;
        st.routes.get(&path).cloned()
    };
    let route =
        route.unwrap_or_else(|| Route::json(404, &json!({"error": "not_found", "path": path})));
    if !route.delay.is_zero() {
        std::thread::sleep(route.delay);
    }
    let mut head = format!("HTTP/1.1 {} {}\r\n", route.status, reason(route.status));
    for (k, v) in &route.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        route.body.len()
    ));
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(&route.body);
    let _ = conn.flush();
    let _ = conn.shutdown(std::net::Shutdown::Both);
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// A loopback URL where nothing listens (a port just bound and released).
pub fn dead_url() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    drop(l);
    format!("http://{addr}")
}
