//! A bounded replay cache: identifiers of accepted tokens, each remembered until the end
//! of the window in which the token could still be accepted. Used for logout tokens
//! without `exp` and for DPoP proofs (RFC 9449 §11.1), one cache each per client.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// How many `jti`s the replay cache of one client holds at most; the oldest goes first.
pub(crate) const JTI_CACHE_CAP: usize = 10_000;

/// The `jti`s of logout tokens accepted without `exp`, each remembered until the end
/// of its acceptance window (iat + max_age_s + leeway), so that the same token cannot
/// be accepted twice within it.
///
/// Trade-offs: the cache lives in one client in one process. Several processes (nginx
/// workers, preforked servers) or several clients for the same provider each keep their
/// own, so a token replayed to another process is not detected; nor is one replayed
/// after a restart (its window is at most `MAX_LOGOUT_MAX_AGE_S` plus leeway, which bounds
/// that). It holds at most [`JTI_CACHE_CAP`] entries of 32 bytes (a SHA-256 of iss and
/// jti, so a long jti costs nothing); beyond that the oldest entry is evicted. Only
/// tokens whose signature and claims were valid reach it, so filling it takes the
/// provider's key.
///
/// The same structure serves DPoP proofs (see `dpop_verify.rs`) with a capacity chosen by
/// the client (`dpop_replay_cache_entries`); there the scope is the proof key's thumbprint.
pub struct JtiCache {
    inner: Mutex<JtiEntries>,
    cap: usize,
}

impl Default for JtiCache {
    fn default() -> Self {
        Self::with_capacity(JTI_CACHE_CAP)
    }
}

#[derive(Default)]
struct JtiEntries {
    /// key -> (end of window, insertion number)
    map: HashMap<[u8; 32], (i64, u64)>,
    /// insertion order: (key, insertion number)
    order: VecDeque<([u8; 32], u64)>,
    next: u64,
}

impl JtiCache {
    /// An empty cache holding at most `cap` entries (at least 1).
    pub fn with_capacity(cap: usize) -> Self {
        JtiCache { inner: Mutex::new(JtiEntries::default()), cap: cap.max(1) }
    }

    /// The most entries this cache holds.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    fn key(iss: &str, jti: &str) -> [u8; 32] {
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        ctx.update(&(iss.len() as u64).to_be_bytes());
        ctx.update(iss.as_bytes());
        ctx.update(jti.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        out
    }

    /// Records `(iss, jti)` until `until`; false if it is already recorded and its
    /// window has not ended (a replay). Check and insertion are one atomic step.
    /// `iss` is the scope of the identifier: the issuer for logout tokens, the key
    /// thumbprint for DPoP proofs.
    pub fn insert_new(&self, iss: &str, jti: &str, until: i64, now: i64) -> bool {
        let key = Self::key(iss, jti);
        // A panic elsewhere while holding the lock cannot leave the entries inconsistent
        // in a way that matters here, so a poisoned lock is still used.
        let mut e = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(&(end, _)) = e.map.get(&key) {
            if end > now {
                return false;
            }
        }
        // Drop ended entries from the front, then make room.
        while let Some(&(k, n)) = e.order.front() {
            let ended = e.map.get(&k).is_none_or(|&(end, m)| m != n || end <= now);
            if !ended && e.order.len() < self.cap {
                break;
            }
            e.order.pop_front();
            if e.map.get(&k).is_some_and(|&(_, m)| m == n) {
                e.map.remove(&k);
            }
        }
        let n = e.next;
        e.next += 1;
        e.map.insert(key, (until, n));
        e.order.push_back((key, n));
        true
    }

    /// How many entries are held (for tests of the bound).
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
