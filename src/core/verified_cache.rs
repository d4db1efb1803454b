//! The verified-token cache (client option `verified_cache_entries`, off by default):
//! remembers tokens whose signature has verified, so that the same token arriving again
//! (a resource server sees the same bearer token on every request of a session) skips
//! the signature check, and only it.
//!
//! - It lives at the signature layer (`Client::verify_signature`): a hit replaces the
//!   signature verification and nothing else. The caller parses the token and checks
//!   `typ`, `iss`, `exp`/`nbf`/`iat` with leeway, the audience, scopes, `client_id`, the
//!   DPoP proof or certificate binding of the request at hand and the claim rules on
//!   every call, hit or miss. It serves every token soidc verifies with the provider's
//!   keys: access tokens, ID tokens, logout tokens, signed userinfo.
//! - A hit requires the identical bytes: an entry keeps the token's signing input
//!   (`BASE64URL(header).BASE64URL(payload)`, as received) and its signature, and a
//!   lookup compares both in full. A keyed hash of the signature (its length and first
//!   32 bytes) only picks the slot. As base64url decoding is strict (no padding, no
//!   stray trailing bits), the signature bytes have exactly one encoding, so both
//!   together are the whole token.
//! - Each entry records the key that verified it: a SHA-256 fingerprint of the JWK's
//!   `kty`, `kid`, `alg` and key material (`keys::VerifyKey::fingerprint`). A hit counts
//!   only while the client's current key set still holds that key; otherwise the entry
//!   is dropped and the token goes through the full check (which refuses it when its key
//!   is gone). This covers every way the set changes: refetch, `soidc_client_import_keys`,
//!   a state import, a `cache_dir` file.
//! - HS* tokens (verified with the client secret) are not cached: an HMAC costs about
//!   as much as the lookup.
//! - Tokens longer than 16 KiB are not cached (verified every time).
//! - Signature failures are cached too, apart (negative entries), so that a forged or
//!   broken token sent again does not pay a full signature check every time: the
//!   identical token bytes map to the exact error the check gave, bound to the key set
//!   it failed against (`KeySet::id`, unique per parsed set: a refetch, an import, a
//!   state import or a `cache_dir` file all make a new set). A negative hit counts only
//!   while that same set is the current one; with any other set the entry is dropped and
//!   the token is checked again. Only a failure of the signature itself against keys
//!   the set holds (reason "signature", the token names a `kid`: no refetch is ever
//!   made for it) gets an entry; never an unknown kid or a token without `kid` (a
//!   refetch may find the key), a network error or timeout, or HS*. Negative entries
//!   have their own table of a quarter of the capacity (at least 1), so that failing
//!   tokens never push verified ones out; memory per negative entry: the token's length
//!   plus its error message plus about 200 bytes.
//! - Bounded and thread-safe: the capacity is split over up to 16 shards of at least 64
//!   slots each (a small cache is one shard, so that it holds as many tokens as its
//!   capacity says whatever their hashes), each behind its own mutex, held only to compare or copy bytes, never during a signature check.
//!   Eviction per shard is CLOCK (second chance): an entry hit since the hand last passed
//!   survives one more round, so the tokens in use stay and one-off tokens go first.

use crate::core::error::Error;
use crate::core::jose::Jws;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Mutex;

/// What identifies the key that verified a token (see `keys::VerifyKey::fingerprint`).
pub type KeyFingerprint = [u8; 32];

/// The upper bound of `verified_cache_entries`.
pub const MAX_ENTRIES: u64 = 1_000_000;

/// Longer tokens (signing input and signature together, in bytes) are not cached: they
/// are verified every time, and an entry stays within about 16 KiB.
pub const MAX_CACHED_TOKEN_BYTES: usize = 16 * 1024;

const MAX_SHARDS: usize = 16;
/// The fewest slots a shard has when the capacity allows it: tokens whose hashes pick
/// the same shard evict each other only once that many are in it.
const MIN_SHARD_SLOTS: usize = 64;

/// The signature bytes the slot hash covers (see `VerifiedCache::hash`).
const HASHED_SIGNATURE_BYTES: usize = 32;

struct Entry<V> {
    /// The keyed hash of the signature (slot selection and a cheap first comparison).
    hash: u64,
    signing_input: Box<[u8]>,
    signature: Box<[u8]>,
    /// Positive table: the key that verified the token; negative: the failure.
    value: V,
    /// CLOCK: hit since the hand last passed.
    referenced: bool,
}

struct Shard<V> {
    /// `None`: a slot whose entry was dropped (reused before evicting anything).
    slots: Vec<Option<Entry<V>>>,
    /// Index by hash: the slot of the latest entry with that hash. Two tokens with one
    /// hash (a 64-bit keyed hash: practically never) keep only the latest findable; the
    /// other is a miss and its slot goes when CLOCK reaches it.
    index: std::collections::HashMap<u64, usize>,
    /// Slots emptied by a dropped entry.
    free: Vec<usize>,
    hand: usize,
    capacity: usize,
    /// Lookups answered `Hit` (for tests and diagnostics).
    hits: u64,
}

impl<V> Shard<V> {
    fn new(capacity: usize) -> Shard<V> {
        Shard { slots: Vec::new(), index: Default::default(), free: Vec::new(), hand: 0, capacity, hits: 0 }
    }

    fn find(&self, hash: u64, jws: &Jws<'_>) -> Option<usize> {
        let i = *self.index.get(&hash)?;
        self.slots[i]
            .as_ref()
            .is_some_and(|e| e.hash == hash && *e.signature == *jws.signature && *e.signing_input == *jws.signing_input)
            .then_some(i)
    }

    /// Empties slot `i`; `reuse`: the slot goes to the free list (not when the caller fills it).
    fn unindex(&mut self, i: usize, reuse: bool) {
        if let Some(old) = self.slots[i].take() {
            if reuse {
                self.free.push(i);
            }
            if self.index.get(&old.hash) == Some(&i) {
                self.index.remove(&old.hash);
            }
        }
    }

    /// A slot for a new entry: a free one, a new one below capacity, or the CLOCK victim.
    fn victim(&mut self) -> usize {
        if let Some(i) = self.free.pop() {
            return i;
        }
        if self.slots.len() < self.capacity {
            self.slots.push(None);
            return self.slots.len() - 1;
        }
        loop {
            let i = self.hand;
            self.hand = (self.hand + 1) % self.slots.len();
            match &mut self.slots[i] {
                Some(e) if e.referenced => e.referenced = false,
                _ => {
                    self.unindex(i, false);
                    return i;
                }
            }
        }
    }
}

/// A failure cached by the negative table: the error, and the key set it was against.
#[derive(Clone)]
struct Failure {
    set_id: u64,
    error: Error,
}

/// The cache of one client: verified tokens, and signature failures apart.
pub struct VerifiedCache {
    verified: Table<KeyFingerprint>,
    failed: Table<Failure>,
    hasher: RandomState,
}

/// One bounded, sharded table of tokens.
struct Table<V> {
    shards: Box<[Mutex<Shard<V>>]>,
}

/// The outcome of a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// The token verified before, with a key the current set still holds.
    Hit,
    /// Not cached (or its key is gone: the entry was dropped).
    Miss,
}

impl<V> Table<V> {
    fn new(capacity: usize) -> Table<V> {
        let capacity = capacity.max(1);
        let n = (capacity / MIN_SHARD_SLOTS).clamp(1, MAX_SHARDS);
        let shards = (0..n)
            .map(|i| {
                // The remainder goes to the first shards: the total is exactly `capacity`.
                let cap = capacity / n + usize::from(i < capacity % n);
                Mutex::new(Shard::new(cap))
            })
            .collect();
        Table { shards }
    }

    fn capacity(&self) -> usize {
        self.shards.iter().map(|s| lock(s).capacity).sum()
    }

    fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).slots.iter().filter(|e| e.is_some()).count()).sum()
    }

    fn hits(&self) -> u64 {
        self.shards.iter().map(|s| lock(s).hits).sum()
    }

    fn shard(&self, hash: u64) -> &Mutex<Shard<V>> {
        // The high bits pick the shard; the map inside uses the whole hash.
        &self.shards[((hash >> 32) as usize) % self.shards.len()]
    }

    /// The entry's value when the token is held and `valid` accepts it (the entry is
    /// dropped when it does not).
    fn lookup<R>(&self, hash: u64, jws: &Jws<'_>, valid: impl FnOnce(&V) -> Option<R>) -> Option<R> {
        let mut shard = lock(self.shard(hash));
        let i = shard.find(hash, jws)?;
        let entry = shard.slots[i].as_mut().expect("found");
        match valid(&entry.value) {
            Some(r) => {
                entry.referenced = true;
                shard.hits += 1;
                Some(r)
            }
            None => {
                shard.unindex(i, true);
                None
            }
        }
    }

    fn insert(&self, hash: u64, jws: &Jws<'_>, value: V) {
        // The copies are made before the lock is taken.
        let entry = Entry {
            hash,
            signing_input: jws.signing_input.into(),
            signature: jws.signature.as_slice().into(),
            value,
            referenced: false,
        };
        let mut shard = lock(self.shard(hash));
        if let Some(i) = shard.find(hash, jws) {
            // Another thread checked the same token meanwhile: keep the newer outcome.
            shard.slots[i].as_mut().expect("found").value = entry.value;
            return;
        }
        let i = shard.victim();
        shard.slots[i] = Some(entry);
        shard.index.insert(hash, i);
    }
}

impl VerifiedCache {
    /// A cache of at most `capacity` verified tokens (`capacity` >= 1), and at most a
    /// quarter of that (at least 1) signature failures.
    pub fn new(capacity: usize) -> VerifiedCache {
        let capacity = capacity.max(1);
        VerifiedCache { verified: Table::new(capacity), failed: Table::new(capacity / 4), hasher: RandomState::new() }
    }

    /// The total capacity (verified entries).
    pub fn capacity(&self) -> usize {
        self.verified.capacity()
    }

    /// The verified entries held now.
    pub fn len(&self) -> usize {
        self.verified.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Lookups that were hits, since the cache was made.
    pub fn hits(&self) -> u64 {
        self.verified.hits()
    }

    /// The capacity of the negative table (signature failures).
    pub fn failure_capacity(&self) -> usize {
        self.failed.capacity()
    }

    /// The signature failures held now.
    pub fn failures(&self) -> usize {
        self.failed.len()
    }

    /// Lookups answered from a cached failure, since the cache was made.
    pub fn failure_hits(&self) -> u64 {
        self.failed.hits()
    }

    fn hash(&self, jws: &Jws<'_>) -> u64 {
        // The first bytes of the signature and its length: a valid signature's bytes are
        // uniformly spread, and a crafted prefix only makes tokens share a slot (a miss,
        // never a wrong hit: a lookup compares the whole token). Hashing all 256 bytes of
        // an RS256 signature was 3 % of a hit.
        let sig = &jws.signature[..jws.signature.len().min(HASHED_SIGNATURE_BYTES)];
        let mut h = self.hasher.build_hasher();
        h.write_usize(jws.signature.len());
        h.write(sig);
        h.finish()
    }

    /// Looks the token up; `key_present` tells whether the current key set still holds
    /// the key that verified it (called under the shard lock: it must be cheap and must
    /// not call back into the cache).
    pub fn lookup(&self, jws: &Jws<'_>, key_present: impl FnOnce(&KeyFingerprint) -> bool) -> Lookup {
        match self.verified.lookup(self.hash(jws), jws, |key| key_present(key).then_some(())) {
            Some(()) => Lookup::Hit,
            None => Lookup::Miss,
        }
    }

    /// The cached outcome of this token's signature check with the current key set
    /// (`set_id`, holding the keys `key_present` accepts): `Ok` when it verified before
    /// with a key the set still holds, the exact error when it failed against this very
    /// set, `None` when it has to be checked.
    pub fn check(&self, jws: &Jws<'_>, set_id: u64, key_present: impl FnOnce(&KeyFingerprint) -> bool) -> Option<Result<(), Error>> {
        let hash = self.hash(jws);
        if self.verified.lookup(hash, jws, |key| key_present(key).then_some(())).is_some() {
            return Some(Ok(()));
        }
        // Only tokens with a kid ever get a negative entry (see insert_failure).
        jws.kid.as_ref()?;
        self.failed.lookup(hash, jws, |f| (f.set_id == set_id).then(|| f.error.clone())).map(Err)
    }

    /// Records a token whose signature `key` has just verified.
    pub fn insert(&self, jws: &Jws<'_>, key: KeyFingerprint) {
        if jws.signing_input.len() + jws.signature.len() > MAX_CACHED_TOKEN_BYTES {
            return;
        }
        self.verified.insert(self.hash(jws), jws, key);
    }

    /// Records that this token's signature failed against the key set `set_id` with
    /// `error`. The caller guarantees the conditions of the module documentation (a
    /// signature failure against keys the set holds, the token names a kid, not HS*).
    pub fn insert_failure(&self, jws: &Jws<'_>, set_id: u64, error: &Error) {
        if jws.kid.is_none() || jws.signing_input.len() + jws.signature.len() > MAX_CACHED_TOKEN_BYTES {
            return;
        }
        self.failed.insert(self.hash(jws), jws, Failure { set_id, error: error.clone() });
    }
}

/// A poisoned shard only means a panic elsewhere while it was held; its data is always
/// consistent between statements that can panic, so it stays in use.
fn lock<V>(m: &Mutex<Shard<V>>) -> std::sync::MutexGuard<'_, Shard<V>> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
