//! The one way out for messages the gateway writes itself (notices to
//! senders, DSNs): they are inspected like relayed mail and get their
//! per-recipient decision from the same policy, so a notice that names a
//! patient's address, or a DSN quoting a reason, is held to the PHI
//! transport floor like anything else. They go only to senders who can be
//! told about PHI: an authenticated sender or one in the practice's own
//! domains (`server.local_domains`); a forged outside sender gets nothing
//! back (no backscatter of recipient lists). Each is audited before it is
//! queued.

pub mod compose;
pub mod dsn;
pub mod notice;

use phigate_config::Action;

use crate::audit::Event;
use crate::policy::{Facts, domain_of};
use crate::spool::{Envelope, QueueId};

/// What code that spools gateway-made messages (notices, DSNs) needs.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The spool.
    pub spool: &'a crate::spool::Spool,
    /// Tells the queue manager a message is waiting.
    pub wake: &'a dyn Wake,
    /// The audit log.
    pub audit: &'a crate::audit::Audit,
    /// Counters.
    pub metrics: &'a crate::metrics::Metrics,
    /// Our host name.
    pub hostname: &'a str,
    /// The detectors: what the gateway writes is inspected too.
    pub engine: &'a phigate_detectors::Engine,
    /// The policy: what the gateway writes gets decisions like relayed mail.
    pub policy: &'a crate::policy::Policy,
    /// The practice's own domains (who may be told about PHI).
    pub local_domains: &'a [String],
}

/// Whoever delivers what was queued (the queue manager), told of a new
/// message; a trait so that this module sits below the queue manager.
pub trait Wake: Sync {
    /// Message `id` is in the spool, ready for delivery.
    fn wake(&self, id: QueueId);
}

/// What kind of message the gateway writes, for the audit log and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Held, rerouted or refused: `held`, `rerouted`, `refused`.
    Notice(&'static str),
    /// A delivery status notification.
    Dsn,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Notice(reason) => reason,
            Kind::Dsn => "dsn",
        }
    }
}

/// Whether the sender of `original` may be told about it: always for mail
/// without PHI; for PHI (or uninspectable) mail only when the sender
/// authenticated or writes from one of the practice's own domains.
pub fn may_tell(original: &Envelope, local_domains: &[String]) -> bool {
    if original.mail_from.is_empty() {
        return false;
    }
    if original.phi == Some(false) || original.auth_user.is_some() {
        return true;
    }
    let domain = domain_of(&original.mail_from);
    local_domains
        .iter()
        .any(|d| domain == *d || domain.ends_with(&format!(".{d}")))
}

/// Inspects, decides, audits and queues `body` (built by the caller, to
/// `original`'s sender). `Some(id)` when it was queued.
pub async fn send(
    ctx: &Context<'_>,
    original: &Envelope,
    kind: Kind,
    id: QueueId,
    body: Vec<u8>,
) -> Option<QueueId> {
    if !may_tell(original, ctx.local_domains) {
        let event = Event::NoticeSuppressed {
            queue_id: original.id.to_string(),
            reason: kind.as_str().to_string(),
            why: "sender neither authenticated nor in server.local_domains".into(),
        };
        if let Err(e) = ctx.audit.log(vec![event]).await {
            tracing::error!(original = %original.id, error = %e, "could not audit a suppressed notice");
        }
        tracing::info!(original = %original.id, kind = kind.as_str(), "notice not sent: sender may not be told about this message");
        return None;
    }
    let report = ctx.engine.scan(&body);
    let phi = report.phi || report.uninspectable;
    let categories: Vec<String> = report
        .categories
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    let mut env = notice::envelope(ctx.hostname, original, id, crate::date::now(), body.len());
    env.phi = Some(phi);
    env.categories = categories.clone();
    let facts = Facts {
        sender: "",
        client_ip: env.client_ip,
        authenticated: false,
        inbound_tls: false,
        subject: None,
        phi,
        categories: &categories,
    };
    let decision = ctx.policy.decide(&facts, &env.rcpt_to[0]);
    if matches!(decision.action, Action::Reject | Action::Quarantine) {
        let event = Event::NoticeSuppressed {
            queue_id: original.id.to_string(),
            reason: kind.as_str().to_string(),
            why: format!("policy rule {} ({})", decision.rule, decision.action),
        };
        let _ = ctx.audit.log(vec![event]).await;
        return None;
    }
    env.decisions = vec![decision.into()];
    let event = Event::Notice {
        queue_id: original.id.to_string(),
        notice_id: id.to_string(),
        reason: kind.as_str().to_string(),
        phi,
    };
    let receipt = match ctx.audit.log(vec![event]).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(original = %original.id, error = %e, "notice not sent: could not audit it");
            return None;
        }
    };
    match ctx.spool.append(&env, &[&body], &receipt).await {
        Ok(()) => {
            tracing::info!(queue_id = %id, original = %original.id, kind = kind.as_str(), phi, "notice to sender queued");
            if let Kind::Notice(reason) = kind {
                ctx.metrics.notices_total.with_label_values(&[reason]).inc();
            }
            ctx.wake.wake(id);
            Some(id)
        }
        Err(e) => {
            tracing::error!(original = %original.id, error = %e, "could not queue a notice to the sender");
            None
        }
    }
}

/// Queues a report the gateway writes to `to` (a TLS report to a domain's
/// `rua`): `inspect` is what it says (the report's JSON, before
/// compression), scanned like any message; a report in which the detectors
/// find anything is not sent (it can hold only domains, hosts and counts).
/// Decided by the policy, audited with `event` (which must admit `id`).
pub async fn report(
    ctx: &Context<'_>,
    to: &str,
    id: QueueId,
    inspect: &[u8],
    body: Vec<u8>,
    event: Event,
) -> Option<QueueId> {
    let scan = ctx.engine.scan(inspect);
    if scan.phi || scan.uninspectable {
        tracing::error!(queue_id = %id, "a report the gateway wrote looked like PHI: not sent");
        return None;
    }
    let env = Envelope::from_gateway(ctx.hostname, to, id, crate::date::now(), body.len());
    let facts = Facts {
        sender: "",
        client_ip: env.client_ip,
        authenticated: false,
        inbound_tls: false,
        subject: None,
        phi: false,
        categories: &[],
    };
    let decision = ctx.policy.decide(&facts, to);
    if matches!(decision.action, Action::Reject | Action::Quarantine) {
        tracing::info!(queue_id = %id, rule = %decision.rule, "report not sent: the policy would not let it go");
        return None;
    }
    let env = Envelope {
        decisions: vec![decision.into()],
        ..env
    };
    let receipt = match ctx.audit.log(vec![event]).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(queue_id = %id, error = %e, "report not sent: could not audit it");
            return None;
        }
    };
    match ctx.spool.append(&env, &[&body], &receipt).await {
        Ok(()) => {
            ctx.wake.wake(id);
            Some(id)
        }
        Err(e) => {
            tracing::error!(queue_id = %id, error = %e, "could not queue a report");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::may_tell;
    use crate::spool::{Envelope, QueueId};

    fn env(from: &str, auth: bool, phi: Option<bool>) -> Envelope {
        Envelope {
            id: QueueId::from_u64(1),
            received_at: 0,
            client_ip: "127.0.0.1".parse().unwrap(),
            helo: "h".into(),
            mail_from: from.into(),
            rcpt_to: vec!["x@payer.example".into()],
            body_type: Default::default(),
            smtputf8: false,
            requiretls: false,
            tls_optional: false,
            tls: None,
            auth_user: auth.then(|| "u".into()),
            size: 1,
            phi,
            categories: Vec::new(),
            decisions: Vec::new(),
        }
    }

    /// Regression (security review): notices and DSNs about PHI went to any
    /// sender, forged ones included, listing the recipients.
    #[test]
    fn phi_notices_only_to_own_or_authenticated_senders() {
        let local = vec!["clinic.example".to_string()];
        assert!(may_tell(
            &env("desk@clinic.example", false, Some(true)),
            &local
        ));
        assert!(may_tell(
            &env("desk@eu.clinic.example", false, None),
            &local
        ));
        assert!(may_tell(
            &env("someone@gmail.example", true, Some(true)),
            &local
        ));
        assert!(!may_tell(
            &env("forged@elsewhere.example", false, Some(true)),
            &local
        ));
        assert!(!may_tell(
            &env("forged@notclinic.example", false, Some(true)),
            &local
        ));
        assert!(may_tell(
            &env("anyone@elsewhere.example", false, Some(false)),
            &local
        ));
        assert!(!may_tell(&env("", true, Some(false)), &local));
    }
}
