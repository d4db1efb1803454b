//! soidc benchmark helper (bench/run.sh drives it; it is not part of the library).
//!
//! Subcommands (figures are printed as `R <key> <value>` lines for run.sh):
//!   gen <keys_dir> <out_dir>               sign the benchmark tokens with the committed stub keys
//!   raw <dir> <secs> <threads>             the limit (aws-lc-rs ParsedPublicKey::verify_sig) in this
//!                                          process; decode_bench times it in alternation with soidc
//!   openidconnect <dir> <secs>             peer: the openidconnect crate's ID token verifier
//!   serve <dir>                            keep-alive HTTP stub: /jwks*.json, /token, /stats
//!   ureq <url> <secs>                      plain keep-alive client (one ureq agent), CPU per request
//!   ureq-timeout <url> <secs>              the same with a global timeout set on the agent
//!   ureq-timeout-resolver <url> <secs>     the same with a resolver that answers IP literals itself
//!   wrk <url> <secs> <lua>                 `wrk -t1 -c1` against the same endpoint, CPU per request
//!
//! Every timed run first warms up, then counts operations until `secs` have passed; rates
//! are printed per wall-clock second and per CPU-second (key suffix `.cpu`).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair,
};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};
use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The benchmark's fixed identities: the same for every peer.
const ISSUER: &str = "https://op.bench.soidc.test";
const CLIENT_ID: &str = "soidc-bench-client";
const CLIENT_SECRET: &str = "soidc-bench-secret-0123456789abcdef";
const NONCE: &str = "n-0S6_WzA2Mj-bench-nonce-7bV1";
const API_AUDIENCE: &str = "https://api.bench.soidc.test";
use soidc_bench_limit::ALGS;
/// The three-key JWKS (`jwks3.json`), in this order: a second RSA key, the EC key, the RS256
/// token's key. Every key has a kid, `use` and `alg`, as providers publish them.
const JWKS3: [&str; 3] = ["stub-rs256-b", "stub-es256", "stub-rs256"];
/// The token algorithms measured with `jwks3.json` (their key is in it, not first).
const JWKS3_ALGS: [&str; 2] = ["RS256", "ES256"];
/// DPoP proofs generated; the bench client's replay cache holds fewer (see decode_bench.c),
/// so each proof has been evicted by the time it comes round again.
const DPOP_PROOFS: usize = 4096;
/// The resource the DPoP proofs are for (method GET).
const DPOP_URI: &str = "https://api.bench.soidc.test/items";

fn die(msg: impl std::fmt::Display) -> ! {
    eprintln!("soidc-bench: {msg}");
    std::process::exit(1)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| die(format!("{}: {e}", path.display())))
}

fn write(path: &Path, data: &str) {
    std::fs::write(path, data).unwrap_or_else(|e| die(format!("{}: {e}", path.display())))
}

fn pem_to_der(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(b64.trim()).unwrap_or_else(|e| die(format!("bad PEM: {e}")))
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

// ---------------------------------------------------------------- gen

fn sign(alg: &str, der: &[u8], input: &[u8]) -> Vec<u8> {
    let rng = SystemRandom::new();
    match alg {
        "RS256" => {
            let kp = RsaKeyPair::from_pkcs8(der).unwrap_or_else(|e| die(format!("RSA key: {e}")));
            let mut sig = vec![0u8; kp.public_modulus_len()];
            kp.sign(&signature::RSA_PKCS1_SHA256, &rng, input, &mut sig).unwrap();
            sig
        }
        "ES256" => {
            let kp = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der)
                .unwrap_or_else(|e| die(format!("EC key: {e}")));
            kp.sign(&rng, input).unwrap().as_ref().to_vec()
        }
        "EdDSA" => {
            let kp = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                .unwrap_or_else(|e| die(format!("Ed25519 key: {e}")));
            let _ = kp.public_key();
            kp.sign(input).as_ref().to_vec()
        }
        _ => unreachable!(),
    }
}

fn jws(alg: &str, kid: &str, typ: &str, claims: &Value, der: &[u8]) -> String {
    let header = json!({"alg": alg, "typ": typ, "kid": kid});
    let input = format!(
        "{}.{}",
        b64(serde_json::to_string(&header).unwrap().as_bytes()),
        b64(serde_json::to_string(claims).unwrap().as_bytes())
    );
    let sig = sign(alg, der, input.as_bytes());
    format!("{input}.{}", b64(&sig))
}

/// Writes into out_dir: `<ALG>.jwt` (ID tokens), `at.jwt` (RFC 9068 access token,
/// RS256), `at-dpop.jwt` and `dpop-proofs.txt` (see [`dpop`]), `jwks.json` (the three public stub keys,
/// one per algorithm), `jwks1-<ALG>.json` (the token's key alone), `jwks3.json` (see JWKS3), `params.json` (what peers check
/// against) and `token-response.json` (the stub token endpoint's fixed answer).
fn gen(keys: &Path, out: &Path) {
    std::fs::create_dir_all(out).unwrap_or_else(|e| die(e));
    let iat = now();
    let exp = iat + 10 * 365 * 86_400; // far in the future: every run can reuse the tokens
    let mut jwks = Vec::new();
    for (alg, stem) in ALGS {
        let der = pem_to_der(&read(&keys.join(format!("{stem}.pem"))));
        let jwk: Value = serde_json::from_str(&read(&keys.join(format!("{stem}.pub.jwk.json"))))
            .unwrap_or_else(|e| die(e));
        jwks.push(jwk);
        // A realistic ID token as a provider issues it after a code flow with
        // scope "openid profile email".
        let claims = json!({
            "iss": ISSUER,
            "sub": "248289761001",
            "aud": CLIENT_ID,
            "exp": exp,
            "iat": iat,
            "auth_time": iat - 42,
            "nonce": NONCE,
            "at_hash": "77QmUPtjPfzWtF2AnpK9RQ",
            "sid": "08a5019c-17e1-4977-8f42-65a12843ea02",
            "azp": CLIENT_ID,
            "acr": "urn:mace:incommon:iap:silver",
            "amr": ["pwd", "otp"],
            "email": "jane.doe@example.test",
            "email_verified": true,
            "name": "Jane Doe",
            "given_name": "Jane",
            "family_name": "Doe",
            "preferred_username": "jdoe",
            "locale": "en-GB",
            "zoneinfo": "Europe/London",
            "updated_at": iat - 86_400,
        });
        let token = jws(alg, stem, "JWT", &claims, &der);
        write(&out.join(format!("{alg}.jwt")), &token);
        if alg == "RS256" {
            let at_claims = json!({
                "iss": ISSUER,
                "sub": "248289761001",
                "aud": API_AUDIENCE,
                "client_id": CLIENT_ID,
                "scope": "openid profile email api:read",
                "jti": "a3b0c8e2-5f2d-4c1e-9a7b-0d6e5f4a3b21",
                "iat": iat,
                "exp": exp,
                "auth_time": iat - 42,
            });
            let at = jws(alg, stem, "at+jwt", &at_claims, &der);
            write(&out.join("at.jwt"), &at);
            dpop(keys, out, &at_claims, stem, &der);
            // The stub token endpoint's fixed answer (~1 KB, like a real one).
            let resp = json!({
                "access_token": at,
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "api:read",
                "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                "refresh_expires_in": 0,
                "not-before-policy": 0,
                "session_state": "6f1c2a9e-3b4d-4e8f-a1b2-c3d4e5f60718",
            });
            write(&out.join("token-response.json"), &serde_json::to_string(&resp).unwrap());
        }
    }
    write(&out.join("jwks.json"), &serde_json::to_string_pretty(&json!({ "keys": jwks })).unwrap());
    // The key sets the peer rows are measured with: `jwks1-<ALG>.json` holds only the
    // token's key; `jwks3.json` is what a real provider publishes, several keys with kids,
    // here two RSA keys and one EC key, the token's key not first ([rs256-b, es256, rs256]:
    // the RS256 token's key comes last, the ES256 token's in the middle).
    for ((alg, _), jwk) in ALGS.iter().zip(&jwks) {
        write(&out.join(format!("jwks1-{alg}.json")), &serde_json::to_string_pretty(&json!({ "keys": [jwk] })).unwrap());
    }
    let jwk_of = |stem: &str| -> Value {
        serde_json::from_str(&read(&keys.join(format!("{stem}.pub.jwk.json")))).unwrap_or_else(|e| die(e))
    };
    let three = json!({ "keys": [jwk_of(JWKS3[0]), jwk_of(JWKS3[1]), jwk_of(JWKS3[2])] });
    write(&out.join("jwks3.json"), &serde_json::to_string_pretty(&three).unwrap());
    let params = json!({
        "issuer": ISSUER, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "nonce": NONCE, "api_audience": API_AUDIENCE,
        "algs": ALGS.iter().map(|(a, _)| *a).collect::<Vec<_>>(),
        // the algorithms whose token's key is in jwks3.json (an EdDSA token has no key there)
        "algs3": JWKS3_ALGS,
    });
    write(&out.join("params.json"), &serde_json::to_string_pretty(&params).unwrap());
}

/// DPoP at the resource server (RFC 9449): `at-dpop.jwt`, the claims of `at.jwt` bound with
/// `cnf.jkt` to the ES256 key tests/keys/client-es256, and `dpop-proofs.txt`, DPOP_PROOFS
/// distinct ES256 proofs of that key (GET DPOP_URI, `ath` of that token), one per line.
fn dpop(keys: &Path, out: &Path, at_claims: &Value, stem: &str, der: &[u8]) {
    let key_der = pem_to_der(&read(&keys.join("client-es256.pem")));
    let full: Value = serde_json::from_str(&read(&keys.join("client-es256.pub.jwk.json"))).unwrap_or_else(|e| die(e));
    let jwk = json!({"kty": full["kty"], "crv": full["crv"], "x": full["x"], "y": full["y"]});
    // RFC 7638: required members in lexicographic order (jwk's members are strings).
    let canon = format!(r#"{{"crv":{},"kty":{},"x":{},"y":{}}}"#, jwk["crv"], jwk["kty"], jwk["x"], jwk["y"]);
    let jkt = b64(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canon.as_bytes()).as_ref());
    let mut claims = at_claims.clone();
    claims["cnf"] = json!({ "jkt": jkt });
    let at = jws("RS256", stem, "at+jwt", &claims, der);
    write(&out.join("at-dpop.jwt"), &at);
    let ath = b64(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, at.as_bytes()).as_ref());
    let header = b64(serde_json::to_string(&json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk})).unwrap().as_bytes());
    let iat = now();
    let mut lines = String::new();
    for i in 0..DPOP_PROOFS {
        let c = json!({"jti": format!("bench-{iat}-{i}"), "htm": "GET", "htu": DPOP_URI, "iat": iat, "ath": ath});
        let input = format!("{header}.{}", b64(serde_json::to_string(&c).unwrap().as_bytes()));
        let sig = sign("ES256", &key_der, input.as_bytes());
        lines.push_str(&format!("{input}.{}\n", b64(&sig)));
    }
    write(&out.join("dpop-proofs.txt"), &lines);
}

// ---------------------------------------------------------------- timing

/// Process CPU time (user + system, all threads), seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes into the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// `threads` threads each warm up for 150 ms, then all run `op` for `secs`. Prints
/// `R <key> <ops/s>` (wall clock, summed over threads) and `R <key>.cpu <ops per
/// CPU-second x threads>` (the rate with a core per thread: robust to a shared machine).
fn measure<F: Fn() + Sync>(key: &str, secs: f64, threads: usize, op: F) {
    let barrier = std::sync::Barrier::new(threads + 1);
    let limit = Duration::from_secs_f64(secs);
    let (wall, total, cpu) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let warm = Instant::now();
                    while warm.elapsed() < Duration::from_millis(150) {
                        op();
                    }
                    barrier.wait();
                    let start = Instant::now();
                    let mut n = 0u64;
                    loop {
                        op();
                        n += 1;
                        if start.elapsed() >= limit {
                            break;
                        }
                    }
                    (n, start.elapsed().as_secs_f64())
                })
            })
            .collect();
        barrier.wait();
        let cpu0 = cpu_seconds();
        let results: Vec<(u64, f64)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let cpu = cpu_seconds() - cpu0;
        let wall: f64 = results.iter().map(|(n, el)| *n as f64 / el).sum();
        let total: u64 = results.iter().map(|(n, _)| n).sum();
        (wall, total, cpu)
    });
    println!("R {key} {wall:.1}");
    println!("R {key}.cpu {:.1}", total as f64 * threads as f64 / cpu);
}

fn load_tokens(dir: &Path) -> Vec<(&'static str, String)> {
    ALGS.iter().map(|(alg, _)| (*alg, read(&dir.join(format!("{alg}.jwt"))).trim().to_owned())).collect()
}

// ---------------------------------------------------------------- raw limit

fn raw(dir: &Path, secs: f64, threads: usize) {
    for p in soidc_bench_limit::prepare(dir).unwrap_or_else(|e| die(e)) {
        measure(&format!("rawproc.{}.t{threads}", p.alg), secs, threads, || {
            assert!(black_box(&p).verify());
        });
    }
}

// ---------------------------------------------------------------- openidconnect peer

fn openidconnect_peer(dir: &Path, secs: f64) {
    use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
    use openidconnect::{ClientId, IssuerUrl, Nonce};
    let nonce = Nonce::new(NONCE.into());
    // Per token: the key set of the token's key alone (key `openidconnect.<ALG>`), then, for
    // the algorithms in JWKS3_ALGS, the provider-like three-key set (`openidconnect.k3.<ALG>`).
    let mut runs: Vec<(String, &'static str, String, String)> = Vec::new();
    for (alg, token) in load_tokens(dir) {
        runs.push((format!("openidconnect.{alg}"), alg, format!("jwks1-{alg}.json"), token));
    }
    for (alg, token) in load_tokens(dir) {
        if JWKS3_ALGS.contains(&alg) {
            runs.push((format!("openidconnect.k3.{alg}"), alg, "jwks3.json".into(), token));
        }
    }
    for (key, alg, jwks_file, token) in runs {
        let jwks: CoreJsonWebKeySet = serde_json::from_str(&read(&dir.join(&jwks_file))).unwrap_or_else(|e| die(e));
        let verifier = CoreIdTokenVerifier::new_public_client(
            ClientId::new(CLIENT_ID.into()),
            IssuerUrl::new(ISSUER.into()).unwrap(),
            jwks,
        )
        .set_allowed_algs([
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            CoreJwsSigningAlgorithm::EdDsa,
        ]);
        // Full decode per token: parse the compact JWT, verify signature and claims.
        let decode = || {
            let t: CoreIdToken = token.parse().unwrap_or_else(|e| die(format!("{alg}: {e:?}")));
            let claims = t.claims(&verifier, &nonce).map(|c| c.subject().len());
            black_box(claims)
        };
        if let Err(e) = decode() {
            println!("R {key} rejected");
            eprintln!("openidconnect rejects the {alg} token ({jwks_file}): {e}");
            continue;
        }
        measure(&key, secs, 1, || {
            decode().unwrap();
        });
    }
}

// ---------------------------------------------------------------- HTTP stub

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    token_connections: AtomicU64,
    token_requests: AtomicU64,
    jwks_requests: AtomicU64,
    other_requests: AtomicU64,
}

fn response(status: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// Serves one keep-alive connection until the peer closes it.
fn serve_conn(stream: TcpStream, c: &Counters, token_resp: &[u8], jwks: &[(String, Vec<u8>)]) {
    let _ = stream.set_nodelay(true);
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::with_capacity(16 * 1024, stream);
    let mut line = String::new();
    let mut counted_token_conn = false;
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let mut content_length = 0usize;
        let mut close = false;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let v = v.trim();
                if k.eq_ignore_ascii_case("content-length") {
                    content_length = v.parse().unwrap_or(0);
                } else if k.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close") {
                    close = true;
                }
            }
        }
        let mut body = vec![0u8; content_length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let path = path.split('?').next().unwrap_or("");
        let stats;
        let out: &[u8] = match path {
            "/token" => {
                c.token_requests.fetch_add(1, Ordering::Relaxed);
                if !counted_token_conn {
                    counted_token_conn = true;
                    c.token_connections.fetch_add(1, Ordering::Relaxed);
                }
                token_resp
            }
            p if jwks.iter().any(|(name, _)| name == p) => {
                c.jwks_requests.fetch_add(1, Ordering::Relaxed);
                &jwks.iter().find(|(name, _)| name == p).unwrap().1
            }
            "/stats" => {
                let doc = json!({
                    "connections": c.connections.load(Ordering::Relaxed),
                    "token_connections": c.token_connections.load(Ordering::Relaxed),
                    "token_requests": c.token_requests.load(Ordering::Relaxed),
                    "jwks_requests": c.jwks_requests.load(Ordering::Relaxed),
                    "other_requests": c.other_requests.load(Ordering::Relaxed),
                });
                stats = response("200 OK", "application/json", doc.to_string().as_bytes());
                &stats
            }
            _ => {
                c.other_requests.fetch_add(1, Ordering::Relaxed);
                stats = response("404 Not Found", "application/json", b"{\"error\":\"not_found\"}");
                &stats
            }
        };
        if writer.write_all(out).is_err() || close {
            return;
        }
    }
}

/// Binds 127.0.0.1 on a free port, writes `<dir>/port`, serves until killed
/// (or until stdin closes, so it never outlives run.sh).
fn serve(dir: &Path) {
    let token_body = read(&dir.join("token-response.json"));
    let token_resp: &'static [u8] = Box::leak(response("200 OK", "application/json", token_body.as_bytes()).into_boxed_slice());
    // Every key set gen wrote (jwks.json, jwks1-<ALG>.json, jwks3.json) at /<file name>.
    let mut sets = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| die(e)) {
        let name = entry.unwrap_or_else(|e| die(e)).file_name().to_string_lossy().into_owned();
        if name.starts_with("jwks") && name.ends_with(".json") {
            let body = read(&dir.join(&name));
            sets.push((format!("/{name}"), response("200 OK", "application/json", body.as_bytes())));
        }
    }
    let jwks_resp: &'static [(String, Vec<u8>)] = Box::leak(sets.into_boxed_slice());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| die(e));
    let port = listener.local_addr().unwrap().port();
    let tmp = dir.join("port.tmp");
    write(&tmp, &port.to_string());
    std::fs::rename(&tmp, dir.join("port")).unwrap();
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        std::process::exit(0);
    });
    let counters: &'static Counters = Box::leak(Box::default());
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        counters.connections.fetch_add(1, Ordering::Relaxed);
        std::thread::spawn(move || serve_conn(stream, counters, token_resp, jwks_resp));
    }
}

// ---------------------------------------------------------------- plain HTTP clients

/// A resolver that answers IP-literal hosts itself (no getaddrinfo, no thread) and hands
/// names to ureq's DefaultResolver: what the diagnostic row `ureq_timeout_resolver` shows
/// a soidc agent with timeouts would cost with such a resolver.
#[derive(Debug, Default)]
struct LiteralFirstResolver(ureq::unversioned::resolver::DefaultResolver);

impl ureq::unversioned::resolver::Resolver for LiteralFirstResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        if let (Some(host), Some(port)) = (uri.host(), uri.port_u16().or(match uri.scheme_str() {
            Some("https") => Some(443),
            Some("http") => Some(80),
            _ => None,
        })) {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = host.parse::<std::net::IpAddr>() {
                let mut out = self.empty();
                out.push(std::net::SocketAddr::new(ip, port));
                return Ok(out);
            }
        }
        self.0.resolve(uri, config, timeout)
    }
}

/// One ureq agent, keep-alive, the same form POST with Basic authentication
/// soidc sends for a client credentials grant; the body is read, not parsed.
/// `variant`: "ureq" (default config), "ureq_timeout" (a global timeout, as soidc's
/// agent has: ureq 3.5 then resolves the host on a new thread for every request), or
/// "ureq_timeout_resolver" (the same with `LiteralFirstResolver`).
fn ureq_loop(url: &str, secs: f64, variant: &str) {
    let name = variant;
    let mut config = ureq::Agent::config_builder();
    if variant != "ureq" {
        config = config.timeout_global(Some(Duration::from_secs(30)));
    }
    let agent: ureq::Agent = if variant == "ureq_timeout_resolver" {
        ureq::Agent::with_parts(
            config.build(),
            ureq::unversioned::transport::DefaultConnector::new(),
            LiteralFirstResolver::default(),
        )
    } else {
        config.build().new_agent()
    };
    let auth = format!("Basic {}", STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}")));
    let body = "grant_type=client_credentials&scope=api%3Aread";
    let call = || {
        let mut resp = agent
            .post(url)
            .header("Authorization", &auth)
            .header("Accept", "application/json")
            .content_type("application/x-www-form-urlencoded")
            .send(body.as_bytes())
            .unwrap_or_else(|e| die(format!("ureq: {e}")));
        let bytes = resp.body_mut().read_to_vec().unwrap_or_else(|e| die(e));
        black_box(bytes.len());
    };
    for _ in 0..200 {
        call();
    }
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs_f64(secs) {
        call();
        n += 1;
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    println!("R http.{name}.rps {:.1}", n as f64 / wall);
    println!("R http.{name}.cpu_us {:.2}", cpu / n as f64 * 1e6);
}

/// `wrk -t1 -c1` with a Lua script that sends the same POST; CPU from wait4.
fn wrk(url: &str, secs: f64, lua: &str) {
    use std::process::{Command, Stdio};
    let mut child = Command::new("wrk")
        .args(["-t1", "-c1", &format!("-d{}s", secs.ceil() as u64), "-s", lua, url])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| die(format!("wrk: {e}")));
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    let mut status = 0;
    // SAFETY: reaping our own child; the rusage struct is ours.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as i32;
    if unsafe { libc::wait4(pid, &mut status, 0, &mut ru) } != pid {
        die("wait4 failed");
    }
    std::mem::forget(child);
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = tv(ru.ru_utime) + tv(ru.ru_stime);
    let requests: f64 = out
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| die(format!("cannot read wrk output:\n{out}")));
    let rps: f64 = out
        .lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    if out.contains("Non-2xx") {
        die(format!("wrk got errors:\n{out}"));
    }
    println!("R http.wrk.rps {rps:.1}");
    println!("R http.wrk.cpu_us {:.2}", cpu / requests * 1e6);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_else(|| die("missing argument; see the source header"));
    let secs = |i: usize| arg(i).parse::<f64>().unwrap_or_else(|e| die(e));
    match arg(1).as_str() {
        "gen" => gen(&PathBuf::from(arg(2)), &PathBuf::from(arg(3))),
        "raw" => raw(&PathBuf::from(arg(2)), secs(3), arg(4).parse().unwrap_or_else(|e| die(e))),
        "openidconnect" => openidconnect_peer(&PathBuf::from(arg(2)), secs(3)),
        "serve" => serve(&PathBuf::from(arg(2))),
        "ureq" => ureq_loop(&arg(2), secs(3), "ureq"),
        "ureq-timeout" => ureq_loop(&arg(2), secs(3), "ureq_timeout"),
        "ureq-timeout-resolver" => ureq_loop(&arg(2), secs(3), "ureq_timeout_resolver"),
        "wrk" => wrk(&arg(2), secs(3), &arg(4)),
        other => die(format!("unknown subcommand {other}")),
    }
}
