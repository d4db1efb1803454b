//! A hostile OpenID provider of the tests' own: a small HTTP/1.1 server on 127.0.0.1
//! (std `TcpListener`, one thread per connection, keep-alive) that plays discovery,
//! JWKS, token, userinfo, introspection, revocation and device endpoints, and
//! misbehaves on request.
//!
//! Each route (a path; the query is ignored for routing) answers with an [`Action`]:
//! a canned response, a response after a delay, a body cut off in the middle, a
//! flood of bytes, or a hang-up; or a handler computes the action from the
//! request. Every request is recorded (method, path, query, headers, body, and
//! the id of the TCP connection it came on), and accepted connections are
//! counted, so tests can assert what the client sent and whether it reused a
//! connection.
//!
//! Unlike `tests/common/stub.rs`, connections are kept alive (HTTP/1.1 default),
//! which the fork test needs to tell a pooled connection from a new one.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::stub::jwks_of;

pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
pub const JWKS_PATH: &str = "/jwks";
pub const TOKEN_PATH: &str = "/token";
pub const USERINFO_PATH: &str = "/userinfo";
pub const INTROSPECTION_PATH: &str = "/introspect";
pub const REVOCATION_PATH: &str = "/revoke";
pub const DEVICE_PATH: &str = "/device";

/// Bodies larger than this are read and dropped rather than stored.
const MAX_STORED_BODY: usize = 32 * 1024 * 1024;

/// A complete HTTP response.
#[derive(Clone, Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(status: u16, body: &Value) -> Resp {
        Resp::raw(status, "application/json", body.to_string().as_bytes())
    }

    pub fn raw(status: u16, content_type: &str, body: &[u8]) -> Resp {
        Resp {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.to_vec(),
        }
    }

    /// A redirect to `location` with an empty body.
    pub fn redirect(status: u16, location: &str) -> Resp {
        Resp {
            status,
            headers: vec![("Location".into(), location.into())],
            body: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Resp {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Action {
    /// Answer at once.
    Reply(Resp),
    /// Sleep, then answer (for client timeouts).
    Delay(Duration, Resp),
    /// Announce `announced` body bytes, send `sent`, then close the connection.
    CloseMidBody {
        status: u16,
        content_type: String,
        announced: usize,
        sent: Vec<u8>,
    },
    /// A body of `len` bytes of JSON-looking filler, with a correct Content-Length.
    Flood {
        status: u16,
        content_type: String,
        len: usize,
    },
    /// Send the head at once, then the body one byte every `every` (slowloris in reverse:
    /// a client with only a per-read timeout never times out).
    Trickle { resp: Resp, every: Duration },
    /// Close the connection without answering.
    Hangup,
}

impl Action {
    pub fn json(status: u16, body: &Value) -> Action {
        Action::Reply(Resp::json(status, body))
    }
}

/// One request as the server received it.
#[derive(Clone, Debug)]
pub struct Request {
    /// Which accepted TCP connection it came on (1, 2, ...).
    pub conn: usize,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body's length as received (also when it was too large to store).
    pub body_len: usize,
}

impl Request {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as `application/x-www-form-urlencoded` pairs.
    pub fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body).into_owned().collect()
    }

    /// The first form value of that name.
    pub fn form_value(&self, name: &str) -> Option<String> {
        self.form().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The query as pairs.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.query.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect()
    }
}

pub type Handler = Arc<dyn Fn(&Request) -> Action + Send + Sync>;

#[derive(Clone)]
enum Route {
    Fixed(Action),
    Handler(Handler),
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    requests: Vec<Request>,
}

/// The hostile provider. Dropping it stops accepting connections.
pub struct HostileServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl HostileServer {
    /// A provider advertising RS256, ES256, ES384 and EdDSA ID tokens, with the stub keys
    /// of tests/keys in its JWKS and every endpoint soidc calls.
    pub fn start() -> HostileServer {
        Self::with_algs(&["RS256", "ES256", "ES384", "EdDSA"])
    }

    /// A provider advertising exactly `algs` as ID token signing algorithms.
    pub fn with_algs(algs: &[&str]) -> HostileServer {
        let server = Self::bare();
        let mut doc = server.discovery_doc();
        doc["id_token_signing_alg_values_supported"] = json!(algs);
        server.set_json(DISCOVERY_PATH, 200, &doc);
        server.set_jwks(&jwks_of(&["stub-rs256", "stub-es256", "stub-es384", "stub-ed25519"]));
        server.set_json(
            TOKEN_PATH,
            400,
            &json!({"error": "invalid_grant", "error_description": "no token response set by the test"}),
        );
        server.set_json(USERINFO_PATH, 200, &json!({"sub": "user-1"}));
        server.set_json(INTROSPECTION_PATH, 200, &json!({"active": false}));
        server.set_json(REVOCATION_PATH, 200, &json!({}));
        server.set_json(
            DEVICE_PATH,
            200,
            &json!({
                "device_code": "dc-1", "user_code": "ABCD-EFGH",
                "verification_uri": server.url("/activate"), "expires_in": 600, "interval": 1
            }),
        );
        server
    }

    /// A server with no routes at all (every path answers 404): for "other hosts".
    pub fn bare() -> HostileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let server = HostileServer {
            addr,
            state: Arc::new(Mutex::new(State::default())),
            connections: Arc::new(AtomicUsize::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (state, connections, stop) =
            (server.state.clone(), server.connections.clone(), server.stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::Acquire) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let id = connections.fetch_add(1, Ordering::AcqRel) + 1;
                let state = state.clone();
                std::thread::spawn(move || serve_connection(conn, id, &state));
            }
        });
        server
    }

    /// `http://127.0.0.1:<port>`: the issuer of the default discovery document.
    pub fn issuer(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer())
    }

    /// The default discovery document (all endpoints on this server).
    pub fn discovery_doc(&self) -> Value {
        let base = self.issuer();
        json!({
            "issuer": base,
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}{TOKEN_PATH}"),
            "userinfo_endpoint": format!("{base}{USERINFO_PATH}"),
            "jwks_uri": format!("{base}{JWKS_PATH}"),
            "introspection_endpoint": format!("{base}{INTROSPECTION_PATH}"),
            "revocation_endpoint": format!("{base}{REVOCATION_PATH}"),
            "device_authorization_endpoint": format!("{base}{DEVICE_PATH}"),
            "end_session_endpoint": format!("{base}/logout"),
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256", "ES384", "EdDSA"],
            "userinfo_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "backchannel_logout_supported": true,
            "backchannel_logout_session_supported": true
        })
    }

    /// The current discovery document, as served.
    pub fn served_discovery(&self) -> Value {
        let st = self.state.lock().unwrap();
        match st.routes.get(DISCOVERY_PATH) {
            Some(Route::Fixed(Action::Reply(r))) => {
                serde_json::from_slice(&r.body).expect("discovery route is JSON")
            }
            _ => self.discovery_doc(),
        }
    }

    pub fn set(&self, path: &str, action: Action) {
        self.state.lock().unwrap().routes.insert(path.into(), Route::Fixed(action));
    }

    /// Computes the answer from each request.
    pub fn on(&self, path: &str, handler: impl Fn(&Request) -> Action + Send + Sync + 'static) {
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(path.into(), Route::Handler(Arc::new(handler)));
    }

    pub fn set_json(&self, path: &str, status: u16, body: &Value) {
        self.set(path, Action::json(status, body));
    }

    pub fn set_discovery(&self, doc: &Value) {
        self.set_json(DISCOVERY_PATH, 200, doc);
    }

    /// Changes members of the served discovery document.
    pub fn patch_discovery(&self, changes: &Value) {
        let mut doc = self.served_discovery();
        for (k, v) in changes.as_object().expect("an object of changes") {
            if v.is_null() {
                doc.as_object_mut().unwrap().remove(k);
            } else {
                doc[k] = v.clone();
            }
        }
        self.set_discovery(&doc);
    }

    pub fn set_jwks(&self, jwks: &Value) {
        self.set_json(JWKS_PATH, 200, jwks);
    }

    /// The token endpoint answers `body` with HTTP 200.
    pub fn set_token_response(&self, body: &Value) {
        self.set_json(TOKEN_PATH, 200, body);
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The requests to one path.
    pub fn requests_to(&self, path: &str) -> Vec<Request> {
        let st = self.state.lock().unwrap();
        st.requests.iter().filter(|r| r.path == path).cloned().collect()
    }

    pub fn count(&self, path: &str) -> usize {
        self.state.lock().unwrap().requests.iter().filter(|r| r.path == path).count()
    }

    pub fn request_count(&self) -> usize {
        self.state.lock().unwrap().requests.len()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Acquire)
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake the accept loop so that it sees the flag (not counted: the loop stops first).
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

/// Reads one request; `None` at EOF or on a broken request.
fn read_request(reader: &mut BufReader<TcpStream>, conn: usize) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    let mut body_len = 0usize;
    if header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line).ok()?;
            let size = usize::from_str_radix(size_line.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0u8; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body_len += size;
            if body.len() < MAX_STORED_BODY {
                body.extend_from_slice(&chunk[..size]);
            }
        }
    } else if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body_len = len;
        if len <= MAX_STORED_BODY {
            body = vec![0u8; len];
            reader.read_exact(&mut body).ok()?;
        } else {
            std::io::copy(&mut reader.by_ref().take(len as u64), &mut std::io::sink()).ok()?;
        }
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (target.clone(), None),
    };
    Some(Request { conn, method, path, query, headers, body, body_len })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

fn head(status: u16, headers: &[(String, String)], len: usize, close: bool) -> String {
    let mut h = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    h.push_str(&format!("Content-Length: {len}\r\n"));
    if close {
        h.push_str("Connection: close\r\n");
    }
    h.push_str("\r\n");
    h
}

/// Serves requests on one connection until the client closes it or an action ends it.
fn serve_connection(stream: TcpStream, conn: usize, state: &Mutex<State>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(15)));
    let mut out = match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    while let Some(req) = read_request(&mut reader, conn) {
        let client_closes = req.header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let route = {
            let mut st = state.lock().unwrap();
            let route = st.routes.get(&req.path).cloned();
            let mut stored = req.clone();
            if stored.body.len() > MAX_STORED_BODY {
                stored.body.clear();
            }
            st.requests.push(stored);
            route
        };
        let action = match route {
            Some(Route::Fixed(a)) => a,
            Some(Route::Handler(h)) => h(&req),
            None => Action::json(404, &json!({"error": "not_found", "path": req.path})),
        };
        let keep_going = match action {
            Action::Reply(r) => write_resp(&mut out, &r, client_closes),
            Action::Delay(d, r) => {
                std::thread::sleep(d);
                write_resp(&mut out, &r, client_closes)
            }
            Action::CloseMidBody { status, content_type, announced, sent } => {
                let h = head(status, &[("Content-Type".into(), content_type)], announced, true);
                let _ = out.write_all(h.as_bytes());
                let _ = out.write_all(&sent);
                let _ = out.flush();
                false
            }
            Action::Flood { status, content_type, len } => {
                let h = head(status, &[("Content-Type".into(), content_type)], len, false);
                let mut ok = out.write_all(h.as_bytes()).is_ok();
                let chunk = filler(64 * 1024);
                let mut left = len;
                while ok && left > 0 {
                    let n = left.min(chunk.len());
                    ok = out.write_all(&chunk[..n]).is_ok();
                    left -= n;
                }
                ok && !client_closes
            }
            Action::Trickle { resp, every } => {
                let h = head(resp.status, &resp.headers, resp.body.len(), true);
                let mut ok = out.write_all(h.as_bytes()).and_then(|_| out.flush()).is_ok();
                for b in &resp.body {
                    if !ok {
                        break;
                    }
                    std::thread::sleep(every);
                    ok = out.write_all(&[*b]).and_then(|_| out.flush()).is_ok();
                }
                false
            }
            Action::Hangup => false,
        };
        if !keep_going {
            let _ = out.shutdown(Shutdown::Both);
            return;
        }
    }
}

fn write_resp(out: &mut TcpStream, r: &Resp, close: bool) -> bool {
    let h = head(r.status, &r.headers, r.body.len(), close);
    let ok = out.write_all(h.as_bytes()).is_ok() && out.write_all(&r.body).is_ok() && out.flush().is_ok();
    ok && !close
}

/// `len` bytes that look like the inside of a JSON string.
fn filler(len: usize) -> Vec<u8> {
    let pattern = b"0123456789abcdefghijklmnopqrstuvwxyz";
    pattern.iter().copied().cycle().take(len).collect()
}

/// A loopback URL where nothing listens (a port just bound and released).
pub fn dead_url() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    drop(l);
    format!("http://{addr}")
}
