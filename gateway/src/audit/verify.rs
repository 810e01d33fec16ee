//! `phigate audit verify`: walks every file in order and checks each link
//! of the chain, each checkpoint's signature, each file's `file_start`, and
//! that the log reaches the checkpoint `HEAD` names. The first problem is
//! reported with its file and line, which is where an investigation starts.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::chain::{self, GENESIS, Head, PublicKey, Record};
use super::event::Event;
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
    /// Records after the last checkpoint (protected by the chain only).
    pub unsigned_tail: u64,
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

/// Verifies the log in `dir` with `key`. Files older than `retention_days`
/// may have been removed by retention; a gap anywhere else is an error.
pub fn verify(dir: &Path, key: &PublicKey, retention_days: u64) -> Result<Summary, Problem> {
    let dir_name = dir.display().to_string();
    let names = list(dir).map_err(|e| problem(&dir_name, None, format!("cannot list: {e}")))?;
    let mut s = Summary {
        files: names.len(),
        records: 0,
        checkpoints: 0,
        unsigned_tail: 0,
    };
    let mut expect_seq: Option<u64> = None;
    let mut prev = String::new();
    let mut previous_name: Option<&str> = None;
    let mut previous_line: Option<(&str, u64)> = None;
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
            if line_no == 1 {
                let Event::FileStart { previous_file } = &record.event else {
                    return Err(problem(name, at, "a file must begin with file_start"));
                };
                match (previous_name, previous_file.as_deref()) {
                    (None, None) => {
                        if record.seq != 1 || record.prev != GENESIS {
                            return Err(problem(
                                name,
                                at,
                                "the first file does not start the chain",
                            ));
                        }
                    }
                    (None, Some(missing)) => {
                        // Earlier files may only be gone because retention removed them.
                        let limit = crate::date::day(
                            crate::date::now().saturating_sub(retention_days * 86_400),
                        );
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
            if let Event::Checkpoint { key_id, sig } = &record.event {
                if *key_id != key.key_id() {
                    return Err(problem(
                        name,
                        at,
                        format!(
                            "seq {}: signed by key {key_id}, not by {}",
                            record.seq,
                            key.key_id()
                        ),
                    ));
                }
                if !key.verifies(&chain::checkpoint_message(record.seq, &record.prev), sig) {
                    return Err(problem(
                        name,
                        at,
                        format!(
                            "seq {}: the checkpoint signature does not verify",
                            record.seq
                        ),
                    ));
                }
                signed.insert(record.seq, (name.clone(), record.prev.clone()));
                s.checkpoints += 1;
                s.unsigned_tail = 0;
            } else {
                s.unsigned_tail += 1;
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
    let head_text = match std::fs::read(dir.join("HEAD")) {
        Ok(t) => t,
        Err(_) if names.is_empty() => return Ok(s),
        Err(e) => return Err(problem("HEAD", None, format!("cannot read: {e}"))),
    };
    let head: Head = serde_json::from_slice(&head_text)
        .map_err(|e| problem("HEAD", None, format!("not a valid HEAD: {e}")))?;
    if !key.verifies(&chain::checkpoint_message(head.seq, &head.prev), &head.sig) {
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
