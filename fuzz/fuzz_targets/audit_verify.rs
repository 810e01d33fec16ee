//! The audit verifier on whatever an attacker could leave in the audit
//! directory and a witness file: it never panics, and never calls a log
//! intact that holds a record it could not read.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use phigate::audit::{PublicKey, witness};

fn key() -> &'static PublicKey {
    static K: OnceLock<PublicKey> = OnceLock::new();
    K.get_or_init(|| PublicKey::from_hex(&"ab".repeat(32)).expect("a 32-byte key"))
}

fuzz_target!(|data: &[u8]| {
    // Three pieces: the day file, HEAD, a witness file.
    let mut pieces = data.splitn(3, |&b| b == 0xFF);
    let (file, head, wit) = (
        pieces.next().unwrap_or_default(),
        pieces.next().unwrap_or_default(),
        pieces.next().unwrap_or_default(),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let audit = dir.path().join("audit");
    std::fs::create_dir(&audit).unwrap();
    std::fs::write(audit.join("audit-2026-11-20.jsonl"), file).unwrap();
    std::fs::write(audit.join("HEAD"), head).unwrap();
    let wpath = dir.path().join("witness");
    std::fs::write(&wpath, wit).unwrap();
    let entries = witness::read_entries(&wpath).unwrap_or_default();
    let r = phigate::audit::verify::verify_with(&audit, key(), 2190, &entries);
    if r.is_ok() {
        // Intact means every line was a record: no line can fail to parse.
        for line in file.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            assert!(serde_json::from_slice::<serde_json::Value>(line).is_ok());
        }
    }
});
