//! phigate: an SMTP relay that keeps protected health information (PHI) off
//! plaintext email.
//!
//! The data path, socket to disk: [`server`] accepts a connection and hands
//! it to a connection task, which feeds bytes to the I/O-free [`smtp`]
//! session state machine and carries out what it asks (read data, STARTTLS,
//! check a password). A finished message gets a `Received:` header and is
//! appended to the [`spool`], which replies only once the record is on
//! stable storage. See docs/ARCHITECTURE.md.
#![deny(missing_docs)]

pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod console;
pub mod date;
pub mod delivery;
mod fsmode;
pub mod http;
pub mod intake;
pub mod metrics;
pub mod outbox;
pub mod pdf;
pub mod policy;
pub mod queue;
pub mod report;
pub mod server;
pub mod smtp;
pub mod spool;
pub mod tls;

pub use server::Server;
