//! What the audit log records. Every field is chosen so that a record can
//! prove what happened without holding PHI: matched values appear only as
//! keyed hashes, the subject and Message-ID never in clear, attachment file
//! names not at all (a file name can be a patient's name).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
        /// Who asked (the local user behind the control socket, or
        /// `console:NAME`).
        by: String,
        /// Why, as they wrote it (the console asks; checked for PHI first).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Something done in the web console: a sign-in (or a failed one), a
    /// rule test, a report opened. Releases and deletions are
    /// [`Event::Quarantine`].
    Console {
        /// Who (a configured name; a name that is not is left out, like
        /// [`Event::AuthFailure`]'s).
        user: Option<String>,
        /// From where.
        client_ip: String,
        /// `sign_in`, `sign_in_failed`, `sign_out`, `rule_test`,
        /// `report`, `audit_search`.
        action: String,
        /// What it concerned, without PHI (a month, a verdict).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
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
    /// The audit review was mailed to the security officer.
    ReviewDigest {
        /// Its queue ID.
        queue_id: String,
        /// The period reviewed.
        period: String,
        /// How many items it lists.
        items: usize,
    },
    /// A TLS report (RFC 8460) was sent: queued for a `mailto:` rua (then
    /// `queue_id`), or posted to an `https:` one.
    TlsReport {
        /// The report's id.
        report_id: String,
        /// The recipient domain it is about.
        policy_domain: String,
        /// Where it went.
        rua: String,
        /// Its queue ID, when mailed.
        queue_id: Option<String>,
        /// Sessions that succeeded.
        successful: usize,
        /// Sessions that failed.
        failed: usize,
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
    /// REQUIRETLS on MAIL FROM (RFC 8689).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requiretls: bool,
    /// The message said `TLS-Required: No`: `honoured` (no PHI) or
    /// `ignored: PHI`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_required_no: Option<String>,
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
    /// What authenticated the next hop: `mta-sts` (an enforced policy
    /// lists it, certificate verified), `verify`, `encrypt`, `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_auth: Option<String>,
    /// The recipient domain's MTA-STS policy, when it has one: mode and id
    /// (`enforce 20261202`, `testing 7 unlisted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mta_sts: Option<String>,
    /// The TLSA record (usage selector matching) the certificate matched,
    /// when DANE authenticated the next hop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dane: Option<String>,
    /// The message went S/MIME-encrypted: the cipher and the SHA-256 of the
    /// recipient certificate it was encrypted to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smime: Option<String>,
}

impl Event {
    /// The message this record admits to the spool, if it is such a
    /// record: `received` for relayed mail, `notice` for a message the
    /// gateway wrote (see [`super::Receipt`]).
    pub fn admits(&self) -> Option<&str> {
        match self {
            Event::Received(r) => Some(&r.queue_id),
            Event::Notice { notice_id, .. } => Some(notice_id),
            Event::TlsReport {
                queue_id: Some(id), ..
            } => Some(id),
            Event::ReviewDigest { queue_id, .. } => Some(queue_id),
            _ => None,
        }
    }
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
    /// Where delivery failed: dns, connect, greeting, tls, auth, mail,
    /// rcpt, data, policy (deferrals, bounces, holds, reroutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// Reason class: `no_such_domain`, `mailbox_unknown`, `tls_not_offered`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The server's reply code, when a reply caused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// Enhanced status code (RFC 3463).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}
