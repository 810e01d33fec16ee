//! Outbound delivery of one message to one next hop: routing ([`route`]),
//! the SMTP client ([`client`]) and the replies it reads ([`reply`]), the
//! TLS policy and what it records ([`tls`]), the encrypted-delivery route
//! ([`encrypt`]), message changes on the way out ([`rewrite`]) and the
//! DKIM signature after them ([`dkim`]). The queue manager decides what to
//! send when.

pub mod certs;
pub mod client;
pub mod dane;
pub mod dkim;
pub mod encrypt;
pub mod https;
pub mod ldap;
pub mod mta_sts;
mod pem;
pub mod reply;
pub mod rewrite;
pub mod route;
pub mod smime;
pub mod tls;
pub mod tlsrpt;
