//! The envelope stored with each message.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::QueueId;
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
}
