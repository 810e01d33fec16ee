//! The queue manager: takes waiting messages from the spool (also after a
//! restart), delivers each recipient through its destination under the TLS
//! policy, and records every outcome durably before acting on it, so a
//! crash may repeat a delivery but never lose a recipient.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use phigate_config::Config;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use phigate_config::{Action, TlsLevel};
use tokio::sync::oneshot;

use crate::audit::{Audit, Event, event};
use crate::delivery::certs::{CertStore, RecipientCert, Skip, Source};
use crate::delivery::client::{self, Job, RcptResult};
use crate::delivery::dane::{self, Dane, Found};
use crate::delivery::dkim::Signer;
use crate::delivery::encrypt::{Encryptor, Via};
use crate::delivery::ldap::Directory;
use crate::delivery::mta_sts::{Published, Sts};
use crate::delivery::route::{Destination, RouteError, Router};
use crate::delivery::tls::HopAuth;
use crate::delivery::tls::Trust;
use crate::delivery::tlsrpt::{self, Recorder, Session};
use crate::delivery::{rewrite, smime};
use crate::metrics::Metrics;
use crate::outbox::notice::{self, Reason};
use crate::outbox::{Context, dsn};
use crate::policy::domain_of;
use crate::policy::transport::{self, Destination as TransportTo};
use crate::smtp::status::{Class, Failure, Stage};
use crate::spool::{Envelope, QueueId, RcptState, Spool, StatusUpdate};

use crate::date::now;

mod quarantine;
mod report;
mod retry;
mod round;
mod scheduler;

/// What the queue manager is told.
#[derive(Debug)]
pub enum Command {
    /// A message was spooled and is ready for delivery.
    New(QueueId),
    /// An administrator releases or deletes a held message.
    Quarantine {
        /// The message.
        id: QueueId,
        /// Release (deliver it) or delete it.
        op: QuarantineOp,
        /// Who asked.
        by: String,
        /// Why, when they said (the console asks).
        reason: Option<String>,
        /// The recipients affected, or why nothing was done.
        reply: oneshot::Sender<Result<Vec<String>, QuarantineError>>,
    },
    /// The configuration was reloaded: deliveries from now on use this.
    Reload(Arc<Live>),
    /// Mail the audit review of `[since, until)` to the security officer.
    Review {
        /// From, Unix seconds.
        since: u64,
        /// Until, exclusive.
        until: u64,
        /// The digest's queue ID, or why it was not sent.
        reply: oneshot::Sender<Result<String, String>>,
    },
    /// Send the TLS reports (RFC 8460) of `day` (`YYYY-MM-DD`), or of every
    /// finished day not yet reported.
    TlsReport {
        /// The day, or `None` for every finished day.
        day: Option<String>,
        /// What was sent, or why nothing could be.
        reply: oneshot::Sender<Result<Vec<String>, String>>,
    },
}

/// What an administrator does with a held message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuarantineOp {
    /// Deliver it, under verified TLS if it carries PHI (never plaintext).
    Release,
    /// Drop it; the sender is not told.
    Delete,
}

impl QuarantineOp {
    fn as_str(self) -> &'static str {
        match self {
            QuarantineOp::Release => "release",
            QuarantineOp::Delete => "delete",
        }
    }
}

/// Tells the queue manager about newly spooled messages and quarantine
/// decisions.
#[derive(Clone, Debug)]
pub struct QueueHandle {
    tx: mpsc::UnboundedSender<Command>,
}

impl crate::outbox::Wake for QueueHandle {
    fn wake(&self, id: QueueId) {
        self.notify(id);
    }
}

impl QueueHandle {
    /// A message was spooled and is ready for delivery.
    pub fn notify(&self, id: QueueId) {
        let _ = self.tx.send(Command::New(id));
    }

    /// Delivery rounds starting from now use `live`.
    pub fn reload(&self, live: Arc<Live>) {
        let _ = self.tx.send(Command::Reload(live));
    }

    /// Releases or deletes the held recipients of `id`; the recipients
    /// affected.
    pub async fn quarantine(
        &self,
        id: QueueId,
        op: QuarantineOp,
        by: &str,
        reason: Option<&str>,
    ) -> Result<Vec<String>, QuarantineError> {
        let (reply, wait) = oneshot::channel();
        self.tx
            .send(Command::Quarantine {
                id,
                op,
                by: by.to_string(),
                reason: reason.map(str::to_string),
                reply,
            })
            .map_err(|_| QuarantineError::Stopped)?;
        wait.await.map_err(|_| QuarantineError::Stopped)?
    }
}

impl QueueHandle {
    /// Mails the audit review of `[since, until)` to `review.officer`.
    pub async fn review(&self, since: u64, until: u64) -> Result<String, String> {
        let (reply, wait) = oneshot::channel();
        self.tx
            .send(Command::Review {
                since,
                until,
                reply,
            })
            .map_err(|_| "the queue manager has stopped".to_string())?;
        wait.await
            .map_err(|_| "the queue manager has stopped".to_string())?
    }

    /// Sends the TLS reports of `day` (or of every finished day not yet
    /// reported); a line per report sent.
    pub async fn tls_report(&self, day: Option<String>) -> Result<Vec<String>, String> {
        let (reply, wait) = oneshot::channel();
        self.tx
            .send(Command::TlsReport { day, reply })
            .map_err(|_| "the queue manager has stopped".to_string())?;
        wait.await
            .map_err(|_| "the queue manager has stopped".to_string())?
    }
}

/// Why a quarantine command was not carried out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QuarantineError {
    /// No waiting message has this ID.
    #[error("no message {0} is waiting")]
    NotWaiting(QueueId),
    /// The message has no held recipient.
    #[error("message {0} has no held recipient")]
    NothingHeld(QueueId),
    /// The message is being delivered right now.
    #[error("message {0} is being delivered right now; try again")]
    Busy(QueueId),
    /// The change could not be audited (so it was not made).
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    /// The spool could not be read or updated.
    #[error(transparent)]
    Spool(#[from] crate::spool::SpoolError),
    /// The queue manager has stopped.
    #[error("the queue manager has stopped")]
    Stopped,
}

struct Shared {
    spool: Spool,
    audit: Audit,
    metrics: Arc<Metrics>,
    /// What a reload can change; each delivery round takes the version in
    /// force when it starts.
    live: std::sync::RwLock<Arc<Live>>,
    handle: QueueHandle,
    per_destination: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Open sessions to next hops, reused between messages.
    pool: client::Pool,
    /// The addresses our SMTP listeners are bound to: never a next hop.
    own_addrs: Vec<std::net::SocketAddr>,
    /// TLS sessions to recipient domains, for their daily TLS reports.
    tlsrpt: Recorder,
}

impl Shared {
    fn live(&self) -> Arc<Live> {
        self.live.read().expect("live delivery config").clone()
    }
}

/// Delivery's part of the configuration, built once per (re)load.
pub struct Live {
    config: Arc<Config>,
    router: Router,
    encryptor: Option<Encryptor>,
    /// Recipients' S/MIME certificates, when `[smime]` is enabled.
    certs: Option<CertStore>,
    /// The directory asked for those the store lacks (`[smime.ldap]`).
    directory: Option<Directory>,
    /// Signs what S/MIME encrypts, when `[smime] sign_cert` is set.
    smime_signer: Option<smime::SmimeSigner>,
    /// Signs what the gateway changed (or everything), when `[dkim]` is set.
    dkim: Option<Signer>,
    /// Recipient domains' MTA-STS policies.
    sts: Sts,
    /// A validating resolver for DANE, when `[delivery.dns]` turns DNSSEC on.
    dane: Option<Dane>,
    trust: Trust,
    /// The detectors, for what the gateway writes (DSNs, notices).
    engine: Arc<phigate_detectors::Engine>,
    /// The policy, for what the gateway writes.
    policy: crate::policy::Policy,
}

impl Live {
    /// Builds routing and the encrypted route from `config`, with the trust
    /// anchors, the relay's engine and the DKIM signer the composition root
    /// built (a bad `ca_file` or key is an error there, not in every
    /// delivery).
    pub fn new(
        config: Arc<Config>,
        engine: Arc<phigate_detectors::Engine>,
        trust: Trust,
        dkim: Option<Signer>,
        dane: Option<Dane>,
        smime_signer: Option<smime::SmimeSigner>,
        directory: Option<Directory>,
    ) -> Live {
        Live {
            directory,
            router: Router::new(config.delivery.clone()),
            encryptor: config.encryption.as_ref().map(Encryptor::new),
            certs: config
                .smime
                .enabled
                .then(|| CertStore::new(&config.smime.certs_dir)),
            smime_signer,
            dkim,
            dane,
            sts: Sts::new(
                Some(config.spool.dir.join("mta-sts-cache.json")),
                config.tls.mta_sts_port,
                trust.clone(),
            ),
            trust,
            policy: crate::policy::Policy::new(config.policy.clone(), config.encrypts()),
            engine,
            config,
        }
    }
}

impl Live {
    /// The store's certificates by state, and the nearest expiry, for an
    /// administrator to renew in time.
    fn certificate_gauges(&self, m: &Metrics) {
        let Some(store) = &self.certs else {
            return;
        };
        let t = now() as i64;
        let warn = self.config.smime.expiry_warning_days as i64 * 86_400;
        let (mut valid, mut expiring, mut unusable) = (0, 0, 0);
        let mut first = None::<i64>;
        for c in store.all() {
            match c.check(t) {
                Ok(()) => {
                    if c.not_after - t <= warn {
                        expiring += 1;
                    } else {
                        valid += 1;
                    }
                    first = Some(first.map_or(c.not_after, |f| f.min(c.not_after)));
                }
                Err(_) => unusable += 1,
            }
        }
        for (state, n) in [
            ("valid", valid),
            ("expiring", expiring),
            ("unusable", unusable),
        ] {
            m.smime_certificates.with_label_values(&[state]).set(n);
        }
        m.smime_certificate_expiry_seconds
            .set(first.map_or(0, |f| (f - t).max(0)));
    }

    /// The recipient's S/MIME certificate, or why there is none to use: the
    /// store's first, else one the directory holds (`[smime.ldap]`), else
    /// one a DNSSEC-secure SMIMEA record publishes (when `[smime] dns` and
    /// DNSSEC are on).
    async fn smime_cert(&self, rcpt: &str) -> Result<Arc<RecipientCert>, Skip> {
        let Some(store) = &self.certs else {
            return Err(Skip::None);
        };
        let t = now() as i64;
        let mut reason = match store.find(rcpt, t) {
            Ok(c) => return Ok(c),
            Err(skip) => skip,
        };
        // Certificates found elsewhere: the first usable one. From the
        // directory it must name the recipient (or its domain): an entry
        // is found by an attribute, not by the certificate. An SMIMEA
        // record's owner name is the address itself (RFC 8162 3).
        let consider = |ders: &[Vec<u8>], source: Source, reason: &mut Skip| {
            for der in ders {
                match RecipientCert::parse(der) {
                    Ok(c) if source == Source::Directory && !c.names(rcpt) => {
                        tracing::debug!(?source, "a certificate for someone else");
                    }
                    Ok(mut c) => match c.check(t) {
                        Ok(()) => {
                            c.source = source;
                            return Some(Arc::new(c));
                        }
                        Err(u) => *reason = Skip::Unusable(u),
                    },
                    Err(e) => tracing::debug!(?source, error = %e, "not a certificate"),
                }
            }
            None
        };
        if let Some(directory) = &self.directory {
            match directory.certificates(rcpt).await {
                Ok(ders) => {
                    if let Some(c) = consider(&ders, Source::Directory, &mut reason) {
                        return Ok(c);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "certificate directory not asked");
                    if reason == Skip::None {
                        reason = Skip::Directory(e.to_string());
                    }
                }
            }
        }
        if let Some(dane) = self.dane.as_ref().filter(|_| self.config.smime.dns) {
            let ders = dane.smimea(rcpt).await;
            if let Some(c) = consider(&ders, Source::Smimea, &mut reason) {
                return Ok(c);
            }
        }
        Err(reason)
    }
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("delivery::Live")
    }
}

/// The queue manager's inbox: the handle for sessions, the receiver for
/// [`spawn`].
pub fn channel() -> (QueueHandle, mpsc::UnboundedReceiver<Command>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (QueueHandle { tx }, rx)
}

/// Starts the queue manager; it runs until `shutdown` turns true.
pub fn spawn(
    spool: Spool,
    audit: Audit,
    metrics: Arc<Metrics>,
    live: Arc<Live>,
    (handle, rx): (QueueHandle, mpsc::UnboundedReceiver<Command>),
    shutdown: watch::Receiver<bool>,
    own_addrs: Vec<std::net::SocketAddr>,
) {
    let tlsrpt = Recorder::new(spool.dir().join("tlsrpt"));
    let shared = Arc::new(Shared {
        tlsrpt,
        spool,
        audit,
        metrics,
        live: std::sync::RwLock::new(live),
        handle: handle.clone(),
        per_destination: Mutex::new(HashMap::new()),
        pool: client::Pool::default(),
        own_addrs,
    });
    tokio::spawn(scheduler::run(shared, rx, shutdown));
}

/// The decision for recipient `i` of `envelope`: the one stored with it,
/// or the policy's built-in default where none was (messages from before
/// decisions were stored).
pub fn decision(envelope: &Envelope, i: usize) -> crate::spool::Decision {
    envelope
        .decision(i)
        .cloned()
        .unwrap_or_else(|| crate::policy::default(envelope.phi.unwrap_or(true)).into())
}

/// Each recipient's action before any status record changed it.
fn initial_actions(envelope: &Envelope) -> Vec<Action> {
    (0..envelope.rcpt_to.len())
        .map(|i| decision(envelope, i).action)
        .collect()
}

/// Where a recipient stands, in one line: for a deferral the attempts, the
/// last and next attempt and why; for a hold or bounce why. The reason is
/// ours (stage, codes, class), never the remote server's text.
pub fn describe(s: &RcptState) -> String {
    let why = |w: Option<&crate::smtp::status::Failure>, fallback: &str| match w {
        Some(f) => format!("{f} [{}]", f.class.as_str()),
        None => fallback.to_string(),
    };
    match s {
        RcptState::Pending => "pending".into(),
        RcptState::Deferred {
            attempts,
            next_attempt,
            tried_at,
            last,
            why: w,
        } => {
            let mut out = format!("deferred after {attempts} attempt(s)");
            if *tried_at > 0 {
                out.push_str(&format!(", last {}", crate::date::rfc3339(*tried_at)));
            }
            out.push_str(&format!(
                ", next {}: {}",
                crate::date::rfc3339(*next_attempt),
                why(w.as_ref(), last)
            ));
            out
        }
        RcptState::Delivered { .. } => "delivered".into(),
        RcptState::Bounced { reason, why: w, .. } => {
            format!("bounced: {}", why(w.as_ref(), reason))
        }
        RcptState::Held { reason, why: w, .. } => match w {
            Some(f) => format!("held: {reason} [{}]", f.class.as_str()),
            None => format!("held: {reason}"),
        },
        RcptState::Deleted { .. } => "deleted".into(),
    }
}
