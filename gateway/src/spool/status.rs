//! Per-recipient delivery state, stored as records after the message.

use serde::{Deserialize, Serialize};

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
        /// The last reply or error, for the DSN and `queue list`.
        last: String,
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
    },
    /// Quarantined: waits for an administrator to release or delete it.
    Held {
        /// Since when.
        at: u64,
        /// Why, in our words.
        reason: String,
    },
    /// Deleted from quarantine by an administrator.
    Deleted {
        /// When.
        at: u64,
    },
}

impl RcptState {
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
