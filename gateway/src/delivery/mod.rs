//! Outbound delivery: the queue manager ([`queue`]), next-hop routing
//! ([`route`]), the SMTP client ([`client`]), the TLS policy and what it
//! records ([`tls`]), the encrypted-delivery route ([`encrypt`]), message
//! changes on the way out ([`rewrite`]), DSNs ([`dsn`]) and notices to
//! senders ([`notice`]).

pub mod client;
pub mod dsn;
pub mod encrypt;
pub mod notice;
pub mod outbox;
pub mod queue;
pub mod reply;
pub mod rewrite;
pub mod route;
pub mod tls;

pub use queue::QueueHandle;

/// What code that spools gateway-made messages (notices, DSNs) needs.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The spool.
    pub spool: &'a crate::spool::Spool,
    /// The queue manager's inbox.
    pub queue: &'a QueueHandle,
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
