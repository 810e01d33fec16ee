//! TLS set-up both directions share: the crypto provider, what a handshake
//! negotiated, the inbound acceptor ([`inbound`]) and the trust anchors
//! outbound connections verify against ([`trust`]).

pub mod inbound;
pub mod trust;

use std::sync::Arc;

pub use inbound::{TlsError, acceptor, https_acceptor, relay_client_name};
pub use trust::{Trust, TrustError};

/// The negotiated protocol version and cipher suite of a TLS connection
/// (either side), as recorded in envelopes, logs and audit records:
/// `("TLSv1_3", "TLS13_AES_256_GCM_SHA384")`.
pub fn negotiated(conn: &rustls::CommonState) -> (String, String) {
    let version = conn
        .protocol_version()
        .map(|v| format!("{v:?}"))
        .unwrap_or_default();
    let cipher = conn
        .negotiated_cipher_suite()
        .map(|c| format!("{:?}", c.suite()))
        .unwrap_or_default();
    (version, cipher)
}

/// The rustls crypto provider phigate uses everywhere: *ring*.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
