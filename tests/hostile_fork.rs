//! `fork()` after the client has made requests (the prefork-server pattern): the child
//! keeps using the client, and must open a connection of its own instead of writing to
//! the parent's pooled socket (soidc builds a new HTTP pool when the pid changes); the
//! parent's pooled connection must survive the child.
//!
//! fork() in a multi-threaded process is delicate: only the forking thread exists in
//! the child, and a lock another thread held at that moment stays locked forever. The
//! Rust test harness runs tests on worker threads, and the hostile server runs threads
//! too. So this binary has a single test, which re-executes itself (`std::process::
//! Command` on the same test binary, selected by an environment variable) as a *worker*
//! process that holds no server: in the worker only the harness's main thread (blocked
//! waiting for the test's result, holding no lock soidc uses) and the test thread exist
//! when it forks. Remaining risk, accepted and documented: ureq resolves host names on a
//! short-lived helper thread per request (its DNS timeout); one that has not finished
//! exiting at the moment of fork() is not in the child, and holds no soidc lock. A
//! deadlock in the child is turned into a failure by `alarm()`.
//!
//! The server (in the outer test process) records which TCP connection every request came
//! on; each request carries its phase in the bearer token, so the outer test can tell
//! which connection the parent, the child and the parent-after-fork used.

mod common;
mod hostile;

use common::ffi::{self, Params};
use hostile::rp::{self, CLIENT_ID, SECRET};
use hostile::server::{Action, HostileServer, USERINFO_PATH};
use serde_json::json;
use std::collections::HashMap;
use std::io::Write;
use std::process::Command;

const ROLE: &str = "SOIDC_HOSTILE_FORK_WORKER";
const ISSUER: &str = "SOIDC_HOSTILE_FORK_ISSUER";
const TEST_NAME: &str = "fork_after_requests_child_opens_its_own_connection";

/// The child's exit statuses.
const CHILD_OK: i32 = 0;
const CHILD_PANIC: i32 = 90;
const CHILD_BAD_DOC: i32 = 91;

#[test]
fn fork_after_requests_child_opens_its_own_connection() {
    if let Some(issuer) = std::env::var_os(ISSUER).filter(|_| std::env::var_os(ROLE).is_some()) {
        worker(&issuer.to_string_lossy());
        return;
    }
    let server = HostileServer::start();
    // UserInfo answers with the bearer token as the subject, so each phase is visible.
    server.on(USERINFO_PATH, |req| {
        let token = req.header("authorization").and_then(|a| a.strip_prefix("Bearer ")).unwrap_or("");
        Action::json(200, &json!({ "sub": token }))
    });
    let exe = std::env::current_exe().expect("current test binary");
    let out = Command::new(exe)
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(ROLE, "1")
        .env(ISSUER, server.issuer())
        .output()
        .expect("re-run the test binary as the worker");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "worker failed ({}):\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("WORKER child exited 0"), "the child's result is missing:\n{stdout}\n{stderr}");

    let conn: HashMap<String, usize> = server
        .requests_to(USERINFO_PATH)
        .iter()
        .map(|r| {
            let phase = r.header("authorization").unwrap_or("").trim_start_matches("Bearer ").to_owned();
            (phase, r.conn)
        })
        .collect();
    eprintln!("connections by phase: {conn:?}");
    let get = |phase: &str| *conn.get(phase).unwrap_or_else(|| panic!("no request for {phase}: {conn:?}"));
    let parent = get("parent-1");
    assert_eq!(get("parent-2"), parent, "the parent pools its connection (otherwise the test proves nothing): {conn:?}");
    assert_ne!(get("child-1"), parent, "the child wrote to the parent's pooled connection: {conn:?}");
    assert_eq!(get("child-2"), get("child-1"), "the child pools its own connection: {conn:?}");
    assert_eq!(get("parent-after"), parent, "the parent's pooled connection did not survive the child: {conn:?}");
    assert!(server.connections() >= 2);
}

/// The worker process: use the client, fork, use it in the child and in the parent.
fn worker(issuer: &str) {
    let client = ffi::client(
        issuer,
        Params { client_id: CLIENT_ID, client_secret: Some(SECRET), ..Default::default() },
    );
    for phase in ["parent-1", "parent-2"] {
        let v = rp::userinfo(client.0, phase, None).ok();
        assert_eq!(v["sub"], phase);
    }
    std::io::stdout().flush().unwrap();
    std::io::stderr().flush().unwrap();
    // SAFETY: fork() has no preconditions; see the module comment for the threads.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // The child: never unwind into the copy of the test harness; exit with a status.
        // SAFETY: alarm() is async-signal-safe; SIGALRM's default action ends a stuck child.
        unsafe { libc::alarm(20) };
        let code = std::panic::catch_unwind(|| {
            for phase in ["child-1", "child-2"] {
                let out = rp::userinfo(client.0, phase, None);
                if out.status != 0 {
                    return 10 + out.status;
                }
                let ok = out
                    .doc
                    .as_deref()
                    .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
                    .is_some_and(|v| v["sub"] == phase);
                if !ok {
                    return CHILD_BAD_DOC;
                }
            }
            CHILD_OK
        })
        .unwrap_or(CHILD_PANIC);
        // SAFETY: _exit skips the harness's atexit work, which belongs to the parent.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: pid is our child; status is valid storage.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid);
    assert!(libc::WIFEXITED(status), "the child did not exit normally (signal {})", libc::WTERMSIG(status));
    let code = libc::WEXITSTATUS(status);
    println!("WORKER child exited {code}");
    assert_eq!(code, CHILD_OK, "child failed: 10+status = soidc error, {CHILD_BAD_DOC} = wrong document, {CHILD_PANIC} = panic");
    let v = rp::userinfo(client.0, "parent-after", None).ok();
    assert_eq!(v["sub"], "parent-after");
}
