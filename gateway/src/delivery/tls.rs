//! Outbound TLS: what a next hop's certificate is checked against, what
//! is recorded about it, and the policy decision that lets a message go.
//!
//! Every handshake verifies the certificate (webpki roots plus the
//! configured `ca_file`) and records the result, subject and SHA-256
//! fingerprint. Only at level `verify` does a failed verification abort the
//! handshake; below it the result is recorded and the handshake goes on.

use std::sync::{Arc, Mutex};

use phigate_config::TlsLevel;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use super::mta_sts::Approval;
use crate::smtp::status::{Class, Failure, Stage};

/// What the handshake established; goes to the log and the audit record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TlsDetails {
    /// e.g. `TLSv1_3`
    pub version: String,
    /// e.g. `TLS13_AES_256_GCM_SHA384`
    pub cipher: String,
    /// Whether the certificate is valid for the name we connected to.
    pub verified: bool,
    /// Why not, when not.
    pub verify_error: Option<String>,
    /// The same as a reason class.
    pub verify_class: Option<Class>,
    /// Certificate subject (distinguished name).
    pub subject: String,
    /// SHA-256 of the leaf certificate, hex.
    pub fingerprint: String,
}

pub use crate::tls::Trust;

/// A client config for one handshake verifying against `trust`, and the
/// slot where its certificate check is recorded.
pub fn client_config(
    trust: &Trust,
    enforce: bool,
) -> (Arc<rustls::ClientConfig>, Arc<Mutex<Option<CertCheck>>>) {
    let provider = crate::tls::provider();
    let inner = WebPkiServerVerifier::builder_with_provider(trust.roots(), provider.clone())
        .build()
        .expect("a root store with the webpki roots is never empty");
    let slot = Arc::new(Mutex::new(None));
    let verifier = Recording {
        inner,
        enforce,
        slot: slot.clone(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    (Arc::new(config), slot)
}

/// The recorded certificate check.
#[derive(Debug, Clone)]
pub struct CertCheck {
    /// Verification error, `None` when valid.
    pub error: Option<String>,
    /// Its reason class.
    pub class: Option<Class>,
    /// Subject DN.
    pub subject: String,
    /// SHA-256 fingerprint, hex.
    pub fingerprint: String,
}

/// Verifies like webpki, records the outcome, and lets the handshake go on
/// when not enforcing (levels `may` and `encrypt`).
#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    enforce: bool,
    slot: Arc<Mutex<Option<CertCheck>>>,
}

/// The reason class of a certificate verification error.
fn cert_class(e: &rustls::Error) -> Class {
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                Class::CertNameMismatch
            }
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => Class::CertExpired,
            CertificateError::UnknownIssuer => Class::CertUntrusted,
            _ => Class::CertInvalid,
        },
        _ => Class::CertInvalid,
    }
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result =
            self.inner
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        let digest = ring::digest::digest(&ring::digest::SHA256, end_entity.as_ref());
        let fingerprint = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        let subject = x509_parser::parse_x509_certificate(end_entity.as_ref())
            .map(|(_, c)| c.subject().to_string())
            .unwrap_or_else(|_| "<unparseable certificate>".into());
        *self.slot.lock().expect("cert slot") = Some(CertCheck {
            error: result.as_ref().err().map(|e| e.to_string()),
            class: result.as_ref().err().map(cert_class),
            subject,
            fingerprint,
        });
        match result {
            Ok(v) => Ok(v),
            Err(e) if self.enforce => Err(e),
            Err(_) => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Why policy forbids sending over a channel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyRefusal {
    /// TLS was required and the server did not offer STARTTLS.
    #[error("the server does not offer STARTTLS and policy requires TLS ({0})")]
    NotOffered(&'static str),
    /// TLS was required and the handshake failed.
    #[error("TLS handshake failed and policy requires TLS ({level}): {error}")]
    Handshake {
        /// Required level.
        level: &'static str,
        /// The handshake error.
        error: String,
    },
    /// Level `mta-sts` and the domain has no enforced policy listing this host.
    #[error("no MTA-STS policy in enforce mode lists this host, and policy requires mta-sts")]
    NoMtaSts,
    /// A verified certificate was required.
    #[error("the server certificate did not verify and policy requires verify: {error}")]
    NotVerified {
        /// The verification error.
        error: String,
        /// Its reason class.
        class: Class,
    },
}

impl PolicyRefusal {
    /// The refusal as a delivery failure: temporary, at the TLS stage (the
    /// queue decides whether PHI waits, is rerouted or is held).
    pub fn failure(&self) -> Failure {
        let class = match self {
            PolicyRefusal::NotOffered(_) => Class::TlsNotOffered,
            PolicyRefusal::Handshake { .. } => Class::TlsFailed,
            PolicyRefusal::NotVerified { class, .. } => *class,
            PolicyRefusal::NoMtaSts => Class::MtaStsMissing,
        };
        Failure::ours(Stage::Tls, class, false)
    }
}

/// Permission to send a message over a channel: the only way to obtain one
/// is [`permit`], so no code path can send without the policy having said
/// yes for the TLS actually negotiated.
#[derive(Debug)]
pub struct Permit {
    _private: (),
}

/// The level that applies to one next hop: `secure` is `mta-sts` for an
/// MX host an enforced MTA-STS policy lists (the approval), else `verify`.
pub fn effective(
    required: crate::policy::transport::Requirement,
    approval: Option<&Approval>,
) -> TlsLevel {
    match required.level() {
        TlsLevel::Secure if approval.is_some() => TlsLevel::MtaSts,
        TlsLevel::Secure => TlsLevel::Verify,
        level => level,
    }
}

/// Checks the negotiated channel against what the transport rule
/// requires (crate::policy::transport): a permit proves the PHI rule held.
/// Level `mta-sts` also needs the hop's [`Approval`]: it is one of the MX
/// hosts the domain's enforced policy lists.
pub fn permit(
    required: crate::policy::transport::Requirement,
    tls: Option<&TlsDetails>,
    approval: Option<&Approval>,
) -> Result<Permit, PolicyRefusal> {
    let level = effective(required, approval);
    match (level, tls) {
        (TlsLevel::None | TlsLevel::May, _) => Ok(Permit { _private: () }),
        (TlsLevel::Encrypt, Some(_)) => Ok(Permit { _private: () }),
        (TlsLevel::MtaSts, _) if approval.is_none() => Err(PolicyRefusal::NoMtaSts),
        (_, Some(t)) if t.verified => Ok(Permit { _private: () }),
        (_, Some(t)) => Err(PolicyRefusal::NotVerified {
            error: t.verify_error.clone().unwrap_or_else(|| "unknown".into()),
            class: t.verify_class.unwrap_or(Class::CertInvalid),
        }),
        (level, None) => Err(PolicyRefusal::NotOffered(level.as_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(verified: bool) -> TlsDetails {
        TlsDetails {
            version: "TLSv1_3".into(),
            cipher: "x".into(),
            verified,
            verify_error: (!verified).then(|| "expired".into()),
            verify_class: (!verified).then_some(Class::CertExpired),
            subject: String::new(),
            fingerprint: String::new(),
        }
    }

    /// A requirement at `level` (for mail without PHI to a domain whose
    /// default is `level`).
    fn at(level: &str) -> crate::policy::transport::Requirement {
        let cfg =
            phigate_config::Config::from_toml("t.toml", &format!("[tls]\ndefault = \"{level}\"\n"))
                .unwrap();
        crate::policy::transport::required(
            phigate_config::Action::Deliver,
            false,
            false,
            &cfg.tls,
            crate::policy::transport::Destination::Domain("payer.example"),
        )
    }

    fn permit_at(
        r: crate::policy::transport::Requirement,
        tls: Option<&TlsDetails>,
    ) -> Result<Permit, PolicyRefusal> {
        permit(r, tls, None)
    }

    #[test]
    fn mta_sts_needs_the_hop_approved_and_secure_falls_back_to_verify() {
        use crate::delivery::mta_sts::{Published, parse};
        let policy = parse(
            "version: STSv1\nmode: enforce\nmx: mx.good.test\nmax_age: 60",
            "1",
            0,
        );
        let approval = Published::Enforce(policy.unwrap()).approve("mx.good.test");
        assert!(approval.is_some());
        let ok = details(true);
        assert_eq!(
            permit(at("mta-sts"), Some(&ok), None).unwrap_err(),
            PolicyRefusal::NoMtaSts
        );
        assert!(permit(at("mta-sts"), Some(&ok), approval.as_ref()).is_ok());
        assert!(permit(at("mta-sts"), Some(&details(false)), approval.as_ref()).is_err());
        assert!(permit(at("secure"), Some(&ok), None).is_ok());
        assert!(permit(at("secure"), Some(&details(false)), None).is_err());
        assert_eq!(effective(at("secure"), None), TlsLevel::Verify);
        assert_eq!(effective(at("secure"), approval.as_ref()), TlsLevel::MtaSts);
    }

    #[test]
    fn permits_follow_the_levels() {
        assert!(permit_at(at("may"), None).is_ok());
        assert!(permit_at(at("encrypt"), None).is_err());
        assert!(permit_at(at("encrypt"), Some(&details(false))).is_ok());
        assert!(permit_at(at("verify"), Some(&details(true))).is_ok());
        assert_eq!(
            permit_at(at("verify"), Some(&details(false))).unwrap_err(),
            PolicyRefusal::NotVerified {
                error: "expired".into(),
                class: Class::CertExpired
            }
        );
    }
}
