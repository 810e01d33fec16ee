//! The tamper-evident shape of the log: records, their hash chain, the
//! signing key and what a checkpoint signs.
//!
//! A record is one JSON line: `seq` (1, 2, 3, ... across all files), `time`,
//! `prev` (hex SHA-256 of the previous record's line, 64 zeros for the
//! first record ever) and the event's fields. Changing, removing or
//! reordering a record breaks the chain at the next one. A checkpoint
//! record signs `seq` and `prev` with Ed25519: since `prev` commits to
//! every earlier line, one signature covers the whole log so far, and
//! someone who rewrites the log cannot forge the next checkpoint without
//! the private key. The `HEAD` file repeats the latest checkpoint, so cutting
//! records off the end is seen too.

use std::io::Write;
use std::path::Path;

use base64::Engine as _;
use ring::signature::{self, Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};

use super::event::Event;

/// `prev` of the first record ever.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One record as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Position in the whole log, from 1.
    pub seq: u64,
    /// RFC 3339 UTC.
    pub time: String,
    /// Hash of the previous record's line.
    pub prev: String,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

/// Hex SHA-256 of a record's line (without its newline).
pub fn hash_line(line: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, line).as_ref())
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// What a checkpoint at `seq` whose previous record hashes to `prev` signs.
pub fn checkpoint_message(seq: u64, prev: &str) -> Vec<u8> {
    format!("phigate-audit-checkpoint-v1\n{seq}\n{prev}").into_bytes()
}

/// What both keys sign in a key rotation record at `seq` after `prev`:
/// the old key hands the log over, the new key accepts it, so trust flows
/// both ways along the chain of keys (a verifier pinned to either finds
/// the other).
pub fn rotation_message(seq: u64, prev: &str, old_public: &str, new_public: &str) -> Vec<u8> {
    format!("phigate-audit-rotation-v1\n{seq}\n{prev}\n{old_public}\n{new_public}").into_bytes()
}

/// The `HEAD` file: the latest checkpoint, kept outside the log files so
/// that truncating the log is detectable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// File holding the checkpoint.
    pub file: String,
    /// The checkpoint's `seq`.
    pub seq: u64,
    /// The checkpoint's `prev`.
    pub prev: String,
    /// Its signature (hex).
    pub sig: String,
    /// The key that signed it.
    #[serde(default)]
    pub key_id: String,
}

/// Why the signing key could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Reading or writing the key file failed.
    #[error("audit signing key {path}: {source}")]
    Io {
        /// The key file.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The file does not hold an Ed25519 PKCS#8 key in base64.
    #[error(
        "audit signing key {0}: not an Ed25519 key (base64 PKCS#8, as `phigate audit keygen` writes)"
    )]
    Invalid(String),
}

/// The Ed25519 key that signs checkpoints, and the HMAC key derived from it
/// for findings.
pub struct SigningKey {
    pair: Ed25519KeyPair,
    hmac: ring::hmac::Key,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.key_id())
    }
}

impl SigningKey {
    /// Loads the key at `path`, or makes one there (mode 0600) if there is
    /// no file, so that the embedded default configuration runs as is.
    pub fn load_or_create(path: &Path) -> Result<SigningKey, KeyError> {
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_text(&text).ok_or(KeyError::Invalid(path.display().to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let text = generate();
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    crate::fsmode::create_private_dir(parent).map_err(io)?;
                }
                let mut f = match create_private(path) {
                    Ok(f) => f,
                    // Another process made it just now: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        return Self::load_or_create(path);
                    }
                    Err(e) => return Err(io(e)),
                };
                f.write_all(text.as_bytes())
                    .and_then(|()| f.sync_all())
                    .map_err(io)?;
                tracing::warn!(path = %path.display(), "made a new audit signing key; keep a copy of its public key (signing.pub) off this host");
                Self::from_text(&text).ok_or(KeyError::Invalid(path.display().to_string()))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Loads the key at `path`; unlike [`SigningKey::load_or_create`] a
    /// missing file is an error.
    pub fn load(path: &Path) -> Result<SigningKey, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_text(&text).ok_or(KeyError::Invalid(path.display().to_string()))
    }

    /// The public key of a key in the key file's text.
    pub fn from_text_public(text: &str) -> Option<PublicKey> {
        Self::from_text(text).map(|k| k.public())
    }

    fn from_text(text: &str) -> Option<SigningKey> {
        let der = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .ok()?;
        let pair = Ed25519KeyPair::from_pkcs8(&der).ok()?;
        // The finding hash key is derived, so one secret protects both.
        let mut seed = b"phigate-finding-hmac-v1".to_vec();
        seed.extend_from_slice(&der);
        let k = ring::digest::digest(&ring::digest::SHA256, &seed);
        Some(SigningKey {
            pair,
            hmac: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, k.as_ref()),
        })
    }

    /// The public key, hex.
    pub fn public_hex(&self) -> String {
        hex(self.pair.public_key().as_ref())
    }

    /// First 16 hex digits of SHA-256 of the public key.
    pub fn key_id(&self) -> String {
        key_id(self.pair.public_key().as_ref())
    }

    /// Signs `msg`; hex.
    pub fn sign(&self, msg: &[u8]) -> String {
        hex(self.pair.sign(msg).as_ref())
    }

    /// The public key, for verifying.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.pair.public_key().as_ref().to_vec())
    }

    /// Keyed hash of a matched value (128 bits, hex).
    pub fn hmac(&self, category: &str, value: &str) -> String {
        let mut ctx = ring::hmac::Context::with_key(&self.hmac);
        ctx.update(category.as_bytes());
        ctx.update(&[0]);
        ctx.update(value.as_bytes());
        hex(&ctx.sign().as_ref()[..16])
    }
}

/// A new key as the key file holds it.
pub fn generate() -> String {
    let rng = ring::rand::SystemRandom::new();
    let der = Ed25519KeyPair::generate_pkcs8(&rng).expect("the system RNG works");
    base64::engine::general_purpose::STANDARD.encode(der.as_ref()) + "\n"
}

fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// `key_id` of a public key.
pub fn key_id(public: &[u8]) -> String {
    hex(&ring::digest::digest(&ring::digest::SHA256, public).as_ref()[..8])
}

/// A public key to verify checkpoints with.
#[derive(Debug, Clone)]
pub struct PublicKey(Vec<u8>);

impl PublicKey {
    /// From hex (what `signing.pub` holds).
    pub fn from_hex(s: &str) -> Option<PublicKey> {
        unhex(s.trim()).filter(|b| b.len() == 32).map(PublicKey)
    }

    /// The key's id.
    pub fn key_id(&self) -> String {
        key_id(&self.0)
    }

    /// The key in hex.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// Whether `sig` (hex) signs `msg`.
    pub fn verifies(&self, msg: &[u8], sig: &str) -> bool {
        let Some(sig) = unhex(sig) else {
            return false;
        };
        signature::UnparsedPublicKey::new(&signature::ED25519, &self.0)
            .verify(msg, &sig)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_message_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::load_or_create(&dir.path().join("k")).unwrap();
        let again = SigningKey::load_or_create(&dir.path().join("k")).unwrap();
        assert_eq!(key.public_hex(), again.public_hex(), "loaded, not remade");
        let public = PublicKey::from_hex(&key.public_hex()).unwrap();
        let msg = checkpoint_message(7, GENESIS);
        let sig = key.sign(&msg);
        assert!(public.verifies(&msg, &sig));
        assert!(!public.verifies(&checkpoint_message(8, GENESIS), &sig));
        let other = SigningKey::load_or_create(&dir.path().join("other")).unwrap();
        assert!(
            !PublicKey::from_hex(&other.public_hex())
                .unwrap()
                .verifies(&msg, &sig)
        );
    }

    #[test]
    fn finding_hashes_are_keyed() {
        let dir = tempfile::tempdir().unwrap();
        let a = SigningKey::load_or_create(&dir.path().join("a")).unwrap();
        let b = SigningKey::load_or_create(&dir.path().join("b")).unwrap();
        let h = a.hmac("ssn", "135-14-4832");
        assert_eq!(h.len(), 32);
        assert_eq!(h, a.hmac("ssn", "135-14-4832"));
        assert_ne!(h, b.hmac("ssn", "135-14-4832"));
        assert_ne!(h, a.hmac("ssn", "135-14-4833"));
    }

    #[test]
    fn a_bad_key_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        std::fs::write(&p, "not a key").unwrap();
        let e = SigningKey::load_or_create(&p).unwrap_err().to_string();
        assert!(
            e.contains("not an Ed25519 key") && e.contains(&p.display().to_string()),
            "{e}"
        );
    }
}
