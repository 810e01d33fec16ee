//! Outbound delivery of one message to one next hop: routing ([`route`]),
//! the SMTP client ([`client`]) and the replies it reads ([`reply`]), the
//! TLS policy and what it records ([`tls`]), the encrypted-delivery route
//! ([`encrypt`]) and message changes on the way out ([`rewrite`]). The
//! queue manager decides what to send when.

pub mod client;
pub mod encrypt;
pub mod reply;
pub mod rewrite;
pub mod route;
pub mod tls;
