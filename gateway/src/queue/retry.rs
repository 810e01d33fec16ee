//! Retry maths: when a recipient is tried again, and when it has waited
//! long enough to be returned.

use super::round::Outcome;
use super::*;

pub(super) fn next_state(
    live: &Live,
    envelope: &Envelope,
    before: &RcptState,
    outcome: Outcome,
) -> RcptState {
    let t = now();
    match outcome {
        Outcome::Delivered(reply) => RcptState::Delivered { at: t, reply },
        Outcome::Permanent(f) => RcptState::Bounced {
            at: t,
            reason: f.to_string(),
            why: Some(f),
        },
        Outcome::Temporary { failure, policy } => {
            let retry = &live.config.delivery.retry;
            let attempts = match before {
                RcptState::Deferred { attempts, .. } => attempts + 1,
                _ => 1,
            };
            let age = t.saturating_sub(envelope.received_at);
            if age >= retry.give_up_after.as_secs() {
                let reason = if policy {
                    dsn::TLS_POLICY_REASON.to_string()
                } else {
                    format!("gave up after {} days; last: {failure}", age / 86_400)
                };
                return RcptState::Bounced {
                    at: t,
                    reason,
                    why: Some(failure.expired()),
                };
            }
            let backoff = retry
                .initial
                .as_secs()
                .saturating_mul(1u64 << (attempts - 1).min(20))
                .min(retry.max.as_secs());
            RcptState::Deferred {
                attempts,
                next_attempt: t + backoff.max(1),
                tried_at: t,
                last: failure.to_string(),
                why: Some(failure),
            }
        }
    }
}

/// The earliest time something must happen to a message; `None` when no
/// recipient is waiting for delivery (all settled, or held).
pub(super) fn next_due(rcpts: &[RcptState]) -> Option<u64> {
    rcpts
        .iter()
        .filter_map(|r| match r {
            RcptState::Pending => Some(0),
            RcptState::Deferred { next_attempt, .. } => Some(*next_attempt),
            _ => None,
        })
        .min()
}
