//! What the audit log records. Every field is chosen so that a record can
//! prove what happened without holding PHI: matched values appear only as
//! keyed hashes, the subject and Message-ID never in clear, attachment file
//! names not at all (a file name can be a patient's name).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::policy;
use crate::spool::Envelope;

/// One audited event. Serialised flat into a record, tagged by `event`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// First record of every file: which file came before it, so that a
    /// removed, renamed or reordered file breaks the chain visibly.
    FileStart {
        /// Name of the previous audit file; `None` for the first one ever.
        previous_file: Option<String>,
    },
    /// A signature over the chain so far (see `audit::chain`).
    Checkpoint {
        /// Which key signed: the first 16 hex digits of SHA-256 of the public key.
        key_id: String,
        /// Ed25519 signature, hex.
        sig: String,
    },
    /// The signing key changed: the old key hands the log over to the new
    /// one and both sign the hand-over (see `audit::chain::rotation_message`).
    KeyRotation {
        /// The key that signed the log until now (id and public key, hex).
        old_key_id: String,
        /// Its public key.
        old_public: String,
        /// The key that signs from now on.
        new_key_id: String,
        /// Its public key.
        new_public: String,
        /// The old key's signature.
        sig_old: String,
        /// The new key's signature.
        sig_new: String,
    },
    /// The gateway started.
    Start {
        /// phigate version.
        version: String,
        /// The configuration it runs on (a path or `<embedded default>`).
        config: String,
    },
    /// The gateway stopped (SIGTERM / SIGINT).
    Stop,
    /// The writer found a partial record left by a crash (never acknowledged)
    /// and cut it off before going on.
    Recovered {
        /// The file it was in.
        file: String,
        /// Bytes removed.
        bytes: u64,
    },
    /// The configuration was reloaded (or a reload was refused).
    ConfigReload {
        /// Whether the new configuration is now in force.
        ok: bool,
        /// Its origin.
        config: String,
    },
    /// A message came in (recorded with its scan and decisions, before the 250).
    Received(Received),
    /// What inspection found.
    Scan(Scan),
    /// Inspection could not complete; the message was refused for now.
    ScanFailed {
        /// Queue ID the message would have had.
        queue_id: String,
        /// Why (a timeout, an internal error); no content.
        reason: String,
    },
    /// The policy's decision for one recipient.
    Decision(Decision),
    /// The message was refused at end of data.
    Refused {
        /// Queue ID it would have had.
        queue_id: String,
        /// SMTP reply code sent.
        code: u16,
        /// Rule that refused it, if a rule did.
        rule: Option<String>,
    },
    /// One delivery attempt to a next hop.
    Attempt(Attempt),
    /// Where a recipient ended up, or a change of route.
    Outcome(Outcome),
    /// An administrator released or deleted a quarantined message.
    Quarantine {
        /// The message.
        queue_id: String,
        /// `release` or `delete`.
        op: String,
        /// Recipients affected.
        recipients: Vec<String>,
        /// Who asked (the local user behind the control socket).
        by: String,
    },
    /// An SMTP AUTH attempt failed (wrong user or password).
    AuthFailure {
        /// The client.
        client_ip: String,
        /// The user, when it is a configured account (a name that is not
        /// could be a password typed in the wrong field: not recorded).
        user: Option<String>,
        /// The lockout this failure started, in seconds.
        lockout_secs: Option<u64>,
    },
    /// A notice to the sender (held, rerouted, refused) or a DSN was queued.
    Notice {
        /// The message it is about.
        queue_id: String,
        /// The notice's own queue ID.
        notice_id: String,
        /// Why: held, rerouted, refused, dsn.
        reason: String,
        /// Whether inspection of the notice itself found PHI (then it
        /// travels under the PHI floor like any message).
        #[serde(default)]
        phi: bool,
    },
    /// A notice or DSN was not sent: the sender may not be told about the
    /// message (not authenticated, not one of the practice's domains), or
    /// the policy would not let it go.
    NoticeSuppressed {
        /// The message it was about.
        queue_id: String,
        /// held, rerouted, refused, dsn.
        reason: String,
        /// Why it was not sent.
        why: String,
    },
}

/// A message received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Received {
    /// Queue ID.
    pub queue_id: String,
    /// The client.
    pub client_ip: String,
    /// Inbound TLS: `TLSv1_3 TLS13_AES_256_GCM_SHA384`, or `None` for plaintext.
    pub inbound_tls: Option<String>,
    /// Authenticated user.
    pub auth_user: Option<String>,
    /// Reverse-path (`""`: null sender).
    pub sender: String,
    /// Forward-paths.
    pub recipients: Vec<String>,
    /// Bytes stored.
    pub size: u64,
    /// Keyed hash of the Message-ID header (it can carry a name).
    pub message_id_hash: Option<String>,
}

/// What inspection found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scan {
    /// Queue ID.
    pub queue_id: String,
    /// Whether PHI was found.
    pub phi: bool,
    /// Whether part of it could not be inspected.
    pub uninspectable: bool,
    /// Categories that reached their threshold.
    pub categories: Vec<String>,
    /// Findings per category (those over threshold).
    pub counts: BTreeMap<String, usize>,
    /// Each finding over threshold.
    pub findings: Vec<Finding>,
    /// Time spent scanning, microseconds.
    pub duration_us: u64,
}

/// One finding, without its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Category.
    pub category: String,
    /// Detector rule that fired.
    pub rule: String,
    /// Confidence, rounded to hundredths.
    pub confidence: f32,
    /// `header Subject`, `part 1.2 bytes 77..110`, `filename of part 2`.
    pub location: String,
    /// Keyed HMAC-SHA-256 of the normalised value (128 bits, hex); the same
    /// value gives the same hash under the same key, so a disclosure can be
    /// traced without the log holding the value.
    pub hmac: String,
}

/// The policy's decision for one recipient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Queue ID.
    pub queue_id: String,
    /// The recipient.
    pub recipient: String,
    /// What will be done.
    pub action: String,
    /// The rule that decided (`default.phi`, `default.clean`, a rule id, ...).
    pub rule: String,
    /// Modifiers applied (tag_subject, add_header, notify_sender).
    pub modifiers: Vec<String>,
    /// An audit-only rule that matched: what it would have done.
    pub would: Option<Would>,
}

/// What an audit-only rule would have done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Would {
    /// The rule.
    pub rule: String,
    /// Its action.
    pub action: String,
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// Queue ID.
    pub queue_id: String,
    /// Recipients in this attempt.
    pub recipients: Vec<String>,
    /// Route: `mx`, `route`, `smarthost`, `encryption`.
    pub route: String,
    /// Next-hop host name.
    pub host: String,
    /// Address and port connected to.
    pub addr: String,
    /// TLS level the policy required.
    pub tls_required: String,
    /// Negotiated TLS version (`None`: plaintext or no connection).
    pub tls_version: Option<String>,
    /// Negotiated cipher.
    pub tls_cipher: Option<String>,
    /// Whether the certificate verified for the host.
    pub cert_verified: bool,
    /// SHA-256 of the peer certificate.
    pub cert_sha256: Option<String>,
    /// Whether the TLS policy stopped the message before anything was sent.
    pub policy_refused: bool,
    /// Per recipient: delivered, temporary, permanent.
    pub outcomes: Vec<String>,
    /// Milliseconds.
    pub duration_ms: u64,
}

/// A recipient's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Queue ID.
    pub queue_id: String,
    /// The recipient.
    pub recipient: String,
    /// delivered, bounced, deferred, held, rerouted, released, deleted.
    pub outcome: String,
    /// The action now in force for the recipient.
    pub action: String,
    /// Short reason in our words (never a remote reply, which can quote addresses).
    pub detail: Option<String>,
}

/// The records of a message's acceptance: received, scan, one decision per
/// recipient.
pub fn acceptance(
    audit: &super::Audit,
    envelope: &Envelope,
    report: &phigate_detectors::Report,
    message_id: Option<&str>,
    scan_time: std::time::Duration,
) -> Vec<Event> {
    let queue_id = envelope.id.to_string();
    let mut counts = BTreeMap::new();
    let findings = report
        .phi_findings()
        .map(|f| {
            *counts.entry(f.category.as_str().to_string()).or_insert(0) += 1;
            Finding {
                category: f.category.as_str().to_string(),
                rule: f.rule.clone(),
                confidence: (f.confidence * 100.0).round() / 100.0,
                location: location(&f.location),
                hmac: audit.hmac(f.category.as_str(), f.value.expose()),
            }
        })
        .collect();
    let mut events = vec![
        Event::Received(Received {
            queue_id: queue_id.clone(),
            client_ip: envelope.client_ip.to_string(),
            inbound_tls: envelope
                .tls
                .as_ref()
                .map(|t| format!("{} {}", t.version, t.cipher)),
            auth_user: envelope.auth_user.clone(),
            sender: envelope.mail_from.clone(),
            recipients: envelope.rcpt_to.clone(),
            size: envelope.size,
            message_id_hash: message_id.map(|m| audit.hmac("message-id", m)),
        }),
        Event::Scan(Scan {
            queue_id: queue_id.clone(),
            phi: report.phi,
            uninspectable: report.uninspectable,
            categories: envelope.categories.clone(),
            counts,
            findings,
            duration_us: scan_time.as_micros() as u64,
        }),
    ];
    for (rcpt, d) in envelope.rcpt_to.iter().zip(&envelope.decisions) {
        events.push(decision(&queue_id, rcpt, d));
    }
    events
}

fn decision(queue_id: &str, rcpt: &str, d: &policy::Decision) -> Event {
    let mut modifiers = Vec::new();
    if d.modifiers.tag_subject.is_some() {
        modifiers.push("tag_subject".to_string());
    }
    if let Some((name, _)) = &d.modifiers.add_header {
        modifiers.push(format!("add_header {name}"));
    }
    if d.modifiers.notify_sender {
        modifiers.push("notify_sender".to_string());
    }
    if d.opt_out {
        modifiers.push("sender_opt_out".to_string());
    }
    Event::Decision(Decision {
        queue_id: queue_id.to_string(),
        recipient: rcpt.to_string(),
        action: d.action.as_str().to_string(),
        rule: d.rule.clone(),
        modifiers,
        would: d.would.as_ref().map(|(rule, action)| Would {
            rule: rule.clone(),
            action: action.as_str().to_string(),
        }),
    })
}

/// A header's name as the audit log may show it: standard names as they
/// are (with the nested-part prefix), any other name reduced to `other`,
/// since a sender chooses it and could write a value into it.
fn header_label(label: &str) -> String {
    const STANDARD: &[&str] = &[
        "subject",
        "from",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "sender",
        "comments",
        "keywords",
        "content-description",
        "content-disposition",
        "content-type",
        "organization",
        "in-reply-to",
        "references",
        "message-id",
        "date",
    ];
    let (prefix, name) = label.rsplit_once(' ').unwrap_or(("", label));
    let shown = if STANDARD.iter().any(|s| name.eq_ignore_ascii_case(s)) {
        name
    } else {
        "other"
    };
    if prefix.is_empty() {
        shown.to_string()
    } else {
        format!("{prefix} {shown}")
    }
}

/// Where a finding is, without the attachment's file name.
fn location(l: &phigate_detectors::Location) -> String {
    use phigate_detectors::Location as L;
    match l {
        L::Header { name } => format!("header {}", header_label(name)),
        L::Part {
            path, start, end, ..
        } => format!("part {path} bytes {start}..{end}"),
        L::Filename { path } => format!("filename of part {path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::header_label;

    #[test]
    fn only_standard_header_names_reach_the_log() {
        assert_eq!(header_label("Subject"), "Subject");
        assert_eq!(header_label("2 Subject"), "2 Subject");
        assert_eq!(header_label("X-Patient-135-14-4832"), "other");
        assert_eq!(header_label("2.1 X-John-Smith"), "2.1 other");
    }
}
