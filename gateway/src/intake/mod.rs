//! From an accepted message to a durable one, as stages that are types:
//!
//! [`Accepted`] (only a complete SMTP transaction makes one) →
//! [`inspect`] → [`Inspected`] (owns the scan report; computes the policy
//! facts, the same way for the relay and for `test-rules`) →
//! [`Inspected::decide`] → [`Decided`] (envelope with a decision per
//! recipient, trace header) → its audit records, whose [`Receipt`] only
//! the audit log returns once they are durable → [`Decided::spool`], which
//! takes that receipt. No stage can be skipped: each is made only from the
//! one before. Notices and DSNs go through the one audited outbox
//! (crate::outbox).

pub mod failed;
pub mod received;
pub mod record;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use phigate_config::Action;
use phigate_detectors::{Engine, Report};

use crate::audit::{Audit, Event, Receipt};
use crate::metrics::Metrics;
use crate::policy::{Facts, Policy};
pub use crate::smtp::session::Accepted;
use crate::smtp::session::{Facts as SessionFacts, Helo, Transaction};
use crate::spool::{Envelope, QueueId, Spool, SpoolError};
use failed::FailedScans;

/// What the policy weighs about who sent a message, besides its content.
#[derive(Debug, Clone, Copy)]
pub struct Sender<'a> {
    /// Reverse-path (`""`: null sender).
    pub address: &'a str,
    /// The client.
    pub client_ip: IpAddr,
    /// Whether the client authenticated.
    pub authenticated: bool,
    /// Whether the message came over TLS.
    pub inbound_tls: bool,
}

/// A message's content and what inspection found in it.
#[derive(Debug)]
pub struct Content {
    report: Report,
    categories: Vec<String>,
    subject: Option<String>,
    message_id: Option<String>,
    duration: Duration,
    body: Vec<u8>,
}

impl Content {
    /// Scans `body` here and now (`phigate test-rules`; the relay uses
    /// [`inspect`], which bounds and times the work).
    pub fn scan(engine: &Engine, body: Vec<u8>) -> Content {
        let started = Instant::now();
        let report = engine.scan(&body);
        let (subject, message_id) = header_facts(&body);
        Content::new(report, subject, message_id, started.elapsed(), body)
    }

    fn new(
        report: Report,
        subject: Option<String>,
        message_id: Option<String>,
        duration: Duration,
        body: Vec<u8>,
    ) -> Content {
        let categories = report
            .categories
            .iter()
            .map(|c| c.as_str().to_string())
            .collect();
        Content {
            report,
            categories,
            subject,
            message_id,
            duration,
            body,
        }
    }

    /// How long inspection took.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// The scan report.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// Categories over threshold, by name.
    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    /// PHI found, or part of the message could not be inspected: either
    /// way it is held to the PHI floor.
    pub fn phi(&self) -> bool {
        self.report.phi || self.report.uninspectable
    }

    /// The facts the policy decides on: the one place they are computed.
    pub fn facts<'a>(&'a self, sender: &Sender<'a>) -> Facts<'a> {
        Facts {
            sender: sender.address,
            client_ip: sender.client_ip,
            authenticated: sender.authenticated,
            inbound_tls: sender.inbound_tls,
            subject: self.subject.as_deref(),
            phi: self.phi(),
            categories: &self.categories,
        }
    }

    /// The policy's decision for each recipient.
    pub fn decide(
        &self,
        policy: &Policy,
        sender: &Sender<'_>,
        rcpts: &[String],
    ) -> Vec<crate::policy::Decision> {
        let facts = self.facts(sender);
        rcpts.iter().map(|r| policy.decide(&facts, r)).collect()
    }
}

/// The decoded subject (for the senders' keywords) and the Message-ID (for
/// its keyed hash in the audit log), from the header block only.
pub fn header_facts(raw: &[u8]) -> (Option<String>, Option<String>) {
    match mail_parser::MessageParser::new().parse_headers(raw) {
        Some(m) => (
            m.subject().map(str::to_string),
            m.message_id().map(str::to_string),
        ),
        None => (None, None),
    }
}

/// Whether the message carries `TLS-Required: No` (RFC 8689 section 5):
/// the sender asks that its delivery not fail for want of TLS.
pub fn tls_required_no(raw: &[u8]) -> bool {
    let head = match memchr::memmem::find(raw, b"\r\n\r\n") {
        Some(end) => &raw[..end],
        None => raw,
    };
    head.split(|&b| b == b'\n').any(|line| {
        let line = String::from_utf8_lossy(line);
        line.split_once(':').is_some_and(|(name, value)| {
            name.eq_ignore_ascii_case("TLS-Required") && value.trim().eq_ignore_ascii_case("no")
        })
    })
}

/// What inspection needs from the running gateway.
pub struct Inspection<'a> {
    /// The detectors in force.
    pub engine: Arc<Engine>,
    /// Inspections at once (each can hold a large message and what it
    /// decodes): bounded like the cores that run them.
    pub slots: Arc<tokio::sync::Semaphore>,
    /// Contents whose inspection failed lately.
    pub failed: &'a Mutex<FailedScans>,
    /// Counters.
    pub metrics: &'a Metrics,
    /// The policy's time limit for one inspection.
    pub timeout: Duration,
}

/// Why inspection did not complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InspectionFailed {
    /// It took longer than `policy.inspection_timeout_secs`.
    #[error("inspection took longer than policy.inspection_timeout_secs")]
    Timeout,
    /// The detectors failed (a bug; the place is logged, nothing else).
    #[error("inspection failed with an internal error")]
    Internal,
}

impl InspectionFailed {
    /// The metrics label.
    pub fn label(self) -> &'static str {
        match self {
            InspectionFailed::Timeout => "timeout",
            InspectionFailed::Internal => "internal",
        }
    }
}

/// An accepted message, inspected. Only [`inspect`] makes one.
///
/// ```compile_fail
/// // No inspection without an accepted message; no Inspected without inspection.
/// fn skip(content: phigate::intake::Content) -> phigate::intake::Inspected {
///     phigate::intake::Inspected { helo: todo!(), transaction: todo!(), content }
/// }
/// ```
#[derive(Debug)]
pub struct Inspected {
    helo: Helo,
    transaction: Transaction,
    content: Content,
}

impl Inspected {
    /// The content and what inspection found.
    pub fn content(&self) -> &Content {
        &self.content
    }
}

/// Runs the detectors off the async threads (a large attachment takes
/// a while), at most a few at once, and within the policy's time limit:
/// the scan itself stops at the deadline, so nothing keeps running after
/// the client has its answer. The body moves there and back rather than
/// being copied.
///
/// A scan that times out or fails is refused (the client tries again
/// later, when the gateway may be less busy); the same content failing
/// again is accepted as uninspectable — the PHI floor applies to it — so a
/// message that always fails never becomes a retry loop.
pub async fn inspect(msg: Accepted, with: &Inspection<'_>) -> Result<Inspected, InspectionFailed> {
    let (helo, transaction, body) = msg.into_parts();
    let deadline = tokio::time::Instant::now() + with.timeout;
    let permit = match tokio::time::timeout_at(deadline, with.slots.clone().acquire_owned()).await {
        Ok(Ok(p)) => p,
        _ => return Err(InspectionFailed::Timeout),
    };
    let engine = with.engine.clone();
    let until = deadline.into_std();
    let task = tokio::task::spawn_blocking(move || {
        let _slot = permit;
        let started = Instant::now();
        let scanned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let report = engine.scan_until(&body, Some(until));
            let facts = header_facts(&body);
            (report, facts)
        }));
        (scanned, started.elapsed(), body)
    });
    // The scan ends at the deadline by itself; the margin covers the last
    // text it was reading when the time ran out.
    let joined = tokio::time::timeout_at(deadline + Duration::from_secs(5), task).await;
    let (scanned, duration, body) = match joined {
        Ok(Ok(x)) => x,
        Ok(Err(_)) => return Err(InspectionFailed::Internal),
        Err(_) => return Err(InspectionFailed::Timeout),
    };
    let (report, (subject, message_id), failure) = match scanned {
        Ok((report, facts)) if !report.timed_out => (report, facts, None),
        Ok((report, facts)) => (report, facts, Some(InspectionFailed::Timeout)),
        Err(_) => {
            tracing::error!("inspection panicked; the message is treated as uninspectable");
            let report = Report::not_inspected("inspection failed with an internal error");
            (report, (None, None), Some(InspectionFailed::Internal))
        }
    };
    if let Some(why) = failure {
        let m = with.metrics;
        m.inspections_incomplete_total
            .with_label_values(&[why.label()])
            .inc();
        let seen = with.failed.lock().expect("failed scans").note(&body);
        if seen < 2 {
            return Err(why);
        }
        m.inspections_incomplete_total
            .with_label_values(&["accepted_uninspectable"])
            .inc();
        tracing::warn!(reason = %why, attempts = seen, "inspection failed again for the same content; accepted as uninspectable");
    }
    Ok(Inspected {
        helo,
        transaction,
        content: Content::new(report, subject, message_id, duration, body),
    })
}

/// Where a message came from, as the session knows it.
pub struct Origin<'a> {
    /// What the session established (client, TLS, AUTH).
    pub session: &'a SessionFacts,
    /// `ESMTPSA` and the like, for the trace header.
    pub protocol: &'static str,
    /// Our host name, for the trace header.
    pub hostname: &'a str,
}

impl Inspected {
    /// The policy decides for each recipient; the envelope and the trace
    /// header are made. `id` is the message's queue ID, `now` the time of
    /// acceptance.
    pub fn decide(self, policy: &Policy, origin: &Origin<'_>, id: QueueId, now: u64) -> Decided {
        let Inspected {
            helo,
            transaction: tx,
            content,
        } = self;
        let facts = origin.session;
        let trace = received::Trace {
            helo: &helo.name,
            client_ip: facts.client_ip,
            by: origin.hostname,
            protocol: origin.protocol,
            id,
            tls: facts
                .tls
                .as_ref()
                .map(|t| (t.version.as_str(), t.cipher.as_str())),
            unix_secs: now,
        }
        .header();
        let mail_from = tx.from.as_ref().map(|a| a.to_string()).unwrap_or_default();
        let rcpt_to: Vec<String> = tx.rcpts.iter().map(|a| a.to_string()).collect();
        let sender = Sender {
            address: &mail_from,
            client_ip: facts.client_ip,
            authenticated: facts.auth_user.is_some(),
            inbound_tls: facts.tls.is_some(),
        };
        let decisions = content.decide(policy, &sender, &rcpt_to);
        let envelope = Envelope {
            id,
            received_at: now,
            client_ip: facts.client_ip,
            helo: helo.name.clone(),
            body_type: tx.params.body.into(),
            smtputf8: tx.params.smtputf8,
            requiretls: tx.params.requiretls,
            tls_optional: tls_required_no(&content.body),
            tls: facts.tls.clone().map(Into::into),
            auth_user: facts.auth_user.clone(),
            size: (trace.len() + content.body.len()) as u64,
            phi: Some(content.phi()),
            categories: content.categories.clone(),
            decisions: decisions.into_iter().map(Into::into).collect(),
            mail_from,
            rcpt_to,
        };
        Decided {
            envelope,
            trace,
            content,
        }
    }
}

/// An inspected message with a decision for each recipient, ready to be
/// audited and spooled. Only [`Inspected::decide`] makes one.
///
/// ```compile_fail
/// // Decisions cannot be attached to a message that was not inspected.
/// fn skip(envelope: phigate::spool::Envelope) -> phigate::intake::Decided {
///     phigate::intake::Decided { envelope, trace: String::new(), content: todo!() }
/// }
/// ```
#[derive(Debug)]
pub struct Decided {
    envelope: Envelope,
    trace: String,
    content: Content,
}

impl Decided {
    /// The envelope to be stored.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The content and what inspection found.
    pub fn content(&self) -> &Content {
        &self.content
    }

    /// The rule that refuses the whole message, if one does.
    pub fn refusal(&self) -> Option<&str> {
        self.envelope
            .decisions
            .iter()
            .find(|d| d.action == Action::Reject)
            .map(|d| d.rule.as_str())
    }

    /// The audit records of its acceptance: received, scan, a decision per
    /// recipient. Logging them gives the [`Receipt`] that spooling needs.
    pub fn records(&self, audit: &Audit) -> Vec<Event> {
        record::acceptance(
            audit,
            &self.envelope,
            &self.content.report,
            self.content.message_id.as_deref(),
            self.content.duration,
        )
    }

    /// Appends the message (trace header and content) to the spool, once
    /// its audit records are durable; the envelope comes back, for the
    /// notices that follow.
    pub async fn spool(self, spool: &Spool, audited: &Receipt) -> Result<Envelope, SpoolError> {
        spool
            .append(
                &self.envelope,
                &[self.trace.as_bytes(), &self.content.body],
                audited,
            )
            .await?;
        Ok(self.envelope)
    }
}

/// How the policy's decision is stored with the message.
impl From<crate::policy::Decision> for crate::spool::Decision {
    fn from(d: crate::policy::Decision) -> Self {
        crate::spool::Decision {
            action: d.action,
            rule: d.rule,
            modifiers: d.modifiers,
            opt_out: d.opt_out,
            would: d.would,
        }
    }
}

/// How the declared body type is stored.
impl From<crate::smtp::command::BodyType> for crate::spool::BodyType {
    fn from(b: crate::smtp::command::BodyType) -> Self {
        match b {
            crate::smtp::command::BodyType::SevenBit => crate::spool::BodyType::SevenBit,
            crate::smtp::command::BodyType::EightBitMime => crate::spool::BodyType::EightBitMime,
        }
    }
}

/// How the inbound TLS session is stored.
impl From<crate::smtp::session::TlsInfo> for crate::spool::InboundTls {
    fn from(t: crate::smtp::session::TlsInfo) -> Self {
        crate::spool::InboundTls {
            version: t.version,
            cipher: t.cipher,
            relay_client: t.relay_client,
        }
    }
}
