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
pub mod witness;
mod writer;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::mpsc;

use tokio::sync::oneshot;

pub use chain::{Head, KeyError, PublicKey, Record, SigningKey, generate as generate_key};
pub use event::Event;

/// The audit log's file names in `dir`, oldest first.
pub fn files(dir: &std::path::Path) -> std::io::Result<Vec<String>> {
    writer::list(dir)
}

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
    /// The writer refuses to continue the log (see `phigate audit verify`).
    #[error("audit log halted: {0}")]
    Halted(String),
}

impl AuditError {
    fn from_io(what: &'static str, e: std::io::Error) -> Self {
        AuditError::Io {
            what,
            message: e.to_string(),
        }
    }
}

/// Proof that audit records are on stable storage: only [`Audit::log`]
/// makes one, once the writer has synced them, and it names the messages
/// whose admission those records state (a `received` record for relayed
/// mail, a `notice` record for a message the gateway wrote). The spool
/// appends a message only against a receipt that covers it, so "audited
/// before spooled" is checked by the types and the spool, not by the order
/// of statements.
///
/// ```compile_fail
/// // Nothing outside the audit log can make one.
/// let forged = phigate::audit::Receipt { covers: Default::default() };
/// ```
#[derive(Debug)]
pub struct Receipt {
    covers: std::collections::HashSet<String>,
}

impl Receipt {
    /// Whether the receipt vouches for message `queue_id`.
    pub fn covers(&self, queue_id: &str) -> bool {
        self.covers.contains(queue_id)
    }

    /// A receipt for tests of the spool alone.
    #[cfg(test)]
    pub(crate) fn for_tests(ids: &[String]) -> Receipt {
        Receipt {
            covers: ids.iter().cloned().collect(),
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
        hostname: &str,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Result<Audit, AuditError> {
        let key = SigningKey::load_or_create(&cfg.signing_key)
            .map_err(|e| AuditError::Key(format!("audit.signing_key: {e}")))?;
        let key = Arc::new(key);
        let previous = match &cfg.previous_signing_key {
            Some(p) => Some(Arc::new(SigningKey::load(p).map_err(|e| {
                AuditError::Key(format!("audit.previous_signing_key: {e}"))
            })?)),
            None => None,
        };
        let witnesses = writer::Witnesses {
            file: cfg.witness.file.as_deref().map(witness::FileWitness::new),
            syslog: match &cfg.witness.syslog {
                Some(addr) => Some(syslog_witness(cfg, addr, hostname, metrics.clone())?),
                None => None,
            },
            metrics: Some(metrics.clone()),
        };
        let (w, notes) = writer::Writer::open_with(
            &cfg.dir,
            key.clone(),
            previous,
            cfg,
            crate::date::now,
            witnesses,
        )?;
        if w.halted().is_some() {
            metrics.audit_halted.set(1);
            metrics
                .audit_ok
                .store(false, std::sync::atomic::Ordering::Relaxed);
        }
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

    /// Appends `events` in order; returns once they are on stable storage,
    /// with the receipt that says so.
    pub async fn log(&self, events: Vec<Event>) -> Result<Receipt, AuditError> {
        let receipt = Receipt {
            covers: events
                .iter()
                .filter_map(Event::admits)
                .map(str::to_string)
                .collect(),
        };
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
        result.map(|()| receipt)
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

/// The problems `serve` would meet with the audit keys, each with the key
/// that names the file: a signing key that is not a key or not the pinned
/// one, one that is missing where it cannot be made, a previous key that
/// cannot be read. `check-config` reports them.
pub fn check_keys(cfg: &phigate_config::AuditConfig) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    // The signing key is made at first start when missing; one that is
    // there must be a key, and must be the pinned one.
    let key = &cfg.signing_key;
    if key.exists() {
        match SigningKey::load(key) {
            Err(e) => out.push(("audit.signing_key", e.to_string())),
            Ok(k) => {
                let rotating = cfg.previous_signing_key.is_some();
                if let Some(pin) = &cfg.public_key
                    && *pin != k.public_hex()
                    && !rotating
                {
                    out.push((
                        "audit.signing_key",
                        format!("key {} is not the pinned audit.public_key", k.key_id()),
                    ));
                }
            }
        }
    } else if let Some(parent) = key.parent().filter(|p| !p.as_os_str().is_empty())
        && parent.exists()
        && std::fs::metadata(parent).is_ok_and(|m| m.permissions().readonly())
    {
        out.push((
            "audit.signing_key",
            format!("{} is missing and cannot be created", key.display()),
        ));
    }
    if let Some(prev) = &cfg.previous_signing_key
        && let Err(e) = SigningKey::load(prev)
    {
        out.push(("audit.previous_signing_key", e.to_string()));
    }
    out
}

/// The public key of a key file's text (what `keygen` prints).
pub fn public_of(text: &str) -> Option<PublicKey> {
    SigningKey::from_text_public(text)
}

/// The syslog witness: a TLS client to the collector, trusting the public
/// roots and `syslog_ca`.
fn syslog_witness(
    cfg: &phigate_config::AuditConfig,
    addr: &str,
    hostname: &str,
    metrics: Arc<crate::metrics::Metrics>,
) -> Result<witness::SyslogWitness, AuditError> {
    let trust = crate::tls::Trust::load(cfg.witness.syslog_ca.as_deref())
        .map_err(|e| AuditError::Key(format!("audit.witness.syslog_ca: {e}")))?;
    let tls = trust.strict_client_config();
    let server_name = cfg.witness.syslog_server_name.clone().unwrap_or_else(|| {
        addr.rsplit_once(':')
            .map_or(addr, |(h, _)| h)
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string()
    });
    let target = witness::SyslogTarget {
        addr: addr.to_string(),
        server_name,
        tls,
        hostname: hostname.to_string(),
    };
    witness::SyslogWitness::start(target, move |e| {
        tracing::error!(
            error = e,
            "audit checkpoint not witnessed by the syslog collector"
        );
        metrics
            .audit_witness_failures_total
            .with_label_values(&["syslog"])
            .inc();
    })
    .map_err(|e| AuditError::from_io("start the syslog witness", e))
}
