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

pub(crate) struct Writer {
    dir: PathBuf,
    key: Arc<SigningKey>,
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
    pub fn open(
        dir: &Path,
        key: Arc<SigningKey>,
        cfg: &phigate_config::AuditConfig,
        clock: fn() -> u64,
    ) -> Result<(Writer, Vec<Event>), AuditError> {
        let io = |what: &'static str| move |e| AuditError::from_io(what, e);
        std::fs::create_dir_all(dir).map_err(io("create the audit directory"))?;
        write_atomic(
            dir,
            "signing.pub",
            format!("{}\n", key.public_hex()).as_bytes(),
        )
        .map_err(io("write signing.pub"))?;
        let mut w = Writer {
            dir: dir.to_owned(),
            key,
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
        w.prune();
        Ok((w, notes))
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
                let result = self.append(&events);
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
                for done in flushes {
                    let _ = done.send(());
                }
            }
        }
        if self.since_checkpoint > 0 {
            self.checkpoint_logged();
        }
    }

    fn checkpoint_logged(&mut self) {
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
        let file = OpenOptions::new()
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
            file: name,
            seq,
            prev,
            sig,
        };
        let text = serde_json::to_vec(&head).expect("head serialises");
        write_atomic(&self.dir, "HEAD", &text)
            .map_err(|e| AuditError::from_io("write the audit HEAD", e))?;
        self.since_checkpoint = 0;
        self.last_checkpoint = Instant::now();
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

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Replaces `dir/name` with `bytes` so that a crash leaves the old or the new.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(name))?;
    sync_dir(dir)
}
