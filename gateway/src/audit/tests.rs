//! Tampering with the log in every way an investigator must be able to
//! see: each case makes `verify` fail, naming the file and record.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::chain::{PublicKey, SigningKey};
use super::event::{Decision, Event};
use super::verify::{Problem, verify};
use super::witness::{self, FileWitness};
use super::writer::{Witnesses, Writer};

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

// ---- Rollback, replacement and rewriting by someone who can write the
// audit directory (security review). Each of these verified "intact"
// before witnesses, pinned keys and the writer's start checks.

/// `three_days`, with every checkpoint also witnessed in a file outside
/// the audit directory; the witness file.
fn three_days_witnessed(dir: &Path) -> (Vec<PathBuf>, PublicKey, PathBuf) {
    let key = Arc::new(SigningKey::load_or_create(&dir.join("key")).unwrap());
    let public = PublicKey::from_hex(&key.public_hex()).unwrap();
    let logs = dir.join("audit");
    let wpath = dir.join("witness/checkpoints");
    let cfg = phigate_config::Config::embedded_default().audit;
    let day0 = crate::date::parse("2026-11-20").unwrap();
    set_clock(day0);
    let witnesses = Witnesses {
        file: Some(FileWitness::new(&wpath)),
        ..Witnesses::default()
    };
    let (mut w, _) = Writer::open_with(&logs, key, None, &cfg, fake_clock, witnesses).unwrap();
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
    (files, public, wpath)
}

fn check_witnessed(
    dir: &Path,
    key: &PublicKey,
    wpath: &Path,
) -> Result<super::verify::Summary, Problem> {
    let entries = witness::read_entries(wpath).unwrap();
    super::verify::verify_with(&dir.join("audit"), key, 2190, &entries)
}

/// Re-open the log as a restarted gateway would, with the witness.
fn reopen(dir: &Path, wpath: &Path) -> Writer {
    let key = Arc::new(SigningKey::load_or_create(&dir.join("key")).unwrap());
    let cfg = phigate_config::Config::embedded_default().audit;
    set_clock(crate::date::parse("2026-11-22T06:00:00Z").unwrap());
    let witnesses = Witnesses {
        file: Some(FileWitness::new(wpath)),
        ..Witnesses::default()
    };
    Writer::open_with(&dir.join("audit"), key, None, &cfg, fake_clock, witnesses)
        .unwrap()
        .0
}

/// Rolls the log back to the checkpoint closing day 2 (file 2, line 8):
/// file 3 removed, HEAD rebuilt from that checkpoint record.
fn roll_back_to_day_two(dir: &Path, files: &[PathBuf]) {
    std::fs::remove_file(&files[2]).unwrap();
    let last = lines(&files[1]).pop().unwrap();
    let r: super::Record = serde_json::from_str(&last).unwrap();
    let Event::Checkpoint { sig, key_id } = r.event else {
        panic!("not a checkpoint")
    };
    let head = super::Head {
        file: "audit-2026-11-21.jsonl".into(),
        seq: r.seq,
        prev: r.prev,
        sig,
        key_id,
    };
    std::fs::write(dir.join("audit/HEAD"), serde_json::to_vec(&head).unwrap()).unwrap();
}

#[test]
fn a_rollback_to_an_old_checkpoint_is_caught_by_the_witness() {
    let dir = tempfile::tempdir().unwrap();
    let (files, key, wpath) = three_days_witnessed(dir.path());
    assert!(check_witnessed(dir.path(), &key, &wpath).is_ok());
    roll_back_to_day_two(dir.path(), &files);
    // Consistent in itself: without a witness nothing can tell.
    assert!(check(dir.path(), &key).is_ok());
    let p = check_witnessed(dir.path(), &key, &wpath).unwrap_err();
    assert!(p.message.contains("rolled back"), "{p}");
    // The writer refuses to sign over it.
    let w = reopen(dir.path(), &wpath);
    assert!(
        w.halted().is_some_and(|r| r.contains("rolled back")),
        "{:?}",
        w.halted()
    );
}

#[test]
fn a_deleted_log_is_a_failure_not_intact() {
    let dir = tempfile::tempdir().unwrap();
    let (files, key, wpath) = three_days_witnessed(dir.path());
    for f in &files {
        std::fs::remove_file(f).unwrap();
    }
    std::fs::remove_file(dir.path().join("audit/HEAD")).unwrap();
    let p = check(dir.path(), &key).unwrap_err();
    assert!(p.message.contains("no audit records"), "{p}");
    let w = reopen(dir.path(), &wpath);
    assert!(w.halted().is_some(), "a new log over a witnessed one");
}

#[test]
fn an_older_copy_of_the_newest_file_is_caught_by_the_witness() {
    let dir = tempfile::tempdir().unwrap();
    let (files, key, wpath) = three_days_witnessed(dir.path());
    // Keep day 3 as it was after two decisions and its first checkpoint...
    let old: Vec<String> = lines(&files[2])[..2].to_vec();
    let old_head = std::fs::read(dir.path().join("audit/HEAD")).unwrap();
    let _ = old_head;
    write_lines(&files[2], &old);
    let r: super::Record = serde_json::from_str(&old[1]).unwrap();
    let Event::Checkpoint { sig, key_id } = r.event else {
        panic!()
    };
    let head = super::Head {
        file: "audit-2026-11-22.jsonl".into(),
        seq: r.seq,
        prev: r.prev,
        sig,
        key_id,
    };
    std::fs::write(
        dir.path().join("audit/HEAD"),
        serde_json::to_vec(&head).unwrap(),
    )
    .unwrap();
    assert!(check(dir.path(), &key).is_ok(), "consistent in itself");
    let p = check_witnessed(dir.path(), &key, &wpath).unwrap_err();
    assert!(
        p.message.contains("rolled back") || p.message.contains("removed"),
        "{p}"
    );
}

#[test]
fn removing_a_message_and_rechaining_is_not_signed_over() {
    let dir = tempfile::tempdir().unwrap();
    let (files, key, wpath) = three_days_witnessed(dir.path());
    // Remove decision 2 of day 3 and re-chain every later record (the
    // checkpoint signatures then no longer verify).
    let mut ls = lines(&files[2]);
    ls.remove(3);
    let mut prev: Option<String> = None;
    let mut out = Vec::new();
    for l in ls {
        let mut r: super::Record = serde_json::from_str(&l).unwrap();
        if let Some(p) = &prev {
            r.prev = p.clone();
            r.seq = out.len() as u64 + 17;
        }
        let line = serde_json::to_string(&r).unwrap();
        prev = Some(super::chain::hash_line(line.as_bytes()));
        out.push(line);
    }
    write_lines(&files[2], &out);
    assert!(check(dir.path(), &key).is_err());
    let w = reopen(dir.path(), &wpath);
    assert!(
        w.halted().is_some(),
        "the writer must not continue a forged log"
    );
}

#[test]
fn a_log_rewritten_with_a_new_key_fails_against_the_pinned_key() {
    let dir = tempfile::tempdir().unwrap();
    let (_, pinned) = three_days(dir.path());
    // The insider makes a new key and rewrites the whole log with it.
    let other = tempfile::tempdir().unwrap();
    let (_, theirs) = three_days(other.path());
    std::fs::remove_dir_all(dir.path().join("audit")).unwrap();
    std::fs::rename(other.path().join("audit"), dir.path().join("audit")).unwrap();
    assert!(
        check(dir.path(), &theirs).is_ok(),
        "with their key it is intact"
    );
    let p = check(dir.path(), &pinned).unwrap_err();
    assert!(p.message.contains("signed by key"), "{p}");
    // And a gateway pinned to the real key does not start a log with theirs.
    let mut cfg = phigate_config::Config::embedded_default().audit;
    cfg.public_key = Some(pinned.to_hex());
    let fresh = tempfile::tempdir().unwrap();
    let theirs_key = Arc::new(SigningKey::load_or_create(&other.path().join("key")).unwrap());
    let (w, _) = Writer::open_with(
        &fresh.path().join("audit"),
        theirs_key,
        None,
        &cfg,
        fake_clock,
        Witnesses::default(),
    )
    .unwrap();
    assert!(
        w.halted().is_some_and(|r| r.contains("pinned")),
        "{:?}",
        w.halted()
    );
}

#[test]
fn a_key_rotation_is_followed_from_either_key() {
    let dir = tempfile::tempdir().unwrap();
    let (_, old_public) = three_days(dir.path());
    let cfg = phigate_config::Config::embedded_default().audit;
    let old = Arc::new(SigningKey::load_or_create(&dir.path().join("key")).unwrap());
    let new = Arc::new(SigningKey::load_or_create(&dir.path().join("key2")).unwrap());
    set_clock(crate::date::parse("2026-11-22T06:00:00Z").unwrap());
    // Without the previous key the writer refuses the new one.
    let (w, _) = Writer::open_with(
        &dir.path().join("audit"),
        new.clone(),
        None,
        &cfg,
        fake_clock,
        Witnesses::default(),
    )
    .unwrap();
    assert!(
        w.halted()
            .is_some_and(|r| r.contains("previous_signing_key")),
        "{:?}",
        w.halted()
    );
    drop(w);
    let (mut w, _) = Writer::open_with(
        &dir.path().join("audit"),
        new.clone(),
        Some(old),
        &cfg,
        fake_clock,
        Witnesses::default(),
    )
    .unwrap();
    assert!(w.halted().is_none());
    w.append(&[&decision(77)]).unwrap();
    w.checkpoint().unwrap();
    let s = check(dir.path(), &old_public).unwrap();
    assert_eq!(s.keys, 2);
    let new_public = PublicKey::from_hex(&new.public_hex()).unwrap();
    assert!(
        check(dir.path(), &new_public).is_ok(),
        "pinned to the new key, the old one is linked"
    );
    let stranger = SigningKey::load_or_create(&dir.path().join("key3")).unwrap();
    assert!(
        check(
            dir.path(),
            &PublicKey::from_hex(&stranger.public_hex()).unwrap()
        )
        .is_err()
    );
}

#[test]
fn records_after_the_last_checkpoint_are_reported_unsealed() {
    let dir = tempfile::tempdir().unwrap();
    let (_, key) = three_days(dir.path());
    let signing = Arc::new(SigningKey::load_or_create(&dir.path().join("key")).unwrap());
    let cfg = phigate_config::Config::embedded_default().audit;
    set_clock(crate::date::parse("2026-11-22T07:00:00Z").unwrap());
    let (mut w, _) = Writer::open(&dir.path().join("audit"), signing, &cfg, fake_clock).unwrap();
    w.append(&[&decision(1), &decision(2)]).unwrap();
    assert_eq!(check(dir.path(), &key).unwrap().unsigned_tail, 2);
}
