//! Witnesses: copies of every signed checkpoint kept where someone who can
//! rewrite the audit directory cannot — an append-only file on another path
//! and a remote syslog collector (RFC 5424 over TLS, RFC 5425 framing).
//! The log and its `HEAD` can be rolled back or replaced together; a
//! witness remembers that the log once reached further, or looked
//! different, and both `audit verify --witness` and the writer at start
//! compare the log with it.
//!
//! A witness entry is one line, `phigate-audit-checkpoint {json}`, the same
//! in the file and in the syslog message, so a collector's log file can be
//! read back by `audit verify --witness` as it is. The design leaves room
//! for write-once object storage (S3 Object Lock) as a third witness: it
//! takes the same entries.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The marker before the JSON of a witness entry.
pub const MARKER: &str = "phigate-audit-checkpoint ";

/// One witnessed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The checkpoint's seq.
    pub seq: u64,
    /// Its `prev` (hash of the record before it): commits to the whole log.
    pub prev: String,
    /// Its signature.
    pub sig: String,
    /// The key that signed it.
    pub key_id: String,
    /// The audit file holding it.
    pub file: String,
    /// When (RFC 3339).
    pub time: String,
}

impl Entry {
    /// The entry as a line (without newline).
    pub fn line(&self) -> String {
        format!(
            "{MARKER}{}",
            serde_json::to_string(self).expect("entries serialise")
        )
    }
}

/// Every entry in a witness file (a file witness, or a syslog collector's
/// log: other lines are skipped), in order. Malformed entries are errors:
/// a witness that was tampered with must not pass quietly.
pub fn read_entries(path: &Path) -> Result<Vec<Entry>, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
        let Some(at) = line.find(MARKER) else {
            continue;
        };
        let json = line[at + MARKER.len()..].trim();
        let e: Entry = serde_json::from_str(json).map_err(|e| {
            format!(
                "{}: line {}: not a witness entry ({e})",
                path.display(),
                i + 1
            )
        })?;
        out.push(e);
    }
    Ok(out)
}

/// The newest entry of a witness file; `None` when there is none yet.
pub fn last_entry(path: &Path) -> Result<Option<Entry>, String> {
    match read_entries(path) {
        Ok(v) => Ok(v.into_iter().max_by_key(|e| e.seq)),
        Err(_) if !path.exists() => Ok(None),
        Err(e) => Err(e),
    }
}

/// An append-only witness file.
#[derive(Debug)]
pub struct FileWitness {
    path: PathBuf,
}

impl FileWitness {
    /// The witness at `path` (created on the first entry, mode 0600).
    pub fn new(path: &Path) -> FileWitness {
        FileWitness {
            path: path.to_owned(),
        }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends an entry durably.
    pub fn append(&self, e: &Entry) -> std::io::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::fsmode::create_private_dir(dir)?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)?;
        f.write_all(format!("{}\n", e.line()).as_bytes())?;
        f.sync_data()
    }
}

/// Sends entries to a syslog collector over TLS from its own thread, so a
/// slow or unreachable collector never holds up the log. Only the newest
/// entries matter (each commits to everything before it): when the queue
/// is full, new ones are dropped and counted, and the next one sent
/// covers them.
pub struct SyslogWitness {
    tx: SyncSender<Entry>,
    progress: Arc<Progress>,
}

/// Entries queued and entries done with (sent, failed, or superseded by a
/// newer one that was sent), so that shutdown can wait for the last one.
#[derive(Default)]
struct Progress {
    counts: std::sync::Mutex<(u64, u64)>,
    changed: std::sync::Condvar,
}

impl std::fmt::Debug for SyslogWitness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SyslogWitness")
    }
}

/// Where and how to reach the collector.
#[derive(Clone)]
pub struct SyslogTarget {
    /// `host:port`.
    pub addr: String,
    /// Name its certificate must carry.
    pub server_name: String,
    /// Trust anchors.
    pub tls: Arc<rustls::ClientConfig>,
    /// Our host name, for the message's HOSTNAME field.
    pub hostname: String,
}

impl SyslogWitness {
    /// Starts the sender thread. `failed` is called (from that thread) each
    /// time an entry could not be delivered.
    pub fn start(
        target: SyslogTarget,
        failed: impl Fn(&str) + Send + 'static,
    ) -> std::io::Result<SyslogWitness> {
        let (tx, rx) = std::sync::mpsc::sync_channel(64);
        let progress = Arc::new(Progress::default());
        let done = progress.clone();
        std::thread::Builder::new()
            .name("audit-witness".into())
            .spawn(move || run_syslog(target, rx, failed, &done))?;
        Ok(SyslogWitness { tx, progress })
    }

    /// Queues an entry; `false` when the queue was full (the entry is
    /// dropped, the next one covers it).
    pub fn send(&self, e: Entry) -> bool {
        let mut counts = self.progress.counts.lock().expect("witness progress");
        match self.tx.try_send(e) {
            Ok(()) => {
                counts.0 += 1;
                true
            }
            Err(TrySendError::Full(_)) => false,
            // The sender thread is gone: nothing will be sent; the caller
            // hears of it through `failed` as for any unsent entry.
            Err(TrySendError::Disconnected(_)) => true,
        }
    }

    /// Waits (at most `limit`) until every queued entry was dealt with:
    /// at shutdown, so that the last checkpoint reaches the collector
    /// before the process ends. `false` when the time ran out.
    pub fn flush(&self, limit: Duration) -> bool {
        let counts = self.progress.counts.lock().expect("witness progress");
        let (counts, timeout) = self
            .progress
            .changed
            .wait_timeout_while(counts, limit, |(queued, handled)| handled < queued)
            .expect("witness progress");
        drop(counts);
        !timeout.timed_out()
    }
}

fn run_syslog(
    target: SyslogTarget,
    rx: Receiver<Entry>,
    failed: impl Fn(&str),
    progress: &Progress,
) {
    let mut conn: Option<rustls::StreamOwned<rustls::ClientConnection, TcpStream>> = None;
    while let Ok(entry) = rx.recv() {
        // Newer entries supersede older ones still queued.
        let mut entry = entry;
        let mut taken = 1;
        while let Ok(newer) = rx.try_recv() {
            entry = newer;
            taken += 1;
        }
        let msg = rfc5424(&target.hostname, &entry);
        let framed = format!("{} {msg}", msg.len());
        let mut sent = false;
        for _ in 0..2 {
            if conn.is_none() {
                match connect(&target) {
                    Ok(c) => conn = Some(c),
                    Err(e) => {
                        failed(&e);
                        break;
                    }
                }
            }
            let c = conn.as_mut().expect("connected");
            match c.write_all(framed.as_bytes()).and_then(|()| c.flush()) {
                Ok(()) => {
                    sent = true;
                    break;
                }
                Err(_) => conn = None,
            }
        }
        if !sent && conn.is_some() {
            failed("write failed");
        }
        progress.counts.lock().expect("witness progress").1 += taken;
        progress.changed.notify_all();
    }
}

fn connect(
    t: &SyslogTarget,
) -> Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>, String> {
    use std::net::ToSocketAddrs;
    let addr = t
        .addr
        .to_socket_addrs()
        .map_err(|e| format!("{}: {e}", t.addr))?
        .next()
        .ok_or_else(|| format!("{}: no address", t.addr))?;
    let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .map_err(|e| format!("{}: {e}", t.addr))?;
    let _ = tcp.set_write_timeout(Some(Duration::from_secs(10)));
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
    let name = rustls::pki_types::ServerName::try_from(t.server_name.clone())
        .map_err(|e| format!("{}: {e}", t.server_name))?;
    let conn = rustls::ClientConnection::new(t.tls.clone(), name).map_err(|e| e.to_string())?;
    let mut s = rustls::StreamOwned::new(conn, tcp);
    // Complete the handshake now, so a certificate problem shows here.
    while s.conn.is_handshaking() {
        s.conn
            .complete_io(&mut s.sock)
            .map_err(|e| format!("TLS to {}: {e}", t.addr))?;
    }
    Ok(s)
}

/// An RFC 5424 message: facility log audit (13), severity info (6).
fn rfc5424(hostname: &str, e: &Entry) -> String {
    format!(
        "<110>1 {} {hostname} phigate - audit-checkpoint - {}",
        e.time,
        e.line()
    )
}

/// How a log compares with its newest witness entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// The log has the witnessed checkpoint, as witnessed.
    Consistent,
    /// The log ends before the witnessed checkpoint: rolled back or cut.
    Behind {
        /// Witnessed seq.
        witnessed: u64,
        /// The log's last seq.
        last: u64,
    },
    /// The log has another record at the witnessed seq, or none: rewritten.
    Rewritten {
        /// Witnessed seq.
        witnessed: u64,
    },
}

/// Compares the log in `dir` (ending at `last_seq`) with `entry`.
pub fn standing(dir: &Path, last_seq: u64, entry: &Entry) -> Standing {
    if entry.seq > last_seq {
        return Standing::Behind {
            witnessed: entry.seq,
            last: last_seq,
        };
    }
    let found = find_checkpoint(&dir.join(&entry.file), entry.seq);
    match found {
        Some((prev, sig)) if prev == entry.prev && sig == entry.sig => Standing::Consistent,
        _ => Standing::Rewritten {
            witnessed: entry.seq,
        },
    }
}

/// The `prev` and signature of the checkpoint at `seq` in `file`.
fn find_checkpoint(file: &Path, seq: u64) -> Option<(String, String)> {
    let f = std::fs::File::open(file).ok()?;
    for line in BufReader::new(f).lines() {
        let line = line.ok()?;
        let Ok(r) = serde_json::from_str::<super::Record>(&line) else {
            continue;
        };
        if r.seq == seq {
            return match r.event {
                super::Event::Checkpoint { sig, .. } => Some((r.prev, sig)),
                _ => None,
            };
        }
        if r.seq > seq {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_through_a_collector_log() {
        let dir = tempfile::tempdir().unwrap();
        let e = Entry {
            seq: 7,
            prev: "ab".into(),
            sig: "cd".into(),
            key_id: "k".into(),
            file: "audit-2026-12-01.jsonl".into(),
            time: "2026-12-01T00:00:00Z".into(),
        };
        let p = dir.path().join("collector.log");
        std::fs::write(
            &p,
            format!(
                "Dec  1 00:00:00 host other: hello\n2026-12-01T00:00:00Z gw phigate {}\n",
                e.line()
            ),
        )
        .unwrap();
        assert_eq!(read_entries(&p).unwrap(), vec![e.clone()]);
        assert!(rfc5424("gw.example", &e).starts_with("<110>1 2026-12-01T00:00:00Z gw.example phigate - audit-checkpoint - phigate-audit-checkpoint {"));
        std::fs::write(&p, format!("{MARKER}{{broken\n")).unwrap();
        assert!(read_entries(&p).is_err());
        assert_eq!(last_entry(&dir.path().join("none")).unwrap(), None);
    }
}
