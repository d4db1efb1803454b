//! Secrets held by soidc: client secrets, private keys, and the files they may
//! come from. A [`Secret`] never prints, and its memory is wiped (`zeroize`)
//! when it is dropped; so are the request bodies that carried passwords,
//! refresh tokens and codes (see `http.rs`).

use crate::core::error::{Error, Result};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use zeroize::Zeroizing;

/// A secret string: redacted in `Debug`, wiped from memory when dropped.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(Zeroizing::new(s.into()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        // serde hands over an owned String; it moves into the wiping wrapper.
        String::deserialize(d).map(Secret::new)
    }
}

/// Secret files larger than this are refused (a PEM key is a few KiB).
const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// The effective user id, from `/proc/self/status` (no unsafe code here).
pub(crate) fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Reads a secret from a file the way sshd reads host keys: the file must be a
/// regular file owned by the process's effective user (or root), neither group-
/// nor world-accessible (mode 0600 or 0400), and at most 64 KiB. `option` names
/// the option in messages; the content never appears in them. A trailing
/// newline is removed when `trim_newline` (a client secret written with `echo`).
pub fn read_secret_file(path: &str, option: &str, trim_newline: bool) -> Result<Secret> {
    let fail = |why: String| Error::invalid_argument(format!("{option} {}: {why}", crate::core::error::quote_untrusted(path)));
    if path.is_empty() {
        return Err(Error::invalid_argument(format!("{option} must not be empty")));
    }
    let mut file = std::fs::File::open(path).map_err(|e| fail(format!("cannot open: {e}")))?;
    // Checked on the opened file, so a swapped path cannot pass the check.
    let meta = file.metadata().map_err(|e| fail(format!("cannot stat: {e}")))?;
    if !meta.is_file() {
        return Err(fail("is not a regular file".into()));
    }
    let euid = effective_uid();
    if meta.uid() != 0 && Some(meta.uid()) != euid {
        return Err(fail(format!(
            "is owned by uid {}, not by this process's user ({}) or root",
            meta.uid(),
            euid.map_or_else(|| "unknown".to_owned(), |u| u.to_string())
        )));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(fail(format!(
            "has mode {mode:04o}; a secret file must not be accessible by group or others (chmod 600)"
        )));
    }
    if meta.len() > MAX_SECRET_FILE_BYTES {
        return Err(fail(format!("is larger than {MAX_SECRET_FILE_BYTES} bytes")));
    }
    let mut bytes = Zeroizing::new(Vec::with_capacity(meta.len() as usize));
    (&mut file)
        .take(MAX_SECRET_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| fail("is not UTF-8 text".into()))?;
    let text = if trim_newline { text.trim_end_matches(['\n', '\r']) } else { text };
    if text.is_empty() {
        return Err(fail("is empty".into()));
    }
    Ok(Secret::new(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn write(dir: &std::path::Path, name: &str, content: &str, mode: u32) -> String {
        let p = dir.join(name);
        std::fs::write(&p, content).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p.to_str().unwrap().to_owned()
    }

    #[test]
    fn secret_file_rules() {
        let dir = std::env::temp_dir().join(format!("soidc-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ok = write(&dir, "ok", "s3cret\n", 0o600);
        assert_eq!(read_secret_file(&ok, "client_secret_file", true).unwrap().expose(), "s3cret");
        let ro = write(&dir, "ro", "k", 0o400);
        assert!(read_secret_file(&ro, "x", true).is_ok());
        for (name, mode) in [("g", 0o640), ("w", 0o604), ("gw", 0o620)] {
            let p = write(&dir, name, "s3cret", mode);
            let e = read_secret_file(&p, "client_secret_file", true).unwrap_err();
            assert!(e.message.contains("group or others"), "{}", e.message);
            assert!(!e.message.contains("s3cret"));
        }
        let empty = write(&dir, "empty", "\n", 0o600);
        assert!(read_secret_file(&empty, "x", true).unwrap_err().message.contains("empty"));
        assert!(read_secret_file(dir.to_str().unwrap(), "x", true).unwrap_err().message.contains("regular file"));
        assert!(read_secret_file("/nonexistent/soidc", "x", true).unwrap_err().message.contains("cannot open"));
        let big = write(&dir, "big", &"a".repeat(70_000), 0o600);
        assert!(read_secret_file(&big, "x", true).unwrap_err().message.contains("larger"));
        assert!(format!("{:?}", Secret::new("abc")).contains("redacted"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
