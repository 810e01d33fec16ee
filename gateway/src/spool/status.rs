//! Per-recipient delivery state, stored as records after the message.

use serde::{Deserialize, Serialize};

use crate::smtp::status::Failure;

/// Where one recipient of a message stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RcptState {
    /// Not yet attempted.
    Pending,
    /// Failed temporarily; try again at `next_attempt` (Unix seconds).
    Deferred {
        /// Attempts so far.
        attempts: u32,
        /// When to try next.
        next_attempt: u64,
        /// When the last attempt was made (0 in records written before
        /// it was kept).
        #[serde(default)]
        tried_at: u64,
        /// The last failure in words (ours, never the server's).
        last: String,
        /// The last failure: stage, class and codes. Absent in records
        /// written before it was kept.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        why: Option<Failure>,
    },
    /// Accepted by the next hop.
    Delivered {
        /// When.
        at: u64,
        /// The next hop's reply.
        reply: String,
    },
    /// Failed for good; the sender was notified (unless the sender was null).
    Bounced {
        /// When.
        at: u64,
        /// Why, as put in the DSN.
        reason: String,
        /// Stage, class and codes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        why: Option<Failure>,
    },
    /// Quarantined: waits for an administrator to release or delete it.
    Held {
        /// Since when.
        at: u64,
        /// Why, in our words.
        reason: String,
        /// Stage, class and codes, when a delivery failure led here.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        why: Option<Failure>,
    },
    /// Deleted from quarantine by an administrator.
    Deleted {
        /// When.
        at: u64,
    },
}

impl RcptState {
    /// The failure behind a deferral, bounce or hold, when recorded.
    pub fn why(&self) -> Option<&Failure> {
        match self {
            RcptState::Deferred { why, .. }
            | RcptState::Bounced { why, .. }
            | RcptState::Held { why, .. } => why.as_ref(),
            _ => None,
        }
    }

    /// Whether nothing more will happen to this recipient.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            RcptState::Delivered { .. } | RcptState::Bounced { .. } | RcptState::Deleted { .. }
        )
    }
}

/// A change of state for recipient number `rcpt` of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusUpdate {
    /// Index into the envelope's `rcpt_to`.
    pub rcpt: u32,
    /// The new state.
    pub state: RcptState,
    /// The recipient's action from now on, when it changes (rerouted to the
    /// encrypted route, released from quarantine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<phigate_config::Action>,
}
