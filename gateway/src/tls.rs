//! Inbound TLS: loading the certificate and key into a rustls acceptor.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use phigate_config::TlsFiles;

/// Why the TLS identity could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The certificate file is unreadable or holds no certificate.
    #[error("server.tls.cert {path}: {message}")]
    Cert {
        /// File.
        path: String,
        /// Problem.
        message: String,
    },
    /// The key file is unreadable or holds no key.
    #[error("server.tls.key {path}: {message}")]
    Key {
        /// File.
        path: String,
        /// Problem.
        message: String,
    },
    /// rustls refused the pair (e.g. the key does not match).
    #[error("server.tls: {0}")]
    Rustls(#[from] rustls::Error),
}

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

/// Builds the STARTTLS acceptor from PEM files.
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, TlsError> {
    let certs = load_certs(&files.cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| TlsError::Key {
        path: files.key.display().to_string(),
        message: e.to_string(),
    })?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let err = |message: String| TlsError::Cert {
        path: path.display().to_string(),
        message,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| err(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(e.to_string()))?;
    if certs.is_empty() {
        return Err(err("no certificate in the file".into()));
    }
    Ok(certs)
}
