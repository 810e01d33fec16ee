//! The durable spool: an append-only log of segment files.
//!
//! Every accepted message is one record appended to the current segment and
//! flushed with `fdatasync` before the client hears 250 (see [`writer`] for
//! the group commit that makes this cheap). A message leaves the spool with a
//! `done` record; a segment whose messages are all done can be removed whole.
//! Why a log rather than a file per message, and the exact byte layout, are
//! in docs/SPOOL.md.

mod envelope;
mod id;
pub mod record;
mod status;
mod writer;

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

pub use envelope::{BodyType, Decision, Envelope, InboundTls};
pub use id::{IdGenerator, QueueId};
use record::{Reader, Record, Stop};
pub use status::{RcptState, StatusUpdate};
use writer::{Request, Writer, segment_path, sync_dir};

/// Spool failures, as values: the session maps them to SMTP replies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpoolError {
    /// The file system is full.
    #[error("spool storage full while trying to {0}")]
    Full(&'static str),
    /// Any other I/O failure.
    #[error("spool I/O error while trying to {what}: {message}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The OS error text.
        message: String,
    },
    /// Another process holds the spool.
    #[error("spool directory {0} is in use by another phigate process")]
    Locked(String),
    /// The writer thread has stopped.
    #[error("spool writer has stopped")]
    Closed,
    /// No waiting message has this ID.
    #[error("no waiting message {0}")]
    NotFound(QueueId),
    /// The audit receipt given does not cover the message.
    #[error("message {0} has no audit record: not spooled")]
    Unaudited(QueueId),
}

impl SpoolError {
    pub(crate) fn from_io(what: &'static str, e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::StorageFull
            || e.kind() == std::io::ErrorKind::QuotaExceeded
        {
            SpoolError::Full(what)
        } else {
            SpoolError::Io {
                what,
                message: e.to_string(),
            }
        }
    }
}

/// A message found in the spool.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    /// Its envelope.
    pub envelope: Envelope,
    /// Its content (with `Received:`), when asked for.
    pub message: Option<Vec<u8>>,
    /// Segment number holding it.
    pub segment: u64,
    /// Offset of its record in the segment.
    pub offset: u64,
    /// State of each recipient, in `rcpt_to` order.
    pub rcpts: Vec<RcptState>,
    /// Action in force for each recipient: a later change, or the stored
    /// decision's; `None` where neither exists (the policy's built-in
    /// default applies: the queue manager asks the policy).
    pub actions: Vec<Option<phigate_config::Action>>,
}

/// What a scan of the spool found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Messages not yet done, in queue-ID order.
    pub messages: Vec<StoredMessage>,
    /// Segment numbers present.
    pub segments: Vec<u64>,
    /// Segments whose tail was a torn (never acknowledged) write.
    pub torn: Vec<(u64, u64)>,
}

/// Reads every segment in `dir` without changing anything.
pub fn scan(dir: &Path, with_content: bool) -> Result<Scan, SpoolError> {
    let mut out = Scan::default();
    let mut live: BTreeMap<QueueId, StoredMessage> = BTreeMap::new();
    for seq in segment_numbers(dir)? {
        let path = segment_path(dir, seq);
        let file = match File::open(&path) {
            Ok(f) => f,
            // Removed by a running gateway since the listing: it held
            // nothing that was still waiting.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(SpoolError::from_io("open segment", e)),
        };
        out.segments.push(seq);
        let mut reader = match Reader::new(BufReader::new(file)) {
            Ok(r) => r,
            // A segment created but never given its magic: nothing in it was acknowledged.
            Err(_) => {
                out.torn.push((seq, 0));
                continue;
            }
        };
        loop {
            let offset = reader.offset();
            match reader
                .next_record()
                .map_err(|e| SpoolError::from_io("read segment", e))?
            {
                Ok(Record::Message { envelope, message }) => {
                    let id = envelope.id;
                    live.insert(
                        id,
                        StoredMessage {
                            rcpts: envelope.initial_states(),
                            actions: (0..envelope.rcpt_to.len())
                                .map(|i| envelope.decision(i).map(|d| d.action))
                                .collect(),
                            envelope: *envelope,
                            message: with_content.then_some(message),
                            segment: seq,
                            offset,
                        },
                    );
                }
                Ok(Record::Status(id, updates)) => {
                    if let Some(m) = live.get_mut(&id) {
                        for u in updates {
                            let i = u.rcpt as usize;
                            if let Some(slot) = m.rcpts.get_mut(i) {
                                *slot = u.state;
                            }
                            if let (Some(a), Some(slot)) = (u.action, m.actions.get_mut(i)) {
                                *slot = Some(a);
                            }
                        }
                    }
                }
                Ok(Record::Done(id)) => {
                    live.remove(&id);
                }
                Err(Stop::End) => break,
                Err(Stop::Torn { offset }) => {
                    out.torn.push((seq, offset));
                    break;
                }
            }
        }
    }
    out.messages = live.into_values().collect();
    Ok(out)
}

fn segment_numbers(dir: &Path) -> Result<Vec<u64>, SpoolError> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| SpoolError::from_io("list spool directory", e))?;
    let mut seqs: Vec<u64> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name();
            let name = name.to_str()?;
            name.strip_suffix(".seg")?.parse().ok()
        })
        .collect();
    seqs.sort_unstable();
    Ok(seqs)
}

/// The open spool, shared by every session.
#[derive(Clone)]
pub struct Spool {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    ids: IdGenerator,
    tx: mpsc::UnboundedSender<Request>,
    index: Mutex<Index>,
    /// Held for the life of the process: one gateway per spool.
    _lock: File,
}

/// Which segment holds each waiting message, and how many wait in each.
///
/// A segment is removed once it and every older segment hold no waiting
/// message. The order matters: a done record may sit in a later segment
/// than its message, and must not disappear while the message's segment
/// still exists, or the message would come back after a restart.
#[derive(Debug, Default)]
struct Index {
    /// Where each waiting message's record is: (segment, offset).
    segment_of: HashMap<QueueId, (u64, u64)>,
    waiting: BTreeMap<u64, usize>,
}

impl Index {
    fn added(&mut self, id: QueueId, seq: u64, offset: u64) {
        self.segment_of.insert(id, (seq, offset));
        *self.waiting.entry(seq).or_insert(0) += 1;
    }

    /// Marks `id` gone; returns the segments that may now be removed.
    fn finished(&mut self, id: QueueId) -> Vec<u64> {
        if let Some((seq, _)) = self.segment_of.remove(&id)
            && let Some(n) = self.waiting.get_mut(&seq)
        {
            *n -= 1;
        }
        let mut free = Vec::new();
        // Never the newest known segment: it may be the one being written.
        let newest = self.waiting.keys().next_back().copied();
        while let Some((&seq, &n)) = self.waiting.iter().next() {
            if n > 0 || Some(seq) == newest {
                break;
            }
            self.waiting.remove(&seq);
            free.push(seq);
        }
        free
    }
}

/// What opening found.
#[derive(Debug)]
pub struct Opened {
    /// The spool.
    pub spool: Spool,
    /// Messages waiting for delivery.
    pub waiting: usize,
    /// Torn tails trimmed: `(segment, offset)`.
    pub trimmed: Vec<(u64, u64)>,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spool")
            .field("dir", &self.inner.dir)
            .finish_non_exhaustive()
    }
}

impl Spool {
    /// Opens (creating if needed) the spool in `dir`: takes its lock, trims
    /// torn tails left by a crash, and starts a new segment for appends.
    pub fn open(dir: &Path, segment_size: u64, group_commit: bool) -> Result<Opened, SpoolError> {
        crate::fsmode::create_private_dir(dir)
            .map_err(|e| SpoolError::from_io("create spool directory", e))?;
        let lock = crate::fsmode::private_options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("lock"))
            .map_err(|e| SpoolError::from_io("open lock file", e))?;
        if lock.try_lock().is_err() {
            return Err(SpoolError::Locked(dir.display().to_string()));
        }
        let found = scan(dir, false)?;
        for &(seq, offset) in &found.torn {
            trim(dir, seq, offset)?;
        }
        let floor = found
            .messages
            .last()
            .map(|m| m.envelope.id)
            .unwrap_or(QueueId::from_u64(0));
        let mut index = Index::default();
        for &seq in &found.segments {
            index.waiting.entry(seq).or_insert(0);
        }
        for m in &found.messages {
            index.added(m.envelope.id, m.segment, m.offset);
        }
        let next_seq = found.segments.last().map_or(1, |s| s + 1);
        let writer = Writer::create(dir, next_seq, segment_size, group_commit)?;
        let (tx, rx) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("spool-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| SpoolError::from_io("start writer thread", e))?;
        Ok(Opened {
            spool: Spool {
                inner: Arc::new(Inner {
                    dir: dir.to_owned(),
                    ids: IdGenerator::new(floor),
                    tx,
                    index: Mutex::new(index),
                    _lock: lock,
                }),
            },
            waiting: found.messages.len(),
            trimmed: found.torn,
        })
    }

    /// The spool directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// A fresh queue ID.
    pub fn next_id(&self) -> QueueId {
        self.inner.ids.next()
    }

    /// Appends a message and returns once it is on stable storage.
    /// `parts` are concatenated to form the stored message. `audited` must
    /// cover the message: nothing is spooled before its audit records are
    /// durable.
    ///
    /// ```compile_fail
    /// // Spooling without an audit receipt does not compile.
    /// async fn f(spool: &phigate::spool::Spool, env: &phigate::spool::Envelope) {
    ///     spool.append(env, &[b"body"]).await.unwrap();
    /// }
    /// ```
    pub async fn append(
        &self,
        envelope: &Envelope,
        parts: &[&[u8]],
        audited: &crate::audit::Receipt,
    ) -> Result<(), SpoolError> {
        if !audited.covers(&envelope.id.to_string()) {
            return Err(SpoolError::Unaudited(envelope.id));
        }
        let (seq, offset) = self.submit(record::encode_message(envelope, parts)).await?;
        self.index().added(envelope.id, seq, offset);
        Ok(())
    }

    /// Records recipient state changes; returns once they are durable.
    pub async fn update(&self, id: QueueId, updates: &[StatusUpdate]) -> Result<(), SpoolError> {
        self.submit(record::encode_status(id, updates))
            .await
            .map(|_| ())
    }

    /// Reads a waiting message back: its envelope and content.
    pub async fn read(&self, id: QueueId) -> Result<(Envelope, Vec<u8>), SpoolError> {
        let place = self.index().segment_of.get(&id).copied();
        let (seq, offset) = place.ok_or(SpoolError::NotFound(id))?;
        let path = segment_path(&self.inner.dir, seq);
        let record = tokio::task::spawn_blocking(move || {
            let f = File::open(&path)?;
            record::read_at(&f, offset)
        })
        .await
        .map_err(|_| SpoolError::Closed)?
        .map_err(|e| SpoolError::from_io("read a message back", e))?;
        match record {
            Record::Message { envelope, message } if envelope.id == id => Ok((*envelope, message)),
            _ => Err(SpoolError::NotFound(id)),
        }
    }

    /// Records that a message has left the spool; segments left with no
    /// waiting message are removed.
    pub async fn complete(&self, id: QueueId) -> Result<(), SpoolError> {
        let (seq, _) = self.submit(record::encode_done(id)).await?;
        let free = {
            let mut index = self.index();
            // The done record's segment counts as known, so that it is the
            // "newest" one and stays while it may still be written to.
            index.waiting.entry(seq).or_insert(0);
            index.finished(id)
        };
        for seq in free {
            let _ = self.inner.tx.send(Request::Remove(seq));
        }
        Ok(())
    }

    fn index(&self) -> std::sync::MutexGuard<'_, Index> {
        self.inner.index.lock().expect("spool index lock")
    }

    async fn submit(&self, bytes: Vec<u8>) -> Result<(u64, u64), SpoolError> {
        let (done, wait) = oneshot::channel();
        let req = Request::Append { bytes, done };
        self.inner.tx.send(req).map_err(|_| SpoolError::Closed)?;
        wait.await.map_err(|_| SpoolError::Closed)?
    }
}

/// Cuts a segment back to its last whole record.
fn trim(dir: &Path, seq: u64, offset: u64) -> Result<(), SpoolError> {
    let path = segment_path(dir, seq);
    if offset == 0 {
        std::fs::remove_file(&path).map_err(|e| SpoolError::from_io("remove empty segment", e))?;
        return sync_dir(dir).map_err(|e| SpoolError::from_io("sync spool directory", e));
    }
    let f = OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|e| SpoolError::from_io("open segment to trim", e))?;
    f.set_len(offset)
        .and_then(|()| f.sync_all())
        .map_err(|e| SpoolError::from_io("trim torn segment tail", e))?;
    tracing::warn!(
        segment = seq,
        offset,
        "trimmed an unacknowledged partial write left by a crash"
    );
    Ok(())
}

#[cfg(test)]
mod tests;
