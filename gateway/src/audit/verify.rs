//! `phigate audit verify`: walks every file in order and checks each link
//! of the chain, each checkpoint's signature, each file's `file_start`, and
//! that the log reaches the checkpoint `HEAD` names. The first problem is
//! reported with its file and line, which is where an investigation starts.
//!
//! Signatures are checked against a pinned key — from the configuration or
//! the command line, never from the audit directory, which whoever rewrites
//! the log can rewrite too. Key rotations in the log are followed both
//! ways (each is signed by the old and the new key), so the pin may be any
//! key of the chain. Witness entries (`--witness`) must each be found in
//! the log as witnessed, and the log must reach the newest: a log rolled
//! back, cut, replaced or rewritten with a new key fails here even when it
//! is consistent in itself.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::chain::{self, GENESIS, Head, PublicKey, Record};
use super::event::Event;
use super::witness::Entry;
use super::writer::{day_of, list};

/// An intact log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Files read.
    pub files: usize,
    /// Records read.
    pub records: u64,
    /// Signed checkpoints checked.
    pub checkpoints: u64,
    /// Records after the last checkpoint (protected by the chain only, not
    /// yet sealed by a signature).
    pub unsigned_tail: u64,
    /// Witness entries matched against the log.
    pub witnessed: usize,
    /// Signing keys seen (more than one after a rotation).
    pub keys: usize,
}

/// The first thing wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(": record at line {l}")).unwrap_or_default())]
pub struct Problem {
    /// The file (or `HEAD`, or the directory).
    pub file: String,
    /// 1-based line in it, when the problem is at a record.
    pub line: Option<u64>,
    /// What is wrong.
    pub message: String,
}

fn problem(file: &str, line: Option<u64>, message: impl Into<String>) -> Problem {
    Problem {
        file: file.to_string(),
        line,
        message: message.into(),
    }
}

/// Verifies the log in `dir` with `key` (no witnesses). Files older than
/// `retention_days` may have been removed by retention; a gap anywhere else
/// is an error.
pub fn verify(dir: &Path, key: &PublicKey, retention_days: u64) -> Result<Summary, Problem> {
    verify_with(dir, key, retention_days, &[])
}

/// A checkpoint (or rotation) whose key is not known yet: kept until a
/// rotation introduces the key, or reported at the end.
struct Pending {
    file: String,
    line: u64,
    key_id: String,
    check: Check,
}

enum Check {
    Checkpoint { msg: Vec<u8>, sig: String },
}

/// The keys trusted so far: the pinned one, and every key a verified
/// rotation links to it.
struct Keys {
    trusted: HashMap<String, PublicKey>,
    pending: Vec<Pending>,
    /// Rotations seen whose keys are not trusted yet.
    rotations: Vec<Rotation>,
}

/// A key rotation record, kept until one of its keys is trusted.
struct Rotation {
    old: PublicKey,
    new: PublicKey,
    msg: Vec<u8>,
    sig_old: String,
    sig_new: String,
    file: String,
    line: u64,
}

impl Keys {
    /// Takes rotations into account until nothing changes: a rotation with
    /// either side trusted (and both signatures valid) trusts the other.
    fn settle(&mut self) -> Result<(), Problem> {
        loop {
            let mut changed = false;
            let mut i = 0;
            while i < self.rotations.len() {
                let r = &self.rotations[i];
                let (oi, ni) = (r.old.key_id(), r.new.key_id());
                let known = self.trusted.contains_key(&oi) || self.trusted.contains_key(&ni);
                if !known {
                    i += 1;
                    continue;
                }
                if !r.old.verifies(&r.msg, &r.sig_old) || !r.new.verifies(&r.msg, &r.sig_new) {
                    return Err(problem(
                        &r.file,
                        Some(r.line),
                        "a key rotation's signatures do not verify",
                    ));
                }
                self.trusted.insert(oi, r.old.clone());
                self.trusted.insert(ni, r.new.clone());
                self.rotations.swap_remove(i);
                changed = true;
            }
            let mut still = Vec::new();
            for p in std::mem::take(&mut self.pending) {
                match self.trusted.get(&p.key_id) {
                    Some(k) => {
                        let Check::Checkpoint { msg, sig } = &p.check;
                        if !k.verifies(msg, sig) {
                            return Err(problem(
                                &p.file,
                                Some(p.line),
                                "the checkpoint signature does not verify",
                            ));
                        }
                        changed = true;
                    }
                    None => still.push(p),
                }
            }
            self.pending = still;
            if !changed {
                return Ok(());
            }
        }
    }
}

/// Verifies the log in `dir` against the pinned `key` and the witness
/// entries `witnesses`.
pub fn verify_with(
    dir: &Path,
    key: &PublicKey,
    retention_days: u64,
    witnesses: &[Entry],
) -> Result<Summary, Problem> {
    let dir_name = dir.display().to_string();
    let names = list(dir).map_err(|e| problem(&dir_name, None, format!("cannot list: {e}")))?;
    if names.is_empty() {
        return Err(problem(
            &dir_name,
            None,
            "no audit records: the log is missing or empty (a gateway that has run always has one)",
        ));
    }
    let mut s = Summary {
        files: names.len(),
        records: 0,
        checkpoints: 0,
        unsigned_tail: 0,
        witnessed: 0,
        keys: 0,
    };
    let mut keys = Keys {
        trusted: HashMap::from([(key.key_id(), key.clone())]),
        pending: Vec::new(),
        rotations: Vec::new(),
    };
    let mut key_ids: Vec<String> = Vec::new();
    let witnessed: HashMap<u64, &Entry> = witnesses.iter().map(|e| (e.seq, e)).collect();
    let mut seen_witnessed: Vec<u64> = Vec::new();
    let mut first_seq: Option<u64> = None;
    let mut expect_seq: Option<u64> = None;
    let mut prev = String::new();
    let mut previous_name: Option<&str> = None;
    let mut previous_line: Option<(&str, u64)> = None;
    // The key in force (by id): the first checkpoint's, then each rotation's new key.
    let mut current: Option<String> = None;
    // Checkpoints seen: seq -> (file, prev).
    let mut signed: HashMap<u64, (String, String)> = HashMap::new();
    for name in &names {
        let file = std::fs::File::open(dir.join(name))
            .map_err(|e| problem(name, None, format!("cannot open: {e}")))?;
        let mut reader = BufReader::new(file);
        let mut line_no = 0u64;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| problem(name, Some(line_no + 1), format!("cannot read: {e}")))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            let at = Some(line_no);
            let Some(line) = buf.strip_suffix(b"\n") else {
                return Err(problem(
                    name,
                    at,
                    "the record is cut short (the file was truncated)",
                ));
            };
            let record: Record = serde_json::from_slice(line)
                .map_err(|e| problem(name, at, format!("not a valid record: {e}")))?;
            first_seq.get_or_insert(record.seq);
            if line_no == 1 {
                check_file_start(name, at, &record, previous_name, retention_days)?;
            }
            if let Some(seq) = expect_seq {
                if record.seq != seq {
                    return Err(problem(
                        name,
                        at,
                        format!(
                            "seq {} where {seq} was expected: records were removed or reordered",
                            record.seq
                        ),
                    ));
                }
                if record.prev != prev {
                    // Most often the record before was edited: name it.
                    let (file, line) = previous_line.unwrap_or((name.as_str(), line_no));
                    return Err(problem(
                        file,
                        Some(line),
                        format!(
                            "seq {}: changed after it was written (seq {} does not chain from it)",
                            record.seq - 1,
                            record.seq
                        ),
                    ));
                }
            }
            match &record.event {
                Event::Checkpoint { key_id, sig } => {
                    match &current {
                        Some(c) if c != key_id => {
                            return Err(problem(
                                name,
                                at,
                                format!(
                                    "seq {}: signed by key {key_id}, not by {c}, the key in force (no rotation hands over to it)",
                                    record.seq
                                ),
                            ));
                        }
                        _ => current = Some(key_id.clone()),
                    }
                    if !key_ids.contains(key_id) {
                        key_ids.push(key_id.clone());
                    }
                    let msg = chain::checkpoint_message(record.seq, &record.prev);
                    match keys.trusted.get(key_id) {
                        Some(k) if k.verifies(&msg, sig) => {}
                        Some(_) => {
                            return Err(problem(
                                name,
                                at,
                                format!(
                                    "seq {}: the checkpoint signature does not verify",
                                    record.seq
                                ),
                            ));
                        }
                        None => keys.pending.push(Pending {
                            file: name.clone(),
                            line: line_no,
                            key_id: key_id.clone(),
                            check: Check::Checkpoint {
                                msg,
                                sig: sig.clone(),
                            },
                        }),
                    }
                    if let Some(w) = witnessed.get(&record.seq) {
                        if w.prev != record.prev || w.sig != *sig {
                            return Err(problem(
                                name,
                                at,
                                format!(
                                    "seq {}: this checkpoint is not the one its witness saw: the log was rewritten",
                                    record.seq
                                ),
                            ));
                        }
                        seen_witnessed.push(record.seq);
                    }
                    signed.insert(record.seq, (name.clone(), record.prev.clone()));
                    s.checkpoints += 1;
                    s.unsigned_tail = 0;
                }
                Event::KeyRotation {
                    old_key_id,
                    old_public,
                    new_key_id,
                    new_public,
                    sig_old,
                    sig_new,
                } => {
                    let (Some(old), Some(new)) = (
                        PublicKey::from_hex(old_public),
                        PublicKey::from_hex(new_public),
                    ) else {
                        return Err(problem(name, at, "a key rotation with a malformed key"));
                    };
                    if old.key_id() != *old_key_id || new.key_id() != *new_key_id {
                        return Err(problem(
                            name,
                            at,
                            "a key rotation whose key ids do not match its keys",
                        ));
                    }
                    if current.as_ref().is_some_and(|c| c != old_key_id) {
                        return Err(problem(
                            name,
                            at,
                            format!(
                                "a key rotation from {old_key_id}, which is not the key in force"
                            ),
                        ));
                    }
                    current = Some(new_key_id.clone());
                    let msg =
                        chain::rotation_message(record.seq, &record.prev, old_public, new_public);
                    keys.rotations.push(Rotation {
                        old,
                        new,
                        msg,
                        sig_old: sig_old.clone(),
                        sig_new: sig_new.clone(),
                        file: name.clone(),
                        line: line_no,
                    });
                    keys.settle()?;
                    s.unsigned_tail += 1;
                }
                _ => s.unsigned_tail += 1,
            }
            s.records += 1;
            previous_line = Some((name.as_str(), line_no));
            expect_seq = Some(record.seq + 1);
            prev = chain::hash_line(line);
        }
        if line_no == 0 {
            return Err(problem(
                name,
                None,
                "the file is empty (its records were removed)",
            ));
        }
        previous_name = Some(name);
    }
    keys.settle()?;
    if let Some(p) = keys.pending.first() {
        return Err(problem(
            &p.file,
            Some(p.line),
            format!(
                "signed by key {}, not by {}: neither the pinned key nor one a rotation links to it",
                p.key_id,
                key.key_id()
            ),
        ));
    }
    s.keys = key_ids.len();
    let last_seq = expect_seq.map_or(0, |n| n - 1);
    check_witnesses(
        witnesses,
        &seen_witnessed,
        first_seq.unwrap_or(1),
        last_seq,
        &keys,
    )?;
    s.witnessed = seen_witnessed.len();
    let head_text = std::fs::read(dir.join("HEAD"))
        .map_err(|e| problem("HEAD", None, format!("cannot read: {e}")))?;
    let head: Head = serde_json::from_slice(&head_text)
        .map_err(|e| problem("HEAD", None, format!("not a valid HEAD: {e}")))?;
    let head_key = current.as_ref().and_then(|c| keys.trusted.get(c));
    if !head_key
        .is_some_and(|k| k.verifies(&chain::checkpoint_message(head.seq, &head.prev), &head.sig))
    {
        return Err(problem("HEAD", None, "the signature does not verify"));
    }
    match signed.get(&head.seq) {
        Some((file, p)) if *p == head.prev && *file == head.file => Ok(s),
        _ => Err(problem(
            &head.file,
            None,
            format!(
                "the log does not reach the last signed checkpoint (seq {}): records were cut off the end, or the file was removed",
                head.seq
            ),
        )),
    }
}

/// Every witnessed checkpoint the log should still hold was found, the log
/// reaches the newest, and every entry is signed by a trusted key.
fn check_witnesses(
    witnesses: &[Entry],
    seen: &[u64],
    first_seq: u64,
    last_seq: u64,
    keys: &Keys,
) -> Result<(), Problem> {
    for w in witnesses {
        let k = keys.trusted.get(&w.key_id);
        if !k.is_some_and(|k| k.verifies(&chain::checkpoint_message(w.seq, &w.prev), &w.sig)) {
            return Err(problem(
                "witness",
                None,
                format!(
                    "the entry for seq {} is not signed by a trusted key: the witness was tampered with",
                    w.seq
                ),
            ));
        }
        if w.seq > last_seq {
            return Err(problem(
                &w.file,
                None,
                format!(
                    "the log ends at seq {last_seq}, but a witness saw checkpoint seq {}: records were removed or the log was rolled back",
                    w.seq
                ),
            ));
        }
        // Entries older than the oldest file kept were removed by retention.
        if w.seq >= first_seq && !seen.contains(&w.seq) {
            return Err(problem(
                &w.file,
                None,
                format!(
                    "the witnessed checkpoint seq {} is not in the log: the log was rewritten",
                    w.seq
                ),
            ));
        }
    }
    Ok(())
}

fn check_file_start(
    name: &str,
    at: Option<u64>,
    record: &Record,
    previous_name: Option<&str>,
    retention_days: u64,
) -> Result<(), Problem> {
    let Event::FileStart { previous_file } = &record.event else {
        return Err(problem(name, at, "a file must begin with file_start"));
    };
    match (previous_name, previous_file.as_deref()) {
        (None, None) => {
            if record.seq != 1 || record.prev != GENESIS {
                return Err(problem(name, at, "the first file does not start the chain"));
            }
        }
        (None, Some(missing)) => {
            // Earlier files may only be gone because retention removed them.
            let limit =
                crate::date::day(crate::date::now().saturating_sub(retention_days * 86_400));
            let old = day_of(missing).is_some_and(|d| d < limit.as_str());
            if !old {
                return Err(problem(
                    name,
                    at,
                    format!(
                        "the file before it, {missing}, is missing and is within the retention period"
                    ),
                ));
            }
        }
        (Some(p), Some(q)) if p == q => {}
        (Some(p), q) => {
            return Err(problem(
                name,
                at,
                format!(
                    "follows {p} here, but its first record names {}: a file was removed, renamed or reordered",
                    q.unwrap_or("no earlier file")
                ),
            ));
        }
    }
    Ok(())
}
