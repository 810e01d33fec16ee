//! phigate end-to-end tests: real sockets, real TLS, the real binary.
//! One test binary, a module per concern.

mod accuracy;
mod audit;
mod console;
mod conversation;
mod crash;
mod dane;
mod delivery;
mod dkim;
mod faults;
mod hardening;
mod interop;
mod limits;
mod mta_sts;
mod operations;
mod policy;
mod reasons;
mod relay;
mod report;
mod requiretls;
mod review;
mod scan;
mod shutdown;
mod smime;
mod smuggling;
mod tls;
mod tlsrpt;
