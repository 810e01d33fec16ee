//! Tampering with the log in every way an investigator must be able to
//! see: each case makes `verify` fail, naming the file and record.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::chain::{PublicKey, SigningKey};
use super::event::{Decision, Event};
use super::verify::{Problem, verify};
use super::writer::Writer;

thread_local! {
    static CLOCK: Cell<u64> = const { Cell::new(0) };
}

fn fake_clock() -> u64 {
    CLOCK.with(|c| c.get())
}

fn set_clock(t: u64) {
    CLOCK.with(|c| c.set(t));
}

fn decision(n: usize) -> Event {
    Event::Decision(Decision {
        queue_id: format!("{n:016X}"),
        recipient: format!("r{n}@payer.example"),
        action: "deliver".into(),
        rule: "default.clean".into(),
        modifiers: Vec::new(),
        would: None,
    })
}

/// A log of three days, five decisions a day, a checkpoint closing each
/// day; the files, oldest first, and the public key.
fn three_days(dir: &Path) -> (Vec<PathBuf>, PublicKey) {
    let key = Arc::new(SigningKey::load_or_create(&dir.join("key")).unwrap());
    let public = PublicKey::from_hex(&key.public_hex()).unwrap();
    let logs = dir.join("audit");
    let cfg = phigate_config::Config::embedded_default().audit;
    let day0 = crate::date::parse("2026-11-20").unwrap();
    set_clock(day0);
    let (mut w, _) = Writer::open(&logs, key, &cfg, fake_clock).unwrap();
    for day in 0..3u64 {
        set_clock(day0 + day * 86_400 + 3600);
        for n in 0..5 {
            let e = decision(day as usize * 10 + n);
            w.append(&[&e]).unwrap();
        }
        w.checkpoint().unwrap();
    }
    let files = ["2026-11-20", "2026-11-21", "2026-11-22"]
        .iter()
        .map(|d| logs.join(format!("audit-{d}.jsonl")))
        .collect();
    (files, public)
}

fn check(dir: &Path, key: &PublicKey) -> Result<super::verify::Summary, Problem> {
    verify(&dir.join("audit"), key, 2190)
}

fn lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn write_lines(p: &Path, lines: &[String]) {
    std::fs::write(
        p,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
}

#[test]
fn an_untouched_log_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (files, key) = three_days(dir.path());
    let s = check(dir.path(), &key).unwrap();
    assert_eq!(s.files, 3);
    // Per file: file_start, its checkpoint, five decisions, the day's checkpoint.
    assert_eq!(s.records, 3 * 8);
    assert_eq!(s.checkpoints, 6);
    assert_eq!(s.unsigned_tail, 0);
    assert_eq!(lines(&files[1]).len(), 8);
}

#[test]
fn a_changed_byte_names_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let (files, key) = three_days(dir.path());
    let mut l = lines(&files[1]);
    // Line 4 is a decision: make it say the mail was encrypted.
    assert!(l[3].contains("\"action\":\"deliver\""));
    l[3] = l[3].replace("\"action\":\"deliver\"", "\"action\":\"encrypt\"");
    write_lines(&files[1], &l);
    let p = check(dir.path(), &key).unwrap_err();
    assert_eq!(p.file, "audit-2026-11-21.jsonl");
    assert_eq!(p.line, Some(4), "{p}");
    assert!(p.message.contains("changed"), "{p}");
}

#[test]
fn a_forged_checkpoint_signature_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let (files, key) = three_days(dir.path());
    // Someone rewrites the last decision of day 3 and the chain after it,
    // but cannot sign: re-chain by hand and keep the old signature.
    let mut l = lines(&files[2]);
    assert!(l[6].contains("r24@payer.example"));
    l[6] = l[6].replace("r24@payer.example", "r99@payer.example");
    let rehash = |line: &str| super::chain::hash_line(line.as_bytes());
    let new_prev = rehash(&l[6]);
    let mut last: serde_json::Value = serde_json::from_str(&l[7]).unwrap();
    last["prev"] = serde_json::Value::String(new_prev);
    l[7] = serde_json::to_string(&last).unwrap();
    write_lines(&files[2], &l);
    let p = check(dir.path(), &key).unwrap_err();
    assert_eq!(
        (p.file.as_str(), p.line),
        ("audit-2026-11-22.jsonl", Some(8)),
        "{p}"
    );
    assert!(p.message.contains("signature"), "{p}");
}

#[test]
fn a_deleted_record_is_caught_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (files, key) = three_days(dir.path());
    let mut l = lines(&files[0]);
    l.remove(4);
    write_lines(&files[0], &l);
    let p = check(dir.path(), &key).unwrap_err();
    assert_eq!(
        (p.file.as_str(), p.line),
        ("audit-2026-11-20.jsonl", Some(5)),
        "{p}"
    );
    assert!(p.message.contains("removed"), "{p}");
}

#[test]
fn truncation_is_caught_mid_record_and_at_a_record_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let (files, key) = three_days(dir.path());
    let full = std::fs::read(&files[2]).unwrap();
    std::fs::write(&files[2], &full[..full.len() - 10]).unwrap();
    let p = check(dir.path(), &key).unwrap_err();
    assert_eq!(
        (p.file.as_str(), p.line),
        ("audit-2026-11-22.jsonl", Some(8)),
        "{p}"
    );
    assert!(p.message.contains("cut short"), "{p}");
    // Whole records off the end: the chain is fine, but HEAD says more was signed.
    let l = lines(&files[2]);
    write_lines(&files[2], &l[..5]);
    let p = check(dir.path(), &key).unwrap_err();
    assert_eq!(p.file, "audit-2026-11-22.jsonl");
    assert!(p.message.contains("cut off the end"), "{p}");
}

#[test]
fn a_removed_file_is_caught_first_middle_or_last() {
    for (i, expect) in [
        (
            1,
            ("audit-2026-11-22.jsonl", "removed, renamed or reordered"),
        ),
        (0, ("audit-2026-11-21.jsonl", "is missing")),
        (
            2,
            (
                "audit-2026-11-22.jsonl",
                "cut off the end, or the file was removed",
            ),
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (files, key) = three_days(dir.path());
        std::fs::remove_file(&files[i]).unwrap();
        let p = check(dir.path(), &key).unwrap_err();
        assert_eq!(p.file, expect.0, "removing file {i}: {p}");
        assert!(p.message.contains(expect.1), "removing file {i}: {p}");
    }
}

#[test]
fn reordered_files_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let (files, key) = three_days(dir.path());
    let tmp = dir.path().join("swap");
    std::fs::rename(&files[0], &tmp).unwrap();
    std::fs::rename(&files[1], &files[0]).unwrap();
    std::fs::rename(&tmp, &files[1]).unwrap();
    let p = check(dir.path(), &key).unwrap_err();
    assert_eq!(p.file, "audit-2026-11-20.jsonl", "{p}");
    assert_eq!(p.line, Some(1));
}

#[test]
fn another_key_does_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _) = three_days(dir.path());
    let other = SigningKey::load_or_create(&dir.path().join("other")).unwrap();
    let p = check(
        dir.path(),
        &PublicKey::from_hex(&other.public_hex()).unwrap(),
    )
    .unwrap_err();
    assert!(p.message.contains("signed by key"), "{p}");
}

#[test]
fn files_past_retention_may_go_and_the_log_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (files, key) = three_days(dir.path());
    std::fs::remove_file(&files[0]).unwrap();
    // Seen from 2190 days later, the first day is past retention.
    let p = verify(&dir.path().join("audit"), &key, 2190).unwrap_err();
    assert!(p.message.contains("within the retention period"), "{p}");
    let s = verify(&dir.path().join("audit"), &key, 1).unwrap();
    assert_eq!(s.files, 2);
}

#[test]
fn reopening_continues_the_chain_and_cuts_a_torn_record() {
    let dir = tempfile::tempdir().unwrap();
    let (files, key) = three_days(dir.path());
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&files[2])
        .unwrap();
    std::io::Write::write_all(&mut f, b"{\"seq\":25,\"time\":\"2026-11-").unwrap();
    drop(f);
    let signing = Arc::new(SigningKey::load_or_create(&dir.path().join("key")).unwrap());
    let cfg = phigate_config::Config::embedded_default().audit;
    set_clock(crate::date::parse("2026-11-22T05:00:00Z").unwrap());
    let (mut w, notes) =
        Writer::open(&dir.path().join("audit"), signing, &cfg, fake_clock).unwrap();
    assert!(
        matches!(notes[..], [Event::Recovered { bytes: 26, .. }]),
        "{notes:?}"
    );
    let e = decision(99);
    w.append(&[&e]).unwrap();
    w.checkpoint().unwrap();
    let s = check(dir.path(), &key).unwrap();
    assert_eq!(s.records, 3 * 8 + 2);
}
