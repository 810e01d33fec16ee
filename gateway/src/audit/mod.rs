//! The tamper-evident audit log: append-only JSON Lines under `audit.dir`,
//! one record per event, hash-chained and signed at checkpoints
//! ([`chain`]), written by one thread with group commit ([`writer`]),
//! checked by [`verify`] and read by [`search`].
//!
//! A record is durable before the decision it records takes effect: the
//! relay awaits [`Audit::log`] before it spools a message and answers 250,
//! and the queue manager awaits it before it records a delivery outcome.
//! The format is in docs/AUDIT.md.

mod chain;
pub mod event;
pub mod search;
pub mod verify;
mod writer;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;

use tokio::sync::oneshot;

pub use chain::{Head, KeyError, PublicKey, Record, SigningKey, generate as generate_key};
pub use event::Event;

/// Audit failures, as values: a session maps them to a 451.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// I/O failed.
    #[error("audit log I/O error while trying to {what}: {message}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The OS error text.
        message: String,
    },
    /// The log on disk cannot be continued.
    #[error("audit log: {0}")]
    Corrupt(String),
    /// The signing key could not be loaded.
    #[error("{0}")]
    Key(String),
    /// The writer thread has stopped.
    #[error("audit writer has stopped")]
    Closed,
}

impl AuditError {
    fn from_io(what: &'static str, e: std::io::Error) -> Self {
        AuditError::Io {
            what,
            message: e.to_string(),
        }
    }
}

/// The open audit log, shared by sessions and the queue manager.
#[derive(Clone)]
pub struct Audit {
    tx: mpsc::Sender<writer::Request>,
    key: Arc<SigningKey>,
    metrics: Arc<crate::metrics::Metrics>,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Audit")
    }
}

impl Audit {
    /// Opens (creating if needed) the log and its signing key, and starts
    /// the writer thread.
    pub fn open(
        cfg: &phigate_config::AuditConfig,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Result<Audit, AuditError> {
        let key = SigningKey::load_or_create(&cfg.signing_key)
            .map_err(|e| AuditError::Key(e.to_string()))?;
        let key = Arc::new(key);
        let (w, notes) = writer::Writer::open(&cfg.dir, key.clone(), cfg, crate::date::now)?;
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || w.run(rx))
            .map_err(|e| AuditError::from_io("start the audit writer", e))?;
        let audit = Audit { tx, key, metrics };
        if !notes.is_empty() {
            let (done, _) = oneshot::channel();
            let _ = audit.tx.send(writer::Request::Append {
                events: notes,
                done,
            });
        }
        Ok(audit)
    }

    /// Appends `events` in order; returns once they are on stable storage.
    pub async fn log(&self, events: Vec<Event>) -> Result<(), AuditError> {
        let started = std::time::Instant::now();
        let (done, wait) = oneshot::channel();
        let result = match self.tx.send(writer::Request::Append { events, done }) {
            Ok(()) => wait.await.unwrap_or(Err(AuditError::Closed)),
            Err(_) => Err(AuditError::Closed),
        };
        let m = &self.metrics;
        m.audit_write_seconds
            .observe(started.elapsed().as_secs_f64());
        if result.is_err() {
            m.audit_write_failures_total.inc();
        }
        m.audit_ok
            .store(result.is_ok(), std::sync::atomic::Ordering::Relaxed);
        result
    }

    /// Writes a signed checkpoint now (at shutdown), so the log ends signed.
    pub async fn checkpoint(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(writer::Request::Checkpoint { done }).is_ok() {
            let _ = wait.await;
        }
    }

    /// Keyed hash of a matched value, for findings.
    pub fn hmac(&self, category: &str, value: &str) -> String {
        self.key.hmac(category, value)
    }
}

/// The public key a verifier should use for `dir`: `signing.pub` there.
pub fn published_key(dir: &Path) -> Option<PublicKey> {
    let text = std::fs::read_to_string(dir.join("signing.pub")).ok()?;
    PublicKey::from_hex(&text)
}
