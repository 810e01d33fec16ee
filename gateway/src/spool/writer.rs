//! The one thread that appends to the spool, with group commit.
//!
//! Sessions hand it encoded records and wait. It takes every record that is
//! waiting, writes them all, calls `fdatasync` once, and only then answers
//! each session: one disk flush covers every message that arrived while the
//! previous flush was running, so durability costs one fsync per batch rather
//! than one per message. A plain OS thread: the work is blocking file I/O,
//! and keeping it off the async runtime keeps sessions responsive.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use tokio::sync::{mpsc, oneshot};

use super::SpoolError;
use super::record::MAGIC;

/// Work for the writer thread.
pub(crate) enum Request {
    /// Append a record; answered with the segment it went into once durable.
    Append {
        bytes: Vec<u8>,
        done: oneshot::Sender<Result<(u64, u64), SpoolError>>,
    },
    /// Remove a segment none of whose messages is still waiting.
    Remove(u64),
}

/// An append waiting in a batch.
struct Pending {
    bytes: Vec<u8>,
    done: oneshot::Sender<Result<(u64, u64), SpoolError>>,
}

/// Records above this many bytes in one batch wait for the next one; keeps
/// a burst of large messages from delaying the first reply too long.
const MAX_BATCH_BYTES: usize = 16 << 20;

pub(crate) struct Writer {
    dir: PathBuf,
    file: File,
    seq: u64,
    size: u64,
    segment_size: u64,
    group_commit: bool,
}

/// Path of segment number `seq`.
pub(crate) fn segment_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:016}.seg"))
}

/// Flushes the directory entry of newly created or removed files.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

impl Writer {
    /// Starts a fresh segment `seq` in `dir`.
    pub fn create(
        dir: &Path,
        seq: u64,
        segment_size: u64,
        group_commit: bool,
    ) -> Result<Writer, SpoolError> {
        let file = new_segment(dir, seq)?;
        Ok(Writer {
            dir: dir.to_owned(),
            file,
            seq,
            size: MAGIC.len() as u64,
            segment_size,
            group_commit,
        })
    }

    /// Runs until every sender is gone.
    pub fn run(mut self, mut rx: mpsc::UnboundedReceiver<Request>) {
        let mut batch: Vec<Pending> = Vec::new();
        let mut removals: Vec<u64> = Vec::new();
        while let Some(first) = rx.blocking_recv() {
            let mut next = Some(first);
            let mut bytes = 0;
            while let Some(req) = next.take() {
                match req {
                    Request::Append { bytes: b, done } => {
                        bytes += b.len();
                        batch.push(Pending { bytes: b, done });
                    }
                    Request::Remove(seq) => removals.push(seq),
                }
                // Keep gathering while group commit allows, and in any case
                // past removals until there is something to write.
                if (self.group_commit && bytes < MAX_BATCH_BYTES) || batch.is_empty() {
                    next = rx.try_recv().ok();
                }
            }
            if !batch.is_empty() {
                let result = self.write_batch(&batch);
                if let Err(e) = &result {
                    tracing::error!(error = %e, records = batch.len(), "spool write failed");
                }
                // Each record's place: the segment, and its offset within it.
                let mut offset = 0;
                for r in batch.drain(..) {
                    let len = r.bytes.len() as u64;
                    let _ = r.done.send(result.clone().map(|(seq, start)| {
                        let at = start + offset;
                        offset += len;
                        (seq, at)
                    }));
                }
            }
            if !removals.is_empty() {
                self.remove(&mut removals);
            }
        }
    }

    /// Deletes finished segments (never the one being written).
    fn remove(&mut self, seqs: &mut Vec<u64>) {
        for seq in seqs.drain(..).filter(|&s| s != self.seq) {
            if let Err(e) = std::fs::remove_file(segment_path(&self.dir, seq)) {
                tracing::warn!(segment = seq, error = %e, "could not remove a finished spool segment");
            }
        }
        if let Err(e) = sync_dir(&self.dir) {
            tracing::warn!(error = %e, "could not sync the spool directory after removing segments");
        }
    }

    /// Writes and syncs a batch; returns the segment and the offset where
    /// the batch begins.
    fn write_batch(&mut self, batch: &[Pending]) -> Result<(u64, u64), SpoolError> {
        if self.size >= self.segment_size {
            self.roll()?;
        }
        let start = self.size;
        let written = batch
            .iter()
            .try_for_each(|r| self.file.write_all(&r.bytes))
            .and_then(|()| self.file.sync_data());
        match written {
            Ok(()) => {
                self.size += batch.iter().map(|r| r.bytes.len() as u64).sum::<u64>();
                Ok((self.seq, start))
            }
            Err(e) => {
                // Take back whatever part of the batch reached the file, so the
                // segment ends on a record boundary and none of these (all
                // refused to their clients) comes back as a message later.
                let undo = self
                    .file
                    .set_len(start)
                    .and_then(|()| self.file.seek(SeekFrom::Start(start)).map(|_| ()))
                    .and_then(|()| self.file.sync_data());
                if let Err(u) = undo {
                    tracing::error!(error = %u, "could not trim a failed spool write; starting a new segment");
                    self.roll()?;
                }
                Err(SpoolError::from_io("append to segment", e))
            }
        }
    }

    fn roll(&mut self) -> Result<(), SpoolError> {
        let seq = self.seq + 1;
        self.file = new_segment(&self.dir, seq)?;
        self.seq = seq;
        self.size = MAGIC.len() as u64;
        Ok(())
    }
}

fn new_segment(dir: &Path, seq: u64) -> Result<File, SpoolError> {
    let path = segment_path(dir, seq);
    let mut f = crate::fsmode::private_options()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| SpoolError::from_io("create segment", e))?;
    f.write_all(MAGIC)
        .and_then(|()| f.sync_all())
        .and_then(|()| sync_dir(dir))
        .map_err(|e| SpoolError::from_io("start segment", e))?;
    Ok(f)
}
