//! Provider state that outlives a client: the discovery document and the JWKS with
//! the wall-clock times they were fetched and may be used until, as one versioned
//! JSON document (`soidc_client_export_state` / `soidc_client_from_state`), and the
//! file cache of the client option `cache_dir` that keeps that document per issuer.
//!
//! The document (version 1):
//!
//! ```json
//! {"soidc_state": 1, "issuer": "https://op.example", "metadata": {...},
//!  "metadata_fetched_at": 1796000000, "jwks": {"keys": [...]},
//!  "jwks_fetched_at": 1796000000, "jwks_expires_at": 1796000600}
//! ```
//!
//! Times are seconds since the Unix epoch (an `Instant` means nothing to another
//! process). The three `jwks*` members are present together or not at all (a client
//! that has not fetched its keys yet exports none). Nothing secret is ever in it.
//!
//! Reading is strict: at most 1 MiB, no duplicate or unknown members, version 1,
//! the metadata's `issuer` equal to the document's `issuer` equal to the expected
//! issuer, times that make sense (not in the future, expiry after fetch, a JWKS
//! lifetime of at most a day), the metadata at most [`MAX_STATE_AGE_S`] old, and at
//! least one usable key. Keys past `jwks_expires_at` are accepted: they are used
//! (a `cache_only` decode uses them) and refreshed on first use that may fetch.

use crate::core::error::{quote_untrusted, Error, Result};
use crate::core::keys::{KeySet, KeysExport};
use crate::core::jose::Alg;
use crate::core::log::Level;
use crate::core::metadata::ProviderMetadata;
use crate::log_at;
use serde_json::{json, Map, Value};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::sync::atomic::{AtomicU64, Ordering};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The version this library writes and the only one it reads.
pub const STATE_VERSION: u64 = 1;
/// State documents (and imported key sets) larger than this are refused.
pub const MAX_STATE_BYTES: usize = 1024 * 1024;
/// Provider metadata older than this (since `metadata_fetched_at`) makes a state stale:
/// it is refused, and the cache file is refreshed by a new discovery.
pub const MAX_STATE_AGE_S: u64 = 86_400;
/// How far in the future a time in a state may lie (clock differences between hosts).
const CLOCK_SKEW_S: u64 = 300;

const MEMBERS: [&str; 7] =
    ["soidc_state", "issuer", "metadata", "metadata_fetched_at", "jwks", "jwks_fetched_at", "jwks_expires_at"];

pub fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn from_unix(s: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(s)
}

/// A state document, checked.
pub struct State {
    pub metadata: ProviderMetadata,
    pub metadata_doc: Value,
    pub metadata_fetched_at: SystemTime,
    /// `None`: the state carries no keys.
    pub keys: Option<KeysExport>,
}

impl State {
    /// Whether it can be used without any request: keys present and not expired.
    pub fn keys_fresh(&self) -> bool {
        self.keys.as_ref().is_some_and(|k| SystemTime::now() < k.expires_at)
    }
}

/// Builds the document (never contains a secret: metadata and public keys only).
pub fn export(issuer: &str, metadata_doc: &Value, metadata_fetched_at: SystemTime, keys: Option<&KeysExport>) -> Value {
    let mut doc = json!({
        "soidc_state": STATE_VERSION,
        "issuer": issuer,
        "metadata": metadata_doc,
        "metadata_fetched_at": unix_secs(metadata_fetched_at),
    });
    if let Some(k) = keys {
        let m = doc.as_object_mut().expect("an object");
        m.insert("jwks".into(), k.set.document.clone());
        m.insert("jwks_fetched_at".into(), unix_secs(k.fetched_at).into());
        m.insert("jwks_expires_at".into(), unix_secs(k.expires_at).into());
    }
    doc
}

fn refuse(msg: impl Into<String>) -> Error {
    Error::invalid_argument(format!("state: {}", msg.into()))
}

fn time_member(m: &Map<String, Value>, name: &str, now: u64) -> Result<Option<u64>> {
    match m.get(name) {
        None => Ok(None),
        Some(v) => {
            let t = v.as_u64().ok_or_else(|| refuse(format!("{name} must be a non-negative integer (seconds since the epoch)")))?;
            if t > now + CLOCK_SKEW_S {
                return Err(refuse(format!("{name} ({t}) lies in the future (now {now})")));
            }
            Ok(Some(t))
        }
    }
}

/// Parses and checks a state document for `expected_issuer`, parsing its keys for
/// `algs` (`None`: the algorithms the metadata advertises, chosen by `choose_algs`).
/// Any problem is `SOIDC_ERR_INVALID_ARGUMENT` naming it; nothing is half-used.
pub fn parse(text: &[u8], expected_issuer: &str, algs: &dyn Fn(&ProviderMetadata) -> Vec<Alg>) -> Result<State> {
    if text.len() > MAX_STATE_BYTES {
        return Err(refuse(format!("is {} bytes, more than the {MAX_STATE_BYTES} allowed", text.len())));
    }
    let m = crate::core::json::parse_object(text).map_err(|e| refuse(format!("malformed JSON: {e}")))?;
    if let Some(k) = m.keys().find(|k| !MEMBERS.contains(&k.as_str())) {
        return Err(refuse(format!("unknown member {}", quote_untrusted(k))));
    }
    match m.get("soidc_state") {
        Some(v) if v.as_u64() == Some(STATE_VERSION) => {}
        Some(v) => return Err(refuse(format!("version {v} is not supported (this library reads version {STATE_VERSION})"))),
        None => return Err(refuse("member \"soidc_state\" (the version) is missing; not a soidc state document")),
    }
    let issuer = m.get("issuer").and_then(Value::as_str).ok_or_else(|| refuse("member \"issuer\" is missing or not a string"))?;
    if issuer != expected_issuer {
        return Err(refuse(format!("belongs to issuer {}, but this client expects {}", quote_untrusted(issuer), quote_untrusted(expected_issuer))));
    }
    let metadata_doc = m.get("metadata").filter(|v| v.is_object()).ok_or_else(|| refuse("member \"metadata\" is missing or not an object"))?;
    let metadata = ProviderMetadata::parse(metadata_doc).map_err(|e| refuse(e.message))?;
    if metadata.issuer != issuer {
        return Err(refuse(format!("its metadata names issuer {}, not {} (tampered)", quote_untrusted(&metadata.issuer), quote_untrusted(issuer))));
    }
    let now = unix_secs(SystemTime::now());
    let fetched = time_member(&m, "metadata_fetched_at", now)?.ok_or_else(|| refuse("member \"metadata_fetched_at\" is missing"))?;
    if now.saturating_sub(fetched) > MAX_STATE_AGE_S {
        return Err(refuse(format!(
            "is stale: its metadata was fetched {} s ago, more than the {MAX_STATE_AGE_S} s a state may be used",
            now - fetched
        )));
    }
    let jwks_fetched = time_member(&m, "jwks_fetched_at", now)?;
    let jwks_expires = match m.get("jwks_expires_at") {
        None => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| refuse("jwks_expires_at must be a non-negative integer (seconds since the epoch)"))?),
    };
    let keys = match (m.get("jwks"), jwks_fetched, jwks_expires) {
        (None, None, None) => None,
        (Some(doc), Some(f), Some(x)) => {
            if x < f || x - f > crate::core::options::MAX_JWKS_CACHE_S {
                return Err(refuse(format!(
                    "jwks_expires_at ({x}) must lie between jwks_fetched_at ({f}) and {} s after it",
                    crate::core::options::MAX_JWKS_CACHE_S
                )));
            }
            let set = parse_keys(doc.clone(), &algs(&metadata)).map_err(|e| refuse(e.message))?;
            Some(KeysExport { set: Arc::new(set), fetched_at: from_unix(f), expires_at: from_unix(x) })
        }
        _ => return Err(refuse("members \"jwks\", \"jwks_fetched_at\" and \"jwks_expires_at\" go together (all or none)")),
    };
    Ok(State { metadata, metadata_doc: metadata_doc.clone(), metadata_fetched_at: from_unix(fetched), keys })
}

/// Parses a JWKS handed in by a host or a state: like a fetched one, and it must
/// hold at least one key usable with `algs` (an unusable document changes nothing).
pub fn parse_keys(doc: Value, algs: &[Alg]) -> Result<KeySet> {
    if !doc.is_object() {
        return Err(Error::invalid_argument("jwks: not a JSON object"));
    }
    let set = KeySet::parse(doc, algs).map_err(|e| Error::invalid_argument(format!("jwks: {}", e.message)))?;
    if set.keys.is_empty() {
        let names: Vec<&str> = algs.iter().map(|a| a.name()).collect();
        return Err(Error::invalid_argument(format!(
            "jwks: no key usable with the allowed algorithms ({})",
            names.join(", ")
        )));
    }
    Ok(set)
}

// ---------------------------------------------------------------------------------------
// The file cache (`cache_dir`)
// ---------------------------------------------------------------------------------------

/// One issuer's state file in `cache_dir`, the lock file next to it, and the outage
/// record (`.down`: when a request to the provider last failed at the network level,
/// seconds since the epoch, written only for clients with `provider_down_backoff_s`).
pub struct FileCache {
    pub path: PathBuf,
    lock_path: PathBuf,
    down_path: PathBuf,
    dir: PathBuf,
}

/// An exclusive advisory lock on the lock file, released on drop.
pub struct CacheLock(#[allow(dead_code)] File);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl FileCache {
    /// The cache for `issuer` in `dir`, creating `dir` (mode 0700) when it does not
    /// exist. `None` (with a warning in the log) when the directory is unusable:
    /// the client then works without the cache.
    pub fn open(dir: &str, issuer: &str) -> Option<FileCache> {
        let dir = PathBuf::from(dir);
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                log_at!(Level::Warn, "cache_dir {}: not a directory; caching skipped", quote_untrusted(&dir.to_string_lossy()));
                return None;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Err(e) = std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir) {
                    log_at!(Level::Warn, "cache_dir {}: cannot create it ({e}); caching skipped", quote_untrusted(&dir.to_string_lossy()));
                    return None;
                }
                log_at!(Level::Info, "cache_dir {}: created (mode 0700)", quote_untrusted(&dir.to_string_lossy()));
            }
            Err(e) => {
                log_at!(Level::Warn, "cache_dir {}: {e}; caching skipped", quote_untrusted(&dir.to_string_lossy()));
                return None;
            }
        }
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, issuer.as_bytes());
        let name = format!("soidc-state-{}", &hex(digest.as_ref())[..32]);
        Some(FileCache {
            path: dir.join(format!("{name}.json")),
            lock_path: dir.join(format!("{name}.lock")),
            down_path: dir.join(format!("{name}.down")),
            dir,
        })
    }

    fn show(&self) -> String {
        quote_untrusted(&self.path.to_string_lossy())
    }

    /// The file's content when it may be trusted: a regular file (not a symlink, the
    /// opened file being the one checked), owned by this process's user or root, not
    /// writable by group or others, at most 1 MiB. Otherwise `None` with a warning
    /// (or silently when it does not exist).
    pub fn read(&self) -> Option<Vec<u8>> {
        let before = match std::fs::symlink_metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                log_at!(Level::Warn, "state file {}: {e}; ignored", self.show());
                return None;
            }
        };
        if !before.file_type().is_file() {
            log_at!(Level::Warn, "state file {}: not a regular file (a symlink?); ignored, never trusted", self.show());
            return None;
        }
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) => {
                log_at!(Level::Warn, "state file {}: cannot open ({e}); ignored", self.show());
                return None;
            }
        };
        let meta = file.metadata().ok()?;
        if meta.dev() != before.dev() || meta.ino() != before.ino() || !meta.is_file() {
            log_at!(Level::Warn, "state file {}: replaced while being opened; ignored, never trusted", self.show());
            return None;
        }
        let euid = crate::core::secret::effective_uid();
        if meta.uid() != 0 && Some(meta.uid()) != euid {
            log_at!(
                Level::Warn,
                "state file {}: owned by uid {}, not by this process's user or root; ignored, never trusted",
                self.show(),
                meta.uid()
            );
            return None;
        }
        if meta.mode() & 0o022 != 0 {
            log_at!(
                Level::Warn,
                "state file {}: mode {:04o} is writable by group or others; ignored, never trusted",
                self.show(),
                meta.mode() & 0o7777
            );
            return None;
        }
        let mut bytes = Vec::new();
        if let Err(e) = (&mut file).take(MAX_STATE_BYTES as u64 + 1).read_to_end(&mut bytes) {
            log_at!(Level::Warn, "state file {}: cannot read ({e}); ignored", self.show());
            return None;
        }
        Some(bytes)
    }

    /// Writes the state atomically: a new temporary file (mode 0600) in the same
    /// directory, synced, then renamed over the state file. Failures are warnings.
    pub fn write(&self, doc: &Value) {
        let result = self.write_file(&self.path, doc.to_string().as_bytes());
        match result {
            Ok(()) => log_at!(Level::Debug, "state file {} written", self.show()),
            Err(e) => log_at!(Level::Warn, "state file {}: cannot write ({e}); caching skipped", self.show()),
        }
    }

    /// `bytes` to `path` atomically (a temporary file of mode 0600 renamed over it).
    fn write_file(&self, path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let tmp = self.dir.join(format!(
            ".{}.{}.{}.tmp",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("soidc-state"),
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| -> std::io::Result<()> {
            let mut f = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// When a request to the provider last failed at the network level (seconds since
    /// the epoch), from the outage record; `None` when there is none or it cannot be
    /// trusted (the same checks as the state file: a regular file of this process's
    /// user or root, not writable by group or others; a time in the future).
    pub fn down_since(&self) -> Option<u64> {
        let meta = std::fs::symlink_metadata(&self.down_path).ok()?;
        let euid = crate::core::secret::effective_uid();
        if !meta.file_type().is_file() || meta.mode() & 0o022 != 0 || (meta.uid() != 0 && Some(meta.uid()) != euid) || meta.len() > 32 {
            log_at!(Level::Warn, "outage record {}: not a regular file of this user or root with mode 0600; ignored", quote_untrusted(&self.down_path.to_string_lossy()));
            return None;
        }
        let text = std::fs::read_to_string(&self.down_path).ok()?;
        let t: u64 = text.trim().parse().ok()?;
        (t <= unix_secs(SystemTime::now()) + CLOCK_SKEW_S).then_some(t)
    }

    /// Records that a request to the provider failed at the network level now.
    pub fn record_down(&self) {
        let now = unix_secs(SystemTime::now());
        match self.write_file(&self.down_path, now.to_string().as_bytes()) {
            Ok(()) => log_at!(Level::Info, "outage record {} written", quote_untrusted(&self.down_path.to_string_lossy())),
            Err(e) => log_at!(Level::Warn, "outage record {}: cannot write ({e})", quote_untrusted(&self.down_path.to_string_lossy())),
        }
    }

    /// Forgets the outage record (the provider answered).
    pub fn clear_down(&self) {
        if std::fs::remove_file(&self.down_path).is_ok() {
            log_at!(Level::Info, "outage record {} removed: the provider answered", quote_untrusted(&self.down_path.to_string_lossy()));
        }
    }

    /// Takes the exclusive lock on the lock file, waiting until `deadline` at most.
    /// `None`: not obtained in time, or no lock file could be opened (the caller
    /// then goes ahead without it).
    pub fn lock(&self, deadline: Instant) -> Option<CacheLock> {
        if std::fs::symlink_metadata(&self.lock_path).is_ok_and(|m| !m.file_type().is_file()) {
            log_at!(Level::Warn, "lock file {}: not a regular file; not used", quote_untrusted(&self.lock_path.to_string_lossy()));
            return None;
        }
        let file = match OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&self.lock_path)
        {
            Ok(f) => f,
            Err(e) => {
                log_at!(Level::Warn, "lock file {}: cannot open ({e}); going on without it", quote_untrusted(&self.lock_path.to_string_lossy()));
                return None;
            }
        };
        // A lock file another user made (in a shared directory) could be held forever by
        // them: not used.
        let euid = crate::core::secret::effective_uid();
        match file.metadata() {
            Ok(m) if m.uid() == 0 || Some(m.uid()) == euid => {}
            _ => {
                log_at!(Level::Warn, "lock file {}: not owned by this process's user or root; not used", quote_untrusted(&self.lock_path.to_string_lossy()));
                return None;
            }
        }
        loop {
            match file.try_lock() {
                Ok(()) => return Some(CacheLock(file)),
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => {
                    log_at!(Level::Warn, "lock file {}: {e}; going on without it", quote_untrusted(&self.lock_path.to_string_lossy()));
                    return None;
                }
            }
            let now = Instant::now();
            if now >= deadline {
                log_at!(Level::Warn, "lock file {}: still held by another process at the deadline; fetching without it", quote_untrusted(&self.lock_path.to_string_lossy()));
                return None;
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(20)));
        }
    }
}
