//! The envelope stored with each message.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use phigate_config::{Action, Modifiers};

use super::{QueueId, RcptState};
use crate::smtp::status::{Class, Failure, Stage};

/// The body type the client declared (`BODY=`), as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyType {
    /// 7-bit text (the default).
    #[default]
    SevenBit,
    /// 8BITMIME (RFC 6152).
    EightBitMime,
}

/// The inbound TLS session a message came over, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundTls {
    /// e.g. `TLSv1_3`
    pub version: String,
    /// e.g. `TLS13_AES_256_GCM_SHA384`
    pub cipher: String,
    /// The client certificate name that let the client relay, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay_client: Option<String>,
}

/// A recipient's decision as stored with the message: what the policy
/// decided, in the spool's own shape (the policy's type can change without
/// changing what is on disk).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// What is done.
    pub action: Action,
    /// The rule that decided.
    pub rule: String,
    /// What the deciding rule adds.
    #[serde(default)]
    pub modifiers: Modifiers,
    /// The sender opted out of encryption for a domain that allows it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub opt_out: bool,
    /// An audit-only rule that matched, and what it would have done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub would: Option<(String, Action)>,
}

/// Everything about a message that is not its content. Stored as JSON in the
/// spool record so that fields can be added without a format change; unknown
/// fields are ignored on read, missing ones take their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Queue ID.
    pub id: QueueId,
    /// Seconds since the epoch when the message was accepted.
    pub received_at: u64,
    /// The client that sent it.
    pub client_ip: IpAddr,
    /// EHLO/HELO name the client gave.
    pub helo: String,
    /// Reverse-path; empty for the null sender `<>`.
    pub mail_from: String,
    /// Forward-paths.
    pub rcpt_to: Vec<String>,
    /// Declared body type.
    #[serde(default)]
    pub body_type: BodyType,
    /// Whether SMTPUTF8 was requested.
    #[serde(default)]
    pub smtputf8: bool,
    /// Whether the sender asked for REQUIRETLS (RFC 8689): every next hop
    /// authenticated (MTA-STS for MX hosts) and offering REQUIRETLS itself.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requiretls: bool,
    /// Whether the message says `TLS-Required: No` (RFC 8689 section 5):
    /// honoured for mail without PHI only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tls_optional: bool,
    /// Inbound TLS, if any.
    #[serde(default)]
    pub tls: Option<InboundTls>,
    /// Authenticated user, if any.
    #[serde(default)]
    pub auth_user: Option<String>,
    /// Size of the stored message in bytes, `Received:` header included.
    pub size: u64,
    /// Whether the message carries PHI; `None` until inspection has run.
    #[serde(default)]
    pub phi: Option<bool>,
    /// PHI categories found (names only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// The policy's decision per recipient, in `rcpt_to` order. Empty in
    /// messages the gateway makes itself (notices) and in older spools: the
    /// built-in default applies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decisions: Vec<Decision>,
}

impl Envelope {
    /// The stored decision for recipient `i`; `None` in messages the
    /// gateway made before decisions were stored, where the policy's
    /// built-in default applies (the queue manager asks the policy).
    pub fn decision(&self, i: usize) -> Option<&Decision> {
        self.decisions.get(i)
    }

    /// The envelope of a message the gateway writes itself (a notice, a
    /// DSN, a report): from the null sender (nothing answers it) to `to`,
    /// received from this host, without PHI (it quotes nothing), its
    /// decision still to be made by the policy.
    pub fn from_gateway(hostname: &str, to: &str, id: QueueId, now: u64, size: usize) -> Envelope {
        Envelope {
            id,
            received_at: now,
            client_ip: IpAddr::from([127, 0, 0, 1]),
            helo: hostname.to_string(),
            mail_from: String::new(),
            rcpt_to: vec![to.to_string()],
            body_type: BodyType::default(),
            smtputf8: false,
            requiretls: false,
            tls_optional: false,
            tls: None,
            auth_user: None,
            size: size as u64,
            phi: Some(false),
            categories: Vec::new(),
            decisions: Vec::new(),
        }
    }

    /// Where each recipient stands before any status record: held if the
    /// policy quarantined it, otherwise waiting for delivery.
    pub fn initial_states(&self) -> Vec<RcptState> {
        (0..self.rcpt_to.len())
            .map(|i| match self.decisions.get(i).map(|d| d.action) {
                Some(Action::Quarantine) => RcptState::Held {
                    at: self.received_at,
                    reason: "quarantined by policy".into(),
                    why: Some(Failure::ours(Stage::Policy, Class::Quarantined, false)),
                },
                _ => RcptState::Pending,
            })
            .collect()
    }
}
