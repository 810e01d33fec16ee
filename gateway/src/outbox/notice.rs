//! Short notices to the sender when a message was held, sent by the
//! encrypted route instead, or refused. Like DSNs they come from the null
//! sender and never quote the message: only its queue ID, date, the
//! recipients concerned, the categories found and what happens next.

use super::compose;
use crate::date::rfc5322_date;
use crate::spool::{Envelope, QueueId};

/// Why the sender is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason<'a> {
    /// Held in quarantine by a policy rule.
    Quarantined {
        /// The rule.
        rule: &'a str,
    },
    /// Held because the recipient's server has no verified TLS and there is
    /// no encrypted route.
    NoSecureRoute,
    /// Sent by the encrypted-delivery route instead of regular email.
    Rerouted,
    /// Sent S/MIME-encrypted to the recipient's own certificate.
    Encrypted,
    /// Refused by a policy rule.
    Refused {
        /// The rule.
        rule: &'a str,
    },
}

impl Reason<'_> {
    /// A word for the audit log.
    pub fn as_str(&self) -> &'static str {
        match self {
            Reason::Quarantined { .. } | Reason::NoSecureRoute => "held",
            Reason::Rerouted | Reason::Encrypted => "rerouted",
            Reason::Refused { .. } => "refused",
        }
    }
}

/// Builds the notice (CRLF line endings) about `original` for `rcpts`.
pub fn build(
    hostname: &str,
    original: &Envelope,
    rcpts: &[&str],
    reason: Reason<'_>,
    id: QueueId,
    now: u64,
) -> Vec<u8> {
    let what = if original.categories.is_empty() {
        "content that could not be fully inspected".to_string()
    } else {
        format!(
            "what appears to be protected health information ({})",
            original.categories.join(", ")
        )
    };
    let (subject, told) = match reason {
        Reason::Quarantined { rule } => (
            "Your message was held for review",
            format!(
                "was held and has not been sent. It contains {what}, and the\r\n\
                 practice's mail policy (rule {rule}) holds such messages for review.\r\n\
                 An administrator will release or delete it."
            ),
        ),
        Reason::NoSecureRoute => (
            "Your message was held: no secure route to the recipient",
            format!(
                "was held and has not been sent. It contains {what}, and the\r\n\
                 recipient's mail server does not offer verified TLS encryption, so it\r\n\
                 could not be sent safely. An administrator will review it; you may\r\n\
                 also send it through a secure channel the recipient can use."
            ),
        ),
        Reason::Rerouted => (
            "Your message was sent by encrypted delivery",
            format!(
                "contains {what}. The recipient's mail server does\r\n\
                 not offer verified TLS encryption, so the message was sent through the\r\n\
                 practice's encrypted-delivery service instead. The recipient will get a\r\n\
                 notice explaining how to open it securely."
            ),
        ),
        Reason::Encrypted => (
            "Your message was sent encrypted",
            format!(
                "contains {what}. The recipient's mail server does\r\n\
                 not offer verified TLS encryption, so the message was encrypted to the\r\n\
                 recipient's own S/MIME certificate instead. The recipient opens it in\r\n\
                 their mail program as usual."
            ),
        ),
        Reason::Refused { rule } => (
            "Your message was refused",
            format!(
                "was refused and has not been sent. It contains {what},\r\n\
                 which the practice's mail policy (rule {rule}) does not allow to be sent\r\n\
                 to these recipients."
            ),
        ),
    };
    let mut list = String::new();
    for r in rcpts {
        list.push_str(&format!("  <{r}>\r\n"));
    }
    let text = format!(
        "This is the mail system at {hostname}.\r\n\
         \r\n\
         Your message (queue ID {orig},\r\n\
         received {recv}) to:\r\n\
         {list}\
         {told}\r\n\
         \r\n\
         The message is not quoted here, to keep the health information it holds\r\n\
         from travelling again.\r\n",
        orig = original.id,
        recv = rfc5322_date(original.received_at),
    );
    let message = compose::from_mail_system(
        hostname,
        &original.mail_from,
        subject,
        format!("{id}.notice"),
        now,
    )
    .text_body(text);
    compose::write(message)
}

/// The envelope of a notice to `original`'s sender: from the null sender,
/// no PHI (it quotes nothing), delivered under the built-in default.
pub fn envelope(
    hostname: &str,
    original: &Envelope,
    id: QueueId,
    now: u64,
    size: usize,
) -> Envelope {
    Envelope {
        smtputf8: original.smtputf8,
        // RFC 8689 section 5: reports on a REQUIRETLS message go the same way.
        requiretls: original.requiretls,
        ..Envelope::from_gateway(hostname, &original.mail_from, id, now, size)
    }
}

/// Sends a notice to `original`'s sender about `rcpts` through the
/// outbox (inspected, decided, audited, and only to a sender who may be
/// told); nothing for the null sender (notices never answer notices or
/// DSNs). A notice that cannot be queued is logged: it never holds up the
/// decision it reports, which is already recorded.
pub async fn send(
    ctx: &crate::outbox::Context<'_>,
    original: &Envelope,
    rcpts: &[&str],
    reason: Reason<'_>,
) {
    if original.mail_from.is_empty() || rcpts.is_empty() {
        return;
    }
    let id = ctx.spool.next_id();
    let now = crate::date::now();
    let body = build(ctx.hostname, original, rcpts, reason, id, now);
    crate::outbox::send(
        ctx,
        original,
        crate::outbox::Kind::Notice(reason.as_str()),
        id,
        body,
    )
    .await;
}
