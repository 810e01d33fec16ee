//! The envelope stored with each message.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use phigate_config::Action;

use super::{QueueId, RcptState};
use crate::policy::Decision;
use crate::smtp::command::BodyType;
use crate::smtp::session::TlsInfo;

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
    /// Inbound TLS, if any.
    #[serde(default)]
    pub tls: Option<TlsInfo>,
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
    /// The decision for recipient `i`.
    pub fn decision(&self, i: usize) -> Decision {
        self.decisions
            .get(i)
            .cloned()
            .unwrap_or_else(|| crate::policy::default(self.phi.unwrap_or(true)))
    }

    /// Where each recipient stands before any status record: held if the
    /// policy quarantined it, otherwise waiting for delivery.
    pub fn initial_states(&self) -> Vec<RcptState> {
        (0..self.rcpt_to.len())
            .map(|i| match self.decisions.get(i).map(|d| d.action) {
                Some(Action::Quarantine) => RcptState::Held {
                    at: self.received_at,
                    reason: "quarantined by policy".into(),
                },
                _ => RcptState::Pending,
            })
            .collect()
    }

    /// Each recipient's action before any status record changed it.
    pub fn initial_actions(&self) -> Vec<Action> {
        (0..self.rcpt_to.len())
            .map(|i| self.decision(i).action)
            .collect()
    }
}
