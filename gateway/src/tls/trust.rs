//! Trust anchors for outbound TLS (the public web PKI roots plus the
//! configured `ca_file`): for delivery, the syslog witness and policy
//! fetches.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Why a CA file could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct TrustError {
    /// The file.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

/// Trust anchors for outbound verification, loaded once.
#[derive(Clone)]
pub struct Trust {
    roots: Arc<RootCertStore>,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Trust({} anchors)", self.roots.len())
    }
}

impl Trust {
    /// The public web PKI roots plus `ca_file`, if any.
    pub fn load(ca_file: Option<&Path>) -> Result<Trust, TrustError> {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = ca_file {
            let bad = |message: String| TrustError {
                path: path.display().to_string(),
                message,
            };
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| bad(e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(e.to_string()))?;
            if certs.is_empty() {
                return Err(bad("no certificate".into()));
            }
            for c in certs {
                roots.add(c).map_err(|e| bad(e.to_string()))?;
            }
        }
        Ok(Trust {
            roots: Arc::new(roots),
        })
    }

    /// A client config that verifies the server's certificate and name
    /// like a browser would (for the syslog witness and policy fetches).
    pub fn strict_client_config(&self) -> Arc<rustls::ClientConfig> {
        Arc::new(
            rustls::ClientConfig::builder_with_provider(super::provider())
                .with_safe_default_protocol_versions()
                .expect("ring supports the default versions")
                .with_root_certificates(self.roots.clone())
                .with_no_client_auth(),
        )
    }

    /// The anchors, for verifiers built on them.
    pub fn roots(&self) -> Arc<RootCertStore> {
        self.roots.clone()
    }
}
