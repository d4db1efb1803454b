//! The client option `cache_dir`: the provider state kept per issuer in a file, read at
//! creation, refreshed when stale, trusted only with the right owner, mode and type,
//! and shared by parallel processes (one discovery and one JWKS fetch between them,
//! counted at the real provider). Through the C ABI.

mod common;

use common::ffi::{self, FfiClient, Params};
use common::jwt::{good_claims, sign};
use common::provider::{self, alice_id_token, client_secret, discovery_fetch_count, jwks_fetch_count};
use common::stub::{StubServer, DISCOVERY_PATH, JWKS_PATH};
use serde_json::{json, Value};
use soidc::ffi::status::*;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

/// Every log message of this process (the process-wide callback, installed once).
static LOGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

unsafe extern "C" fn log_cb(_level: c_int, message: *const c_char, _user_data: *mut c_void) {
    // SAFETY: soidc passes a NUL-terminated string valid for the call.
    let m = unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned();
    LOGS.lock().unwrap_or_else(|e| e.into_inner()).push(m);
}

fn install_log() {
    static ONCE: Once = Once::new();
    // SAFETY: a valid callback; no user data.
    ONCE.call_once(|| unsafe { soidc::ffi::util::soidc_set_log_callback(Some(log_cb), 5, std::ptr::null_mut()) });
}

/// The messages mentioning `needle` (a directory unique to one test).
fn logs_about(needle: &str) -> Vec<String> {
    LOGS.lock().unwrap().iter().filter(|m| m.contains(needle)).cloned().collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("soidc-cache-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn options(dir: &Path) -> String {
    json!({ "cache_dir": dir }).to_string()
}

fn stub_client(stub: &StubServer, dir: &Path) -> FfiClient {
    install_log();
    ffi::client(&stub.issuer(), Params { client_id: "rp", client_secret: Some("rp-secret"), options: Some(&options(dir)), ..Default::default() })
}

fn stub_token(stub: &StubServer) -> String {
    sign("RS256", "stub-rs256", &json!({}), &good_claims(&stub.issuer(), "rp", None))
}

fn requests(stub: &StubServer) -> (usize, usize) {
    (stub.count(DISCOVERY_PATH), stub.jwks_count())
}

/// The one state file in `dir`.
fn state_file(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

#[test]
fn a_fresh_file_makes_creation_and_decodes_request_free() {
    let stub = StubServer::new();
    let dir = temp_dir("fresh").join("nested");
    let first = stub_client(&stub, &dir);
    assert_eq!(requests(&stub), (1, 1), "cold: discovery and keys, once");
    let meta = std::fs::metadata(&dir).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o700, "a missing directory is created 0700");
    let file = state_file(&dir);
    let fmeta = std::fs::symlink_metadata(&file).unwrap();
    assert_eq!(fmeta.mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("rp-secret"), "no secret in the cache");
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["soidc_state"], 1);
    assert_eq!(doc["issuer"], stub.issuer());
    drop(first);

    for _ in 0..3 {
        let c = stub_client(&stub, &dir);
        assert_eq!(c.decode_id_token(&stub_token(&stub), None).ok()["sub"], "user-1");
    }
    assert_eq!(requests(&stub), (1, 1), "warm: no request at all");

    // The provider's discovery and JWKS endpoints down: a fresh cache still serves.
    stub.set_json(DISCOVERY_PATH, 503, &json!({}));
    stub.set_json(JWKS_PATH, 503, &json!({}));
    let c = stub_client(&stub, &dir);
    assert_eq!(c.decode_id_token(&stub_token(&stub), None).ok()["sub"], "user-1");
    assert_eq!(requests(&stub), (1, 1));
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

#[test]
fn stale_keys_are_refreshed_and_written_back() {
    let stub = StubServer::new();
    let dir = temp_dir("stale");
    drop(stub_client(&stub, &dir));
    let file = state_file(&dir);
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let now = common::now() as u64;
    doc["jwks_fetched_at"] = json!(now - 2000);
    doc["jwks_expires_at"] = json!(now - 1000);
    std::fs::write(&file, doc.to_string()).unwrap();
    let c = stub_client(&stub, &dir);
    assert_eq!(requests(&stub), (2, 2), "stale: refreshed at creation");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(doc["jwks_expires_at"].as_u64().unwrap() > now, "written back: {doc}");
    assert_eq!(c.decode_id_token(&stub_token(&stub), None).ok()["sub"], "user-1");

    // Stale keys and the provider down: the cached state still serves (its metadata is
    // recent), the keys stay in use.
    let mut doc = doc;
    doc["jwks_expires_at"] = json!(now - 1);
    doc["jwks_fetched_at"] = json!(now - 700);
    std::fs::write(&file, doc.to_string()).unwrap();
    stub.set_json(DISCOVERY_PATH, 503, &json!({}));
    stub.set_json(JWKS_PATH, 503, &json!({}));
    let c = stub_client(&stub, &dir);
    assert_eq!(c.decode_id_token(&stub_token(&stub), None).ok()["sub"], "user-1");
    assert!(!logs_about(&dir.to_string_lossy()).iter().filter(|m| m.contains("discovery failed")).collect::<Vec<_>>().is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Writes a valid state file, spoils it with `spoil`, and checks that the next client
/// ignores it (a new discovery and JWKS fetch) with a warning containing `warning`.
fn untrusted(name: &str, warning: &str, spoil: &dyn Fn(&Path)) {
    let stub = StubServer::new();
    let dir = temp_dir(name);
    drop(stub_client(&stub, &dir));
    let file = state_file(&dir);
    spoil(&file);
    let c = stub_client(&stub, &dir);
    assert_eq!(requests(&stub), (2, 2), "{name}: the file was not trusted");
    assert_eq!(c.decode_id_token(&stub_token(&stub), None).ok()["sub"], "user-1");
    let logs = logs_about(&file.to_string_lossy());
    assert!(logs.iter().any(|m| m.contains(warning)), "{name}: {logs:?}");
    // The file was replaced by a trusted one: the next client reads it.
    let meta = std::fs::symlink_metadata(&file).unwrap();
    assert!(meta.is_file() && meta.uid() == 0 && meta.mode() & 0o777 == 0o600, "{name}: rewritten");
    drop(stub_client(&stub, &dir));
    assert_eq!(requests(&stub), (2, 2), "{name}: the rewritten file is used");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_of_another_owner_is_ignored() {
    untrusted("owner", "owned by uid 65534", &|f| std::os::unix::fs::chown(f, Some(65534), Some(65534)).unwrap());
}

#[test]
fn a_group_or_world_writable_file_is_ignored() {
    untrusted("group", "writable by group or others", &|f| std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o620)).unwrap());
    untrusted("world", "writable by group or others", &|f| std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o602)).unwrap());
}

#[test]
fn a_symlink_is_ignored() {
    untrusted("symlink", "not a regular file", &|f| {
        let elsewhere = f.with_extension("elsewhere");
        std::fs::rename(f, &elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, f).unwrap();
    });
}

#[test]
fn a_tampered_or_foreign_file_is_ignored() {
    untrusted("tampered", "tampered", &|f| {
        let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        doc["metadata"]["issuer"] = json!("https://evil.example");
        std::fs::write(f, doc.to_string()).unwrap();
    });
    untrusted("truncated", "malformed JSON", &|f| {
        let text = std::fs::read_to_string(f).unwrap();
        std::fs::write(f, &text[..text.len() / 3]).unwrap();
    });
}

#[test]
fn an_unusable_directory_skips_caching_with_a_warning() {
    install_log();
    let stub = StubServer::new();
    // Below a regular file: the directory cannot be created.
    let base = temp_dir("unusable");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::write(base.join("file"), "x").unwrap();
    let below_file = base.join("file").join("sub");
    let c = stub_client(&stub, &below_file);
    assert_eq!(c.decode_id_token(&stub_token(&stub), None).ok()["sub"], "user-1");
    assert!(logs_about(&below_file.to_string_lossy()).iter().any(|m| m.contains("caching skipped")), "{:?}", LOGS.lock().unwrap());
    // A directory nobody may create files in (not even root): /proc/sys.
    let c = stub_client(&stub, Path::new("/proc/sys"));
    assert_eq!(c.decode_id_token(&stub_token(&stub), None).ok()["sub"], "user-1");
    assert!(logs_about("/proc/sys").iter().any(|m| m.contains("cannot write")), "{:?}", logs_about("/proc/sys"));
    // A directory that is a symlink: not used.
    let link = base.join("link");
    std::os::unix::fs::symlink("/tmp", &link).unwrap();
    drop(stub_client(&stub, &link));
    assert!(logs_about(&link.to_string_lossy()).iter().any(|m| m.contains("not a directory")));
    // Each client discovered for itself; the two that decoded fetched keys (the last one,
    // without a usable cache, fetches its keys only on first use and made none).
    assert_eq!(requests(&stub), (3, 2), "each client fetched for itself");
    std::fs::remove_dir_all(&base).unwrap();
}

// ---------------------------------------------------------------------------------------
// Parallel processes against the real provider
// ---------------------------------------------------------------------------------------

const CHILD_ENV: &str = "SOIDC_TEST_CACHE_CHILD";

/// One process of `parallel_processes_share_one_fetch`: creates a client with the cache
/// and decodes a token. Runs only as that test's child.
#[test]
#[ignore = "the child of parallel_processes_share_one_fetch"]
fn cache_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else { return };
    let spec: Value = serde_json::from_str(&spec).unwrap();
    let s = |k: &str| spec[k].as_str().unwrap().to_owned();
    let c = ffi::client(&s("issuer"), Params {
        client_id: "conf-basic",
        client_secret: Some(&s("secret")),
        options: Some(&json!({"cache_dir": s("dir")}).to_string()),
        ..Default::default()
    });
    assert_eq!(c.decode_id_token(&s("token"), None).ok()["sub"], "alice");
}

#[test]
fn parallel_processes_share_one_fetch() {
    let n: usize = std::env::var("SOIDC_TEST_PROCESSES").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let dir = temp_dir("parallel");
    let (token, _) = alice_id_token("conf-basic", None);
    let spec = json!({"issuer": provider::issuer(), "secret": client_secret("conf-basic"), "dir": dir, "token": token}).to_string();
    let exe = std::env::current_exe().unwrap();
    let run = |n: usize| {
        let children: Vec<_> = (0..n)
            .map(|_| {
                std::process::Command::new(&exe)
                    .args(["--ignored", "--exact", "cache_child", "--test-threads", "1", "--quiet"])
                    .env(CHILD_ENV, &spec)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            // Nothing printed by the library: stderr empty, stdout only the test harness's lines.
            common::assert_quiet_child(&child.wait_with_output().unwrap());
        }
    };
    let (d0, j0) = (discovery_fetch_count(), jwks_fetch_count());
    run(n);
    let cold = (discovery_fetch_count() - d0, jwks_fetch_count() - j0);
    run(n);
    let warm = (discovery_fetch_count() - d0 - cold.0, jwks_fetch_count() - j0 - cold.1);
    println!("{n} parallel processes, cold cache: {} discovery + {} JWKS requests; again, warm: {} + {}", cold.0, cold.1, warm.0, warm.1);
    assert_eq!(cold, (1, 1), "{n} processes with a cold cache: one discovery and one JWKS fetch");
    assert_eq!(warm, (0, 0), "warm: none");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn status_of_a_bad_cache_dir_option() {
    let stub = StubServer::new();
    for (opts, fragment) in [(r#"{"cache_dir": ""}"#, "cache_dir must not be empty"), (r#"{"cache_dir": 5}"#, "cache_dir")] {
        let (out, c) = ffi::from_issuer_url(&stub.issuer(), Params { client_id: "rp", options: Some(opts), ..Default::default() });
        assert!(c.is_none());
        out.err(SOIDC_ERR_INVALID_ARGUMENT, fragment);
    }
    assert_eq!(requests(&stub), (0, 0));
}

#[test]
fn a_held_lock_is_waited_for_at_most_half_the_creation_budget() {
    install_log();
    let stub = StubServer::new();
    let dir = temp_dir("held");
    drop(stub_client(&stub, &dir));
    let file = state_file(&dir);
    std::fs::remove_file(&file).unwrap();
    let lock_path = file.with_extension("lock");
    // Another holder of the lock (a separate open file description conflicts even in
    // this process).
    let holder = std::fs::OpenOptions::new().read(true).write(true).open(&lock_path).unwrap();
    holder.lock().unwrap();
    let started = std::time::Instant::now();
    let opts = json!({"cache_dir": dir, "create_timeout_ms": 2000}).to_string();
    let c = ffi::client(&stub.issuer(), Params { client_id: "rp", client_secret: Some("rp-secret"), options: Some(&opts), ..Default::default() });
    let waited = started.elapsed();
    assert!(waited >= std::time::Duration::from_millis(950) && waited < std::time::Duration::from_millis(1900), "{waited:?}");
    assert_eq!(requests(&stub), (2, 2), "it fetched by itself after waiting");
    assert_eq!(c.decode_id_token(&stub_token(&stub), None).ok()["sub"], "user-1");
    assert!(logs_about(&lock_path.to_string_lossy()).iter().any(|m| m.contains("still held")));
    holder.unlock().unwrap();
    drop(holder);

    // A lock file of another owner is not used (it could be held forever).
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::chown(&lock_path, Some(65534), Some(65534)).unwrap();
    drop(stub_client(&stub, &dir));
    assert!(logs_about(&lock_path.to_string_lossy()).iter().any(|m| m.contains("not owned")));
    assert_eq!(requests(&stub), (3, 3));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_recorded_outage_fails_fast_for_provider_down_backoff_s() {
    install_log();
    let stub = StubServer::new();
    let dir = temp_dir("down");
    let watch = json!({"cache_dir": dir, "provider_down_backoff_s": 60, "timeout_ms": 400, "create_timeout_ms": 400}).to_string();
    let create = |opts: &str| {
        ffi::from_issuer_url(&stub.issuer(), Params { client_id: "rp", client_secret: Some("rp-secret"), options: Some(opts), ..Default::default() })
    };
    // Discovery answers after the budget: a network failure, recorded next to the state.
    let doc = stub.discovery_doc();
    stub.set_route(DISCOVERY_PATH, common::stub::Route::json(200, &doc).with_delay(std::time::Duration::from_secs(2)));
    let (out, c) = create(&watch);
    assert!(c.is_none());
    out.err(SOIDC_ERR_NETWORK, "");
    assert_eq!(stub.count(DISCOVERY_PATH), 1);
    let down: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "down")).collect();
    assert_eq!(down.len(), 1, "{down:?}");
    let down = down[0].clone();
    assert_eq!(std::fs::metadata(&down).unwrap().mode() & 0o777, 0o600);

    // Within the back-off: refused at once, nothing sent, whatever the provider does now.
    stub.set_route(DISCOVERY_PATH, common::stub::Route::json(200, &doc));
    let (out, c) = create(&watch);
    assert!(c.is_none());
    let err = out.err(SOIDC_ERR_NETWORK, "provider_down_backoff_s");
    assert_eq!(err["reason"], "provider_down");
    assert_eq!(stub.count(DISCOVERY_PATH), 1, "no request while the provider is recorded down");

    // A client without the option neither reads nor clears the record.
    drop(ffi::client(&stub.issuer(), Params { client_id: "rp", client_secret: Some("rp-secret"), options: Some(&options(&dir)), ..Default::default() }));
    assert_eq!(stub.count(DISCOVERY_PATH), 2);
    assert!(down.exists());

    // A client made from the (now fresh) state file makes no request at creation; its
    // first request is refused while the record is young.
    let (_, c) = create(&watch);
    let c = c.expect("created from the state file");
    assert_eq!(stub.count(DISCOVERY_PATH), 2);
    let jwks_before = stub.jwks_count();
    let err = c.provider_keys(Some(r#"{"force_refresh": true}"#)).err(SOIDC_ERR_NETWORK, "not sent");
    assert_eq!(err["reason"], "provider_down");
    assert_eq!(stub.jwks_count(), jwks_before, "the key refresh was not sent");
    drop(c);

    // A record older than the back-off: the provider is asked again, and its answer clears it.
    let old = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 120;
    std::fs::write(&down, old.to_string()).unwrap();
    std::fs::remove_file(state_file(&dir)).unwrap();
    let (_, c) = create(&watch);
    assert!(c.is_some());
    assert_eq!(stub.count(DISCOVERY_PATH), 3);
    assert!(!down.exists(), "the provider answered: record removed");
    assert!(logs_about(&down.to_string_lossy()).iter().any(|m| m.contains("removed")));

    // A record another user could have written is not trusted.
    std::fs::write(&down, (old + 120).to_string()).unwrap();
    std::fs::set_permissions(&down, std::fs::Permissions::from_mode(0o666)).unwrap();
    std::fs::remove_file(state_file(&dir)).unwrap();
    let (_, c) = create(&watch);
    assert!(c.is_some(), "an untrusted record is ignored");
    assert!(logs_about(&down.to_string_lossy()).iter().any(|m| m.contains("ignored")));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn status_of_a_bad_provider_down_backoff_s() {
    let stub = StubServer::new();
    let dir = temp_dir("down-bad");
    for (opts, fragment) in [
        (json!({"cache_dir": dir, "provider_down_backoff_s": 0}), "between 1 and 3600"),
        (json!({"cache_dir": dir, "provider_down_backoff_s": 3601}), "between 1 and 3600"),
        (json!({"provider_down_backoff_s": 30}), "needs cache_dir"),
        (json!({"cache_dir": dir, "provider_down_backoff_s": "30"}), "provider_down_backoff_s"),
    ] {
        let opts = opts.to_string();
        let (out, c) = ffi::from_issuer_url(&stub.issuer(), Params { client_id: "rp", options: Some(&opts), ..Default::default() });
        assert!(c.is_none());
        out.err(SOIDC_ERR_INVALID_ARGUMENT, fragment);
    }
    assert_eq!(requests(&stub), (0, 0));
}
