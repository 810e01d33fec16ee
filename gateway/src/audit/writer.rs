//! The one thread that appends to the audit log, with group commit (as the
//! spool's writer): it takes every batch of events waiting, chains and
//! writes them, calls `fdatasync` once, and only then answers. Files rotate
//! at UTC midnight; checkpoints are signed every `checkpoint_every` records
//! and at least every `checkpoint_interval` while records are written.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::AuditError;
use super::chain::{self, GENESIS, Head, Record, SigningKey};
use super::event::Event;
use super::witness::{self, Entry, FileWitness, Standing, SyslogWitness};

/// Where the answer to an append goes.
pub(crate) type Done = oneshot::Sender<Result<(), AuditError>>;

/// Work for the writer thread.
pub(crate) enum Request {
    /// Append these events; answered once they are durable.
    Append { events: Vec<Event>, done: Done },
    /// Write a checkpoint now (at shutdown).
    Checkpoint { done: oneshot::Sender<()> },
}

/// Audit files are `audit-YYYY-MM-DD.jsonl`.
pub(crate) fn file_name(day: &str) -> String {
    format!("audit-{day}.jsonl")
}

/// The day of an audit file name.
pub(crate) fn day_of(name: &str) -> Option<&str> {
    name.strip_prefix("audit-")?.strip_suffix(".jsonl")
}

/// Audit file names in `dir`, oldest first.
pub(crate) fn list(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| day_of(n).is_some())
        .collect();
    names.sort();
    Ok(names)
}

/// Where checkpoints are witnessed, and what to tell when that fails.
#[derive(Default)]
pub(crate) struct Witnesses {
    pub file: Option<FileWitness>,
    pub syslog: Option<SyslogWitness>,
    pub metrics: Option<Arc<crate::metrics::Metrics>>,
}

impl Witnesses {
    /// Waits (bounded) for the syslog witness to send what is queued: a
    /// checkpoint written at shutdown must reach the collector before the
    /// process ends.
    fn flush(&self) {
        if let Some(sw) = &self.syslog
            && !sw.flush(Duration::from_secs(5))
        {
            self.failed(
                "syslog",
                "collector did not take the last checkpoint in 5 s",
            );
        }
    }

    fn failed(&self, which: &str, error: &str) {
        tracing::error!(witness = which, error, "audit checkpoint not witnessed");
        if let Some(m) = &self.metrics {
            m.audit_witness_failures_total
                .with_label_values(&[which])
                .inc();
        }
    }
}

pub(crate) struct Writer {
    dir: PathBuf,
    key: Arc<SigningKey>,
    /// Why the writer refuses to continue this log, when it does: the log
    /// is behind its witness, or was rewritten, or its chain does not
    /// verify, or it was signed by another key. Nothing is signed over it.
    halted: Option<String>,
    witnesses: Witnesses,
    every: u64,
    interval: Duration,
    retention_days: u64,
    /// The open file and its name; `None` until the first record of a day.
    file: Option<(File, String)>,
    /// Bytes in the open file.
    size: u64,
    /// Last record written: its seq and the hash of its line.
    seq: u64,
    prev: String,
    /// Name of the newest file, for the next file's `file_start`.
    last_file: Option<String>,
    since_checkpoint: u64,
    last_checkpoint: Instant,
    /// Unix seconds now: the system clock, or a test's.
    clock: fn() -> u64,
}

impl Writer {
    /// Opens the log in `dir`: finds where the chain ends, cutting off a
    /// partial record a crash left (it was never acknowledged), and records
    /// that it started.
    #[cfg(test)]
    pub fn open(
        dir: &Path,
        key: Arc<SigningKey>,
        cfg: &phigate_config::AuditConfig,
        clock: fn() -> u64,
    ) -> Result<(Writer, Vec<Event>), AuditError> {
        Self::open_with(dir, key, None, cfg, clock, Witnesses::default())
    }

    /// Opens the log as [`Writer::open`] does, then decides whether it may
    /// be continued: its last file's chain and signatures must verify, its
    /// last checkpoint must be this key's (or `previous`'s, which then
    /// hands over to this key in a rotation record), a new log must be
    /// started with the pinned key, and the log must reach its newest file
    /// witness as witnessed. Otherwise the writer halts: it refuses every
    /// append and says why, rather than sign over a rollback or a forgery.
    pub fn open_with(
        dir: &Path,
        key: Arc<SigningKey>,
        previous: Option<Arc<SigningKey>>,
        cfg: &phigate_config::AuditConfig,
        clock: fn() -> u64,
        witnesses: Witnesses,
    ) -> Result<(Writer, Vec<Event>), AuditError> {
        let io = |what: &'static str| move |e| AuditError::from_io(what, e);
        crate::fsmode::create_private_dir(dir).map_err(io("create the audit directory"))?;
        write_atomic(
            dir,
            "signing.pub",
            format!("{}\n", key.public_hex()).as_bytes(),
        )
        .map_err(io("write signing.pub"))?;
        let mut w = Writer {
            dir: dir.to_owned(),
            key,
            halted: None,
            witnesses,
            every: cfg.checkpoint_every,
            interval: cfg.checkpoint_interval,
            retention_days: cfg.retention_days,
            file: None,
            size: 0,
            seq: 0,
            prev: GENESIS.to_string(),
            last_file: None,
            since_checkpoint: 0,
            last_checkpoint: Instant::now(),
            clock,
        };
        let mut notes = Vec::new();
        let names = list(dir).map_err(io("list the audit directory"))?;
        if let Some(last) = names.last() {
            let path = dir.join(last);
            let (seq, prev, good_len, total) =
                tail(&path).map_err(io("read the last audit file"))?;
            if good_len < total {
                let f = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(io("open the last audit file"))?;
                f.set_len(good_len)
                    .and_then(|()| f.sync_all())
                    .map_err(io("trim a partial audit record"))?;
                tracing::warn!(file = %last, bytes = total - good_len, "cut off a partial audit record left by a crash");
                notes.push(Event::Recovered {
                    file: last.clone(),
                    bytes: total - good_len,
                });
            }
            match seq {
                Some(seq) => {
                    w.seq = seq;
                    w.prev = prev;
                }
                None if good_len > 0 => {
                    return Err(AuditError::Corrupt(format!(
                        "{last} ends with a record that cannot be read; run `phigate audit verify`"
                    )));
                }
                None => {}
            }
            w.last_file = Some(last.clone());
        }
        let mut rotate_from = None;
        match w.may_continue(&names, previous.as_deref(), cfg) {
            Ok(rotate) => rotate_from = rotate.then_some(previous).flatten(),
            Err(reason) => {
                tracing::error!(reason = %reason, "AUDIT LOG HALTED: refusing to continue this log; no mail is accepted until it is resolved");
                w.halted = Some(reason);
            }
        }
        if let Some(old) = rotate_from {
            w.rotate(&old)?;
            tracing::warn!(from = %old.key_id(), to = %w.key.key_id(), "audit signing key rotated");
        }
        w.prune();
        Ok((w, notes))
    }

    /// Why the log cannot be continued, if it cannot; `Ok(true)` when the
    /// previous key must hand over to the current one first.
    fn may_continue(
        &self,
        names: &[String],
        previous: Option<&SigningKey>,
        cfg: &phigate_config::AuditConfig,
    ) -> Result<bool, String> {
        let mut keys: Vec<&SigningKey> = vec![&self.key];
        keys.extend(previous);
        let last_key = match names.last() {
            Some(last) => check_file(&self.dir.join(last), &keys)
                .map_err(|e| format!("{last}: {e}; run `phigate audit verify`"))?,
            None => None,
        };
        let mut rotate = false;
        match last_key {
            None if names.is_empty() => {
                if let Some(pin) = &cfg.public_key
                    && *pin != self.key.public_hex()
                {
                    return Err(format!(
                        "the signing key ({}) is not the pinned audit.public_key: a new log must start with the pinned key",
                        self.key.key_id()
                    ));
                }
            }
            None => {}
            Some(k) if k == self.key.key_id() => {}
            Some(k) if previous.is_some_and(|p| p.key_id() == k) => rotate = true,
            Some(k) => {
                return Err(format!(
                    "the log is signed by key {k}, but the signing key is {}: restore that key, or set audit.previous_signing_key to it to rotate",
                    self.key.key_id()
                ));
            }
        }
        if let Some(fw) = &self.witnesses.file {
            let entry = witness::last_entry(fw.path())
                .map_err(|e| format!("the witness cannot be read: {e}"))?;
            if let Some(e) = entry {
                match witness::standing(&self.dir, self.seq, &e) {
                    Standing::Consistent => {}
                    Standing::Behind { witnessed, last } => {
                        return Err(format!(
                            "the log ends at seq {last}, but its witness {} saw checkpoint seq {witnessed}: records were removed or the log was rolled back",
                            fw.path().display()
                        ));
                    }
                    Standing::Rewritten { witnessed } => {
                        return Err(format!(
                            "checkpoint seq {witnessed} in the log is not the one its witness {} saw: the log was rewritten",
                            fw.path().display()
                        ));
                    }
                }
            }
        }
        Ok(rotate)
    }

    /// Hands the log over from `old` to the current key: a rotation record
    /// signed by both, then a checkpoint by the new key.
    fn rotate(&mut self, old: &SigningKey) -> Result<(), AuditError> {
        let seq = self.seq + 1;
        let (old_public, new_public) = (old.public_hex(), self.key.public_hex());
        let msg = chain::rotation_message(seq, &self.prev, &old_public, &new_public);
        let event = Event::KeyRotation {
            old_key_id: old.key_id(),
            old_public,
            new_key_id: self.key.key_id(),
            new_public,
            sig_old: old.sign(&msg),
            sig_new: self.key.sign(&msg),
        };
        self.append(&[&event])?;
        self.checkpoint()
    }

    /// Why the writer refuses to continue, when it does.
    pub fn halted(&self) -> Option<&str> {
        self.halted.as_deref()
    }

    /// Runs until every sender is gone, then writes a last checkpoint.
    pub fn run(mut self, rx: Receiver<Request>) {
        loop {
            let wait = if self.since_checkpoint > 0 {
                self.interval.saturating_sub(self.last_checkpoint.elapsed())
            } else {
                Duration::from_secs(3600)
            };
            let first = match rx.recv_timeout(wait) {
                Ok(r) => r,
                Err(RecvTimeoutError::Timeout) => {
                    self.checkpoint_logged();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let mut batch: Vec<(Vec<Event>, Done)> = Vec::new();
            let mut flushes = Vec::new();
            let mut next = Some(first);
            while let Some(req) = next.take() {
                match req {
                    Request::Append { events, done } => batch.push((events, done)),
                    Request::Checkpoint { done } => flushes.push(done),
                }
                next = rx.try_recv().ok();
            }
            if !batch.is_empty() {
                let events: Vec<&Event> = batch.iter().flat_map(|(e, _)| e.iter()).collect();
                let result = match &self.halted {
                    Some(reason) => Err(AuditError::Halted(reason.clone())),
                    None => self.append(&events),
                };
                if let Err(e) = &result {
                    tracing::error!(error = %e, "audit write failed");
                }
                for (_, done) in batch {
                    let _ = done.send(result.clone());
                }
                if self.since_checkpoint >= self.every
                    || self.last_checkpoint.elapsed() >= self.interval
                {
                    self.checkpoint_logged();
                }
            }
            if !flushes.is_empty() {
                if self.since_checkpoint > 0 {
                    self.checkpoint_logged();
                }
                self.witnesses.flush();
                for done in flushes {
                    let _ = done.send(());
                }
            }
        }
        if self.since_checkpoint > 0 {
            self.checkpoint_logged();
        }
        self.witnesses.flush();
    }

    fn checkpoint_logged(&mut self) {
        if self.halted.is_some() {
            return;
        }
        if let Err(e) = self.checkpoint() {
            tracing::error!(error = %e, "audit checkpoint failed");
        }
    }

    /// Appends events durably; on failure the file is cut back to where
    /// the batch began, so nothing refused can come back later.
    pub(crate) fn append(&mut self, events: &[&Event]) -> Result<(), AuditError> {
        let t = (self.clock)();
        self.ensure_file(t)?;
        let (seq0, prev0, size0) = (self.seq, self.prev.clone(), self.size);
        let mut buf = Vec::with_capacity(events.len() * 512);
        for e in events {
            self.encode(t, e, &mut buf);
        }
        let (file, _) = self.file.as_mut().expect("ensured");
        let written = file.write_all(&buf).and_then(|()| file.sync_data());
        match written {
            Ok(()) => {
                self.size += buf.len() as u64;
                self.since_checkpoint += events.len() as u64;
                Ok(())
            }
            Err(e) => {
                let undo = file
                    .set_len(size0)
                    .and_then(|()| file.seek(SeekFrom::Start(size0)).map(|_| ()));
                if undo.is_err() {
                    // Start afresh with the next record: reopen on next use.
                    self.file = None;
                }
                self.seq = seq0;
                self.prev = prev0;
                Err(AuditError::from_io("append to the audit log", e))
            }
        }
    }

    /// Chains one event after the last record, into `buf`.
    fn encode(&mut self, t: u64, event: &Event, buf: &mut Vec<u8>) {
        let record = Record {
            seq: self.seq + 1,
            time: crate::date::rfc3339(t),
            prev: std::mem::take(&mut self.prev),
            event: event.clone(),
        };
        let start = buf.len();
        serde_json::to_writer(&mut *buf, &record).expect("audit records serialise");
        self.prev = chain::hash_line(&buf[start..]);
        buf.push(b'\n');
        self.seq = record.seq;
    }

    /// Opens today's file, starting it (file_start, checkpoint) if new.
    fn ensure_file(&mut self, t: u64) -> Result<(), AuditError> {
        let name = file_name(&crate::date::day(t));
        if self.file.as_ref().is_some_and(|(_, n)| *n == name) {
            return Ok(());
        }
        let path = self.dir.join(&name);
        let file = crate::fsmode::private_options()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| AuditError::from_io("open an audit file", e))?;
        let size = file
            .metadata()
            .map_err(|e| AuditError::from_io("open an audit file", e))?
            .len();
        sync_dir(&self.dir).map_err(|e| AuditError::from_io("sync the audit directory", e))?;
        let fresh = size == 0;
        let previous = self.last_file.clone().filter(|p| *p != name);
        self.file = Some((file, name.clone()));
        self.size = size;
        self.last_file = Some(name);
        if fresh {
            let mut buf = Vec::new();
            self.encode(
                t,
                &Event::FileStart {
                    previous_file: previous,
                },
                &mut buf,
            );
            let (f, _) = self.file.as_mut().expect("just opened");
            f.write_all(&buf)
                .and_then(|()| f.sync_data())
                .map_err(|e| AuditError::from_io("start an audit file", e))?;
            self.size += buf.len() as u64;
            self.since_checkpoint += 1;
            // Sign at once, so HEAD names the new file from its first record.
            self.checkpoint()?;
            self.prune();
        }
        Ok(())
    }

    /// Appends a signed checkpoint and points `HEAD` at it.
    pub(crate) fn checkpoint(&mut self) -> Result<(), AuditError> {
        let t = (self.clock)();
        self.ensure_file(t)?;
        let seq = self.seq + 1;
        let prev = self.prev.clone();
        let sig = self.key.sign(&chain::checkpoint_message(seq, &prev));
        let event = Event::Checkpoint {
            key_id: self.key.key_id(),
            sig: sig.clone(),
        };
        let mut buf = Vec::new();
        self.encode(t, &event, &mut buf);
        let (f, name) = self.file.as_mut().expect("ensured");
        let name = name.clone();
        f.write_all(&buf)
            .and_then(|()| f.sync_data())
            .map_err(|e| AuditError::from_io("write an audit checkpoint", e))?;
        self.size += buf.len() as u64;
        let head = Head {
            file: name.clone(),
            seq,
            prev: prev.clone(),
            sig: sig.clone(),
            key_id: self.key.key_id(),
        };
        let text = serde_json::to_vec(&head).expect("head serialises");
        write_atomic(&self.dir, "HEAD", &text)
            .map_err(|e| AuditError::from_io("write the audit HEAD", e))?;
        self.since_checkpoint = 0;
        self.last_checkpoint = Instant::now();
        // Witnessed after it is in the log: a witness is never ahead of a
        // log that was not tampered with.
        let entry = Entry {
            seq,
            prev,
            sig,
            key_id: self.key.key_id(),
            file: name,
            time: crate::date::rfc3339(t),
        };
        if let Some(fw) = &self.witnesses.file
            && let Err(e) = fw.append(&entry)
        {
            self.witnesses.failed("file", &e.to_string());
        }
        if let Some(sw) = &self.witnesses.syslog
            && !sw.send(entry)
        {
            self.witnesses.failed("syslog", "queue full");
        }
        Ok(())
    }

    /// Removes files older than the retention period (never today's).
    fn prune(&mut self) {
        let Ok(names) = list(&self.dir) else {
            return;
        };
        let cutoff = crate::date::day((self.clock)().saturating_sub(self.retention_days * 86_400));
        for name in names {
            let Some(day) = day_of(&name) else { continue };
            if day < cutoff.as_str() {
                match std::fs::remove_file(self.dir.join(&name)) {
                    Ok(()) => tracing::info!(file = %name, "audit file past retention removed"),
                    Err(e) => {
                        tracing::warn!(file = %name, error = %e, "could not remove an audit file past retention")
                    }
                }
            }
        }
    }
}

/// Where a file's chain ends: the last whole record's seq and line hash,
/// the length up to its end, and the file's length.
fn tail(path: &Path) -> std::io::Result<(Option<u64>, String, u64, u64)> {
    // Records are small; the last few MiB hold the last whole one.
    const WINDOW: u64 = 4 << 20;
    let mut f = File::open(path)?;
    let total = f.metadata()?.len();
    let from = total.saturating_sub(WINDOW);
    f.seek(SeekFrom::Start(from))?;
    let mut text = Vec::new();
    f.read_to_end(&mut text)?;
    let Some(end) = text.iter().rposition(|&b| b == b'\n') else {
        return Ok((None, GENESIS.to_string(), from, total));
    };
    let start = text[..end]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = &text[start..end];
    let seq = serde_json::from_slice::<Record>(line).ok().map(|r| r.seq);
    Ok((seq, chain::hash_line(line), from + end as u64 + 1, total))
}

/// Checks one file's chain (each record links to the one before) and its
/// checkpoints' signatures with `keys`; the id of the key of its last
/// checkpoint.
fn check_file(path: &Path, keys: &[&SigningKey]) -> Result<Option<String>, String> {
    use std::io::BufRead;
    let f = File::open(path).map_err(|e| e.to_string())?;
    let publics: Vec<(String, super::PublicKey)> =
        keys.iter().map(|k| (k.key_id(), k.public())).collect();
    let mut prev: Option<String> = None;
    let mut last_key = None;
    for (i, line) in std::io::BufReader::new(f).split(b'\n').enumerate() {
        let line = line.map_err(|e| e.to_string())?;
        let at = i + 1;
        let r: Record = serde_json::from_slice(&line)
            .map_err(|_| format!("record at line {at} cannot be read"))?;
        if let Some(p) = &prev
            && *p != r.prev
        {
            return Err(format!("the chain breaks at line {at} (seq {})", r.seq));
        }
        prev = Some(chain::hash_line(&line));
        match &r.event {
            Event::Checkpoint { key_id, sig } => {
                if let Some((_, k)) = publics.iter().find(|(id, _)| id == key_id)
                    && !k.verifies(&chain::checkpoint_message(r.seq, &r.prev), sig)
                {
                    return Err(format!(
                        "the checkpoint at line {at} (seq {}) does not verify",
                        r.seq
                    ));
                }
                last_key = Some(key_id.clone());
            }
            Event::KeyRotation { new_key_id, .. } => last_key = Some(new_key_id.clone()),
            _ => {}
        }
    }
    Ok(last_key)
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Replaces `dir/name` with `bytes` so that a crash leaves the old or the new.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = crate::fsmode::create_private(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(name))?;
    sync_dir(dir)
}
