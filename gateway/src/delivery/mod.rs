//! Outbound delivery: the queue manager ([`queue`]), next-hop routing
//! ([`route`]), the SMTP client ([`client`]), the TLS policy and what it
//! records ([`tls`]), and DSNs ([`dsn`]).

pub mod client;
pub mod dsn;
pub mod queue;
pub mod route;
pub mod tls;

pub use queue::QueueHandle;
