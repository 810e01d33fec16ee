//! Inbound TLS: loading the certificate and key into a rustls acceptor,
//! and which client certificates may relay.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use phigate_config::TlsFiles;

use super::provider;

/// Why the TLS identity could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A certificate file is unreadable or holds no certificate.
    #[error("{key} {path}: {message}")]
    Cert {
        /// Config key naming the file.
        key: &'static str,
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

/// An HTTPS acceptor (the console): `cert` and `key` (PEM), TLS 1.2 and
/// 1.3, HTTP/1.1 by ALPN.
pub fn https_acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<TlsAcceptor, TlsError> {
    let certs = load_certs_for(cert, "console.cert")?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
        path: key.display().to_string(),
        message: e.to_string(),
    })?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Builds the STARTTLS acceptor from PEM files.
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, TlsError> {
    let certs = load_certs(&files.cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| TlsError::Key {
        path: files.key.display().to_string(),
        message: e.to_string(),
    })?;
    let builder =
        ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    let config = match &files.client_ca {
        // Clients may present a certificate (a provider's outbound
        // connector does); it must chain to client_ca. Clients without one
        // go on as before (AUTH or relay_networks decide).
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in load_certs_for(ca, "server.tls.client_ca")? {
                roots.add(c).map_err(|e| TlsError::Cert {
                    key: "server.tls.client_ca",
                    path: ca.display().to_string(),
                    message: e.to_string(),
                })?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider(),
            )
            .allow_unauthenticated()
            .build()
            .map_err(|e| TlsError::Cert {
                key: "server.tls.client_ca",
                path: ca.display().to_string(),
                message: e.to_string(),
            })?;
            builder
                .with_client_cert_verifier(verifier)
                .with_single_cert(certs, key)?
        }
        None => builder.with_no_client_auth().with_single_cert(certs, key)?,
    };
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The name on a verified client certificate that matches one of `names`
/// (`*.example.com` matches one label), if any: such a client may relay.
/// The chain was verified against `server.tls.client_ca` in the handshake.
pub fn relay_client_name(cert: &CertificateDer<'_>, names: &[String]) -> Option<String> {
    if names.is_empty() {
        return None;
    }
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let mut dns: Vec<String> = Vec::new();
    if let Ok(Some(san)) = parsed.subject_alternative_name() {
        for n in &san.value.general_names {
            if let x509_parser::extensions::GeneralName::DNSName(d) = n {
                dns.push(d.to_ascii_lowercase());
            }
        }
    }
    if dns.is_empty() {
        // Only without DNS names does the subject CN count (RFC 6125).
        for cn in parsed.subject().iter_common_name() {
            if let Ok(v) = cn.as_str() {
                dns.push(v.to_ascii_lowercase());
            }
        }
    }
    dns.into_iter()
        .find(|d| names.iter().any(|pattern| name_matches(pattern, d)))
}

fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => name
            .strip_suffix(suffix)
            .and_then(|head| head.strip_suffix('.'))
            .is_some_and(|label| !label.is_empty() && !label.contains('.')),
        None => pattern == name,
    }
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    load_certs_for(path, "server.tls.cert")
}

fn load_certs_for(
    path: &Path,
    key: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let err = |message: String| TlsError::Cert {
        key,
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

#[cfg(test)]
mod tests {
    #[test]
    fn wildcards_match_one_label() {
        use super::name_matches;
        assert!(name_matches(
            "*.mail.protection.outlook.com",
            "clinic.mail.protection.outlook.com"
        ));
        assert!(!name_matches(
            "*.mail.protection.outlook.com",
            "a.b.mail.protection.outlook.com"
        ));
        assert!(!name_matches(
            "*.mail.protection.outlook.com",
            "mail.protection.outlook.com"
        ));
        assert!(!name_matches(
            "*.mail.protection.outlook.com",
            "evilmail.protection.outlook.com"
        ));
        assert!(name_matches("relay.clinic.example", "relay.clinic.example"));
    }
}
